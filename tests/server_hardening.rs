//! The embedded server's safe defaults, each against real sockets (and FFmpeg as a publisher):
//! the API's per-client rate limit (1202), total and per-IP connection caps (refused, counted
//! in Get_LiveStat), silent RTMP and HTTP connections closed after the idle timeout, a
//! publisher that stops sending media cut, oversized HTTP request heads refused, a
//! network-reachable HTTP listener without an API key refusing to start, and seed 002's codes
//! for a wrong application id ("cmd is invalid", "appid is invalid") and disabled statistics
//! (1000, 1001).

use onair_server::{LiveServer, RecordFormat, ServerConfig};
use onair_testkit::http_probe::http_json;
use onair_testkit::peers::{ffmpeg_publish, wait_live_flv};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

fn start(dir: &std::path::Path, tune: impl FnOnce(&mut ServerConfig)) -> LiveServer {
    let mut c = ServerConfig::new(dir);
    c.rtmp_addr = "127.0.0.1:0".into();
    c.http_addr = "127.0.0.1:0".into();
    c.record = RecordFormat::None.into();
    c.screenshot_interval = None;
    tune(&mut c);
    LiveServer::start(c).expect("server starts")
}

/// Reads until the peer closes (`Ok(bytes)`), or `Err` when `limit` passes first.
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> Result<Vec<u8>, Vec<u8>> {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(got),
            Err(_) => return Err(got),
        }
    }
}

/// A TCP connection from `from` (a 127.0.0.x address) to `to`.
fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let local: SocketAddr = (std::net::Ipv4Addr::from(from), 0).into();
    sock.bind(&local.into()).unwrap();
    sock.connect(&to.into()).unwrap();
    sock.into()
}

#[test]
fn the_api_rate_limit_answers_1202_past_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), |c| c.api_rate = Some(5));
    let url = server.api_url("Live_Channel_GetChannelList", &[]);
    let codes: Vec<i64> = (0..20)
        .map(|_| http_json(&url).1["ret"].as_i64().unwrap())
        .collect();
    println!("20 requests at once, 5/s allowed: {codes:?}");
    let limited = codes.iter().filter(|c| **c == 1202).count();
    assert!(codes[..5].iter().all(|c| *c != 1202), "{codes:?}");
    assert!(limited >= 10, "{codes:?}");
    let (_, v) = http_json(&url);
    if v["ret"] == 1202 {
        assert_eq!(
            v["message"],
            "invalid request/request frequency exceeds limit"
        );
    }
}

/// An RTMP connection the server admitted: it answers the handshake's C0C1 with S0S1S2.
fn admitted_rtmp(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let mut s = connect_from(from, to);
    let mut c0c1 = vec![3u8];
    c0c1.extend_from_slice(&[0u8; 1536]);
    s.write_all(&c0c1).unwrap();
    let mut s0s1s2 = vec![0u8; 1 + 1536 * 2];
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.read_exact(&mut s0s1s2)
        .expect("an RTMP connection under the caps got no handshake");
    s
}

/// One keep-alive HTTP GET on an open connection; the body.
fn get_on(s: &mut TcpStream, path: &str) -> String {
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).expect("HTTP reply");
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .expect("content-length");
            if body.len() >= len {
                return body[..len].to_string();
            }
        }
    }
}

#[test]
fn connection_caps_refuse_cleanly_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), |c| {
        c.max_connections = 6;
        c.max_connections_per_ip = 3;
    });
    let (rtmp, http) = (server.rtmp_addr(), server.http_addr());
    // Place 1: a live push (Get_LiveStat answers only with one). Place 2: an API connection.
    let _ffmpeg = ffmpeg_publish(&format!("rtmp://{rtmp}/live/capped"), 30, "320x240", 25);
    wait_live_flv(http.port(), "capped", Duration::from_secs(15));
    let mut api = connect_from([127, 0, 0, 6], http);
    assert!(get_on(&mut api, "/console/config").contains("signed"));
    // Places 3-5: three from 127.0.0.2 fill its per-IP cap; its fourth is closed at once.
    let _held: Vec<TcpStream> = (0..3)
        .map(|_| admitted_rtmp([127, 0, 0, 2], rtmp))
        .collect();
    let mut fourth = connect_from([127, 0, 0, 2], rtmp);
    let begun = Instant::now();
    assert!(
        read_until_closed(&mut fourth, Duration::from_secs(5)).is_ok(),
        "the 4th connection from one IP stayed open"
    );
    println!("over the per-IP cap: closed after {:?}", begun.elapsed());
    // Place 6 from another address; the 7th is over the total cap: HTTP says 503, closes.
    let _sixth = admitted_rtmp([127, 0, 0, 3], rtmp);
    let mut refused = connect_from([127, 0, 0, 5], http);
    let _ = refused.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let reply = read_until_closed(&mut refused, Duration::from_secs(5))
        .expect("a connection over the total cap stayed open");
    assert!(
        String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 503"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
    let stat = get_on(&mut api, "/common_access?interface=Get_LiveStat");
    let v: serde_json::Value = serde_json::from_str(&stat).unwrap();
    println!(
        "Get_LiveStat at the cap: connections {}, refused {}",
        v["output"]["connections"], v["output"]["refused_connections"]
    );
    assert_eq!(v["output"]["connections"], 6, "{v}");
    assert_eq!(v["output"]["refused_connections"], 2, "{v}");
}

#[test]
fn silent_connections_are_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), |c| c.idle_timeout = Duration::from_secs(2));
    // RTMP: a completed handshake, then silence.
    let mut rtmp = TcpStream::connect(server.rtmp_addr()).unwrap();
    let mut c0c1 = vec![3u8];
    c0c1.extend_from_slice(&[0u8; 1536]);
    rtmp.write_all(&c0c1).unwrap();
    let mut s0s1s2 = vec![0u8; 1 + 1536 * 2];
    rtmp.read_exact(&mut s0s1s2).unwrap();
    rtmp.write_all(&s0s1s2[1..1 + 1536]).unwrap(); // C2 echoes S1
    let begun = Instant::now();
    assert!(
        read_until_closed(&mut rtmp, Duration::from_secs(10)).is_ok(),
        "a silent RTMP connection stayed open"
    );
    let rtmp_after = begun.elapsed();
    // HTTP: connected, no request.
    let mut http = TcpStream::connect(server.http_addr()).unwrap();
    let begun = Instant::now();
    assert!(
        read_until_closed(&mut http, Duration::from_secs(10)).is_ok(),
        "a silent HTTP connection stayed open"
    );
    let http_after = begun.elapsed();
    println!("idle timeout 2 s: RTMP closed after {rtmp_after:?}, HTTP after {http_after:?}");
    for after in [rtmp_after, http_after] {
        assert!(
            after >= Duration::from_millis(1800) && after < Duration::from_secs(5),
            "{after:?}"
        );
    }
}

#[test]
fn a_publisher_without_media_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), |c| {
        c.publish_media_timeout = Duration::from_secs(2)
    });
    // onair's own RTMP client publishes, then sends no media (its pings keep going).
    let url = format!("rtmp://{}/live/mute", server.rtmp_addr());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let publisher = onair_rtmp::RtmpPublisher::connect(
            &url,
            &onair_rtmp::TransportConfig::default(),
            onair_rtmp::SendQueueConfig::default(),
        )
        .await
        .expect("publish");
        let begun = Instant::now();
        let signal = publisher.signal();
        while publisher.failure().is_none() {
            tokio::time::timeout(Duration::from_secs(10), signal.changed())
                .await
                .expect("the silent publisher was not cut within 10 s");
        }
        let after = begun.elapsed();
        println!(
            "silent publisher cut after {after:?}: {:?}",
            publisher.failure()
        );
        assert!(
            after >= Duration::from_millis(1800) && after < Duration::from_secs(6),
            "{after:?}"
        );
    });
}

#[test]
fn oversized_request_heads_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), |_| {});
    let mut s = TcpStream::connect(server.http_addr()).unwrap();
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 << 10)
    );
    let _ = s.write_all(huge.as_bytes());
    let reply = read_until_closed(&mut s, Duration::from_secs(5)).expect("stayed open");
    let text = String::from_utf8_lossy(&reply);
    println!("64 KiB header: {:?}", text.lines().next());
    assert!(!text.starts_with("HTTP/1.1 200"), "{text}");
}

#[test]
fn a_network_reachable_api_without_a_key_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ServerConfig::new(dir.path());
    c.rtmp_addr = "127.0.0.1:0".into();
    c.http_addr = "0.0.0.0:0".into();
    let e = LiveServer::start(c.clone()).expect_err("started open to the network");
    assert!(e.to_string().contains("--open-api"), "{e}");
    c.open_api = true;
    let s = LiveServer::start(c).expect("--open-api starts it");
    assert!(s.http_addr().ip().is_unspecified());
}

#[test]
fn seed_codes_for_the_application_id_and_disabled_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), |c| c.appid = Some("1250000000".into()));
    let url = server.api_url("Live_Channel_GetChannelList", &[]);
    let (status, v) = http_json(&url);
    assert_eq!(
        (status, v["message"].as_str()),
        (403, Some("cmd is invalid")),
        "{v}"
    );
    let (_, v) = http_json(&format!("{url}&cmd=1250000001"));
    assert_eq!(v["message"], "cmd is invalid");
    let (_, v) = http_json(&format!("{url}&cmd=1250000000&appid=99"));
    assert_eq!(v["message"], "appid is invalid");
    let (status, v) = http_json(&format!("{url}&cmd=1250000000"));
    assert_eq!(status, 200, "{v}");
    assert_ne!(v["ret"], 403, "{v}");
    drop(server);

    for (access, code, text) in [
        (
            onair_server::StatsAccess::NotRegistered,
            1000,
            "user is not registered for statapi",
        ),
        (
            onair_server::StatsAccess::Stopped,
            1001,
            "user service for statapi was stopped",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path(), |c| c.stats = access);
        for interface in ["Get_LiveStat", "Get_LivePushStat", "Get_LivePlayStat"] {
            let (_, v) = http_json(&server.api_url(interface, &[]));
            assert_eq!(
                (v["ret"].as_i64(), v["message"].as_str()),
                (Some(code), Some(text)),
                "{interface}: {v}"
            );
        }
        let (_, v) = http_json(&server.api_url("Live_Channel_GetChannelList", &[]));
        assert_ne!(
            v["ret"], code,
            "only the statistics interfaces are off: {v}"
        );
    }
}
