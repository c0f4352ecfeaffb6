//! Screen capture cost against FFmpeg in the same run: an Xvfb display of 1920x1080 with a
//! window drawing onair's stamped pattern (10 new pictures a second), captured at 30 fps for
//! 10 s, converted, encoded at 3000 kbps and pushed into `onair serve`:
//! - `onair push --source screen` (MIT-SHM grabs, BGRA -> I420, openh264);
//! - FFmpeg 5.1 `-f x11grab` (MIT-SHM too) + libx264 `ultrafast` `zerolatency`, no audio either.
//!
//! Whole-process CPU seconds and peak RSS from GNU time, medians of three alternating runs;
//! goals CPU <= 0.8x, RSS <= 0.5x. Then one more run of each with `onair play --cache speed`
//! reading the pushed stream back over HTTP-FLV: the stamp's draw time to the rendered picture,
//! p50 (capture, convert, encode, send, the server, the player; the same path for both
//! pushers). FFmpeg is not the reader here: it buffers its first seconds while probing.

use onair_testkit::desktop::Xvfb;
use onair_testkit::peers::{measure_command, onair_serve, require, wait_live_flv};
use onair_testkit::results::{is_bench_run, write_section};
use onair_testkit::x11_window::{Content, PatternWindow};
use std::process::{Command, Stdio};
use std::time::Duration;

const SECONDS: &str = "10";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Stamp-to-rendered latency of `url` by `onair play --cache speed` (the same player for both
/// pushers; FFmpeg's reader buffers its first seconds while it probes): p50 ms and how many
/// stamped frames.
fn latency(onair: &str, url: &str, seconds: u32, dir: &std::path::Path) -> (f64, u64) {
    let out = Command::new(onair)
        .current_dir(dir)
        .args([
            "play",
            url,
            "--seconds",
            &seconds.to_string(),
            "--cache",
            "speed",
            "--json",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("run onair play");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let l = &v["latency"];
    (
        l["p50_ms"].as_f64().unwrap_or(f64::NAN),
        l["samples"].as_u64().unwrap_or(0),
    )
}

fn main() {
    if !is_bench_run() {
        println!("screen_capture: a whole-process bench; run it with `cargo bench --bench screen_capture`");
        return;
    }
    let x = Xvfb::start(1920, 1080);
    let _window = PatternWindow::open(
        x.display(),
        "onair bench",
        (0, 0),
        (1920, 1080),
        Content::Stamped { fps: 10 },
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let onair = std::path::PathBuf::from(env!("CARGO_BIN_EXE_onair"));
    let serve = onair_serve(
        &onair,
        dir.path(),
        &["--record", "none", "--screenshot-seconds", "0", "--no-hls"],
    );
    // Both pushers read the display from the environment, as a user's would.
    std::env::set_var("DISPLAY", x.display());
    let (onair_s, ffmpeg_s) = (
        onair.display().to_string(),
        require("ffmpeg").display().to_string(),
    );
    let url = |name: &str| format!("rtmp://127.0.0.1:{}/live/{name}", serve.rtmp);
    let (u1, u2) = (url("bench-onair"), url("bench-ffmpeg"));
    let onair_cmd = [
        onair_s.as_str(),
        "push",
        &u1,
        "--source",
        "screen",
        "--preset",
        "1920x1080",
        "--fps",
        "30",
        "--bitrate",
        "3000",
        "--audio",
        "none",
        "--seconds",
        SECONDS,
    ];
    let grab = format!("{}+0,0", x.display());
    let ffmpeg_cmd = [
        ffmpeg_s.as_str(),
        "-v",
        "error",
        "-f",
        "x11grab",
        "-framerate",
        "30",
        "-video_size",
        "1920x1080",
        "-i",
        &grab,
        "-t",
        SECONDS,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-b:v",
        "3000k",
        "-g",
        "60",
        "-pix_fmt",
        "yuv420p",
        "-an",
        "-f",
        "flv",
        &u2,
    ];
    let (mut cpu, mut rss) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for _ in 0..3 {
        for (i, cmd) in [&onair_cmd[..], &ffmpeg_cmd[..]].into_iter().enumerate() {
            let (c, r) = measure_command(cmd);
            cpu[i].push(c);
            rss[i].push(r as f64 / 1024.0);
        }
    }
    let [oc, fc] = cpu.map(median);
    let [orss, frss] = rss.map(median);

    // Latency: each pusher once more, FFmpeg reading it back.
    let mut p50 = Vec::new();
    for (cmd, name) in [
        (&onair_cmd[..], "bench-onair"),
        (&ffmpeg_cmd[..], "bench-ffmpeg"),
    ] {
        let mut child = Command::new(cmd[0])
            .args(&cmd[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the pusher");
        wait_live_flv(serve.http, name, Duration::from_secs(15));
        let flv = format!("http://127.0.0.1:{}/live/{name}.flv", serve.http);
        let (p, n) = latency(&onair_s, &flv, 8, dir.path());
        let _ = child.wait();
        println!("{name}: p50 {p:.0} ms over {n} stamped frames");
        p50.push((p, n));
    }
    let body = format!(
        "### Screen capture: 1920x1080 30 fps from Xvfb, {SECONDS} s, 3000 kbps into `onair serve` (median of 3 runs each)\n\n\
         | pusher | CPU seconds | peak RSS MiB | draw to rendered p50 |\n|---|---|---|---|\n\
         | `onair push --source screen` (MIT-SHM, openh264) | {oc:.2} | {orss:.1} | {:.0} ms ({} stamps) |\n\
         | FFmpeg 5.1 `-f x11grab` + libx264 ultrafast zerolatency | {fc:.2} | {frss:.1} | {:.0} ms ({} stamps) |\n\n\
         Ratios onair / FFmpeg: CPU {:.2}x (goal <= 0.8x), peak RSS {:.2}x (goal <= 0.5x). The display \
         shows onair's stamped pattern, 10 new pictures a second; latency is the stamp's draw time \
         to the picture rendered by `onair play --cache speed` over HTTP-FLV (the same player for \
         both). Measured by \
         `cargo bench --bench screen_capture`.",
        p50[0].0,
        p50[0].1,
        p50[1].0,
        p50[1].1,
        oc / fc,
        orss / frss
    );
    println!("{body}");
    if let Err(e) = write_section("screen_capture", &body) {
        eprintln!("could not write the results file: {e}");
    }
}
