//! Bounded latest-wins channel on crossbeam-channel, used for raw video between stages.
//!
//! `send` never blocks: when the channel is full the oldest queued item is evicted (and counted
//! as dropped) to make room. When every sender is gone the receiver drains what is queued and
//! then reports the end; when the receiver is gone, `send` hands the item back and anything
//! still queued is counted as dropped.

use crate::frame::VideoFrame;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
struct Shared {
    sent: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    receiver_alive: AtomicBool,
}

/// Counters of a channel. `sent == delivered + dropped + depth` whenever no send is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelStats {
    /// Items accepted by `send`.
    pub sent: u64,
    /// Items handed to the receiver.
    pub delivered: u64,
    /// Items evicted to make room, or still queued when the receiver went away.
    pub dropped: u64,
    /// Items queued now.
    pub depth: usize,
}

/// What `send` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// Queued without dropping anything.
    Queued,
    /// Queued after evicting the oldest item (counted in `dropped`).
    ReplacedOldest,
}

/// The receiver is gone; the item is handed back, not lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the receiving stage has stopped")]
pub struct ReceiverGone<T>(pub T);

/// Sending half of a latest-wins channel.
#[derive(Debug)]
pub struct LatestSender<T> {
    tx: Sender<T>,
    evict: Receiver<T>,
    shared: Arc<Shared>,
}

/// Receiving half of a latest-wins channel.
#[derive(Debug)]
pub struct LatestReceiver<T> {
    rx: Receiver<T>,
    shared: Arc<Shared>,
}

/// Latest-wins channel of raw video frames.
pub type VideoSender = LatestSender<VideoFrame>;
/// Receiving end of [`VideoSender`].
pub type VideoReceiver = LatestReceiver<VideoFrame>;

/// A latest-wins channel holding at most `capacity` items (at least 1).
pub fn latest_channel<T>(capacity: usize) -> (LatestSender<T>, LatestReceiver<T>) {
    let (tx, rx) = crossbeam_channel::bounded(capacity.max(1));
    let shared = Arc::new(Shared {
        sent: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        receiver_alive: AtomicBool::new(true),
    });
    (
        LatestSender {
            tx,
            evict: rx.clone(),
            shared: Arc::clone(&shared),
        },
        LatestReceiver { rx, shared },
    )
}

/// A latest-wins channel of video frames holding at most `capacity` frames.
pub fn video_channel(capacity: usize) -> (VideoSender, VideoReceiver) {
    latest_channel(capacity)
}

fn stats_of<T>(shared: &Shared, rx: &Receiver<T>) -> ChannelStats {
    ChannelStats {
        sent: shared.sent.load(Ordering::Acquire),
        delivered: shared.delivered.load(Ordering::Acquire),
        dropped: shared.dropped.load(Ordering::Acquire),
        depth: rx.len(),
    }
}

fn drain_as_dropped<T>(shared: &Shared, rx: &Receiver<T>) {
    while rx.try_recv().is_ok() {
        shared.dropped.fetch_add(1, Ordering::AcqRel);
    }
}

impl<T> LatestSender<T> {
    /// Queues `item`, evicting the oldest queued item if the channel is full. Never blocks.
    pub fn send(&self, item: T) -> Result<SendOutcome, ReceiverGone<T>> {
        if !self.shared.receiver_alive.load(Ordering::Acquire) {
            return Err(ReceiverGone(item));
        }
        self.shared.sent.fetch_add(1, Ordering::AcqRel);
        let mut item = item;
        let mut outcome = SendOutcome::Queued;
        loop {
            match self.tx.try_send(item) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => {
                    item = back;
                    // The receiver may have taken one meanwhile; then the retry succeeds.
                    if self.evict.try_recv().is_ok() {
                        self.shared.dropped.fetch_add(1, Ordering::AcqRel);
                        outcome = SendOutcome::ReplacedOldest;
                    }
                }
                // We hold a receiver ourselves, so the channel cannot disconnect under us.
                Err(TrySendError::Disconnected(back)) => {
                    self.shared.sent.fetch_sub(1, Ordering::AcqRel);
                    return Err(ReceiverGone(back));
                }
            }
        }
        // The receiver may have gone while we queued: whatever it left is counted as dropped.
        if !self.shared.receiver_alive.load(Ordering::Acquire) {
            drain_as_dropped(&self.shared, &self.evict);
        }
        Ok(outcome)
    }

    /// `false` once the receiver has been dropped.
    pub fn is_receiver_alive(&self) -> bool {
        self.shared.receiver_alive.load(Ordering::Acquire)
    }

    /// The channel's counters.
    pub fn stats(&self) -> ChannelStats {
        stats_of(&self.shared, &self.evict)
    }
}

impl<T> Clone for LatestSender<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            evict: self.evict.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> LatestReceiver<T> {
    fn delivered(&self, item: T) -> T {
        self.shared.delivered.fetch_add(1, Ordering::AcqRel);
        item
    }

    /// The next item, waiting for one; `None` once every sender is gone and the queue is empty.
    pub fn recv(&self) -> Option<T> {
        self.rx.recv().ok().map(|item| self.delivered(item))
    }

    /// The next item, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.rx
            .recv_timeout(timeout)
            .map(|item| self.delivered(item))
    }

    /// The next item if one is queued.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.rx.try_recv().map(|item| self.delivered(item))
    }

    /// Blocking iterator that ends when every sender is gone.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.recv())
    }

    /// The channel's counters.
    pub fn stats(&self) -> ChannelStats {
        stats_of(&self.shared, &self.rx)
    }
}

impl<T> Drop for LatestReceiver<T> {
    fn drop(&mut self) {
        self.shared.receiver_alive.store(false, Ordering::Release);
        drain_as_dropped(&self.shared, &self.rx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn in_order_when_not_full() {
        let (tx, rx) = latest_channel(4);
        for i in 0..4 {
            assert_eq!(tx.send(i).unwrap(), SendOutcome::Queued);
        }
        assert_eq!(
            rx.stats(),
            ChannelStats {
                sent: 4,
                delivered: 0,
                dropped: 0,
                depth: 4
            }
        );
        assert_eq!(
            (0..4).map(|_| rx.try_recv().unwrap()).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn full_channel_drops_the_oldest() {
        let (tx, rx) = latest_channel(2);
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        assert_eq!(tx.send(3).unwrap(), SendOutcome::ReplacedOldest);
        assert_eq!(tx.send(4).unwrap(), SendOutcome::ReplacedOldest);
        assert_eq!(rx.try_recv().unwrap(), 3);
        assert_eq!(rx.try_recv().unwrap(), 4);
        let s = rx.stats();
        assert_eq!(
            s,
            ChannelStats {
                sent: 4,
                delivered: 2,
                dropped: 2,
                depth: 0
            }
        );
    }

    #[test]
    fn closed_sender_ends_the_receiver_after_draining() {
        let (tx, rx) = latest_channel(3);
        tx.send("a").unwrap();
        tx.send("b").unwrap();
        let tx2 = tx.clone();
        drop(tx);
        tx2.send("c").unwrap();
        drop(tx2);
        assert_eq!(rx.iter().collect::<Vec<_>>(), vec!["a", "b", "c"]);
        assert_eq!(rx.recv(), None);
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(1)),
            Err(RecvTimeoutError::Disconnected)
        );
    }

    #[test]
    fn closed_receiver_hands_items_back_and_counts_the_queue() {
        let (tx, rx) = latest_channel(3);
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        drop(rx);
        assert!(!tx.is_receiver_alive());
        assert_eq!(tx.send(3), Err(ReceiverGone(3)));
        assert_eq!(
            tx.stats(),
            ChannelStats {
                sent: 2,
                delivered: 0,
                dropped: 2,
                depth: 0
            }
        );
    }

    #[test]
    fn recv_timeout_on_empty() {
        let (_tx, rx) = latest_channel::<u8>(1);
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(5)),
            Err(RecvTimeoutError::Timeout)
        );
    }

    #[test]
    fn zero_capacity_means_one() {
        let (tx, rx) = latest_channel(0);
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        assert_eq!(rx.recv(), Some(2));
    }

    /// Two threads move 1,000,000 items through a small channel; every item is delivered or
    /// counted as dropped, and what is delivered arrives in order.
    #[test]
    fn stress_one_million_frames_two_threads() {
        const N: u64 = 1_000_000;
        let (tx, rx) = latest_channel::<u64>(8);
        let producer = thread::spawn(move || {
            for i in 0..N {
                tx.send(i).unwrap();
            }
            tx.stats()
        });
        let mut delivered = 0u64;
        let mut last = None;
        while let Some(i) = rx.recv() {
            assert!(
                last.is_none_or(|l| i > l),
                "out of order: {i} after {last:?}"
            );
            last = Some(i);
            delivered += 1;
        }
        let sender_view = producer.join().unwrap();
        let s = rx.stats();
        assert_eq!(s.sent, N);
        assert_eq!(s.delivered, delivered);
        assert_eq!(s.delivered + s.dropped, s.sent, "{s:?}");
        assert_eq!(s.depth, 0);
        assert_eq!(
            last,
            Some(N - 1),
            "the newest item is never the one dropped"
        );
        assert_eq!(sender_view.sent, N);
    }

    /// The receiver leaving while a sender is busy loses nothing uncounted.
    #[test]
    fn stress_receiver_leaves_mid_stream() {
        let (tx, rx) = latest_channel::<u64>(4);
        let producer = thread::spawn(move || {
            let mut handed_back = 0u64;
            for i in 0..200_000 {
                if tx.send(i).is_err() {
                    handed_back += 1;
                }
            }
            (tx, handed_back)
        });
        let mut delivered = 0u64;
        for _ in 0..1000 {
            // The producer keeps its sender until joined, so an empty queue is a timeout here.
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(_) => delivered += 1,
                Err(_) => break,
            }
        }
        drop(rx);
        let (tx, handed_back) = producer.join().unwrap();
        // Both sides are done: the counters are final.
        let s = tx.stats();
        assert_eq!(s.delivered, delivered);
        assert_eq!(s.sent + handed_back, 200_000);
        assert_eq!(s.delivered + s.dropped + s.depth as u64, s.sent, "{s:?}");
        assert_eq!(s.depth, 0);
    }
}
