//! The `preview` example in a real window: Xvfb (started here on a free display), winit and
//! wgpu on lavapipe. A screenshot of the window (ffmpeg's x11grab) must show the test pattern:
//! its stamp decodes from the captured pixels.

use onair_core::{PixelFormat, VideoFrame};
use onair_testkit::desktop::Xvfb;
use onair_testkit::peers::example;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn the_preview_window_shows_the_test_pattern() {
    let (w, h) = (640u32, 360u32);
    let xvfb = Xvfb::start(1024, 768);
    let mut child = Command::new(example("preview"))
        .args([
            "--seconds",
            "60",
            "--width",
            &w.to_string(),
            "--height",
            &h.to_string(),
        ])
        .env("DISPLAY", xvfb.display())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the preview example");
    let stdout = child.stdout.take().unwrap();
    // The example prints `presented N frames` every second; two such lines mean pictures are
    // on screen.
    let mut seen = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line.starts_with("presented") {
            seen += 1;
            if seen == 2 {
                break;
            }
        }
    }
    assert_eq!(
        seen, 2,
        "the preview example ended before presenting (its stderr is above)"
    );
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("preview.png");
    xvfb.screenshot(w, h, &png);
    let _ = child.kill();
    let _ = child.wait();

    let rgba = image::open(&png).unwrap().to_rgba8();
    assert_eq!(rgba.dimensions(), (w, h));
    let frame = VideoFrame::new(PixelFormat::Rgba32, w, h, rgba.into_raw().into()).unwrap();
    let i420 = onair_codec::convert::to_i420(&frame).unwrap();
    let stamp = onair_codec::read_stamp(&i420)
        .expect("the screenshot of the preview window carries the test pattern's stamp");
    assert!(stamp.counter > 0, "{stamp:?}");
    // The colour bars: the second bar (x = 1/8 .. 2/8 of the width) is yellow.
    let px = image::open(&png)
        .unwrap()
        .to_rgb8()
        .get_pixel(w * 3 / 16, h / 2)
        .0;
    assert!(
        px[0] > 180 && px[1] > 180 && px[2] < 60,
        "yellow bar pixel {px:?}"
    );
}
