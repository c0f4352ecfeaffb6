//! The fault suite: onair's pusher, player and server behind the userspace impairment proxy
//! (`impair`), on loopback, with the embedded server in the middle:
//! - pusher under a bandwidth cap that changes mid-stream: NETWORK_BUSY once per episode, the
//!   bitrate steps down, no audio is lost, and it recovers when the cap lifts;
//! - pusher across a connection reset: it reconnects and the stream goes on;
//! - player behind 80 +/- 40 ms of jitter: it plays through, A/V within 60 ms;
//! - player behind a 2.5 s stall that then bursts: loading, then back near live (within
//!   `max_s`) within 2 s of the stall's end;
//! - server: a publisher that stalls for 3 s does not stop the other streams' players.

use onair::*;
use onair_codec::test_pattern::read_stamp;
use onair_flv::TagType;
use onair_rtmp::{RtmpPlayer, TransportConfig as Transport};
use onair_testkit::impair::ImpairProxy;
use onair_testkit::peers::embedded_server;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Pusher events, waitable without polling.
#[derive(Default)]
struct PushLog {
    events: Mutex<Vec<(Instant, String)>>,
    stats: Mutex<Vec<(Instant, PusherStatistics)>>,
    changed: Condvar,
}

impl PushLog {
    fn note(&self, e: String) {
        self.events.lock().unwrap().push((Instant::now(), e));
        self.changed.notify_all();
    }
    /// Waits until an event containing `what` arrived after `since`.
    fn wait_for(&self, what: &str, since: Instant, limit: Duration) -> Option<Instant> {
        let events = self.events.lock().unwrap();
        let (events, _) = self
            .changed
            .wait_timeout_while(events, limit, |ev| {
                !ev.iter().any(|(t, e)| *t >= since && e.contains(what))
            })
            .unwrap();
        events
            .iter()
            .find(|(t, e)| *t >= since && e.contains(what))
            .map(|(t, _)| *t)
    }
    fn count(&self, what: &str) -> usize {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, e)| e.contains(what))
            .count()
    }
    fn all(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }
}

impl V2TXLivePusherObserver for PushLog {
    fn on_error(&self, code: V2TXLiveCode, m: &str, _: &str) {
        self.note(format!("error {} {m}", code.name()));
    }
    fn on_warning(&self, code: V2TXLiveCode, m: &str, _: &str) {
        self.note(format!("warning {} {m}", code.name()));
    }
    fn on_push_status_update(&self, s: PushStatus, _: &str, _: &str) {
        self.note(format!("status {s:?}"));
    }
    fn on_statistics_update(&self, s: &PusherStatistics) {
        self.stats.lock().unwrap().push((Instant::now(), *s));
        self.changed.notify_all();
    }
}

fn quality(kbps: u32, min: u32) -> VideoEncoderParam {
    VideoEncoderParam::new(
        VideoResolution::R640x360,
        ResolutionMode::Landscape,
        20,
        kbps,
        min,
    )
    .unwrap()
}

/// Reads a stream's raw tags from the server on a thread of its own; returns the audio
/// timestamps (ms) and the number of video tags seen until `stop` is set.
fn tag_reader(url: String, stop: Arc<AtomicU32>) -> std::thread::JoinHandle<(Vec<u32>, usize)> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut p = RtmpPlayer::connect(&url, &Transport::default())
                .await
                .expect("play from the server");
            let (mut audio, mut video) = (Vec::new(), 0usize);
            while stop.load(Ordering::Acquire) == 0 {
                let tag = match tokio::time::timeout(Duration::from_millis(200), p.next_tag()).await
                {
                    Ok(Ok(t)) => t,
                    Ok(Err(_)) => break,
                    Err(_) => continue,
                };
                match tag.tag_type {
                    // AAC raw frames only (sequence headers have packet type 0).
                    TagType::Audio if tag.data.get(1) == Some(&1) => audio.push(tag.timestamp_ms),
                    TagType::Video => video += 1,
                    _ => {}
                }
            }
            (audio, video)
        })
    })
}

#[test]
fn pusher_under_a_changing_bandwidth_cap_warns_steps_down_keeps_audio_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(dir.path());
    let proxy = ImpairProxy::start(server.rtmp_addr().port());
    let log = Arc::new(PushLog::default());
    let pusher = V2TXLivePusher::new();
    pusher.set_video_quality(quality(1200, 200)).unwrap();
    pusher.set_observer(Some(log.clone()));
    let t0 = Instant::now();
    pusher
        .start_push(&format!("rtmp://127.0.0.1:{}/live/capped", proxy.port))
        .unwrap();
    assert!(
        log.wait_for("status ConnectSuccess", t0, Duration::from_secs(10))
            .is_some(),
        "{:?}",
        log.all()
    );
    let stop_reader = Arc::new(AtomicU32::new(0));
    let reader = tag_reader(
        format!("{}/live/capped", server.rtmp_base()),
        Arc::clone(&stop_reader),
    );
    // A clean start, then the uplink drops to ~400 kbit/s: well under the 1200 kbit/s target.
    std::thread::sleep(Duration::from_secs(3));
    let capped_at = Instant::now();
    proxy.set_rate(50_000);
    let busy = log.wait_for("WARNING_NETWORK_BUSY", capped_at, Duration::from_secs(10));
    assert!(
        busy.is_some(),
        "no NETWORK_BUSY under the cap: {:?}",
        log.all()
    );
    // The cap tightens further mid-stream.
    std::thread::sleep(Duration::from_secs(4));
    let tightened_at = Instant::now();
    proxy.set_rate(30_000);
    std::thread::sleep(Duration::from_secs(12));
    let lifted_at = Instant::now();
    proxy.set_rate(0);
    std::thread::sleep(Duration::from_secs(14));
    stop_reader.store(1, Ordering::Release);
    let (audio, video) = reader.join().unwrap();
    pusher.stop_push().unwrap();

    let stats = log.stats.lock().unwrap().clone();
    let before: Vec<u32> = stats
        .iter()
        .filter(|(t, _)| *t < capped_at)
        .map(|(_, s)| s.video_bitrate)
        .collect();
    let under: Vec<u32> = stats
        .iter()
        // Windows that lie wholly under the tighter cap (~240 kbit/s for audio and video).
        .filter(|(t, _)| *t > tightened_at + Duration::from_secs(4) && *t <= lifted_at)
        .map(|(_, s)| s.video_bitrate)
        .collect();
    let after: Vec<u32> = stats
        .iter()
        .filter(|(t, _)| *t > lifted_at + Duration::from_secs(8))
        .map(|(_, s)| s.video_bitrate)
        .collect();
    eprintln!("video kbps before {before:?} under the cap {under:?} after {after:?}");
    // What went out on the socket under the cap is what the cap allows, not the target. The
    // kernel's send buffer (64 KiB asked, 128 KiB given) blurs single 2 s windows by a few
    // seconds of data at this rate, so the windows are averaged.
    assert!(under.len() >= 3 && !after.is_empty(), "{stats:?}");
    let mean = |v: &[u32]| v.iter().map(|&k| f64::from(k)).sum::<f64>() / v.len() as f64;
    assert!(
        mean(&under) < 400.0,
        "bitrate sent under a ~240 kbit/s cap: {under:?}"
    );
    assert!(
        mean(&after) > mean(&under) * 1.2,
        "no recovery after the cap lifted: under {under:?}, after {after:?}"
    );
    // One warning per episode, not one per check.
    let warnings = log.count("WARNING_NETWORK_BUSY");
    assert!(
        warnings <= 4,
        "{warnings} NETWORK_BUSY warnings: {:?}",
        log.all()
    );
    assert_eq!(log.count("error"), 0, "{:?}", log.all());
    // No audio lost: AAC frames of 1024 samples at 48 kHz are 21.3 ms apart, without gaps.
    assert!(audio.len() > 500, "{} audio frames", audio.len());
    let gaps: Vec<u32> = audio
        .windows(2)
        .map(|w| w[1].wrapping_sub(w[0]))
        .filter(|d| *d > 25)
        .collect();
    assert!(gaps.is_empty(), "audio gaps (ms): {gaps:?}");
    assert!(video > 100, "{video} video tags");
}

#[test]
fn pusher_reconnects_after_a_connection_reset_and_the_stream_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(dir.path());
    let proxy = ImpairProxy::start(server.rtmp_addr().port());
    let log = Arc::new(PushLog::default());
    let pusher = V2TXLivePusher::new();
    pusher.set_video_quality(quality(600, 300)).unwrap();
    pusher
        .set_reconnect_policy(ReconnectPolicy {
            attempts: 3,
            interval: Duration::from_millis(500),
        })
        .unwrap();
    pusher.set_observer(Some(log.clone()));
    let t0 = Instant::now();
    pusher
        .start_push(&format!("rtmp://127.0.0.1:{}/live/reset", proxy.port))
        .unwrap();
    assert!(log
        .wait_for("status ConnectSuccess", t0, Duration::from_secs(10))
        .is_some());
    std::thread::sleep(Duration::from_secs(2));
    let reset_at = Instant::now();
    proxy.reset();
    assert!(
        log.wait_for("status Reconnecting", reset_at, Duration::from_secs(10))
            .is_some(),
        "{:?}",
        log.all()
    );
    assert!(
        log.wait_for("status ConnectSuccess", reset_at, Duration::from_secs(10))
            .is_some(),
        "{:?}",
        log.all()
    );
    assert_eq!(proxy.accepted(), 2);
    // Media flows again on the new connection: the server sees the stream live.
    let stop_reader = Arc::new(AtomicU32::new(0));
    let reader = tag_reader(
        format!("{}/live/reset", server.rtmp_base()),
        Arc::clone(&stop_reader),
    );
    std::thread::sleep(Duration::from_secs(3));
    stop_reader.store(1, Ordering::Release);
    let (audio, video) = reader.join().unwrap();
    pusher.stop_push().unwrap();
    assert!(
        audio.len() > 50 && video > 20,
        "{} audio, {video} video",
        audio.len()
    );
    assert_eq!(log.count("error"), 0, "{:?}", log.all());
}

/// What a player presented, and when.
#[derive(Default)]
struct PlayLog {
    /// (when, pts us, capture wall ms from the stamp)
    frames: Mutex<Vec<(Instant, i64, Option<u64>)>>,
    /// (when, ts us)
    audio: Mutex<Vec<(Instant, i64)>>,
    events: Mutex<Vec<(Instant, String)>>,
    rendered: AtomicUsize,
    changed: Condvar,
}

impl PlayLog {
    fn note(&self, e: String) {
        self.events.lock().unwrap().push((Instant::now(), e));
        self.changed.notify_all();
    }
    fn wait_frames(&self, n: usize, limit: Duration) -> bool {
        let f = self.frames.lock().unwrap();
        let (f, _) = self
            .changed
            .wait_timeout_while(f, limit, |f| f.len() < n)
            .unwrap();
        f.len() >= n
    }
    fn events_after(&self, t: Instant) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, _)| *at >= t)
            .map(|(_, e)| e.clone())
            .collect()
    }
}

impl V2TXLivePlayerObserver for PlayLog {
    fn on_error(&self, _: &V2TXLivePlayer, code: V2TXLiveCode, m: &str, _: &str) {
        self.note(format!("error {} {m}", code.name()));
    }
    fn on_video_loading(&self, _: &V2TXLivePlayer, _: &str) {
        self.note("video loading".into());
    }
    fn on_video_playing(&self, _: &V2TXLivePlayer, first: bool, _: &str) {
        self.note(format!("video playing {first}"));
    }
    fn on_render_video_frame(&self, _: &V2TXLivePlayer, frame: &VideoFrame) {
        let stamp = read_stamp(frame).map(|s| s.capture_ms);
        self.frames.lock().unwrap().push((
            Instant::now(),
            frame.timestamp().as_micros() as i64,
            stamp,
        ));
        self.rendered.fetch_add(1, Ordering::Relaxed);
        self.changed.notify_all();
    }
    fn on_playout_audio_frame(&self, _: &V2TXLivePlayer, frame: &AudioFrame) {
        self.audio
            .lock()
            .unwrap()
            .push((Instant::now(), frame.timestamp().as_micros() as i64));
    }
}

/// An onair pusher into `server` (test pattern with its wall-clock stamps, and the tone).
fn source(server: &onair_server::LiveServer, name: &str) -> V2TXLivePusher {
    let p = V2TXLivePusher::new();
    p.set_video_quality(
        VideoEncoderParam::new(
            VideoResolution::R320x240,
            ResolutionMode::Landscape,
            25,
            400,
            0,
        )
        .unwrap(),
    )
    .unwrap();
    p.start_push(&format!("{}/live/{name}", server.rtmp_base()))
        .unwrap();
    p
}

fn player(log: &Arc<PlayLog>, preset: CachePreset) -> V2TXLivePlayer {
    let p = V2TXLivePlayer::new();
    p.set_observer(Some(log.clone()));
    p.set_cache_preset(preset).unwrap();
    p.enable_observe_video_frame(true, PixelFormat::I420, BufferType::ByteBuffer)
        .unwrap();
    p.enable_observe_audio_frame(true).unwrap();
    p
}

/// Video pts minus the audio clock at each picture (audio ts + time since it was played).
fn av_offsets_ms(log: &PlayLog, from: Instant) -> Vec<f64> {
    let audio = log.audio.lock().unwrap().clone();
    let frames = log.frames.lock().unwrap().clone();
    frames
        .iter()
        .filter(|(t, _, _)| *t >= from)
        .filter_map(|(t, pts, _)| {
            let (ta, ts) = audio.iter().rev().find(|(ta, _)| ta <= t)?;
            let clock = *ts as f64 / 1000.0 + t.duration_since(*ta).as_secs_f64() * 1000.0;
            // Only while audio is actually flowing (the last frame within 60 ms).
            (t.duration_since(*ta) < Duration::from_millis(60))
                .then(|| *pts as f64 / 1000.0 - clock)
        })
        .collect()
}

#[test]
fn player_behind_jitter_plays_through_with_av_in_sync() {
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(dir.path());
    let src = source(&server, "jitter");
    let proxy = ImpairProxy::start(server.rtmp_addr().port());
    proxy.set_latency(80, 40);
    let log = Arc::new(PlayLog::default());
    let p = player(&log, CachePreset::Auto);
    p.start_play(&format!("rtmp://127.0.0.1:{}/live/jitter", proxy.port))
        .unwrap();
    assert!(log.wait_frames(10, Duration::from_secs(15)), "no picture");
    let from = Instant::now();
    assert!(log.wait_frames(10 + 8 * 25 * 8 / 10, Duration::from_secs(20)));
    p.stop_play().unwrap();
    src.stop_push().unwrap();
    let rendered = log
        .frames
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, _, _)| *t >= from)
        .count();
    let secs = from.elapsed().as_secs_f64();
    assert!(
        rendered as f64 / secs > 20.0,
        "{rendered} frames in {secs:.1} s behind 80 +/- 40 ms"
    );
    let offsets = av_offsets_ms(&log, from);
    assert!(offsets.len() > 50, "{} A/V samples", offsets.len());
    let worst = offsets.iter().fold(0f64, |m, o| m.max(o.abs()));
    eprintln!(
        "A/V offset: worst {worst:.1} ms over {} pictures",
        offsets.len()
    );
    assert!(worst <= 60.0, "A/V drifted {worst:.1} ms apart");
    assert!(
        log.events_after(from)
            .iter()
            .all(|e| !e.starts_with("error")),
        "{:?}",
        log.events_after(from)
    );
}

#[test]
fn player_behind_a_stall_that_bursts_is_back_near_live_within_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(dir.path());
    let src = source(&server, "burst");
    let proxy = ImpairProxy::start(server.rtmp_addr().port());
    let log = Arc::new(PlayLog::default());
    // speed: (1, 1) s, so the catch-up must bring it within 1 s of live.
    let p = player(&log, CachePreset::Speed);
    p.start_play(&format!("rtmp://127.0.0.1:{}/live/burst", proxy.port))
        .unwrap();
    assert!(log.wait_frames(50, Duration::from_secs(15)), "no picture");
    let stalled_at = Instant::now();
    proxy.set_stalled(true);
    std::thread::sleep(Duration::from_millis(2500));
    proxy.set_stalled(false);
    let resumed_at = Instant::now();
    let n = log.frames.lock().unwrap().len();
    assert!(log.wait_frames(n + 100, Duration::from_secs(15)));
    p.stop_play().unwrap();
    src.stop_push().unwrap();

    let events = log.events_after(stalled_at);
    assert!(
        events.iter().any(|e| e == "video loading"),
        "no loading during the stall: {events:?}"
    );
    assert!(
        events.iter().any(|e| e == "video playing false"),
        "no recovery: {events:?}"
    );
    // Latency of stamped pictures (wall clock now - capture time): from 2 s after the stall's
    // end it is within max_s (1 s) plus the pipeline's own delay.
    let frames = log.frames.lock().unwrap().clone();
    let late: Vec<u64> = frames
        .iter()
        .filter(|(t, _, _)| *t > resumed_at + Duration::from_secs(2))
        .filter_map(|(t, _, stamp)| {
            let now_ms = wall_ms() - Instant::now().duration_since(*t).as_millis() as u64;
            stamp.map(|s| now_ms.saturating_sub(s))
        })
        .collect();
    assert!(
        late.len() > 20,
        "{} stamped pictures after the burst",
        late.len()
    );
    let worst = late.iter().copied().max().unwrap_or(0);
    eprintln!("latency after the burst: worst {worst} ms");
    assert!(
        worst < 1300,
        "still {worst} ms behind live 2 s after the stall"
    );
}

#[test]
fn a_stalled_publisher_does_not_hold_up_other_streams_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(dir.path());
    // One publisher behind a proxy that stalls for 3 s, one direct.
    let proxy = ImpairProxy::start(server.rtmp_addr().port());
    let stalled = V2TXLivePusher::new();
    stalled.set_video_quality(quality(400, 400)).unwrap();
    stalled
        .start_push(&format!("rtmp://127.0.0.1:{}/live/slowpub", proxy.port))
        .unwrap();
    let healthy = source(&server, "healthy");
    let log = Arc::new(PlayLog::default());
    let p = player(&log, CachePreset::Auto);
    p.start_play(&format!("{}/live/healthy", server.rtmp_base()))
        .unwrap();
    assert!(log.wait_frames(25, Duration::from_secs(15)), "no picture");
    let stalled_at = Instant::now();
    proxy.set_stalled(true);
    std::thread::sleep(Duration::from_secs(3));
    proxy.set_stalled(false);
    p.stop_play().unwrap();
    let frames = log.frames.lock().unwrap().clone();
    let during = frames
        .iter()
        .filter(|(t, _, _)| *t > stalled_at + Duration::from_millis(300))
        .count();
    // 25 fps for ~2.7 s: the other stream kept playing.
    assert!(
        during > 50,
        "{during} pictures of the healthy stream while another stalled"
    );
    let gaps = frames
        .windows(2)
        .filter(|w| w[0].0 > stalled_at)
        .map(|w| w[1].0.duration_since(w[0].0))
        .max()
        .unwrap_or_default();
    assert!(
        gaps < Duration::from_millis(400),
        "a {gaps:?} gap in the healthy stream"
    );
    stalled.stop_push().unwrap();
    healthy.stop_push().unwrap();
}
