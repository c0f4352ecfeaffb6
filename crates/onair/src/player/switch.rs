//! `switch_stream` (LiteAV `switchStream`): the new URL is connected beside the one playing,
//! and its tags are held back, keeping only the newest metadata and sequence headers, until
//! its first keyframe (or, for a stream without video, its first audio frames). Only then is
//! the old connection closed and the new one's tags continue the jitter buffer's timeline
//! (`JitterBuffer::switched`), so the old stream plays until the new one has a picture to show:
//! no black frame, and the pictures jump from one stream to the other once.
//!
//! A switch that fails leaves the old stream playing and reports `on_stream_switched` with
//! LiteAV's codes: -1 timeout (no start point within [`SWITCH_TIMEOUT`]), -2 the server
//! refused (stream not found, HTTP error, connect rejected), -3 anything else on our side
//! (cannot connect, TLS, a malformed stream). A newer request replaces a pending one.

use super::jitter::Payload;
use super::net::{video_payload, TagError};
use onair_flv::{AudioTag, FlvTag, TagType};
use onair_rtmp::{PlaySession, RtmpError, TransportConfig};
use std::sync::Mutex;
use std::time::Duration;

/// How long the new stream may take to connect and reach a start point.
pub(crate) const SWITCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Audio frames after which a stream that announced no video is switched to (audio only).
const AUDIO_ONLY_AFTER: usize = 25;

/// `on_stream_switched` codes (LiteAV).
pub(crate) mod switch_code {
    /// Switched.
    pub const OK: i32 = 0;
    /// No start point in time.
    pub const TIMEOUT: i32 = -1;
    /// The server refused the stream.
    pub const SERVER: i32 = -2;
    /// Anything else (connect, TLS, malformed stream).
    pub const CLIENT: i32 = -3;
}

/// The newest switch request, handed from the app's thread to the receive task.
#[derive(Debug, Default)]
pub(crate) struct SwitchRequests {
    url: Mutex<Option<String>>,
    notify: tokio::sync::Notify,
}

impl SwitchRequests {
    /// Asks the receive task to switch to `url` (replacing any request not yet taken).
    pub(crate) fn request(&self, url: String) {
        *super::lock(&self.url) = Some(url);
        self.notify.notify_one();
    }

    /// The next requested URL. Cancel-safe: a URL is only taken by the poll that returns it.
    pub(crate) async fn next(&self) -> String {
        loop {
            if let Some(url) = super::lock(&self.url).take() {
                return url;
            }
            self.notify.notified().await;
        }
    }
}

/// Why a switch failed, as LiteAV's code and a message.
#[derive(Debug)]
pub(crate) struct SwitchFailure {
    pub code: i32,
    pub message: String,
}

impl SwitchFailure {
    fn from_rtmp(url: &str, e: &RtmpError) -> Self {
        let code = match e {
            RtmpError::Timeout { .. } => switch_code::TIMEOUT,
            RtmpError::ConnectRejected(_)
            | RtmpError::StreamNotFound(_)
            | RtmpError::Http { .. }
            | RtmpError::NotFlv { .. }
            | RtmpError::Closed(_) => switch_code::SERVER,
            _ => switch_code::CLIENT,
        };
        Self {
            code,
            message: format!("switch to {url} failed: {e}"),
        }
    }
}

/// A connection to the new stream, at its start point.
pub(crate) struct Prepared {
    pub session: PlaySession,
    pub url: String,
    /// The held metadata and sequence headers, then the start tag.
    pub tags: Vec<FlvTag>,
}

/// Connects to `url` and reads until its start point (bounded by [`SWITCH_TIMEOUT`]).
pub(crate) async fn prepare(
    url: String,
    transport: TransportConfig,
) -> Result<Prepared, SwitchFailure> {
    let run = async {
        let mut session = PlaySession::connect(&url, &transport).await?;
        let mut held = HeldTags::default();
        loop {
            let tag = session.next_tag().await?;
            if let Some(tags) = held.offer(tag) {
                return Ok((session, tags));
            }
        }
    };
    match tokio::time::timeout(SWITCH_TIMEOUT, run).await {
        Ok(Ok((session, tags))) => Ok(Prepared { session, url, tags }),
        Ok(Err(e)) => Err(SwitchFailure::from_rtmp(&url, &e)),
        Err(_) => Err(SwitchFailure {
            code: switch_code::TIMEOUT,
            message: format!(
                "switch to {url} failed: no keyframe within {} s",
                SWITCH_TIMEOUT.as_secs()
            ),
        }),
    }
}

/// What the new stream sent before its start point: only the newest of each header is kept,
/// so holding costs a few hundred bytes whatever the stream sends.
#[derive(Debug, Default)]
pub(crate) struct HeldTags {
    metadata: Option<FlvTag>,
    video_config: Option<FlvTag>,
    audio_config: Option<FlvTag>,
    audio_frames: usize,
}

impl HeldTags {
    /// Takes the next tag; returns the tags to play (headers, then this tag) once it is a
    /// start point: a video keyframe, or audio when the stream announced no video after
    /// [`AUDIO_ONLY_AFTER`] audio frames.
    pub(crate) fn offer(&mut self, tag: FlvTag) -> Option<Vec<FlvTag>> {
        let start = match tag.tag_type {
            TagType::Script => {
                self.metadata = Some(tag);
                return None;
            }
            TagType::Video => match video_payload(&tag.data) {
                Ok(Some(Payload::VideoConfig(_))) => {
                    self.video_config = Some(tag);
                    return None;
                }
                Ok(Some(Payload::Video { keyframe, .. })) => keyframe,
                Ok(_) | Err(TagError::Malformed(_) | TagError::Unsupported(_)) => false,
            },
            TagType::Audio => match AudioTag::parse(&tag.data) {
                Ok(AudioTag::AacSequenceHeader(_)) => {
                    self.audio_config = Some(tag);
                    return None;
                }
                Ok(AudioTag::AacRaw(_)) => {
                    self.audio_frames += 1;
                    self.video_config.is_none()
                        && self.audio_config.is_some()
                        && self.audio_frames >= AUDIO_ONLY_AFTER
                }
                _ => false,
            },
            _ => false,
        };
        if !start {
            return None;
        }
        let mut tags: Vec<FlvTag> = [
            self.metadata.take(),
            self.video_config.take(),
            self.audio_config.take(),
        ]
        .into_iter()
        .flatten()
        .collect();
        tags.push(tag);
        Some(tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn tag(tag_type: TagType, ts: u32, body: &[u8]) -> FlvTag {
        FlvTag::new(tag_type, ts, Bytes::copy_from_slice(body))
    }
    // An AVC sequence header: avcC version 1, Baseline 3.0, 4-byte lengths, one SPS and one
    // PPS (truncated bodies: only the record's layout is read here).
    const AVC_SEQ: &[u8] = &[
        0x17, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x42, 0xc0, 0x1e, 1, 0, 2,
        0x68, 0xce,
    ];
    const AAC_SEQ: &[u8] = &[0xaf, 0, 0x12, 0x10];

    #[test]
    fn holds_headers_until_the_first_keyframe() {
        let mut h = HeldTags::default();
        assert!(h
            .offer(tag(TagType::Script, 0, b"\x02\x00\x0aonMetaData"))
            .is_none());
        assert!(h.offer(tag(TagType::Video, 0, AVC_SEQ)).is_none());
        assert!(h.offer(tag(TagType::Audio, 0, AAC_SEQ)).is_none());
        // Audio and an inter frame before the keyframe are not kept.
        assert!(h.offer(tag(TagType::Audio, 10, &[0xaf, 1, 9])).is_none());
        assert!(h
            .offer(tag(TagType::Video, 33, &[0x27, 1, 0, 0, 0, 0, 0, 0, 1, 1]))
            .is_none());
        // A newer sequence header replaces the held one.
        let mut newer = AVC_SEQ.to_vec();
        newer[16] = 0x1f;
        assert!(h.offer(tag(TagType::Video, 40, &newer)).is_none());
        let tags = h
            .offer(tag(
                TagType::Video,
                66,
                &[0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65],
            ))
            .expect("a keyframe is the start point");
        let kinds: Vec<(TagType, u32)> =
            tags.iter().map(|t| (t.tag_type, t.timestamp_ms)).collect();
        assert_eq!(
            kinds,
            [
                (TagType::Script, 0),
                (TagType::Video, 40),
                (TagType::Audio, 0),
                (TagType::Video, 66)
            ]
        );
        assert_eq!(tags[1].data[16], 0x1f);
    }

    #[test]
    fn a_stream_without_video_starts_on_audio() {
        let mut h = HeldTags::default();
        assert!(h.offer(tag(TagType::Audio, 0, AAC_SEQ)).is_none());
        let mut started = None;
        for i in 0..AUDIO_ONLY_AFTER as u32 {
            if let Some(t) = h.offer(tag(TagType::Audio, i * 23, &[0xaf, 1, 9])) {
                started = Some((i, t.len()));
                break;
            }
        }
        assert_eq!(started, Some((AUDIO_ONLY_AFTER as u32 - 1, 2)));
        // With video announced, audio alone never starts it.
        let mut h = HeldTags::default();
        h.offer(tag(TagType::Video, 0, AVC_SEQ));
        h.offer(tag(TagType::Audio, 0, AAC_SEQ));
        assert!((0..100).all(|i| h
            .offer(tag(TagType::Audio, i * 23, &[0xaf, 1, 9]))
            .is_none()));
    }

    #[test]
    fn failures_carry_litavs_codes() {
        let code = |e: RtmpError| SwitchFailure::from_rtmp("rtmp://x/a/b", &e).code;
        assert_eq!(
            code(RtmpError::StreamNotFound("b".into())),
            switch_code::SERVER
        );
        assert_eq!(
            code(RtmpError::Timeout {
                stage: "play",
                after: Duration::from_secs(1)
            }),
            switch_code::TIMEOUT
        );
        assert_eq!(
            code(RtmpError::ConnectFailed {
                addr: "x:1935".into(),
                reason: "refused".into()
            }),
            switch_code::CLIENT
        );
    }
}
