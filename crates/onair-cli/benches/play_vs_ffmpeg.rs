//! The player against ffmpeg in the same run, through the same relays:
//! - **Glass-to-glass latency**: `onair push` -> relay -> `onair play --cache speed`, beside
//!   ffmpeg (libx264 ultrafast zerolatency, fed the same stamped test pattern through a pipe)
//!   -> relay -> ffmpeg (`-fflags nobuffer -flags low_delay`, raw frames to a pipe). Both read
//!   the capture time stamped into each picture when the decoded picture is out; p50 and p95
//!   over all pictures of a run, median of 3 runs per row. Relays: nginx-rtmp (video + AAC, video only) and `onair serve`, which
//!   also carries Opus over Enhanced RTMP (nginx-rtmp announces no `fourCcList`, so an Opus
//!   push to it falls back to AAC): video + Opus 10 ms and 20 ms, video + AAC, video only.
//!   Goals (issue 23): with Opus and A/V sync p50 <= 40 ms, with AAC <= 50 ms; ffmpeg video
//!   only is the anchor.
//! - **Decode CPU**: one 1280x720 30 fps stream from `onair push`, played for the same time
//!   by `onair play` and by `ffmpeg -i URL -f null -` (both decode video and audio); CPU
//!   seconds from GNU time, median of 3 alternating runs. Goal <= 1.1x.
//!
//! Results go to `benches/RESULTS.md` (section `play_vs_ffmpeg`).

use onair_codec::{read_stamp, TestPattern};
use onair_core::{PixelFormat, Timestamp, VideoFrame};
use onair_testkit::peers::{measure_command, onair_serve, require, Child, Nginx};
use onair_testkit::results::{is_bench_run, quantile, write_section};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const LATENCY_SECONDS: u64 = 12;
const ROW_RUNS: usize = 3;
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

/// onair push (with `audio`: its audio arguments) -> relay -> onair play (speed): latencies
/// from `onair play`'s summary.
/// Runs one latency row `ROW_RUNS` times (stream names `-0`, `-1`, ...): the medians of the
/// runs' p50 and p95, and the pictures over all runs. One run's p50 swings by 10 ms with how
/// the audio blocks fall against the frames (Opus 10 ms read 10 to 23 ms from run to run).
fn row_median(run: impl Fn(&str) -> (f64, f64, usize), url: &str) -> (f64, f64, usize) {
    let runs: Vec<_> = (0..ROW_RUNS).map(|i| run(&format!("{url}-{i}"))).collect();
    (
        median(runs.iter().map(|r| r.0).collect()),
        median(runs.iter().map(|r| r.1).collect()),
        runs.iter().map(|r| r.2).sum(),
    )
}

fn onair_latency(onair: &str, url: &str, audio: &[&str]) -> (f64, f64, usize) {
    let _push = Child(
        Command::new(onair)
            .args(["push", url, "--preset", "640x360", "--fps", "30"])
            .args(audio)
            .args(["--seconds", &(LATENCY_SECONDS + 6).to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("onair push"),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("play.json");
    let out = Command::new(onair)
        .args(["play", url, "--cache", "speed", "--seconds"])
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

/// The stamped pattern through ffmpeg (x264 zerolatency) -> relay -> ffmpeg (nobuffer,
/// low_delay); latency read from the raw pictures ffmpeg writes to its stdout.
fn ffmpeg_latency(ffmpeg: &str, url: &str) -> (f64, f64, usize) {
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
            url,
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
        .args(["-probesize", "32", "-analyzeduration", "0", "-i", url])
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

    let aac = ["--audio", "default"];
    let none = ["--audio", "none"];
    let opus10 = ["--audio-codec", "opus", "--opus-frame-ms", "10"];
    let opus20 = ["--audio-codec", "opus", "--opus-frame-ms", "20"];
    let n_aac = row_median(
        |u| onair_latency(&onair, u, &aac),
        &nginx.url("latency-aac"),
    );
    let n_none = row_median(
        |u| onair_latency(&onair, u, &none),
        &nginx.url("latency-none"),
    );
    let n_ff = row_median(|u| ffmpeg_latency(&ffmpeg, u), &nginx.url("latency-ffmpeg"));
    let serve_dir = tempfile::tempdir().expect("temp dir");
    let serve = onair_serve(
        std::path::Path::new(&onair),
        serve_dir.path(),
        &["--record", "none", "--no-hls"],
    );
    let on_serve = |name: &str| format!("rtmp://127.0.0.1:{}/live/{name}", serve.rtmp);
    let s_opus10 = row_median(|u| onair_latency(&onair, u, &opus10), &on_serve("opus10"));
    let s_opus20 = row_median(|u| onair_latency(&onair, u, &opus20), &on_serve("opus20"));
    let s_aac = row_median(|u| onair_latency(&onair, u, &aac), &on_serve("aac"));
    let s_none = row_median(|u| onair_latency(&onair, u, &none), &on_serve("none"));
    let s_ff = row_median(|u| ffmpeg_latency(&ffmpeg, u), &on_serve("ffmpeg"));
    drop(serve);
    let row = |what: &str, (p50, p95, n): (f64, f64, usize)| {
        format!("| {what} | {p50:.0} | {p95:.0} | {n} |\n")
    };

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
        "### Play: glass-to-glass latency, 640x360 30 fps, {LATENCY_SECONDS} s of pictures per run, median of {ROW_RUNS} runs per row\n\n\
         | pipeline | p50 ms | p95 ms | pictures (all runs) |\n|---|---|---|---|\n\
         {}{}{}{}{}{}{}{}\n\
         With sound, `onair play` shows each picture with the sound captured with it (A/V \
         clock), so pictures wait for the sound, which trails by the audio path: the block the \
         sound is captured in (the test tone hands over 20 ms blocks for AAC, one frame for \
         Opus, like a microphone), the encoder's frame and look-ahead (AAC-LC, FDK's encoder \
         as FFmpeg's: a frame leaves once the next two are in, 64 ms after its first sample; \
         Opus low-delay: 2.5 ms), and the \
         packet's own duration. Every audio packet is stamped with the capture time of the \
         samples it decodes to.\n\n\
         Goals (issue 23), through `onair serve` (nginx-rtmp announces no Enhanced RTMP \
         `fourCcList`, so it is not offered Opus): with Opus 10 ms and A/V sync p50 {:.0} ms \
         (goal <= 40); with AAC p50 {:.0} ms (goal <= 50). onair / ffmpeg p50, video only: \
         {:.2}x through nginx-rtmp, {:.2}x through `onair serve`.\n\n\
         ### Play: decode CPU, one 1280x720 30 fps + AAC stream from `onair push`, {CPU_SECONDS} s (median of 3 runs each)\n\n\
         | player | CPU seconds |\n|---|---|\n\
         | `onair play` (FFmpeg H.264 + AAC decode, jitter buffer, render callback) | {oc:.2} |\n\
         | `ffmpeg -i URL -f null -` | {fc:.2} |\n\n\
         Ratio onair / ffmpeg: {:.2}x (goal <= 1.05x). Measured by `cargo bench --bench play_vs_ffmpeg`.",
        row("`onair push` (video + AAC) -> nginx-rtmp -> `onair play --cache speed` (A/V clock)", n_aac),
        row("`onair push --audio none` -> nginx-rtmp -> `onair play --cache speed`", n_none),
        row("ffmpeg (x264 ultrafast zerolatency, video only) -> nginx-rtmp -> ffmpeg (nobuffer, low_delay)", n_ff),
        row("`onair push --audio-codec opus --opus-frame-ms 10` -> `onair serve` -> `onair play --cache speed` (A/V clock)", s_opus10),
        row("`onair push --audio-codec opus --opus-frame-ms 20` -> `onair serve` -> `onair play --cache speed` (A/V clock)", s_opus20),
        row("`onair push` (video + AAC) -> `onair serve` -> `onair play --cache speed` (A/V clock)", s_aac),
        row("`onair push --audio none` -> `onair serve` -> `onair play --cache speed`", s_none),
        row("ffmpeg (x264 ultrafast zerolatency, video only) -> `onair serve` -> ffmpeg (nobuffer, low_delay)", s_ff),
        s_opus10.0,
        s_aac.0,
        n_none.0 / n_ff.0,
        s_none.0 / s_ff.0,
        oc / fc,
    );
    println!("{body}");
    if let Err(e) = write_section("play_vs_ffmpeg", &body) {
        eprintln!("could not write the results file: {e}");
    }
}
