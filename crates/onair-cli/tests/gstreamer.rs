//! GStreamer 1.22's RTMP stack (`rtmp2sink`, `rtmp2src` from gstreamer1.0-plugins-bad: an
//! implementation independent of librtmp, FFmpeg and onair) against `onair serve`:
//! - rtmp2sink publishes H.264 (x264enc) + AAC (voaacenc) into onair serve; FFmpeg 5.1 reads
//!   it back over HTTP-FLV and decodes the frames.
//! - rtmp2src plays a stream FFmpeg 5.1 publishes into onair serve; GStreamer decodes it to a
//!   PNG of the published size.

use onair_testkit::peers::{ffmpeg_publish, onair_serve, require, Child};
use std::process::{Command, Stdio};
use std::time::Duration;

fn wait_live(http: u16, name: &str) {
    onair_testkit::peers::wait_live_flv(http, name, Duration::from_secs(20));
}

#[test]
fn rtmp2sink_publishes_into_onair_serve() {
    let gst = require("gst-launch-1.0");
    let ffmpeg = require("ffmpeg");
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(
        std::path::Path::new(env!("CARGO_BIN_EXE_onair")),
        dir.path(),
        &["--record", "none"],
    );
    let (rtmp, http) = (serve.rtmp, serve.http);
    let pipeline = format!(
        "videotestsrc is-live=true num-buffers=150 ! video/x-raw,width=320,height=180,framerate=25/1 \
         ! x264enc tune=zerolatency key-int-max=25 speed-preset=ultrafast ! h264parse \
         ! flvmux name=mux streamable=true ! rtmp2sink location=rtmp://127.0.0.1:{rtmp}/live/gst \
         audiotestsrc is-live=true num-buffers=280 ! audio/x-raw,rate=48000,channels=2 \
         ! voaacenc ! aacparse ! mux."
    );
    let mut publisher = Child(
        Command::new(&gst)
            .args(["-q", "-e"])
            .args(pipeline.split_whitespace())
            .stdout(Stdio::null())
            .spawn()
            .expect("start gst-launch-1.0"),
    );
    wait_live(http, "gst");
    let out = Command::new(&ffmpeg)
        .args([
            "-v",
            "error",
            "-i",
            &format!("http://127.0.0.1:{http}/live/gst.flv"),
        ])
        .args(["-t", "2", "-map", "0:v", "-f", "framecrc", "-"])
        .output()
        .unwrap();
    let frames = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    println!("rtmp2sink -> onair serve -> FFmpeg: {frames} frames in 2 s");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        frames >= 45,
        "{frames} frames decoded from GStreamer's push"
    );
    let status = publisher.0.wait().unwrap();
    assert!(status.success(), "rtmp2sink pipeline failed ({status})");
}

#[test]
fn rtmp2src_plays_from_onair_serve() {
    let gst = require("gst-launch-1.0");
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(
        std::path::Path::new(env!("CARGO_BIN_EXE_onair")),
        dir.path(),
        &["--record", "none"],
    );
    let (rtmp, http) = (serve.rtmp, serve.http);
    let url = format!("rtmp://127.0.0.1:{rtmp}/live/forgst");
    let _publisher = ffmpeg_publish(&url, 20, "320x180", 25);
    wait_live(http, "forgst");
    let png = dir.path().join("frame.png");
    let out = Command::new(&gst)
        .args(["-q"])
        .args(
            format!(
                "rtmp2src location={url} timeout=10 ! flvdemux name=d d.video ! queue ! h264parse \
                 ! avdec_h264 ! videoconvert ! pngenc snapshot=true ! filesink location={}",
                png.display()
            )
            .split_whitespace(),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rtmp2src pipeline failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(&png).expect("GStreamer wrote a PNG");
    assert_eq!((img.width(), img.height()), (320, 180));
}
