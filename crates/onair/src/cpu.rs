//! CPU use for statistics: this process's and the whole system's, from /proc on Linux (0
//! elsewhere), as percentages over the interval between two samples.

use std::time::Instant;

/// One reading.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuSample {
    at: Instant,
    process_ticks: u64,
    system_busy: u64,
    system_total: u64,
}

fn process_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may contain spaces) in parentheses.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

fn system_ticks() -> (u64, u64) {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?;
            let v: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            let total: u64 = v.iter().sum();
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            Some((total - idle, total))
        })
        .unwrap_or((0, 0))
}

impl CpuSample {
    /// Reads the counters now.
    pub(crate) fn now() -> Self {
        let (busy, total) = system_ticks();
        Self {
            at: Instant::now(),
            process_ticks: process_ticks(),
            system_busy: busy,
            system_total: total,
        }
    }

    /// (app %, system %) between `self` and the later `later`; app is a share of the whole
    /// machine (all cores), like the system figure.
    pub(crate) fn usage_until(&self, later: &CpuSample) -> (f32, f32) {
        const TICKS_PER_SEC: f64 = 100.0;
        let wall = later.at.duration_since(self.at).as_secs_f64();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let app = if wall > 0.0 {
            (later.process_ticks.saturating_sub(self.process_ticks) as f64 / TICKS_PER_SEC)
                / (wall * cores)
                * 100.0
        } else {
            0.0
        };
        let total = later.system_total.saturating_sub(self.system_total);
        let sys = if total > 0 {
            later.system_busy.saturating_sub(self.system_busy) as f64 / total as f64 * 100.0
        } else {
            0.0
        };
        (app.clamp(0.0, 100.0) as f32, sys.clamp(0.0, 100.0) as f32)
    }
}
