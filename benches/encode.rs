//! Engine encode cost per 720p frame (onair's `OpenH264Encoder`: encode, split NAL units, pick
//! out SPS/PPS, build AVCC) against a bare openh264-crate loop with the same configuration,
//! same frames, same run. Goal: <= 1.05x. Results go to `benches/RESULTS.md`.

use criterion::{criterion_group, Criterion};
use onair_codec::video_encoder::openh264_config;
use onair_codec::{EncoderOptions, OpenH264Encoder, TestPattern, VideoEncoder};
use onair_core::{
    Alignment, ResolutionMode, Timestamp, VideoEncoderParam, VideoFrame, VideoResolution,
};
use onair_testkit::results::{is_bench_run, write_section};
use openh264::encoder::Encoder;
use openh264::formats::YUVSlices;
use openh264::OpenH264API;
use std::hint::black_box;
use std::time::Instant;

const FRAMES: usize = 120;

fn frames() -> Vec<VideoFrame> {
    let p = TestPattern::new(1280, 720);
    (0..FRAMES as u64)
        .map(|n| p.frame(n as u32, n, Timestamp::from_micros(n * 33_333), false))
        .collect()
}

fn target() -> onair_core::EncodeTarget {
    VideoEncoderParam::new(
        VideoResolution::R1280x720,
        ResolutionMode::Landscape,
        30,
        1800,
        0,
    )
    .unwrap()
    .resolve(Alignment::SOFTWARE)
}

/// Seconds to encode all frames with onair's encoder.
fn onair_pass(frames: &[VideoFrame]) -> f64 {
    let mut enc = OpenH264Encoder::new(target(), EncoderOptions::default()).unwrap();
    let start = Instant::now();
    for f in frames {
        black_box(enc.encode(f).unwrap());
    }
    start.elapsed().as_secs_f64()
}

/// Seconds to encode all frames with the bare openh264 crate, same config.
fn bare_pass(frames: &[VideoFrame]) -> f64 {
    let t = target();
    let mut enc = Encoder::with_api_config(
        OpenH264API::from_source(),
        openh264_config(&t, &EncoderOptions::default()),
    )
    .unwrap();
    let start = Instant::now();
    for f in frames {
        let (y, u, v) = (
            f.plane(0).unwrap(),
            f.plane(1).unwrap(),
            f.plane(2).unwrap(),
        );
        let yuv = YUVSlices::new(
            (y.data, u.data, v.data),
            (1280, 720),
            (y.stride, u.stride, v.stride),
        );
        let ts = openh264::Timestamp::from_millis(f.timestamp().as_millis());
        let bs = enc.encode_at(&yuv, ts).unwrap();
        black_box(bs.to_vec());
    }
    start.elapsed().as_secs_f64()
}

fn bench(c: &mut Criterion) {
    let frames = frames();
    let mut g = c.benchmark_group("encode_720p_120_frames");
    g.sample_size(10);
    g.bench_function("onair OpenH264Encoder", |b| b.iter(|| onair_pass(&frames)));
    g.bench_function("bare openh264 crate", |b| b.iter(|| bare_pass(&frames)));
    g.finish();
}

fn write_results() {
    let frames = frames();
    // Alternate the two so drift in machine load hits both alike; keep each one's median.
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        ours.push(onair_pass(&frames));
        bare.push(bare_pass(&frames));
    }
    ours.sort_by(f64::total_cmp);
    bare.sort_by(f64::total_cmp);
    let (o, b) = (ours[4] / FRAMES as f64 * 1e3, bare[4] / FRAMES as f64 * 1e3);
    let body = format!(
        "### H.264 encode, 1280x720 test pattern at 1800 kbps (median of 9 passes x {FRAMES} frames)\n\n\
         | encoder | ms per frame |\n|---|---|\n\
         | onair OpenH264Encoder (AVCC + parameter sets out) | {o:.3} |\n\
         | bare openh264 crate loop, same config | {b:.3} |\n\n\
         Ratio onair / bare: {:.3}x (goal <= 1.05x). Measured by `cargo bench --bench encode`.",
        o / b
    );
    println!("{body}");
    if let Err(e) = write_section("encode", &body) {
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
