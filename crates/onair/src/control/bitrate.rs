//! Bitrate adaptation on the push uplink.
//!
//! The send queue says when it is congested (queued media past its threshold, inter frames
//! dropped). From those observations:
//! - A congestion episode begins with the first congested observation after a clear period:
//!   one WARNING_NETWORK_BUSY and one step down (to 3/4, not below the floor).
//! - Observations within [`HOLD`] of that step belong to the same episode: no further step,
//!   however often the queue is sampled. Congestion that is still there after [`HOLD`] steps
//!   down once more (a bottleneck the first step did not clear), without a new warning.
//! - After [`CLEAR`] without congestion (since the last congestion and the last change) the
//!   bitrate steps back up by a tenth, toward the target, one step per [`CLEAR`].
//!
//! Without a floor below the target (`min_bitrate` = `bitrate`) only the warning is given.

use std::time::{Duration, Instant};

/// Congestion within this long of a step down belongs to the same episode.
pub(crate) const HOLD: Duration = Duration::from_secs(3);
/// Clear this long before a step up (and before a new episode warns again).
pub(crate) const CLEAR: Duration = Duration::from_secs(4);

/// What to do after an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Decision {
    /// Give WARNING_NETWORK_BUSY.
    pub(crate) warn_busy: bool,
    /// Set the encoder to this many kbit/s.
    pub(crate) set_kbps: Option<u32>,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct BitrateAdapter {
    target: u32,
    floor: u32,
    current: u32,
    in_episode: bool,
    last_congested: Option<Instant>,
    last_change: Option<Instant>,
}

impl BitrateAdapter {
    /// Adapts between `floor` and `target` kbit/s, starting at the target.
    pub(crate) fn new(target: u32, floor: u32) -> Self {
        Self {
            target,
            floor: floor.min(target),
            current: target,
            in_episode: false,
            last_congested: None,
            last_change: None,
        }
    }

    /// The bitrate the encoder should run at now.
    #[cfg(test)]
    pub(crate) fn current(&self) -> u32 {
        self.current
    }

    /// The app set a new target (and floor) while pushing: start from it.
    pub(crate) fn retarget(&mut self, target: u32, floor: u32) {
        self.target = target;
        self.floor = floor.min(target);
        self.current = target;
    }

    /// One observation of the send queue at `now`.
    pub(crate) fn observe(&mut self, now: Instant, congested: bool) -> Decision {
        let mut d = Decision::default();
        if congested {
            let since_change = self.last_change.map(|t| now.duration_since(t));
            if !self.in_episode {
                self.in_episode = true;
                d.warn_busy = true;
                d.set_kbps = self.step_down(now);
            } else if since_change.is_none_or(|s| s >= HOLD) {
                d.set_kbps = self.step_down(now);
            }
            self.last_congested = Some(now);
            return d;
        }
        let quiet = |t: Option<Instant>| t.is_none_or(|t| now.duration_since(t) >= CLEAR);
        if quiet(self.last_congested) {
            self.in_episode = false;
            if self.current < self.target && quiet(self.last_change) {
                self.current = self.target.min(self.current + self.current / 10 + 1);
                self.last_change = Some(now);
                d.set_kbps = Some(self.current);
            }
        }
        d
    }

    /// When an observation could next change something without congestion (a step up or
    /// the end of an episode), if ever.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if !self.in_episode && self.current >= self.target {
            return None;
        }
        let after = |t: Option<Instant>| t.map(|t| t + CLEAR);
        match (after(self.last_congested), after(self.last_change)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    fn step_down(&mut self, now: Instant) -> Option<u32> {
        let next = self.floor.max(self.current * 3 / 4);
        if next >= self.current {
            return None;
        }
        self.current = next;
        self.last_change = Some(now);
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn one_step_and_one_warning_per_episode_however_often_sampled() {
        let t0 = Instant::now();
        let mut a = BitrateAdapter::new(2000, 500);
        let d = a.observe(t0, true);
        assert_eq!(
            d,
            Decision {
                warn_busy: true,
                set_kbps: Some(1500)
            }
        );
        // Sampled every 10 ms for 2.9 s, still congested: same episode, nothing more.
        for i in 1..290 {
            assert_eq!(
                a.observe(ms(t0, i * 10), true),
                Decision::default(),
                "tick {i}"
            );
        }
        assert_eq!(a.current(), 1500);
    }

    #[test]
    fn congestion_that_outlasts_the_hold_steps_again_down_to_the_floor() {
        let t0 = Instant::now();
        let mut a = BitrateAdapter::new(2000, 800);
        a.observe(t0, true);
        let d = a.observe(ms(t0, 3000), true);
        assert_eq!(
            d,
            Decision {
                warn_busy: false,
                set_kbps: Some(1125)
            }
        );
        let d = a.observe(ms(t0, 6000), true);
        assert_eq!(d.set_kbps, Some(843));
        let d = a.observe(ms(t0, 9000), true);
        assert_eq!(d.set_kbps, Some(800));
        assert_eq!(
            a.observe(ms(t0, 12000), true).set_kbps,
            None,
            "at the floor"
        );
    }

    #[test]
    fn steps_up_after_a_clear_period_one_step_per_period() {
        let t0 = Instant::now();
        let mut a = BitrateAdapter::new(1000, 500);
        a.observe(t0, true); // 750
        assert_eq!(a.observe(ms(t0, 3999), false).set_kbps, None);
        assert_eq!(a.next_deadline(), Some(ms(t0, 4000)));
        assert_eq!(a.observe(ms(t0, 4000), false).set_kbps, Some(826));
        assert_eq!(a.observe(ms(t0, 5000), false).set_kbps, None);
        assert_eq!(a.observe(ms(t0, 8000), false).set_kbps, Some(909));
        assert_eq!(a.observe(ms(t0, 12000), false).set_kbps, Some(1000));
        assert_eq!(a.observe(ms(t0, 16000), false).set_kbps, None);
        assert_eq!(a.next_deadline(), None);
        // A new episode after the clear period warns again.
        assert!(a.observe(ms(t0, 17000), true).warn_busy);
    }

    #[test]
    fn without_a_floor_only_the_warning_is_given() {
        let t0 = Instant::now();
        let mut a = BitrateAdapter::new(1000, 1000);
        assert_eq!(
            a.observe(t0, true),
            Decision {
                warn_busy: true,
                set_kbps: None
            }
        );
        assert_eq!(a.current(), 1000);
    }
}
