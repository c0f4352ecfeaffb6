//! The `encode_flv` example's files pass `flvmeta --check`, and ffprobe sees H.264 at the
//! requested size and fps, AAC at the quality's rate and channels, and the requested duration.

use onair_testkit::peers::{example, ffprobe, num, require, stream};
use std::process::Command;

fn encode_and_check(
    args: &[&str],
    size: (u64, u64),
    fps: u64,
    rate: u64,
    channels: u64,
    seconds: f64,
) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.flv");
    let out_s = out.to_str().unwrap();
    let status = Command::new(example("encode_flv"))
        .args(args)
        .args(["--out", out_s])
        .status()
        .unwrap();
    assert!(status.success(), "encode_flv {args:?} failed");

    let check = Command::new(require("flvmeta"))
        .args(["--check", out_s])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "flvmeta --check failed:\n{report}");
    assert!(
        report.contains("0 error(s)"),
        "flvmeta found errors:\n{report}"
    );

    let probe = ffprobe(out_s, false);
    let v = stream(&probe, "video");
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(
        (v["width"].as_u64().unwrap(), v["height"].as_u64().unwrap()),
        size,
        "{args:?}"
    );
    assert_eq!(v["r_frame_rate"], format!("{fps}/1"), "{args:?}");
    let a = stream(&probe, "audio");
    assert_eq!(a["codec_name"], "aac");
    assert_eq!(num(&a["sample_rate"]) as u64, rate, "{args:?}");
    assert_eq!(a["channels"].as_u64().unwrap(), channels, "{args:?}");
    let duration = num(&probe["format"]["duration"]);
    assert!(
        (duration - seconds).abs() <= 0.1,
        "{args:?}: duration {duration} s, wanted {seconds}"
    );
}

#[test]
fn landscape_720p30_default_audio() {
    encode_and_check(
        &["--preset", "1280x720", "--fps", "30", "--seconds", "5"],
        (1280, 720),
        30,
        48_000,
        1,
        5.0,
    );
}

#[test]
fn portrait_540p_music() {
    encode_and_check(
        &[
            "--preset",
            "960x540",
            "--portrait",
            "--fps",
            "25",
            "--seconds",
            "2",
            "--audio",
            "music",
        ],
        (540, 960),
        25,
        48_000,
        2,
        2.0,
    );
}

#[test]
fn small_preset_speech() {
    encode_and_check(
        &[
            "--preset",
            "320x240",
            "--fps",
            "15",
            "--seconds",
            "3",
            "--audio",
            "speech",
        ],
        (320, 240),
        15,
        16_000,
        1,
        3.0,
    );
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.flv");
    for args in [
        &["--preset", "1000x1000"][..],
        &["--fps", "0"],
        &["--seconds", "-1"],
    ] {
        let o = Command::new(example("encode_flv"))
            .args(args)
            .args(["--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.is_empty() && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}
