//! `ObserverSlot`: the C observer table and its `user_data`, swapped by `*_set_observer` while
//! engine threads call through it.
//!
//! The promise to C callers: once `onair_*_set_observer` returns, the previous table is not
//! called again, so the app may free what its `user_data` points to. `set` therefore waits for
//! callbacks in flight on other threads. It does not wait for callbacks on its own thread
//! (`set_observer` called from inside a callback) nor for threads that are themselves inside
//! `set`, so two callbacks that each swap the observer never wait for each other.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

/// The app's `user_data`: an opaque pointer onair hands back, never dereferences.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut std::ffi::c_void);

// SAFETY: onair never dereferences the pointer; the C API documents that callbacks (and so
// the app's use of `user_data`) run on engine threads, which the app accepts by setting it.
unsafe impl Send for UserData {}
// SAFETY: as above; shared references only copy the pointer value.
unsafe impl Sync for UserData {}

#[derive(Debug)]
struct State<T> {
    current: Option<(T, UserData)>,
    /// One entry per callback running now.
    in_flight: Vec<ThreadId>,
    /// Threads inside `set`.
    swapping: Vec<ThreadId>,
}

/// A swappable observer table (see the module docs).
#[derive(Debug)]
pub(crate) struct ObserverSlot<T> {
    state: Mutex<State<T>>,
    idle: Condvar,
}

impl<T: Copy> Default for ObserverSlot<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                current: None,
                in_flight: Vec::new(),
                swapping: Vec::new(),
            }),
            idle: Condvar::new(),
        }
    }
}

impl<T: Copy> ObserverSlot<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` with the current table, if any; `set` waits for it to return.
    pub(crate) fn with(&self, f: impl FnOnce(&T, UserData)) {
        let me = std::thread::current().id();
        let current = {
            let mut s = self.lock();
            let Some(current) = s.current else { return };
            s.in_flight.push(me);
            current
        };
        // Leaves the in-flight list even if `f` panics (a Rust bug; C cannot unwind here).
        struct Leave<'a, T: Copy>(&'a ObserverSlot<T>, ThreadId);
        impl<T: Copy> Drop for Leave<'_, T> {
            fn drop(&mut self) {
                let mut s = self.0.lock();
                if let Some(i) = s.in_flight.iter().position(|t| *t == self.1) {
                    s.in_flight.swap_remove(i);
                }
                drop(s);
                self.0.idle.notify_all();
            }
        }
        let _leave = Leave(self, me);
        f(&current.0, current.1);
    }

    /// Replaces the table (`None`: no callbacks) and waits until no callback of the old one
    /// runs on another thread (see the module docs for the exceptions).
    pub(crate) fn set(&self, table: Option<(T, UserData)>) {
        let me = std::thread::current().id();
        let mut s = self.lock();
        s.current = table;
        s.swapping.push(me);
        self.idle.notify_all();
        while s
            .in_flight
            .iter()
            .any(|t| *t != me && !s.swapping.contains(t))
        {
            s = self.idle.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        if let Some(i) = s.swapping.iter().position(|t| *t == me) {
            s.swapping.swap_remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc, Barrier};

    fn ud() -> UserData {
        UserData(std::ptr::null_mut())
    }

    #[test]
    fn set_waits_for_a_callback_in_flight_on_another_thread() {
        let slot = Arc::new(ObserverSlot::<u32>::default());
        slot.set(Some((1, ud())));
        let (entered_tx, entered) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let finished = Arc::new(AtomicUsize::new(0));
        let t = {
            let (slot, finished) = (Arc::clone(&slot), Arc::clone(&finished));
            std::thread::spawn(move || {
                slot.with(|v, _| {
                    assert_eq!(*v, 1);
                    entered_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    finished.store(1, Ordering::SeqCst);
                })
            })
        };
        entered.recv().unwrap();
        let setter = {
            let slot = Arc::clone(&slot);
            std::thread::spawn(move || slot.set(None))
        };
        // The setter cannot finish while the callback runs; let the callback end.
        release.send(()).unwrap();
        setter.join().unwrap();
        assert_eq!(
            finished.load(Ordering::SeqCst),
            1,
            "set returned after the callback"
        );
        t.join().unwrap();
        let mut called = false;
        slot.with(|_, _| called = true);
        assert!(!called, "no table after set(None)");
    }

    #[test]
    fn set_from_inside_a_callback_does_not_wait_for_itself() {
        let slot = ObserverSlot::<u32>::default();
        slot.set(Some((1, ud())));
        slot.with(|_, _| slot.set(Some((2, ud()))));
        let mut seen = 0;
        slot.with(|v, _| seen = *v);
        assert_eq!(seen, 2);
    }

    #[test]
    fn two_callbacks_swapping_at_once_do_not_deadlock() {
        let slot = Arc::new(ObserverSlot::<u32>::default());
        slot.set(Some((1, ud())));
        let both_in = Arc::new(Barrier::new(2));
        let threads: Vec<_> = (0..2)
            .map(|i| {
                let (slot, both_in) = (Arc::clone(&slot), Arc::clone(&both_in));
                std::thread::spawn(move || {
                    slot.with(|_, _| {
                        both_in.wait();
                        slot.set(Some((10 + i, ud())));
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
}
