//! The broadcaster's first step: push onair's stamped test pattern and a 1 kHz tone to an RTMP
//! URL with `V2TXLivePusher`, printing the push status and statistics.
//!
//! ```sh
//! cargo run --release --example push_test_pattern -- rtmp://127.0.0.1:1935/live/test --seconds 10
//! ```

use onair::{
    PushStatus, PusherStatistics, ResolutionMode, V2TXLiveCode, V2TXLivePusher,
    V2TXLivePusherObserver, VideoEncoderParam, VideoResolution,
};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
struct Log {
    failed: AtomicBool,
}

impl V2TXLivePusherObserver for Log {
    fn on_push_status_update(&self, status: PushStatus, message: &str, _extra: &str) {
        eprintln!("status {status:?}: {message}");
    }
    fn on_error(&self, code: V2TXLiveCode, message: &str, _extra: &str) {
        eprintln!("error {}: {message}", code.name());
        self.failed.store(true, Ordering::Release);
    }
    fn on_statistics_update(&self, s: &PusherStatistics) {
        eprintln!(
            "{}x{} {:.0} fps, video {} kbps, audio {} kbps",
            s.width, s.height, s.fps, s.video_bitrate, s.audio_bitrate
        );
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: push_test_pattern URL [--seconds N]");
        return ExitCode::from(2);
    };
    let seconds: f64 = match (args.next().as_deref(), args.next()) {
        (Some("--seconds"), Some(n)) => n.parse().unwrap_or(10.0),
        _ => 10.0,
    };
    let log = Arc::new(Log::default());
    let pusher = V2TXLivePusher::new();
    pusher.set_observer(Some(log.clone()));
    let param = VideoEncoderParam::new(
        VideoResolution::R1280x720,
        ResolutionMode::Landscape,
        30,
        0,
        0,
    )
    .expect("valid");
    if let Err(e) = pusher.set_video_quality(param) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    // The built-in source is the stamped test pattern with a tone (VideoSource::TestPattern).
    if let Err(e) = pusher.start_push(&url) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let _ = pusher.stop_push();
    if log.failed.load(Ordering::Acquire) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
