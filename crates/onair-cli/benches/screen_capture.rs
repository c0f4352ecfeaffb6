//! Screen capture cost against FFmpeg in the same run: an Xvfb display of 1920x1080 with a
//! window drawing onair's stamped pattern (10 new pictures a second), captured at 30 fps for
//! 10 s, converted, encoded at 3000 kbps and pushed into `onair serve`:
//! - `onair push --source screen` (MIT-SHM grabs, BGRA -> I420, openh264);
//! - FFmpeg 5.1 `-f x11grab` (MIT-SHM too) + libx264 `ultrafast` `zerolatency`, no audio either.
//!
//! Whole-process CPU seconds and peak RSS from GNU time, medians of three alternating runs;
//! goals CPU <= 0.8x, RSS <= 0.5x. Then one more run of each with FFmpeg reading the pushed
//! stream back over HTTP-FLV: the stamp's draw time to the decoded picture, p50 (capture,
//! convert, encode, send, the server, FFmpeg's decode; the same path for both pushers).

use onair_codec::read_stamp;
use onair_core::{PixelFormat, VideoFrame};
use onair_testkit::desktop::Xvfb;
use onair_testkit::peers::{measure_command, onair_serve, require, wait_live_flv};
use onair_testkit::results::{is_bench_run, quantile, write_section};
use onair_testkit::x11_window::{Content, PatternWindow};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECONDS: &str = "10";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Stamp-to-decoded latencies (ms, one per stamp: its first decoded picture) of `url` for
/// `seconds`, FFmpeg decoding and scaling to 640x360 (the stamp's cells survive).
fn latencies(url: &str, seconds: u32) -> Vec<f64> {
    let (w, h) = (640usize, 360usize);
    let mut ff = Command::new(require("ffmpeg"))
        .args([
            "-v",
            "error",
            "-fflags",
            "nobuffer",
            "-rw_timeout",
            "10000000",
        ])
        .args([
            "-i",
            url,
            "-t",
            &seconds.to_string(),
            "-an",
            "-vf",
            "scale=640:360",
        ])
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ffmpeg");
    let mut out = ff.stdout.take().expect("piped");
    let mut buf = vec![0u8; w * h * 3 / 2];
    let (mut last, mut lat) = (None, Vec::new());
    while out.read_exact(&mut buf).is_ok() {
        let t = now_ms();
        let frame = VideoFrame::new(
            PixelFormat::I420,
            w as u32,
            h as u32,
            bytes::Bytes::copy_from_slice(&buf),
        )
        .expect("frame");
        if let Some(s) = read_stamp(&frame) {
            if last != Some(s.counter) {
                last = Some(s.counter);
                lat.push(t - s.capture_ms as f64);
            }
        }
    }
    let _ = ff.wait();
    // The start burst's cached pictures are old by construction: skip the first second.
    let skip = lat.len().min(10);
    let mut v = lat.split_off(skip);
    v.sort_by(f64::total_cmp);
    v
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
        let lat = latencies(&flv, 6);
        let _ = child.wait();
        println!(
            "{name}: {} stamps, p50 {:.0} ms",
            lat.len(),
            quantile(&lat, 0.5)
        );
        p50.push((quantile(&lat, 0.5), lat.len()));
    }
    let body = format!(
        "### Screen capture: 1920x1080 30 fps from Xvfb, {SECONDS} s, 3000 kbps into `onair serve` (median of 3 runs each)\n\n\
         | pusher | CPU seconds | peak RSS MiB | draw to decoded p50 |\n|---|---|---|---|\n\
         | `onair push --source screen` (MIT-SHM, openh264) | {oc:.2} | {orss:.1} | {:.0} ms ({} stamps) |\n\
         | FFmpeg 5.1 `-f x11grab` + libx264 ultrafast zerolatency | {fc:.2} | {frss:.1} | {:.0} ms ({} stamps) |\n\n\
         Ratios onair / FFmpeg: CPU {:.2}x (goal <= 0.8x), peak RSS {:.2}x (goal <= 0.5x). The display \
         shows onair's stamped pattern, 10 new pictures a second; latency is the stamp's draw time \
         to FFmpeg's decoded picture (HTTP-FLV, the same reader for both). Measured by \
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
