//! Render views in real windows, judged by screenshots: the `watch` and `studio` examples under
//! Xvfb, drawing through wgpu on lavapipe. A 16:9 stamped test pattern (1280x720, 30 fps, an
//! onair push into the embedded server) plays in a 640x640 window with each fill mode; the
//! pixels are read back from the X server (GetImage) and the pattern's stamps decoded from them.
//! Also: re-layout after a resize within two frames, closing or destroying the window while
//! playing (the player goes on), the debug overlay, and the pusher's preview with mirror,
//! rotation and its overlay against the pushed stream decoded by FFmpeg.

use onair::{ResolutionMode, V2TXLivePusher, VideoEncoderParam, VideoResolution};
use onair_codec::{read_stamp, Stamp, TestPattern};
use onair_core::{PixelFormat, Timestamp, VideoFrame};
use onair_testkit::desktop::Xvfb;
use onair_testkit::peers::{embedded_server, example, require, wait_live_flv};
use onair_testkit::x11_app::{Desk, Shot};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const STREAM: (u32, u32) = (1280, 720);
const LIMIT: Duration = Duration::from_secs(30);

/// An example running in a window, its output lines on a channel.
struct Running {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(name: &str, args: &[&str], display: &str) -> Self {
        let mut child = Command::new(example(name))
            .args(args)
            .env("DISPLAY", display)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run the {name} example: {e}"));
        let (tx, lines) = std::sync::mpsc::channel();
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            });
        }
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line that `matches`, failing with everything seen after `limit`.
    fn wait(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if matches(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => panic!(
                    "waited for {what}; the example said:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The numbers after `key` in a report line.
    fn field(line: &str, key: &str) -> u64 {
        line.split_whitespace()
            .skip_while(|w| *w != key)
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {line:?}"))
    }

    /// Waits until the view has presented pictures for a while.
    fn wait_presenting(&mut self) {
        self.wait("pictures in the window", |l| {
            l.contains("presented") && Self::field(l, "presented") >= 15
        });
    }

    /// Ends the example now (it would run on) and checks it did not panic.
    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.seen.extend(self.lines.try_iter());
        assert!(
            !self.seen.iter().any(|l| l.contains("panicked")),
            "a panic:\n{}",
            self.seen.join("\n")
        );
    }

    fn finish(mut self) -> Vec<String> {
        let status = self.child.wait().expect("wait for the example");
        self.seen.extend(self.lines.try_iter());
        assert!(
            status.success(),
            "the example failed ({status}):\n{}",
            self.seen.join("\n")
        );
        assert!(
            !self.seen.iter().any(|l| l.contains("panicked")),
            "a panic:\n{}",
            self.seen.join("\n")
        );
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A push of the stamped pattern at 1280x720 30 fps into an embedded server, and its play URL.
fn stream(dir: &std::path::Path, name: &str) -> (onair_server::LiveServer, V2TXLivePusher, String) {
    let server = embedded_server(dir);
    let pusher = V2TXLivePusher::new();
    pusher
        .set_video_quality(
            VideoEncoderParam::new(
                VideoResolution::R1280x720,
                ResolutionMode::Landscape,
                30,
                0,
                0,
            )
            .unwrap(),
        )
        .unwrap();
    pusher
        .start_push(&server.push_url("live", name, Duration::from_secs(600)))
        .unwrap();
    wait_live_flv(server.http_addr().port(), name, LIMIT);
    let url = format!("http://{}/live/{name}.flv", server.http_addr());
    (server, pusher, url)
}

/// Mean brightness of row `y` of a `w`-wide shot, between columns `x0..x1`.
fn row_level(shot: &Shot, w: usize, y: usize, (x0, x1): (usize, usize)) -> f64 {
    let px = &shot[y * w + x0..y * w + x1];
    px.iter()
        .map(|p| f64::from(p[0]) + f64::from(p[1]) + f64::from(p[2]))
        .sum::<f64>()
        / (3.0 * px.len() as f64)
}

/// The stamp in the `rect` (x, y, w, h) of a `shot_w`-wide shot, scaled back to the stream's
/// size; `flip` turns it upside down first (rotation 180 + mirror).
fn stamp_in(shot: &Shot, shot_w: u32, rect: (u32, u32, u32, u32), flip: bool) -> Option<Stamp> {
    let (x, y, w, h) = rect;
    let mut img = image::RgbImage::new(w, h);
    for (px, py, p) in img.enumerate_pixels_mut() {
        let sy = if flip { y + h - 1 - py } else { y + py };
        *p = image::Rgb(shot[(sy * shot_w + x + px) as usize]);
    }
    let img = image::imageops::resize(&img, STREAM.0, STREAM.1, image::imageops::Triangle);
    let rgba = image::DynamicImage::ImageRgb8(img).to_rgba8();
    let frame = VideoFrame::new(
        PixelFormat::Rgba32,
        STREAM.0,
        STREAM.1,
        rgba.into_raw().into(),
    )
    .unwrap();
    read_stamp(&onair_codec::convert::to_i420(&frame).unwrap())
}

/// Two stamps read from screenshots taken apart rise.
fn assert_stamps_rise(desk: &Desk, rect: (u32, u32, u32, u32), what: &str) {
    let shot = |d: &Desk| d.grab(0, 0, 640, 640);
    let first = stamp_in(&shot(desk), 640, rect, false)
        .unwrap_or_else(|| panic!("{what}: no stamp in the window"));
    std::thread::sleep(Duration::from_millis(400));
    let second = stamp_in(&shot(desk), 640, rect, false)
        .unwrap_or_else(|| panic!("{what}: no stamp in the second screenshot"));
    assert!(
        second.counter > first.counter,
        "{what}: stamps {} then {}",
        first.counter,
        second.counter
    );
}

/// Mean difference, in levels, between a 640x360 window's `rect` (x, y, w, h) and the test
/// pattern drawn at 640x360 (upside down with `flip`): the bars, away from the stamp and the
/// moving box, match to within compression and scaling; an overlay does not.
fn differs_from_pattern(shot: &Shot, (x0, y0, w, h): (u32, u32, u32, u32), flip: bool) -> f64 {
    let reference = onair_codec::convert::from_i420(
        &TestPattern::new(640, 360).frame(0, 0, Timestamp::ZERO, false),
        PixelFormat::Rgba32,
    )
    .unwrap();
    let mut diff = 0.0;
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            let ry = if flip { 359 - y } else { y };
            let want = &reference.data()[((ry * 640 + x) * 4) as usize..][..3];
            let got = shot[(y * 640 + x) as usize];
            diff += (0..3)
                .map(|i| (f64::from(want[i]) - f64::from(got[i])).abs())
                .sum::<f64>()
                / 3.0;
        }
    }
    diff / f64::from(w * h)
}

fn is_black(p: [u8; 3]) -> bool {
    p.iter().all(|&c| c < 24)
}

#[test]
fn watch_fits_fills_and_stretches_a_16_9_stream_and_survives_its_window() {
    let xvfb = Xvfb::start(1280, 800);
    let desk = Desk::connect(xvfb.display());
    let dir = tempfile::tempdir().unwrap();
    let (_server, _pusher, url) = stream(dir.path(), "watch");

    // Fit: 640x360 centred, black bars above and below; stamps rise; a resize re-lays out
    // within two frames; closing the window leaves the player playing.
    let mut fit = Running::start(
        "watch",
        &[
            &url,
            "--fill",
            "fit",
            "--size",
            "640x640",
            "--seconds",
            "25",
        ],
        xvfb.display(),
    );
    let window = desk.wait_window("onair watch", LIMIT);
    fit.wait_presenting();
    let shot = desk.grab(0, 0, 640, 640);
    for y in (0..138).chain(502..640) {
        assert!(
            row_level(&shot, 640, y, (0, 640)) < 8.0,
            "fit: row {y} is not a black bar"
        );
    }
    for y in [180, 320, 490] {
        assert!(
            row_level(&shot, 640, y, (0, 640)) > 40.0,
            "fit: row {y} has no picture"
        );
    }
    assert_stamps_rise(&desk, (0, 140, 640, 360), "fit");

    // Resize to 960x640: the picture becomes 960x540 at y = 50.
    // Screenshots are taken as fast as the server gives them; stamps are decoded afterwards
    // (decoding is slower than a frame). Row 100 is a black bar before and picture after.
    let before = desk.grab(0, 0, 640, 640);
    desk.resize(window, 960, 640);
    let relaid = Instant::now();
    let after = loop {
        let shot = desk.grab(0, 0, 960, 640);
        if row_level(&shot, 960, 100, (0, 640)) > 40.0 {
            break shot;
        }
        assert!(
            relaid.elapsed() < Duration::from_secs(5),
            "no picture at the new layout after 5 s"
        );
    };
    let before = stamp_in(&before, 640, (0, 140, 640, 360), false);
    let after = stamp_in(&after, 960, (0, 50, 960, 540), false)
        .expect("the stamp at the new layout (960x540 at y = 50)");
    let before = before.expect("a stamp just before the resize");
    eprintln!(
        "resize: frame {} before, {} at the new layout",
        before.counter, after.counter
    );
    assert!(
        after.counter <= before.counter + 2,
        "re-laid out at frame {} after the resize at frame {} (more than two frames)",
        after.counter,
        before.counter
    );

    // Close it as a window manager would: the window goes, the player plays on.
    desk.request_close(window);
    let closed = fit.wait("the window closed", |l| l.ends_with("window closed"));
    let rendered = Running::field(&closed, "rendered");
    let later = fit.wait("frames after the close", |l| {
        l.ends_with("window closed") && Running::field(l, "rendered") >= rendered + 30
    });
    assert!(!desk.exists(window), "the window is still there");
    drop(later);
    fit.finish();

    // Fill: covers the window, the sides cropped: the first bar (white) is cut off, the
    // yellow one starts at the left edge; no black bars.
    let mut fill = Running::start(
        "watch",
        &[
            &url,
            "--fill",
            "fill",
            "--size",
            "640x640",
            "--seconds",
            "20",
        ],
        xvfb.display(),
    );
    desk.wait_window("onair watch", LIMIT);
    fill.wait_presenting();
    let shot = desk.grab(0, 0, 640, 640);
    // Below the stamp (whose visible cells may be mostly black), down to the last row.
    for y in [60, 320, 637] {
        assert!(
            row_level(&shot, 640, y, (0, 640)) > 40.0,
            "fill: row {y} is not covered"
        );
    }
    let left = shot[320 * 640 + 4];
    assert!(
        left[0] > 150 && left[1] > 150 && left[2] < 80,
        "fill: the left edge shows {left:?}, not the yellow bar (the sides are not cropped)"
    );
    let right = shot[320 * 640 + 635];
    assert!(
        right[2] > 150 && right[0] < 80,
        "fill: the right edge shows {right:?}, not the blue bar"
    );

    // Destroyed behind the example's back: the view stops with a warning, the player goes on.
    let window = desk.wait_window("onair watch", LIMIT);
    desk.destroy(window);
    fill.wait("the view's warning", |l| {
        l.contains("render view stopped") && l.contains("gone")
    });
    let line = fill.wait("a report", |l| l.starts_with("rendered"));
    let rendered = Running::field(&line, "rendered");
    fill.wait("frames after the window was destroyed", |l| {
        l.starts_with("rendered") && Running::field(l, "rendered") >= rendered + 30
    });
    fill.stop();

    // Stretch: the whole picture squeezed into the square: white bar at the left edge, black
    // one at the right, stamps readable.
    let mut stretch = Running::start(
        "watch",
        &[
            &url,
            "--fill",
            "stretch",
            "--size",
            "640x640",
            "--seconds",
            "60",
        ],
        xvfb.display(),
    );
    desk.wait_window("onair watch", LIMIT);
    stretch.wait_presenting();
    let shot = desk.grab(0, 0, 640, 640);
    let (left, right) = (shot[320 * 640 + 4], shot[320 * 640 + 635]);
    assert!(
        left.iter().all(|&c| c > 180),
        "stretch: the left edge shows {left:?}, not the white bar"
    );
    assert!(is_black(right), "stretch: the right edge shows {right:?}");
    for y in [60, 637] {
        assert!(
            row_level(&shot, 640, y, (0, 560)) > 40.0,
            "stretch: row {y} is not covered"
        );
    }
    assert_stamps_rise(&desk, (0, 0, 640, 640), "stretch");
    stretch.stop();
}

#[test]
fn the_debug_overlay_shows_over_the_picture_only_when_on() {
    let xvfb = Xvfb::start(800, 600);
    let desk = Desk::connect(xvfb.display());
    let dir = tempfile::tempdir().unwrap();
    let (_server, _pusher, url) = stream(dir.path(), "debug");
    // The overlay's area: below the stamp, above the moving box.
    let area = |shot: &Shot| differs_from_pattern(shot, (0, 36, 300, 74), false);
    let mut levels = Vec::new();
    for debug in [false, true] {
        let mut args = vec![
            url.as_str(),
            "--fill",
            "fit",
            "--size",
            "640x360",
            "--seconds",
            "60",
        ];
        if debug {
            args.push("--debug");
        }
        let mut run = Running::start("watch", &args, xvfb.display());
        desk.wait_window("onair watch", LIMIT);
        // Past the first statistics (2 s), so the overlay shows its full text.
        run.wait("3 s of pictures", |l| {
            l.contains("presented") && Running::field(l, "presented") >= 90
        });
        levels.push(area(&desk.grab(0, 0, 640, 360)));
        run.stop();
    }
    assert!(
        levels[0] < 12.0,
        "debug off: the text area differs from the picture by {:.1} levels",
        levels[0]
    );
    assert!(
        levels[1] > 40.0,
        "debug on: the text area differs from the picture by only {:.1} levels",
        levels[1]
    );
}

#[test]
fn studio_previews_the_pushed_frames_with_mirror_and_rotation() {
    let ffmpeg = require("ffmpeg");
    let xvfb = Xvfb::start(800, 600);
    let desk = Desk::connect(xvfb.display());
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(dir.path());
    let push = server.push_url("live", "studio", Duration::from_secs(600));
    let mut studio = Running::start(
        "studio",
        &[
            "--source",
            "test",
            "--push",
            &push,
            "--mirror",
            "enable",
            "--rotation",
            "180",
            "--fill",
            "fit",
            "--size",
            "640x360",
            "--seconds",
            "25",
            "--print-stamps",
            "--debug",
        ],
        xvfb.display(),
    );
    desk.wait_window("onair studio", LIMIT);
    studio.wait("pictures in the window", |l| {
        l.starts_with("previewed") && Running::field(l, "presented") >= 15
    });
    // Rotated 180 and mirrored: upside down. The stamp reads only once flipped back.
    let shot = desk.grab(0, 0, 640, 360);
    assert!(
        stamp_in(&shot, 640, (0, 0, 640, 360), true).is_some(),
        "no stamp in the preview turned upside down"
    );
    assert!(
        stamp_in(&shot, 640, (0, 0, 640, 360), false).is_none(),
        "the preview shows the pattern upright: mirror and rotation were not applied"
    );
    // The pusher's debug overlay sits over the window's top-left corner (the pattern's
    // bottom-left, upside down): it differs from the picture there.
    let diff = differs_from_pattern(&shot, (0, 8, 200, 32), true);
    assert!(
        diff > 40.0,
        "the pusher's debug overlay: its area differs from the picture by only {diff:.1} levels"
    );
    // FFmpeg decodes the pushed stream; its stamps are among the preview's.
    studio.wait("the push", |l| l.ends_with("pushing yes"));
    let url = format!("http://{}/live/studio.flv", server.http_addr());
    let out = Command::new(ffmpeg)
        .args([
            "-v", "error", "-i", &url, "-t", "3", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-",
        ])
        .output()
        .expect("run ffmpeg");
    let frame_len = (STREAM.0 * STREAM.1 * 3 / 2) as usize;
    let pushed: Vec<u32> = out
        .stdout
        .chunks_exact(frame_len)
        .filter_map(|f| {
            let frame =
                VideoFrame::new(PixelFormat::I420, STREAM.0, STREAM.1, f.to_vec().into()).ok()?;
            read_stamp(&frame).map(|s| s.counter)
        })
        .collect();
    assert!(
        pushed.len() >= 45,
        "FFmpeg decoded {} stamped frames in 3 s: {}",
        pushed.len(),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = studio.child.kill();
    let previewed: std::collections::HashSet<u32> = studio
        .seen
        .iter()
        .chain(studio.lines.try_iter().collect::<Vec<_>>().iter())
        .filter_map(|l| l.strip_prefix("stamp ")?.parse().ok())
        .collect();
    let matched = pushed.iter().filter(|c| previewed.contains(c)).count();
    assert!(
        matched * 100 >= pushed.len() * 95,
        "{matched} of {} pushed frames were previewed through on_render_video_frame",
        pushed.len()
    );
}
