//! The stop signal: a flag that async tasks await (tokio `Notify`) and threads sleep on (a
//! condition variable), so a stop wakes every waiter at once instead of being polled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Instant;

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct StopSignal {
    flag: AtomicBool,
    notify: tokio::sync::Notify,
    lock: Mutex<()>,
    cv: Condvar,
}

impl StopSignal {
    /// Raises the flag and wakes every waiter.
    pub(crate) fn stop(&self) {
        self.flag.store(true, Ordering::Release);
        self.notify.notify_waiters();
        let _g = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.cv.notify_all();
    }

    /// `true` once stopped.
    pub(crate) fn is_stopped(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Resolves once stopped.
    pub(crate) async fn stopped(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Registered before the check, so a stop in between is not missed.
            notified.as_mut().enable();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }

    /// Blocks the thread until `due` or a stop; `false` when stopped.
    pub(crate) fn sleep_until(&self, due: Instant) -> bool {
        let mut g = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if self.is_stopped() {
                return false;
            }
            let now = Instant::now();
            if now >= due {
                return true;
            }
            g = self
                .cv
                .wait_timeout(g, due - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_stop_wakes_a_sleeping_thread_and_an_awaiting_task() {
        let s = Arc::new(StopSignal::default());
        let s2 = Arc::clone(&s);
        let sleeper =
            std::thread::spawn(move || s2.sleep_until(Instant::now() + Duration::from_secs(60)));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let s3 = Arc::clone(&s);
        let task = rt.spawn(async move { s3.stopped().await });
        s.stop();
        assert!(
            !sleeper.join().unwrap(),
            "woken by the stop, not the deadline"
        );
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("woken")
                .unwrap()
        });
        assert!(!s.sleep_until(Instant::now() + Duration::from_secs(60)));
    }

    #[test]
    fn sleep_until_returns_true_at_the_deadline() {
        let s = StopSignal::default();
        assert!(s.sleep_until(Instant::now() + Duration::from_millis(5)));
    }
}
