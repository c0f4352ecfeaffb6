//! `onair push URL [--source test|image:PATH|camera[:ID]|screen[:ID]|window:ID|window:TITLE]
//! [--region X,Y,W,H] [--cursor] [--highlight] [--system-audio] [--system-audio-volume 0..150]
//! [--microphone [ID]] [--preset WxH]
//! [--portrait] [--fps N] [--bitrate K] [--min-bitrate K] [--audio speech|default|music|none]
//! [--codec h264|h265] [--encoder openh264|x264|x265|nvenc|vaapi|qsv|auto]
//! [--audio-codec aac|opus] [--opus-frame-ms 10|20] [--seconds N] [--record-local out.mp4]`
//!
//! `--codec h265` pushes HEVC over Enhanced RTMP to a server that announces `hvc1`, and H.264
//! (with a warning) to one that does not; `--audio-codec opus` likewise pushes Opus to a
//! server that announces `Opus` (`onair serve` does), AAC to others.
//!
//! `--source screen` captures the X11 screen, `window:ID` one window (ids from `onair
//! sources`), `window:TITLE` the first window whose title contains TITLE; `--region` a part of
//! it; `--system-audio` mixes what the computer plays into the audio.
//!
//! A camera or microphone that cannot start is reported (WARNING_CAMERA_START_FAILED and
//! friends) and the push goes on: the test pattern stands in for the camera, the tone for the
//! microphone.

use clap::Args;
use onair::{
    AudioQuality, PushStatus, PusherStatistics, ResolutionMode, V2TXLiveCode, V2TXLivePusher,
    V2TXLivePusherObserver, VideoEncoderParam, VideoResolution, VideoSource,
};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Push arguments.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Push URL: `rtmp://host[:port]/app/stream[?txSecret=..&txTime=..]` (or `rtmps://`).
    pub url: String,
    /// Video source: `test` (stamped pattern + 1 kHz tone), `image:PATH` (PNG/JPEG), `camera[:ID]`
    /// (the first camera, or the one with that id; without a camera the test pattern goes out),
    /// `screen[:N]` (an X11 screen), `window:ID` (a window id from `onair sources`) or
    /// `window:TITLE` (the first window whose title contains TITLE).
    #[arg(long, default_value = "test")]
    pub source: String,
    /// Capture only this part of the screen or window: `X,Y,W,H` in its pixels.
    #[arg(long, value_parser = parse_region)]
    pub region: Option<onair::pusher::Rect>,
    /// Draw the mouse cursor into a screen or window capture.
    #[arg(long)]
    pub cursor: bool,
    /// Draw LiteAV's green border around a captured window on the screen (X11; never part of
    /// the pushed picture).
    #[arg(long)]
    pub highlight: bool,
    /// Mix what the computer plays (the default output's monitor) into the audio.
    #[arg(long)]
    pub system_audio: bool,
    /// The system audio's volume in the mix, 0 (silent) to 150; 100 is as captured.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=150))]
    pub system_audio_volume: u32,
    /// Capture audio from a microphone: the system default, or the device named ID.
    #[arg(long, num_args = 0..=1, default_missing_value = "default")]
    pub microphone: Option<String>,
    /// Resolution preset, one of the 12 (e.g. 1280x720).
    #[arg(long, default_value = "1280x720")]
    pub preset: VideoResolution,
    /// Portrait: swap width and height.
    #[arg(long)]
    pub portrait: bool,
    /// Frames per second (1..=60).
    #[arg(long, default_value_t = 30)]
    pub fps: u32,
    /// Target video bitrate in kbps (0 = the preset's default).
    #[arg(long, default_value_t = 0)]
    pub bitrate: u32,
    /// Floor for congestion adaptation in kbps (0 = the preset's minimum; = bitrate disables it).
    #[arg(long, default_value_t = 0)]
    pub min_bitrate: u32,
    /// Video codec: h264 (default) or h265 (HEVC over Enhanced RTMP; H.264 with a warning to a
    /// server that does not announce it).
    #[arg(long, value_parser = parse_codec)]
    pub codec: Option<onair::VideoCodec>,
    /// Video encoder: openh264 (the H.264 default), x264 (FFmpeg's libx264, high profile),
    /// x265 (FFmpeg's libx265, HEVC: the H.265 default), the hardware nvenc, vaapi or qsv (both
    /// codecs, 16-pixel alignment; an error naming what is missing when absent), or auto (the
    /// first that opens: hardware, then software; it says which).
    #[arg(long, value_parser = parse_encoder)]
    pub encoder: Option<onair::VideoEncoderBackend>,
    /// Audio: speech, default, music, or none.
    #[arg(long, default_value = "default")]
    pub audio: String,
    /// Audio codec: aac (default, plays everywhere) or opus (low delay, Enhanced RTMP; AAC
    /// with a warning to a server that does not announce it).
    #[arg(long, default_value = "aac")]
    pub audio_codec: onair::AudioCodec,
    /// Opus frame duration in ms: 10 (lowest latency) or 20.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(10..=20))]
    pub opus_frame_ms: u32,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Record what is pushed into this MP4 (the encoded stream, fragmented: a crash leaves a
    /// playable file; the file must not exist).
    #[arg(long)]
    pub record_local: Option<std::path::PathBuf>,
}

#[derive(Default)]
struct Printer {
    failed: AtomicBool,
    connected: AtomicBool,
    last_error: Mutex<Option<String>>,
    /// Signalled on an error, so the main thread wakes at once.
    ended: std::sync::Condvar,
}

impl V2TXLivePusherObserver for Printer {
    fn on_error(&self, code: V2TXLiveCode, message: &str, _extra: &str) {
        eprintln!("\nerror {}: {message}", code.name());
        *self
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(format!("{}: {message}", code.name()));
        self.failed.store(true, Ordering::Release);
        self.ended.notify_all();
    }
    fn on_warning(&self, code: V2TXLiveCode, message: &str, _extra: &str) {
        eprintln!("\nwarning {}: {message}", code.name());
    }
    fn on_local_record_begin(&self, code: i32, path: &str) {
        eprintln!("local recording begin {code}: {path}");
    }
    fn on_local_record_complete(&self, code: i32, path: &str) {
        eprintln!("local recording complete {code}: {path}");
    }
    fn on_push_status_update(&self, status: PushStatus, message: &str, _extra: &str) {
        eprintln!("status {status:?}: {message}");
        if status == PushStatus::ConnectSuccess {
            self.connected.store(true, Ordering::Release);
        }
    }
    fn on_screen_capture_stopped(&self, reason: i32) {
        eprintln!("\nscreen capture stopped ({reason})");
    }
    fn on_statistics_update(&self, s: &PusherStatistics) {
        eprintln!(
            "{}x{} {:.1} fps | video {} kbps audio {} kbps | upload {} kbps rtt {} ms | cpu app {:.0}% system {:.0}%",
            s.width, s.height, s.fps, s.video_bitrate, s.audio_bitrate, s.net_speed, s.rtt, s.app_cpu, s.system_cpu
        );
    }
}

/// `X,Y,W,H`.
fn parse_region(s: &str) -> Result<onair::pusher::Rect, String> {
    let n: Vec<&str> = s.split(',').map(str::trim).collect();
    let bad = || format!("{s:?}: expected X,Y,W,H (pixels, W and H above 0)");
    if n.len() != 4 {
        return Err(bad());
    }
    let int = |t: &str| t.parse::<i64>().map_err(|_| bad());
    let (x, y, w, h) = (int(n[0])?, int(n[1])?, int(n[2])?, int(n[3])?);
    if w <= 0 || h <= 0 || w > 16384 || h > 16384 || x.abs() > 65535 || y.abs() > 65535 {
        return Err(bad());
    }
    Ok(onair::pusher::Rect {
        x: x as i32,
        y: y as i32,
        width: w as u32,
        height: h as u32,
    })
}

/// The source id of `screen[:N]`, `window:ID` or `window:TITLE` (a title substring: the first
/// window whose title contains it).
fn screen_source(pusher: &V2TXLivePusher, source: &str) -> Result<onair::SourceId, String> {
    if let Ok(id) = source.parse::<onair::SourceId>() {
        return Ok(id);
    }
    let title = source.strip_prefix("window:").unwrap_or(source);
    let sources = pusher
        .get_screen_capture_sources((0, 0), (0, 0))
        .map_err(|e| format!("--source {source}: {}", e.message))?;
    sources
        .iter()
        .find(|s| matches!(s.id, onair::SourceId::Window(_)) && s.name.contains(title))
        .map(|s| s.id)
        .ok_or_else(|| {
            let names: Vec<String> = sources
                .iter()
                .map(|s| format!("{} {:?}", s.id, s.name))
                .collect();
            format!(
                "--source {source}: no window's title contains {title:?} (there are: {})",
                names.join(", ")
            )
        })
}

fn start_screen(pusher: &V2TXLivePusher, source: &str, args: &PushArgs) -> Result<(), String> {
    let id = screen_source(pusher, source)?;
    let property = onair::ScreenCaptureProperty {
        capture_cursor: args.cursor,
        highlight_window: args.highlight,
        ..Default::default()
    };
    let region = args.region.unwrap_or_default();
    pusher
        .set_screen_capture_source(id, region, property)
        .map_err(|e| format!("--source {source}: {}", e.message))?;
    pusher
        .start_screen_capture()
        .map_err(|e| format!("--source {source}: {} {}", e.code.name(), e.message))?;
    eprintln!("capturing {id}");
    Ok(())
}

fn usage(message: String) -> ExitCode {
    eprintln!("onair push: {message}");
    ExitCode::from(2)
}

/// Runs `onair push`.
pub fn run(args: &PushArgs) -> ExitCode {
    let pusher = V2TXLivePusher::new();
    let mode = if args.portrait {
        ResolutionMode::Portrait
    } else {
        ResolutionMode::Landscape
    };
    let param =
        match VideoEncoderParam::new(args.preset, mode, args.fps, args.bitrate, args.min_bitrate) {
            Ok(p) => p,
            Err(e) => return usage(e.to_string()),
        };
    let _ = pusher.set_video_quality(param);
    let (codec, encoder) = match codec_and_encoder(args.codec, args.encoder) {
        Ok(pair) => pair,
        Err(e) => return usage(e),
    };
    let _ = pusher.set_video_codec(codec);
    if let Some(backend) = encoder {
        let _ = pusher.set_video_encoder_backend(backend);
    }
    let _ = pusher.set_audio_codec(args.audio_codec);
    if let Err(e) = pusher.set_opus_frame_duration(args.opus_frame_ms) {
        return usage(format!("--opus-frame-ms: {e}"));
    }
    match args.audio.as_str() {
        "none" => drop(pusher.set_audio_enabled(false)),
        q => match q.parse::<AudioQuality>() {
            Ok(q) => drop(pusher.set_audio_quality(q)),
            Err(e) => return usage(format!("--audio: {e} (or none)")),
        },
    }
    let source = args.source.as_str();
    if source == "test" {
        let _ = pusher.set_video_source(VideoSource::TestPattern);
    } else if let Some(path) = source.strip_prefix("image:") {
        if let Err(e) = pusher.start_virtual_camera(path) {
            return usage(format!("--source {source}: {e}"));
        }
    } else if source == "camera" || source.starts_with("camera:") {
        let id = source.strip_prefix("camera:").unwrap_or("");
        if let Err(e) = pusher.start_camera(id) {
            eprintln!(
                "warning {}: {} (pushing the test pattern instead)",
                e.code.name(),
                e.message
            );
        }
    } else if source == "screen" || source.starts_with("screen:") || source.starts_with("window:") {
        if let Err(message) = start_screen(&pusher, source, args) {
            return usage(message);
        }
    } else {
        return usage(format!(
            "--source {source:?}: expected test, image:PATH, camera[:ID], screen[:N], \
             window:ID or window:TITLE"
        ));
    }
    if args.region.is_some() && !(source.starts_with("screen") || source.starts_with("window:")) {
        return usage("--region needs --source screen or window:...".into());
    }
    if args.system_audio {
        let _ = pusher.set_system_audio_loopback_volume(args.system_audio_volume);
        if let Err(e) = pusher.start_system_audio_loopback(None) {
            eprintln!(
                "warning {}: {} (pushing without the system audio)",
                e.code.name(),
                e.message
            );
        }
    }
    if let Some(mic) = args.microphone.as_deref() {
        let id = (mic != "default").then_some(mic);
        if let Err(e) = pusher.start_microphone(id) {
            eprintln!(
                "warning {}: {} (pushing the built-in audio instead)",
                e.code.name(),
                e.message
            );
        }
    }
    if let Some(s) = args.seconds {
        if !(s > 0.0 && s.is_finite()) {
            return usage(format!("--seconds {s}: expected a positive number"));
        }
    }
    let printer = Arc::new(Printer::default());
    pusher.set_observer(Some(printer.clone()));
    if let Err(e) = pusher.start_push(&args.url) {
        return usage(e.to_string());
    }
    if let Some(path) = &args.record_local {
        if let Err(e) = pusher.start_local_recording(&onair::LocalRecordingParams::new(path)) {
            let _ = pusher.stop_push();
            return usage(format!("--record-local {}: {e}", path.display()));
        }
    }
    if let Some(used) = pusher.video_encoder_backend_in_use() {
        eprintln!(
            "video encoder: {used} for {codec} (--encoder {})",
            encoder.map_or("default", |e| e.name())
        );
    }
    let start = Instant::now();
    let limit = args.seconds.map(Duration::from_secs_f64);
    {
        // Until an error, or the time limit (a year stands for "until interrupted").
        let until = start + limit.unwrap_or(Duration::from_secs(365 * 86_400));
        let mut guard = printer
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while !printer.failed.load(Ordering::Acquire) {
            let now = Instant::now();
            if now >= until {
                break;
            }
            guard = printer
                .ended
                .wait_timeout(guard, until - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }
    let _ = pusher.stop_push();
    if printer.failed.load(Ordering::Acquire) {
        let why = printer
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        eprintln!("onair push: failed: {}", why.unwrap_or_default());
        return ExitCode::FAILURE;
    }
    if !printer.connected.load(Ordering::Acquire) {
        eprintln!(
            "onair push: failed: never connected to {} in {:.1} s",
            args.url,
            start.elapsed().as_secs_f64()
        );
        return ExitCode::FAILURE;
    }
    eprintln!(
        "onair push: done after {:.1} s",
        start.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

fn parse_encoder(name: &str) -> Result<onair::VideoEncoderBackend, String> {
    onair::VideoEncoderBackend::from_name(name).ok_or_else(|| {
        format!("{name:?}: expected openh264, x264, x265, nvenc, vaapi, qsv or auto")
    })
}

fn parse_codec(name: &str) -> Result<onair::VideoCodec, String> {
    onair::VideoCodec::from_name(name).ok_or_else(|| format!("{name:?}: expected h264 or h265"))
}

/// The codec and backend to use: `--encoder x265` alone means HEVC; an encoder that does not
/// encode the asked codec (`--codec h265 --encoder x264`) is a usage error.
fn codec_and_encoder(
    codec: Option<onair::VideoCodec>,
    encoder: Option<onair::VideoEncoderBackend>,
) -> Result<(onair::VideoCodec, Option<onair::VideoEncoderBackend>), String> {
    let codec = codec.unwrap_or(match encoder.map(|e| e.codecs()) {
        Some([only]) => *only,
        _ => onair::VideoCodec::H264,
    });
    match encoder {
        Some(e) if !e.supports(codec) => Err(format!(
            "--encoder {e} does not encode {codec} (it encodes {}); for --codec {codec} use {}",
            e.codecs()
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(", "),
            onair::VideoEncoderBackend::PROBE_ORDER
                .iter()
                .filter(|b| b.supports(codec))
                .map(|b| b.name())
                .chain(["auto"])
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => Ok((codec, encoder)),
    }
}
