//! Media timestamps in a typed unit. `Timestamp` counts microseconds on the stream's timeline
//! (capture clock for the pusher, FLV/RTMP millisecond timestamps for the player), so that
//! milliseconds, sample counts and `Duration`s are never mixed up by hand.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// A point on a media timeline, in microseconds from the stream's origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The stream's origin.
    pub const ZERO: Timestamp = Timestamp(0);

    /// From microseconds.
    pub const fn from_micros(us: u64) -> Self {
        Self(us)
    }

    /// From milliseconds (FLV and RTMP timestamps).
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms.saturating_mul(1000))
    }

    /// The time of sample number `samples` at `sample_rate` Hz (exact up to 1 µs, no drift).
    pub const fn from_samples(samples: u64, sample_rate: u32) -> Self {
        if sample_rate == 0 {
            return Self(0);
        }
        Self((samples as u128 * 1_000_000 / sample_rate as u128) as u64)
    }

    /// Microseconds since the origin.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Whole milliseconds since the origin (rounded down).
    pub const fn as_millis(self) -> u64 {
        self.0 / 1000
    }

    /// The 32-bit millisecond timestamp FLV tags carry (wraps after ~49.7 days, as FLV does).
    pub const fn as_flv_millis(self) -> u32 {
        (self.as_millis() & 0xFFFF_FFFF) as u32
    }

    /// Time since the origin as a `Duration`.
    pub const fn as_duration(self) -> Duration {
        Duration::from_micros(self.0)
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Timestamp) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl From<Duration> for Timestamp {
    fn from(d: Duration) -> Self {
        Self(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Duration) -> Timestamp {
        self.0
            .checked_add(u64::try_from(rhs.as_micros()).unwrap_or(u64::MAX))
            .map_or(Timestamp(u64::MAX), Timestamp)
    }
}

impl Sub<Timestamp> for Timestamp {
    type Output = Duration;
    /// Saturating difference (never panics).
    fn sub(self, rhs: Timestamp) -> Duration {
        self.saturating_since(rhs)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let t = Timestamp::from_millis(1500);
        assert_eq!(t.as_micros(), 1_500_000);
        assert_eq!(t.as_millis(), 1500);
        assert_eq!(t.to_string(), "1.500000s");
        assert_eq!(
            Timestamp::from(Duration::from_millis(20)),
            Timestamp::from_millis(20)
        );
        assert_eq!(t + Duration::from_millis(20), Timestamp::from_millis(1520));
        assert_eq!(Timestamp::from_millis(10) - t, Duration::ZERO);
        assert_eq!(t - Timestamp::from_millis(500), Duration::from_secs(1));
    }

    #[test]
    fn sample_positions_do_not_drift() {
        // 1024-sample AAC frames at 44.1 kHz: frame n starts at exactly n*1024/44100 s.
        let t = Timestamp::from_samples(1024 * 44_100, 44_100);
        assert_eq!(t.as_micros(), 1024 * 1_000_000);
        assert_eq!(Timestamp::from_samples(1, 0), Timestamp::ZERO);
    }

    #[test]
    fn flv_millis_wrap() {
        let t = Timestamp::from_millis(u32::MAX as u64 + 5);
        assert_eq!(t.as_flv_millis(), 4);
        assert_eq!(Timestamp::from_millis(u64::MAX).as_micros(), u64::MAX);
    }
}
