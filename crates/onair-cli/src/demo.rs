//! `onair demo [--seconds N] [--out DIR] [--preset WxH] [--fps N] [--json] [--open]`: the end-to-end
//! demo on the embedded server. It starts the server on free loopback ports (signed pushes,
//! recording, screenshots), pushes the stamped test pattern with a 1 kHz tone over RTMP, plays
//! it back over HTTP-FLV, prints the watch page's URL (`--open` opens it in the default
//! browser, where the stream plays beside the demo's own player), shows a live statistics line, then writes `snapshot.png` (the last
//! picture played), `plot.png` (bitrate, fps and glass-to-glass latency over time) and
//! `summary.json`, and prints the summary. Exit 0 when pictures were played, 1 otherwise,
//! 2 on bad arguments.

use crate::play::{quantile, write_png};
use crate::plot::{draw, Sample};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use onair::{
    BufferType, CachePreset, PixelFormat, PushStatus, PusherStatistics, ResolutionMode,
    V2TXLiveCode, V2TXLivePlayer, V2TXLivePlayerObserver, V2TXLivePusher, V2TXLivePusherObserver,
    VideoEncoderParam, VideoFrame, VideoResolution,
};
use onair_codec::read_stamp;
use onair_server::{LiveServer, RecordFormat, ServerConfig};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Demo arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How long to push and play, seconds (5-600).
    #[arg(long, default_value_t = 15)]
    pub seconds: u64,
    /// Where snapshot.png, plot.png, summary.json and the server's data go.
    #[arg(long, default_value = "onair-demo")]
    pub out: PathBuf,
    /// Resolution preset, one of the 12.
    #[arg(long, default_value = "1280x720")]
    pub preset: VideoResolution,
    /// Frames per second (1..=60).
    #[arg(long, default_value_t = 30)]
    pub fps: u32,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Open the watch page (the stream in the browser) in the default browser.
    #[arg(long)]
    pub open: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn wall_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

struct PushSide {
    stats: Mutex<Option<PusherStatistics>>,
    errors: Mutex<Vec<String>>,
    connected: crossbeam_channel::Sender<()>,
}

impl V2TXLivePusherObserver for PushSide {
    fn on_error(&self, code: V2TXLiveCode, message: &str, _extra: &str) {
        lock(&self.errors).push(format!("push {}: {message}", code.name()));
    }
    fn on_statistics_update(&self, s: &PusherStatistics) {
        *lock(&self.stats) = Some(*s);
    }
    fn on_push_status_update(&self, status: PushStatus, _message: &str, _extra: &str) {
        if status == PushStatus::ConnectSuccess {
            let _ = self.connected.try_send(());
        }
    }
}

#[derive(Default)]
struct Played {
    first_frame: Option<Duration>,
    frames: u64,
    window_frames: u64,
    window_latency: Vec<f64>,
    latency: Vec<f64>,
    first_counter: Option<u32>,
    last_counter: Option<u32>,
    last: Option<VideoFrame>,
}

struct PlaySide {
    started: Instant,
    played: Mutex<Played>,
    errors: Mutex<Vec<String>>,
}

impl V2TXLivePlayerObserver for PlaySide {
    fn on_error(&self, _p: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, _extra: &str) {
        lock(&self.errors).push(format!("play {}: {message}", code.name()));
    }
    fn on_render_video_frame(&self, _p: &V2TXLivePlayer, frame: &VideoFrame) {
        let now = wall_ms();
        let stamp = read_stamp(frame);
        let mut p = lock(&self.played);
        p.frames += 1;
        p.window_frames += 1;
        if p.first_frame.is_none() {
            p.first_frame = Some(self.started.elapsed());
        }
        if let Some(s) = stamp {
            let ms = now - s.capture_ms as f64;
            if (0.0..60_000.0).contains(&ms) {
                p.window_latency.push(ms);
                p.latency.push(ms);
            }
            p.first_counter.get_or_insert(s.counter);
            p.last_counter = Some(s.counter);
        }
        p.last = Some(frame.clone());
    }
}

fn demo_key() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:032x}", nanos ^ (u128::from(std::process::id()) << 64))
}

/// Runs `onair demo`.
pub fn run(args: &DemoArgs) -> ExitCode {
    if !(5..=600).contains(&args.seconds) || !(1..=60).contains(&args.fps) {
        eprintln!("onair demo: --seconds must be 5-600 and --fps 1-60");
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("onair demo: cannot create {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    match demo(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("onair demo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn demo(args: &DemoArgs) -> Result<bool, String> {
    let mut config = ServerConfig::new(args.out.join("server-data"));
    config.rtmp_addr = "127.0.0.1:0".into();
    config.http_addr = "127.0.0.1:0".into();
    config.push_key = Some(demo_key());
    config.record = RecordFormat::Flv.into();
    let server = LiveServer::start(config).map_err(|e| e.to_string())?;
    let push_url = server.push_url("live", "demo", Duration::from_secs(3600));
    let play_url = format!("{}/live/demo.flv", server.http_base());
    eprintln!(
        "embedded server: RTMP {}  HTTP {}",
        server.rtmp_base(),
        server.http_base()
    );
    eprintln!("push (signed):   {push_url}");
    eprintln!("play (HTTP-FLV): {play_url}");
    let watch_url = format!(
        "{}{}",
        server.http_base(),
        onair_server::console::watch_path("live", "demo")
    );
    eprintln!("watch (browser): {watch_url}");
    eprintln!("console:         {}/", server.http_base());

    let (connected_tx, connected) = crossbeam_channel::bounded(1);
    let push_side = Arc::new(PushSide {
        stats: Mutex::new(None),
        errors: Mutex::new(Vec::new()),
        connected: connected_tx,
    });
    let pusher = V2TXLivePusher::new();
    pusher.set_observer(Some(push_side.clone()));
    let param = VideoEncoderParam::new(args.preset, ResolutionMode::Landscape, args.fps, 0, 0)
        .map_err(|e| e.to_string())?;
    pusher.set_video_quality(param).map_err(|e| e.to_string())?;
    let start = Instant::now();
    pusher.start_push(&push_url).map_err(|e| e.to_string())?;

    let play_side = Arc::new(PlaySide {
        started: Instant::now(),
        played: Mutex::new(Played::default()),
        errors: Mutex::new(Vec::new()),
    });
    let player = V2TXLivePlayer::new();
    player.set_observer(Some(play_side.clone()));
    player
        .set_cache_preset(CachePreset::Speed)
        .map_err(|e| e.to_string())?;
    player
        .enable_custom_rendering(true, PixelFormat::I420, BufferType::ByteBuffer)
        .map_err(|e| e.to_string())?;
    // HTTP-FLV needs a live stream: play once the server accepted the push.
    if connected.recv_timeout(Duration::from_secs(10)).is_err() {
        let errors = lock(&push_side.errors).join("; ");
        return Err(format!("the push did not start within 10 s {errors}"));
    }
    player.start_play(&play_url).map_err(|e| e.to_string())?;
    if args.open {
        if let Err(e) = webbrowser::open(&watch_url) {
            eprintln!("cannot open a browser ({e}); open {watch_url} by hand");
        }
    }

    let bar = ProgressBar::new(args.seconds);
    bar.set_style(
        ProgressStyle::with_template("{elapsed:>3} [{bar:24}] {pos}/{len} s  {msg}")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    let mut samples = Vec::new();
    let mut last = Instant::now();
    for second in 1..=args.seconds {
        std::thread::sleep(
            (start + Duration::from_secs(second)).saturating_duration_since(Instant::now()),
        );
        let dt = last.elapsed().as_secs_f64();
        last = Instant::now();
        // The pusher reports every 2 s; before its first report the sent side is unknown.
        let stats = *lock(&push_side.stats);
        let (rendered_fps, latency) = {
            let mut p = lock(&play_side.played);
            let fps = p.window_frames as f64 / dt;
            p.window_frames = 0;
            let mut l = std::mem::take(&mut p.window_latency);
            l.sort_by(f64::total_cmp);
            (
                fps,
                if l.is_empty() {
                    f64::NAN
                } else {
                    quantile(&l, 0.5)
                },
            )
        };
        let s = Sample {
            t: start.elapsed().as_secs_f64(),
            video_kbps: stats.map_or(f64::NAN, |s| f64::from(s.video_bitrate)),
            sent_fps: stats.map_or(f64::NAN, |s| f64::from(s.fps)),
            rendered_fps,
            latency_ms: latency,
        };
        let num = |v: f64, unit: &str| {
            if v.is_finite() {
                format!("{v:.0} {unit}")
            } else {
                format!("- {unit}")
            }
        };
        bar.set_message(format!(
            "push {} {} | play {} | latency {}",
            num(s.video_kbps, "kbps"),
            num(s.sent_fps, "fps"),
            num(s.rendered_fps, "fps"),
            num(s.latency_ms, "ms"),
        ));
        bar.inc(1);
        samples.push(s);
    }
    bar.finish();
    let _ = player.stop_play();
    let _ = pusher.stop_push();
    server.stop();
    // Stopping finalises the recording; the state lives on in the data directory.
    let recordings = {
        let mut config = ServerConfig::new(args.out.join("server-data"));
        config.rtmp_addr = "127.0.0.1:0".into();
        config.http_addr = "127.0.0.1:0".into();
        config.screenshot_interval = None;
        let s = LiveServer::start(config).map_err(|e| e.to_string())?;
        let files = s.api(
            "Live_Tape_GetFilelist",
            &[("Param.s.channel_id", "demo"), ("Param.n.page_size", "100")],
        );
        s.stop();
        files["output"]["file_list"].clone()
    };

    let p = std::mem::take(&mut *lock(&play_side.played));
    let snapshot = args.out.join("snapshot.png");
    let plot = args.out.join("plot.png");
    if let Some(f) = &p.last {
        write_png(f, &snapshot)?;
    }
    draw(&samples, &plot)?;
    let mut lat = p.latency.clone();
    lat.sort_by(f64::total_cmp);
    let sent = match (p.first_counter, p.last_counter) {
        (Some(a), Some(b)) if b >= a => u64::from(b - a) + 1,
        _ => 0,
    };
    let errors: Vec<String> = lock(&push_side.errors)
        .iter()
        .chain(lock(&play_side.errors).iter())
        .cloned()
        .collect();
    let summary = json!({
        "seconds": args.seconds,
        "preset": format!("{}", args.preset),
        "first_frame_ms": p.first_frame.map(|d| d.as_secs_f64() * 1000.0),
        "latency_ms_p50": (!lat.is_empty()).then(|| quantile(&lat, 0.5)),
        "latency_ms_p95": (!lat.is_empty()).then(|| quantile(&lat, 0.95)),
        "frames_sent": sent,
        "frames_rendered": p.frames,
        "frames_dropped": sent.saturating_sub(p.frames),
        "snapshot": snapshot.display().to_string(),
        "plot": plot.display().to_string(),
        "recordings": recordings,
        "errors": errors,
    });
    let _ = std::fs::write(
        args.out.join("summary.json"),
        serde_json::to_vec_pretty(&summary).unwrap_or_default(),
    );
    if args.json {
        println!("{summary}");
    } else {
        let ms =
            |v: &serde_json::Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.0} ms"));
        println!(
            "onair demo: {} s of {} at {} fps through the embedded server",
            args.seconds, args.preset, args.fps
        );
        println!("  first frame        {}", ms(&summary["first_frame_ms"]));
        println!(
            "  latency p50 / p95  {} / {}",
            ms(&summary["latency_ms_p50"]),
            ms(&summary["latency_ms_p95"])
        );
        println!(
            "  frames sent / rendered / dropped  {sent} / {} / {}",
            p.frames,
            sent.saturating_sub(p.frames)
        );
        println!(
            "  recording          {}",
            summary["recordings"].as_array().map_or(0, Vec::len)
        );
        println!("  snapshot           {}", snapshot.display());
        println!("  plot               {}", plot.display());
        for e in &errors {
            println!("  error              {e}");
        }
    }
    Ok(p.frames > 0 && errors.is_empty())
}
