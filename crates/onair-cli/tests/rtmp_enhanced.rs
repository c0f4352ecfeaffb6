//! Enhanced RTMP through `onair serve`, judged by FFmpeg 9 (PyPI imageio-ffmpeg; Debian's
//! FFmpeg 5.1 has no Enhanced RTMP): FFmpeg 9 publishes HEVC (libx265) and AV1 (libsvtav1)
//! with AAC; FFmpeg 9 reads every video frame back over RTMP and over HTTP-FLV and decodes it;
//! the server's MP4 recording (remuxed by onair from the Enhanced RTMP FLV) is `hvc1` / `av01`
//! and decodes; a screenshot (HEVC / AV1 decoded by the server) is written as a 300 px wide
//! JPEG.

use onair_testkit::peers::{ffmpeg9, onair_serve, Child};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FRAMES: u32 = 100; // 4 s at 25 fps, one GOP: the server's start burst holds them all

fn publish(ff: &Path, url: &str, video: &[&str]) -> Child {
    let child = Command::new(ff)
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
        .args(["-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start FFmpeg 9");
    Child(child)
}

/// Decodes the video of `input` with FFmpeg 9 and counts the frames (one framecrc line each).
fn count_frames(ff: &Path, input: &str) -> std::thread::JoinHandle<(u32, String)> {
    let (ff, input) = (ff.to_path_buf(), input.to_string());
    std::thread::spawn(move || {
        let out = Command::new(&ff)
            .args(["-v", "error", "-rw_timeout", "3000000", "-i", &input])
            .args(["-map", "0:v", "-f", "framecrc", "-"])
            .output()
            .expect("run FFmpeg 9");
        let frames = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .count() as u32;
        (frames, String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

fn wait_live(http: u16, name: &str) {
    onair_testkit::peers::wait_live_flv(http, name, Duration::from_secs(15));
}

#[test]
fn ffmpeg9_hevc_and_av1_pass_through_onair_serve() {
    let ff = ffmpeg9();
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(
        std::path::Path::new(env!("CARGO_BIN_EXE_onair")),
        dir.path(),
        &["--record", "mp4", "--screenshot-seconds", "1"],
    );
    let (rtmp, http) = (serve.rtmp, serve.http);
    // Both codecs at once (two streams), each read back by two FFmpeg 9 players.
    let mut runs = Vec::new();
    for (name, video) in [
        (
            "hevc",
            &[
                "-c:v",
                "libx265",
                "-x265-params",
                "log-level=error:keyint=250:min-keyint=250:bframes=0",
            ][..],
        ),
        (
            "av1",
            &[
                "-c:v",
                "libsvtav1",
                "-g",
                "250",
                "-preset",
                "12",
                "-svtav1-params",
                "lp=1",
            ][..],
        ),
    ] {
        let url = format!("rtmp://127.0.0.1:{rtmp}/live/{name}");
        runs.push((name, url.clone(), publish(&ff, &url, video)));
    }
    let mut readers = Vec::new();
    for (name, url, _) in &runs {
        wait_live(http, name);
        readers.push((*name, "RTMP", count_frames(&ff, url)));
        let flv = format!("http://127.0.0.1:{http}/live/{name}.flv");
        readers.push((*name, "HTTP-FLV", count_frames(&ff, &flv)));
    }
    for (name, _, mut publisher) in runs {
        let status = publisher.0.wait().unwrap();
        assert!(
            status.success(),
            "{name}: FFmpeg 9 publish failed ({status})"
        );
    }
    for (name, how, reader) in readers {
        let (frames, stderr) = reader.join().unwrap();
        println!("{name} over {how}: {frames} frames decoded by FFmpeg 9");
        assert_eq!(frames, FRAMES, "{name} over {how}: {stderr}");
    }
    // Recording segments close when their push ends; screenshots come every second.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut flvs, mut jpgs) = (Vec::new(), Vec::new());
    while Instant::now() < deadline {
        flvs.clear();
        jpgs.clear();
        flvs.extend(onair_testkit::files_with_ext(dir.path(), "mp4"));
        jpgs.extend(onair_testkit::files_with_ext(dir.path(), "jpg"));
        let names = |v: &Vec<PathBuf>, n: &str| v.iter().any(|p| p.to_string_lossy().contains(n));
        if ["hevc", "av1"]
            .iter()
            .all(|n| names(&flvs, n) && names(&jpgs, n))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for (name, tag) in [("hevc", "hvc1"), ("av1", "av01")] {
        let flv = flvs
            .iter()
            .find(|p| p.to_string_lossy().contains(name))
            .unwrap_or_else(|| panic!("no {name} recording in {flvs:?}"));
        let probe = onair_testkit::peers::ffprobe(&flv.to_string_lossy(), false);
        let v = onair_testkit::peers::stream(&probe, "video");
        assert_eq!(v["codec_tag_string"], tag, "{name} MP4: {probe}");
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(320), Some(180))
        );
        let (frames, stderr) = count_frames(&ff, &flv.to_string_lossy()).join().unwrap();
        println!("{name} recording {}: {frames} frames", flv.display());
        assert!(
            frames >= FRAMES - 5,
            "{name} recording decodes {frames} frames: {stderr}"
        );
        let jpg = jpgs
            .iter()
            .find(|p| p.to_string_lossy().contains(name))
            .unwrap_or_else(|| panic!("no {name} screenshot in {jpgs:?}"));
        let img = image::open(jpg).expect("the screenshot is a JPEG");
        assert_eq!(img.width(), 300, "{name} screenshot width");
    }
}
