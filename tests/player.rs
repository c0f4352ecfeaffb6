//! V2TXLivePlayer against real peers started by the tests: nginx-rtmp (RTMP) and
//! node-media-server (HTTP-FLV), fed by ffmpeg (libx264 high with B-frames, AAC 44.1 kHz
//! stereo) and by onair's own pusher. Checks completeness and order of what is rendered, the
//! four render formats against ffmpeg's conversion, resolution changes, stalls, A/V sync, SEI,
//! reconnects, hostile servers and the API's error codes.

use bytes::Bytes;
use onair::*;
use onair_codec::{read_stamp, Stamp, TestPattern};
use onair_core::Timestamp;
use onair_flv::{FlvHeader, FlvTag, TagType};
use onair_testkit::live_source::encoded_tags;
use onair_testkit::peers::{ffmpeg_publish, require, Nginx, NodeMediaServer};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One rendered picture as the test saw it.
#[derive(Debug, Clone)]
struct Rendered {
    at: Instant,
    wall_ms: f64,
    pts_us: u64,
    width: u32,
    height: u32,
    stamp: Option<Stamp>,
    frame: Option<VideoFrame>,
}

/// Records every player callback; counts any after `stopped` is set.
#[derive(Default)]
struct Seen {
    events: Mutex<Vec<(Instant, String)>>,
    changed: Condvar,
    frames: Mutex<Vec<Rendered>>,
    audio: Mutex<Vec<(Instant, u32, u16, f64)>>,
    sei: Mutex<Vec<(u32, Vec<u8>)>>,
    snapshots: Mutex<Vec<Option<(u32, u32, PixelFormat)>>>,
    stats: Mutex<Vec<PlayerStatistics>>,
    keep_frames: AtomicBool,
    stopped: AtomicBool,
    after_stop: AtomicUsize,
}

fn wall_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

impl Seen {
    fn note(&self, e: String) {
        if self.stopped.load(Ordering::Acquire) {
            self.after_stop.fetch_add(1, Ordering::AcqRel);
        }
        self.events.lock().unwrap().push((Instant::now(), e));
        self.changed.notify_all();
    }
    fn events(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }
    /// Waits for an event containing `what` (after the first `skip` events).
    fn wait_event(&self, what: &str, skip: usize, limit: Duration) -> Option<Instant> {
        let end = Instant::now() + limit;
        let mut events = self.events.lock().unwrap();
        loop {
            if let Some((at, _)) = events.iter().skip(skip).find(|(_, e)| e.contains(what)) {
                return Some(*at);
            }
            let now = Instant::now();
            if now >= end {
                return None;
            }
            events = self.changed.wait_timeout(events, end - now).unwrap().0;
        }
    }
    /// Waits until `n` pictures have been rendered.
    fn wait_frames(&self, n: usize, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        let mut events = self.events.lock().unwrap();
        loop {
            if self.frames.lock().unwrap().len() >= n {
                return true;
            }
            let now = Instant::now();
            if now >= end {
                return false;
            }
            events = self
                .changed
                .wait_timeout(events, (end - now).min(Duration::from_millis(50)))
                .unwrap()
                .0;
        }
    }
    fn frames(&self) -> Vec<Rendered> {
        self.frames.lock().unwrap().clone()
    }
}

impl V2TXLivePlayerObserver for Seen {
    fn on_error(&self, _: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, _: &str) {
        self.note(format!("error {} {message}", code.name()));
    }
    fn on_warning(&self, _: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, _: &str) {
        self.note(format!("warning {} {message}", code.name()));
    }
    fn on_video_resolution_changed(&self, _: &V2TXLivePlayer, w: u32, h: u32) {
        self.note(format!("resolution {w}x{h}"));
    }
    fn on_connected(&self, _: &V2TXLivePlayer, _: &str) {
        self.note("connected".into());
    }
    fn on_video_playing(&self, _: &V2TXLivePlayer, first: bool, _: &str) {
        self.note(format!("video playing first={first}"));
    }
    fn on_audio_playing(&self, _: &V2TXLivePlayer, first: bool, _: &str) {
        self.note(format!("audio playing first={first}"));
    }
    fn on_video_loading(&self, _: &V2TXLivePlayer, _: &str) {
        self.note("video loading".into());
    }
    fn on_audio_loading(&self, _: &V2TXLivePlayer, _: &str) {
        self.note("audio loading".into());
    }
    fn on_statistics_update(&self, _: &V2TXLivePlayer, s: &PlayerStatistics) {
        self.stats.lock().unwrap().push(*s);
        self.note("statistics".into());
    }
    fn on_snapshot_complete(&self, _: &V2TXLivePlayer, image: Option<&VideoFrame>) {
        self.snapshots
            .lock()
            .unwrap()
            .push(image.map(|f| (f.width(), f.height(), f.format())));
        self.note("snapshot".into());
    }
    fn on_stream_switched(&self, _: &V2TXLivePlayer, url: &str, code: i32) {
        self.note(format!("switched {url} {code}"));
    }
    fn on_receive_sei_message(&self, _: &V2TXLivePlayer, t: u32, data: &[u8]) {
        self.sei.lock().unwrap().push((t, data.to_vec()));
        self.note(format!("sei {t}"));
    }
    fn on_playout_audio_frame(&self, _: &V2TXLivePlayer, f: &AudioFrame) {
        if self.stopped.load(Ordering::Acquire) {
            self.after_stop.fetch_add(1, Ordering::AcqRel);
        }
        let n = f.samples().len().max(1) as f64;
        let rms = (f.samples().map(|s| f64::from(s).powi(2)).sum::<f64>() / n).sqrt();
        self.audio
            .lock()
            .unwrap()
            .push((Instant::now(), f.sample_rate(), f.channels(), rms));
    }
    fn on_render_video_frame(&self, _: &V2TXLivePlayer, f: &VideoFrame) {
        if self.stopped.load(Ordering::Acquire) {
            self.after_stop.fetch_add(1, Ordering::AcqRel);
        }
        let stamp = match f.format() {
            PixelFormat::I420 => read_stamp(f),
            _ => read_stamp(&luma_as_i420(f)),
        };
        let keep = self.keep_frames.load(Ordering::Acquire);
        self.frames.lock().unwrap().push(Rendered {
            at: Instant::now(),
            wall_ms: wall_ms(),
            pts_us: f.timestamp().as_micros(),
            width: f.width(),
            height: f.height(),
            stamp,
            frame: keep.then(|| f.clone()),
        });
        self.changed.notify_all();
    }
}

/// An I420 frame carrying `f`'s luma (from Y, or from RGB by BT.601) and grey chroma, so the
/// test pattern's stamp can be read from any render format.
fn luma_as_i420(f: &VideoFrame) -> VideoFrame {
    let (w, h) = (f.width() as usize, f.height() as usize);
    let mut buf = vec![128u8; w * h * 3 / 2];
    let d = f.data();
    match f.format() {
        PixelFormat::Nv12 | PixelFormat::I420 => buf[..w * h].copy_from_slice(&d[..w * h]),
        PixelFormat::Rgba32 | PixelFormat::Bgra32 => {
            let rgba = f.format() == PixelFormat::Rgba32;
            for i in 0..w * h {
                let px = &d[i * 4..i * 4 + 4];
                let (r, g, b) = if rgba {
                    (px[0], px[1], px[2])
                } else {
                    (px[2], px[1], px[0])
                };
                let y = 16.0
                    + (65.481 * f64::from(r) + 128.553 * f64::from(g) + 24.966 * f64::from(b))
                        / 255.0;
                buf[i] = y.round().clamp(0.0, 255.0) as u8;
            }
        }
        other => panic!("unexpected render format {other}"),
    }
    VideoFrame::new(PixelFormat::I420, w as u32, h as u32, Bytes::from(buf)).unwrap()
}

fn player(seen: &Arc<Seen>, format: PixelFormat) -> V2TXLivePlayer {
    let p = V2TXLivePlayer::new();
    p.set_observer(Some(seen.clone()));
    p.enable_observe_video_frame(true, format, BufferType::ByteBuffer)
        .unwrap();
    p.enable_observe_audio_frame(true).unwrap();
    p
}

/// A pusher set to `preset` (landscape) at `fps`, not started.
fn configured_pusher(preset: VideoResolution, fps: u32) -> V2TXLivePusher {
    let p = V2TXLivePusher::new();
    p.set_video_quality(
        VideoEncoderParam::new(preset, ResolutionMode::Landscape, fps, 0, 0).unwrap(),
    )
    .unwrap();
    p
}

/// A pusher of the test pattern to `url`.
fn pusher(url: &str, preset: VideoResolution, fps: u32) -> V2TXLivePusher {
    let p = configured_pusher(preset, fps);
    p.start_push(url).unwrap();
    p
}

/// Stops the player and checks that nothing arrives afterwards.
fn stop_and_check(p: &V2TXLivePlayer, seen: &Seen) {
    p.stop_play().unwrap();
    seen.stopped.store(true, Ordering::Release);
    let before = seen.after_stop.load(Ordering::Acquire);
    // Anything still in flight would land well within this window.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(seen.after_stop.load(Ordering::Acquire), before);
    assert_eq!(before, 0, "callbacks after stop_play returned");
}

/// Plays `secs` seconds after the first picture and checks completeness and order: by the
/// stamp's counter when the stream carries the test pattern, by pts otherwise.
fn check_complete(seen: &Seen, secs: f64, fps: f64, size: (u32, u32), stamped: bool, what: &str) {
    let frames = seen.frames();
    assert!(!frames.is_empty(), "{what}: nothing rendered");
    let t0 = frames[0].at;
    let window: Vec<&Rendered> = frames
        .iter()
        .filter(|f| f.at.duration_since(t0).as_secs_f64() <= secs)
        .collect();
    for f in &window {
        assert_eq!((f.width, f.height), size, "{what}: picture size");
    }
    assert!(
        window.windows(2).all(|w| w[0].pts_us < w[1].pts_us),
        "{what}: pts not increasing"
    );
    if stamped {
        let counters: Vec<u32> = window
            .iter()
            .map(|f| {
                f.stamp
                    .unwrap_or_else(|| panic!("{what}: unreadable stamp"))
                    .counter
            })
            .collect();
        assert!(
            counters.windows(2).all(|w| w[0] < w[1]),
            "{what}: counters out of order"
        );
        let span = f64::from(counters[counters.len() - 1] - counters[0] + 1);
        let share = counters.len() as f64 / span;
        assert!(
            share >= 0.95,
            "{what}: {} of {span} frames rendered",
            counters.len()
        );
        eprintln!("{what}: {} of {span} counters rendered", counters.len());
    } else {
        let span_s = (window[window.len() - 1].pts_us - window[0].pts_us) as f64 / 1e6;
        let expected = span_s * fps + 1.0;
        let share = window.len() as f64 / expected;
        assert!(
            share >= 0.95,
            "{what}: {} of {expected:.0} frames rendered",
            window.len()
        );
        eprintln!("{what}: {} of {expected:.0} frames rendered", window.len());
    }
    assert!(
        window.len() as f64 >= secs * fps * 0.9,
        "{what}: {} frames in {secs} s",
        window.len()
    );
}

fn play_for(seen: &Arc<Seen>, p: &V2TXLivePlayer, secs: f64, fps: f64) {
    assert!(
        seen.wait_frames(1, Duration::from_secs(20)),
        "no picture within 20 s; events: {:?}",
        seen.events()
    );
    let need = (secs * fps * 1.02) as usize + 2;
    seen.wait_frames(need, Duration::from_secs_f64(secs + 5.0));
    let _ = p;
}

#[test]
fn plays_onair_push_from_nginx_rtmp() {
    let nginx = Nginx::start();
    let url = nginx.url("onair");
    let _push = pusher(&url, VideoResolution::R640x360, 25);
    let seen = Arc::new(Seen::default());
    let p = player(&seen, PixelFormat::I420);
    p.enable_volume_evaluation(300).unwrap();
    p.start_play(&url).unwrap();
    play_for(&seen, &p, 10.0, 25.0);
    p.snapshot().unwrap();
    assert!(seen
        .wait_event("snapshot", 0, Duration::from_secs(5))
        .is_some());
    stop_and_check(&p, &seen);
    check_complete(&seen, 10.0, 25.0, (640, 360), true, "onair push -> nginx");
    let events = seen.events();
    let pos = |what: &str| {
        events
            .iter()
            .position(|e| e.contains(what))
            .unwrap_or_else(|| panic!("no {what:?} in {events:?}"))
    };
    assert!(pos("connected") < pos("video playing first=true"));
    assert!(pos("resolution 640x360") <= pos("video playing first=true") + 1);
    pos("audio playing first=true");
    assert!(!events.iter().any(|e| e.contains("error")), "{events:?}");
    assert_eq!(
        *seen.snapshots.lock().unwrap(),
        vec![Some((640, 360, PixelFormat::Rgba32))]
    );
    // Audio: 20 ms frames of the pusher's 48 kHz mono tone.
    let audio = seen.audio.lock().unwrap().clone();
    assert!(audio.len() >= 400, "{} audio frames", audio.len());
    assert!(audio.iter().all(|(_, r, c, _)| (*r, *c) == (48_000, 1)));
    // Statistics every 2 s with plausible numbers.
    let stats = seen.stats.lock().unwrap().clone();
    assert!(stats.len() >= 4, "{stats:?}");
    let s = stats[stats.len() - 1];
    assert_eq!((s.width, s.height), (640, 360));
    assert!((22.0..=28.0).contains(&s.fps), "{s:?}");
    assert!(s.video_bitrate > 100 && s.audio_bitrate > 20, "{s:?}");
    assert!(s.net_speed >= s.video_bitrate, "{s:?}");
    assert!(s.jitter_buffer_delay < 1000, "{s:?}");
}

#[test]
fn plays_ffmpeg_x264_with_b_frames_from_nginx_rtmp() {
    let nginx = Nginx::start();
    let url = nginx.url("ffmpeg");
    let _ff = ffmpeg_publish(&url, 40, "640x360", 50);
    let seen = Arc::new(Seen::default());
    let p = player(&seen, PixelFormat::I420);
    p.start_play(&url).unwrap();
    play_for(&seen, &p, 10.0, 25.0);
    stop_and_check(&p, &seen);
    check_complete(&seen, 10.0, 25.0, (640, 360), false, "ffmpeg -> nginx");
    let audio = seen.audio.lock().unwrap().clone();
    assert!(audio.len() >= 400, "{} audio frames", audio.len());
    assert!(audio.iter().all(|(_, r, c, _)| (*r, *c) == (44_100, 2)));
}

#[test]
fn plays_http_flv_from_node_media_server() {
    let nms = NodeMediaServer::start(None);
    // ffmpeg and onair's pusher, each on its own stream.
    let ff_url = format!("rtmp://127.0.0.1:{}/live/ffmpeg", nms.rtmp_port);
    let _ff = ffmpeg_publish(&ff_url, 40, "640x360", 50);
    let onair_url = format!("rtmp://127.0.0.1:{}/live/onair", nms.rtmp_port);
    let _push = pusher(&onair_url, VideoResolution::R480x360, 25);
    let seen_ff = Arc::new(Seen::default());
    let seen_onair = Arc::new(Seen::default());
    let p_ff = player(&seen_ff, PixelFormat::I420);
    let p_onair = player(&seen_onair, PixelFormat::I420);
    p_ff.start_play(&format!(
        "http://127.0.0.1:{}/live/ffmpeg.flv",
        nms.http_port
    ))
    .unwrap();
    p_onair
        .start_play(&format!(
            "http://127.0.0.1:{}/live/onair.flv",
            nms.http_port
        ))
        .unwrap();
    play_for(&seen_ff, &p_ff, 10.0, 25.0);
    play_for(&seen_onair, &p_onair, 10.0, 25.0);
    stop_and_check(&p_ff, &seen_ff);
    stop_and_check(&p_onair, &seen_onair);
    check_complete(
        &seen_ff,
        10.0,
        25.0,
        (640, 360),
        false,
        "ffmpeg -> NMS http-flv",
    );
    check_complete(
        &seen_onair,
        10.0,
        25.0,
        (480, 360),
        true,
        "onair -> NMS http-flv",
    );
    assert!(seen_ff.audio.lock().unwrap().len() >= 400, "{}", nms.log());
}

/// Converts an I420 picture with the ffmpeg CLI (the reference) to `format`.
fn ffmpeg_convert(src: &VideoFrame, format: PixelFormat) -> Vec<u8> {
    if format == PixelFormat::I420 {
        return src.data().to_vec();
    }
    let pix = match format {
        PixelFormat::Nv12 => "nv12",
        PixelFormat::Rgba32 => "rgba",
        PixelFormat::Bgra32 => "bgra",
        other => panic!("{other}"),
    };
    let mut child = std::process::Command::new(require("ffmpeg"))
        .args(["-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s"])
        .arg(format!("{}x{}", src.width(), src.height()))
        .args(["-i", "-", "-f", "rawvideo", "-pix_fmt", pix, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let data = src.data().to_vec();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success());
    out
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-9)).log10()
}

#[test]
fn all_four_render_formats_match_ffmpegs_conversion() {
    let nginx = Nginx::start();
    let url = nginx.url("formats");
    let _push = pusher(&url, VideoResolution::R640x360, 25);
    let seen = Arc::new(Seen::default());
    seen.keep_frames.store(true, Ordering::Release);
    let p = player(&seen, PixelFormat::I420);
    p.start_play(&url).unwrap();
    let formats = [
        PixelFormat::I420,
        PixelFormat::Nv12,
        PixelFormat::Bgra32,
        PixelFormat::Rgba32,
    ];
    assert!(
        seen.wait_frames(1, Duration::from_secs(20)),
        "{:?}",
        seen.events()
    );
    // Switch formats while playing and keep a few pictures of each.
    let mut kept = Vec::new();
    for f in formats {
        p.enable_observe_video_frame(true, f, BufferType::ByteBuffer)
            .unwrap();
        let n = seen.frames().len();
        assert!(seen.wait_frames(n + 6, Duration::from_secs(5)));
        kept.extend(
            seen.frames()[n + 2..n + 6]
                .iter()
                .filter_map(|r| r.frame.clone()),
        );
    }
    stop_and_check(&p, &seen);
    let pattern = TestPattern::new(640, 360);
    let mut checked = [0usize; 4];
    for f in kept {
        let i = formats.iter().position(|x| *x == f.format()).unwrap();
        let stamp = read_stamp(&luma_as_i420(&f)).expect("stamp readable in every format");
        let source = pattern.frame(stamp.counter, stamp.capture_ms, Timestamp::ZERO, false);
        let reference = ffmpeg_convert(&source, f.format());
        let q = psnr(&f.data()[..], &reference);
        assert!(q >= 30.0, "{}: PSNR {q:.1} dB against ffmpeg", f.format());
        // A swapped channel order is far off.
        if f.format() == PixelFormat::Bgra32 {
            let swapped = ffmpeg_convert(&source, PixelFormat::Rgba32);
            assert!(psnr(&f.data()[..], &swapped) < q - 10.0);
        }
        checked[i] += 1;
    }
    assert!(checked.iter().all(|n| *n >= 3), "{checked:?}");
}

#[test]
fn resolution_change_stall_and_pause() {
    let nginx = Nginx::start();
    let url = nginx.url("changes");
    let push = pusher(&url, VideoResolution::R640x360, 25);
    let seen = Arc::new(Seen::default());
    let p = player(&seen, PixelFormat::I420);
    p.start_play(&url).unwrap();
    let limit = Duration::from_secs(20);
    assert!(seen.wait_event("resolution 640x360", 0, limit).is_some());
    assert!(seen.wait_frames(25, limit));
    // The publisher's video stalls for 2 s (audio goes on).
    let n = seen.events().len();
    push.pause_video().unwrap();
    let loading = seen.wait_event("video loading", n, Duration::from_secs(5));
    let block = seen.wait_event("WARNING_VIDEO_BLOCK", n, Duration::from_secs(5));
    assert!(loading.is_some() && block.is_some(), "{:?}", seen.events());
    std::thread::sleep(Duration::from_millis(2000).saturating_sub(block.unwrap().elapsed()));
    push.resume_video().unwrap();
    assert!(
        seen.wait_event("video playing first=false", n, Duration::from_secs(5))
            .is_some(),
        "{:?}",
        seen.events()
    );
    // Player-side pause freezes the picture; resume jumps back to live.
    let frames = seen.frames().len();
    p.pause_video().unwrap();
    let paused_at = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    let during: Vec<_> = seen.frames()[frames..]
        .iter()
        .filter(|f| f.at > paused_at + Duration::from_millis(100))
        .cloned()
        .collect();
    assert!(during.is_empty(), "{} pictures while paused", during.len());
    p.resume_video().unwrap();
    let resumed = seen.frames().len();
    assert!(seen.wait_frames(resumed + 5, Duration::from_secs(5)));
    let after = &seen.frames()[resumed + 4];
    let lag = after.wall_ms - after.stamp.unwrap().capture_ms as f64;
    assert!(lag < 500.0, "{lag} ms behind live after resume");
    // The publisher comes back at another size.
    drop(push);
    let _push2 = pusher(&url, VideoResolution::R320x180, 25);
    assert!(
        seen.wait_event("resolution 320x180", 0, Duration::from_secs(15))
            .is_some(),
        "{:?}",
        seen.events()
    );
    let n = seen.frames().len();
    assert!(seen.wait_frames(n + 10, Duration::from_secs(5)));
    assert_eq!(seen.frames().last().unwrap().width, 320);
    stop_and_check(&p, &seen);
    let stats = seen.stats.lock().unwrap().clone();
    assert!(
        stats.iter().any(|s| s.video_total_block_time >= 1500),
        "{stats:?}"
    );
}

/// `switch_stream` (issue 20) from an RTMP stream to an HTTP-FLV stream of another size
/// pushed later (so its stamps' counters are offset from the first's): the first plays until
/// the second's keyframe, no rendered picture is black (each carries a readable stamp), the
/// pictures go from A to B exactly once with each stream's stamps rising, the timeline runs
/// on, one resolution change is reported and `on_stream_switched` says 0. Before that, a
/// switch to a stream that does not exist reports -2 and A plays on.
#[test]
fn switch_stream_goes_from_a_to_b_once_without_a_black_frame() {
    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(dir.path());
    let valid = Duration::from_secs(600);
    let _a = pusher(
        &server.push_url("live", "switch-a", valid),
        VideoResolution::R640x360,
        25,
    );
    let seen = Arc::new(Seen::default());
    let p = player(&seen, PixelFormat::I420);
    assert_eq!(
        p.switch_stream("rtmp://127.0.0.1/live/x").unwrap_err().code,
        V2TXLiveCode::ErrorRefused,
        "not playing"
    );
    p.start_play(&format!("{}/live/switch-a", server.rtmp_base()))
        .unwrap();
    let limit = Duration::from_secs(20);
    assert!(seen.wait_frames(25, limit), "{:?}", seen.events());
    // B starts a second of pictures later than A: its counters are about 25 lower.
    let _b = pusher(
        &server.push_url("live", "switch-b", valid),
        VideoResolution::R320x180,
        25,
    );
    onair_testkit::peers::wait_live_flv(server.http_addr().port(), "switch-b", limit);
    assert_eq!(
        p.switch_stream("ftp://127.0.0.1/live/x").unwrap_err().code,
        V2TXLiveCode::ErrorInvalidParameter
    );
    let missing = format!("{}/live/nobody.flv", server.http_base());
    p.switch_stream(&missing).unwrap();
    assert!(
        seen.wait_event(&format!("switched {missing} -2"), 0, limit)
            .is_some(),
        "{:?}",
        seen.events()
    );
    let before = seen.frames().len();
    assert!(seen.wait_frames(before + 10, limit), "A plays on");
    let b_url = format!("{}/live/switch-b.flv", server.http_base());
    p.switch_stream(&b_url).unwrap();
    assert!(
        seen.wait_event(&format!("switched {b_url} 0"), 0, limit)
            .is_some(),
        "{:?}",
        seen.events()
    );
    let n = seen.frames().len();
    assert!(seen.wait_frames(n + 50, limit));
    stop_and_check(&p, &seen);

    let frames = seen.frames();
    let a_size = (640, 360);
    let b_size = (320, 180);
    for (i, f) in frames.iter().enumerate() {
        assert!(
            f.stamp.is_some(),
            "picture {i} ({}x{}) has no readable stamp: black or torn",
            f.width,
            f.height
        );
        assert!([a_size, b_size].contains(&(f.width, f.height)));
    }
    let switch_at = frames
        .iter()
        .position(|f| (f.width, f.height) == b_size)
        .expect("B was rendered");
    assert!(
        frames[switch_at..]
            .iter()
            .all(|f| (f.width, f.height) == b_size),
        "the pictures went back to A after the switch"
    );
    let counters =
        |fs: &[Rendered]| -> Vec<u32> { fs.iter().map(|f| f.stamp.unwrap().counter).collect() };
    let (a, b) = (
        counters(&frames[..switch_at]),
        counters(&frames[switch_at..]),
    );
    assert!(a.windows(2).all(|w| w[0] < w[1]), "A's stamps: {a:?}");
    assert!(b.windows(2).all(|w| w[0] < w[1]), "B's stamps: {b:?}");
    assert!(
        b[0] + 10 < a[a.len() - 1],
        "B's counters run behind A's: A ends at {}, B starts at {}",
        a[a.len() - 1],
        b[0]
    );
    assert!(
        frames.windows(2).all(|w| w[0].pts_us < w[1].pts_us),
        "the playout timeline runs on across the switch"
    );
    let gap = frames[switch_at].at - frames[switch_at - 1].at;
    assert!(
        gap < Duration::from_millis(500),
        "{gap:?} without a picture at the switch"
    );
    let events = seen.events();
    let sizes: Vec<&String> = events
        .iter()
        .filter(|e| e.starts_with("resolution"))
        .collect();
    assert_eq!(sizes, ["resolution 640x360", "resolution 320x180"]);
    eprintln!(
        "switch: A {} pictures (last stamp {}), B {} (first stamp {}), {gap:?} between them",
        a.len(),
        a[a.len() - 1],
        b.len(),
        b[0]
    );
}

#[test]
fn audio_and_video_stay_in_sync() {
    let nginx = Nginx::start();
    let url = nginx.url("sync");
    let push = configured_pusher(VideoResolution::R320x180, 25);
    push.enable_custom_video_capture(true).unwrap();
    push.enable_custom_audio_capture(true).unwrap();
    push.start_push(&url).unwrap();
    let seen = Arc::new(Seen::default());
    let p = player(&seen, PixelFormat::I420);
    p.start_play(&url).unwrap();
    // One thread feeds both: a white flash every second with a 100 ms beep starting with it.
    let pattern = TestPattern::new(320, 180);
    let quality = AudioQuality::Default;
    let per = quality.samples_per_20ms();
    let start = Instant::now();
    let mut tone = onair_codec::Tone::new(1000.0, quality.sample_rate(), 1).beeping(100, 1000);
    for tick in 0..600u32 {
        let due = start + Duration::from_millis(20) * tick;
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        let pcm: Vec<u8> = tone
            .next_samples(per)
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        push.send_custom_audio_frame(&V2TXLiveAudioFrame {
            data: Bytes::from(pcm),
            sample_rate: quality.sample_rate(),
            channels: 1,
        })
        .unwrap();
        if tick % 2 == 0 {
            let f = pattern.frame(tick / 2, wall_ms() as u64, Timestamp::ZERO, tick % 50 == 0);
            push.send_custom_video_frame(&V2TXLiveVideoFrame::new(
                PixelFormat::I420,
                320,
                180,
                f.data().clone(),
            ))
            .unwrap();
        }
    }
    stop_and_check(&p, &seen);
    // Flash pictures: the lower half is white.
    let flashes: Vec<Instant> = seen
        .frames()
        .iter()
        .filter(|r| r.stamp.is_some_and(|s| s.counter % 25 == 0))
        .map(|r| r.at)
        .collect();
    let audio = seen.audio.lock().unwrap().clone();
    let onsets: Vec<Instant> = audio
        .windows(2)
        .filter(|w| w[0].3 < 300.0 && w[1].3 > 1000.0)
        .map(|w| w[1].0)
        .collect();
    assert!(
        flashes.len() >= 6 && onsets.len() >= 6,
        "{} flashes, {} beeps",
        flashes.len(),
        onsets.len()
    );
    let mut offsets = Vec::new();
    for f in &flashes {
        let nearest = onsets
            .iter()
            .map(|a| a.duration_since(*f).as_secs_f64() - f.duration_since(*a).as_secs_f64())
            .min_by(|x, y| x.abs().total_cmp(&y.abs()))
            .unwrap();
        if nearest.abs() < 0.5 {
            offsets.push(nearest * 1000.0);
        }
    }
    eprintln!("audio - video offsets (ms): {offsets:.1?}");
    assert!(offsets.len() >= 6, "{offsets:?}");
    assert!(
        offsets.iter().all(|o| o.abs() <= 60.0),
        "A/V offsets beyond 60 ms: {offsets:?}"
    );
}

#[test]
fn sei_messages_arrive_with_their_payload() {
    let nginx = Nginx::start();
    let url = nginx.url("sei");
    let push = pusher(&url, VideoResolution::R320x180, 25);
    let seen = Arc::new(Seen::default());
    let p = player(&seen, PixelFormat::I420);
    p.enable_receive_sei_message(true, 242).unwrap();
    assert_eq!(
        p.enable_receive_sei_message(true, 7).unwrap_err().code,
        V2TXLiveCode::ErrorInvalidParameter
    );
    p.start_play(&url).unwrap();
    assert!(seen.wait_frames(5, Duration::from_secs(20)));
    push.send_sei_message(242, b"onair says hello").unwrap();
    assert!(seen
        .wait_event("sei 242", 0, Duration::from_secs(5))
        .is_some());
    // Switch the type while playing.
    p.enable_receive_sei_message(true, 5).unwrap();
    push.send_sei_message(5, b"type five").unwrap();
    assert!(seen
        .wait_event("sei 5", 0, Duration::from_secs(5))
        .is_some());
    stop_and_check(&p, &seen);
    let sei = seen.sei.lock().unwrap().clone();
    assert_eq!(sei[0], (242, b"onair says hello".to_vec()));
    assert!(sei.contains(&(5, b"type five".to_vec())), "{sei:?}");
    assert!(sei.iter().all(|(t, _)| *t == 242 || *t == 5));
}

/// HEVC from onair's pusher (`enableHevcEncode`, Enhanced RTMP `hvc1`) through the embedded
/// server (which announces `hvc1`): pictures at the preset size and SEI in HEVC prefix SEI
/// NAL units.
#[test]
fn hevc_pictures_and_sei_arrive_through_the_embedded_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(dir.path());
    let push = configured_pusher(VideoResolution::R320x180, 25);
    assert_eq!(
        push.set_property("enableHevcEncode", "maybe")
            .unwrap_err()
            .code,
        V2TXLiveCode::ErrorInvalidParameter
    );
    push.set_property("enableHevcEncode", "true").unwrap();
    push.start_push(&server.push_url("live", "hevc-sei", Duration::from_secs(600)))
        .unwrap();
    assert_eq!(push.video_codec_in_use(), Some(VideoCodec::H265));
    assert_eq!(
        push.set_video_codec(VideoCodec::H264).unwrap_err().code,
        V2TXLiveCode::ErrorRefused
    );
    // Played once live: a 404 before the publish arrives is a fatal StreamNotFound.
    onair_testkit::peers::wait_live_flv(
        server.http_addr().port(),
        "hevc-sei",
        Duration::from_secs(20),
    );
    let seen = Arc::new(Seen::default());
    let p = player(&seen, PixelFormat::I420);
    p.enable_receive_sei_message(true, 242).unwrap();
    p.start_play(&format!("{}/live/hevc-sei.flv", server.http_base()))
        .unwrap();
    assert!(seen.wait_frames(5, Duration::from_secs(20)));
    push.send_sei_message(242, b"hevc says hello").unwrap();
    assert!(seen
        .wait_event("sei 242", 0, Duration::from_secs(5))
        .is_some());
    stop_and_check(&p, &seen);
    let frames = seen.frames();
    assert!(frames.iter().all(|f| (f.width, f.height) == (320, 180)));
    assert!(
        frames.iter().any(|f| f.stamp.is_some()),
        "the stamped pattern"
    );
    assert_eq!(
        seen.sei.lock().unwrap()[0],
        (242, b"hevc says hello".to_vec())
    );
    assert_eq!(
        push.video_codec_in_use(),
        Some(VideoCodec::H265),
        "no fallback"
    );
    push.stop_push().unwrap();
}

#[test]
fn reconnects_after_a_server_restart_and_gives_up_when_it_stays_down() {
    let mut nginx = Nginx::start();
    let port = nginx.port;
    let url = nginx.url("again");
    let push = pusher(&url, VideoResolution::R320x180, 25);
    let seen = Arc::new(Seen::default());
    let p = player(&seen, PixelFormat::I420);
    p.set_property("maxNumberOfReconnection", "5").unwrap();
    p.set_property("secondsBetweenReconnection", "1").unwrap();
    p.start_play(&url).unwrap();
    assert!(seen.wait_frames(10, Duration::from_secs(20)));
    nginx.kill();
    drop(push);
    let _nginx2 = Nginx::start_on(port);
    let _push2 = pusher(&url, VideoResolution::R320x180, 25);
    let n = seen.frames().len();
    assert!(
        seen.wait_frames(n + 25, Duration::from_secs(20)),
        "{:?}",
        seen.events()
    );
    assert!(seen.events().iter().filter(|e| *e == "connected").count() >= 2);
    stop_and_check(&p, &seen);

    // Nothing listening: 2 attempts, then ERROR_DISCONNECTED.
    let dead = Arc::new(Seen::default());
    let p = player(&dead, PixelFormat::I420);
    p.set_reconnect_policy(ReconnectPolicy {
        attempts: 2,
        interval: Duration::from_millis(100),
    })
    .unwrap();
    let started = Instant::now();
    let dead_port = onair_testkit::peers::DeadPort::new();
    p.start_play(&format!("rtmp://127.0.0.1:{}/live/none", dead_port.port()))
        .unwrap();
    assert!(dead
        .wait_event("error ERROR_DISCONNECTED", 0, Duration::from_secs(10))
        .is_some());
    assert!(started.elapsed() < Duration::from_secs(5));
    stop_and_check(&p, &dead);
}

/// A one-shot HTTP server that answers the first request with `body` and then closes.
fn http_once(body: Vec<u8>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut req = [0u8; 2048];
            let _ = s.read(&mut req);
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nConnection: close\r\n\r\n",
            );
            let _ = s.write_all(&body);
        }
        // The listener closes here: reconnects are refused.
    });
    port
}

fn flv_bytes(tags: &[FlvTag]) -> Vec<u8> {
    let mut out = FlvHeader {
        has_audio: true,
        has_video: true,
    }
    .encode()
    .to_vec();
    for t in tags {
        out.extend_from_slice(&t.encode());
    }
    out
}

fn hostile(body: Vec<u8>) -> (Arc<Seen>, Vec<String>) {
    let port = http_once(body);
    let seen = Arc::new(Seen::default());
    let p = player(&seen, PixelFormat::I420);
    p.set_reconnect_policy(ReconnectPolicy {
        attempts: 1,
        interval: Duration::from_millis(100),
    })
    .unwrap();
    p.start_play(&format!("http://127.0.0.1:{port}/live/x.flv"))
        .unwrap();
    let ended = seen.wait_event("error", 0, Duration::from_secs(15));
    stop_and_check(&p, &seen);
    assert!(ended.is_some(), "{:?}", seen.events());
    let events = seen.events();
    (seen, events)
}

#[test]
fn hostile_streams_give_errors_or_warnings_never_a_panic() {
    let tags = encoded_tags(
        VideoResolution::R320x180,
        25,
        300,
        AudioQuality::Default,
        3,
        1.0,
    );
    // Truncated: 3 s of media, then half a tag.
    let mut body = flv_bytes(&tags);
    let cut = body.len() - tags.last().unwrap().data.len() / 2;
    body.truncate(cut);
    let (seen, events) = hostile(body);
    assert!(
        events
            .iter()
            .any(|e| e.contains("video playing first=true")),
        "{events:?}"
    );
    assert!(!seen.frames().is_empty());

    // Garbage after a valid header.
    let mut garbage = flv_bytes(&[]);
    let mut x = 0x1234_5678u32;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push(x as u8);
    }
    let (_, events) = hostile(garbage);
    assert!(events.iter().any(|e| e.starts_with("error")), "{events:?}");

    // Not FLV at all.
    let (_, events) = hostile(b"<html>nope</html>".to_vec());
    assert!(events.iter().any(|e| e.starts_with("error")), "{events:?}");

    // An unsupported video codec (FLV codec 2, Sorenson) beside good AAC: a warning, and the
    // audio plays.
    let odd: Vec<FlvTag> = tags
        .iter()
        .map(|t| {
            if t.tag_type == TagType::Video {
                let mut b = t.data.to_vec();
                b[0] = (b[0] & 0xf0) | 2;
                FlvTag::new(TagType::Video, t.timestamp_ms, Bytes::from(b))
            } else {
                t.clone()
            }
        })
        .collect();
    let (seen, events) = hostile(flv_bytes(&odd));
    assert!(
        events
            .iter()
            .any(|e| e.contains("warning ERROR_NOT_SUPPORTED") && e.contains("codec 2")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.contains("audio playing first=true")),
        "{events:?}"
    );
    assert!(seen.frames().is_empty());
}

#[test]
fn garbage_rtmp_server_is_an_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().take(3).flatten() {
            let _ = s.write_all(&[0xab; 5000]);
        }
    });
    let seen = Arc::new(Seen::default());
    let p = player(&seen, PixelFormat::I420);
    p.set_reconnect_policy(ReconnectPolicy {
        attempts: 1,
        interval: Duration::from_millis(100),
    })
    .unwrap();
    p.start_play(&format!("rtmp://127.0.0.1:{port}/live/x"))
        .unwrap();
    assert!(
        seen.wait_event("error", 0, Duration::from_secs(20))
            .is_some(),
        "{:?}",
        seen.events()
    );
    stop_and_check(&p, &seen);
}

#[test]
fn api_codes() {
    let p = V2TXLivePlayer::new();
    let code = |r: LiveResult| r.unwrap_err().code;
    for bad in [
        "udp://127.0.0.1/live/s",
        "http://127.0.0.1/live/s.m3u8",
        "rtmp://",
        "",
    ] {
        assert_eq!(
            code(p.start_play(bad)),
            V2TXLiveCode::ErrorInvalidParameter,
            "{bad}"
        );
    }
    assert_eq!(
        code(p.set_cache_params(0.0, 5.0)),
        V2TXLiveCode::ErrorInvalidParameter
    );
    assert_eq!(
        code(p.set_cache_params(1.0, -1.0)),
        V2TXLiveCode::ErrorInvalidParameter
    );
    assert_eq!(
        code(p.set_cache_params(3.0, 1.0)),
        V2TXLiveCode::ErrorInvalidParameter
    );
    p.set_cache_params(1.0, 1.0).unwrap();
    p.set_cache_preset("smooth".parse().unwrap()).unwrap();
    assert_eq!(code(p.snapshot()), V2TXLiveCode::ErrorRefused);
    assert_eq!(code(p.pause_video()), V2TXLiveCode::ErrorRefused);
    assert_eq!(
        code(p.set_playout_volume(101)),
        V2TXLiveCode::ErrorInvalidParameter
    );
    p.set_playout_volume(50).unwrap();
    assert_eq!(
        // A texture in a byte buffer makes no sense (Texture2D + Texture is served on the GPU:
        // tests/gpu.rs).
        code(p.enable_observe_video_frame(true, PixelFormat::Texture2D, BufferType::ByteBuffer)),
        V2TXLiveCode::ErrorNotSupported
    );
    assert_eq!(
        code(p.enable_custom_rendering(true, PixelFormat::I420, BufferType::Texture)),
        V2TXLiveCode::ErrorNotSupported
    );
    assert_eq!(
        code(p.set_property("nope", "1")),
        V2TXLiveCode::ErrorNotSupported
    );
    assert_eq!(
        code(p.set_property("maxNumberOfReconnection", "x")),
        V2TXLiveCode::ErrorInvalidParameter
    );
    p.set_property("setHeaders", r#"{"X-Test": "1"}"#).unwrap();
    assert_eq!(
        code(p.enable_volume_evaluation(50)),
        V2TXLiveCode::ErrorInvalidParameter
    );
    // While playing: cache params are REFUSED, and so is a second start.
    let dead_port = onair_testkit::peers::DeadPort::new();
    p.start_play(&format!("rtmp://127.0.0.1:{}/live/none", dead_port.port()))
        .unwrap();
    assert!(p.is_playing());
    assert_eq!(
        code(p.set_cache_params(1.0, 5.0)),
        V2TXLiveCode::ErrorRefused
    );
    assert_eq!(
        code(p.start_play("rtmp://127.0.0.1/live/s")),
        V2TXLiveCode::ErrorRefused
    );
    p.stop_play().unwrap();
    assert!(!p.is_playing());
    p.stop_play().unwrap();
}
