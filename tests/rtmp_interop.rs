//! Transport against real peers started on free loopback ports: nginx-rtmp (publish, play),
//! node-media-server (HTTP-FLV, RTMPS), ffmpeg (reference publisher) and ffprobe (judge).

use onair_core::{AudioQuality, VideoResolution};
use onair_flv::{FlvTag, TagType, VideoData, VideoTag};
use onair_rtmp::{
    HttpFlvPlayer, PlaySession, RtmpError, RtmpPlayer, RtmpPublisher, SendQueueConfig,
    TransportConfig,
};
use onair_testkit::live_source::encoded_tags;
use onair_testkit::peers::{ffmpeg_publish, ffprobe, num, stream, Nginx, NodeMediaServer};
use std::time::{Duration, Instant};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Sends `tags` paced at their timestamps (real time), from `start`.
async fn send_paced(publisher: &RtmpPublisher, tags: &[FlvTag]) {
    let start = Instant::now();
    for t in tags {
        let due = start + Duration::from_millis(u64::from(t.timestamp_ms));
        tokio::time::sleep_until(due.into()).await;
        publisher.send(t.clone()).expect("publisher alive");
    }
}

#[test]
fn publish_to_nginx_is_read_back_by_ffprobe() {
    let nginx = Nginx::start();
    let url = nginx.url("pub1");
    let tags = encoded_tags(
        VideoResolution::R640x360,
        30,
        800,
        AudioQuality::Default,
        8,
        1.0,
    );
    let rt = runtime();
    let publisher = rt
        .block_on(RtmpPublisher::connect(
            &url,
            &TransportConfig::default(),
            SendQueueConfig::default(),
        ))
        .unwrap();
    // ffprobe joins while we publish in real time.
    let probe_url = url.clone();
    let probe = std::thread::spawn(move || ffprobe(&probe_url, false));
    rt.block_on(send_paced(&publisher, &tags));
    let probe = probe.join().expect("ffprobe");
    let v = stream(&probe, "video");
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(640), Some(360))
    );
    assert_eq!(v["r_frame_rate"], "30/1");
    let a = stream(&probe, "audio");
    assert_eq!(a["codec_name"], "aac");
    assert_eq!(num(&a["sample_rate"]) as u32, 48_000);
    assert_eq!(a["channels"].as_u64(), Some(1));
    let stats = publisher.stats();
    assert_eq!(stats.queue.dropped_inter, 0, "no congestion on loopback");
    assert!(stats.rtt_ms > 0, "the ping RTT was measured");
    rt.block_on(publisher.close()).unwrap();
}

/// Waits until `url` delivers a video tag (the publisher is live), within `limit`.
fn wait_live(rt: &tokio::runtime::Runtime, url: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let ready = rt.block_on(async {
            let Ok(mut p) = PlaySession::connect(url, &TransportConfig::default()).await else {
                return false;
            };
            let wait = tokio::time::timeout(Duration::from_secs(3), async {
                while let Ok(t) = p.next_tag().await {
                    if t.tag_type == TagType::Video {
                        return true;
                    }
                }
                false
            });
            wait.await.unwrap_or(false)
        });
        if ready {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{url} never went live");
}

#[test]
fn play_from_nginx_an_ffmpeg_x264_stream() {
    let nginx = Nginx::start();
    let url = nginx.url("ff1");
    let _ffmpeg = ffmpeg_publish(&url, 30, "320x240", 12);
    let rt = runtime();
    wait_live(&rt, &url, Duration::from_secs(15));
    rt.block_on(async {
        let mut player = RtmpPlayer::connect(&url, &TransportConfig::default())
            .await
            .unwrap();
        let requested = player.play_requested_at();
        let mut first_key = None;
        let (mut last_video, mut last_audio) = (None::<u32>, None::<u32>);
        let (mut video, mut audio, mut positive_cts) = (0, 0, 0);
        let end = Instant::now() + Duration::from_secs(4);
        while Instant::now() < end {
            let tag = player.next_tag().await.unwrap();
            match tag.tag_type {
                TagType::Video => {
                    if let Some(l) = last_video {
                        assert!(
                            tag.timestamp_ms >= l,
                            "video timestamps went back: {l} -> {}",
                            tag.timestamp_ms
                        );
                    }
                    last_video = Some(tag.timestamp_ms);
                    let v = VideoTag::parse(&tag.data).unwrap();
                    if let VideoData::AvcNalus {
                        composition_time_ms,
                        ..
                    } = v.data
                    {
                        video += 1;
                        positive_cts += usize::from(composition_time_ms > 0);
                        if v.is_keyframe() && first_key.is_none() {
                            first_key = Some(requested.elapsed());
                        }
                    }
                }
                TagType::Audio => {
                    if let Some(l) = last_audio {
                        assert!(tag.timestamp_ms >= l, "audio timestamps went back");
                    }
                    last_audio = Some(tag.timestamp_ms);
                    audio += 1;
                }
                _ => {}
            }
        }
        let first_key = first_key.expect("a keyframe arrived");
        println!("first keyframe {first_key:?} after play; {video} video, {audio} audio tags");
        assert!(
            first_key <= Duration::from_secs(1),
            "first keyframe after {first_key:?}"
        );
        assert!(
            video >= 80 && audio >= 150,
            "{video} video, {audio} audio tags in 4 s"
        );
        assert!(positive_cts > 0, "B-frame composition offsets came through");
    });
}

#[test]
fn http_flv_from_node_media_server() {
    let nms = NodeMediaServer::start(None);
    let rtmp = format!("rtmp://127.0.0.1:{}/live/hf1", nms.rtmp_port);
    let http = format!("http://127.0.0.1:{}/live/hf1.flv", nms.http_port);
    let _ffmpeg = ffmpeg_publish(&rtmp, 30, "320x240", 25);
    let rt = runtime();
    wait_live(&rt, &rtmp, Duration::from_secs(15));
    rt.block_on(async {
        let mut p = HttpFlvPlayer::connect(&http, &TransportConfig::default())
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", nms.log()));
        let (mut seq, mut video, mut audio) = (false, 0, 0);
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end {
            let tag = p.next_tag().await.unwrap();
            match tag.tag_type {
                TagType::Video => match VideoTag::parse(&tag.data).unwrap().data {
                    VideoData::AvcSequenceHeader(c) => {
                        assert_eq!(c.profile, 100);
                        seq = true;
                    }
                    VideoData::AvcNalus { .. } => {
                        assert!(seq, "sequence header before frames");
                        video += 1;
                    }
                    _ => {}
                },
                TagType::Audio => audio += 1,
                _ => {}
            }
        }
        assert!(
            video >= 50 && audio >= 100,
            "{video} video / {audio} audio tags in 3 s"
        );
        // node-media-server answers a stream nobody publishes with an FLV header and waits:
        // the idle timeout ends it.
        let missing = format!("http://127.0.0.1:{}/live/none.flv", nms.http_port);
        let idle = TransportConfig {
            idle_timeout: Duration::from_secs(1),
            ..Default::default()
        };
        let mut p = HttpFlvPlayer::connect(&missing, &idle).await.unwrap();
        let e = p.next_tag().await.unwrap_err();
        assert!(matches!(e, RtmpError::Timeout { stage: "read", .. }), "{e}");
    });
}

/// A one-shot HTTP responder: answers every request with `response`.
async fn http_responder(response: &'static [u8]) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(response).await;
            let _ = s.shutdown().await;
        }
    });
    addr
}

#[test]
fn http_flv_errors_404_html_and_redirect_loops() {
    let rt = runtime();
    rt.block_on(async {
        let cfg = TransportConfig::default();
        let a = http_responder(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
        let e = HttpFlvPlayer::connect(&format!("http://{a}/live/x.flv"), &cfg).await.unwrap_err();
        assert!(matches!(e, RtmpError::StreamNotFound(_)), "{e}");
        let a = http_responder(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html>hello</html>").await;
        let e = HttpFlvPlayer::connect(&format!("http://{a}/live/x.flv"), &cfg).await.unwrap_err();
        assert!(matches!(e, RtmpError::NotFlv { .. }), "{e}");
        assert!(e.to_string().contains("3c 68 74"), "{e}");
        let a = http_responder(b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
        let e = HttpFlvPlayer::connect(&format!("http://{a}/live/x.flv"), &cfg).await.unwrap_err();
        assert!(matches!(e, RtmpError::Http { status: 503, .. }), "{e}");
        let a = http_responder(b"HTTP/1.1 302 Found\r\nlocation: /live/x.flv\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
        let e = HttpFlvPlayer::connect(&format!("http://{a}/live/x.flv"), &cfg).await.unwrap_err();
        assert!(matches!(e, RtmpError::Protocol(_)), "redirect loop: {e}");
        // Custom headers reach the server (setHeaders).
        let (tx, rx) = tokio::sync::oneshot::channel();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap();
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).to_string());
            let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").await;
        });
        let with_headers = TransportConfig { http_headers: vec![("X-Token".into(), "abc123".into())], ..Default::default() };
        let _ = HttpFlvPlayer::connect(&format!("http://{addr}/live/x.flv"), &with_headers).await;
        let request = rx.await.unwrap();
        assert!(request.to_ascii_lowercase().contains("x-token: abc123"), "{request}");
    });
}

#[test]
fn rtmps_publish_to_node_media_server_with_a_trusted_self_signed_cert() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.key_pair.serialize_pem());
    let nms = NodeMediaServer::start(Some((&cert_pem, &key_pem)));
    let url = format!("rtmps://localhost:{}/live/tls1", nms.rtmps_port);
    let rt = runtime();
    // Without trusting the certificate: a TLS error.
    let e = rt
        .block_on(RtmpPublisher::connect(
            &url,
            &TransportConfig::default(),
            SendQueueConfig::default(),
        ))
        .unwrap_err();
    assert!(matches!(e, RtmpError::Tls(_)), "{e}");
    // Trusting it: publish, and read the stream back over plain RTMP.
    let config = TransportConfig {
        extra_ca_pem: Some(cert_pem.into_bytes()),
        ..Default::default()
    };
    let publisher = rt
        .block_on(RtmpPublisher::connect(
            &url,
            &config,
            SendQueueConfig::default(),
        ))
        .unwrap_or_else(|e| panic!("{e}\n{}", nms.log()));
    let tags = encoded_tags(
        VideoResolution::R320x240,
        15,
        300,
        AudioQuality::Speech,
        6,
        1.0,
    );
    let plain = format!("rtmp://127.0.0.1:{}/live/tls1", nms.rtmp_port);
    let probe = std::thread::spawn(move || ffprobe(&plain, false));
    rt.block_on(send_paced(&publisher, &tags));
    let probe = probe.join().expect("ffprobe");
    let v = stream(&probe, "video");
    assert_eq!(
        (v["codec_name"].as_str(), v["width"].as_u64()),
        (Some("h264"), Some(320))
    );
    assert_eq!(num(&stream(&probe, "audio")["sample_rate"]) as u32, 16_000);
    rt.block_on(publisher.close()).unwrap();
}

#[test]
fn connection_failures_are_typed_errors_within_the_timeout() {
    let rt = runtime();
    let quick = TransportConfig {
        connect_timeout: Duration::from_secs(2),
        handshake_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    rt.block_on(async {
        // Bad URL.
        let e = RtmpPublisher::connect("rtmp://host-only", &quick, SendQueueConfig::default())
            .await
            .unwrap_err();
        assert!(matches!(e, RtmpError::InvalidUrl(_)), "{e}");
        // Nothing listening: a bound socket that never listens holds the port, so connections
        // are refused and no parallel test can take it.
        let holder = tokio::net::TcpSocket::new_v4().unwrap();
        holder.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = holder.local_addr().unwrap().port();
        let t = Instant::now();
        let e = RtmpPlayer::connect(&format!("rtmp://127.0.0.1:{port}/live/x"), &quick)
            .await
            .unwrap_err();
        assert!(matches!(e, RtmpError::ConnectFailed { .. }), "{e}");
        assert!(t.elapsed() < Duration::from_secs(2));
        // A server that accepts and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = silent.accept().await {
                held.push(s);
            }
        });
        let t = Instant::now();
        let e = RtmpPublisher::connect(
            &format!("rtmp://{addr}/live/x"),
            &quick,
            SendQueueConfig::default(),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, RtmpError::Timeout { .. }), "{e}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        hold.abort();
    });
    // Wrong app on nginx.
    let nginx = Nginx::start();
    let e = rt
        .block_on(RtmpPublisher::connect(
            &format!("rtmp://127.0.0.1:{}/nope/x", nginx.port),
            &quick,
            SendQueueConfig::default(),
        ))
        .unwrap_err();
    println!("wrong app: {e}");
    assert!(
        matches!(e, RtmpError::ConnectRejected(_) | RtmpError::Closed(_)),
        "{e}"
    );
}

#[test]
fn server_dying_mid_stream_ends_publish_and_play_with_errors() {
    let mut nginx = Nginx::start();
    let url = nginx.url("die1");
    let rt = runtime();
    let tags = encoded_tags(
        VideoResolution::R320x240,
        15,
        300,
        AudioQuality::Speech,
        4,
        1.0,
    );
    rt.block_on(async {
        let publisher = RtmpPublisher::connect(
            &url,
            &TransportConfig::default(),
            SendQueueConfig::default(),
        )
        .await
        .unwrap();
        let mut player = RtmpPlayer::connect(&url, &TransportConfig::default())
            .await
            .unwrap();
        for t in &tags[..tags.len() / 2] {
            publisher.send(t.clone()).unwrap();
        }
        assert!(publisher.flush(Duration::from_secs(5)).await);
        let first = player.next_tag().await.unwrap();
        assert!(matches!(
            first.tag_type,
            TagType::Video | TagType::Audio | TagType::Script
        ));
        nginx.kill();
        // The player sees the end.
        let e = loop {
            match player.next_tag().await {
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert!(matches!(e, RtmpError::Closed(_) | RtmpError::Io(_)), "{e}");
        // The publisher notices on its next writes.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut failed = None;
        for t in tags[tags.len() / 2..].iter().cycle() {
            if let Err(e) = publisher.send(t.clone()) {
                failed = Some(e);
                break;
            }
            assert!(Instant::now() < deadline, "the publisher never noticed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let e = failed.unwrap();
        assert!(matches!(e, RtmpError::Closed(_) | RtmpError::Io(_)), "{e}");
        assert_eq!(
            e.code(),
            if matches!(e, RtmpError::Closed(_)) {
                onair_core::V2TXLiveCode::ErrorDisconnected
            } else {
                onair_core::V2TXLiveCode::ErrorFailed
            }
        );
        assert!(publisher.close().await.is_err());
    });
}

#[test]
fn a_second_publisher_on_the_same_stream_is_refused_with_a_typed_error() {
    let nginx = Nginx::start();
    let url = nginx.url("busy");
    let rt = runtime();
    rt.block_on(async {
        let first = RtmpPublisher::connect(
            &url,
            &TransportConfig::default(),
            SendQueueConfig::default(),
        )
        .await
        .unwrap();
        let e = RtmpPublisher::connect(
            &url,
            &TransportConfig::default(),
            SendQueueConfig::default(),
        )
        .await
        .unwrap_err();
        println!("second publisher: {e}");
        assert!(
            matches!(e, RtmpError::PublishRefused(ref code) if code.contains("BadName")),
            "{e}"
        );
        assert_eq!(e.code(), onair_core::V2TXLiveCode::ErrorServerProcessFailed);
        first.close().await.unwrap();
    });
}
