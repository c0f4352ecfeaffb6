//! The broadcaster with devices: list the cameras and microphones, start a camera and the
//! microphone, and push them. A missing or busy device is reported (WARNING_CAMERA_START_FAILED
//! and friends) and the push goes on with what is left: the test pattern stands in for a
//! missing camera and the tone for a missing microphone.
//!
//! ```sh
//! cargo run --release --example camera_push -- rtmp://127.0.0.1:1935/live/test --seconds 10
//! cargo run --release --example camera_push -- rtmp://127.0.0.1:1935/live/test --camera 0 --microphone default
//! ```

use onair::{
    list_cameras, list_microphones, PushStatus, PusherStatistics, V2TXLiveCode, V2TXLivePusher,
    V2TXLivePusherObserver,
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
    fn on_push_status_update(&self, status: PushStatus, message: &str, _: &str) {
        eprintln!("status {status:?}: {message}");
    }
    fn on_warning(&self, code: V2TXLiveCode, message: &str, _: &str) {
        eprintln!("warning {}: {message}", code.name());
    }
    fn on_error(&self, code: V2TXLiveCode, message: &str, _: &str) {
        eprintln!("error {}: {message}", code.name());
        self.failed.store(true, Ordering::Release);
    }
    fn on_capture_first_video_frame(&self) {
        eprintln!("first video frame captured");
    }
    fn on_microphone_volume_update(&self, volume: u32) {
        eprintln!("microphone volume {volume}");
    }
    fn on_statistics_update(&self, s: &PusherStatistics) {
        eprintln!(
            "{}x{} {:.0} fps, video {} kbps, audio {} kbps",
            s.width, s.height, s.fps, s.video_bitrate, s.audio_bitrate
        );
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first().filter(|a| !a.starts_with("--")) else {
        eprintln!("usage: camera_push URL [--seconds N] [--camera ID] [--microphone ID|default]");
        return ExitCode::from(2);
    };
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let seconds: f64 = flag("--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);

    match list_cameras() {
        Ok(c) if c.is_empty() => eprintln!("cameras: none"),
        Ok(c) => c
            .iter()
            .for_each(|c| eprintln!("camera {}: {} ({})", c.id, c.name, c.description)),
        Err(e) => eprintln!("cameras: {e}"),
    }
    match list_microphones() {
        Ok(m) => m.iter().for_each(|m| {
            eprintln!(
                "microphone {:?}{}",
                m.id,
                if m.is_default { " (default)" } else { "" }
            )
        }),
        Err(e) => eprintln!("microphones: {e}"),
    }

    let log = Arc::new(Log::default());
    let pusher = V2TXLivePusher::new();
    pusher.set_observer(Some(log.clone()));
    let _ = pusher.enable_volume_evaluation(1000);
    let camera = flag("--camera").map_or("", String::as_str);
    if let Err(e) = pusher.start_camera(camera) {
        eprintln!(
            "{}: {} (pushing the test pattern instead)",
            e.code.name(),
            e.message
        );
    }
    if let Some(mic) = flag("--microphone") {
        let id = (mic != "default").then_some(mic.as_str());
        if let Err(e) = pusher.start_microphone(id) {
            eprintln!(
                "{}: {} (pushing the tone instead)",
                e.code.name(),
                e.message
            );
        }
    }
    if let Err(e) = pusher.start_push(url) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let _ = pusher.stop_push();
    let _ = pusher.stop_camera();
    let _ = pusher.stop_microphone();
    if log.failed.load(Ordering::Acquire) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
