//! Screen and window capture and system audio, under Xvfb and a PulseAudio null sink, judged
//! by FFmpeg: `onair push --source screen` of a window drawing the stamped pattern (stamps
//! rise at the capture rate, in order, at the preset size); window capture of a window at an
//! offset (the window alone; moving it keeps it captured; closing it reports
//! `on_screen_capture_stopped(1)` and the push goes on); a region capture of colour bars (exactly
//! that region); the system audio's 440 Hz and the microphone's 1 kHz both in the AAC's
//! spectrum, the 440 Hz gone at volume 0; `onair sources` listing the screen and the window
//! with a thumbnail of the window's colours.

use onair_codec::{read_stamp, Stamp};
use onair_core::{PixelFormat, VideoFrame};
use onair_testkit::desktop::{PulseAudio, Xvfb};
use onair_testkit::peers::{
    decode_audio_mono, ffprobe, onair_serve, require, stream, tone_share, wait_live_flv, Child,
};
use onair_testkit::x11_window::{Content, PatternWindow};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// One test at a time: each runs an encoder, a capture and FFmpeg on this 2-core machine.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn onair() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_onair"))
}

/// `onair push` with `args` on `display`; its stderr lines come through the receiver.
fn push(display: &str, pulse: Option<&str>, url: &str, args: &[&str]) -> (Child, Receiver<String>) {
    let mut cmd = Command::new(onair());
    cmd.arg("push")
        .arg(url)
        .args(args)
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(p) = pulse {
        cmd.env("PULSE_SERVER", p);
    }
    let mut child = cmd.spawn().expect("start onair push");
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Child(child), rx)
}

/// Waits for a stderr line containing `needle`; returns the lines seen.
fn wait_line(rx: &Receiver<String>, needle: &str, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        let hit = line.contains(needle);
        seen.push(line);
        if hit {
            return seen;
        }
    }
    panic!("no line with {needle:?} within {limit:?}: {seen:#?}");
}

/// FFmpeg decodes `seconds` of `url` as I420 `w` x `h`: the stamps, in decoding order, and
/// the pictures.
fn decode(url: &str, w: usize, h: usize, seconds: u32) -> (Vec<Option<Stamp>>, Vec<Vec<u8>>) {
    let mut ff = Command::new(require("ffmpeg"))
        .args(["-v", "error", "-rw_timeout", "10000000", "-i", url])
        .args(["-t", &seconds.to_string(), "-an"])
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ffmpeg");
    let mut out = ff.stdout.take().unwrap();
    let mut buf = vec![0u8; w * h * 3 / 2];
    let (mut stamps, mut pictures) = (Vec::new(), Vec::new());
    while out.read_exact(&mut buf).is_ok() {
        let frame = VideoFrame::new(
            PixelFormat::I420,
            w as u32,
            h as u32,
            bytes::Bytes::copy_from_slice(&buf),
        )
        .unwrap();
        stamps.push(read_stamp(&frame));
        pictures.push(buf.clone());
    }
    let _ = ff.wait();
    (stamps, pictures)
}

/// RGB at (x, y) of an I420 picture (BT.601 limited range).
fn rgb_at(pic: &[u8], w: usize, h: usize, x: usize, y: usize) -> [i32; 3] {
    let yy = f64::from(pic[y * w + x]) - 16.0;
    let u = f64::from(pic[w * h + (y / 2) * (w / 2) + x / 2]) - 128.0;
    let v = f64::from(pic[w * h + w * h / 4 + (y / 2) * (w / 2) + x / 2]) - 128.0;
    let r = 1.164 * yy + 1.596 * v;
    let g = 1.164 * yy - 0.392 * u - 0.813 * v;
    let b = 1.164 * yy + 2.017 * u;
    [r, g, b].map(|c| c.round().clamp(0.0, 255.0) as i32)
}

fn near(a: [i32; 3], b: [u8; 3], tol: i32) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - i32::from(y)).abs() <= tol)
}

/// Stamps rise: in order (never backwards), and distinct pictures at >= 90% of the capture
/// rate over their capture-time span. A stamp may repeat now and then (at most 5% of the
/// pictures): the test window repaints its current picture when it is moved or exposed, and a
/// capture can land between two of its draws when the machine is loaded.
fn assert_rising(stamps: &[Option<Stamp>], fps: f64, what: &str) {
    let read: Vec<Stamp> = stamps.iter().flatten().copied().collect();
    assert!(
        read.len() as f64 >= stamps.len() as f64 * 0.95 && read.len() >= 20,
        "{what}: {} of {} decoded pictures carry a stamp",
        read.len(),
        stamps.len()
    );
    let mut repeats = 0;
    for w in read.windows(2) {
        assert!(
            w[1].counter >= w[0].counter,
            "{what}: stamps out of order: {} then {}",
            w[0].counter,
            w[1].counter
        );
        repeats += usize::from(w[1].counter == w[0].counter);
    }
    assert!(
        repeats * 20 <= read.len(),
        "{what}: {repeats} of {} pictures repeat the one before",
        read.len()
    );
    let distinct = read.len() - repeats;
    let span_s = (read[read.len() - 1].capture_ms - read[0].capture_ms) as f64 / 1000.0;
    let rate = (distinct - 1) as f64 / span_s.max(1e-3);
    println!(
        "{what}: {distinct} distinct stamped pictures ({repeats} repeated) over {span_s:.2} s \
         of capture time: {rate:.1} fps"
    );
    assert!(
        rate >= fps * 0.9,
        "{what}: {rate:.1} fps captured, want >= 90% of {fps}"
    );
}

#[test]
fn screen_capture_carries_the_stamped_window_at_the_capture_rate() {
    let _one = one_at_a_time();
    let x = Xvfb::start(640, 360);
    let _win = PatternWindow::open(
        x.display(),
        "onair pattern",
        (0, 0),
        (640, 360),
        Content::Stamped { fps: 30 },
    );
    let data = tempfile::tempdir().unwrap();
    let serve = onair_serve(onair(), data.path(), &[]);
    let url = format!("rtmp://127.0.0.1:{}/live/screen", serve.rtmp);
    let args = [
        "--source", "screen", "--preset", "640x360", "--fps", "15", "--audio", "none",
    ];
    let (_push, lines) = push(x.display(), None, &url, &args);
    wait_line(&lines, "capturing screen:0", Duration::from_secs(15));
    wait_live_flv(serve.http, "screen", Duration::from_secs(15));
    let flv = format!("http://127.0.0.1:{}/live/screen.flv", serve.http);
    let probe = ffprobe(&flv, false);
    let v = stream(&probe, "video");
    assert_eq!(
        (&v["width"], &v["height"]),
        (&json!(640), &json!(360)),
        "{probe}"
    );
    let (stamps, _) = decode(&flv, 640, 360, 6);
    assert_rising(&stamps, 15.0, "screen");
}

#[test]
fn window_capture_follows_the_window_and_outlives_it() {
    let _one = one_at_a_time();
    let x = Xvfb::start(1280, 720);
    let win = PatternWindow::open(
        x.display(),
        "onair window",
        (200, 150),
        (640, 360),
        Content::Stamped { fps: 30 },
    );
    let data = tempfile::tempdir().unwrap();
    let serve = onair_serve(onair(), data.path(), &[]);
    let url = format!("rtmp://127.0.0.1:{}/live/win", serve.rtmp);
    // By title substring: the CLI finds the window's id. With LiteAV's highlight border.
    let args = [
        "--source",
        "window:onair win",
        "--highlight",
        "--preset",
        "640x360",
        "--fps",
        "15",
        "--audio",
        "none",
    ];
    let (push, lines) = push(x.display(), None, &url, &args);
    wait_line(
        &lines,
        &format!("capturing window:{:#x}", win.id),
        Duration::from_secs(15),
    );
    wait_live_flv(serve.http, "win", Duration::from_secs(15));
    let flv = format!("http://127.0.0.1:{}/live/win.flv", serve.http);
    // The window alone: its stamp (top rows) reads in (almost) every picture.
    let (stamps, _) = decode(&flv, 640, 360, 4);
    assert_rising(&stamps, 15.0, "window at 200,150");
    // The border is on the screen just outside the window's edges, not in the pushed picture
    // (whose stamps read above).
    let shot = data.path().join("screen.png");
    let green_at = |px: usize, py: usize| {
        x.screenshot(1280, 720, &shot);
        let (w, _, rgb) = decode_png(&shot);
        let px = &rgb[(py * w + px) * 3..][..3];
        px.iter()
            .zip([0x8c, 0xbf, 0x26])
            .all(|(a, b)| a.abs_diff(b) <= 2)
    };
    assert!(
        green_at(197, 330) && green_at(842, 330),
        "border left and right of 200,150"
    );
    assert!(
        green_at(520, 147) && green_at(520, 512),
        "border above and below"
    );
    assert!(!green_at(205, 330), "the window itself is not covered");
    win.move_to(520, 300);
    let (stamps, _) = decode(&flv, 640, 360, 4);
    assert_rising(&stamps, 15.0, "window moved to 520,300");
    assert!(green_at(517, 480), "the border follows the window");
    win.close();
    let seen = wait_line(
        &lines,
        "screen capture stopped (1)",
        Duration::from_secs(10),
    );
    // The warning comes through the push's own callbacks: before or after.
    let warning = "WARNING_SCREEN_CAPTURE_INTERRUPTED";
    if !seen.iter().any(|l| l.contains(warning)) {
        wait_line(&lines, warning, Duration::from_secs(10));
    }
    assert!(!green_at(517, 480), "the border goes with the window");
    // The push goes on (its last picture): FFmpeg still decodes pictures.
    let (after, _) = decode(&flv, 640, 360, 3);
    println!("{} pictures decoded after the window closed", after.len());
    assert!(
        after.len() >= 20,
        "the push went on after the window closed"
    );
    drop(push);
}

/// A 4:3 window into a 16:9 push keeps its aspect on black bars, as LiteAV's do.
#[test]
fn a_window_of_another_aspect_is_letterboxed_not_stretched() {
    let _one = one_at_a_time();
    let x = Xvfb::start(640, 360);
    let _win = PatternWindow::open(
        x.display(),
        "onair square",
        (0, 0),
        (480, 360),
        Content::Bars(vec![[255, 255, 255]]),
    );
    let data = tempfile::tempdir().unwrap();
    let serve = onair_serve(onair(), data.path(), &[]);
    let url = format!("rtmp://127.0.0.1:{}/live/box", serve.rtmp);
    let args = [
        "--source",
        "window:onair square",
        "--preset",
        "640x360",
        "--fps",
        "15",
        "--audio",
        "none",
    ];
    let (_push, lines) = push(x.display(), None, &url, &args);
    wait_line(&lines, "capturing window:", Duration::from_secs(15));
    wait_live_flv(serve.http, "box", Duration::from_secs(15));
    let flv = format!("http://127.0.0.1:{}/live/box.flv", serve.http);
    let (_, pictures) = decode(&flv, 640, 360, 2);
    let pic = pictures.last().expect("a decoded picture");
    // 480x360 scaled to fit 640x360 is itself: bars 80 px wide each side.
    for (px, want) in [(40, [0, 0, 0]), (320, [255, 255, 255]), (600, [0, 0, 0])] {
        let got = rgb_at(pic, 640, 360, px, 180);
        assert!(near(got, want, 24), "x {px}: {got:?}, want {want:?}");
    }
}

#[test]
fn a_region_capture_is_exactly_that_region() {
    let _one = one_at_a_time();
    const BARS: [[u8; 3]; 8] = [
        [255, 255, 255],
        [255, 255, 0],
        [0, 255, 255],
        [0, 255, 0],
        [255, 0, 255],
        [255, 0, 0],
        [0, 0, 255],
        [0, 0, 0],
    ];
    let x = Xvfb::start(640, 360);
    let _bars = PatternWindow::open(
        x.display(),
        "onair bars",
        (0, 0),
        (640, 360),
        Content::Bars(BARS.to_vec()),
    );
    let data = tempfile::tempdir().unwrap();
    let serve = onair_serve(onair(), data.path(), &[]);
    let url = format!("rtmp://127.0.0.1:{}/live/region", serve.rtmp);
    // Bars are 80 px wide: x 160..480 is bars 2 to 5.
    let args = [
        "--source",
        "screen",
        "--region",
        "160,90,320,180",
        "--preset",
        "320x180",
        "--fps",
        "15",
        "--audio",
        "none",
    ];
    let (_push, lines) = push(x.display(), None, &url, &args);
    wait_line(&lines, "capturing screen:0", Duration::from_secs(15));
    wait_live_flv(serve.http, "region", Duration::from_secs(15));
    let flv = format!("http://127.0.0.1:{}/live/region.flv", serve.http);
    let (_, pictures) = decode(&flv, 320, 180, 2);
    let pic = pictures.last().expect("a decoded picture");
    for (i, want) in BARS[2..6].iter().enumerate() {
        let got = rgb_at(pic, 320, 180, i * 80 + 40, 90);
        println!("bar {}: {got:?} (want {want:?})", i + 2);
        assert!(
            near(got, *want, 24),
            "bar {} at x {}: {got:?}",
            i + 2,
            i * 80 + 40
        );
    }
}

#[test]
fn system_audio_and_the_microphone_are_both_heard_and_volume_zero_mutes_the_loopback() {
    let _one = one_at_a_time();
    let pulse = PulseAudio::start();
    pulse.add_microphone_sink();
    let _system = pulse.play_tone_into("onair_null", 440, 60);
    let _mic = pulse.play_tone_into("onair_mic", 1000, 60);
    let x = Xvfb::start(320, 240);
    let data = tempfile::tempdir().unwrap();
    let serve = onair_serve(onair(), data.path(), &[]);
    let mut shares = Vec::new();
    for volume in ["100", "0"] {
        let name = format!("sys{volume}");
        let url = format!("rtmp://127.0.0.1:{}/live/{name}", serve.rtmp);
        let args = [
            "--preset",
            "320x240",
            "--fps",
            "15",
            "--audio",
            "music",
            "--microphone",
            "--system-audio",
            "--system-audio-volume",
            volume,
        ];
        let (push, _lines) = push(x.display(), Some(pulse.server()), &url, &args);
        wait_live_flv(serve.http, &name, Duration::from_secs(15));
        let flv = format!("http://127.0.0.1:{}/live/{name}.flv", serve.http);
        let pcm = decode_audio_mono(&flv, 4);
        assert!(pcm.len() > 48_000, "decoded {} samples", pcm.len());
        // Past the start burst and the encoder's priming.
        let tail = &pcm[pcm.len() / 4..];
        let (s440, s1k) = (tone_share(tail, 440.0), tone_share(tail, 1000.0));
        println!(
            "volume {volume}: 440 Hz {:.3}, 1 kHz {:.3} of the power",
            s440, s1k
        );
        shares.push((s440, s1k));
        drop(push);
    }
    let ((loud440, loud1k), (mute440, mute1k)) = (shares[0], shares[1]);
    assert!(
        loud440 > 0.1 && loud1k > 0.1,
        "both tones heard: {shares:?}"
    );
    assert!(mute1k > 0.5, "the microphone stays at volume 0: {shares:?}");
    assert!(mute440 < 0.01, "volume 0 removes the loopback: {shares:?}");
}

#[test]
fn sources_list_the_screen_and_the_window_with_its_thumbnail() {
    let _one = one_at_a_time();
    let x = Xvfb::start(800, 600);
    let win = PatternWindow::open(
        x.display(),
        "onair thumbnail",
        (100, 50),
        (400, 200),
        Content::Bars(vec![[255, 0, 0], [0, 0, 255]]),
    );
    let thumbs = tempfile::tempdir().unwrap();
    let out = Command::new(onair())
        .args(["sources", "--json", "--thumbnails"])
        .arg(thumbs.path())
        .env("DISPLAY", x.display())
        .output()
        .expect("run onair sources");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!("{v:#}");
    let screen = &v["screens"][0];
    assert_eq!(
        (&screen["width"], &screen["height"]),
        (&json!(800), &json!(600))
    );
    let id = format!("window:{:#x}", win.id);
    let w = v["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} not listed: {v}"));
    assert_eq!(w["name"], "onair thumbnail");
    assert_eq!(
        (&w["x"], &w["y"], &w["width"], &w["height"]),
        (&json!(100), &json!(50), &json!(400), &json!(200))
    );
    let png = thumbs.path().join(format!("{}.png", id.replace(':', "_")));
    let thumb = decode_png(&png);
    let (tw, th) = (thumb.0, thumb.1);
    assert!(tw <= 320 && th <= 180 && tw >= 300, "thumbnail {tw}x{th}");
    let px = |x: usize, y: usize| {
        let i = (y * tw + x) * 3;
        [thumb.2[i], thumb.2[i + 1], thumb.2[i + 2]]
    };
    assert_eq!(px(tw / 4, th / 2), [255, 0, 0], "left half red");
    assert_eq!(px(tw * 3 / 4, th / 2), [0, 0, 255], "right half blue");
}

/// A PNG decoded by FFmpeg to RGB: width, height, bytes.
fn decode_png(path: &Path) -> (usize, usize, Vec<u8>) {
    let probe = ffprobe(path.to_str().unwrap(), false);
    let v = stream(&probe, "video");
    let (w, h) = (
        v["width"].as_u64().unwrap() as usize,
        v["height"].as_u64().unwrap() as usize,
    );
    let out = Command::new(require("ffmpeg"))
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    (w, h, out.stdout)
}
