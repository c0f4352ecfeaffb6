//! The README's examples run as written (shorter durations) against an embedded server the test
//! starts: `push_test_pattern` and `custom_capture` publish (ffprobe reads each back over
//! HTTP-FLV), `custom_render` writes PNGs of a live stream, `gpu_process` and `camera_push`
//! publish too.

use onair_testkit::peers::{example, ffprobe, num, stream};
use std::process::Command;
use std::time::Duration;

#[test]
fn readme_examples_run_against_the_embedded_server() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for name in [
        "push_test_pattern",
        "custom_capture",
        "custom_render",
        "encode_flv",
        "gpu_process",
        "camera_push",
        "preview",
        "watch",
        "studio",
    ] {
        assert!(
            readme.contains(&format!("--example {name}")),
            "README shows how to run {name}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(&dir.path().join("server"));
    // gpu_process runs the invert shader on lavapipe; camera_push finds no camera here and
    // pushes the test pattern instead (tests/capture.rs checks that path); both use the default
    // 960x540 quality. `preview`, `watch` and `studio` open windows: tests/preview.rs and
    // tests/render_view.rs run them under Xvfb.
    for (name, stream_name, width) in [
        ("push_test_pattern", "pattern", 1280.0),
        ("custom_capture", "custom", 1280.0),
        ("gpu_process", "gpu", 960.0),
        ("camera_push", "camera", 960.0),
    ] {
        let mut push = Command::new(example(name))
            .arg(server.push_url("live", stream_name, Duration::from_secs(600)))
            .args(["--seconds", "8"])
            .spawn()
            .unwrap();
        let flv = format!("{}/live/{stream_name}.flv", server.http_base());
        // ffprobe retries until the stream is live (the push takes a moment to connect).
        let mut probe = None;
        for _ in 0..40 {
            let out = Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-of",
                    "json",
                    "-show_streams",
                    "-show_format",
                    &flv,
                ])
                .output()
                .unwrap();
            if out.status.success() {
                probe = Some(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap());
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let probe = probe.unwrap_or_else(|| ffprobe(&flv, false));
        assert_eq!(num(&stream(&probe, "video")["width"]), width, "{name}");
        assert_eq!(stream(&probe, "audio")["codec_name"], "aac", "{name}");
        if name == "push_test_pattern" {
            let out = dir.path().join("frames");
            let render = Command::new(example("custom_render"))
                .args([flv.as_str(), "--seconds", "3", "--out"])
                .arg(&out)
                .output()
                .unwrap();
            assert!(
                render.status.success(),
                "{}",
                String::from_utf8_lossy(&render.stderr)
            );
            let pngs = std::fs::read_dir(&out).unwrap().count();
            assert!(pngs >= 3, "custom_render wrote {pngs} PNGs");
            let img = image::open(
                std::fs::read_dir(&out)
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap()
                    .path(),
            )
            .unwrap();
            assert_eq!((img.width(), img.height()), (1280, 720));
        }
        assert!(push.wait().unwrap().success(), "{name} exits 0");
    }
    server.stop();
}
