//! Chunks of an audio and a video message interleaved on two chunk streams (legal RTMP,
//! RTMP 1.0 §5.3.2; the rml_rtmp era panicked on it), both ways over real sockets:
//! - server -> client: a scripted server sends a 300-byte video and a 150-byte audio message
//!   in alternating 64-byte chunks; onair's `RtmpPlayer` must yield both whole.
//! - client -> server: a client publishes real H.264 + AAC into the embedded server with every
//!   video message's chunks interleaved with an audio message's; an HTTP-FLV player then reads
//!   the server's start burst and every tag must equal, byte for byte, what was published.

use onair_flv::TagType;
use onair_rtmp::engine::{ClientConfig, ClientEvent, ClientRole, ClientSession};
use onair_rtmp::engine::{Handshake, HandshakeProgress, ServerConfig, ServerEvent, ServerSession};
use onair_rtmp::{HttpFlvPlayer, RtmpPlayer, TransportConfig};
use std::collections::VecDeque;
use std::time::Duration;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn header0(csid: u8, ts: u32, len: usize, type_id: u8, sid: u32) -> Vec<u8> {
    let mut v = vec![csid];
    v.extend_from_slice(&ts.to_be_bytes()[1..]);
    v.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
    v.push(type_id);
    v.extend_from_slice(&sid.to_le_bytes());
    v
}

/// Set Chunk Size `chunk`, then two messages on csids `a` and `b` whose chunks alternate.
fn interleaved(chunk: usize, a: (u8, u8, &[u8]), b: (u8, u8, &[u8]), ts: u32, sid: u32) -> Vec<u8> {
    let mut out = header0(2, 0, 4, 1, 0);
    out.extend_from_slice(&(chunk as u32).to_be_bytes());
    let (mut pa, mut pb) = (a.2.chunks(chunk), b.2.chunks(chunk));
    let (mut first_a, mut first_b) = (true, true);
    loop {
        let mut any = false;
        if let Some(c) = pa.next() {
            if first_a {
                out.extend(header0(a.0, ts, a.2.len(), a.1, sid));
                first_a = false;
            } else {
                out.push(0xc0 | a.0);
            }
            out.extend_from_slice(c);
            any = true;
        }
        if let Some(c) = pb.next() {
            if first_b {
                out.extend(header0(b.0, ts, b.2.len(), b.1, sid));
                first_b = false;
            } else {
                out.push(0xc0 | b.0);
            }
            out.extend_from_slice(c);
            any = true;
        }
        if !any {
            return out;
        }
    }
}

async fn server_handshake(s: &mut TcpStream) -> Vec<u8> {
    let mut hs = Handshake::server();
    let mut buf = vec![0u8; 8192];
    loop {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "client left during the handshake");
        match hs.process(&buf[..n]).unwrap() {
            HandshakeProgress::InProgress { reply } => s.write_all(&reply).await.unwrap(),
            HandshakeProgress::Done { reply, rest } => {
                s.write_all(&reply).await.unwrap();
                return rest;
            }
        }
    }
}

#[test]
fn server_to_client_interleaved_messages_arrive_whole() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let video: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        let audio: Vec<u8> = (0..150u32).map(|i| (i * 13 + 1) as u8).collect();
        let (v, a) = (video.clone(), audio.clone());
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut input = server_handshake(&mut s).await;
            let mut session = ServerSession::new(ServerConfig::default());
            let mut out = VecDeque::new();
            let mut buf = vec![0u8; 8192];
            loop {
                session.handle_input(&input).unwrap();
                let mut play = None;
                while let Some(e) = session.poll_event() {
                    match e {
                        ServerEvent::ConnectRequested { .. } => session.accept_connect(),
                        ServerEvent::PlayRequested { stream_id, .. } => {
                            session.accept_play(stream_id);
                            play = Some(stream_id);
                        }
                        _ => {}
                    }
                }
                session.take_output(&mut out);
                onair_rtmp::write_queue(&mut s, &mut out).await.unwrap();
                if let Some(sid) = play {
                    let bytes = interleaved(64, (6, 9, &v), (4, 8, &a), 40, sid);
                    s.write_all(&bytes).await.unwrap();
                    // Keep the connection open until the client has read.
                    let _ = s.read(&mut buf).await;
                    return;
                }
                let n = s.read(&mut buf).await.unwrap();
                input = buf[..n].to_vec();
            }
        });
        let url = format!("rtmp://{addr}/live/interleaved");
        let mut player = RtmpPlayer::connect(&url, &TransportConfig::default())
            .await
            .expect("play the scripted server");
        let mut got = Vec::new();
        while got.len() < 2 {
            let t = tokio::time::timeout(Duration::from_secs(5), player.next_tag())
                .await
                .expect("tags within 5 s")
                .expect("a tag");
            if t.tag_type != TagType::Script {
                got.push(t);
            }
        }
        // The video message started first; the audio one, shorter, completes first.
        let audio_tag = got.iter().find(|t| t.tag_type == TagType::Audio).unwrap();
        let video_tag = got.iter().find(|t| t.tag_type == TagType::Video).unwrap();
        assert_eq!(&audio_tag.data[..], &audio[..]);
        assert_eq!(&video_tag.data[..], &video[..]);
        assert_eq!((audio_tag.timestamp_ms, video_tag.timestamp_ms), (40, 40));
        drop(player);
        let _ = server.await;
    });
}

#[test]
fn client_to_server_interleaved_publish_arrives_whole() {
    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(dir.path());
    // A long GOP so the server's start burst holds every frame published.
    let tags = onair_testkit::live_source::encoded_tags(
        onair_core::VideoResolution::R320x180,
        15,
        300,
        onair_core::AudioQuality::Default,
        2,
        10.0,
    );
    let url = server.push_url("live", "interleaved", Duration::from_secs(600));
    let parsed = onair_rtmp::StreamUrl::parse(&url).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut s = TcpStream::connect(server.rtmp_addr()).await.unwrap();
        let (mut hs, c0c1) = Handshake::client().unwrap();
        s.write_all(&c0c1).await.unwrap();
        let mut buf = vec![0u8; 65536];
        let rest = loop {
            let n = s.read(&mut buf).await.unwrap();
            match hs.process(&buf[..n]).unwrap() {
                HandshakeProgress::InProgress { reply } => s.write_all(&reply).await.unwrap(),
                HandshakeProgress::Done { reply, rest } => {
                    s.write_all(&reply).await.unwrap();
                    break rest;
                }
            }
        };
        let now = Instant::now();
        let mut c = ClientSession::new(
            ClientConfig::new(&parsed.app, &parsed.tc_url()),
            ClientRole::Publish,
            &parsed.stream_with_query(),
            now,
        );
        let mut out = VecDeque::new();
        c.handle_input(now, &rest).unwrap();
        loop {
            c.take_output(&mut out);
            onair_rtmp::write_queue(&mut s, &mut out).await.unwrap();
            if c.is_started() {
                break;
            }
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "server closed before publish started");
            c.handle_input(now, &buf[..n]).unwrap();
            while let Some(e) = c.poll_event() {
                assert!(!matches!(e, ClientEvent::Rejected { .. }), "{e:?}");
            }
        }
        let sid = c.stream_id();
        // Metadata and sequence headers through the session, then pairs interleaved by hand.
        let (head, media): (Vec<_>, Vec<_>) = tags.iter().partition(|t| {
            t.tag_type == TagType::Script
                || onair_flv::video_info(&t.data).is_some_and(|i| i.sequence_header)
                || onair_flv::audio_info(&t.data)
                    .is_some_and(|i| i.sequence_header && t.tag_type == TagType::Audio)
        });
        for t in &head {
            c.send_media(t).unwrap();
        }
        c.take_output(&mut out);
        onair_rtmp::write_queue(&mut s, &mut out).await.unwrap();
        let videos: Vec<_> = media
            .iter()
            .filter(|t| t.tag_type == TagType::Video)
            .collect();
        let audios: Vec<_> = media
            .iter()
            .filter(|t| t.tag_type == TagType::Audio)
            .collect();
        let mut sent = Vec::new();
        for (i, v) in videos.iter().enumerate() {
            let bytes = match audios.get(i) {
                Some(a) => {
                    // One timestamp for the pair (the helper writes both type-0 headers with it).
                    sent.push((TagType::Video, v.data.clone()));
                    sent.push((TagType::Audio, a.data.clone()));
                    interleaved(64, (6, 9, &v.data), (4, 8, &a.data), v.timestamp_ms, sid)
                }
                _ => {
                    sent.push((TagType::Video, v.data.clone()));
                    interleaved(64, (6, 9, &v.data), (4, 8, &[]), v.timestamp_ms, sid)
                }
            };
            s.write_all(&bytes).await.unwrap();
        }
        // The HTTP-FLV start burst: metadata, sequence headers, then the GOP cache, which
        // starts at the last keyframe published (openh264 may add one at a scene change).
        let sent_video: Vec<_> = sent.iter().filter(|x| x.0 == TagType::Video).map(|x| x.1.clone()).collect();
        let sent_audio: Vec<_> = sent.iter().filter(|x| x.0 == TagType::Audio).map(|x| x.1.clone()).collect();
        let last_key = sent_video
            .iter()
            .rposition(|v| onair_flv::video_info(v).is_some_and(|i| i.keyframe))
            .expect("a keyframe was published");
        let want_video = &sent_video[last_key..];
        let play = format!("{}/live/interleaved.flv", server.http_base());
        let mut player = HttpFlvPlayer::connect(&play, &TransportConfig::default()).await.unwrap();
        let (mut got_video, mut got_audio) = (Vec::new(), Vec::new());
        loop {
            // Until every cached video frame came, then whatever audio follows it.
            let wait = if got_video.len() < want_video.len() { 5000 } else { 500 };
            let t = match tokio::time::timeout(Duration::from_millis(wait), player.next_tag()).await {
                Ok(t) => t.expect("a tag"),
                Err(_) if got_video.len() >= want_video.len() => break,
                Err(_) => panic!("{} of {} video frames within 5 s", got_video.len(), want_video.len()),
            };
            match t.tag_type {
                TagType::Video if !onair_flv::video_info(&t.data).is_some_and(|i| i.sequence_header) => {
                    got_video.push(t.data)
                }
                TagType::Audio if !onair_flv::audio_info(&t.data).is_some_and(|i| i.sequence_header) => {
                    got_audio.push(t.data)
                }
                _ => {}
            }
        }
        assert!(got_video == want_video, "video payloads differ from what was published");
        assert!(!got_audio.is_empty(), "no audio in the burst");
        assert!(
            sent_audio.ends_with(&got_audio),
            "audio: the {} frames read are not the last ones published, whole and in order",
            got_audio.len()
        );
        println!(
            "{} video and {} audio messages, each sent as interleaved 64-byte chunks, read back whole",
            got_video.len(),
            got_audio.len()
        );
        drop(s);
    });
    server.stop();
}
