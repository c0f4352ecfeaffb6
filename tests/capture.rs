//! Capture devices without hardware: the recorded camera frames of `assets/camera/` (YUYV, NV12
//! and MJPEG, as V4L2 cameras deliver them) convert to the I420 that ffmpeg makes of the same
//! bytes; with no camera, start_camera is WARNING_CAMERA_START_FAILED (as its result and through
//! on_warning) and the push goes on with its other sources.

use onair::*;
use onair_capture::{camera_frame_to_i420, CameraPixelFormat};
use onair_testkit::peers::{ffprobe, run, stream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/camera")
        .join(name)
}

/// ffmpeg's yuv420p of a file (`input_args` say how to read it).
fn ffmpeg_i420(input_args: &[&str], file: &Path) -> Vec<u8> {
    let mut args = vec!["-v", "error"];
    args.extend_from_slice(input_args);
    args.extend_from_slice(&["-i", file.to_str().unwrap()]);
    // Limited range like the camera path, accurate chroma, no dithering.
    args.extend_from_slice(&[
        "-vf",
        "scale=out_range=tv:flags=bilinear+accurate_rnd+full_chroma_int",
        "-pix_fmt",
        "yuv420p",
        "-f",
        "rawvideo",
        "-",
    ]);
    run("ffmpeg", &args).stdout
}

/// (mean, 99th percentile, max) absolute difference per plane.
fn compare(ours: &[u8], theirs: &[u8], w: usize, h: usize) -> [(f64, u8, u8); 3] {
    assert_eq!(ours.len(), w * h * 3 / 2);
    assert_eq!(theirs.len(), ours.len(), "ffmpeg's frame size");
    let planes = [(0, w * h), (w * h, w * h / 4), (w * h * 5 / 4, w * h / 4)];
    planes.map(|(at, len)| {
        let mut d: Vec<u8> = ours[at..at + len]
            .iter()
            .zip(&theirs[at..at + len])
            .map(|(a, b)| a.abs_diff(*b))
            .collect();
        let mean = d.iter().map(|&x| f64::from(x)).sum::<f64>() / len as f64;
        d.sort_unstable();
        (mean, d[len * 99 / 100], d[len - 1])
    })
}

#[test]
fn recorded_camera_frames_convert_like_ffmpeg() {
    let (w, h) = (320usize, 240usize);
    let cases = [
        (
            CameraPixelFormat::Yuyv,
            "testsrc2_320x240.yuyv",
            vec!["-f", "rawvideo", "-pix_fmt", "yuyv422", "-s", "320x240"],
            1.0,
            4,
        ),
        (
            CameraPixelFormat::Nv12,
            "testsrc2_320x240.nv12",
            vec!["-f", "rawvideo", "-pix_fmt", "nv12", "-s", "320x240"],
            0.01,
            0,
        ),
        (
            CameraPixelFormat::Mjpeg,
            "testsrc2_320x240.mjpeg",
            vec!["-f", "mjpeg"],
            0.5,
            2,
        ),
    ];
    for (format, file, input, mean_limit, p99_limit) in cases {
        let bytes = std::fs::read(asset(file)).unwrap();
        let ours = camera_frame_to_i420(format, w as u32, h as u32, &bytes)
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!((ours.width(), ours.height()), (w as u32, h as u32));
        let theirs = ffmpeg_i420(&input, &asset(file));
        let diffs = compare(ours.data(), &theirs, w, h);
        eprintln!("{format}: (mean, p99, max) per plane Y/U/V {diffs:?}");
        for (plane, (mean, p99, _)) in diffs.iter().enumerate() {
            assert!(
                *mean <= mean_limit && *p99 <= p99_limit,
                "{format} plane {plane}: mean {mean:.2} (limit {mean_limit}), p99 {p99} (limit {p99_limit})"
            );
        }
        // A short raw frame is an error (FFmpeg conceals a truncated JPEG instead); garbage is an
        // error for every format; neither panics.
        if format != CameraPixelFormat::Mjpeg {
            assert!(
                camera_frame_to_i420(format, w as u32, h as u32, &bytes[..bytes.len() / 2])
                    .is_err()
            );
        }
        assert!(camera_frame_to_i420(format, w as u32, h as u32, &[0x5a; 1000]).is_err());
    }
}

#[derive(Default)]
struct Warnings(Mutex<Vec<(V2TXLiveCode, String)>>);

impl V2TXLivePusherObserver for Warnings {
    fn on_warning(&self, code: V2TXLiveCode, message: &str, _: &str) {
        self.0.lock().unwrap().push((code, message.to_string()));
    }
}

#[test]
fn no_camera_is_camera_start_failed_and_the_push_goes_on() {
    assert!(
        list_cameras().unwrap().is_empty(),
        "this test checks the no-camera path; this machine has a camera"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(dir.path());

    let pusher = V2TXLivePusher::new();
    let warnings = Arc::new(Warnings::default());
    pusher.set_observer(Some(warnings.clone()));
    // Before the push: the call itself says why.
    let e = pusher.start_camera("0").unwrap_err();
    assert_eq!(e.code, V2TXLiveCode::WarningCameraStartFailed, "{e}");
    assert!(e.message.contains("no camera"), "{e}");

    pusher
        .start_push(&server.push_url("live", "nocam", Duration::from_secs(600)))
        .unwrap();
    let flv = format!("{}/live/nocam.flv", server.http_base());
    onair_testkit::peers::wait_until_live(&flv, Duration::from_secs(20));
    // While pushing: the error again, and the observer hears it.
    let e = pusher.start_camera("").unwrap_err();
    assert_eq!(e.code, V2TXLiveCode::WarningCameraStartFailed);
    let deadline = Instant::now() + Duration::from_secs(5);
    while warnings.0.lock().unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "no on_warning for the failed camera"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, message) = warnings.0.lock().unwrap()[0].clone();
    assert_eq!(code, V2TXLiveCode::WarningCameraStartFailed, "{message}");
    // The push goes on: ffprobe still reads video and audio after the failed start.
    std::thread::sleep(Duration::from_millis(500));
    let probe = ffprobe(&flv, false);
    assert_eq!(stream(&probe, "video")["codec_name"], "h264");
    assert_eq!(stream(&probe, "audio")["codec_name"], "aac");
    assert!(pusher.is_pushing());
    pusher.stop_push().unwrap();
    server.stop();
}
