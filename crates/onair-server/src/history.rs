//! Statistics history: one sample per live stream at every mark of the sampling interval (a
//! minute by default, on the wall clock's minute boundaries), kept in SQLite for
//! `stats_history_days` and served by `Get_LivePushStatHistory` and
//! `Get_LivePlayStatHistory`.
//!
//! A sample holds the averages over the time since the stream's previous sample (or since it
//! was first seen):
//! - push side: fps, kbps (media bytes in) and the publisher's client address;
//! - play side: players at the mark, bandwidth out (kbps) and flux (MB sent).
//!
//! A stream's first period may be short; the part after its last mark is not sampled. So a
//! push of three minutes gives three samples. [`Sampler`] is plain logic taking `now` (wall
//! clock for the marks, a monotonic instant for the averages), unit-tested with a fake clock.

use crate::hub::LiveInfo;
use std::collections::HashMap;
use std::time::Instant;

/// One stream's sample at a mark.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The stream.
    pub channel_id: String,
    /// The mark, Unix seconds.
    pub time: i64,
    /// The publisher's client IP.
    pub client_ip: String,
    /// Video frames a second over the period.
    pub fps: f64,
    /// Media kbit/s received over the period.
    pub kbps: f64,
    /// Players at the mark.
    pub players: i64,
    /// kbit/s sent to players over the period.
    pub bandwidth_kbps: f64,
    /// MB sent to players over the period.
    pub flux_mb: f64,
}

#[derive(Debug, Clone, Copy)]
struct Baseline {
    publisher: u64,
    at: Instant,
    bytes_in: u64,
    frames_in: u64,
    bytes_out: u64,
}

impl Baseline {
    fn of(l: &LiveInfo, now: Instant) -> Self {
        Self {
            publisher: l.publisher.id,
            at: now,
            bytes_in: l.bytes_in,
            frames_in: l.frames_in,
            bytes_out: l.bytes_out,
        }
    }
}

/// Turns the hub's running totals into per-period samples.
#[derive(Debug)]
pub struct Sampler {
    interval_s: i64,
    next_mark: Option<i64>,
    baselines: HashMap<String, Baseline>,
}

impl Sampler {
    /// Samples every `interval_s` seconds (at least 1), on multiples of it.
    pub fn new(interval_s: u64) -> Self {
        Self {
            interval_s: interval_s.max(1) as i64,
            next_mark: None,
            baselines: HashMap::new(),
        }
    }

    /// Called often (every housekeeping tick) with the live streams; returns the samples due
    /// at a mark that `now_unix` reached, stamped with that mark.
    pub fn tick(&mut self, live: &[LiveInfo], now_unix: i64, now: Instant) -> Vec<Sample> {
        let i = self.interval_s;
        let mark = *self.next_mark.get_or_insert((now_unix / i + 1) * i);
        let mut out = Vec::new();
        let due = now_unix >= mark;
        for l in live {
            let base = match self.baselines.get(&l.name) {
                Some(b) if b.publisher == l.publisher.id => *b,
                // New, or a new publish of the name: its period starts now.
                _ => {
                    self.baselines.insert(l.name.clone(), Baseline::of(l, now));
                    continue;
                }
            };
            if !due {
                continue;
            }
            let secs = now.saturating_duration_since(base.at).as_secs_f64();
            if secs < 1.0 {
                continue;
            }
            let out_bytes = l.bytes_out.saturating_sub(base.bytes_out) as f64;
            out.push(Sample {
                channel_id: l.name.clone(),
                time: mark,
                client_ip: l.publisher.client_ip().to_string(),
                fps: l.frames_in.saturating_sub(base.frames_in) as f64 / secs,
                kbps: l.bytes_in.saturating_sub(base.bytes_in) as f64 * 8.0 / secs / 1000.0,
                players: l.players as i64,
                bandwidth_kbps: out_bytes * 8.0 / secs / 1000.0,
                flux_mb: out_bytes / 1e6,
            });
            self.baselines.insert(l.name.clone(), Baseline::of(l, now));
        }
        self.baselines
            .retain(|name, _| live.iter().any(|l| &l.name == name));
        if due {
            self.next_mark = Some((now_unix / i + 1) * i);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::{PublisherInfo, Rates};
    use std::sync::Arc;
    use std::time::Duration;

    fn live(id: u64, bytes_in: u64, frames_in: u64, bytes_out: u64) -> LiveInfo {
        LiveInfo {
            name: "s".into(),
            publisher: PublisherInfo {
                id,
                app: "live".into(),
                client_addr: "10.1.2.3:5000".into(),
                started_unix: 0,
                kick: Arc::new(tokio::sync::Notify::new()),
            },
            rates: Rates::default(),
            players: 2,
            bytes_out,
            dropped_players: 0,
            size: None,
            bytes_in,
            frames_in,
        }
    }

    #[test]
    fn three_minutes_give_three_samples_of_the_period_averages() {
        let mut s = Sampler::new(60);
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        // The push starts at 10:00:20 (Unix 600_020); 75 kB/s in (600 kbps), 25 fps.
        let unix0 = 600_020;
        let mut samples = Vec::new();
        for sec in 0..=180u64 {
            let l = live(1, 75_000 * sec, 25 * sec, 150_000 * sec);
            samples.extend(s.tick(&[l], unix0 + sec as i64, at(sec)));
        }
        let times: Vec<i64> = samples.iter().map(|x| x.time).collect();
        assert_eq!(times, vec![600_060, 600_120, 600_180]);
        for x in &samples {
            assert!((x.kbps - 600.0).abs() < 1e-6, "{x:?}");
            assert!((x.fps - 25.0).abs() < 1e-6, "{x:?}");
            assert!((x.bandwidth_kbps - 1200.0).abs() < 1e-6, "{x:?}");
            assert_eq!((x.players, x.client_ip.as_str()), (2, "10.1.2.3"));
        }
        assert!((samples[0].flux_mb - 6.0).abs() < 1e-9, "40 s of 150 kB/s");
        assert!((samples[1].flux_mb - 9.0).abs() < 1e-9, "60 s of 150 kB/s");
    }

    #[test]
    fn a_new_publish_starts_a_new_period_and_gone_streams_are_dropped() {
        let mut s = Sampler::new(10);
        let t0 = Instant::now();
        assert!(s.tick(&[live(1, 0, 0, 0)], 1_000, t0).is_empty());
        // Republished (another publisher id) just before the mark: no sample from old totals.
        let r = s.tick(&[live(2, 5, 1, 0)], 1_010, t0 + Duration::from_secs(10));
        assert!(r.is_empty(), "{r:?}");
        assert!(s.tick(&[], 1_011, t0 + Duration::from_secs(11)).is_empty());
        assert!(s.baselines.is_empty());
    }
}
