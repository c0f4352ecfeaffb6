//! Playing into a window, against `ffplay` in the same run: one 1280x720 30 fps stream (onair's
//! stamped pattern + AAC, pushed into the embedded server by this process) played over HTTP-FLV
//! for 12 s (each player is stopped then) into a 1280x720 window on Xvfb:
//! - the `watch` example: `V2TXLivePlayer` with a `RenderView` (wgpu on lavapipe, YUV to RGB in
//!   the fragment shader);
//! - `ffplay` (FFmpeg 5.1, SDL2; `SDL_AUDIODRIVER=dummy` so it decodes the sound as onair does
//!   without a sound card).
//!
//! Whole-process CPU seconds and peak RSS from GNU time, medians of three alternating runs;
//! goal: onair <= 1.0x ffplay's CPU. Needs the release examples (`cargo build --release
//! --examples`; `cargo xtask bench` builds them first).

use onair::{ResolutionMode, V2TXLivePusher, VideoEncoderParam, VideoResolution};
use onair_testkit::desktop::Xvfb;
use onair_testkit::peers::{embedded_server, require, wait_live_flv};
use onair_testkit::results::{is_bench_run, write_section};
use std::process::{Command, Stdio};
use std::time::Duration;

const SECONDS: &str = "12";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// CPU seconds, peak RSS (KiB) and stdout of `cmd`, run under GNU time for `SECONDS` and then
/// stopped with SIGINT, as a user closing it would (ffplay does not end a live stream by
/// itself: `-t` only stops it using what it reads).
fn timed(cmd: &[&str], envs: &[(&str, &str)]) -> (f64, u64, String) {
    let out = Command::new(require("time"))
        .args([
            "-f",
            "ONAIR_TIME %U %S %M",
            "timeout",
            "--signal=INT",
            SECONDS,
        ])
        .args(cmd)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run GNU time");
    let err = String::from_utf8_lossy(&out.stderr);
    let f: Vec<f64> = err
        .lines()
        .rev()
        .find(|l| l.starts_with("ONAIR_TIME"))
        .unwrap_or_else(|| panic!("no timing from {cmd:?}:\n{err}"))
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // 124: stopped by `timeout`.
    assert!(
        out.status.success() || out.status.code() == Some(124),
        "{cmd:?} failed:\n{err}"
    );
    (
        f[0] + f[1],
        f[2] as u64,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn main() {
    if !is_bench_run() {
        println!(
            "render_view: a whole-process bench; run it with `cargo bench --bench render_view`"
        );
        return;
    }
    let watch = std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.parent()?.join("examples").join("watch")))
        .filter(|p| p.exists())
        .expect("the release `watch` example: run `cargo build --release --examples` first");
    let ffplay = require("ffplay");
    let x = Xvfb::start(1280, 800);
    let dir = tempfile::tempdir().expect("temp dir");
    let server = embedded_server(dir.path());
    let pusher = V2TXLivePusher::new();
    pusher
        .set_video_quality(
            VideoEncoderParam::new(
                VideoResolution::R1280x720,
                ResolutionMode::Landscape,
                30,
                0,
                0,
            )
            .expect("720p30"),
        )
        .expect("video quality");
    pusher
        .start_push(&server.push_url("live", "view", Duration::from_secs(3600)))
        .expect("start the push");
    wait_live_flv(server.http_addr().port(), "view", Duration::from_secs(20));
    let url = format!("http://{}/live/view.flv", server.http_addr());
    let (watch_s, ffplay_s) = (watch.display().to_string(), ffplay.display().to_string());
    let onair_cmd = [
        watch_s.as_str(),
        &url,
        "--fill",
        "fit",
        "--size",
        "1280x720",
    ];
    let ffplay_cmd = [
        ffplay_s.as_str(),
        "-v",
        "error",
        "-x",
        "1280",
        "-y",
        "720",
        "-left",
        "0",
        "-top",
        "0",
        &url,
    ];
    let display = x.display().to_string();
    let envs = [("DISPLAY", display.as_str()), ("SDL_AUDIODRIVER", "dummy")];
    let (mut cpu, mut rss) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    let mut presented = Vec::new();
    for _ in 0..3 {
        for (i, cmd) in [&onair_cmd[..], &ffplay_cmd[..]].into_iter().enumerate() {
            let (c, r, out) = timed(cmd, &envs);
            cpu[i].push(c);
            rss[i].push(r as f64 / 1024.0);
            if i == 0 {
                // The last report: `rendered N presented M window open`.
                let last = out.lines().rev().find(|l| l.starts_with("rendered"));
                let n = last
                    .and_then(|l| l.split_whitespace().nth(3)?.parse::<u64>().ok())
                    .unwrap_or(0);
                presented.push(n as f64);
            }
            println!("run {}: {c:.2} CPU-s, {:.1} MiB", cmd[0], r as f64 / 1024.0);
        }
    }
    let _ = pusher.stop_push();
    let [oc, fc] = cpu.map(median);
    let [orss, frss] = rss.map(median);
    let shown = median(presented);
    let body = format!(
        "### Render view: one 1280x720 30 fps stream played into a 1280x720 window on Xvfb, {SECONDS} s (median of 3 runs each)\n\n\
         | player | CPU seconds | peak RSS MiB |\n|---|---|---|\n\
         | `watch` example (`V2TXLivePlayer` + `RenderView`, wgpu on lavapipe) | {oc:.2} | {orss:.1} |\n\
         | `ffplay` (FFmpeg 5.1, SDL2) | {fc:.2} | {frss:.1} |\n\n\
         Ratio onair / ffplay: CPU {:.2}x (goal <= 1.0x), peak RSS {:.2}x. The view presented \
         {shown:.0} pictures per run (median). Both decode the AAC track (ffplay to SDL's dummy \
         audio driver; no sound card here). Both draw on the CPU here (no GPU: lavapipe for the \
         view, SDL's renderer for ffplay), so the figures include drawing; the window is the \
         picture's size, which the view draws unfiltered. Measured by \
         `cargo bench --bench render_view`.",
        oc / fc,
        orss / frss
    );
    println!("{body}");
    if let Err(e) = write_section("render_view", &body) {
        eprintln!("could not write the results file: {e}");
    }
}
