//! Encode cost per 720p frame, two sections of `benches/RESULTS.md`:
//! - `encode`: onair's `OpenH264Encoder` (encode, split NAL units, pick out SPS/PPS, build AVCC)
//!   against a bare openh264-crate loop with the same configuration, same frames, same run.
//!   Goal: <= 1.05x.
//! - `encode_backends`: every backend that opens here (openh264, x264, x265; the hardware ones
//!   where present) in process, against FFmpeg's CLI encoding the same raw frames
//!   (`ffmpeg -f rawvideo ... -c:v libx264 / libx265` with onair's settings, one thread each)
//!   in the same run: CPU seconds per frame (process user + system time) and PSNR of each
//!   output against the source, by FFmpeg's `psnr` filter. Goal: each backend <= 1.05x the
//!   CLI's CPU at the same PSNR. FFmpeg 5.1 has no libopenh264, so openh264 has no CLI row.

use criterion::{criterion_group, Criterion};
use onair_codec::video_encoder::openh264_config;
use onair_codec::{
    open_video_encoder, DecoderConfig, EncoderOptions, OpenH264Encoder, TestPattern, VideoEncoder,
    VideoEncoderBackend,
};
use onair_core::{
    Alignment, PixelFormat, ResolutionMode, Timestamp, VideoCodec, VideoEncoderParam, VideoFrame,
    VideoResolution,
};
use onair_testkit::peers::{measure_command, process_cpu_seconds, require};
use onair_testkit::results::{is_bench_run, write_section};
use openh264::encoder::Encoder;
use openh264::formats::YUVSlices;
use openh264::OpenH264API;
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
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

/// 10 s of FFmpeg's testsrc2 at 720p30 as raw I420 (harder than the stamped pattern).
const RAW_FRAMES: usize = 300;

fn write_source(path: &Path) -> Vec<VideoFrame> {
    let out = std::process::Command::new(require("ffmpeg"))
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
        ])
        .args(["-frames:v", &RAW_FRAMES.to_string()])
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-y"])
        .arg(path)
        .status()
        .expect("run ffmpeg");
    assert!(out.success(), "ffmpeg could not write the raw source");
    let raw = std::fs::read(path).unwrap();
    raw.chunks_exact(1280 * 720 * 3 / 2)
        .enumerate()
        .map(|(n, c)| {
            VideoFrame::new(
                PixelFormat::I420,
                1280,
                720,
                bytes::Bytes::copy_from_slice(c),
            )
            .unwrap()
            .with_timestamp(Timestamp::from_micros(n as u64 * 1_000_000 / 30))
        })
        .collect()
}

/// Encodes `frames` in process: CPU seconds (the whole process: encoder threads count) and the
/// Annex B stream.
fn onair_encode(
    backend: VideoEncoderBackend,
    codec: VideoCodec,
    frames: &[VideoFrame],
) -> Option<(f64, Vec<u8>)> {
    let (mut enc, _) =
        open_video_encoder(backend, codec, target(), EncoderOptions::default()).ok()?;
    let mut out = Vec::new();
    let mut units = Vec::with_capacity(frames.len());
    let before = process_cpu_seconds(std::process::id());
    for f in frames {
        if let Some(e) = enc.encode(f).unwrap() {
            units.push(e);
        }
    }
    let cpu = process_cpu_seconds(std::process::id()) - before;
    for e in units {
        match &e.config {
            Some(DecoderConfig::Avc(c)) => out.extend_from_slice(&c.to_annexb()),
            Some(DecoderConfig::Hevc(c)) => {
                for (_, nals) in &c.arrays {
                    for n in nals {
                        out.extend_from_slice(&[0, 0, 0, 1]);
                        out.extend_from_slice(n);
                    }
                }
            }
            None => {}
        }
        let nals = onair_flv::avcc::split_avcc(&e.avcc, 4).unwrap();
        out.extend_from_slice(&onair_flv::avcc::join_annexb(nals));
    }
    Some((cpu, out))
}

/// The FFmpeg CLI line with onair's settings for `backend` (same rate control, GOP, preset).
fn cli_args(backend: VideoEncoderBackend) -> Option<Vec<String>> {
    let rate = format!(
        "{}k",
        (1800.0 * onair_codec::ffmpeg_encoder::X264_RATE_HEADROOM) as u32
    );
    let common = |v: &mut Vec<String>| {
        for a in [
            "-b:v", &rate, "-maxrate", &rate, "-bufsize", "1800k", "-g", "60", "-bf", "0",
        ] {
            v.push(a.to_string());
        }
        v.extend(["-forced-idr", "1", "-threads", "1"].map(String::from));
    };
    let mut v: Vec<String> = Vec::new();
    match backend {
        VideoEncoderBackend::X264 => {
            v.extend(
                ["-c:v", "libx264", "-preset", "fast", "-tune", "zerolatency"].map(String::from),
            );
            v.extend(
                [
                    "-profile:v",
                    "high",
                    "-x264-params",
                    "scenecut=0:repeat-headers=1",
                ]
                .map(String::from),
            );
            common(&mut v);
            v.extend(["-f", "h264"].map(String::from));
        }
        VideoEncoderBackend::X265 => {
            v.extend(
                [
                    "-c:v",
                    "libx265",
                    "-preset",
                    "ultrafast",
                    "-tune",
                    "zerolatency",
                ]
                .map(String::from),
            );
            v.extend(["-profile:v", "main", "-x265-params"].map(String::from));
            v.push(
                "log-level=error:keyint=60:min-keyint=60:scenecut=0:repeat-headers=1:bframes=0"
                    .into(),
            );
            common(&mut v);
            v.extend(["-f", "hevc"].map(String::from));
        }
        _ => return None,
    }
    Some(v)
}

/// FFmpeg's CLI encoding the raw source: CPU seconds (GNU time) of the whole command.
fn cli_encode(raw: &Path, args: &[String], out: &Path) -> f64 {
    let ffmpeg = require("ffmpeg").display().to_string();
    let raw = raw.display().to_string();
    let out = out.display().to_string();
    let mut cmd: Vec<&str> = vec![
        &ffmpeg, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
    ];
    cmd.extend(["-s", "1280x720", "-r", "30", "-i", &raw]);
    cmd.extend(args.iter().map(String::as_str));
    cmd.push(&out);
    measure_command(&cmd).0
}

/// PSNR of `encoded` against the raw source (Y, and the average over all planes, dB), and
/// its kbit/s.
fn psnr(encoded: &Path, raw: &Path) -> (f64, f64, f64) {
    let out = std::process::Command::new(require("ffmpeg"))
        .args(["-v", "info", "-hide_banner", "-i"])
        .arg(encoded)
        .args([
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "1280x720", "-r", "30", "-i",
        ])
        .arg(raw)
        // Pair the frames by index: a raw H.264 / HEVC stream has no timestamps of its own.
        .args([
            "-lavfi",
            "[0:v]setpts=N/30/TB[a];[1:v]setpts=N/30/TB[b];[a][b]psnr",
        ])
        .args(["-f", "null", "-"])
        .output()
        .expect("run ffmpeg psnr");
    let err = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| {
        err.lines()
            .rev()
            .filter_map(|l| l.split(name).nth(1))
            .find_map(|r| r.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no PSNR {name} from ffmpeg:\n{err}"))
    };
    let bytes = std::fs::metadata(encoded).map_or(0, |m| m.len());
    (
        field(" y:"),
        field("average:"),
        bytes as f64 * 8.0 / (RAW_FRAMES as f64 / 30.0) / 1000.0,
    )
}

fn write_backend_results() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("source.yuv");
    let frames = write_source(&raw);
    let mut rows = Vec::new();
    let mut ratios = Vec::new();
    for backend in VideoEncoderBackend::PROBE_ORDER {
        for &codec in backend.codecs() {
            let ext = if codec == VideoCodec::H265 {
                "hevc"
            } else {
                "h264"
            };
            // Alternate onair and the CLI; the medians of three.
            let (mut ours, mut cli) = (Vec::new(), Vec::new());
            let (mut our_file, mut cli_file) = (None, None);
            for _ in 0..3 {
                let Some((cpu, stream)) = onair_encode(backend, codec, &frames) else {
                    break;
                };
                ours.push(cpu);
                let f = dir.path().join(format!("onair-{backend}.{ext}"));
                std::fs::File::create(&f)
                    .unwrap()
                    .write_all(&stream)
                    .unwrap();
                our_file = Some(f);
                if let Some(args) = cli_args(backend) {
                    let f = dir.path().join(format!("cli-{backend}.{ext}"));
                    cli.push(cli_encode(&raw, &args, &f));
                    cli_file = Some(f);
                }
            }
            let Some(our_file) = our_file else {
                rows.push(format!(
                    "| {backend} ({codec}) | not available here | | | |"
                ));
                continue;
            };
            ours.sort_by(f64::total_cmp);
            let o = ours[ours.len() / 2];
            let (y, db, kbps) = psnr(&our_file, &raw);
            rows.push(format!(
                "| onair {backend} ({codec}) | {:.2} | {y:.2} | {db:.2} | {kbps:.0} |",
                o / RAW_FRAMES as f64 * 1e3
            ));
            if let Some(cli_file) = cli_file {
                cli.sort_by(f64::total_cmp);
                let c = cli[cli.len() / 2];
                let (cy, cdb, ckbps) = psnr(&cli_file, &raw);
                rows.push(format!(
                    "| ffmpeg CLI, same encoder and settings | {:.2} | {cy:.2} | {cdb:.2} | {ckbps:.0} |",
                    c / RAW_FRAMES as f64 * 1e3
                ));
                ratios.push(format!(
                    "{backend} {:.2}x CPU, PSNR {:+.2} dB",
                    o / c,
                    db - cdb
                ));
            }
        }
    }
    let body = format!(
        "### Encoder backends, 1280x720 30 fps testsrc2 at 1800 kbps, {RAW_FRAMES} frames (median of 3 runs each)\n\n\
         | encoder | CPU ms per frame | PSNR-Y dB | PSNR avg dB | kbps |\n|---|---|---|---|---|\n{}\n\n\
         onair / FFmpeg CLI: {} (goal <= 1.05x at the same PSNR). CPU is the process's user + \
         system time, one encoder thread each (x265's wavefront pool uses every core on both \
         sides). Measured by `cargo bench --bench encode`.",
        rows.join("\n"),
        ratios.join("; ")
    );
    println!("{body}");
    if let Err(e) = write_section("encode_backends", &body) {
        eprintln!("could not write the results file: {e}");
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    if is_bench_run() {
        write_results();
        write_backend_results();
    }
    Criterion::default().configure_from_args().final_summary();
}
