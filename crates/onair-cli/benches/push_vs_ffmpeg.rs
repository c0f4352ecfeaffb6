//! Whole-pipeline cost of `onair push` against ffmpeg doing the same job in the same run: a
//! synthetic 1280x720 30 fps picture with a 1 kHz tone, H.264 (ffmpeg: libx264 ultrafast,
//! zerolatency) and AAC at 48 kHz mono, published in real time to the same nginx-rtmp for the
//! same length. CPU seconds (user + system) and peak RSS come from GNU time; the medians of
//! three alternating runs each are written to `benches/RESULTS.md`. The same at 1920x1080 and
//! 3000 kbps. Goals: CPU <= 0.8x, peak RSS <= 0.45x.
//!
//! The HEVC rows: `onair push --codec h265 --encoder x265` into `onair serve` (nginx-rtmp
//! announces no Enhanced RTMP, so onair would fall back to H.264 there) against `-c:v libx265
//! -preset ultrafast -tune zerolatency`, same size, rate and audio:
//! - like for like: Debian's FFmpeg 5.1 (the same libx265 3.5 onair links) encoding onair's own
//!   test pattern (written raw to a file first: x265's cost depends on the picture, and onair's
//!   pattern costs it more than `testsrc2`), read in real time, muxed to Matroska on /dev/null
//!   (FFmpeg 5.1 cannot send HEVC over RTMP, so it is spared the network). Goal: <= 0.9x CPU.
//! - FFmpeg 9 (its own x265 4.3, `testsrc2`) publishing into `onair serve` over Enhanced RTMP,
//!   for reference.

use onair_testkit::peers::{ffmpeg9, measure_command, onair_serve, require, Nginx};
use onair_testkit::results::{is_bench_run, write_section};

const SECONDS: &str = "10";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the commands in turn, three rounds (so drift in machine load hits them alike): each
/// one's median CPU seconds and peak RSS (KiB).
fn alternate(cmds: &[&[&str]]) -> Vec<(f64, f64)> {
    let mut runs = vec![(Vec::new(), Vec::new()); cmds.len()];
    for _ in 0..3 {
        for (cmd, (cpu, rss)) in cmds.iter().zip(runs.iter_mut()) {
            let (c, r) = measure_command(cmd);
            cpu.push(c);
            rss.push(r as f64);
        }
    }
    runs.into_iter()
        .map(|(cpu, rss)| (median(cpu), median(rss)))
        .collect()
}

/// `cmd` with each argument equal to a `from` of `swaps` replaced by its `to`.
fn replaced<'a>(cmd: &[&'a str], swaps: &[(&str, &'a str)]) -> Vec<&'a str> {
    cmd.iter()
        .map(|a| {
            swaps
                .iter()
                .find(|(from, _)| from == a)
                .map_or(*a, |(_, to)| *to)
        })
        .collect()
}

/// `frames` frames of onair's test pattern at 1280x720, raw I420, as `onair push --source test`
/// sends them (30 fps stamps).
fn write_pattern(path: &std::path::Path, frames: u32) {
    use std::io::Write;
    let pattern = onair_codec::TestPattern::new(1280, 720);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("raw file"));
    for n in 0..frames {
        let ts = onair_core::Timestamp::from_micros(u64::from(n) * 33_333);
        let f = pattern.frame(n, u64::from(n) * 33, ts, false);
        out.write_all(f.data()).expect("write the raw pattern");
    }
    out.flush().expect("write the raw pattern");
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
    let h264 = alternate(&[&onair_cmd, &ffmpeg_cmd]);
    let ((oc, orss), (fc, frss)) = (h264[0], h264[1]);

    // 1080p30, same pipeline, 3000 kbps.
    let onair_1080 = replaced(&onair_cmd, &[("1280x720", "1920x1080"), ("1800", "3000")]);
    let ffmpeg_1080 = replaced(
        &ffmpeg_cmd,
        &[
            (
                "testsrc2=size=1280x720:rate=30",
                "testsrc2=size=1920x1080:rate=30",
            ),
            ("1800k", "3000k"),
        ],
    );
    let full_hd = alternate(&[&onair_1080, &ffmpeg_1080]);
    let ((oc2, orss2), (fc2, frss2)) = (full_hd[0], full_hd[1]);

    // HEVC: both into onair serve.
    let dir = tempfile::tempdir().expect("temp dir");
    let serve = onair_serve(
        &onair,
        dir.path(),
        &["--record", "none", "--screenshot-seconds", "0"],
    );
    let ff9 = ffmpeg9().display().to_string();
    let h1 = format!("rtmp://127.0.0.1:{}/live/bench-onair-hevc", serve.rtmp);
    let h2 = format!("rtmp://127.0.0.1:{}/live/bench-ffmpeg-hevc", serve.rtmp);
    let mut onair_hevc = onair_cmd.to_vec();
    onair_hevc[2] = &h1;
    onair_hevc.extend(["--codec", "h265", "--encoder", "x265"]);
    let mut ffmpeg_hevc = ffmpeg_cmd.to_vec();
    ffmpeg_hevc[0] = &ff9;
    let at = |v: &[&str], flag: &str| v.iter().position(|a| *a == flag).expect("flag") + 1;
    let (codec_at, preset_at) = (at(&ffmpeg_hevc, "-c:v"), at(&ffmpeg_hevc, "-preset"));
    ffmpeg_hevc[codec_at] = "libx265";
    ffmpeg_hevc[preset_at] = "ultrafast";
    let last = ffmpeg_hevc.len() - 1;
    ffmpeg_hevc[last] = &h2;
    ffmpeg_hevc.splice(last - 2..last - 2, ["-x265-params", "log-level=error"]);

    // Like for like: FFmpeg 5.1, same libx265, onair's pattern.
    let raw = dir.path().join("pattern.yuv");
    write_pattern(&raw, 300);
    let raw_s = raw.display().to_string();
    let ffmpeg51_hevc = [
        ffmpeg_s.as_str(),
        "-v",
        "error",
        "-re",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        "1280x720",
        "-r",
        "30",
        "-i",
        &raw_s,
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=1000:sample_rate=48000",
        "-t",
        SECONDS,
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-b:v",
        "1800k",
        "-g",
        "60",
        "-x265-params",
        "log-level=error",
        "-c:a",
        "aac",
        "-ar",
        "48000",
        "-ac",
        "1",
        "-b:a",
        "50k",
        "-f",
        "matroska",
        "-y",
        "/dev/null",
    ];
    let hevc = alternate(&[&onair_hevc, &ffmpeg51_hevc, &ffmpeg_hevc]);
    let ((hc, hrss), (lc, lrss), (gc, grss)) = (hevc[0], hevc[1], hevc[2]);
    let body = format!(
        "### Push pipeline: 30 fps + AAC, {SECONDS} s real time to nginx-rtmp (median of 3 runs each)\n\n\
         | size, bitrate | pusher | CPU seconds | peak RSS MiB |\n|---|---|---|---|\n\
         | 1280x720, 1800 kbps | `onair push` (openh264, FDK AAC) | {oc:.2} | {:.1} |\n\
         | 1280x720, 1800 kbps | ffmpeg (libx264 ultrafast zerolatency + AAC) | {fc:.2} | {:.1} |\n\
         | 1920x1080, 3000 kbps | `onair push` | {oc2:.2} | {:.1} |\n\
         | 1920x1080, 3000 kbps | ffmpeg, same settings | {fc2:.2} | {:.1} |\n\n\
         Ratios onair / ffmpeg (goals: CPU <= 0.8x, peak RSS <= 0.45x): 720p CPU {:.2}x, \
         peak RSS {:.2}x; 1080p CPU {:.2}x, peak RSS {:.2}x.\n\n\
         HEVC, same input, {SECONDS} s real time into `onair serve` (Enhanced RTMP `hvc1`):\n\n\
         | pusher | CPU seconds | peak RSS MiB |\n|---|---|---|\n\
         | `onair push --codec h265 --encoder x265` (libx265 3.5 ultrafast zerolatency, FDK AAC) | {hc:.2} | {:.1} |\n\
         | FFmpeg 5.1 (the same libx265 3.5 + AAC) encoding onair's pattern from a raw file, to Matroska on /dev/null | {lc:.2} | {:.1} |\n\
         | FFmpeg 9 (its x265 4.3 + AAC, testsrc2) publishing into `onair serve` | {gc:.2} | {:.1} |\n\n\
         Ratios onair / FFmpeg 5.1, like for like: CPU {:.2}x (goal <= 0.9x), peak RSS {:.2}x; \
         onair / FFmpeg 9: CPU {:.2}x, peak RSS {:.2}x. Measured by `cargo bench --bench push_vs_ffmpeg`.",
        orss / 1024.0,
        frss / 1024.0,
        orss2 / 1024.0,
        frss2 / 1024.0,
        oc / fc,
        orss / frss,
        oc2 / fc2,
        orss2 / frss2,
        hrss / 1024.0,
        lrss / 1024.0,
        grss / 1024.0,
        hc / lc,
        hrss / lrss,
        hc / gc,
        hrss / grss
    );
    println!("{body}");
    if let Err(e) = write_section("push_vs_ffmpeg", &body) {
        eprintln!("could not write the results file: {e}");
    }
}
