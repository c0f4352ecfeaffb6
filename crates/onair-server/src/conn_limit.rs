//! Connection caps over the RTMP and HTTP listeners together: at most `max_total` open
//! connections, and at most `max_per_ip` from one address. A connection over either cap is
//! refused at accept: HTTP gets a `503` written without waiting (what fits the socket buffer),
//! RTMP is closed. Each refusal is counted; `Get_LiveStat` reports the open and refused counts.
//! A [`ConnPermit`] gives its place back when the connection's task ends (drop).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// The caps and what they counted.
#[derive(Debug)]
pub struct ConnLimits {
    max_total: usize,
    max_per_ip: usize,
    open: Mutex<Open>,
    refused: AtomicU64,
}

/// A place under the caps, given back on drop.
#[derive(Debug)]
pub struct ConnPermit {
    limits: Arc<ConnLimits>,
    ip: IpAddr,
}

impl ConnLimits {
    /// Caps of `max_total` connections, `max_per_ip` from one address (each at least 1).
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total: max_total.max(1),
            max_per_ip: max_per_ip.max(1),
            open: Mutex::new(Open::default()),
            refused: AtomicU64::new(0),
        })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, Open> {
        crate::hub::lock(&self.open)
    }

    /// A place for a connection from `ip`, or `None` (counted) when a cap is reached.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Option<ConnPermit> {
        let mut open = self.open();
        let from_ip = open.by_ip.get(&ip).copied().unwrap_or(0);
        if open.total >= self.max_total || from_ip >= self.max_per_ip {
            drop(open);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        open.total += 1;
        *open.by_ip.entry(ip).or_insert(0) += 1;
        Some(ConnPermit {
            limits: self.clone(),
            ip,
        })
    }

    /// Connections open now.
    pub fn open_now(&self) -> usize {
        self.open().total
    }

    /// Connections refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let mut open = self.limits.open();
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.by_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, last))
    }

    #[test]
    fn caps_refuse_count_and_give_places_back() {
        let l = ConnLimits::new(3, 2);
        let a1 = l.try_acquire(ip(1)).unwrap();
        let _a2 = l.try_acquire(ip(1)).unwrap();
        assert!(l.try_acquire(ip(1)).is_none(), "per-IP cap");
        let _b1 = l.try_acquire(ip(2)).unwrap();
        assert!(l.try_acquire(ip(3)).is_none(), "total cap");
        assert_eq!((l.open_now(), l.refused()), (3, 2));
        drop(a1);
        assert!(l.try_acquire(ip(3)).is_some(), "a place came back");
        assert_eq!(l.open_now(), 2, "the permit of ip 3 was dropped at once");
    }
}
