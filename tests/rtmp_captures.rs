//! Replays byte-for-byte RTMP conversations of real peers (`tests/captures/rtmp/`, see its
//! README: OBS 29, GStreamer 1.22 rtmp2sink, FFmpeg 9 with HEVC and AV1 over Enhanced RTMP
//! publishing; nginx-rtmp and node-media-server serving FFmpeg 5.1) into onair's sans-I/O
//! engine: the client's bytes into a `ServerSession`, the server's into a play
//! `ClientSession`, cut at the recorded TCP read boundaries and at pseudo-random ones. Every
//! media message must come out whole and in order, identical to what rml_rtmp's chunk
//! deserializer (an independent implementation, used here as the judge) reads from the same
//! bytes, and nothing may fail.

use bytes::Bytes;
use onair_flv::{FlvTag, TagType};
use onair_rtmp::engine::{
    ClientConfig, ClientEvent, ClientRole, ClientSession, ServerConfig, ServerEvent, ServerSession,
};
use onair_testkit::captures::{pieces, Capture};
use std::collections::VecDeque;
use std::time::Instant;

fn random_cuts(total: usize, seed: u64) -> Vec<usize> {
    let mut x = seed;
    let mut cuts = Vec::new();
    let mut left = total;
    while left > 0 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let n = (1 + (x >> 33) as usize % 3000).min(left);
        cuts.push(n);
        left -= n;
    }
    cuts
}

type Seen = Vec<(TagType, u32, Bytes)>;

fn replay_server(data: &[u8], cuts: &[usize]) -> Seen {
    let mut s = ServerSession::new(ServerConfig::default());
    let mut tags = Vec::new();
    let mut out = VecDeque::new();
    for piece in pieces(data, cuts) {
        s.handle_input(piece)
            .expect("a real client's bytes must decode");
        while let Some(e) = s.poll_event() {
            match e {
                ServerEvent::ConnectRequested { .. } => s.accept_connect(),
                ServerEvent::PublishRequested { stream_id, .. } => s.accept_publish(stream_id),
                ServerEvent::Media { tag, .. } => {
                    tags.push((tag.tag_type, tag.timestamp_ms, tag.data))
                }
                _ => {}
            }
        }
        s.take_output(&mut out);
    }
    tags
}

fn replay_client(data: &[u8], cuts: &[usize]) -> Seen {
    let now = Instant::now();
    let mut c = ClientSession::new(
        ClientConfig::new("live", "rtmp://127.0.0.1/live"),
        ClientRole::Play,
        "test",
        now,
    );
    let mut tags = Vec::new();
    for piece in pieces(data, cuts) {
        c.handle_input(now, piece)
            .expect("a real server's bytes must decode");
        while let Some(e) = c.poll_event() {
            if let ClientEvent::Media(FlvTag {
                tag_type,
                timestamp_ms,
                data,
                ..
            }) = e
            {
                tags.push((tag_type, timestamp_ms, data));
            }
        }
    }
    tags
}

/// The judge: rml_rtmp's deserializer over the same bytes (it reads these peers' streams,
/// which do not interleave, correctly), media and metadata messages only.
fn reference(data: &[u8]) -> Seen {
    let mut d = rml_rtmp::chunk_io::ChunkDeserializer::new();
    let mut out = Vec::new();
    let mut input = data;
    while let Some(m) = d.get_next_message(input).expect("reference decode") {
        input = &[];
        let kind = match m.type_id {
            1 => {
                let size = u32::from_be_bytes([m.data[0], m.data[1], m.data[2], m.data[3]]);
                d.set_max_chunk_size(size as usize).unwrap();
                continue;
            }
            8 => TagType::Audio,
            9 => TagType::Video,
            18 => TagType::Script,
            _ => continue,
        };
        let mut body = m.data;
        if body.starts_with(b"\x02\x00\x0d@setDataFrame") {
            body = body.slice(16..);
        }
        if kind == TagType::Script && body.starts_with(b"\x02\x00\x11|RtmpSampleAccess") {
            continue;
        }
        out.push((kind, m.timestamp.value, body));
    }
    out
}

fn check(name: &str, client_side: bool) -> Seen {
    let capture = Capture::load(name);
    let dir = if client_side { "s2c" } else { "c2s" };
    let data = capture.chunks(dir);
    let judge = reference(data);
    assert!(
        judge.len() > 20,
        "{name}: only {} media messages",
        judge.len()
    );
    let mut cut_sets = vec![capture.recorded_cuts(dir), vec![1], vec![data.len()]];
    for seed in 1..4 {
        cut_sets.push(random_cuts(data.len(), seed));
    }
    for cuts in &cut_sets {
        let seen = if client_side {
            replay_client(data, cuts)
        } else {
            replay_server(data, cuts)
        };
        assert_eq!(seen.len(), judge.len(), "{name}: message count");
        for (i, (a, b)) in seen.iter().zip(&judge).enumerate() {
            assert_eq!(
                (a.0, a.1, a.2.len()),
                (b.0, b.1, b.2.len()),
                "{name}: message {i}"
            );
            assert!(a.2 == b.2, "{name}: message {i} differs");
        }
    }
    println!(
        "{name}: {} media messages, identical under {} cuttings",
        judge.len(),
        cut_sets.len()
    );
    judge
}

fn video_codecs(seen: &Seen) -> (Vec<[u8; 4]>, usize, usize) {
    let mut codecs = Vec::new();
    let (mut seq, mut key) = (0, 0);
    for (kind, _, body) in seen {
        if *kind != TagType::Video {
            continue;
        }
        let info = onair_flv::video_info(body).expect("classifiable video body");
        if !codecs.contains(&info.codec) {
            codecs.push(info.codec);
        }
        seq += usize::from(info.sequence_header);
        key += usize::from(info.keyframe);
    }
    (codecs, seq, key)
}

#[test]
fn obs_and_gstreamer_publish_h264() {
    for name in ["obs29-publish-h264", "gstreamer-publish-h264"] {
        let seen = check(name, false);
        let (codecs, seq, key) = video_codecs(&seen);
        assert_eq!(codecs, [*b"avc1"], "{name}");
        assert!(
            seq >= 1 && key >= 1,
            "{name}: {seq} sequence headers, {key} keyframes"
        );
    }
}

#[test]
fn ffmpeg9_publishes_hevc_and_av1_over_enhanced_rtmp() {
    for (name, fourcc) in [
        ("ffmpeg9-publish-hevc", *b"hvc1"),
        ("ffmpeg9-publish-av1", *b"av01"),
    ] {
        let seen = check(name, false);
        let (codecs, seq, key) = video_codecs(&seen);
        assert_eq!(codecs, [fourcc], "{name}");
        assert!(
            seq >= 1 && key >= 1,
            "{name}: {seq} sequence headers, {key} keyframes"
        );
    }
}

#[test]
fn nginx_and_node_media_server_play() {
    for name in ["nginx-play-h264-bframes", "nms-play-h264"] {
        let seen = check(name, true);
        let (codecs, _, key) = video_codecs(&seen);
        assert_eq!(codecs, [*b"avc1"], "{name}");
        assert!(key >= 1, "{name}");
    }
}
