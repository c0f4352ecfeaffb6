//! The player against ffmpeg in the same run, through the same nginx-rtmp:
//! - **Glass-to-glass latency**: `onair push` -> nginx-rtmp -> `onair play --cache speed`,
//!   beside ffmpeg (libx264 ultrafast zerolatency, fed the same stamped test pattern through a
//!   pipe) -> nginx-rtmp -> ffmpeg (`-fflags nobuffer -flags low_delay`, raw frames to a pipe).
//!   Both read the capture time stamped into each picture when the decoded picture is out;
//!   p50 and p95 over all pictures, also for `onair push --audio none` (video only, like the
//!   ffmpeg pipeline). Goal: onair p50 <= 200 ms and below ffmpeg's.
//! - **Decode CPU**: one 1280x720 30 fps stream from `onair push`, played for the same time
//!   by `onair play` and by `ffmpeg -i URL -f null -` (both decode video and audio); CPU
//!   seconds from GNU time, median of 3 alternating runs. Goal <= 1.1x.
//!
//! Results go to `benches/RESULTS.md` (section `play_vs_ffmpeg`).

use onair_codec::{read_stamp, TestPattern};
use onair_core::{PixelFormat, Timestamp, VideoFrame};
use onair_testkit::peers::{measure_command, require, Child, Nginx};
use onair_testkit::results::{is_bench_run, quantile, write_section};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const LATENCY_SECONDS: u64 = 12;
const CPU_SECONDS: &str = "12";

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// onair push -> nginx -> onair play (speed): latencies from `onair play`'s summary.
fn onair_latency(onair: &str, nginx: &Nginx, audio: &str) -> (f64, f64, usize) {
    let url = nginx.url(&format!("latency-onair-{audio}"));
    let _push = Child(
        Command::new(onair)
            .args([
                "push", &url, "--preset", "640x360", "--fps", "30", "--audio", audio,
            ])
            .args(["--seconds", &(LATENCY_SECONDS + 6).to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("onair push"),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("play.json");
    let out = Command::new(onair)
        .args(["play", &url, "--cache", "speed", "--seconds"])
        .arg(LATENCY_SECONDS.to_string())
        .arg("--stats-json")
        .arg(&json)
        .arg("--last-frame")
        .arg(dir.path().join("last.png"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("onair play");
    assert!(out.success(), "onair play failed");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("summary")).expect("json");
    let l = &v["latency"];
    (
        l["p50_ms"].as_f64().expect("p50"),
        l["p95_ms"].as_f64().expect("p95"),
        l["samples"].as_u64().unwrap_or(0) as usize,
    )
}

/// The stamped pattern through ffmpeg (x264 zerolatency) -> nginx -> ffmpeg (nobuffer,
/// low_delay); latency read from the raw pictures ffmpeg writes to its stdout.
fn ffmpeg_latency(ffmpeg: &str, nginx: &Nginx) -> (f64, f64, usize) {
    let url = nginx.url("latency-ffmpeg");
    let (w, h, fps) = (640u32, 360u32, 30u64);
    let mut publisher = Command::new(ffmpeg)
        .args([
            "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "640x360",
        ])
        .args([
            "-r",
            "30",
            "-i",
            "-",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ])
        .args([
            "-tune",
            "zerolatency",
            "-g",
            "60",
            "-b:v",
            "900k",
            "-f",
            "flv",
            &url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ffmpeg publisher");
    let mut stdin = publisher.stdin.take().expect("stdin");
    let _publisher = Child(publisher);
    let feeder = std::thread::spawn(move || {
        let pattern = TestPattern::new(w, h);
        let start = Instant::now();
        let total = (LATENCY_SECONDS + 6) * fps;
        for n in 0..total {
            let due = start + Duration::from_micros(n * 1_000_000 / fps);
            if let Some(d) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(d);
            }
            let f = pattern.frame(n as u32, wall_ms(), Timestamp::ZERO, false);
            if stdin.write_all(f.data()).is_err() {
                return;
            }
        }
    });
    let mut player = Command::new(ffmpeg)
        .args(["-v", "error", "-fflags", "nobuffer", "-flags", "low_delay"])
        .args(["-probesize", "32", "-analyzeduration", "0", "-i", &url])
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ffmpeg player");
    let mut out = player.stdout.take().expect("stdout");
    let _player = Child(player);
    let frame_len = (w * h * 3 / 2) as usize;
    let mut buf = vec![0u8; frame_len];
    let mut latencies = Vec::new();
    let mut first: Option<Instant> = None;
    while out.read_exact(&mut buf).is_ok() {
        let now = wall_ms() as f64;
        let first = *first.get_or_insert_with(Instant::now);
        let f = VideoFrame::new(PixelFormat::I420, w, h, bytes::Bytes::copy_from_slice(&buf))
            .expect("frame");
        if let Some(s) = read_stamp(&f) {
            latencies.push(now - s.capture_ms as f64);
        }
        if first.elapsed() >= Duration::from_secs(LATENCY_SECONDS) {
            break;
        }
    }
    drop(out);
    let _ = feeder.join();
    latencies.sort_by(f64::total_cmp);
    assert!(
        !latencies.is_empty(),
        "ffmpeg delivered no stamped pictures"
    );
    (
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.95),
        latencies.len(),
    )
}

fn main() {
    if !is_bench_run() {
        println!("play_vs_ffmpeg: a whole-pipeline bench; run it with `cargo bench --bench play_vs_ffmpeg`");
        return;
    }
    let nginx = Nginx::start();
    let onair = std::path::PathBuf::from(env!("CARGO_BIN_EXE_onair"))
        .display()
        .to_string();
    let ffmpeg = require("ffmpeg").display().to_string();

    let (o50, o95, on) = onair_latency(&onair, &nginx, "default");
    let (v50, v95, vn) = onair_latency(&onair, &nginx, "none");
    let (f50, f95, fnum) = ffmpeg_latency(&ffmpeg, &nginx);

    // Decode CPU on one stream.
    let url = nginx.url("decode");
    let _push = Child(
        Command::new(&onair)
            .args([
                "push",
                &url,
                "--preset",
                "1280x720",
                "--fps",
                "30",
                "--bitrate",
                "1800",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("onair push"),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let last = dir.path().join("last.png").display().to_string();
    let onair_cmd = [
        onair.as_str(),
        "play",
        &url,
        "--seconds",
        CPU_SECONDS,
        "--last-frame",
        &last,
    ];
    let ffmpeg_cmd = [
        ffmpeg.as_str(),
        "-v",
        "error",
        "-i",
        &url,
        "-t",
        CPU_SECONDS,
        "-f",
        "null",
        "-",
    ];
    let (mut oc, mut fc) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        oc.push(measure_command(&onair_cmd).0);
        fc.push(measure_command(&ffmpeg_cmd).0);
    }
    let (oc, fc) = (median(oc), median(fc));
    let body = format!(
        "### Play: glass-to-glass latency through nginx-rtmp, 640x360 30 fps, {LATENCY_SECONDS} s of pictures\n\n\
         | pipeline | p50 ms | p95 ms | pictures |\n|---|---|---|---|\n\
         | `onair push` (video + AAC) -> nginx-rtmp -> `onair play --cache speed` (A/V clock) | {o50:.0} | {o95:.0} | {on} |\n\
         | `onair push --audio none` -> nginx-rtmp -> `onair play --cache speed` | {v50:.0} | {v95:.0} | {vn} |\n\
         | ffmpeg (x264 ultrafast zerolatency, video only) -> nginx-rtmp -> ffmpeg (nobuffer, low_delay) | {f50:.0} | {f95:.0} | {fnum} |\n\n\
         onair / ffmpeg p50, like for like (video only): {:.2}x; with audio and A/V sync: {:.2}x \
         (goal: p50 <= 200 ms in speed mode and below ffmpeg's). With audio, pictures wait for the \
         sound they belong to, which trails by the AAC encoder's delay.\n\n\
         ### Play: decode CPU, one 1280x720 30 fps + AAC stream from `onair push`, {CPU_SECONDS} s (median of 3 runs each)\n\n\
         | player | CPU seconds |\n|---|---|\n\
         | `onair play` (FFmpeg H.264 + AAC decode, jitter buffer, render callback) | {oc:.2} |\n\
         | `ffmpeg -i URL -f null -` | {fc:.2} |\n\n\
         Ratio onair / ffmpeg: {:.2}x (goal <= 1.1x). Measured by `cargo bench --bench play_vs_ffmpeg`.",
        v50 / f50,
        o50 / f50,
        oc / fc,
    );
    println!("{body}");
    if let Err(e) = write_section("play_vs_ffmpeg", &body) {
        eprintln!("could not write the results file: {e}");
    }
}
