//! The send queue between the muxer and the socket, with an explicit drop policy (sans-I/O:
//! `now` is an argument, so tests drive it with a fake clock).
//!
//! - Sequence headers, metadata, audio and keyframes are never dropped by congestion.
//! - When the queued media duration (newest - oldest timestamp) passes the threshold (700 ms by
//!   default), queued inter frames are removed and new inter frames are dropped until the next
//!   keyframe; that is the congestion signal (`congested`).
//! - Memory is bounded: past `max_bytes` the oldest media is evicted (counted apart as
//!   `overflow_dropped`), so a dead link cannot grow the queue without limit.
//!
//! The network side reports what it wrote (`on_sent`), which gives the measured send rate.

use onair_flv::{FlvTag, TagType};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Queue limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendQueueConfig {
    /// Queued media duration above which inter frames are dropped (default 700 ms).
    pub max_duration: Duration,
    /// Hard cap on queued bytes (default 16 MiB).
    pub max_bytes: usize,
}

impl Default for SendQueueConfig {
    fn default() -> Self {
        Self {
            max_duration: Duration::from_millis(700),
            max_bytes: 16 << 20,
        }
    }
}

/// What kind of tag an item is, for the drop policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagClass {
    /// Sequence header or metadata: never dropped.
    Header,
    /// Audio frame: never dropped by congestion.
    Audio,
    /// Video keyframe: never dropped by congestion.
    Keyframe,
    /// Video inter frame: dropped under congestion.
    Inter,
}

/// Classifies an FLV tag by its first bytes.
pub fn classify(tag: &FlvTag) -> TagClass {
    match tag.tag_type {
        TagType::Script => TagClass::Header,
        // Legacy and Enhanced RTMP alike (an HEVC SequenceStart or an OpusHead is a header,
        // an HEVC keyframe is a keyframe).
        TagType::Audio => match onair_flv::audio_info(&tag.data) {
            Some(a) if a.sequence_header => TagClass::Header,
            _ => TagClass::Audio,
        },
        _ => match onair_flv::video_info(&tag.data) {
            Some(v) if v.sequence_header => TagClass::Header,
            Some(v) if v.keyframe => TagClass::Keyframe,
            _ => TagClass::Inter,
        },
    }
}

/// Counters and gauges for statistics, NETWORK_BUSY and bitrate adaptation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SendQueueStats {
    /// Queued media duration now.
    pub queued_duration: Duration,
    /// Queued bytes now.
    pub queued_bytes: usize,
    /// Tags queued now.
    pub queued_tags: usize,
    /// Inter frames dropped by the congestion policy.
    pub dropped_inter: u64,
    /// Tags evicted by the memory cap (only when the link is effectively dead).
    pub overflow_dropped: u64,
    /// Tags accepted.
    pub pushed: u64,
    /// Bytes written to the socket (chunk headers included).
    pub sent_bytes: u64,
    /// Of those, bytes of video tags (sequence headers included).
    pub sent_video_bytes: u64,
    /// Of those, bytes of audio tags (sequence headers included).
    pub sent_audio_bytes: u64,
    /// Video frames (not sequence headers) written to the socket.
    pub sent_video_frames: u64,
    /// Measured send rate over the last second, kbit/s.
    pub send_kbps: u32,
    /// The congestion signal: the queue passed its duration threshold and is not drained yet.
    pub congested: bool,
}

/// What `push` did with a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Queued.
    Queued,
    /// Dropped: an inter frame while waiting for a keyframe.
    DroppedInter,
}

/// The queue.
#[derive(Debug)]
pub struct SendQueue {
    config: SendQueueConfig,
    items: VecDeque<(FlvTag, TagClass)>,
    bytes: usize,
    waiting_for_keyframe: bool,
    congested: bool,
    stats: SendQueueStats,
    window: VecDeque<(Instant, usize)>,
}

impl SendQueue {
    /// An empty queue.
    pub fn new(config: SendQueueConfig) -> Self {
        Self {
            config,
            items: VecDeque::new(),
            bytes: 0,
            waiting_for_keyframe: false,
            congested: false,
            stats: SendQueueStats::default(),
            window: VecDeque::new(),
        }
    }

    fn duration(&self) -> Duration {
        let media = || {
            self.items
                .iter()
                .filter(|(_, c)| *c != TagClass::Header)
                .map(|(t, _)| t.timestamp_ms)
        };
        match (media().min(), media().max()) {
            (Some(a), Some(b)) => Duration::from_millis(u64::from(b.wrapping_sub(a).min(1 << 30))),
            _ => Duration::ZERO,
        }
    }

    /// Adds a tag, applying the policy.
    pub fn push(&mut self, tag: FlvTag) -> PushOutcome {
        let class = classify(&tag);
        match class {
            TagClass::Keyframe => self.waiting_for_keyframe = false,
            TagClass::Inter if self.waiting_for_keyframe => {
                self.stats.dropped_inter += 1;
                return PushOutcome::DroppedInter;
            }
            _ => {}
        }
        self.bytes += tag.data.len();
        self.items.push_back((tag, class));
        self.stats.pushed += 1;
        if self.duration() > self.config.max_duration {
            self.congested = true;
            self.waiting_for_keyframe = true;
            let before = self.items.len();
            let mut freed = 0;
            self.items.retain(|(t, c)| {
                let keep = *c != TagClass::Inter;
                if !keep {
                    freed += t.data.len();
                }
                keep
            });
            self.bytes -= freed;
            self.stats.dropped_inter += (before - self.items.len()) as u64;
        }
        while self.bytes > self.config.max_bytes {
            // Evict the oldest media, never the newest item.
            let Some(pos) = self.items.iter().position(|(_, c)| *c != TagClass::Header) else {
                break;
            };
            if pos + 1 == self.items.len() {
                break;
            }
            if let Some((t, _)) = self.items.remove(pos) {
                self.bytes -= t.data.len();
                self.stats.overflow_dropped += 1;
            }
        }
        PushOutcome::Queued
    }

    /// The next tag to send.
    pub fn pop(&mut self) -> Option<FlvTag> {
        let (tag, _) = self.items.pop_front()?;
        self.bytes -= tag.data.len();
        if self.items.is_empty() {
            self.congested = false;
        }
        Some(tag)
    }

    /// The congestion signal now (see [`SendQueueStats::congested`]).
    pub fn is_congested(&self) -> bool {
        self.congested
    }

    /// Records that `tag` went out as `bytes` on the socket at `now`: the per-track counters
    /// and the send rate.
    pub fn on_sent_tag(&mut self, tag: &FlvTag, bytes: usize, now: Instant) {
        match tag.tag_type {
            TagType::Video => {
                self.stats.sent_video_bytes += bytes as u64;
                if classify(tag) != TagClass::Header {
                    self.stats.sent_video_frames += 1;
                }
            }
            TagType::Audio => self.stats.sent_audio_bytes += bytes as u64,
            _ => {}
        }
        self.on_sent(bytes, now);
    }

    /// `true` when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Records `bytes` written to the socket at `now` (for the send rate).
    pub fn on_sent(&mut self, bytes: usize, now: Instant) {
        self.stats.sent_bytes += bytes as u64;
        self.window.push_back((now, bytes));
        while self
            .window
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(1))
        {
            self.window.pop_front();
        }
        if self.window.len() > 4096 {
            self.window.pop_front();
        }
    }

    /// Statistics at `now`.
    pub fn stats(&self, now: Instant) -> SendQueueStats {
        let recent: usize = self
            .window
            .iter()
            .filter(|(t, _)| now.duration_since(*t) <= Duration::from_secs(1))
            .map(|(_, b)| *b)
            .sum();
        SendQueueStats {
            queued_duration: self.duration(),
            queued_bytes: self.bytes,
            queued_tags: self.items.len(),
            send_kbps: (recent * 8 / 1000) as u32,
            congested: self.congested,
            ..self.stats
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn video(ts: u32, key: bool, len: usize) -> FlvTag {
        let mut d = vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0];
        d.resize(len.max(5), 0);
        FlvTag::new(TagType::Video, ts, Bytes::from(d))
    }
    fn audio(ts: u32) -> FlvTag {
        FlvTag::new(TagType::Audio, ts, Bytes::from_static(&[0xaf, 1, 1, 2, 3]))
    }
    fn seq() -> FlvTag {
        FlvTag::new(
            TagType::Video,
            0,
            Bytes::from_static(&[0x17, 0, 0, 0, 0, 1]),
        )
    }

    #[test]
    fn classification() {
        assert_eq!(classify(&seq()), TagClass::Header);
        assert_eq!(
            classify(&FlvTag::new(
                TagType::Audio,
                0,
                Bytes::from_static(&[0xaf, 0, 0x12, 0x10])
            )),
            TagClass::Header
        );
        assert_eq!(classify(&audio(0)), TagClass::Audio);
        assert_eq!(classify(&video(0, true, 10)), TagClass::Keyframe);
        assert_eq!(classify(&video(0, false, 10)), TagClass::Inter);
        // Enhanced RTMP: HEVC SequenceStart and keyframe, Opus SequenceStart and frame.
        let tag = |ty, body: &'static [u8]| FlvTag::new(ty, 0, Bytes::from_static(body));
        assert_eq!(
            classify(&tag(TagType::Video, b"\x90hvc1\x01")),
            TagClass::Header
        );
        assert_eq!(
            classify(&tag(TagType::Video, b"\x91hvc1\0\0\0\x01")),
            TagClass::Keyframe
        );
        assert_eq!(
            classify(&tag(TagType::Video, b"\xa1hvc1\0\0\0\x01")),
            TagClass::Inter
        );
        assert_eq!(
            classify(&tag(TagType::Audio, b"\x90OpusOpusHead")),
            TagClass::Header
        );
        assert_eq!(
            classify(&tag(TagType::Audio, b"\x91Opus\xf8")),
            TagClass::Audio
        );
        assert_eq!(
            classify(&FlvTag::new(TagType::Script, 0, Bytes::new())),
            TagClass::Header
        );
    }

    #[test]
    fn congestion_drops_only_inter_frames_until_the_next_keyframe() {
        let mut q = SendQueue::new(SendQueueConfig::default());
        q.push(seq());
        for i in 0..30u32 {
            q.push(video(i * 33, i % 15 == 0, 1000));
            q.push(audio(i * 33));
        }
        // 957 ms queued > 700 ms: inter frames went, the rest stayed.
        let now = Instant::now();
        let s = q.stats(now);
        assert!(s.congested);
        assert!(s.dropped_inter > 0);
        let mut classes = Vec::new();
        while let Some(t) = q.pop() {
            classes.push(classify(&t));
        }
        assert_eq!(
            classes.iter().filter(|c| **c == TagClass::Audio).count(),
            30,
            "no audio dropped"
        );
        assert_eq!(
            classes.iter().filter(|c| **c == TagClass::Keyframe).count(),
            2,
            "no keyframe dropped"
        );
        assert_eq!(classes[0], TagClass::Header);
        assert!(!q.stats(now).congested, "drained");
    }

    #[test]
    fn waits_for_keyframe_after_congestion() {
        let mut q = SendQueue::new(SendQueueConfig {
            max_duration: Duration::from_millis(100),
            ..Default::default()
        });
        q.push(video(0, true, 10));
        q.push(video(200, false, 10));
        assert!(q.stats(Instant::now()).congested);
        assert_eq!(q.push(video(233, false, 10)), PushOutcome::DroppedInter);
        // The network catches up.
        while q.pop().is_some() {}
        assert!(!q.stats(Instant::now()).congested);
        assert_eq!(
            q.push(video(250, false, 10)),
            PushOutcome::DroppedInter,
            "still no keyframe"
        );
        assert_eq!(q.push(video(266, true, 10)), PushOutcome::Queued);
        assert_eq!(q.push(video(300, false, 10)), PushOutcome::Queued);
    }

    #[test]
    fn memory_is_bounded() {
        let mut q = SendQueue::new(SendQueueConfig {
            max_duration: Duration::from_secs(3600),
            max_bytes: 100_000,
        });
        for i in 0..10_000u32 {
            q.push(video(i, true, 1000));
            assert!(q.stats(Instant::now()).queued_bytes <= 100_000);
        }
        assert!(q.stats(Instant::now()).overflow_dropped > 9000);
    }

    #[test]
    fn send_rate_over_the_last_second() {
        let mut q = SendQueue::new(SendQueueConfig::default());
        let t0 = Instant::now();
        for i in 0..10 {
            q.on_sent(12_500, t0 + Duration::from_millis(i * 100));
        }
        assert_eq!(q.stats(t0 + Duration::from_millis(950)).send_kbps, 1000);
        assert_eq!(q.stats(t0 + Duration::from_secs(5)).send_kbps, 0);
    }

    #[test]
    fn written_bytes_are_counted_per_track() {
        let mut q = SendQueue::new(SendQueueConfig::default());
        let t0 = Instant::now();
        q.on_sent_tag(&seq(), 20, t0);
        q.on_sent_tag(&video(0, true, 1000), 1012, t0);
        q.on_sent_tag(&video(33, false, 300), 306, t0);
        q.on_sent_tag(&audio(0), 17, t0);
        q.on_sent_tag(&FlvTag::new(TagType::Script, 0, Bytes::new()), 40, t0);
        let s = q.stats(t0);
        assert_eq!(s.sent_video_bytes, 20 + 1012 + 306);
        assert_eq!(s.sent_audio_bytes, 17);
        assert_eq!(s.sent_video_frames, 2, "sequence headers are not frames");
        assert_eq!(s.sent_bytes, 20 + 1012 + 306 + 17 + 40);
    }
}
