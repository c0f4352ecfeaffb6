//! Soak: 720p30 push -> `onair serve` -> play, both legs through the impairment proxy (40 +/- 20
//! ms of jitter and a 1.5 s stall every minute), for 10 minutes (`ONAIR_SOAK_SECONDS` to
//! change it). Reports the RSS growth after warm-up of this process (pusher + player) and of
//! the server (goal < 2 MiB each), the frames lost outside stalls (goal 0: every stamped
//! counter the pusher sent is rendered, except those captured within a stall or the
//! catch-up after it), and callbacks after stop (goal 0). Written to `benches/RESULTS.md`.

use onair::*;
use onair_codec::read_stamp;
use onair_testkit::impair::ImpairProxy;
use onair_testkit::peers::onair_serve;
use onair_testkit::results::{is_bench_run, write_section};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const STALL_EVERY: Duration = Duration::from_secs(60);
const STALL_LEN: Duration = Duration::from_millis(1500);
/// Frames captured this long before a stall or after its end may be lost to it (the stall
/// itself, then the catch-up to the live edge).
const STALL_MARGIN_BEFORE: Duration = Duration::from_secs(1);
const STALL_MARGIN_AFTER: Duration = Duration::from_secs(4);
/// RSS is compared from this point on (encoders, decoders and buffers have settled).
const WARM_UP: Duration = Duration::from_secs(60);

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Watch {
    counters: Mutex<BTreeSet<u32>>,
    /// (counter, capture wall ms) of the first stamped picture.
    first: Mutex<Option<(u32, u64)>>,
    stopped: AtomicBool,
    after_stop: AtomicUsize,
    errors: Mutex<Vec<String>>,
}

impl Watch {
    fn seen(&self) {
        if self.stopped.load(Ordering::Acquire) {
            self.after_stop.fetch_add(1, Ordering::AcqRel);
        }
    }
}

impl V2TXLivePlayerObserver for Watch {
    fn on_render_video_frame(&self, _: &V2TXLivePlayer, frame: &VideoFrame) {
        self.seen();
        if let Some(s) = read_stamp(frame) {
            self.counters.lock().unwrap().insert(s.counter);
            self.first
                .lock()
                .unwrap()
                .get_or_insert((s.counter, s.capture_ms));
        }
    }
    fn on_statistics_update(&self, _: &V2TXLivePlayer, _: &PlayerStatistics) {
        self.seen();
    }
    fn on_error(&self, _: &V2TXLivePlayer, code: V2TXLiveCode, m: &str, _: &str) {
        self.seen();
        self.errors
            .lock()
            .unwrap()
            .push(format!("{} {m}", code.name()));
    }
}

#[derive(Default)]
struct PushWatch {
    stopped: AtomicBool,
    after_stop: AtomicUsize,
}

impl V2TXLivePusherObserver for PushWatch {
    fn on_statistics_update(&self, _: &PusherStatistics) {
        if self.stopped.load(Ordering::Acquire) {
            self.after_stop.fetch_add(1, Ordering::AcqRel);
        }
    }
    fn on_push_status_update(&self, _: PushStatus, _: &str, _: &str) {
        if self.stopped.load(Ordering::Acquire) {
            self.after_stop.fetch_add(1, Ordering::AcqRel);
        }
    }
}

fn main() {
    if !is_bench_run() {
        println!("soak: a 10-minute run; start it with `cargo bench --bench soak`");
        return;
    }
    let seconds: u64 = std::env::var("ONAIR_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let dir = tempfile::tempdir().expect("temp dir");
    let serve = onair_serve(
        std::path::Path::new(env!("CARGO_BIN_EXE_onair")),
        dir.path(),
        &["--record", "none", "--screenshot-seconds", "0"],
    );
    let up = ImpairProxy::start(serve.rtmp);
    let down = ImpairProxy::start(serve.rtmp);
    for p in [&up, &down] {
        p.set_latency(40, 20);
    }
    let stall_count = (seconds / STALL_EVERY.as_secs()).saturating_sub(0) as u32;

    let pusher = V2TXLivePusher::new();
    let push_watch = Arc::new(PushWatch::default());
    pusher.set_observer(Some(push_watch.clone()));
    pusher
        .set_video_quality(
            VideoEncoderParam::new(
                VideoResolution::R1280x720,
                ResolutionMode::Landscape,
                30,
                1800,
                1000,
            )
            .expect("720p30"),
        )
        .expect("quality");
    pusher
        .start_push(&format!("rtmp://127.0.0.1:{}/live/soak", up.port))
        .expect("push");
    std::thread::sleep(Duration::from_secs(2));
    let watch = Arc::new(Watch::default());
    let player = V2TXLivePlayer::new();
    player.set_observer(Some(watch.clone()));
    player
        .enable_observe_video_frame(true, PixelFormat::I420, BufferType::ByteBuffer)
        .expect("observe");
    player
        .start_play(&format!("rtmp://127.0.0.1:{}/live/soak", down.port))
        .expect("play");

    let start = Instant::now();
    let start_wall = wall_ms();
    // Stalls on the downlink, one a minute; their wall-clock windows are kept.
    let mut stalls: Vec<(u64, u64)> = Vec::new();
    let (mut rss_self, mut rss_server) = (Vec::new(), Vec::new());
    let me = std::process::id();
    let server_pid = serve.child.0.id();
    let mut next_stall = start + STALL_EVERY;
    let mut stalls_done = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        let now = Instant::now();
        if stalls_done < stall_count && now >= next_stall {
            let at = wall_ms();
            down.set_stalled(true);
            std::thread::sleep(STALL_LEN);
            down.set_stalled(false);
            stalls.push((at, wall_ms()));
            stalls_done += 1;
            next_stall += STALL_EVERY;
        }
        if start.elapsed() >= WARM_UP {
            rss_self.push(rss_kib(me));
            rss_server.push(rss_kib(server_pid));
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let end_wall = wall_ms();
    player.stop_play().expect("stop play");
    watch.stopped.store(true, Ordering::Release);
    pusher.stop_push().expect("stop push");
    push_watch.stopped.store(true, Ordering::Release);
    std::thread::sleep(Duration::from_secs(1));

    // Frames lost outside stalls: counters between the first and the last rendered whose
    // capture time (counter / 30 fps from the first stamp) is not near a stall.
    let counters = watch.counters.lock().unwrap().clone();
    let (first_counter, first_ms) = watch.first.lock().unwrap().unwrap_or((0, start_wall));
    let last_counter = counters
        .iter()
        .next_back()
        .copied()
        .unwrap_or(first_counter);
    let near_stall = |ms: u64| {
        stalls.iter().any(|&(a, b)| {
            ms + STALL_MARGIN_BEFORE.as_millis() as u64 >= a
                && ms <= b + STALL_MARGIN_AFTER.as_millis() as u64
        })
    };
    let (mut lost, mut lost_in_stalls) = (0u64, 0u64);
    for c in first_counter..=last_counter {
        if counters.contains(&c) {
            continue;
        }
        let captured = first_ms + u64::from(c - first_counter) * 1000 / 30;
        if near_stall(captured) {
            lost_in_stalls += 1;
        } else {
            lost += 1;
        }
    }
    let growth = |v: &[u64]| {
        let (a, b) = (
            v.first().copied().unwrap_or(0),
            v.last().copied().unwrap_or(0),
        );
        (b as f64 - a as f64) / 1024.0
    };
    let peak = |v: &[u64]| v.iter().copied().max().unwrap_or(0) as f64 / 1024.0;
    let after =
        watch.after_stop.load(Ordering::Acquire) + push_watch.after_stop.load(Ordering::Acquire);
    let errors = watch.errors.lock().unwrap().clone();
    let body = format!(
        "### Soak: 720p30 push -> `onair serve` -> play through the impairment proxy, {} s\n\n\
         Both legs 40 +/- 20 ms of jitter; the downlink stalls {:.1} s every {} s ({} stalls).\n\n\
         | measure | value | goal |\n|---|---|---|\n\
         | RSS growth after {} s warm-up, pusher + player process | {:+.2} MiB (peak {:.1} MiB) | < 2 MiB |\n\
         | RSS growth after warm-up, `onair serve` | {:+.2} MiB (peak {:.1} MiB) | < 2 MiB |\n\
         | frames rendered | {} of {} sent | |\n\
         | frames lost outside stalls | {lost} | 0 |\n\
         | frames lost within a stall or its catch-up | {lost_in_stalls} | |\n\
         | callbacks after stop | {after} | 0 |\n\
         | player errors | {} | 0 |\n\n\
         Measured by `cargo bench --bench soak` ({:.0} s of wall clock).",
        seconds,
        STALL_LEN.as_secs_f64(),
        STALL_EVERY.as_secs(),
        stalls.len(),
        WARM_UP.as_secs(),
        growth(&rss_self),
        peak(&rss_self),
        growth(&rss_server),
        peak(&rss_server),
        counters.len(),
        last_counter.saturating_sub(first_counter) + 1,
        errors.len(),
        (end_wall - start_wall) as f64 / 1000.0,
    );
    println!("{body}");
    if !errors.is_empty() {
        println!("errors: {errors:?}");
    }
    if let Err(e) = write_section("soak", &body) {
        eprintln!("could not write the results file: {e}");
    }
}
