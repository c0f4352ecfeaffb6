//! The GPU custom-process hook: push the test pattern through a WGSL effect (colour inversion
//! by default, or your own compute shader) with `enable_custom_video_process(true, Texture2D,
//! Texture)`. onair gives the hook its wgpu device and queue, uploads each frame to `src`, and
//! encodes what the effect wrote into `dst` (converted to I420 on the GPU).
//!
//! ```sh
//! cargo run --release --example gpu_process -- rtmp://127.0.0.1:1935/live/test --seconds 10
//! cargo run --release --example gpu_process -- rtmp://127.0.0.1:1935/live/test --shader my.wgsl
//! ```
//! A shader reads `src: texture_2d<f32>` at binding 0 and writes
//! `dst: texture_storage_2d<rgba8unorm, write>` at binding 1 from `@compute fn main`
//! (see `examples/shaders/invert.wgsl`).

use onair::{
    BufferType, GpuContext, PixelFormat, ProcessVideoFrame, PushStatus, V2TXLiveCode,
    V2TXLivePusher, V2TXLivePusherObserver,
};
mod effect;
use effect::{GpuEffect, INVERT_WGSL};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Effect {
    wgsl: String,
    gpu: Mutex<Option<(Arc<GpuContext>, GpuEffect)>>,
    frames: AtomicU64,
    failed: AtomicBool,
}

impl V2TXLivePusherObserver for Effect {
    fn on_gpu_context_created(&self, ctx: &Arc<GpuContext>) {
        eprintln!(
            "GPU context on {} ({:?})",
            ctx.adapter.name, ctx.adapter.backend
        );
        *self.gpu.lock().unwrap() = Some((ctx.clone(), GpuEffect::new(ctx, &self.wgsl)));
    }
    fn on_gpu_context_destroyed(&self) {
        self.gpu.lock().unwrap().take();
        eprintln!(
            "GPU context gone after {} frames",
            self.frames.load(Ordering::Acquire)
        );
    }
    fn on_process_video_frame(&self, frame: ProcessVideoFrame<'_>) {
        if let ProcessVideoFrame::Texture { src, dst, .. } = frame {
            if let Some((ctx, effect)) = self.gpu.lock().unwrap().as_ref() {
                effect.run(ctx, src, dst);
                self.frames.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
    fn on_push_status_update(&self, status: PushStatus, message: &str, _: &str) {
        eprintln!("status {status:?}: {message}");
    }
    fn on_error(&self, code: V2TXLiveCode, message: &str, _: &str) {
        eprintln!("error {}: {message}", code.name());
        self.failed.store(true, Ordering::Release);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first().filter(|a| !a.starts_with("--")) else {
        eprintln!("usage: gpu_process URL [--seconds N] [--shader FILE.wgsl]");
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
    let wgsl = match flag("--shader") {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot read {path}: {e}");
                return ExitCode::from(2);
            }
        },
        None => INVERT_WGSL.to_string(),
    };
    let effect = Arc::new(Effect {
        wgsl,
        gpu: Mutex::new(None),
        frames: AtomicU64::new(0),
        failed: AtomicBool::new(false),
    });
    let pusher = V2TXLivePusher::new();
    pusher.set_observer(Some(effect.clone()));
    if let Err(e) =
        pusher.enable_custom_video_process(true, PixelFormat::Texture2D, BufferType::Texture)
    {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = pusher.start_push(url) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let _ = pusher.stop_push();
    let frames = effect.frames.load(Ordering::Acquire);
    println!("processed {frames} frames on the GPU");
    if effect.failed.load(Ordering::Acquire) || frames == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
