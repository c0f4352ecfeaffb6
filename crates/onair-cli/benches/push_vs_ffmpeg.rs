//! Whole-pipeline cost of `onair push` against ffmpeg doing the same job in the same run: a
//! synthetic 1280x720 30 fps picture with a 1 kHz tone, H.264 (ffmpeg: libx264 ultrafast,
//! zerolatency) and AAC at 48 kHz mono, published in real time to the same nginx-rtmp for the
//! same length. CPU seconds (user + system) and peak RSS come from GNU time; the medians of
//! three alternating runs each are written to `benches/RESULTS.md`. Goals: CPU <= 1.0x,
//! peak RSS <= 0.6x.

use onair_testkit::peers::{measure_command, require, Nginx};
use onair_testkit::results::{is_bench_run, write_section};

const SECONDS: &str = "10";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if !is_bench_run() {
        println!("push_vs_ffmpeg: a whole-pipeline bench; run it with `cargo bench --bench push_vs_ffmpeg`");
        return;
    }
    let nginx = Nginx::start();
    let onair = std::path::PathBuf::from(env!("CARGO_BIN_EXE_onair"));
    let ffmpeg = require("ffmpeg");
    let (onair_s, ffmpeg_s) = (onair.display().to_string(), ffmpeg.display().to_string());
    let (u1, u2) = (nginx.url("bench-onair"), nginx.url("bench-ffmpeg"));
    let onair_cmd = [
        onair_s.as_str(),
        "push",
        &u1,
        "--preset",
        "1280x720",
        "--fps",
        "30",
        "--bitrate",
        "1800",
        "--audio",
        "default",
        "--seconds",
        SECONDS,
    ];
    let ffmpeg_cmd = [
        ffmpeg_s.as_str(),
        "-v",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1280x720:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=1000:sample_rate=48000",
        "-t",
        SECONDS,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-b:v",
        "1800k",
        "-g",
        "60",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-ar",
        "48000",
        "-ac",
        "1",
        "-b:a",
        "50k",
        "-f",
        "flv",
        &u2,
    ];
    let (mut oc, mut orss, mut fc, mut frss) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        let (c, r) = measure_command(&onair_cmd);
        oc.push(c);
        orss.push(r as f64);
        let (c, r) = measure_command(&ffmpeg_cmd);
        fc.push(c);
        frss.push(r as f64);
    }
    let (oc, orss, fc, frss) = (median(oc), median(orss), median(fc), median(frss));
    let body = format!(
        "### Push pipeline: 1280x720 30 fps + AAC, {SECONDS} s real time to nginx-rtmp (median of 3 runs each)\n\n\
         | pusher | CPU seconds | peak RSS MiB |\n|---|---|---|\n\
         | `onair push` (openh264, FFmpeg AAC) | {oc:.2} | {:.1} |\n\
         | ffmpeg (libx264 ultrafast zerolatency + AAC) | {fc:.2} | {:.1} |\n\n\
         Ratios onair / ffmpeg: CPU {:.2}x (goal <= 1.0x), peak RSS {:.2}x (goal <= 0.6x). \
         Measured by `cargo bench --bench push_vs_ffmpeg`.",
        orss / 1024.0,
        frss / 1024.0,
        oc / fc,
        orss / frss
    );
    println!("{body}");
    if let Err(e) = write_section("push_vs_ffmpeg", &body) {
        eprintln!("could not write the results file: {e}");
    }
}
