//! V2TXLivePusher and `onair push` against nginx-rtmp started by the tests: what ffprobe and a
//! player see, event order and statistics, reconnects, error codes, pause_audio continuity.

use onair::*;
use onair_flv::{TagType, VideoData, VideoTag};
use onair_rtmp::{RtmpPlayer, TransportConfig as Transport};
use onair_testkit::peers::watch_rtmp as watch;
use onair_testkit::peers::{example, ffprobe, num, stream, Nginx};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Records every callback, and counts any that arrive after `stopped` is set.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
    stats: Mutex<Vec<PusherStatistics>>,
    stopped: AtomicBool,
    after_stop: AtomicUsize,
}

impl Recorder {
    fn note(&self, e: String) {
        if self.stopped.load(Ordering::Acquire) {
            self.after_stop.fetch_add(1, Ordering::AcqRel);
        }
        self.events.lock().unwrap().push(e);
    }
    fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }
    fn wait_for(&self, what: &str, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if self.events().iter().any(|e| e.contains(what)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl V2TXLivePusherObserver for Recorder {
    fn on_error(&self, code: V2TXLiveCode, message: &str, _: &str) {
        self.note(format!("error {} {message}", code.name()));
    }
    fn on_warning(&self, code: V2TXLiveCode, message: &str, _: &str) {
        self.note(format!("warning {} {message}", code.name()));
    }
    fn on_capture_first_audio_frame(&self) {
        self.note("first audio".into());
    }
    fn on_capture_first_video_frame(&self) {
        self.note("first video".into());
    }
    fn on_push_status_update(&self, status: PushStatus, _: &str, _: &str) {
        self.note(format!("status {status:?}"));
    }
    fn on_statistics_update(&self, s: &PusherStatistics) {
        self.stats.lock().unwrap().push(*s);
        self.note("statistics".into());
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn custom_capture_example_pushes_720p30() {
    let nginx = Nginx::start();
    let url = nginx.url("custom");
    let mut child = onair_testkit::peers::Child(
        Command::new(example("custom_capture"))
            .args([url.as_str(), "--seconds", "12"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let probe_url = url.clone();
    let probe = std::thread::spawn(move || ffprobe(&probe_url, false));
    let (kbps, _, _) = watch(&url, 6);
    let probe = probe.join().unwrap();
    let v = stream(&probe, "video");
    assert_eq!(
        (
            v["width"].as_u64(),
            v["height"].as_u64(),
            v["r_frame_rate"].as_str()
        ),
        (Some(1280), Some(720), Some("30/1"))
    );
    assert_eq!(num(&stream(&probe, "audio")["sample_rate"]) as u32, 48_000);
    println!("custom capture: {kbps:.0} kbps");
    assert!(
        (800.0..=1800.0 * 1.1).contains(&kbps),
        "video bitrate {kbps:.0} kbps"
    );
    assert!(child.0.wait().unwrap().success());
}

#[test]
fn portrait_540p_with_a_16_aligned_backend_is_544x960() {
    let nginx = Nginx::start();
    let url = nginx.url("portrait");
    let pusher = V2TXLivePusher::new();
    pusher
        .set_video_quality(
            VideoEncoderParam::new(
                VideoResolution::R960x540,
                ResolutionMode::Portrait,
                15,
                0,
                0,
            )
            .unwrap(),
        )
        .unwrap();
    pusher.set_encoder_alignment(Alignment::HARDWARE).unwrap();
    pusher.start_push(&url).unwrap();
    let probe = ffprobe(&url, false);
    let v = stream(&probe, "video");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(544), Some(960))
    );
    pusher.stop_push().unwrap();
}

#[test]
fn event_order_statistics_and_no_callback_after_stop() {
    let nginx = Nginx::start();
    let rec = Arc::new(Recorder::default());
    let pusher = V2TXLivePusher::new();
    pusher.set_observer(Some(rec.clone()));
    pusher
        .set_video_quality(
            VideoEncoderParam::new(
                VideoResolution::R640x360,
                ResolutionMode::Landscape,
                20,
                0,
                0,
            )
            .unwrap(),
        )
        .unwrap();
    pusher.start_push(&nginx.url("events")).unwrap();
    assert!(pusher.is_pushing());
    assert!(rec.wait_for("statistics", Duration::from_secs(10)));
    let end = Instant::now() + Duration::from_secs(5);
    while rec.stats.lock().unwrap().len() < 3 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    pusher.stop_push().unwrap();
    rec.stopped.store(true, Ordering::Release);
    assert!(!pusher.is_pushing());
    std::thread::sleep(Duration::from_millis(500)); // give a stray callback the chance to show up
    assert_eq!(
        rec.after_stop.load(Ordering::Acquire),
        0,
        "callbacks after stop_push returned"
    );
    let events = rec.events();
    let pos = |e: &str| {
        events
            .iter()
            .position(|x| x == e)
            .unwrap_or_else(|| panic!("no {e} in {events:?}"))
    };
    assert!(
        pos("status Connecting") < pos("status ConnectSuccess"),
        "{events:?}"
    );
    pos("first video");
    pos("first audio");
    assert!(!events.iter().any(|e| e.starts_with("error")), "{events:?}");
    let stats = rec.stats.lock().unwrap().clone();
    // The first window includes the connect; the later ones must be within 10% of 20 fps.
    for s in &stats[1..] {
        assert!((s.fps - 20.0).abs() <= 2.0, "fps {} in {stats:?}", s.fps);
        assert_eq!((s.width, s.height), (640, 360));
        assert!(
            s.video_bitrate > 0 && s.audio_bitrate > 0 && s.net_speed > 0,
            "{s:?}"
        );
    }
    assert!(stats.len() >= 2);
}

#[test]
fn api_misuse_gets_the_spec_codes() {
    let pusher = V2TXLivePusher::new();
    let code = |r: LiveResult| r.unwrap_err().code;
    assert_eq!(
        code(pusher.start_push("http://x/live/s.flv")),
        V2TXLiveCode::ErrorInvalidParameter
    );
    assert_eq!(
        code(pusher.start_push("not a url")),
        V2TXLiveCode::ErrorInvalidParameter
    );
    let frame = V2TXLiveVideoFrame::new(
        PixelFormat::I420,
        64,
        64,
        bytes::Bytes::from(vec![0u8; 64 * 64 * 3 / 2]),
    );
    assert_eq!(
        code(pusher.send_custom_video_frame(&frame)),
        V2TXLiveCode::ErrorRefused
    );
    assert_eq!(code(pusher.snapshot()), V2TXLiveCode::ErrorRefused);
    pusher.enable_custom_video_capture(true).unwrap();
    let nginx = Nginx::start();
    pusher.start_push(&nginx.url("misuse")).unwrap();
    let short = V2TXLiveVideoFrame::new(
        PixelFormat::I420,
        64,
        64,
        bytes::Bytes::from(vec![0u8; 100]),
    );
    assert_eq!(
        code(pusher.send_custom_video_frame(&short)),
        V2TXLiveCode::ErrorInvalidParameter
    );
    let odd = V2TXLiveVideoFrame::new(
        PixelFormat::Nv12,
        63,
        64,
        bytes::Bytes::from(vec![0u8; 63 * 64 * 3 / 2]),
    );
    assert_eq!(
        code(pusher.send_custom_video_frame(&odd)),
        V2TXLiveCode::ErrorInvalidParameter
    );
    pusher.send_custom_video_frame(&frame).unwrap();
    assert_eq!(
        code(pusher.set_audio_quality(AudioQuality::Music)),
        V2TXLiveCode::ErrorRefused
    );
    assert_eq!(
        code(pusher.enable_custom_audio_capture(true)),
        V2TXLiveCode::ErrorRefused
    );
    assert_eq!(
        code(pusher.start_push(&nginx.url("misuse2"))),
        V2TXLiveCode::ErrorRefused
    );
    assert_eq!(
        code(pusher.send_sei_message(7, b"x")),
        V2TXLiveCode::ErrorInvalidParameter
    );
    pusher.snapshot().unwrap();
    pusher.stop_push().unwrap();
}

#[test]
fn no_server_gives_three_reconnect_attempts_then_disconnected() {
    let rec = Arc::new(Recorder::default());
    let pusher = V2TXLivePusher::new();
    pusher.set_observer(Some(rec.clone()));
    pusher
        .set_reconnect_policy(ReconnectPolicy {
            attempts: 3,
            interval: Duration::from_millis(500),
        })
        .unwrap();
    let dead = onair_testkit::peers::DeadPort::new();
    let port = dead.port();
    let start = Instant::now();
    pusher
        .start_push(&format!("rtmp://127.0.0.1:{port}/live/none"))
        .unwrap();
    assert!(
        rec.wait_for("error ERROR_DISCONNECTED", Duration::from_secs(15)),
        "{:?}",
        rec.events()
    );
    let took = start.elapsed();
    pusher.stop_push().unwrap();
    let events = rec.events();
    let reconnects = events
        .iter()
        .filter(|e| *e == "status Reconnecting")
        .count();
    assert_eq!(reconnects, 3, "{events:?}");
    assert_eq!(
        events.last().map(String::as_str),
        Some("status Disconnected"),
        "{events:?}"
    );
    assert!(
        took >= Duration::from_millis(1500),
        "attempts were not spaced: {took:?}"
    );
}

#[test]
fn nginx_restart_reconnects_and_the_stream_plays_again() {
    let mut nginx = Nginx::start();
    let port = nginx.port;
    let url = nginx.url("phoenix");
    let rec = Arc::new(Recorder::default());
    let pusher = V2TXLivePusher::new();
    pusher.set_observer(Some(rec.clone()));
    pusher
        .set_video_quality(
            VideoEncoderParam::new(
                VideoResolution::R320x240,
                ResolutionMode::Landscape,
                15,
                0,
                0,
            )
            .unwrap(),
        )
        .unwrap();
    pusher.start_push(&url).unwrap();
    assert!(rec.wait_for("status ConnectSuccess", Duration::from_secs(10)));
    nginx.kill();
    let killed = Instant::now();
    drop(nginx);
    std::thread::sleep(Duration::from_millis(500));
    let _nginx = Nginx::start_on(port);
    assert!(
        killed.elapsed() < Duration::from_secs(2),
        "restart took {:?}",
        killed.elapsed()
    );
    assert!(
        rec.wait_for("status Reconnecting", Duration::from_secs(10)),
        "{:?}",
        rec.events()
    );
    let end = Instant::now() + Duration::from_secs(15);
    while rec
        .events()
        .iter()
        .filter(|e| *e == "status ConnectSuccess")
        .count()
        < 2
        && Instant::now() < end
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let events = rec.events();
    assert_eq!(
        events
            .iter()
            .filter(|e| *e == "status ConnectSuccess")
            .count(),
        2,
        "{events:?}"
    );
    // nginx has no GOP cache: a joining player waits up to one GOP (2 s) for a keyframe.
    let (_, frames, _) = watch(&url, 5);
    assert!(
        frames > 20,
        "the stream plays again ({frames} frames in 5 s)"
    );
    pusher.stop_push().unwrap();
}

#[test]
fn pause_audio_keeps_timestamps_continuous() {
    let nginx = Nginx::start();
    let url = nginx.url("pause");
    let pusher = V2TXLivePusher::new();
    pusher
        .set_video_quality(
            VideoEncoderParam::new(
                VideoResolution::R320x240,
                ResolutionMode::Landscape,
                15,
                0,
                0,
            )
            .unwrap(),
        )
        .unwrap();
    pusher.start_push(&url).unwrap();
    let watcher = {
        let url = url.clone();
        std::thread::spawn(move || watch(&url, 8))
    };
    std::thread::sleep(Duration::from_secs(2));
    pusher.pause_audio().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    pusher.resume_audio().unwrap();
    let (_, _, audio) = watcher.join().unwrap();
    pusher.stop_push().unwrap();
    assert!(audio.len() > 200, "{} audio frames", audio.len());
    let max_gap = audio
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .max()
        .unwrap();
    println!(
        "max audio timestamp gap {max_gap} ms over {} frames",
        audio.len()
    );
    assert!(max_gap <= 100, "audio timestamp gap of {max_gap} ms");
}

#[test]
fn throttled_uplink_steps_the_bitrate_down_and_recovers() {
    use std::sync::atomic::AtomicU64;
    let nginx = Nginx::start();
    let rt = runtime();
    let rate = Arc::new(AtomicU64::new(300_000 / 8));
    let proxy = rt.block_on(onair_testkit::throttle::throttling_proxy(
        nginx.port,
        Arc::clone(&rate),
    ));
    let url = nginx.url("busy");
    // The watcher joins first (nginx holds it until the stream starts) and sees all audio.
    let watcher = {
        let url = url.clone();
        std::thread::spawn(move || watch(&url, 24))
    };
    std::thread::sleep(Duration::from_millis(300));
    let rec = Arc::new(Recorder::default());
    let pusher = V2TXLivePusher::new();
    pusher.set_observer(Some(rec.clone()));
    pusher.set_audio_quality(AudioQuality::Speech).unwrap();
    pusher
        .set_video_quality(
            VideoEncoderParam::new(
                VideoResolution::R640x360,
                ResolutionMode::Landscape,
                30,
                900,
                300,
            )
            .unwrap(),
        )
        .unwrap();
    pusher
        .start_push(&format!("rtmp://127.0.0.1:{proxy}/live/busy"))
        .unwrap();
    let (mut max_queued, mut max_dropped) = (0usize, 0u64);
    let sample = |max_queued: &mut usize, max_dropped: &mut u64| {
        if let Some(q) = pusher.send_queue_stats() {
            *max_queued = (*max_queued).max(q.queued_bytes);
            *max_dropped = (*max_dropped).max(q.dropped_inter);
        }
    };
    let throttled_until = Instant::now() + Duration::from_secs(12);
    while Instant::now() < throttled_until {
        sample(&mut max_queued, &mut max_dropped);
        std::thread::sleep(Duration::from_millis(100));
    }
    let throttled_stats = rec.stats.lock().unwrap().len();
    rate.store(0, Ordering::Relaxed);
    let free_until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < free_until {
        sample(&mut max_queued, &mut max_dropped);
        std::thread::sleep(Duration::from_millis(100));
    }
    pusher.stop_push().unwrap();
    let (_, _, audio) = watcher.join().unwrap();
    let stats = rec.stats.lock().unwrap().clone();
    let events = rec.events();
    let bitrates: Vec<u32> = stats.iter().map(|s| s.video_bitrate).collect();
    println!("video kbps per 2 s: {bitrates:?}; inter frames dropped {max_dropped}; peak queue {max_queued} bytes");
    assert!(
        events.iter().any(|e| e.contains("WARNING_NETWORK_BUSY")),
        "{events:?}"
    );
    assert!(max_dropped > 0, "inter frames were dropped and counted");
    assert!(max_queued <= onair_rtmp::SendQueueConfig::default().max_bytes);
    let low = bitrates[1..throttled_stats.max(2)]
        .iter()
        .copied()
        .min()
        .unwrap_or(u32::MAX);
    assert!(
        low < 900 * 7 / 10,
        "the encoder stepped down toward 300 kbps: {bitrates:?}"
    );
    let last = *bitrates.last().unwrap();
    assert!(
        last > low,
        "the bitrate steps back up after the throttle lifts: {bitrates:?}"
    );
    let max_gap = audio
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .max()
        .unwrap_or(0);
    // Speech quality: 1024-sample AAC frames at 16 kHz, 64 ms each, ~15.6 a second.
    assert!(
        audio.len() > 250 && max_gap <= 100,
        "audio continuous: {} frames, max gap {max_gap} ms",
        audio.len()
    );
}

/// Decodes frames of `url` for `secs` and returns the last one.
fn last_decoded_frame(url: &str, secs: u64) -> VideoFrame {
    use onair_codec::{FfmpegH264Decoder, VideoDecoder};
    runtime().block_on(async {
        let mut p = RtmpPlayer::connect(url, &Transport::default())
            .await
            .unwrap();
        let mut dec = FfmpegH264Decoder::new(1).unwrap();
        let mut last = None;
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            let Ok(Ok(t)) = tokio::time::timeout(Duration::from_secs(5), p.next_tag()).await else {
                break;
            };
            if t.tag_type != TagType::Video {
                continue;
            }
            let Ok(v) = VideoTag::parse(&t.data) else {
                continue;
            };
            let key = v.is_keyframe();
            match v.data {
                VideoData::AvcSequenceHeader(c) => dec.set_config(&c),
                VideoData::AvcNalus { data, .. } => {
                    let ts = onair_core::Timestamp::from_millis(u64::from(t.timestamp_ms));
                    if let Ok(frames) = dec.decode(&data, key, ts, ts) {
                        last = frames.into_iter().last().or(last);
                    }
                }
                _ => {}
            }
        }
        last.expect("decoded a frame")
    })
}

#[test]
fn watermark_volume_and_properties() {
    let nginx = Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let green = dir.path().join("green.png");
    image::RgbaImage::from_pixel(20, 20, image::Rgba([0, 255, 0, 255]))
        .save(&green)
        .unwrap();
    let rec = Arc::new(VolumeRecorder::default());
    let pusher = V2TXLivePusher::new();
    pusher.set_observer(Some(rec.clone()));
    assert_eq!(
        pusher.enable_volume_evaluation(50).unwrap_err().code,
        V2TXLiveCode::ErrorInvalidParameter
    );
    pusher.enable_volume_evaluation(200).unwrap();
    assert_eq!(
        pusher
            .set_watermark(Some(&green), 1.2, 0.0, 0.1)
            .unwrap_err()
            .code,
        V2TXLiveCode::ErrorInvalidParameter
    );
    pusher.set_watermark(Some(&green), 0.5, 0.5, 0.2).unwrap();
    assert_eq!(
        pusher.set_property("noSuchKey", "1").unwrap_err().code,
        V2TXLiveCode::ErrorNotSupported
    );
    assert_eq!(
        pusher
            .set_property("setVideoQualityEx", "{not json")
            .unwrap_err()
            .code,
        V2TXLiveCode::ErrorInvalidParameter
    );
    pusher
        .set_property(
            "setVideoQualityEx",
            r#"{"width": 400, "height": 224, "fps": 20, "bitrate": 500}"#,
        )
        .unwrap();
    let url = nginx.url("props");
    pusher.start_push(&url).unwrap();
    let probe = ffprobe(&url, false);
    let v = stream(&probe, "video");
    assert_eq!(
        (
            v["width"].as_u64(),
            v["height"].as_u64(),
            v["r_frame_rate"].as_str()
        ),
        (Some(400), Some(224), Some("20/1"))
    );
    // The watermark: a green square over the magenta/red bars at x 0.5..0.7, y 0.5..
    let frame = last_decoded_frame(&url, 3);
    let u = frame.plane(1).unwrap();
    let (cx, cy) = (
        frame.width() as usize * 6 / 10 / 2,
        frame.height() as usize * 55 / 100 / 2,
    );
    let inside = u.data[cy * u.stride + cx];
    let outside = u.data[cy * u.stride + frame.width() as usize * 3 / 10 / 2];
    println!("U inside the watermark {inside}, beside it {outside}");
    assert!(inside < 80, "green watermark expected (U {inside})");
    pusher.set_watermark(None, 0.0, 0.0, 0.0).unwrap();
    pusher.snapshot().unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    while rec.1.lock().unwrap().is_none() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    pusher.stop_push().unwrap();
    let snap = rec
        .1
        .lock()
        .unwrap()
        .clone()
        .expect("on_snapshot_complete delivered a picture");
    assert_eq!(
        (snap.format(), snap.width(), snap.height()),
        (PixelFormat::Rgba32, 400, 224)
    );
    let volumes = rec.0.lock().unwrap().clone();
    println!("volumes: {volumes:?}");
    assert!(volumes.len() >= 5, "{volumes:?}");
    assert!(
        volumes.iter().skip(1).all(|v| (60..=100).contains(v)),
        "a -10 dBFS tone reads 60..100: {volumes:?}"
    );
}

#[derive(Default)]
struct VolumeRecorder(Mutex<Vec<u32>>, Mutex<Option<VideoFrame>>);

impl V2TXLivePusherObserver for VolumeRecorder {
    fn on_microphone_volume_update(&self, volume: u32) {
        self.0.lock().unwrap().push(volume);
    }
    fn on_snapshot_complete(&self, image: Option<&VideoFrame>) {
        *self.1.lock().unwrap() = image.cloned();
    }
}

#[test]
fn set_metadata_reaches_players() {
    // nginx-rtmp rebuilds onMetaData for its players; node-media-server forwards it as sent.
    let nms = onair_testkit::peers::NodeMediaServer::start(None);
    let url = format!("rtmp://127.0.0.1:{}/live/meta", nms.rtmp_port);
    let pusher = V2TXLivePusher::new();
    pusher
        .set_video_quality(
            VideoEncoderParam::new(
                VideoResolution::R320x240,
                ResolutionMode::Landscape,
                15,
                0,
                0,
            )
            .unwrap(),
        )
        .unwrap();
    assert_eq!(
        pusher
            .set_property("setMetaData", "[1, 2]")
            .unwrap_err()
            .code,
        V2TXLiveCode::ErrorInvalidParameter
    );
    pusher
        .set_property("setMetaData", r#"{"onair_room": "lobby-7", "seats": 12}"#)
        .unwrap();
    pusher.start_push(&url).unwrap();
    let probe = ffprobe(&url, false);
    pusher.stop_push().unwrap();
    let tags = &probe["format"]["tags"];
    assert_eq!(
        tags["onair_room"],
        "lobby-7",
        "{}\n{}",
        probe["format"],
        nms.log()
    );
    assert_eq!(num(&tags["seats"]), 12.0);
}

/// Sends what the local preview shows: (format, width, height, bytes).
struct Preview(Mutex<std::sync::mpsc::Sender<(PixelFormat, u32, u32, usize)>>);

impl V2TXLivePusherObserver for Preview {
    fn on_render_video_frame(&self, frame: &VideoFrame) {
        let _ = self.0.lock().unwrap().send((
            frame.format(),
            frame.width(),
            frame.height(),
            frame.data().len(),
        ));
    }
}

#[test]
fn local_preview_delivers_the_encoded_picture_in_the_asked_format() {
    let nginx = Nginx::start();
    let pusher = V2TXLivePusher::new();
    let (tx, rx) = std::sync::mpsc::channel();
    pusher.set_observer(Some(Arc::new(Preview(Mutex::new(tx)))));
    let texture =
        pusher.enable_custom_video_render(true, PixelFormat::Texture2D, BufferType::Texture);
    assert_eq!(texture.unwrap_err().code, V2TXLiveCode::ErrorNotSupported);
    pusher
        .set_video_quality(
            VideoEncoderParam::new(
                VideoResolution::R640x360,
                ResolutionMode::Portrait,
                15,
                0,
                0,
            )
            .unwrap(),
        )
        .unwrap();
    pusher.set_encoder_alignment(Alignment::HARDWARE).unwrap();
    pusher
        .enable_custom_video_render(true, PixelFormat::Bgra32, BufferType::ByteBuffer)
        .unwrap();
    // The preview runs before the push, at the encoder's size.
    let (format, w, h, _) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a preview frame before start_push");
    assert_eq!((format, w, h), (PixelFormat::Bgra32, 368, 640));
    pusher.start_push(&nginx.url("preview")).unwrap();
    for _ in 0..10 {
        let (format, w, h, len) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a preview frame");
        // The encoder's picture: portrait 360x640 padded to 368x640 for 16-pixel alignment.
        assert_eq!(
            (format, w, h, len),
            (PixelFormat::Bgra32, 368, 640, 368 * 640 * 4)
        );
    }
    pusher.stop_push().unwrap();
    // The preview goes on without the push, until the app turns it off.
    rx.recv_timeout(Duration::from_secs(10))
        .expect("preview frames after stop_push");
    pusher
        .enable_custom_video_render(false, PixelFormat::Bgra32, BufferType::ByteBuffer)
        .unwrap();
    while rx.try_recv().is_ok() {}
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "a preview frame after enable_custom_video_render(false) returned"
    );
}
