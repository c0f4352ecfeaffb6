//! The custom-process hook at 1280x720: CPU cost per frame of the GPU path (I420 planes up to
//! an RGBA8 texture, a WGSL invert effect, GPU RGBA -> I420 and plane readback, as
//! `enable_custom_video_process(true, Texture2D, Texture)` runs it) against the CPU byte-buffer
//! paths (BGRA32: I420 -> BGRA, invert on the CPU, BGRA -> I420; I420: invert the planes in
//! place), same frames, same run. CPU time is the whole process's (user + system), so the
//! driver's own threads count. Results go to `benches/RESULTS.md`.

use criterion::{criterion_group, Criterion};
use onair_codec::convert::{from_i420, to_i420};
use onair_codec::TestPattern;
use onair_core::{PixelFormat, Timestamp, VideoFrame};
use onair_gpu::{new_frame_texture, FrameConverter, GpuContext};
#[path = "../examples/gpu_process/effect.rs"]
mod effect;
use effect::{GpuEffect, INVERT_WGSL};
use onair_testkit::peers::process_cpu_seconds;
use onair_testkit::results::{is_bench_run, write_section};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

const W: u32 = 1280;
const H: u32 = 720;

struct GpuPath {
    ctx: Arc<GpuContext>,
    conv: FrameConverter,
    effect: GpuEffect,
    src: onair_gpu::wgpu::Texture,
    dst: onair_gpu::wgpu::Texture,
}

impl GpuPath {
    fn new() -> Self {
        let ctx = GpuContext::new().expect("a wgpu adapter (mesa-vulkan-drivers gives lavapipe)");
        Self {
            conv: FrameConverter::new(ctx.clone()),
            effect: GpuEffect::new(&ctx, INVERT_WGSL),
            src: new_frame_texture(&ctx, W, H, "src"),
            dst: new_frame_texture(&ctx, W, H, "dst"),
            ctx,
        }
    }

    fn frame(&mut self, i420: &VideoFrame) -> VideoFrame {
        self.conv.upload(i420, &self.src).unwrap();
        self.effect.run(&self.ctx, &self.src, &self.dst);
        self.conv.download(&self.dst).unwrap()
    }
}

fn cpu_bgra(i420: &VideoFrame) -> VideoFrame {
    let bgra = from_i420(i420, PixelFormat::Bgra32).unwrap();
    let mut dst = bgra.data().to_vec();
    for px in dst.chunks_exact_mut(4) {
        px[0] = 255 - px[0];
        px[1] = 255 - px[1];
        px[2] = 255 - px[2];
    }
    to_i420(&VideoFrame::new(PixelFormat::Bgra32, W, H, dst.into()).unwrap()).unwrap()
}

fn cpu_i420(i420: &VideoFrame) -> VideoFrame {
    let luma = (W * H) as usize;
    let dst: Vec<u8> = i420
        .data()
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if i < luma {
                251u8.saturating_sub(v)
            } else {
                255 - v
            }
        })
        .collect();
    VideoFrame::new(PixelFormat::I420, W, H, dst.into()).unwrap()
}

fn frames() -> Vec<VideoFrame> {
    let p = TestPattern::new(W, H);
    (0..30)
        .map(|n| p.frame(n, 0, Timestamp::ZERO, false))
        .collect()
}

fn bench(c: &mut Criterion) {
    let frames = frames();
    let mut gpu = GpuPath::new();
    let mut g = c.benchmark_group("process_hook_720p");
    g.sample_size(10);
    g.bench_function("gpu texture hook", |b| {
        b.iter(|| black_box(gpu.frame(&frames[0])))
    });
    g.bench_function("cpu bgra32 hook", |b| {
        b.iter(|| black_box(cpu_bgra(&frames[0])))
    });
    g.bench_function("cpu i420 hook", |b| {
        b.iter(|| black_box(cpu_i420(&frames[0])))
    });
    g.finish();
}

/// (CPU ms per frame, wall ms per frame), median of 5 rounds of 60 frames.
fn measure(mut f: impl FnMut(&VideoFrame)) -> (f64, f64) {
    let frames = frames();
    let pid = std::process::id();
    let mut rounds = Vec::new();
    for round in 0..6 {
        let (cpu0, t0) = (process_cpu_seconds(pid), Instant::now());
        for i in 0..60 {
            f(&frames[i % frames.len()]);
        }
        let (cpu, wall) = (process_cpu_seconds(pid) - cpu0, t0.elapsed().as_secs_f64());
        if round > 0 {
            rounds.push((cpu * 1000.0 / 60.0, wall * 1000.0 / 60.0));
        }
    }
    rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    rounds[rounds.len() / 2]
}

fn write_results() {
    let mut gpu = GpuPath::new();
    let adapter = format!(
        "{} ({:?}, {:?})",
        gpu.ctx.adapter.name, gpu.ctx.adapter.backend, gpu.ctx.adapter.device_type
    );
    let (g_cpu, g_wall) = measure(|f| drop(black_box(gpu.frame(f))));
    let (b_cpu, b_wall) = measure(|f| drop(black_box(cpu_bgra(f))));
    let (i_cpu, i_wall) = measure(|f| drop(black_box(cpu_i420(f))));
    let body = format!(
        "### Custom-process hook, 1280x720, invert effect (median of 5 rounds x 60 frames)\n\n\
         | hook path | CPU ms per frame | wall ms per frame |\n|---|---|---|\n\
         | GPU texture hook on {adapter}: upload, WGSL invert, GPU RGBA->I420, plane readback | {g_cpu:.2} | {g_wall:.2} |\n\
         | CPU byte buffer, BGRA32: I420->BGRA, invert, BGRA->I420 | {b_cpu:.2} | {b_wall:.2} |\n\
         | CPU byte buffer, I420: invert the planes | {i_cpu:.2} | {i_wall:.2} |\n\n\
         GPU / CPU-BGRA32 CPU cost: {:.2}x (lower is better). CPU time is the whole process's, \
         so a software adapter's (lavapipe's) shader threads count against the GPU path; on a \
         hardware adapter the GPU path's CPU cost is the plane upload and readback only. \
         Measured by `cargo bench --bench process_hook`.",
        g_cpu / b_cpu
    );
    println!("{body}");
    if let Err(e) = write_section("process_hook", &body) {
        eprintln!("could not write the results file: {e}");
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    if is_bench_run() {
        write_results();
    }
    Criterion::default().configure_from_args().final_summary();
}
