//! Custom rendering: a renderer consumes decoded pictures through `on_render_video_frame`
//! (RGBA32 byte buffers here; I420, NV12 and BGRA32 work the same way) and draws them itself.
//! This one writes every Nth picture as a PNG.
//!
//! ```sh
//! cargo run --release --example custom_render -- http://127.0.0.1:8080/live/test.flv --seconds 5 --out frames
//! ```

use onair::{
    BufferType, PixelFormat, V2TXLiveCode, V2TXLivePlayer, V2TXLivePlayerObserver, VideoFrame,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

struct PngWriter {
    dir: PathBuf,
    every: u64,
    frames: AtomicU64,
    written: AtomicU64,
}

impl V2TXLivePlayerObserver for PngWriter {
    fn on_error(&self, _p: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, _extra: &str) {
        eprintln!("error {}: {message}", code.name());
    }
    fn on_render_video_frame(&self, _p: &V2TXLivePlayer, frame: &VideoFrame) {
        let n = self.frames.fetch_add(1, Ordering::Relaxed);
        if n % self.every != 0 {
            return;
        }
        // RGBA32 rows may be padded: copy width * 4 bytes of each stride.
        let (w, h, stride) = (frame.width(), frame.height(), frame.stride() as usize);
        let row = w as usize * 4;
        let mut rgba = Vec::with_capacity(row * h as usize);
        for y in 0..h as usize {
            rgba.extend_from_slice(&frame.data()[y * stride..y * stride + row]);
        }
        if let Some(img) = image::RgbaImage::from_raw(w, h, rgba) {
            let path = self.dir.join(format!("frame-{n:06}.png"));
            match img.save(&path) {
                Ok(()) => {
                    self.written.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => eprintln!("{}: {e}", path.display()),
            }
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else {
        eprintln!("usage: custom_render URL [--seconds N] [--out DIR]");
        return ExitCode::from(2);
    };
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let seconds: f64 = flag("--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let dir = PathBuf::from(flag("--out").map_or("frames", String::as_str));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let writer = Arc::new(PngWriter {
        dir,
        every: 15,
        frames: AtomicU64::new(0),
        written: AtomicU64::new(0),
    });
    let player = V2TXLivePlayer::new();
    player.set_observer(Some(writer.clone()));
    if let Err(e) =
        player.enable_custom_rendering(true, PixelFormat::Rgba32, BufferType::ByteBuffer)
    {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = player.start_play(url) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let _ = player.stop_play();
    let (frames, written) = (
        writer.frames.load(Ordering::Relaxed),
        writer.written.load(Ordering::Relaxed),
    );
    println!("{frames} pictures rendered, {written} written as PNG");
    if written > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
