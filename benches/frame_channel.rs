//! Cross-thread handoff of a 1080p I420 frame through onair's latest-wins video channel, beside
//! a bare crossbeam bounded channel in the same run (issue: workspace/core).
//!
//! Criterion measures the ping-pong round trip; a second pass measures one-way latency p50/p99
//! from 20,000 handoffs and checks on every frame that the receiver sees the sender's pixel
//! buffer (same pointer: no pixel copy). Results go to `benches/RESULTS.md`.

use bytes::Bytes;
use criterion::{criterion_group, Criterion};
use crossbeam_channel::bounded;
use onair_core::{PixelFormat, VideoFrame};
use onair_testkit::results::{quantile, write_section};
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

fn frame_1080p() -> VideoFrame {
    let len = VideoFrame::packed_len(PixelFormat::I420, 1920, 1080).expect("valid size");
    VideoFrame::new(PixelFormat::I420, 1920, 1080, Bytes::from(vec![16u8; len])).expect("valid")
}

/// A receiving thread plus the send function of one channel kind, driven in ping-pong.
trait Handoff {
    fn name(&self) -> &'static str;
    /// Sends `frame` stamped `t0` and waits for the receiver's reply (latency, pointer).
    fn round_trip(&mut self, frame: VideoFrame, t0: Instant) -> (Duration, usize);
}

type Reply = crossbeam_channel::Receiver<(Duration, usize)>;

struct Onair {
    tx: onair_core::channel::LatestSender<(VideoFrame, Instant)>,
    replies: Reply,
}

struct Bare {
    tx: crossbeam_channel::Sender<(VideoFrame, Instant)>,
    replies: Reply,
}

fn echo_thread(next: impl Fn() -> Option<(VideoFrame, Instant)> + Send + 'static) -> Reply {
    let (reply_tx, reply_rx) = bounded(1);
    thread::spawn(move || {
        while let Some((frame, t0)) = next() {
            let latency = t0.elapsed();
            let ptr = frame.data().as_ptr() as usize;
            if reply_tx.send((latency, ptr)).is_err() {
                break;
            }
        }
    });
    reply_rx
}

impl Onair {
    fn new() -> Self {
        let (tx, rx) = onair_core::channel::latest_channel(4);
        let replies = echo_thread(move || rx.recv());
        Self { tx, replies }
    }
}

impl Bare {
    fn new() -> Self {
        let (tx, rx) = bounded::<(VideoFrame, Instant)>(4);
        let replies = echo_thread(move || rx.recv().ok());
        Self { tx, replies }
    }
}

impl Handoff for Onair {
    fn name(&self) -> &'static str {
        "onair latest-wins channel"
    }
    fn round_trip(&mut self, frame: VideoFrame, t0: Instant) -> (Duration, usize) {
        self.tx.send((frame, t0)).expect("receiver alive");
        self.replies.recv().expect("reply")
    }
}

impl Handoff for Bare {
    fn name(&self) -> &'static str {
        "bare crossbeam bounded"
    }
    fn round_trip(&mut self, frame: VideoFrame, t0: Instant) -> (Duration, usize) {
        self.tx.send((frame, t0)).expect("receiver alive");
        self.replies.recv().expect("reply")
    }
}

fn bench_handoff(c: &mut Criterion) {
    let frame = frame_1080p();
    let mut group = c.benchmark_group("handoff_1080p_i420");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    let mut kinds: Vec<Box<dyn Handoff>> = vec![Box::new(Onair::new()), Box::new(Bare::new())];
    for kind in kinds.iter_mut() {
        group.bench_function(kind.name(), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(kind.round_trip(frame.clone(), Instant::now()));
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

struct Percentiles {
    p50_ns: f64,
    p99_ns: f64,
    copies: usize,
}

fn measure(kind: &mut dyn Handoff, frame: &VideoFrame, n: usize) -> Percentiles {
    let origin = frame.data().as_ptr() as usize;
    let mut samples = Vec::with_capacity(n);
    let mut copies = 0;
    for _ in 0..n {
        let (latency, ptr) = kind.round_trip(frame.clone(), Instant::now());
        if ptr != origin {
            copies += 1;
        }
        samples.push(latency.as_secs_f64() * 1e9);
    }
    samples.sort_by(f64::total_cmp);
    Percentiles {
        p50_ns: quantile(&samples, 0.5),
        p99_ns: quantile(&samples, 0.99),
        copies,
    }
}

fn write_percentiles() {
    const N: usize = 20_000;
    let frame = frame_1080p();
    let onair = measure(&mut Onair::new(), &frame, N);
    let bare = measure(&mut Bare::new(), &frame, N);
    assert_eq!(onair.copies, 0, "the video channel copied pixels");
    let body = format!(
        "### Video channel handoff (1080p I420 frame, one-way, {N} handoffs)\n\n\
         | channel | p50 ns | p99 ns | pixel copies |\n|---|---|---|---|\n\
         | onair latest-wins | {:.0} | {:.0} | {} |\n\
         | bare crossbeam bounded | {:.0} | {:.0} | {} |\n\n\
         Ratio onair / bare: p50 {:.2}x, p99 {:.2}x. Measured by `cargo bench --bench frame_channel`.",
        onair.p50_ns,
        onair.p99_ns,
        onair.copies,
        bare.p50_ns,
        bare.p99_ns,
        bare.copies,
        onair.p50_ns / bare.p50_ns.max(1e-9),
        onair.p99_ns / bare.p99_ns.max(1e-9),
    );
    println!("{body}");
    match write_section("frame_channel", &body) {
        Ok(path) => println!("wrote {}", path.display()),
        Err(e) => eprintln!("could not write the results file: {e}"),
    }
}

criterion_group!(benches, bench_handoff);

fn main() {
    benches();
    // Only a real `cargo bench` run rewrites the results file, not `cargo test --benches`.
    if onair_testkit::results::is_bench_run() {
        write_percentiles();
    }
    Criterion::default().configure_from_args().final_summary();
}
