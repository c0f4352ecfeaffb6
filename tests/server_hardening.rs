//! The embedded server's safe defaults, each against real sockets (and FFmpeg as a publisher):
//! the API's per-client rate limit (1202), total and per-IP connection caps (refused, counted
//! in Get_LiveStat), silent RTMP and HTTP connections closed after the idle timeout, a
//! publisher that stops sending media cut, oversized HTTP request heads refused, a
//! network-reachable HTTP listener without an API key refusing to start, and seed 002's codes
//! for a wrong application id ("cmd is invalid", "appid is invalid") and disabled statistics
//! (1000, 1001); the moderation hook (screenshots POSTed, a ban on its word, event 317); and
//! the open-file limit raised to fit the connection caps.

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

/// What the moderation service was asked: (stream, the body was a JPEG), signalled on each
/// request.
type Judged = std::sync::Arc<(std::sync::Mutex<Vec<(String, bool)>>, std::sync::Condvar)>;

/// A moderation service on loopback: records (stream, JPEG?) per POST, bans stream "bad".
fn moderation_service() -> (String, Judged) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/moderate", listener.local_addr().unwrap());
    let seen: Judged = Default::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut got = Vec::new();
            let mut buf = [0u8; 65536];
            let (head, body_len) = loop {
                let Ok(n) = c.read(&mut buf) else {
                    break (String::new(), 0);
                };
                if n == 0 {
                    break (String::new(), 0);
                }
                got.extend_from_slice(&buf[..n]);
                if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&got[..end]).to_string();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while got.len() < end + 4 + len {
                        let Ok(n) = c.read(&mut buf) else { break };
                        if n == 0 {
                            break;
                        }
                        got.extend_from_slice(&buf[..n]);
                    }
                    got.drain(..end + 4);
                    break (head, len);
                }
            };
            let stream = head
                .split_whitespace()
                .nth(1)
                .and_then(|target| target.split_once('?'))
                .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("stream_id=")))
                .unwrap_or_default()
                .to_string();
            let jpeg = body_len > 2 && got.starts_with(&[0xFF, 0xD8]);
            let reply = if stream == "bad" {
                r#"{"ban": true, "reason": "test pattern"}"#
            } else {
                r#"{"ban": false}"#
            };
            log.0.lock().unwrap().push((stream, jpeg));
            log.1.notify_all();
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (url, seen)
}

#[test]
fn the_moderation_hook_bans_what_it_is_told_to_and_leaves_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (moderation_url, seen) = moderation_service();
    let sink = onair_testkit::http_probe::CallbackSink::start();
    let server = start(dir.path(), |c| {
        c.screenshot_interval = Some(Duration::from_secs(1));
        c.moderation_url = Some(moderation_url);
        c.callback_url = Some(sink.url.clone());
    });
    let rtmp = server.rtmp_addr();
    let bad = ffmpeg_publish(&format!("rtmp://{rtmp}/live/bad"), 30, "320x240", 25);
    let _good = ffmpeg_publish(&format!("rtmp://{rtmp}/live/good"), 30, "320x240", 25);
    let (_, ev) = sink
        .wait_for(Duration::from_secs(20), |v| {
            v["event_type"] == 317 && v["stream_id"] == "bad"
        })
        .unwrap_or_else(|| panic!("no event 317: {:?}", sink.events()));
    println!("event 317: {ev}");
    assert_eq!(ev["reason"], "test pattern");
    assert!(ev["sign"].is_string() && ev["t"].is_i64(), "{ev}");
    assert!(
        bad.exits_within(Duration::from_secs(10)).is_some(),
        "FFmpeg kept pushing a banned stream"
    );
    let status = |name: &str| {
        http_json(&server.api_url("Live_Channel_GetStatus", &[("Param.s.channel_id", name)])).1
            ["output"][0]["status"]
            .as_i64()
    };
    assert_eq!(status("bad"), Some(3), "banned");
    // The good stream is judged too (JPEG bodies), on its own schedule: the bad one's ban
    // may come first, so its first judgement is waited for.
    let seen = {
        let (lock, judged) = &*seen;
        let wait = judged.wait_timeout_while(lock.lock().unwrap(), Duration::from_secs(20), |s| {
            !s.iter().any(|(name, _)| name == "good")
        });
        wait.unwrap().0.clone()
    };
    println!("moderation saw: {seen:?}");
    assert!(
        seen.iter().any(|(s, jpeg)| s == "good" && *jpeg),
        "{seen:?}"
    );
    assert!(seen.iter().all(|(_, jpeg)| *jpeg), "{seen:?}");
    assert_eq!(status("good"), Some(1), "the good stream was cut");
}

#[test]
fn the_server_raises_its_open_file_limit_to_fit_its_caps() {
    use rlimit::Resource;
    let (_, hard) = Resource::NOFILE.get().unwrap();
    Resource::NOFILE.set(512.min(hard), hard).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let _server = start(dir.path(), |c| c.max_connections = 2000);
    let (soft, _) = Resource::NOFILE.get().unwrap();
    println!("open-file limit: 512 before, {soft} after (hard {hard}) for a cap of 2000");
    // At least what the caps need (another test's server, started meanwhile, may raise it more).
    assert!(soft >= (2000 + 256).min(hard), "{soft}");
}
