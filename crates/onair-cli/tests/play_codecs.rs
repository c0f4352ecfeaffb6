//! `onair play` of what real publishers send, judged by the picture it renders (size, frame
//! count from `--json`): FFmpeg 9's HEVC (libx265), VP9 (libvpx) and AV1 (libsvtav1) over
//! Enhanced RTMP,
//! FFmpeg 5.1's libx264 at yuv420p10le, yuv422p, yuv444p and yuvj420p (decoded to those
//! layouts, converted to I420 for rendering), and URLs as CDNs hand them out: an RTMP app
//! instance with a query, an HTTP URL with a query and one without `.flv`.

use onair_testkit::peers::{ffmpeg9, onair_serve, require, wait_live_flv, Child};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const FRAMES: u64 = 100; // 4 s at 25 fps in one GOP: a late player still gets them all

fn onair() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_onair"))
}

/// `ffmpeg` publishing 4 s of a 320x180 test source with `video` encoder flags and AAC.
fn publish(ffmpeg: &Path, url: &str, video: &[&str]) -> Child {
    let child = Command::new(ffmpeg)
        .args(["-v", "error", "-re", "-f", "lavfi", "-i"])
        .arg(format!(
            "testsrc2=size=320x180:rate=25:duration={}",
            FRAMES / 25
        ))
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=4",
        ])
        .args(["-map", "0:v", "-map", "1:a"])
        .args(video)
        .args(["-c:a", "aac", "-f", "flv", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the publisher");
    Child(child)
}

/// `onair play URL --seconds S --json`: its summary.
fn play(url: &str, seconds: u32) -> Value {
    let out = Command::new(onair())
        .args(["play", url, "--seconds", &seconds.to_string(), "--json"])
        .arg("--last-frame")
        .arg(std::env::temp_dir().join(format!("onair-play-codecs-{}.png", std::process::id())))
        .output()
        .expect("run onair play");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{url}: no JSON summary ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn assert_rendered(what: &str, summary: &Value, min_frames: u64) {
    let frames = summary["frames"].as_u64().unwrap_or(0);
    println!(
        "{what}: {frames} frames at {}x{}",
        summary["width"], summary["height"]
    );
    assert_eq!(
        (summary["width"].as_u64(), summary["height"].as_u64()),
        (Some(320), Some(180)),
        "{what}: {summary}"
    );
    assert!(
        frames >= min_frames && frames <= FRAMES + 5,
        "{what}: {frames} frames rendered, expected {min_frames}..={FRAMES}: {summary}"
    );
}

#[test]
fn hevc_vp9_and_av1_from_ffmpeg9_play_at_their_size() {
    let ff = ffmpeg9();
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(onair(), dir.path(), &["--record", "none"]);
    let (rtmp, http) = (serve.rtmp, serve.http);
    let streams = [
        (
            "hevc",
            &[
                "-c:v",
                "libx265",
                "-pix_fmt",
                "yuv420p",
                "-x265-params",
                "log-level=error:keyint=250:min-keyint=250:bframes=0",
            ][..],
        ),
        (
            "vp9",
            &[
                "-c:v",
                "libvpx-vp9",
                "-pix_fmt",
                "yuv420p",
                "-g",
                "250",
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
                "-lag-in-frames",
                "0",
            ][..],
        ),
        (
            "av1",
            &[
                "-c:v",
                "libsvtav1",
                "-pix_fmt",
                "yuv420p",
                "-g",
                "250",
                "-preset",
                "12",
                "-svtav1-params",
                "lp=1",
            ][..],
        ),
    ];
    let mut publishers = Vec::new();
    for (name, video) in streams {
        publishers.push(publish(
            &ff,
            &format!("rtmp://127.0.0.1:{rtmp}/live/{name}"),
            video,
        ));
    }
    for (name, _) in streams {
        wait_live_flv(http, name, Duration::from_secs(20));
    }
    // HEVC over RTMP with an app instance and a query (the server keys streams by name);
    // AV1 over HTTP-FLV with a query.
    let hevc = std::thread::spawn(move || {
        play(
            &format!("rtmp://127.0.0.1:{rtmp}/live/inst/hevc?token=abc"),
            7,
        )
    });
    let vp9 = std::thread::spawn(move || play(&format!("rtmp://127.0.0.1:{rtmp}/live/vp9"), 7));
    let av1 = play(&format!("http://127.0.0.1:{http}/live/av1.flv?auth=1"), 7);
    assert_rendered("AV1 over HTTP-FLV", &av1, FRAMES * 9 / 10);
    assert_rendered("VP9 over RTMP", &vp9.join().unwrap(), FRAMES * 9 / 10);
    assert_rendered("HEVC over RTMP", &hevc.join().unwrap(), FRAMES * 9 / 10);
    drop(publishers);
}

#[test]
fn any_decoded_pixel_format_renders() {
    let ffmpeg = require("ffmpeg");
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(onair(), dir.path(), &["--record", "none"]);
    let (rtmp, http) = (serve.rtmp, serve.http);
    // Two at a time: four encoders and four players at once would starve two cores.
    for pair in [["yuv420p10le", "yuv422p"], ["yuv444p", "yuvj420p"]] {
        let mut publishers = Vec::new();
        for fmt in pair {
            publishers.push(publish(
                &ffmpeg,
                &format!("rtmp://127.0.0.1:{rtmp}/live/{fmt}"),
                &[
                    "-c:v", "libx264", "-pix_fmt", fmt, "-g", "250", "-preset", "veryfast",
                ],
            ));
        }
        for fmt in pair {
            wait_live_flv(http, fmt, Duration::from_secs(20));
        }
        let first = pair[0];
        let other = std::thread::spawn(move || {
            play(&format!("http://127.0.0.1:{http}/live/{first}.flv"), 7)
        });
        let second = play(&format!("rtmp://127.0.0.1:{rtmp}/live/{}", pair[1]), 7);
        assert_rendered(pair[1], &second, FRAMES * 9 / 10);
        assert_rendered(first, &other.join().unwrap(), FRAMES * 9 / 10);
        drop(publishers);
    }
}

#[test]
fn http_urls_play_whatever_their_path() {
    // A recorded FLV served by a plain file server at CDN-like paths.
    let ffmpeg = require("ffmpeg");
    let root = tempfile::tempdir().unwrap();
    let nested = root.path().join("cdn/a/b");
    std::fs::create_dir_all(&nested).unwrap();
    let file = nested.join("c.flv");
    let made = Command::new(&ffmpeg)
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=25:duration=4",
        ])
        .args([
            "-c:v", "libx264", "-g", "250", "-preset", "veryfast", "-f", "flv",
        ])
        .arg(&file)
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::copy(&file, root.path().join("live")).unwrap();
    // Port 0: python picks a free one and says which on its first line.
    let mut server = Child(
        Command::new(require("python3"))
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
            .current_dir(root.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut banner = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.0.stdout.as_mut().unwrap()),
        &mut banner,
    )
    .unwrap();
    let port: u16 = banner
        .split(" port ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("python's banner: {banner:?}"));
    for path in ["cdn/a/b/c.flv?auth=xyz&expires=1", "live"] {
        // 3 s of the 4 s file, played out in real time (at its end the player would reconnect
        // and fetch the file again, as it does for a live stream that drops).
        let summary = play(&format!("http://127.0.0.1:{port}/{path}"), 3);
        assert_rendered(path, &summary, FRAMES / 2);
    }
}
