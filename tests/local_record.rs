//! Local recording's codes, each produced (LiteAV's numbers, `docs/v2txlive.md`): begin 0, -1,
//! -2 (not `.mp4`), -6 (already recording), -7 (the file exists), -8 (no permission);
//! progress reports; complete 0, -3 (too short: no file left) and -2 (the player's stream
//! changed resolution: a publisher restart at another size, the file keeps what came before);
//! the recording ends with the push (complete delivered before `stop_push` returns), and an
//! HEVC push records an `hvc1` MP4 (FFprobe).

use onair::*;
use onair_testkit::peers::{embedded_server, ffmpeg_publish, ffprobe, stream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Events {
    log: Mutex<Vec<String>>,
    changed: Condvar,
}

impl Events {
    fn push(&self, e: String) {
        self.log.lock().unwrap().push(e);
        self.changed.notify_all();
    }
    fn wait(&self, what: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut log = self.log.lock().unwrap();
        while !log.iter().any(|e| e == what) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            log = self.changed.wait_timeout(log, deadline - now).unwrap().0;
        }
        true
    }
    fn all(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl V2TXLivePusherObserver for Events {
    fn on_warning(&self, code: V2TXLiveCode, message: &str, _extra: &str) {
        self.push(format!("warning {}: {message}", code.name()));
    }
    fn on_local_record_begin(&self, code: i32, _path: &str) {
        self.push(format!("begin {code}"));
    }
    fn on_local_recording(&self, _ms: u64, _path: &str) {
        self.push("progress".into());
    }
    fn on_local_record_complete(&self, code: i32, _path: &str) {
        self.push(format!("complete {code}"));
    }
}

impl V2TXLivePlayerObserver for Events {
    fn on_local_record_begin(&self, _p: &V2TXLivePlayer, code: i32, _path: &str) {
        self.push(format!("begin {code}"));
    }
    fn on_local_record_complete(&self, _p: &V2TXLivePlayer, code: i32, _path: &str) {
        self.push(format!("complete {code}"));
    }
    fn on_video_resolution_changed(&self, _p: &V2TXLivePlayer, w: u32, h: u32) {
        self.push(format!("size {w}x{h}"));
    }
    fn on_video_playing(&self, _p: &V2TXLivePlayer, first: bool, _extra: &str) {
        self.push(format!("playing {first}"));
    }
    fn on_warning(&self, _p: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, _extra: &str) {
        self.push(format!("warning {}: {message}", code.name()));
    }
    fn on_error(&self, _p: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, _extra: &str) {
        self.push(format!("error {}: {message}", code.name()));
    }
}

fn pusher(events: &Arc<Events>) -> V2TXLivePusher {
    let p = V2TXLivePusher::new();
    p.set_video_quality(
        VideoEncoderParam::new(
            VideoResolution::R320x180,
            ResolutionMode::Landscape,
            25,
            0,
            0,
        )
        .unwrap(),
    )
    .unwrap();
    p.set_observer(Some(events.clone()));
    p
}

#[test]
fn pusher_codes_progress_and_the_end_with_the_push() {
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(&dir.path().join("server"));
    let events = Arc::new(Events::default());
    let p = pusher(&events);
    let file = dir.path().join("p.mp4");
    // Not pushing: refused, no code (LiteAV's calls need a session).
    assert_eq!(
        p.start_local_recording(&LocalRecordingParams::new(&file))
            .unwrap_err()
            .code,
        V2TXLiveCode::ErrorRefused
    );
    p.start_push(&server.push_url("live", "rec", Duration::from_secs(600)))
        .unwrap();
    let bad = [
        (dir.path().join("p.flv"), record_code::BAD_EXTENSION),
        (
            std::path::PathBuf::from("/sys/onair-test.mp4"),
            record_code::NO_PERMISSION,
        ),
        (dir.path().join("no/such/dir.mp4"), record_code::FAILED),
    ];
    for (path, code) in &bad {
        assert!(p
            .start_local_recording(&LocalRecordingParams::new(path))
            .is_err());
        assert!(
            events.wait(&format!("begin {code}"), Duration::from_secs(5)),
            "{path:?}: {:?}",
            events.all()
        );
    }
    std::fs::write(dir.path().join("exists.mp4"), b"x").unwrap();
    let e = p
        .start_local_recording(&LocalRecordingParams::new(dir.path().join("exists.mp4")))
        .unwrap_err();
    assert_eq!(e.code, V2TXLiveCode::ErrorInvalidParameter);
    assert!(events.wait("begin -7", Duration::from_secs(5)));

    // Too short: -3 and no file.
    let short = dir.path().join("short.mp4");
    p.start_local_recording(&LocalRecordingParams::new(&short))
        .unwrap();
    assert!(events.wait("begin 0", Duration::from_secs(5)));
    p.stop_local_recording().unwrap();
    assert!(
        events.wait("complete -3", Duration::from_secs(5)),
        "{:?}",
        events.all()
    );
    assert!(!short.exists());

    // A real one: progress every 500 ms, -6 for a second start, complete 0 from stop_push.
    let mut params = LocalRecordingParams::new(&file);
    params.interval_ms = 500;
    p.start_local_recording(&params).unwrap();
    let e = p
        .start_local_recording(&LocalRecordingParams::new(dir.path().join("second.mp4")))
        .unwrap_err();
    assert_eq!(e.code, V2TXLiveCode::ErrorRefused);
    assert!(events.wait("begin -6", Duration::from_secs(5)));
    std::thread::sleep(Duration::from_secs(3));
    p.stop_push().unwrap();
    let log = events.all();
    assert_eq!(
        log.last().map(String::as_str),
        Some("complete 0"),
        "{log:?}"
    );
    let progress = log.iter().filter(|e| *e == "progress").count();
    assert!(
        (3..=7).contains(&progress),
        "{progress} progress reports in 3 s: {log:?}"
    );
    let probe = ffprobe(&file.to_string_lossy(), false);
    assert_eq!(stream(&probe, "video")["codec_name"], "h264", "{probe}");
    assert_eq!(stream(&probe, "audio")["codec_name"], "aac", "{probe}");
}

#[test]
fn an_hevc_push_records_hvc1() {
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(&dir.path().join("server"));
    let events = Arc::new(Events::default());
    let p = pusher(&events);
    p.set_video_codec(VideoCodec::H265).unwrap();
    p.start_push(&server.push_url("live", "hevc-rec", Duration::from_secs(600)))
        .unwrap();
    let file = dir.path().join("h.mp4");
    p.start_local_recording(&LocalRecordingParams::new(&file))
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    p.stop_push().unwrap();
    assert!(
        events.wait("complete 0", Duration::from_secs(1)),
        "{:?}",
        events.all()
    );
    let probe = ffprobe(&file.to_string_lossy(), false);
    let v = stream(&probe, "video");
    assert_eq!(
        (v["codec_name"].as_str(), v["codec_tag_string"].as_str()),
        (Some("hevc"), Some("hvc1")),
        "{probe}"
    );
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(320), Some(180))
    );
}

#[test]
fn a_resolution_change_completes_the_players_recording_with_minus_2() {
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(&dir.path().join("server"));
    let url = server.push_url("live", "resize", Duration::from_secs(600));
    let ffmpeg = ffmpeg_publish(&url, 30, "320x180", 25);
    onair_testkit::peers::wait_until_live(&url, Duration::from_secs(20));
    let events = Arc::new(Events::default());
    let player = V2TXLivePlayer::new();
    player.set_observer(Some(events.clone()));
    player
        .start_play(&format!("{}/live/resize.flv", server.http_base()))
        .unwrap();
    assert!(
        events.wait("size 320x180", Duration::from_secs(20)),
        "{:?}",
        events.all()
    );
    let file = dir.path().join("r.mp4");
    player
        .start_local_recording(&LocalRecordingParams::new(&file))
        .unwrap();
    assert!(events.wait("begin 0", Duration::from_secs(5)));
    std::thread::sleep(Duration::from_secs(2));
    drop(ffmpeg);
    let _ffmpeg = ffmpeg_publish(&url, 30, "640x360", 25);
    assert!(
        events.wait("complete -2", Duration::from_secs(20)),
        "{:?}",
        events.all()
    );
    // The file keeps the first size, and a new recording may start.
    let probe = ffprobe(&file.to_string_lossy(), false);
    let v = stream(&probe, "video");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(320), Some(180))
    );
    player
        .start_local_recording(&LocalRecordingParams::new(dir.path().join("r2.mp4")))
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    player.stop_play().unwrap();
    assert_eq!(events.all().last().map(String::as_str), Some("complete 0"));
}
