//! Local recording from the command line, judged by FFprobe and FFmpeg: `onair push
//! --record-local` records what it pushes (h264 + aac, the push's length), and a `kill -9` in
//! the middle leaves a file FFmpeg decodes up to within a second of the kill; `onair play
//! --record-local` records what it receives from an FFmpeg x264 push (B-frames included).

use onair_testkit::peers::{ffmpeg_publish, ffprobe, num, onair_serve, stream, wait_live_flv};
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn onair() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_onair"))
}

/// Video frames FFprobe decodes from `file` (`-show_frames` decodes each), and the last one's
/// presentation time (s).
fn decoded(file: &Path) -> (usize, f64) {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "frame=pts_time",
        ])
        .args(["-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("run ffprobe");
    let times: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse::<f64>().ok())
        .collect();
    let last = times.iter().copied().fold(0.0, f64::max);
    (
        times.len(),
        last - times.iter().copied().fold(f64::MAX, f64::min).min(last),
    )
}

fn assert_h264_aac(file: &Path, seconds: f64, what: &str) {
    let probe = ffprobe(&file.to_string_lossy(), false);
    let (v, a) = (stream(&probe, "video"), stream(&probe, "audio"));
    let duration = num(&probe["format"]["duration"]);
    println!(
        "{what}: {} {}x{} + {}, {duration:.2} s",
        v["codec_name"], v["width"], v["height"], a["codec_name"]
    );
    assert_eq!(v["codec_name"], "h264", "{what}: {probe}");
    assert_eq!(a["codec_name"], "aac", "{what}: {probe}");
    assert!(
        (duration - seconds).abs() <= 0.3,
        "{what}: {duration:.2} s recorded for {seconds} s"
    );
    let (frames, _) = decoded(file);
    assert!(
        frames as f64 >= (seconds - 0.5) * 25.0,
        "{what}: {frames} frames decode"
    );
}

#[test]
fn push_records_what_it_sends_and_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(onair(), dir.path(), &["--record", "none"]);
    let url = format!("rtmp://127.0.0.1:{}/live/rec", serve.rtmp);
    let file = dir.path().join("a.mp4");
    let out = Command::new(onair())
        .args([
            "push",
            &url,
            "--preset",
            "640x360",
            "--fps",
            "30",
            "--seconds",
            "10",
        ])
        .arg("--record-local")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("local recording begin 0"), "{stderr}");
    assert!(stderr.contains("local recording complete 0"), "{stderr}");
    assert_h264_aac(&file, 10.0, "onair push --record-local");
    // The file exists now: -7 and a usage error, nothing pushed.
    let again = Command::new(onair())
        .args(["push", &url, "--seconds", "2", "--record-local"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("exists; onair does not overwrite it"),
        "{stderr}"
    );

    // kill -9 after about 5 s of recording.
    let killed = dir.path().join("k.mp4");
    let mut push = Command::new(onair())
        .args([
            "push",
            &url,
            "--preset",
            "640x360",
            "--fps",
            "30",
            "--record-local",
        ])
        .arg(&killed)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(push.stderr.take().unwrap()).lines();
    let began = loop {
        let line = lines.next().expect("onair push ended").unwrap();
        if line.contains("local recording begin 0") {
            break Instant::now();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    std::thread::sleep(Duration::from_secs(5));
    let recorded_for = began.elapsed().as_secs_f64();
    push.kill().unwrap(); // SIGKILL
    let _ = push.wait();
    let (frames, last) = decoded(&killed);
    println!("kill -9 after {recorded_for:.2} s: {frames} frames decode, the last at {last:.2} s");
    assert!(
        last >= recorded_for - 1.0,
        "after kill -9 the file decodes to {last:.2} s of {recorded_for:.2} s"
    );
}

#[test]
fn play_records_what_it_receives() {
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(onair(), dir.path(), &["--record", "none"]);
    let url = format!("rtmp://127.0.0.1:{}/live/ff", serve.rtmp);
    // GOP of 5 frames: the server's start burst holds at most 0.2 s from before the play.
    let _ffmpeg = ffmpeg_publish(&url, 30, "640x360", 5);
    wait_live_flv(serve.http, "ff", Duration::from_secs(20));
    let file = dir.path().join("b.mp4");
    let out = Command::new(onair())
        .args(["play", &url, "--seconds", "10", "--json", "--last-frame"])
        .arg(dir.path().join("last.png"))
        .arg("--record-local")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("local recording complete 0"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // What was played: from the first picture (connect and first keyframe first) to the stop.
    let played = num(&summary["seconds"]) - num(&summary["first_frame_ms"]) / 1000.0;
    println!("onair play: {played:.2} s of pictures ({summary})");
    assert_h264_aac(&file, played, "onair play --record-local");
}
