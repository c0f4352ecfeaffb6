//! Conversions to I420 on one core, onair's kernels (`onair_codec::i420_kernels`, AVX2 where the
//! CPU has it) against libyuv's, same input, same run, reused output buffers: RGBA -> I420
//! in alternating rounds (libyuv's `ABGRToI420`, its name for R,G,B,A byte order) and NV12 -> I420 (`NV12ToI420`) at
//! 1280x720 and 1920x1080; and back, the render side: I420 -> RGBA (`I420ToABGR`) and I420 ->
//! NV12 (`I420ToNV12`). Each output is also compared with onair's scalar reference (goal:
//! within 1 level) and with libyuv's. libyuv (Debian libyuv-dev) is linked by this bench only.
//! Results go to `benches/RESULTS.md`.

use criterion::{criterion_group, Criterion};
use onair_codec::convert::{from_i420_into, nv12_to_i420_into, rgb_to_i420_into};
use onair_codec::i420_kernels::{self, Kernel, PixelOrder};
use onair_core::{PixelFormat, VideoFrame};
use onair_testkit::results::{is_bench_run, median_ns_alternating, write_section};
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
    fn I420ToABGR(
        src_y: *const u8,
        src_stride_y: i32,
        src_u: *const u8,
        src_stride_u: i32,
        src_v: *const u8,
        src_stride_v: i32,
        dst_abgr: *mut u8,
        dst_stride_abgr: i32,
        width: i32,
        height: i32,
    ) -> i32;
    fn I420ToNV12(
        src_y: *const u8,
        src_stride_y: i32,
        src_u: *const u8,
        src_stride_u: i32,
        src_v: *const u8,
        src_stride_v: i32,
        dst_y: *mut u8,
        dst_stride_y: i32,
        dst_uv: *mut u8,
        dst_stride_uv: i32,
        width: i32,
        height: i32,
    ) -> i32;
    fn NV12ToI420(
        src_y: *const u8,
        src_stride_y: i32,
        src_uv: *const u8,
        src_stride_uv: i32,
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

const SIZES: [(usize, usize); 2] = [(1280, 720), (1920, 1080)];

/// Timed rounds per contender, alternating.
const ROUNDS: usize = 41;

/// A picture with gradients and fine detail, so no kernel meets only flat areas.
fn rgba(w: usize, h: usize) -> Vec<u8> {
    (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [
                (x * 255 / w) as u8,
                (y * 255 / h) as u8,
                ((x + y) % 256) as u8,
                255,
            ]
        })
        .collect()
}

/// NV12 planes of a `w` x `h` picture: luma and interleaved chroma.
fn nv12(w: usize, h: usize) -> (Vec<u8>, Vec<u8>) {
    let y = (0..w * h)
        .map(|i| ((i % w + i / w) % 220 + 16) as u8)
        .collect();
    let uv = (0..w * h / 2).map(|i| ((i * 7) % 224 + 16) as u8).collect();
    (y, uv)
}

fn planes(out: &mut [u8], w: usize, h: usize) -> (&mut [u8], &mut [u8], &mut [u8]) {
    let (y, uv) = out.split_at_mut(w * h);
    let (u, v) = uv.split_at_mut(w * h / 4);
    (y, u, v)
}

fn libyuv_rgba(src: &[u8], out: &mut [u8], w: usize, h: usize) {
    let (y, u, v) = planes(out, w, h);
    // SAFETY: every pointer covers its full plane for the given strides and size, the buffers
    // do not overlap, and libyuv only reads `src` and writes the three planes.
    let rc = unsafe {
        ABGRToI420(
            src.as_ptr(),
            (w * 4) as i32,
            y.as_mut_ptr(),
            w as i32,
            u.as_mut_ptr(),
            (w / 2) as i32,
            v.as_mut_ptr(),
            (w / 2) as i32,
            w as i32,
            h as i32,
        )
    };
    assert_eq!(rc, 0, "libyuv failed");
}

fn libyuv_nv12(src: &(Vec<u8>, Vec<u8>), out: &mut [u8], w: usize, h: usize) {
    let (y, u, v) = planes(out, w, h);
    // SAFETY: as above; the NV12 planes are `w` bytes per row, `h` and `h / 2` rows.
    let rc = unsafe {
        NV12ToI420(
            src.0.as_ptr(),
            w as i32,
            src.1.as_ptr(),
            w as i32,
            y.as_mut_ptr(),
            w as i32,
            u.as_mut_ptr(),
            (w / 2) as i32,
            v.as_mut_ptr(),
            (w / 2) as i32,
            w as i32,
            h as i32,
        )
    };
    assert_eq!(rc, 0, "libyuv failed");
}

/// The three planes of tightly packed I420.
fn split(i420: &[u8], w: usize, h: usize) -> (&[u8], &[u8], &[u8]) {
    let (y, uv) = i420.split_at(w * h);
    let (u, v) = uv.split_at(w * h / 4);
    (y, u, v)
}

fn libyuv_to_rgba(i420: &[u8], out: &mut [u8], w: usize, h: usize) {
    let (y, u, v) = split(i420, w, h);
    // SAFETY: the planes hold a full `w` x `h` I420 picture, `out` `w * h * 4` bytes; libyuv
    // only reads the planes and writes `out`.
    let rc = unsafe {
        I420ToABGR(
            y.as_ptr(),
            w as i32,
            u.as_ptr(),
            (w / 2) as i32,
            v.as_ptr(),
            (w / 2) as i32,
            out.as_mut_ptr(),
            (w * 4) as i32,
            w as i32,
            h as i32,
        )
    };
    assert_eq!(rc, 0, "libyuv failed");
}

fn libyuv_to_nv12(i420: &[u8], out: &mut [u8], w: usize, h: usize) {
    let (y, u, v) = split(i420, w, h);
    let (oy, ouv) = out.split_at_mut(w * h);
    // SAFETY: as above; NV12 is `w` bytes per row, `h` and `h / 2` rows.
    let rc = unsafe {
        I420ToNV12(
            y.as_ptr(),
            w as i32,
            u.as_ptr(),
            (w / 2) as i32,
            v.as_ptr(),
            (w / 2) as i32,
            oy.as_mut_ptr(),
            w as i32,
            ouv.as_mut_ptr(),
            w as i32,
            w as i32,
            h as i32,
        )
    };
    assert_eq!(rc, 0, "libyuv failed");
}

fn onair_from_i420(frame: &VideoFrame, format: PixelFormat, out: &mut [u8]) {
    from_i420_into(frame, format, out).expect("sizes fit");
}

fn onair_rgba(src: &[u8], out: &mut [u8], w: usize, h: usize) {
    rgb_to_i420_into(src, w * 4, w, h, false, out).expect("sizes fit");
}

fn onair_nv12(src: &(Vec<u8>, Vec<u8>), out: &mut [u8], w: usize, h: usize) {
    nv12_to_i420_into((&src.0, w), (&src.1, w), w, h, out).expect("sizes fit");
}

fn max_diff(a: &[u8], b: &[u8]) -> u8 {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0)
}

fn bench(c: &mut Criterion) {
    let (w, h) = (1920, 1080);
    let (src, nv) = (rgba(w, h), nv12(w, h));
    let mut out = vec![0u8; w * h * 3 / 2];
    let mut g = c.benchmark_group("to_i420_1080p");
    g.sample_size(20);
    g.bench_function("onair RGBA", |b| {
        b.iter(|| onair_rgba(&src, black_box(&mut out), w, h))
    });
    g.bench_function("libyuv ABGRToI420", |b| {
        b.iter(|| libyuv_rgba(&src, black_box(&mut out), w, h))
    });
    g.bench_function("onair NV12", |b| {
        b.iter(|| onair_nv12(&nv, black_box(&mut out), w, h))
    });
    g.bench_function("libyuv NV12ToI420", |b| {
        b.iter(|| libyuv_nv12(&nv, black_box(&mut out), w, h))
    });
    g.finish();
}

/// One table row: onair and libyuv per frame, their ratio, and the output differences.
fn row(
    name: &str,
    (w, h): (usize, usize),
    out_len: usize,
    ours: impl Fn(&mut [u8]),
    reference: impl Fn(&mut [u8]),
    theirs: impl Fn(&mut [u8]),
) -> (String, f64) {
    let (mut out, mut out2) = (vec![0u8; out_len], vec![0u8; out_len]);
    let (a, b) = median_ns_alternating(
        ROUNDS,
        20,
        || ours(black_box(&mut out)),
        || theirs(black_box(&mut out2)),
    );
    let (mut o, mut r, mut t) = (out.clone(), out.clone(), out);
    ours(&mut o);
    reference(&mut r);
    theirs(&mut t);
    let line = format!(
        "| {name} | {w}x{h} | {:.3} | {:.3} | {:.2}x | {} | {} |",
        a / 1e6,
        b / 1e6,
        a / b,
        max_diff(&o, &r),
        max_diff(&o, &t)
    );
    (line, a / b)
}

fn write_results() {
    let mut rows = Vec::new();
    let (mut worst, mut back_worst): (f64, f64) = (0.0, 0.0);
    let kernel = Kernel::best();
    for (w, h) in SIZES {
        let src = rgba(w, h);
        let (line, ratio) = row(
            "RGBA -> I420",
            (w, h),
            w * h * 3 / 2,
            |o| onair_rgba(&src, o, w, h),
            |o| {
                let p = planes(o, w, h);
                i420_kernels::rgb_to_i420(&src, w * 4, (w, h), PixelOrder::Rgba, p, Kernel::Scalar)
            },
            |o| libyuv_rgba(&src, o, w, h),
        );
        rows.push(line);
        worst = worst.max(ratio);
        let nv = nv12(w, h);
        let (line, ratio) = row(
            "NV12 -> I420",
            (w, h),
            w * h * 3 / 2,
            |o| onair_nv12(&nv, o, w, h),
            |o| {
                let p = planes(o, w, h);
                i420_kernels::nv12_to_i420((&nv.0, w), (&nv.1, w), (w, h), p, Kernel::Scalar)
            },
            |o| libyuv_nv12(&nv, o, w, h),
        );
        rows.push(line);
        worst = worst.max(ratio);
        // The render side: the test picture as I420 back to RGBA and to NV12.
        let mut i420 = vec![0u8; w * h * 3 / 2];
        onair_rgba(&src, &mut i420, w, h);
        let frame = VideoFrame::new(PixelFormat::I420, w as u32, h as u32, i420.clone().into())
            .expect("an I420 picture");
        let (line, ratio) = row(
            "I420 -> RGBA",
            (w, h),
            w * h * 4,
            |o| onair_from_i420(&frame, PixelFormat::Rgba32, o),
            |o| {
                let p = split(&i420, w, h);
                i420_kernels::i420_to_rgb_reference(p, (w, h), PixelOrder::Rgba, o)
            },
            |o| libyuv_to_rgba(&i420, o, w, h),
        );
        rows.push(line);
        back_worst = back_worst.max(ratio);
        let (line, ratio) = row(
            "I420 -> NV12",
            (w, h),
            w * h * 3 / 2,
            |o| onair_from_i420(&frame, PixelFormat::Nv12, o),
            |o| {
                let (y, u, v) = split(&i420, w, h);
                let (oy, ouv) = o.split_at_mut(w * h);
                oy.copy_from_slice(y);
                for r in 0..h / 2 {
                    let (cu, cv) = (&u[r * w / 2..][..w / 2], &v[r * w / 2..][..w / 2]);
                    i420_kernels::merge_uv(cu, cv, &mut ouv[r * w..][..w], Kernel::Scalar);
                }
            },
            |o| libyuv_to_nv12(&i420, o, w, h),
        );
        rows.push(line);
        back_worst = back_worst.max(ratio);
    }
    let body = format!(
        "### Conversion to and from I420 on one core (median of 41 alternating rounds x 20 frames, reused buffers)\n\n\
         | conversion | size | onair ms per frame | libyuv ms per frame | onair / libyuv | max diff vs scalar reference | max diff vs libyuv |\n\
         |---|---|---|---|---|---|---|\n{}\n\n\
         onair's kernel here: {kernel:?}. Highest ratio to I420: {worst:.2}x, back from I420: \
         {back_worst:.2}x (goal <= 1.0x; lower is better). To I420 the output is within 1 level \
         of the scalar reference (goal); I420 -> RGBA is yuvutils' fixed point against a \
         floating-point reference. libyuv: `ABGRToI420`, `NV12ToI420`, `I420ToABGR`, \
         `I420ToNV12`. Measured by `cargo bench --bench convert`.",
        rows.join("\n")
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
