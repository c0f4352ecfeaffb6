//! `onair push --encoder`: FFmpeg's libx264 pushes H.264 high profile that FFprobe reads at the
//! preset size; a hardware encoder that this machine lacks fails fast naming what is missing
//! (`h264_nvenc`, `hevc_nvenc`), and `auto` says which backend it took, for H.264 and HEVC.

use onair_testkit::peers::{ffprobe, onair_serve, stream, wait_live_flv};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn onair() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_onair"))
}

#[test]
fn x264_pushes_high_profile_h264_at_the_preset_size() {
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(onair(), dir.path(), &["--record", "none"]);
    let url = format!("rtmp://127.0.0.1:{}/live/x264", serve.rtmp);
    let push = Command::new(onair())
        .args(["push", &url, "--encoder", "x264", "--preset", "1280x720"])
        .args(["--fps", "30", "--bitrate", "1800", "--seconds", "6"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start onair push");
    wait_live_flv(serve.http, "x264", Duration::from_secs(20));
    let probe = ffprobe(
        &format!("http://127.0.0.1:{}/live/x264.flv", serve.http),
        false,
    );
    let push = push.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&push.stderr);
    assert!(push.status.success(), "onair push --encoder x264: {stderr}");
    assert!(stderr.contains("video encoder: x264"), "{stderr}");
    let v = stream(&probe, "video");
    assert_eq!(v["codec_name"], "h264", "{probe}");
    assert_eq!(v["profile"], "High", "{probe}");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(1280), Some(720))
    );
}

#[test]
fn a_missing_hardware_encoder_fails_fast_and_auto_says_which() {
    // No server needed: the encoder opens (or not) before anything connects.
    let url = "rtmp://127.0.0.1:9/live/none";
    let started = Instant::now();
    let nvenc = Command::new(onair())
        .args(["push", url, "--encoder", "nvenc", "--seconds", "3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&nvenc.stderr);
    if nvenc.status.success() || stderr.contains("video encoder: nvenc") {
        eprintln!("this machine has NVENC; nothing to check");
        return;
    }
    assert!(started.elapsed() < Duration::from_secs(3), "failed fast");
    assert!(
        stderr.contains("ERROR_NOT_SUPPORTED") && stderr.contains("h264_nvenc"),
        "{stderr}"
    );
    let auto = Command::new(onair())
        .args(["push", url, "--encoder", "auto", "--seconds", "1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&auto.stderr);
    let said = stderr
        .lines()
        .find_map(|l| l.strip_prefix("video encoder: "))
        .unwrap_or_else(|| panic!("auto did not say which encoder: {stderr}"));
    assert!(said.ends_with("(--encoder auto)"), "{said}");
    let software = said.starts_with("x264") || said.starts_with("openh264");
    if software {
        assert!(stderr.contains("no hardware encoder opened"), "{stderr}");
    }
    // HEVC: the same through hevc_nvenc, and auto lands on x265.
    let started = Instant::now();
    let nvenc = Command::new(onair())
        .args(["push", url, "--codec", "h265", "--encoder", "nvenc"])
        .args(["--seconds", "3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&nvenc.stderr);
    assert!(started.elapsed() < Duration::from_secs(3), "failed fast");
    assert!(
        stderr.contains("ERROR_NOT_SUPPORTED") && stderr.contains("hevc_nvenc"),
        "{stderr}"
    );
    let auto = Command::new(onair())
        .args([
            "push",
            url,
            "--codec",
            "h265",
            "--encoder",
            "auto",
            "--seconds",
            "1",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&auto.stderr);
    assert!(
        stderr.contains("video encoder: x265 for h265 (--encoder auto)")
            && stderr.contains("no hardware encoder opened"),
        "{stderr}"
    );
    let bad = Command::new(onair())
        .args(["push", url, "--encoder", "x266"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected openh264, x264, x265"));
}
