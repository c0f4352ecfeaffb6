//! The management API's per-client rate limit (`--api-rate N`, requests per second): a token
//! bucket per client IP holding up to one second's worth (`N` tokens), refilled continuously.
//! A request without a token is answered 1202, the seeds' "invalid request/request frequency
//! exceeds limit". Time is an input (`now`), so the refill is unit-tested without waiting.
//! Memory is bounded: past [`MAX_CLIENTS`] buckets, full ones (clients idle for a second or
//! more) are forgotten, and if none are, the oldest-touched half goes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Buckets kept before the idle ones are swept.
pub const MAX_CLIENTS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Per-client token buckets.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    /// `per_second` requests a second per client (at least 1), bursts up to that many.
    pub fn new(per_second: u32) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `client` at `now`; `false` when it has none left.
    pub fn allow(&self, client: IpAddr, now: Instant) -> bool {
        let mut buckets = crate::hub::lock(&self.buckets);
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
            self.sweep(&mut buckets, now);
        }
        let full = self.per_second;
        let b = buckets.entry(client).or_insert(Bucket {
            tokens: full,
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * self.per_second;
        b.tokens = (b.tokens + refill).min(full);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn sweep(&self, buckets: &mut HashMap<IpAddr, Bucket>, now: Instant) {
        let full = self.per_second;
        let per_second = self.per_second;
        buckets.retain(|_, b| {
            b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_second < full
        });
        if buckets.len() >= MAX_CLIENTS {
            let mut ages: Vec<Instant> = buckets.values().map(|b| b.at).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            buckets.retain(|_, b| b.at > cut);
        }
    }

    /// Clients tracked now.
    pub fn clients(&self) -> usize {
        crate::hub::lock(&self.buckets).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn a_burst_of_n_then_one_per_interval() {
        let l = RateLimiter::new(5);
        let t0 = Instant::now();
        assert_eq!((0..8).filter(|_| l.allow(A, t0)).count(), 5);
        assert!(l.allow(B, t0), "another client has its own bucket");
        assert!(!l.allow(A, t0 + Duration::from_millis(100)));
        assert!(
            l.allow(A, t0 + Duration::from_millis(200)),
            "one token per 200 ms"
        );
        assert!(!l.allow(A, t0 + Duration::from_millis(250)));
        // A long pause refills to the burst, not beyond.
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..8).filter(|_| l.allow(A, later)).count(), 5);
    }

    #[test]
    fn many_clients_stay_bounded() {
        let l = RateLimiter::new(2);
        let t0 = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 * 3) {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(i));
            assert!(l.allow(ip, t0 + Duration::from_micros(u64::from(i))));
        }
        assert!(l.clients() <= MAX_CLIENTS, "{} buckets", l.clients());
    }
}
