//! The callback gate: the guarantee that no callback arrives after `stop` returns.
//!
//! A callback runs only while the gate is open (teardown callbacks, such as
//! `on_gpu_context_destroyed`, also while a stop is in progress). Stopping closes the gate and
//! waits until the callbacks already running on other threads have returned. A stop called
//! from inside a callback does not wait for itself, and two threads stopping at once (each
//! from inside a callback) do not wait for each other.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    Stopping,
    Closed,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// Threads inside a callback now (a thread appears once per nesting level).
    active: Vec<ThreadId>,
    /// Threads inside a stop now.
    stoppers: Vec<ThreadId>,
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct CallbackGate {
    state: Mutex<State>,
    changed: Condvar,
}

impl Default for CallbackGate {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                phase: Phase::Open,
                active: Vec::new(),
                stoppers: Vec::new(),
            }),
            changed: Condvar::new(),
        }
    }
}

/// Removes the thread's entry when the callback returns (or unwinds).
struct Active<'a>(&'a CallbackGate);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        let me = std::thread::current().id();
        let mut s = self.0.lock();
        if let Some(i) = s.active.iter().position(|t| *t == me) {
            s.active.swap_remove(i);
        }
        drop(s);
        self.0.changed.notify_all();
    }
}

impl CallbackGate {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn enter(&self, teardown: bool) -> Option<Active<'_>> {
        let mut s = self.lock();
        let allowed = match s.phase {
            Phase::Open => true,
            Phase::Stopping => teardown,
            Phase::Closed => false,
        };
        if !allowed {
            return None;
        }
        s.active.push(std::thread::current().id());
        Some(Active(self))
    }

    /// Runs callback `f` unless a stop has begun; `None` when it did not run.
    pub(crate) fn deliver<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        let _active = self.enter(false)?;
        Some(f())
    }

    /// Runs a teardown callback: allowed until the stop has finished.
    pub(crate) fn deliver_teardown<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        let _active = self.enter(true)?;
        Some(f())
    }

    /// `true` once a stop has begun.
    #[cfg(test)]
    pub(crate) fn is_closing(&self) -> bool {
        self.lock().phase != Phase::Open
    }

    /// Begins a stop: no new callback starts (but teardown ones), and this returns once the
    /// callbacks running on other threads, that are not themselves stopping, have returned.
    pub(crate) fn close(&self) {
        let me = std::thread::current().id();
        let mut s = self.lock();
        if s.phase == Phase::Open {
            s.phase = Phase::Stopping;
        }
        s.stoppers.push(me);
        // Other stoppers may now stop waiting for this thread's callback.
        self.changed.notify_all();
        while s.active.iter().any(|t| *t != me && !s.stoppers.contains(t)) {
            s = self.changed.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Ends a stop begun by [`close`](Self::close): with `seal`, nothing at all runs any more
    /// (the session's threads are joined); without, this thread merely leaves (a second stop
    /// that found the first one under way).
    pub(crate) fn finish(&self, seal: bool) {
        let me = std::thread::current().id();
        let mut s = self.lock();
        if seal {
            s.phase = Phase::Closed;
        }
        if let Some(i) = s.stoppers.iter().position(|t| *t == me) {
            s.stoppers.swap_remove(i);
        }
        drop(s);
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    #[test]
    fn nothing_runs_after_close_and_teardown_only_until_finish() {
        let g = CallbackGate::default();
        assert_eq!(g.deliver(|| 1), Some(1));
        g.close();
        assert_eq!(g.deliver(|| 2), None);
        assert_eq!(g.deliver_teardown(|| 3), Some(3));
        g.finish(true);
        assert_eq!(g.deliver_teardown(|| 4), None);
        assert!(g.is_closing());
    }

    #[test]
    fn close_waits_for_a_callback_running_on_another_thread() {
        let g = Arc::new(CallbackGate::default());
        let (entered_tx, entered) = mpsc::channel();
        let (release_tx, release) = mpsc::channel::<()>();
        let done = Arc::new(AtomicBool::new(false));
        let (g2, d2) = (Arc::clone(&g), Arc::clone(&done));
        let t = std::thread::spawn(move || {
            g2.deliver(|| {
                entered_tx.send(()).unwrap();
                release.recv().unwrap();
                d2.store(true, Ordering::SeqCst);
            });
        });
        entered.recv().unwrap();
        let (g3, d3) = (Arc::clone(&g), Arc::clone(&done));
        let closer = std::thread::spawn(move || {
            g3.close();
            d3.load(Ordering::SeqCst)
        });
        // The closer is blocked until the callback returns.
        std::thread::sleep(Duration::from_millis(50));
        assert!(!closer.is_finished());
        release_tx.send(()).unwrap();
        assert!(
            closer.join().unwrap(),
            "close returned before the callback did"
        );
        t.join().unwrap();
    }

    #[test]
    fn close_from_inside_a_callback_does_not_wait_for_itself() {
        let g = CallbackGate::default();
        let r = g.deliver(|| {
            g.close();
            g.finish(true);
            7
        });
        assert_eq!(r, Some(7));
        assert_eq!(g.deliver(|| 8), None);
    }

    #[test]
    fn two_callbacks_stopping_at_once_do_not_deadlock() {
        let g = Arc::new(CallbackGate::default());
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (g, b) = (Arc::clone(&g), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    g.deliver(|| {
                        b.wait();
                        g.close();
                        g.finish(false);
                    });
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(g.deliver(|| ()), None);
    }
}
