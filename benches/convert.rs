//! RGBA -> I420 at 1080p: onair's conversion (yuvutils-rs) against libyuv's `ABGRToI420`
//! (libyuv's name for R,G,B,A byte order), same input, same run. libyuv (Debian libyuv-dev) is
//! linked by this bench only. Results go to `benches/RESULTS.md`.

use bytes::Bytes;
use criterion::{criterion_group, Criterion};
use onair_codec::convert::{rgb_to_i420_into, to_i420};
use onair_core::{PixelFormat, VideoFrame};
use onair_testkit::results::{is_bench_run, median_ns, write_section};
use std::hint::black_box;

#[link(name = "yuv")]
extern "C" {
    fn ABGRToI420(
        src_abgr: *const u8,
        src_stride_abgr: i32,
        dst_y: *mut u8,
        dst_stride_y: i32,
        dst_u: *mut u8,
        dst_stride_u: i32,
        dst_v: *mut u8,
        dst_stride_v: i32,
        width: i32,
        height: i32,
    ) -> i32;
}

const W: usize = 1920;
const H: usize = 1080;

fn input() -> Vec<u8> {
    (0..W * H)
        .flat_map(|i| {
            let (x, y) = (i % W, i / W);
            [
                (x * 255 / W) as u8,
                (y * 255 / H) as u8,
                ((x + y) % 256) as u8,
                255,
            ]
        })
        .collect()
}

fn libyuv(rgba: &[u8], out: &mut [u8]) {
    let (y, uv) = out.split_at_mut(W * H);
    let (u, v) = uv.split_at_mut(W * H / 4);
    // SAFETY: every pointer covers the full plane for the given strides and size, the buffers
    // do not overlap, and libyuv only reads `rgba` and writes the three planes.
    let rc = unsafe {
        ABGRToI420(
            rgba.as_ptr(),
            (W * 4) as i32,
            y.as_mut_ptr(),
            W as i32,
            u.as_mut_ptr(),
            (W / 2) as i32,
            v.as_mut_ptr(),
            (W / 2) as i32,
            W as i32,
            H as i32,
        )
    };
    assert_eq!(rc, 0, "libyuv failed");
}

fn bench(c: &mut Criterion) {
    let rgba = input();
    let frame = VideoFrame::new(
        PixelFormat::Rgba32,
        W as u32,
        H as u32,
        Bytes::from(rgba.clone()),
    )
    .unwrap();
    let mut out = vec![0u8; W * H * 3 / 2];
    let mut g = c.benchmark_group("rgba_to_i420_1080p");
    g.sample_size(20);
    g.bench_function("onair (yuvutils-rs)", |b| {
        b.iter(|| black_box(to_i420(&frame).unwrap()))
    });
    g.bench_function("onair kernel (reused buffer)", |b| {
        b.iter(|| rgb_to_i420_into(&rgba, W * 4, W, H, false, black_box(&mut out)).unwrap())
    });
    g.bench_function("libyuv ABGRToI420", |b| {
        b.iter(|| libyuv(&rgba, black_box(&mut out)))
    });
    g.finish();
}

fn write_results() {
    let rgba = input();
    let frame = VideoFrame::new(
        PixelFormat::Rgba32,
        W as u32,
        H as u32,
        Bytes::from(rgba.clone()),
    )
    .unwrap();
    let mut out = vec![0u8; W * H * 3 / 2];
    let ours = median_ns(15, 20, || drop(black_box(to_i420(&frame).unwrap())));
    let kernel = median_ns(15, 20, || {
        rgb_to_i420_into(&rgba, W * 4, W, H, false, black_box(&mut out)).unwrap()
    });
    let theirs = median_ns(15, 20, || libyuv(&rgba, black_box(&mut out)));
    // The two agree on the picture (libyuv uses the same BT.601 limited-range matrix).
    let a = to_i420(&frame).unwrap();
    libyuv(&rgba, &mut out);
    let max_diff = a
        .data()
        .iter()
        .zip(&out)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0);
    let body = format!(
        "### RGBA -> I420, 1920x1080 (median of 15 rounds x 20 frames)\n\n\
         | converter | ms per frame |\n|---|---|\n\
         | onair `to_i420` (yuvutils-rs, allocates a new frame) | {:.3} |\n\
         | onair `rgb_to_i420_into` (yuvutils-rs, reused buffer) | {:.3} |\n\
         | libyuv ABGRToI420 (reused buffer) | {:.3} |\n\n\
         Ratio onair / libyuv, like for like (reused buffers): {:.2}x; with the allocation: {:.2}x \
         (lower is better). Max sample difference between the two: {max_diff}. \
         Measured by `cargo bench --bench convert`.",
        ours / 1e6,
        kernel / 1e6,
        theirs / 1e6,
        kernel / theirs,
        ours / theirs
    );
    println!("{body}");
    if let Err(e) = write_section("convert", &body) {
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
