//! Payload copies per encoded frame on the push path, from the encoder's output to what the
//! RTMP session hands the socket (`write_queue` writes those same `Bytes` with one vectored
//! write): at most 1 (issue "Performance", acceptance).
//!
//! The one copy is the encoder's: openh264 keeps its bitstream in its own buffer, reused for
//! the next frame, so the NAL units are copied once into the access unit, behind room for the
//! FLV tag header. Then the FLV tag body is that memory (`EncodedVideo::flv_body`), and the
//! RTMP client queues each chunk's payload as a slice of it between the chunk headers. AAC
//! frames (FFmpeg's packet copied once, behind their 2-byte tag header) go the same way. AAC
//! frames (FFmpeg's packet copied once, behind their 2-byte tag header) go the same way. The test
//! follows the memory: every payload byte the session queues must lie in the access unit's
//! allocation, and the server session must read back the same tag bodies.

use onair_codec::flv_tags::{audio_tag, video_tags};
use onair_codec::{AacEncoder, AudioEncoder, EncoderOptions, OpenH264Encoder, Tone};
use onair_codec::{TestPattern, VideoEncoder};
use onair_core::{Alignment, AudioFrame, AudioQuality, VideoCodec};
use onair_core::{EncodeTarget, ResolutionMode, Timestamp, VideoEncoderParam, VideoResolution};
use onair_flv::FlvTag;
use onair_rtmp::engine::{ClientConfig, ClientEvent, ClientRole, ClientSession};
use onair_rtmp::engine::{ServerConfig, ServerEvent, ServerSession};
use std::collections::VecDeque;
use std::time::Instant;

fn pump(c: &mut ClientSession, s: &mut ServerSession, now: Instant) {
    for _ in 0..10 {
        let mut q = VecDeque::new();
        c.take_output(&mut q);
        for b in q {
            s.handle_input(&b).unwrap();
        }
        let mut q = VecDeque::new();
        s.take_output(&mut q);
        for b in q {
            c.handle_input(now, &b).unwrap();
        }
    }
}

/// A client session that has started publishing into a server session.
fn started() -> (ClientSession, ServerSession) {
    let now = Instant::now();
    let mut c = ClientSession::new(
        ClientConfig::new("live", "rtmp://h/live"),
        ClientRole::Publish,
        "copies",
        now,
    );
    let mut s = ServerSession::new(ServerConfig::default());
    pump(&mut c, &mut s, now);
    assert!(matches!(
        s.poll_event(),
        Some(ServerEvent::ConnectRequested { .. })
    ));
    s.accept_connect();
    pump(&mut c, &mut s, now);
    let Some(ServerEvent::PublishRequested { stream_id, .. }) = s.poll_event() else {
        panic!("no publish request");
    };
    s.accept_publish(stream_id);
    pump(&mut c, &mut s, now);
    while let Some(e) = c.poll_event() {
        if e == ClientEvent::Started {
            return (c, s);
        }
    }
    panic!("the client never started publishing");
}

fn target_720p() -> EncodeTarget {
    VideoEncoderParam::new(
        VideoResolution::R1280x720,
        ResolutionMode::Landscape,
        30,
        0,
        0,
    )
    .unwrap()
    .resolve(Alignment::SOFTWARE)
}

/// `part` lies inside `whole`'s memory.
fn inside(part: &[u8], whole: &[u8]) -> bool {
    let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
    p >= w && p + part.len() <= w + whole.len()
}

/// Sends `tag` and checks that every payload byte the session queued lies in the tag body's
/// memory (chunk headers are the only other bytes) and that the server reads the body back.
fn send_and_follow(
    client: &mut ClientSession,
    server: &mut ServerSession,
    tag: &FlvTag,
    what: &str,
) {
    client.send_media(tag).unwrap();
    let mut queued = VecDeque::new();
    client.take_output(&mut queued);
    let shared: usize = queued
        .iter()
        .filter(|b| inside(b, &tag.data))
        .map(|b| b.len())
        .sum();
    assert_eq!(
        shared,
        tag.data.len(),
        "{what}: {} of {} payload bytes were copied into the chunk stream",
        tag.data.len() - shared,
        tag.data.len()
    );
    // Chunk headers are the only other bytes (12 bytes or less per chunk).
    let other: usize = queued.iter().map(|b| b.len()).sum::<usize>() - shared;
    let chunks = tag.data.len().div_ceil(client.chunk_size() as usize);
    assert!(
        other <= 12 * chunks,
        "{what}: {other} header bytes for {chunks} chunks"
    );
    for b in queued {
        server.handle_input(&b).unwrap();
    }
    let mut received = None;
    while let Some(e) = server.poll_event() {
        if let ServerEvent::Media { tag: t, .. } = e {
            if t.tag_type == tag.tag_type {
                received = Some(t);
            }
        }
    }
    let received = received.unwrap_or_else(|| panic!("{what}: the server read nothing"));
    assert_eq!(received.data, tag.data, "{what} arrived changed");
    assert_eq!(received.timestamp_ms, tag.timestamp_ms, "{what}");
}

/// Sends `tags` the ordinary way and lets the server read them.
fn send_plain(client: &mut ClientSession, server: &mut ServerSession, tags: &[FlvTag]) {
    for t in tags {
        client.send_media(t).unwrap();
    }
    let mut q = VecDeque::new();
    client.take_output(&mut q);
    for b in q {
        server.handle_input(&b).unwrap();
    }
    while server.poll_event().is_some() {}
}

#[test]
fn an_encoded_frame_reaches_the_socket_queue_with_no_copy_after_the_encoders() {
    let target = target_720p();
    let mut encoder = OpenH264Encoder::new(target, EncoderOptions::default()).unwrap();
    let pattern = TestPattern::new(target.size.width, target.size.height);
    let (mut client, mut server) = started();
    let mut checked = 0;
    for n in 0..30u32 {
        let ts = Timestamp::from_micros(u64::from(n) * 33_333);
        let frame = pattern.frame(n, u64::from(n), ts, false);
        let Some(encoded) = encoder.encode(&frame).unwrap() else {
            continue;
        };
        assert_eq!(encoded.codec, VideoCodec::H264);
        let tags = video_tags(&encoded);
        let unit = tags.last().expect("the access unit's tag");
        // The tag body is the access unit's memory: the header in front of the NAL units.
        assert!(
            inside(&unit.data, encoded.flv_body.as_deref().unwrap()),
            "frame {n}: the FLV body was copied"
        );
        assert_eq!(
            &unit.data[unit.data.len() - encoded.avcc.len()..],
            &encoded.avcc[..]
        );

        // The sequence header (when the parameter sets are new) goes first.
        send_plain(&mut client, &mut server, &tags[..tags.len() - 1]);
        send_and_follow(&mut client, &mut server, unit, &format!("video frame {n}"));
        checked += 1;
    }
    assert!(
        checked >= 25,
        "only {checked} frames came out of the encoder"
    );
}

#[test]
fn an_aac_frame_reaches_the_socket_queue_with_no_copy_after_the_encoders() {
    let quality = AudioQuality::Default;
    let mut aac = AacEncoder::new(quality).unwrap();
    let (mut client, mut server) = started();
    let mut tone = Tone::new(1000.0, quality.sample_rate(), quality.channels());
    let mut frames = 0;
    for n in 0..50u64 {
        let pcm = tone.next_samples(quality.samples_per_20ms());
        let frame = AudioFrame::from_samples(&pcm, quality.sample_rate(), quality.channels())
            .unwrap()
            .with_timestamp(Timestamp::from_micros(n * 20_000));
        for encoded in aac.encode(&frame).unwrap() {
            let tag = audio_tag(&encoded);
            assert!(
                inside(&tag.data, encoded.flv_body.as_deref().unwrap()),
                "the FLV body was copied"
            );
            assert_eq!(&tag.data[2..], &encoded.data[..]);
            let what = format!("AAC frame {frames}");
            send_and_follow(&mut client, &mut server, &tag, &what);
            frames += 1;
        }
    }
    assert!(frames >= 40, "only {frames} AAC frames came out");
}
