//! `onair play URL [--seconds N] [--cache speed|auto|smooth] [--frames-dir DIR]
//! [--stats-json FILE] [--last-frame PNG] [--json] [--record-local out.mp4]
//! [--switch-to URL2 [--switch-after S]]`: plays an RTMP or HTTP-FLV stream through
//! `V2TXLivePlayer`, prints a statistics line every 2 s, writes the last picture as PNG (every
//! picture with `--frames-dir`) and a summary: frames, first-frame time, stalls, and the
//! glass-to-glass latency and frame-counter check when the stream carries the test pattern's
//! stamp (as `onair push --source test` sends).

use clap::Args;
use onair::{
    BufferType, CachePreset, PixelFormat, PlayerStatistics, V2TXLiveCode, V2TXLivePlayer,
    V2TXLivePlayerObserver, VideoFrame,
};
use onair_codec::read_stamp;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Play arguments.
#[derive(Debug, Args)]
pub struct PlayArgs {
    /// Play URL: `rtmp://host[:port]/app[/instance]/stream[?query]`, `rtmps://...`, or any
    /// `http(s)://` URL serving FLV (`http://host/app/stream.flv`, `https://cdn/a/b.flv?auth=..`).
    pub url: String,
    /// Stop after this many seconds (default: until the stream ends or Ctrl-C).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Jitter-buffer preset: speed (lowest latency), auto, or smooth.
    #[arg(long, default_value = "auto")]
    pub cache: CachePreset,
    /// Write every rendered picture as DIR/frame-NNNNNN.png.
    #[arg(long)]
    pub frames_dir: Option<PathBuf>,
    /// Write the JSON summary to this file.
    #[arg(long)]
    pub stats_json: Option<PathBuf>,
    /// Where the last picture is written as PNG.
    #[arg(long, default_value = "onair-play-last.png")]
    pub last_frame: PathBuf,
    /// Print the summary as JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// Record what is received into this MP4 (fragmented: a crash leaves a playable file; the
    /// file must not exist).
    #[arg(long)]
    pub record_local: Option<PathBuf>,
    /// Switch to this stream (`switch_stream`: no black frame) after `--switch-after` seconds.
    #[arg(long)]
    pub switch_to: Option<String>,
    /// Seconds of play before `--switch-to` (default 5).
    #[arg(long, default_value_t = 5.0)]
    pub switch_after: f64,
}

/// What the observer records.
#[derive(Default)]
struct Record {
    started: Option<Instant>,
    first_frame: Option<Duration>,
    frames: u64,
    size: (u32, u32),
    last: Option<VideoFrame>,
    stamped: u64,
    first_counter: Option<u32>,
    last_counter: Option<u32>,
    out_of_order: u64,
    latencies_ms: Vec<f64>,
    stalls: u64,
    block_warnings: u64,
    /// Successful `--switch-to` switches (each may count one stamp out of order).
    switches: u64,
    errors: Vec<String>,
    warnings: Vec<String>,
    last_stats: Option<PlayerStatistics>,
}

struct Watcher {
    record: Mutex<Record>,
    failed: AtomicBool,
    frames_tx: Option<crossbeam_channel::Sender<(u64, VideoFrame)>>,
    audio_frames: AtomicU64,
}

fn wall_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

impl Watcher {
    fn record(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl V2TXLivePlayerObserver for Watcher {
    fn on_local_record_begin(&self, _p: &V2TXLivePlayer, code: i32, path: &str) {
        eprintln!("local recording begin {code}: {path}");
    }
    fn on_local_record_complete(&self, _p: &V2TXLivePlayer, code: i32, path: &str) {
        eprintln!("local recording complete {code}: {path}");
    }
    fn on_error(&self, _p: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, _extra: &str) {
        eprintln!("\nerror {}: {message}", code.name());
        self.record()
            .errors
            .push(format!("{}: {message}", code.name()));
        self.failed.store(true, Ordering::Release);
    }
    fn on_warning(&self, _p: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, _extra: &str) {
        eprintln!("\nwarning {}: {message}", code.name());
        let mut r = self.record();
        if code == V2TXLiveCode::WarningVideoBlock {
            r.block_warnings += 1;
        }
        r.warnings.push(format!("{}: {message}", code.name()));
    }
    fn on_connected(&self, _p: &V2TXLivePlayer, _extra: &str) {
        eprintln!("connected");
    }
    fn on_stream_switched(&self, _p: &V2TXLivePlayer, url: &str, code: i32) {
        eprintln!("\nswitched {code}: {url}");
        let mut r = self.record();
        if code == 0 {
            r.switches += 1;
        }
    }
    fn on_video_loading(&self, _p: &V2TXLivePlayer, _extra: &str) {
        self.record().stalls += 1;
    }
    fn on_video_resolution_changed(&self, _p: &V2TXLivePlayer, width: u32, height: u32) {
        eprintln!("video {width}x{height}");
    }
    fn on_statistics_update(&self, _p: &V2TXLivePlayer, s: &PlayerStatistics) {
        eprintln!(
            "{}x{} {:.1} fps | video {} kbps audio {} kbps | buffer {} ms | blocks video {} ms audio {} ms | download {} kbps | cpu app {:.0}% system {:.0}%",
            s.width, s.height, s.fps, s.video_bitrate, s.audio_bitrate, s.jitter_buffer_delay,
            s.video_total_block_time, s.audio_total_block_time, s.net_speed, s.app_cpu, s.system_cpu
        );
        self.record().last_stats = Some(*s);
    }
    fn on_playout_audio_frame(&self, _p: &V2TXLivePlayer, _frame: &onair::AudioFrame) {
        self.audio_frames.fetch_add(1, Ordering::Relaxed);
    }
    fn on_render_video_frame(&self, _p: &V2TXLivePlayer, frame: &VideoFrame) {
        let now_ms = wall_ms();
        let stamp = read_stamp(frame);
        let index = {
            let mut r = self.record();
            r.frames += 1;
            if r.first_frame.is_none() {
                r.first_frame = r.started.map(|s| s.elapsed());
            }
            r.size = (frame.width(), frame.height());
            r.last = Some(frame.clone());
            if let Some(s) = stamp {
                r.stamped += 1;
                if r.last_counter.is_some_and(|c| s.counter <= c) {
                    r.out_of_order += 1;
                }
                r.first_counter.get_or_insert(s.counter);
                r.last_counter = Some(s.counter);
                r.latencies_ms.push(now_ms - s.capture_ms as f64);
            }
            r.frames
        };
        if let Some(tx) = &self.frames_tx {
            // Blocks when the writer falls behind: every rendered picture is written.
            let _ = tx.send((index, frame.clone()));
        }
    }
}

fn usage(message: String) -> ExitCode {
    eprintln!("onair play: {message}");
    ExitCode::from(2)
}

pub(crate) fn write_png(frame: &VideoFrame, path: &std::path::Path) -> Result<(), String> {
    let rgba =
        onair_codec::convert::from_i420(frame, PixelFormat::Rgba32).map_err(|e| e.to_string())?;
    let img = image::RgbaImage::from_raw(rgba.width(), rgba.height(), rgba.data().to_vec())
        .ok_or("frame size mismatch")?;
    img.save(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs `onair play`.
pub fn run(args: &PlayArgs) -> ExitCode {
    if let Some(s) = args.seconds {
        if !(s > 0.0 && s.is_finite()) {
            return usage(format!("--seconds {s}: expected a positive number"));
        }
    }
    let player = V2TXLivePlayer::new();
    if let Err(e) = player.set_cache_preset(args.cache) {
        return usage(e.to_string());
    }
    let _ = player.enable_observe_video_frame(true, PixelFormat::I420, BufferType::ByteBuffer);
    let _ = player.enable_observe_audio_frame(true);
    let mut writer = None;
    let mut frames_tx = None;
    if let Some(dir) = &args.frames_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return usage(format!("--frames-dir {}: {e}", dir.display()));
        }
        let (tx, rx) = crossbeam_channel::bounded::<(u64, VideoFrame)>(64);
        frames_tx = Some(tx);
        let dir = dir.clone();
        writer = Some(std::thread::spawn(move || {
            let mut failures = 0u64;
            for (i, f) in rx {
                if let Err(e) = write_png(&f, &dir.join(format!("frame-{i:06}.png"))) {
                    if failures == 0 {
                        eprintln!("onair play: {e}");
                    }
                    failures += 1;
                }
            }
            failures
        }));
    }
    let watcher = Arc::new(Watcher {
        record: Mutex::new(Record::default()),
        failed: AtomicBool::new(false),
        frames_tx,
        audio_frames: AtomicU64::new(0),
    });
    player.set_observer(Some(watcher.clone()));
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = Arc::clone(&interrupted);
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Release));
    }
    watcher.record().started = Some(Instant::now());
    if let Err(e) = player.start_play(&args.url) {
        return usage(e.to_string());
    }
    if let Some(path) = &args.record_local {
        if let Err(e) = player.start_local_recording(&onair::LocalRecordingParams::new(path)) {
            let _ = player.stop_play();
            return usage(format!("--record-local {}: {e}", path.display()));
        }
    }
    if !(args.switch_after >= 0.0 && args.switch_after.is_finite()) {
        let _ = player.stop_play();
        return usage(format!(
            "--switch-after {}: expected seconds >= 0",
            args.switch_after
        ));
    }
    let start = Instant::now();
    let limit = args.seconds.map(Duration::from_secs_f64);
    let mut switch_to = args.switch_to.as_deref();
    while !watcher.failed.load(Ordering::Acquire)
        && !interrupted.load(Ordering::Acquire)
        && limit.is_none_or(|l| start.elapsed() < l)
    {
        if let Some(url) = switch_to {
            if start.elapsed().as_secs_f64() >= args.switch_after {
                switch_to = None;
                if let Err(e) = player.switch_stream(url) {
                    let _ = player.stop_play();
                    return usage(format!("--switch-to {url}: {e}"));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = player.stop_play();
    let played = start.elapsed().as_secs_f64();
    player.set_observer(None);
    drop(player);
    // The observer is the last holder of the frame queue: close it so the writer finishes.
    let watcher = match Arc::try_unwrap(watcher) {
        Ok(w) => w,
        Err(_) => return usage("internal: the observer is still shared".into()),
    };
    let Watcher {
        record,
        frames_tx,
        audio_frames,
        ..
    } = watcher;
    drop(frames_tx);
    let write_failures = writer.map_or(0, |w| w.join().unwrap_or(1));
    let r = record
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // An error (the play never connected, or ended in ERROR_DISCONNECTED) fails the run,
    // whatever --seconds said.
    let mut failed = !r.errors.is_empty();
    let mut notes = Vec::new();
    match &r.last {
        Some(f) => {
            if let Err(e) = write_png(f, &args.last_frame) {
                notes.push(e);
                failed = true;
            }
        }
        None => {
            notes.push("no picture was rendered".to_string());
            failed = true;
        }
    }
    let mut lat = r.latencies_ms.clone();
    lat.sort_by(f64::total_cmp);
    let latency = (!lat.is_empty()).then(|| {
        json!({
            "samples": lat.len(),
            "p50_ms": quantile(&lat, 0.5),
            "p95_ms": quantile(&lat, 0.95),
            "max_ms": lat.last().copied().unwrap_or(f64::NAN),
        })
    });
    let counter = match (r.first_counter, r.last_counter) {
        (Some(a), Some(b)) if b >= a => {
            let span = u64::from(b - a) + 1;
            Some(json!({
                "first": a,
                "last": b,
                "expected": span,
                "rendered": r.stamped,
                "missing": span.saturating_sub(r.stamped),
                "out_of_order": r.out_of_order,
            }))
        }
        _ => None,
    };
    let summary = json!({
        "url": args.url,
        "seconds": played,
        "frames": r.frames,
        "fps": r.frames as f64 / played.max(1e-9),
        "width": r.size.0,
        "height": r.size.1,
        "first_frame_ms": r.first_frame.map(|d| d.as_secs_f64() * 1000.0),
        "stalls": r.stalls,
        "switches": r.switches,
        "video_block_warnings": r.block_warnings,
        "audio_frames": audio_frames.load(Ordering::Relaxed),
        "latency": latency,
        "counter": counter,
        "last_frame": args.last_frame,
        "frames_written": args.frames_dir.as_ref().map(|_| r.frames.saturating_sub(write_failures)),
        "errors": r.errors,
        "warnings": r.warnings,
        "notes": notes,
    });
    if let Some(path) = &args.stats_json {
        let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("onair play: cannot write {}: {e}", path.display());
            failed = true;
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
    } else {
        println!(
            "played {played:.1} s: {} frames ({:.1} fps) at {}x{}, first frame {}, {} stalls",
            r.frames,
            r.frames as f64 / played.max(1e-9),
            r.size.0,
            r.size.1,
            r.first_frame.map_or("-".into(), |d| format!(
                "{:.0} ms",
                d.as_secs_f64() * 1000.0
            )),
            r.stalls
        );
        if !lat.is_empty() {
            println!(
                "glass-to-glass latency: p50 {:.0} ms, p95 {:.0} ms ({} stamped frames)",
                quantile(&lat, 0.5),
                quantile(&lat, 0.95),
                lat.len()
            );
        }
        if let Some(c) = summary.get("counter").filter(|c| !c.is_null()) {
            println!(
                "frame counter {}..{}: {} missing, {} out of order",
                c["first"], c["last"], c["missing"], c["out_of_order"]
            );
        }
        for n in &notes {
            println!("note: {n}");
        }
        if r.last.is_some() && !failed {
            println!("last frame: {}", args.last_frame.display());
        }
    }
    if failed {
        eprintln!("onair play: failed");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
