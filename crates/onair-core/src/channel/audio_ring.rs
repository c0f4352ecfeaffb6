//! Lock-free single-producer single-consumer ring of s16 samples (on `rtrb`), written by the
//! real-time audio callback and read by the audio encoder stage.
//!
//! The producer never locks, blocks or allocates: a write is one wait-free copy into the ring,
//! a few atomic counter updates and, if the consumer is parked waiting, one unpark (a futex
//! wake). A write that does not fit is dropped *whole* (so no frame is torn) and counted. When
//! the producer goes away the consumer drains what is left, then reads [`ReadOutcome::Closed`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Shared {
    pushed_frames: AtomicU64,
    pushed_samples: AtomicU64,
    dropped_frames: AtomicU64,
    dropped_samples: AtomicU64,
    read_samples: AtomicU64,
    /// The consumer's thread, set the first time it waits, so the producer can wake it.
    waiter: OnceLock<Thread>,
}

/// Counters of an audio ring. `pushed_samples == read_samples + depth_samples` when quiescent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AudioRingStats {
    /// Writes accepted.
    pub pushed_frames: u64,
    /// Samples accepted.
    pub pushed_samples: u64,
    /// Writes dropped because the ring was full.
    pub dropped_frames: u64,
    /// Samples in the dropped writes.
    pub dropped_samples: u64,
    /// Samples read by the consumer.
    pub read_samples: u64,
    /// Samples queued now.
    pub depth_samples: usize,
}

/// The real-time side: push interleaved samples.
#[derive(Debug)]
pub struct AudioRingProducer {
    ring: rtrb::Producer<i16>,
    shared: Arc<Shared>,
}

/// The encoder side: read samples.
#[derive(Debug)]
pub struct AudioRingConsumer {
    ring: rtrb::Consumer<i16>,
    shared: Arc<Shared>,
}

/// What a read did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The whole buffer was filled.
    Filled,
    /// Not enough samples yet; nothing was read.
    Pending,
    /// The producer is gone and fewer samples than asked were left: this many were read.
    Tail(usize),
    /// The producer is gone and the ring is empty.
    Closed,
}

/// A ring holding up to `capacity_samples` interleaved samples (at least 1).
pub fn audio_ring(capacity_samples: usize) -> (AudioRingProducer, AudioRingConsumer) {
    let (p, c) = rtrb::RingBuffer::new(capacity_samples.max(1));
    let shared = Arc::new(Shared {
        pushed_frames: AtomicU64::new(0),
        pushed_samples: AtomicU64::new(0),
        dropped_frames: AtomicU64::new(0),
        dropped_samples: AtomicU64::new(0),
        read_samples: AtomicU64::new(0),
        waiter: OnceLock::new(),
    });
    (
        AudioRingProducer {
            ring: p,
            shared: Arc::clone(&shared),
        },
        AudioRingConsumer { ring: c, shared },
    )
}

fn stats_of(shared: &Shared, depth_samples: usize) -> AudioRingStats {
    AudioRingStats {
        pushed_frames: shared.pushed_frames.load(Ordering::Acquire),
        pushed_samples: shared.pushed_samples.load(Ordering::Acquire),
        dropped_frames: shared.dropped_frames.load(Ordering::Acquire),
        dropped_samples: shared.dropped_samples.load(Ordering::Acquire),
        read_samples: shared.read_samples.load(Ordering::Acquire),
        depth_samples,
    }
}

impl AudioRingProducer {
    /// Writes all of `samples`, or none of them if they do not fit (counted as dropped).
    /// Real-time safe: no lock, no allocation, no blocking. Returns `true` if written.
    pub fn push(&mut self, samples: &[i16]) -> bool {
        let n = samples.len();
        if n == 0 {
            return true;
        }
        let written = match self.ring.write_chunk_uninit(n) {
            Ok(chunk) => {
                chunk.fill_from_iter(samples.iter().copied());
                self.shared
                    .pushed_samples
                    .fetch_add(n as u64, Ordering::AcqRel);
                self.shared.pushed_frames.fetch_add(1, Ordering::AcqRel);
                true
            }
            Err(_) => {
                self.shared
                    .dropped_samples
                    .fetch_add(n as u64, Ordering::AcqRel);
                self.shared.dropped_frames.fetch_add(1, Ordering::AcqRel);
                false
            }
        };
        if let Some(waiter) = self.shared.waiter.get() {
            waiter.unpark();
        }
        written
    }

    /// Free space in samples.
    pub fn free_samples(&self) -> usize {
        self.ring.slots()
    }

    /// The ring's counters.
    pub fn stats(&self) -> AudioRingStats {
        let depth = self.ring.buffer().capacity() - self.ring.slots();
        stats_of(&self.shared, depth)
    }
}

impl Drop for AudioRingProducer {
    fn drop(&mut self) {
        // Wake a consumer waiting for samples so it sees the end at once.
        if let Some(waiter) = self.shared.waiter.get() {
            waiter.unpark();
        }
    }
}

impl AudioRingConsumer {
    /// Samples queued now.
    pub fn depth_samples(&self) -> usize {
        self.ring.slots()
    }

    /// Fills `out` if enough samples are queued; never blocks.
    pub fn read(&mut self, out: &mut [i16]) -> ReadOutcome {
        let want = out.len();
        let available = self.ring.slots();
        if available >= want && want > 0 {
            self.copy_out(out);
            return ReadOutcome::Filled;
        }
        if !self.ring.is_abandoned() {
            return ReadOutcome::Pending;
        }
        // The producer is gone: re-read the count, it may have written before leaving.
        let available = self.ring.slots();
        if available >= want && want > 0 {
            self.copy_out(out);
            ReadOutcome::Filled
        } else if available > 0 {
            self.copy_out(&mut out[..available]);
            ReadOutcome::Tail(available)
        } else {
            ReadOutcome::Closed
        }
    }

    /// Like [`read`](Self::read), but waits up to `timeout` for enough samples (the producer
    /// wakes this thread on every write).
    pub fn read_timeout(&mut self, out: &mut [i16], timeout: Duration) -> ReadOutcome {
        let deadline = Instant::now() + timeout;
        let _ = self.shared.waiter.set(thread::current());
        let mine = self
            .shared
            .waiter
            .get()
            .is_some_and(|t| t.id() == thread::current().id());
        loop {
            match self.read(out) {
                ReadOutcome::Pending => {}
                done => return done,
            }
            let now = Instant::now();
            if now >= deadline {
                return ReadOutcome::Pending;
            }
            // Another thread registered first: poll in short steps instead of relying on wakes.
            let step = if mine {
                deadline - now
            } else {
                (deadline - now).min(Duration::from_millis(2))
            };
            thread::park_timeout(step);
        }
    }

    fn copy_out(&mut self, out: &mut [i16]) {
        let n = out.len();
        if let Ok(chunk) = self.ring.read_chunk(n) {
            let (a, b) = chunk.as_slices();
            out[..a.len()].copy_from_slice(a);
            out[a.len()..].copy_from_slice(b);
            chunk.commit_all();
            self.shared
                .read_samples
                .fetch_add(n as u64, Ordering::AcqRel);
        }
    }

    /// `true` once the producer is gone (samples may still be queued).
    pub fn is_producer_gone(&self) -> bool {
        self.ring.is_abandoned()
    }

    /// The ring's counters.
    pub fn stats(&self) -> AudioRingStats {
        stats_of(&self.shared, self.ring.slots())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_in_order() {
        let (mut p, mut c) = audio_ring(8);
        assert!(p.push(&[1, 2, 3]));
        let mut out = [0i16; 4];
        assert_eq!(c.read(&mut out), ReadOutcome::Pending);
        assert!(p.push(&[4, 5]));
        assert_eq!(c.read(&mut out), ReadOutcome::Filled);
        assert_eq!(out, [1, 2, 3, 4]);
        assert_eq!(c.depth_samples(), 1);
    }

    #[test]
    fn full_ring_drops_whole_writes_and_counts_them() {
        let (mut p, mut c) = audio_ring(5);
        assert!(p.push(&[1, 2, 3]));
        assert!(!p.push(&[4, 5, 6]));
        assert!(p.push(&[7, 8]));
        let s = p.stats();
        assert_eq!((s.pushed_frames, s.pushed_samples), (2, 5));
        assert_eq!((s.dropped_frames, s.dropped_samples), (1, 3));
        assert_eq!(s.depth_samples, 5);
        let mut out = [0i16; 5];
        assert_eq!(c.read(&mut out), ReadOutcome::Filled);
        assert_eq!(out, [1, 2, 3, 7, 8]);
    }

    #[test]
    fn closed_producer_drains_then_closes() {
        let (mut p, mut c) = audio_ring(16);
        p.push(&[1, 2, 3, 4, 5]);
        drop(p);
        let mut out = [0i16; 4];
        assert_eq!(c.read(&mut out), ReadOutcome::Filled);
        assert_eq!(c.read(&mut out), ReadOutcome::Tail(1));
        assert_eq!(out[0], 5);
        assert_eq!(c.read(&mut out), ReadOutcome::Closed);
        assert!(c.is_producer_gone());
        let s = c.stats();
        assert_eq!(s.read_samples, s.pushed_samples);
    }

    #[test]
    fn read_timeout_is_woken_by_a_write() {
        let (mut p, mut c) = audio_ring(64);
        let reader = thread::spawn(move || {
            let mut out = [0i16; 32];
            let r = c.read_timeout(&mut out, Duration::from_secs(10));
            (r, out[31])
        });
        p.push(&[7; 32]);
        let (r, last) = reader.join().unwrap();
        assert_eq!((r, last), (ReadOutcome::Filled, 7));
    }

    #[test]
    fn read_timeout_times_out() {
        let (_p, mut c) = audio_ring(64);
        let mut out = [0i16; 8];
        assert_eq!(
            c.read_timeout(&mut out, Duration::from_millis(5)),
            ReadOutcome::Pending
        );
    }

    /// 1,000,000 writes of 32 numbered samples from one thread to another: every sample is read
    /// or counted as dropped, reads see whole writes in order, gaps only where writes dropped.
    #[test]
    fn stress_one_million_frames_two_threads() {
        const FRAMES: u64 = 1_000_000;
        const LEN: usize = 32;
        let (mut p, mut c) = audio_ring(LEN * 16);
        let producer = thread::spawn(move || {
            let mut frame = [0i16; LEN];
            for i in 0..FRAMES {
                frame.fill((i % 30_000) as i16);
                p.push(&frame);
            }
        });
        let mut out = [0i16; LEN];
        let mut read_frames = 0u64;
        let mut last: Option<i16> = None;
        loop {
            match c.read_timeout(&mut out, Duration::from_secs(10)) {
                ReadOutcome::Filled => {
                    assert!(out.iter().all(|&s| s == out[0]), "a write was torn");
                    if let Some(l) = last {
                        assert_ne!(out[0], l, "a write was read twice");
                    }
                    last = Some(out[0]);
                    read_frames += 1;
                }
                ReadOutcome::Closed => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        producer.join().unwrap();
        let s = c.stats();
        assert_eq!(s.pushed_frames + s.dropped_frames, FRAMES, "{s:?}");
        assert_eq!(s.read_samples, read_frames * LEN as u64);
        assert_eq!(
            s.read_samples + s.dropped_samples,
            FRAMES * LEN as u64,
            "{s:?}"
        );
        assert_eq!(s.depth_samples, 0);
    }
}
