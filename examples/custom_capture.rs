//! Custom capture: the app produces its own frames (here onair's stamped test pattern, in I420,
//! standing in for a game or compositor; RGBA32, BGRA32 and NV12 buffers work the same way)
//! and its own PCM, and hands them to the pusher with `send_custom_video_frame` /
//! `send_custom_audio_frame`.
//!
//! ```sh
//! cargo run --release --example custom_capture -- rtmp://127.0.0.1/live/custom --seconds 10
//! ```

use bytes::Bytes;
use onair::{
    AudioQuality, PixelFormat, PushStatus, ResolutionMode, V2TXLiveAudioFrame, V2TXLivePusher,
    V2TXLivePusherObserver, V2TXLiveVideoFrame, VideoEncoderParam, VideoResolution,
};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Log;
impl V2TXLivePusherObserver for Log {
    fn on_push_status_update(&self, status: PushStatus, message: &str, _extra: &str) {
        eprintln!("status {status:?}: {message}");
    }
    fn on_error(&self, code: onair::V2TXLiveCode, message: &str, _extra: &str) {
        eprintln!("error {}: {message}", code.name());
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: custom_capture URL [--seconds N]");
        return ExitCode::from(2);
    };
    let seconds: f64 = match (args.next().as_deref(), args.next()) {
        (Some("--seconds"), Some(n)) => n.parse().unwrap_or(10.0),
        _ => 10.0,
    };
    let (w, h, fps) = (1280u32, 720u32, 30u32);
    let pusher = V2TXLivePusher::new();
    pusher.set_observer(Some(Arc::new(Log)));
    let param = VideoEncoderParam::new(
        VideoResolution::R1280x720,
        ResolutionMode::Landscape,
        fps,
        0,
        0,
    )
    .expect("valid");
    let _ = pusher.set_video_quality(param);
    let _ = pusher.set_audio_quality(AudioQuality::Default);
    let _ = pusher.enable_custom_video_capture(true);
    let _ = pusher.enable_custom_audio_capture(true);
    if let Err(e) = pusher.start_push(&url) {
        eprintln!("custom_capture: {e}");
        return ExitCode::FAILURE;
    }
    let start = Instant::now();
    let mut n = 0u32;
    let mut phase = 0f64;
    let pattern = onair_codec::TestPattern::new(w, h);
    while start.elapsed().as_secs_f64() < seconds {
        // One video frame and 33 ms of a 440 Hz tone (48 kHz mono), every 1/fps.
        let wall_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let picture = pattern.frame(n, wall_ms, onair_core::Timestamp::ZERO, false);
        let frame = V2TXLiveVideoFrame::new(PixelFormat::I420, w, h, picture.data().clone());
        if let Err(e) = pusher.send_custom_video_frame(&frame) {
            eprintln!("video frame refused: {e}");
        }
        let samples: Vec<u8> = (0..1600)
            .flat_map(|_| {
                phase += 2.0 * std::f64::consts::PI * 440.0 / 48_000.0;
                ((phase.sin() * 8000.0) as i16).to_le_bytes()
            })
            .collect();
        let pcm = V2TXLiveAudioFrame {
            data: Bytes::from(samples),
            sample_rate: 48_000,
            channels: 1,
        };
        if let Err(e) = pusher.send_custom_audio_frame(&pcm) {
            eprintln!("audio frame refused: {e}");
        }
        n += 1;
        let due = start + Duration::from_secs_f64(f64::from(n) / f64::from(fps));
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    }
    let _ = pusher.stop_push();
    eprintln!("custom_capture: pushed {n} frames");
    ExitCode::SUCCESS
}
