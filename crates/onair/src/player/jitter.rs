//! The player's jitter buffer and playout clock (spec "Player", set_cache_params). Sans-I/O:
//! packets and `now` go in, due packets come out, so the logic is tested with a fake clock.
//!
//! How it plays a live stream:
//! - **Fast start.** Playback starts on the first playable packet (a keyframe, or audio); there
//!   is no pre-roll, so the first picture appears as soon as it can be decoded.
//! - **One clock for both tracks.** The playout position advances with wall time from an anchor.
//!   It never runs past the *horizon*, the newest media every active track can play (audio's
//!   newest frame end, video's newest decodable time); when it would, the clock freezes (an
//!   underrun) and resumes once the buffer holds the *cushion* again. Latency therefore grows
//!   only when data comes late. A track more than 300 ms behind the other stops gating the
//!   clock until it catches up (a paused video keeps the sound going).
//! - **Cushion.** The interarrival jitter of the stream is estimated as in RFC 3550 (§6.4.1),
//!   counting lateness only (a burst of early packets is not jitter); the cushion is three
//!   times that, capped at `min` seconds of `set_cache_params`.
//! - **Catch-up, by dropping.** When the buffer holds more than `max` seconds, the clock jumps
//!   forward to leave the cushion: audio in the skipped span is dropped undecoded, video is
//!   dropped up to the last keyframe in the span and the frames after it are decoded without
//!   being shown. Between the cushion and `max`, a gentle catch-up drops one audio frame's worth
//!   (about 21 ms) at most every 250 ms (below 10% faster playout) until the excess is gone.
//! - **Discontinuities** (a publisher restarting at 0, a 32-bit wrap) are re-timed onto the
//!   running timeline. The buffer is bounded in bytes and in duration.
//! - **Switches** (`switch_stream`): the first packet of the new stream is placed right after
//!   the newest media queued, whatever its own time, so what is queued of the old stream
//!   plays out first and the new one follows without a gap.

use bytes::Bytes;
use onair_codec::AudioConfig;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What `set_cache_params` set: seconds of cache.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CacheParams {
    /// The cushion's cap (s).
    pub min_s: f32,
    /// The level above which the player catches up (s).
    pub max_s: f32,
}

impl Default for CacheParams {
    fn default() -> Self {
        Self {
            min_s: 1.0,
            max_s: 5.0,
        }
    }
}

/// A packet's content.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// A new video sequence header (any codec).
    VideoConfig(VideoConfig),
    /// One AVCC access unit.
    Video {
        keyframe: bool,
        /// pts - dts, µs.
        cts: i64,
        data: Bytes,
    },
    /// A new audio decoder configuration (AAC's AudioSpecificConfig, Opus's OpusHead).
    AudioConfig(AudioConfig),
    /// One raw AAC frame or Opus packet.
    Audio {
        data: Bytes,
        /// An Opus packet (Enhanced RTMP `Opus`): the player can open a decoder from the packet
        /// alone when the stream's OpusHead never came (a server that does not keep it for
        /// players that join late).
        opus: bool,
    },
}

/// A video decoder configuration: the codec's FourCC (`avc1`, `hvc1`, `av01`, `vp09`; legacy
/// FLV AVC and HEVC read as their FourCCs) and its record (avcC, hvcC, av1C, vpcC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VideoConfig {
    pub fourcc: [u8; 4],
    pub record: Bytes,
    /// The NAL length size of AVC and HEVC (whose SEI messages are read); `None` for the
    /// codecs without NAL units.
    pub nal_length: Option<u8>,
}

/// A demuxed packet with its decode time (µs on the stream's timeline).
#[derive(Debug, Clone)]
pub(crate) struct Packet {
    pub dts: i64,
    pub payload: Payload,
}

impl Packet {
    fn is_config(&self) -> bool {
        matches!(
            self.payload,
            Payload::VideoConfig(_) | Payload::AudioConfig(_)
        )
    }
    fn is_keyframe(&self) -> bool {
        matches!(self.payload, Payload::Video { keyframe: true, .. })
    }
    fn len(&self) -> usize {
        match &self.payload {
            Payload::Video { data, .. } | Payload::Audio { data, .. } => data.len(),
            _ => 64,
        }
    }
}

/// Most bytes held before the oldest media is dropped (a stream far beyond any preset).
const CAP_BYTES: usize = 48 * 1024 * 1024;
/// A timestamp step beyond these is a discontinuity, not a gap.
const JUMP_BACK_US: i64 = 1_000_000;
const JUMP_FORWARD_US: i64 = 10_000_000;
/// A track whose newest playable time is this far behind the other's stops gating the clock
/// (a publisher that pauses its video must not freeze the sound for long).
const TRACK_DEAD_US: i64 = 300_000;
/// Gentle catch-up: the excess over the cushion that starts it, and its step and pace.
const SOFT_EXCESS_US: i64 = 80_000;
const SOFT_STEP_US: i64 = 21_333;
const SOFT_EVERY: Duration = Duration::from_millis(250);

/// Counters the statistics and tests read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BufferCounters {
    /// Hard catch-ups (jumps).
    pub catch_ups: u64,
    /// Gentle catch-up steps.
    pub soft_steps: u64,
    /// Media packets dropped undecoded.
    pub dropped_video: u64,
    /// Audio packets dropped undecoded.
    pub dropped_audio: u64,
    /// Timestamp discontinuities re-timed.
    pub discontinuities: u64,
    /// Switches to another stream spliced in.
    pub switches: u64,
    /// Time the clock spent frozen in underruns longer than 60 ms, µs.
    pub underrun_us: u64,
}

/// The jitter buffer. See the module docs.
#[derive(Debug)]
pub(crate) struct JitterBuffer {
    params: CacheParams,
    video: VecDeque<Packet>,
    audio: VecDeque<Packet>,
    bytes: usize,
    /// (wall, media µs) the clock runs from.
    anchor: Option<(Instant, i64)>,
    /// Set while the clock is frozen in an underrun, with when it started.
    frozen_since: Option<Instant>,
    offset: i64,
    newest_video: Option<i64>,
    newest_audio: Option<i64>,
    video_interval: i64,
    audio_duration: i64,
    /// Decoder reorder delay reported by the video decoder, µs.
    video_lag: i64,
    awaiting_keyframe: bool,
    /// The next media packet starts another stream (`switched`).
    splice: bool,
    jitter_us: f64,
    last_arrival: Option<(Instant, i64)>,
    last_soft: Option<Instant>,
    counters: BufferCounters,
}

impl JitterBuffer {
    pub(crate) fn new(params: CacheParams) -> Self {
        Self {
            params,
            video: VecDeque::new(),
            audio: VecDeque::new(),
            bytes: 0,
            anchor: None,
            frozen_since: None,
            offset: 0,
            newest_video: None,
            newest_audio: None,
            video_interval: 40_000,
            audio_duration: 21_333,
            video_lag: 0,
            awaiting_keyframe: true,
            splice: false,
            jitter_us: 0.0,
            last_arrival: None,
            last_soft: None,
            counters: BufferCounters::default(),
        }
    }

    #[cfg(test)]
    pub(crate) fn counters(&self) -> BufferCounters {
        self.counters
    }

    /// The cushion the buffer keeps, µs.
    pub(crate) fn cushion_us(&self) -> i64 {
        ((3.0 * self.jitter_us) as i64).min((f64::from(self.params.min_s) * 1e6) as i64)
    }

    fn newest_any(&self) -> Option<i64> {
        match (self.newest_video, self.newest_audio) {
            (Some(v), Some(a)) => Some(v.max(a)),
            (v, a) => v.or(a),
        }
    }

    /// A new connection: the next packets may start a new timeline (handled as a
    /// discontinuity) and video waits for a keyframe again.
    pub(crate) fn reconnected(&mut self) {
        self.awaiting_keyframe = true;
        self.last_arrival = None;
    }

    /// The next packets come from another stream (`switch_stream`): video waits for a
    /// keyframe, and the first media packet is placed right after the newest media queued.
    pub(crate) fn switched(&mut self) {
        self.awaiting_keyframe = true;
        self.splice = true;
        self.last_arrival = None;
    }

    /// Adds a packet that arrived at `now`. `dts` is the stream's own (ms-resolution) time.
    pub(crate) fn push(&mut self, mut packet: Packet, now: Instant) {
        let is_audio = matches!(
            packet.payload,
            Payload::Audio { .. } | Payload::AudioConfig(_)
        );
        if packet.is_config() {
            // Sequence headers carry no time of their own; they apply from here on.
            packet.dts = if is_audio {
                self.newest_audio
            } else {
                self.newest_video
            }
            .or(self.newest_any())
            .unwrap_or(packet.dts + self.offset);
            self.bytes += packet.len();
            if is_audio {
                self.audio.push_back(packet);
            } else {
                self.video.push_back(packet);
            }
            return;
        }
        if !is_audio && self.awaiting_keyframe {
            if !packet.is_keyframe() {
                self.counters.dropped_video += 1;
                return;
            }
            self.awaiting_keyframe = false;
        }
        let mut ts = packet.dts + self.offset;
        if std::mem::take(&mut self.splice) {
            if let Some(newest) = self.newest_any() {
                let shift = newest + self.video_interval.min(self.audio_duration) - ts;
                self.offset += shift;
                ts += shift;
            }
            self.counters.switches += 1;
        } else if let Some(newest) = self.newest_any() {
            if ts < newest - JUMP_BACK_US || ts > newest + JUMP_FORWARD_US {
                let shift = newest + self.video_interval.min(self.audio_duration) - ts;
                self.offset += shift;
                ts += shift;
                self.counters.discontinuities += 1;
                self.last_arrival = None;
            }
        }
        packet.dts = ts;
        // Interarrival jitter (RFC 3550 §6.4.1) on the track that gates the clock.
        let gating = is_audio || self.newest_audio.is_none();
        if gating {
            if let Some((at, prev)) = self.last_arrival {
                // Only lateness needs a cushion: early packets (a burst) count as 0.
                let d = (now.duration_since(at).as_micros() as i64) - (ts - prev);
                self.jitter_us += ((d.max(0) as f64) - self.jitter_us) / 16.0;
            }
            self.last_arrival = Some((now, ts));
        }
        if is_audio {
            if let Some(prev) = self.newest_audio {
                let d = ts - prev;
                if (5_000..=200_000).contains(&d) {
                    self.audio_duration = d;
                }
            }
            self.newest_audio = Some(self.newest_audio.map_or(ts, |n| n.max(ts)));
        } else {
            if let Some(prev) = self.newest_video {
                let d = ts - prev;
                if (5_000..=500_000).contains(&d) {
                    self.video_interval = (self.video_interval * 7 + d) / 8;
                }
            }
            self.newest_video = Some(self.newest_video.map_or(ts, |n| n.max(ts)));
        }
        self.bytes += packet.len();
        if is_audio {
            self.audio.push_back(packet);
        } else {
            self.video.push_back(packet);
        }
        if self.bytes > CAP_BYTES {
            // Far more than any cache setting allows: jump to live now.
            self.catch_up(now, self.cushion_us());
        }
    }

    /// The decoder's reorder delay (how far the newest fed dts runs ahead of the frame that
    /// comes out), so the clock waits for pictures that are decodable.
    pub(crate) fn set_video_lag(&mut self, lag_us: i64) {
        self.video_lag = lag_us.clamp(0, 1_000_000);
    }

    /// The newest media time every active track can play.
    fn horizon(&self) -> Option<i64> {
        let audio = self.newest_audio.map(|a| a + self.audio_duration);
        let video = self
            .newest_video
            .map(|v| v + self.video_interval - self.video_lag);
        match (audio, video) {
            (Some(a), Some(v)) => {
                if a + TRACK_DEAD_US < v {
                    Some(v)
                } else if v + TRACK_DEAD_US < a {
                    Some(a)
                } else {
                    Some(a.min(v))
                }
            }
            (a, v) => a.or(v),
        }
    }

    fn raw_position(&self, now: Instant) -> Option<i64> {
        let (wall, media) = self.anchor?;
        Some(media + now.saturating_duration_since(wall).as_micros() as i64)
    }

    /// The playout position (µs on the stream's timeline), once playback has started.
    pub(crate) fn position(&self, now: Instant) -> Option<i64> {
        let p = self.raw_position(now)?;
        Some(match (self.frozen_since, self.anchor) {
            (Some(_), Some((_, media))) => media,
            _ => p,
        })
    }

    /// Buffered media ahead of the clock, µs.
    pub(crate) fn level_us(&self, now: Instant) -> i64 {
        match (self.newest_any(), self.position(now)) {
            (Some(n), Some(p)) => (n - p).max(0),
            _ => 0,
        }
    }

    /// `true` while the clock is frozen in an underrun.
    pub(crate) fn is_underrun(&self) -> bool {
        self.frozen_since.is_some()
    }

    /// Advances the clock's state machine to `now`: start, freeze, resume, catch up.
    pub(crate) fn update(&mut self, now: Instant) {
        let Some(horizon) = self.horizon() else {
            return;
        };
        if self.anchor.is_none() {
            let start = [self.video.iter(), self.audio.iter()]
                .into_iter()
                .filter_map(|mut q| q.find(|p| !p.is_config()).map(|p| p.dts))
                .min();
            if let Some(start) = start {
                self.anchor = Some((now, start));
            }
            return;
        }
        let cushion = self.cushion_us();
        if let Some(since) = self.frozen_since {
            let (_, at) = self.anchor.unwrap_or((now, horizon));
            self.anchor = Some((now, at));
            if horizon - at > cushion || (cushion == 0 && horizon > at) {
                let frozen = now.duration_since(since);
                if frozen > Duration::from_millis(60) {
                    self.counters.underrun_us += frozen.as_micros() as u64;
                }
                self.frozen_since = None;
            }
        } else if let Some(p) = self.raw_position(now) {
            if p > horizon {
                self.anchor = Some((now, horizon));
                self.frozen_since = Some(now);
                return;
            }
        }
        let Some(pos) = self.position(now) else {
            return;
        };
        let level = self.newest_any().unwrap_or(pos) - pos;
        let max = (f64::from(self.params.max_s) * 1e6) as i64;
        if level > max {
            self.catch_up(now, cushion);
        } else if level > cushion + SOFT_EXCESS_US.max(cushion / 2)
            && self.frozen_since.is_none()
            && self
                .last_soft
                .is_none_or(|t| now.duration_since(t) >= SOFT_EVERY)
        {
            self.last_soft = Some(now);
            self.counters.soft_steps += 1;
            self.anchor = Some((now, pos + SOFT_STEP_US));
            self.drop_audio_before(pos + SOFT_STEP_US);
        }
    }

    /// Jumps the clock to leave `cushion` µs buffered, dropping what it skips.
    fn catch_up(&mut self, now: Instant, cushion: i64) {
        let Some(newest) = self.newest_any() else {
            return;
        };
        let target = newest - cushion;
        if self.position(now).is_some_and(|p| p >= target) {
            return;
        }
        self.counters.catch_ups += 1;
        self.anchor = Some((now, target));
        self.frozen_since = None;
        self.drop_audio_before(target);
        // Video: drop up to the last keyframe at or before the target, keeping the latest
        // sequence header in front of it.
        if let Some(k) = self
            .video
            .iter()
            .rposition(|p| p.is_keyframe() && p.dts <= target)
        {
            self.drop_video_before(k);
        }
    }

    /// Drops the queued video before index `k` (a keyframe), keeping the latest sequence
    /// header in front of it.
    fn drop_video_before(&mut self, k: usize) {
        let mut config = None;
        for p in self.video.drain(..k) {
            self.bytes -= p.len().min(self.bytes);
            if p.is_config() {
                config = Some(p);
            } else {
                self.counters.dropped_video += 1;
            }
        }
        if let Some(c) = config {
            self.bytes += c.len();
            self.video.push_front(c);
        }
    }

    fn drop_audio_before(&mut self, t: i64) {
        let mut config = None;
        while let Some(p) = self.audio.front() {
            if !p.is_config() && p.dts + self.audio_duration > t {
                break;
            }
            let Some(p) = self.audio.pop_front() else {
                break;
            };
            self.bytes -= p.len().min(self.bytes);
            if p.is_config() {
                config = Some(p);
            } else {
                self.counters.dropped_audio += 1;
            }
        }
        if let Some(c) = config {
            self.bytes += c.len();
            self.audio.push_front(c);
        }
    }

    fn take_due(queue: &mut VecDeque<Packet>, bytes: &mut usize, until: i64) -> Vec<Packet> {
        let mut out = Vec::new();
        while let Some(p) = queue.front() {
            if !p.is_config() && p.dts > until {
                break;
            }
            if let Some(p) = queue.pop_front() {
                *bytes -= p.len().min(*bytes);
                out.push(p);
            }
        }
        out
    }

    /// Video packets to decode now: decode runs `lead_us` ahead of the clock.
    pub(crate) fn take_video(&mut self, now: Instant, lead_us: i64) -> Vec<Packet> {
        match self.position(now) {
            Some(p) => Self::take_due(&mut self.video, &mut self.bytes, p + lead_us),
            None => Vec::new(),
        }
    }

    /// Audio packets to decode now.
    pub(crate) fn take_audio(&mut self, now: Instant, lead_us: i64) -> Vec<Packet> {
        match self.position(now) {
            Some(p) => Self::take_due(&mut self.audio, &mut self.bytes, p + lead_us),
            None => Vec::new(),
        }
    }

    /// When the next queued packet falls due, given how far ahead of the clock each track is
    /// taken (for the media thread's wait).
    pub(crate) fn next_due(
        &self,
        now: Instant,
        video_lead_us: i64,
        audio_lead_us: i64,
    ) -> Option<Instant> {
        if self.frozen_since.is_some() {
            return None;
        }
        let pos = self.position(now)?;
        let head = |q: &VecDeque<Packet>, lead: i64| q.front().map(|p| p.dts - lead);
        let next = match (
            head(&self.video, video_lead_us),
            head(&self.audio, audio_lead_us),
        ) {
            (Some(v), Some(a)) => v.min(a),
            (v, a) => v.or(a)?,
        };
        let wait = (next - pos).max(0) as u64;
        Some(now + Duration::from_micros(wait))
    }

    /// Drops all queued video except the last keyframe and what follows it (video paused:
    /// resume must start from the live picture).
    pub(crate) fn keep_last_gop(&mut self) {
        if let Some(k) = self.video.iter().rposition(Packet::is_keyframe) {
            self.drop_video_before(k);
        }
    }

    /// Drops queued audio (audio paused).
    pub(crate) fn drop_audio(&mut self) {
        self.drop_audio_before(i64::MAX - self.audio_duration);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(ms: i64, key: bool) -> Packet {
        Packet {
            dts: ms * 1000,
            payload: Payload::Video {
                keyframe: key,
                cts: 0,
                data: Bytes::from_static(&[0; 100]),
            },
        }
    }
    fn audio(ms: i64) -> Packet {
        Packet {
            dts: ms * 1000,
            payload: Payload::Audio {
                data: Bytes::from_static(&[0; 10]),
                opus: false,
            },
        }
    }

    fn params(min: f32, max: f32) -> CacheParams {
        CacheParams {
            min_s: min,
            max_s: max,
        }
    }

    #[test]
    fn video_waits_for_a_keyframe_then_starts_at_once() {
        let t0 = Instant::now();
        let mut b = JitterBuffer::new(params(1.0, 5.0));
        b.push(video(0, false), t0);
        b.update(t0);
        assert_eq!(b.position(t0), None, "no keyframe yet");
        b.push(video(40, true), t0);
        b.update(t0);
        assert_eq!(b.position(t0), Some(40_000));
        let due = b.take_video(t0, 0);
        assert_eq!(due.len(), 1);
        assert_eq!(b.counters().dropped_video, 1);
    }

    #[test]
    fn clock_freezes_on_underrun_and_resumes_where_it_stopped() {
        let t0 = Instant::now();
        let mut b = JitterBuffer::new(params(1.0, 5.0));
        for i in 0..5 {
            b.push(
                video(i * 40, i == 0),
                t0 + Duration::from_millis(i as u64 * 40),
            );
        }
        b.update(t0);
        // 1 s later with data only up to 200 ms: frozen at the horizon.
        let t1 = t0 + Duration::from_secs(1);
        b.update(t1);
        assert!(b.is_underrun());
        let frozen_at = b.position(t1).unwrap();
        assert_eq!(frozen_at, 200_000);
        assert_eq!(b.position(t1 + Duration::from_millis(500)), Some(frozen_at));
        // Data again: the clock resumes from the frozen point, not from wall time.
        // The late data raised the cushion, so the clock waits until that much is buffered.
        let t2 = t1 + Duration::from_millis(500);
        for ms in (200..=1000).step_by(40) {
            b.push(video(ms, false), t2);
        }
        b.update(t2);
        assert!(!b.is_underrun());
        let p = b.position(t2 + Duration::from_millis(10)).unwrap();
        // (plus at most one gentle catch-up step: 800 ms are buffered now)
        assert!(
            (frozen_at..=frozen_at + 10_000 + SOFT_STEP_US).contains(&p),
            "{p}"
        );
        assert!(b.counters().underrun_us >= 500_000);
    }

    #[test]
    fn a_burst_beyond_max_is_caught_up_to_the_last_keyframe() {
        let t0 = Instant::now();
        let mut b = JitterBuffer::new(params(1.0, 1.0));
        // A 3 s GOP-cache burst: keyframes every second, arriving at once.
        for i in 0..75 {
            b.push(video(i * 40, i % 25 == 0), t0);
            b.push(audio(i * 40), t0);
        }
        b.update(t0);
        b.update(t0);
        let pos = b.position(t0).unwrap();
        assert!(pos >= 2_900_000, "caught up to the live edge: {pos}");
        let due = b.take_video(t0, 0);
        assert!(due[0].is_keyframe(), "decoding restarts on a keyframe");
        assert_eq!(due[0].dts, 2_000_000);
        assert_eq!(b.counters().catch_ups, 1);
        assert!(b.counters().dropped_audio >= 70);
    }

    #[test]
    fn smooth_mode_keeps_a_burst_that_fits() {
        let t0 = Instant::now();
        let mut b = JitterBuffer::new(params(5.0, 5.0));
        for i in 0..75 {
            b.push(video(i * 40, i % 25 == 0), t0);
        }
        b.update(t0);
        b.update(t0);
        assert!(b.position(t0).unwrap() < 100_000);
        assert_eq!(b.counters().catch_ups, 0);
    }

    #[test]
    fn a_restarted_publisher_is_retimed_onto_the_timeline() {
        let t0 = Instant::now();
        let mut b = JitterBuffer::new(params(1.0, 5.0));
        b.push(video(100_000, true), t0);
        b.push(video(100_040, false), t0);
        b.reconnected();
        b.push(video(0, true), t0);
        assert_eq!(b.counters().discontinuities, 1);
        b.update(t0);
        let due = b.take_video(t0 + Duration::from_secs(1), 0);
        let dts: Vec<i64> = due.iter().map(|p| p.dts).collect();
        assert!(dts.windows(2).all(|w| w[0] < w[1]), "{dts:?}");
    }

    #[test]
    fn a_switched_stream_follows_what_is_queued_whatever_its_time() {
        let t0 = Instant::now();
        let mut b = JitterBuffer::new(params(1.0, 5.0));
        for i in 0..10 {
            b.push(video(50_000 + i * 40, i == 0), t0);
            b.push(audio(50_000 + i * 40), t0);
        }
        b.update(t0);
        b.switched();
        // The new stream is only 300 ms ahead: a plain discontinuity would not be seen.
        b.push(video(50_660, false), t0);
        b.push(video(50_700, true), t0);
        b.push(audio(50_690), t0);
        b.push(video(50_740, false), t0);
        assert_eq!(b.counters().switches, 1);
        assert_eq!(b.counters().discontinuities, 0);
        assert_eq!(
            b.counters().dropped_video,
            1,
            "the inter frame before the keyframe"
        );
        let due = b.take_video(t0 + Duration::from_secs(2), 0);
        let dts: Vec<i64> = due.iter().map(|p| p.dts / 1000).collect();
        // The old stream's 10 pictures, then the new one's keyframe one frame interval
        // (40 ms, as long as an audio frame here) after the newest queued media.
        assert_eq!(dts[9], 50_360);
        assert_eq!(&dts[10..], [50_400, 50_440]);
        let audio: Vec<i64> = b
            .take_audio(t0 + Duration::from_secs(2), 0)
            .iter()
            .map(|p| p.dts / 1000)
            .collect();
        assert_eq!(audio.last(), Some(&50_390), "{audio:?}");
    }

    #[test]
    fn jitter_grows_the_cushion_up_to_min() {
        let t0 = Instant::now();
        // Audio arriving in bursts of 10 frames every 200 ms.
        let bursty = |min: f32| {
            let mut b = JitterBuffer::new(params(min, 5.0));
            let mut most = 0;
            for i in 0..200i64 {
                b.push(
                    audio(i * 20),
                    t0 + Duration::from_millis((i / 10 * 200) as u64),
                );
                most = most.max(b.cushion_us());
            }
            most
        };
        assert!(bursty(1.0) > 60_000, "{}", bursty(1.0));
        assert_eq!(bursty(0.05), 50_000);
        let mut steady = JitterBuffer::new(params(1.0, 5.0));
        for i in 0..200i64 {
            steady.push(audio(i * 20), t0 + Duration::from_millis((i * 20) as u64));
        }
        assert_eq!(steady.cushion_us(), 0);
    }

    #[test]
    fn gentle_catch_up_trims_excess_latency() {
        let t0 = Instant::now();
        let mut b = JitterBuffer::new(params(1.0, 5.0));
        for i in 0..25 {
            b.push(audio(i * 20), t0);
        }
        b.update(t0);
        let before = b.level_us(t0);
        // 500 ms buffered beyond a cushion of 0, then live: steps of ~21 ms every 250 ms.
        for k in 1..=100u32 {
            let t = t0 + Duration::from_millis(20) * k;
            b.push(audio((24 + i64::from(k)) * 20), t);
            b.update(t);
        }
        let t = t0 + Duration::from_secs(2);
        assert!(b.counters().soft_steps >= 7, "{:?}", b.counters());
        assert!(b.counters().dropped_audio >= 7);
        assert!(
            b.level_us(t) < before - 140_000,
            "{} -> {}",
            before,
            b.level_us(t)
        );
    }

    #[test]
    fn memory_is_bounded() {
        let t0 = Instant::now();
        let mut b = JitterBuffer::new(params(5.0, 5.0));
        let big = Bytes::from(vec![0u8; 1 << 20]);
        for i in 0..200 {
            b.push(
                Packet {
                    dts: i * 40_000,
                    payload: Payload::Video {
                        keyframe: true,
                        cts: 0,
                        data: big.clone(),
                    },
                },
                t0,
            );
            b.update(t0);
        }
        assert!(b.bytes <= CAP_BYTES + (1 << 20), "{}", b.bytes);
    }
}
