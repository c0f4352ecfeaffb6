//! Stall detection on the player, from the times pictures (or audio frames) were presented.
//!
//! - A gap longer than `loading_after` since the last presented frame: loading
//!   (`on_video_loading` / `on_audio_loading`), once per stall.
//! - For video, a gap longer than [`VIDEO_BLOCK_AFTER`]: WARNING_VIDEO_BLOCK, once per stall.
//! - The next presented frame ends the stall: playing again (`first_play = false`); the very
//!   first frame is `first_play = true`. The stall's length adds to the block time.
//! - A pause is not a stall: [`StallWatch::reset`] forgets the last frame.

use std::time::{Duration, Instant};

/// No picture for this long: WARNING_VIDEO_BLOCK (spec).
pub(crate) const VIDEO_BLOCK_AFTER: Duration = Duration::from_millis(800);

/// What the watch saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StallEvent {
    /// Playing: the first frame (`true`) or the first after a stall.
    Playing(bool),
    /// Waiting for data.
    Loading,
    /// No picture for this long (video only).
    Blocked(Duration),
}

/// See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct StallWatch {
    loading_after: Duration,
    block_after: Option<Duration>,
    last: Option<Instant>,
    first_done: bool,
    loading: bool,
    blocked: bool,
    block_total: Duration,
}

impl StallWatch {
    /// A watch for video (loading after `loading_after`, blocked after 800 ms).
    pub(crate) fn video(loading_after: Duration) -> Self {
        Self::new(loading_after, Some(VIDEO_BLOCK_AFTER))
    }

    /// A watch for audio (loading after `loading_after`, no block warning).
    pub(crate) fn audio(loading_after: Duration) -> Self {
        Self::new(loading_after, None)
    }

    fn new(loading_after: Duration, block_after: Option<Duration>) -> Self {
        Self {
            loading_after,
            block_after,
            last: None,
            first_done: false,
            loading: false,
            blocked: false,
            block_total: Duration::ZERO,
        }
    }

    /// The loading threshold follows the stream's frame interval.
    pub(crate) fn set_loading_after(&mut self, d: Duration) {
        self.loading_after = d;
    }

    /// Total time spent stalled (gaps longer than the loading threshold).
    pub(crate) fn block_total(&self) -> Duration {
        self.block_total
    }

    /// A frame was presented at `now`.
    pub(crate) fn on_frame(&mut self, now: Instant) -> Option<StallEvent> {
        if let Some(last) = self.last {
            let gap = now.saturating_duration_since(last);
            if gap > self.loading_after {
                self.block_total += gap;
            }
        }
        self.last = Some(now);
        self.blocked = false;
        if !self.first_done {
            self.first_done = true;
            self.loading = false;
            return Some(StallEvent::Playing(true));
        }
        if std::mem::take(&mut self.loading) {
            return Some(StallEvent::Playing(false));
        }
        None
    }

    /// Checks for a stall at `now` (nothing while no frame was presented yet).
    pub(crate) fn check(&mut self, now: Instant) -> Vec<StallEvent> {
        let mut out = Vec::new();
        let Some(last) = self.last else {
            return out;
        };
        let gap = now.saturating_duration_since(last);
        if !self.loading && gap > self.loading_after {
            self.loading = true;
            out.push(StallEvent::Loading);
        }
        if let Some(block) = self.block_after {
            if !self.blocked && gap > block {
                self.blocked = true;
                out.push(StallEvent::Blocked(gap));
            }
        }
        out
    }

    /// When [`check`](Self::check) could next report something, if ever.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let last = self.last?;
        let loading = (!self.loading).then(|| last + self.loading_after);
        let block = self.block_after.filter(|_| !self.blocked).map(|b| last + b);
        match (loading, block) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|t| t + Duration::from_millis(1))
    }

    /// Paused or resumed: the gap until the next frame is not a stall.
    pub(crate) fn reset(&mut self) {
        self.last = None;
        self.loading = false;
        self.blocked = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn a_stall_is_loading_then_blocked_then_playing_once_each() {
        let t0 = Instant::now();
        let mut w = StallWatch::video(Duration::from_millis(300));
        assert_eq!(w.check(t0), vec![]);
        assert_eq!(w.on_frame(t0), Some(StallEvent::Playing(true)));
        assert_eq!(w.on_frame(at(t0, 40)), None);
        assert_eq!(w.check(at(t0, 300)), vec![]);
        assert_eq!(w.next_deadline(), Some(at(t0, 341)));
        assert_eq!(w.check(at(t0, 341)), vec![StallEvent::Loading]);
        assert_eq!(w.check(at(t0, 500)), vec![]);
        assert_eq!(
            w.check(at(t0, 900)),
            vec![StallEvent::Blocked(Duration::from_millis(860))]
        );
        assert_eq!(w.check(at(t0, 2000)), vec![]);
        assert_eq!(w.next_deadline(), None);
        assert_eq!(w.on_frame(at(t0, 2040)), Some(StallEvent::Playing(false)));
        assert_eq!(w.block_total(), Duration::from_millis(2000));
        assert_eq!(w.on_frame(at(t0, 2080)), None);
    }

    #[test]
    fn a_pause_is_not_a_stall() {
        let t0 = Instant::now();
        let mut w = StallWatch::audio(Duration::from_millis(300));
        w.on_frame(t0);
        w.reset();
        assert_eq!(w.check(at(t0, 5000)), vec![]);
        assert_eq!(w.on_frame(at(t0, 5000)), None);
        assert_eq!(w.block_total(), Duration::ZERO);
    }
}
