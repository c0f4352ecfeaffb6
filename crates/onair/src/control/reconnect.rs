//! Reconnect decisions (`maxNumberOfReconnection`, `secondsBetweenReconnection`).
//!
//! - A failed connect, or a connection lost before media flowed on it, counts one failure; the
//!   counter resets only once media has flowed (a server that accepts and then drops the
//!   connection at once still ends in ERROR_DISCONNECTED).
//! - After `attempts` failures in a row the session gives up.
//! - Attempts are `interval` apart, measured from the failure.
//! - A signed URL whose `txTime` has passed is not retried: the server would refuse it.
//! - A failure the transport marks as not retryable (refused, bad URL, TLS) ends at once.

use crate::pusher::ReconnectPolicy;
use std::time::Instant;

/// What the session does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Wait until then, then connect again.
    RetryAt(Instant),
    /// Stop trying: reconnects ran out.
    GiveUp,
    /// Stop trying: the URL's `txTime` expired.
    Expired,
    /// Stop trying: the failure is final.
    Fatal,
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The transport would try again (a timeout, a reset) rather than a refusal.
    pub(crate) retryable: bool,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct Reconnect {
    policy: ReconnectPolicy,
    /// The URL's `txTime` (Unix seconds), if it has one.
    expiry_unix: Option<u64>,
    failures: u32,
    media_flowed: bool,
}

impl Reconnect {
    pub(crate) fn new(policy: ReconnectPolicy, url: &str) -> Self {
        Self {
            policy,
            expiry_unix: tx_time(url),
            failures: 0,
            media_flowed: false,
        }
    }

    /// A connection is up.
    pub(crate) fn on_connected(&mut self) {
        self.media_flowed = false;
    }

    /// Media has flowed on the current connection: the failure counter starts again.
    pub(crate) fn on_media(&mut self) {
        if !self.media_flowed {
            self.media_flowed = true;
            self.failures = 0;
        }
    }

    /// Consecutive failures so far.
    #[cfg(test)]
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// The connect failed or the connection ended at `now` (`unix_now`, wall clock, for the
    /// expiry); what next.
    pub(crate) fn on_failure(&mut self, failure: Failure, now: Instant, unix_now: u64) -> Next {
        if !failure.retryable {
            return Next::Fatal;
        }
        if !self.media_flowed {
            self.failures += 1;
        }
        self.media_flowed = false;
        if self.expiry_unix.is_some_and(|e| unix_now >= e) {
            return Next::Expired;
        }
        if self.failures > self.policy.attempts {
            return Next::GiveUp;
        }
        Next::RetryAt(now + self.policy.interval)
    }
}

/// The `txTime` query parameter (upper- or lower-case hex Unix seconds) of a signed URL.
fn tx_time(url: &str) -> Option<u64> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("txTime"))
        .and_then(|(_, v)| u64::from_str_radix(v, 16).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const RETRY: Failure = Failure { retryable: true };

    fn policy(attempts: u32) -> ReconnectPolicy {
        ReconnectPolicy {
            attempts,
            interval: Duration::from_secs(3),
        }
    }

    #[test]
    fn attempts_are_spaced_and_run_out() {
        let t0 = Instant::now();
        let mut r = Reconnect::new(policy(2), "rtmp://h/live/s");
        assert_eq!(
            r.on_failure(RETRY, t0, 0),
            Next::RetryAt(t0 + Duration::from_secs(3))
        );
        let t1 = t0 + Duration::from_secs(3);
        assert_eq!(
            r.on_failure(RETRY, t1, 0),
            Next::RetryAt(t1 + Duration::from_secs(3))
        );
        assert_eq!(r.on_failure(RETRY, t1, 0), Next::GiveUp);
        assert_eq!(r.failures(), 3);
    }

    #[test]
    fn the_counter_resets_only_after_media_flowed() {
        let t0 = Instant::now();
        let mut r = Reconnect::new(policy(1), "rtmp://h/live/s");
        // Connected, then dropped before any media: still a failure.
        r.on_connected();
        assert!(matches!(r.on_failure(RETRY, t0, 0), Next::RetryAt(_)));
        r.on_connected();
        assert_eq!(r.on_failure(RETRY, t0, 0), Next::GiveUp);

        let mut r = Reconnect::new(policy(1), "rtmp://h/live/s");
        for _ in 0..10 {
            r.on_connected();
            r.on_media();
            // Media flowed: this loss does not count.
            assert!(matches!(r.on_failure(RETRY, t0, 0), Next::RetryAt(_)));
            assert_eq!(r.failures(), 0);
        }
    }

    #[test]
    fn an_expired_tx_time_is_not_retried() {
        let t0 = Instant::now();
        // 0x5C271099 = 1546064025.
        let url = "rtmp://h/live/s?txSecret=ab&txTime=5C271099";
        let mut r = Reconnect::new(policy(3), url);
        assert!(matches!(
            r.on_failure(RETRY, t0, 1_546_064_024),
            Next::RetryAt(_)
        ));
        assert_eq!(r.on_failure(RETRY, t0, 1_546_064_025), Next::Expired);
        assert_eq!(tx_time("rtmp://h/l/s?a=1&txtime=ff"), Some(255));
        assert_eq!(tx_time("rtmp://h/l/s?txTime=zz"), None);
    }

    #[test]
    fn a_final_failure_ends_at_once() {
        let mut r = Reconnect::new(policy(3), "rtmp://h/live/s");
        assert_eq!(
            r.on_failure(Failure { retryable: false }, Instant::now(), 0),
            Next::Fatal
        );
    }
}
