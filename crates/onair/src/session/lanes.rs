//! Events from a session's threads to its callback thread, on two lanes.
//!
//! - Lossless: errors, warnings, status changes, first-frame events, snapshots, SEI. Never
//!   dropped; bounded in practice because each is sent once per occurrence or per episode
//!   (an encoder failing every frame warns once), never per frame without an app request.
//! - Lossy: statistics and volume, where only the newest matters. A full lane (the app's
//!   callback is slower than the reports) drops the new report and counts it.
//!
//! The callback thread takes lossless events first, delivers each through the session's
//! [`CallbackGate`], and ends when the session stops, whoever still holds a sender.

use super::CallbackGate;
use crossbeam_channel::{Receiver, Sender};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Which lane an event travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    Lossless,
    Lossy,
}

/// An event that knows its lane.
pub(crate) trait Event {
    fn lane(&self) -> Lane;
}

/// Reports waiting on the lossy lane at most.
const LOSSY_CAPACITY: usize = 16;

/// The sending side, cloned into every thread of the session.
#[derive(Debug)]
pub(crate) struct EventLanes<E> {
    lossless: Sender<E>,
    lossy: Sender<E>,
    dropped: Arc<AtomicU64>,
}

impl<E> Clone for EventLanes<E> {
    fn clone(&self) -> Self {
        Self {
            lossless: self.lossless.clone(),
            lossy: self.lossy.clone(),
            dropped: Arc::clone(&self.dropped),
        }
    }
}

impl<E> EventLanes<E> {
    /// Sends `event` on `lane`. Never blocks.
    pub(crate) fn send(&self, lane: Lane, event: E) {
        match lane {
            // Unbounded: fails only when the callback thread is gone (the session stopped).
            Lane::Lossless => {
                let _ = self.lossless.send(event);
            }
            Lane::Lossy => {
                if self.lossy.try_send(event).is_err() {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Sends `event` on its own lane. Never blocks.
    pub(crate) fn emit(&self, event: E)
    where
        E: Event,
    {
        self.send(event.lane(), event);
    }

    /// Lossy reports dropped so far because the app's callbacks fell behind.
    #[cfg(test)]
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The receiving side: runs on the session's callback thread.
#[derive(Debug)]
pub(crate) struct CallbackThread<E> {
    lossless: Receiver<E>,
    lossy: Receiver<E>,
    stop: Receiver<()>,
}

/// Makes the lanes, the callback side, and the sender whose drop ends the callback thread.
pub(crate) fn lanes<E>() -> (EventLanes<E>, CallbackThread<E>, Sender<()>) {
    let (lossless, lossless_rx) = crossbeam_channel::unbounded();
    let (lossy, lossy_rx) = crossbeam_channel::bounded(LOSSY_CAPACITY);
    let (stop_tx, stop_rx) = crossbeam_channel::bounded(0);
    (
        EventLanes {
            lossless,
            lossy,
            dropped: Arc::new(AtomicU64::new(0)),
        },
        CallbackThread {
            lossless: lossless_rx,
            lossy: lossy_rx,
            stop: stop_rx,
        },
        stop_tx,
    )
}

impl<E> CallbackThread<E> {
    /// Delivers events through `gate` until the stop sender is dropped (or the gate closes).
    pub(crate) fn run(self, gate: &CallbackGate, mut deliver: impl FnMut(E)) {
        loop {
            // Lossless first: an error is never overtaken by statistics.
            let event = match self.lossless.try_recv() {
                Ok(e) => e,
                Err(_) => crossbeam_channel::select! {
                    recv(self.lossless) -> e => match e { Ok(e) => e, Err(_) => return },
                    recv(self.lossy) -> e => match e { Ok(e) => e, Err(_) => return },
                    recv(self.stop) -> _ => return,
                },
            };
            if gate.deliver(|| deliver(event)).is_none() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossless_events_are_never_dropped_and_come_first() {
        let (tx, rx, stop) = lanes::<u32>();
        for i in 0..10_000 {
            tx.send(Lane::Lossless, i);
        }
        for i in 0..100 {
            tx.send(Lane::Lossy, 100_000 + i);
        }
        assert_eq!(tx.dropped(), 100 - LOSSY_CAPACITY as u64);
        let gate = CallbackGate::default();
        let mut got = Vec::new();
        drop(stop);
        // The stop sender is gone, yet queued lossless events are drained first.
        rx.run(&gate, |e| got.push(e));
        assert!(got.len() >= 10_000);
        assert_eq!(&got[..10_000], &(0..10_000).collect::<Vec<_>>()[..]);
    }

    #[test]
    fn a_closed_gate_ends_the_callback_thread() {
        let (tx, rx, _stop) = lanes::<u32>();
        tx.send(Lane::Lossless, 1);
        let gate = CallbackGate::default();
        gate.close();
        let mut got = Vec::new();
        rx.run(&gate, |e| got.push(e));
        assert!(got.is_empty());
    }
}
