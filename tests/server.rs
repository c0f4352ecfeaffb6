//! The embedded live server (onair-server) against real peers: ffmpeg publishes, ffprobe and
//! onair's player read back over RTMP and HTTP-FLV, onair's pusher meets push signing, and a
//! loopback HTTP listener receives the signed callbacks. Covers the GOP cache (mid-GOP join),
//! push signing, ban and unban, recording segments (duration limit, interruption, killed
//! publisher, MP4), screenshots, the API's sign checks and error codes, tape tasks, relaying,
//! restart persistence, and the `onair serve` / `onair sign` / `onair push` / `onair play`
//! commands.

use md5::{Digest, Md5};
use onair::*;
use onair_server::{LiveServer, RecordFormat, ServerConfig};
use onair_testkit::http_probe::{http_get, http_json, CallbackSink};
use onair_testkit::peers::probe_av as probe;
use onair_testkit::peers::{ffmpeg_publish, num, require, Nginx};
use serde_json::Value;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const API_KEY: &str = "5d41402abc4b2a76b9719d911017c592";
const PUSH_KEY: &str = "e12c46f2612d5106e2034781ab261ca3";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn md5_hex(s: &str) -> String {
    format!("{:x}", Md5::digest(s.as_bytes()))
}

/// A server on free loopback ports with callbacks to a fresh sink.
fn start(
    dir: &std::path::Path,
    tune: impl FnOnce(&mut ServerConfig),
) -> (LiveServer, CallbackSink) {
    let sink = CallbackSink::start();
    let mut c = ServerConfig::new(dir);
    c.rtmp_addr = "127.0.0.1:0".into();
    c.http_addr = "127.0.0.1:0".into();
    c.callback_url = Some(sink.url.clone());
    tune(&mut c);
    (LiveServer::start(c).expect("server starts"), sink)
}

fn is_event(ev: i64, stream: &str) -> impl Fn(&Value) -> bool + '_ {
    move |v| v["event_type"] == ev && v["stream_id"] == stream
}

fn wait_event(sink: &CallbackSink, ev: i64, stream: &str, limit_s: u64) -> (Instant, Value) {
    sink.wait_for(Duration::from_secs(limit_s), is_event(ev, stream))
        .unwrap_or_else(|| {
            panic!(
                "no event {ev} for {stream} within {limit_s} s; got {:?}",
                sink.events()
            )
        })
}

fn api(server: &LiveServer, interface: &str, params: &[(&str, &str)]) -> (u16, Value) {
    http_json(&server.api_url(interface, params))
}

/// One 3 s ffmpeg push of a small test source to `url`, to completion: how ffmpeg exited
/// (a refused push fails at once).
fn ffmpeg_push_once(url: &str) -> std::process::Output {
    std::process::Command::new(require("ffmpeg"))
        .args([
            "-v",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=10",
        ])
        .args(["-t", "3", "-c:v", "libx264", "-f", "flv", url])
        .output()
        .unwrap()
}

/// Player events: when the first picture arrived.
struct FirstFrame(Mutex<Option<mpsc::Sender<Instant>>>);

impl V2TXLivePlayerObserver for FirstFrame {
    fn on_video_playing(&self, _p: &V2TXLivePlayer, first: bool, _e: &str) {
        if first {
            if let Some(tx) = self.0.lock().unwrap().as_ref() {
                let _ = tx.send(Instant::now());
            }
        }
    }
}

fn first_frame_ms(url: &str) -> f64 {
    let (tx, rx) = mpsc::channel();
    let p = V2TXLivePlayer::new();
    p.set_observer(Some(Arc::new(FirstFrame(Mutex::new(Some(tx))))));
    let t0 = Instant::now();
    p.start_play(url).unwrap();
    let at = rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("no picture from {url}"));
    p.stop_play().unwrap();
    at.duration_since(t0).as_secs_f64() * 1000.0
}

#[test]
fn ffmpeg_publishes_ffprobe_reads_back_and_mid_gop_players_start_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut nginx = Nginx::start();
    let upstream = nginx.url("");
    let upstream = upstream.trim_end_matches('/').to_string();
    let (server, sink) = start(dir.path(), |c| {
        c.record = RecordFormat::None.into();
        c.forward = Some(upstream.clone());
    });
    // 4 s GOPs (25 fps, -g 100): a player joining between keyframes must not wait for the next.
    let _ff = ffmpeg_publish(
        &format!("{}/live/gop", server.rtmp_base()),
        40,
        "640x360",
        100,
    );
    wait_event(&sink, 1, "gop", 20);

    for url in [
        format!("{}/live/gop", server.rtmp_base()),
        format!("{}/live/gop.flv", server.http_base()),
    ] {
        let (v, w, a, _) = probe(&url);
        assert_eq!((v.as_str(), w, a.as_str()), ("h264", 640.0, "aac"), "{url}");
    }
    // The relay reached nginx.
    let (v, _, a, _) = probe(&format!("{upstream}/gop"));
    assert_eq!((v.as_str(), a.as_str()), ("h264", "aac"), "relayed stream");

    let mut worst: f64 = 0.0;
    for i in 0..3 {
        // Join at different points of the GOP.
        std::thread::sleep(Duration::from_millis(700 + 600 * i));
        for url in [
            format!("{}/live/gop", server.rtmp_base()),
            format!("{}/live/gop.flv", server.http_base()),
        ] {
            let ms = first_frame_ms(&url);
            eprintln!("first frame {url}: {ms:.0} ms");
            worst = worst.max(ms);
        }
    }
    assert!(
        worst < 300.0,
        "a mid-GOP join took {worst:.0} ms to its first picture"
    );
    let (_, stat) = api(&server, "Get_LivePushStat", &[("Param.s.stream_id", "gop")]);
    assert_eq!(stat["ret"], 0, "{stat}");
    assert!(
        num(&stat["output"]["stream_info"][0]["fps"]) > 20.0,
        "{stat}"
    );
    nginx.kill();
    server.stop();
}

/// When the publisher leaves, RTMP players are sent NetStream.Play.UnpublishNotify behind the
/// last tags (as nginx-rtmp does): FFmpeg ends its play on it at once, with every frame read.
#[test]
fn ffmpeg_playing_over_rtmp_ends_when_the_publisher_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let (server, sink) = start(dir.path(), |c| c.record = RecordFormat::None.into());
    let url = format!("{}/live/leaving", server.rtmp_base());
    let _publisher = ffmpeg_publish(&url, 4, "320x180", 25);
    wait_event(&sink, 1, "leaving", 20);
    let player = std::process::Command::new(require("ffmpeg"))
        .args([
            "-v", "error", "-i", &url, "-map", "0:v", "-f", "framecrc", "-",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start ffmpeg");
    let pid = player.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send((player.wait_with_output(), Instant::now()));
    });
    let (left, _) = wait_event(&sink, 0, "leaving", 20);
    let Ok((out, exited)) = rx.recv_timeout(Duration::from_secs(10)) else {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
        panic!("ffmpeg still plays 10 s after the publisher left: no UnpublishNotify");
    };
    let out = out.expect("ffmpeg ran");
    let frames = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count();
    assert!(
        out.status.success(),
        "ffmpeg: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(frames >= 25, "ffmpeg read {frames} frames before the end");
    let after = exited.saturating_duration_since(left);
    assert!(
        after < Duration::from_secs(3),
        "ffmpeg ended {after:?} after the publisher left"
    );
    server.stop();
}

/// Pusher events: the first error code, and whether it pushed.
#[derive(Default)]
struct PushSeen {
    error: Mutex<Option<V2TXLiveCode>>,
    pushing: Mutex<bool>,
}

impl V2TXLivePusherObserver for PushSeen {
    fn on_error(&self, code: V2TXLiveCode, _m: &str, _e: &str) {
        self.error.lock().unwrap().get_or_insert(code);
    }
    fn on_push_status_update(&self, status: PushStatus, _m: &str, _e: &str) {
        if status == PushStatus::ConnectSuccess {
            *self.pushing.lock().unwrap() = true;
        }
    }
}

/// Pushes `url` with onair's pusher until it connects or fails; returns (connected, error).
fn onair_push(url: &str, sink: &CallbackSink, stream_name: &str) -> (bool, Option<V2TXLiveCode>) {
    let seen = Arc::new(PushSeen::default());
    let p = V2TXLivePusher::new();
    p.set_video_quality(
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
    p.set_observer(Some(seen.clone()));
    p.start_push(url).unwrap();
    let began = sink
        .wait_for(Duration::from_secs(4), is_event(1, stream_name))
        .is_some();
    // A refusal arrives as an error event; give it the same bound.
    let deadline = Instant::now() + Duration::from_secs(4);
    while !began && seen.error.lock().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    p.stop_push().unwrap();
    let err = *seen.error.lock().unwrap();
    (began, err)
}

#[test]
fn unsigned_and_expired_pushes_are_refused_when_a_key_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let (server, sink) = start(dir.path(), |c| {
        c.push_key = Some(PUSH_KEY.into());
        c.record = RecordFormat::None.into();
        c.screenshot_interval = None;
    });
    // The spec's vector.
    assert_eq!(
        onair_rtmp::sign::tx_secret(PUSH_KEY, "test", "5C271099"),
        "f85a2ab363fe4deaffef9754d79da6fe"
    );
    let base = server.rtmp_base();
    let unsigned = onair_push(&format!("{base}/live/a"), &sink, "a");
    assert_eq!(
        unsigned,
        (false, Some(V2TXLiveCode::ErrorServerProcessFailed)),
        "unsigned push"
    );
    let expired =
        onair_rtmp::sign::signed_push_url(&base, "live", "a", PUSH_KEY, (now() - 10) as u64);
    assert_eq!(
        onair_push(&expired, &sink, "a"),
        (false, Some(V2TXLiveCode::ErrorServerProcessFailed)),
        "expired push"
    );
    let wrong_key =
        onair_rtmp::sign::signed_push_url(&base, "live", "a", "not-the-key", (now() + 600) as u64);
    assert!(
        !onair_push(&wrong_key, &sink, "a").0,
        "push signed with another key"
    );
    let good = server.push_url("live", "a", Duration::from_secs(600));
    assert_eq!(onair_push(&good, &sink, "a"), (true, None), "signed push");
    // ffmpeg sees the refusal too (it exits with an error instead of publishing).
    let ff = ffmpeg_push_once(&format!("{base}/live/b"));
    assert!(!ff.status.success(), "ffmpeg pushing unsigned must fail");
    assert!(sink
        .wait_for(Duration::from_millis(100), is_event(1, "b"))
        .is_none());
    server.stop();
}

#[test]
fn a_ban_cuts_the_publisher_within_a_second_and_unban_lets_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let (server, sink) = start(dir.path(), |c| {
        c.api_key = Some(API_KEY.into());
        c.record = RecordFormat::None.into();
        c.screenshot_interval = None;
    });
    let url = format!("{}/live/ban", server.rtmp_base());
    let mut ff = ffmpeg_publish(&url, 60, "320x240", 25);
    wait_event(&sink, 1, "ban", 20);
    let t0 = Instant::now();
    let (_, r) = api(
        &server,
        "Live_Channel_SetStatus",
        &[("Param.s.channel_id", "ban"), ("Param.n.status", "0")],
    );
    assert_eq!(r["ret"], 0, "{r}");
    let (at, end) = wait_event(&sink, 0, "ban", 5);
    let cut = at.duration_since(t0);
    assert!(
        cut < Duration::from_secs(1),
        "ban took {cut:?} to cut the publisher"
    );
    assert_eq!(end["errcode"], 1, "{end}");
    let status = ff.0.wait().unwrap();
    assert!(!status.success(), "ffmpeg should see its connection cut");
    let (_, st) = api(
        &server,
        "Live_Channel_GetStatus",
        &[("Param.s.channel_id", "ban")],
    );
    assert_eq!(st["output"][0]["status"], 3, "banned: {st}");

    // Refused while banned.
    let ff2 = ffmpeg_push_once(&url);
    assert!(
        !ff2.status.success(),
        "a banned stream must refuse the push"
    );
    assert_eq!(
        sink.events()
            .iter()
            .filter(|(_, v)| is_event(1, "ban")(v))
            .count(),
        1
    );

    let (_, r) = api(
        &server,
        "Live_Channel_SetStatus",
        &[("Param.s.channel_id", "ban"), ("Param.n.status", "1")],
    );
    assert_eq!(r["ret"], 0, "{r}");
    let _ff3 = ffmpeg_publish(&url, 10, "320x240", 25);
    let begun = sink.wait_count(Duration::from_secs(20), 2, is_event(1, "ban"));
    assert_eq!(begun.len(), 2, "unbanned push did not begin");
    server.stop();
}

/// Recording rows of `channel` from the API.
fn recordings(server: &LiveServer, channel: &str) -> Vec<Value> {
    let (_, r) = api(
        server,
        "Live_Tape_GetFilelist",
        &[
            ("Param.s.channel_id", channel),
            ("Param.n.page_size", "100"),
        ],
    );
    r["output"]["file_list"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn probed_duration(server: &LiveServer, row: &Value) -> f64 {
    let path = server
        .data_dir()
        .join("record")
        .join(row["file_name"].as_str().unwrap());
    let (v, _, a, d) = probe(path.to_str().unwrap());
    assert_eq!((v.as_str(), a.as_str()), ("h264", "aac"), "{row}");
    d
}

#[test]
fn recording_splits_at_the_maximum_duration_and_survives_a_killed_publisher() {
    let dir = tempfile::tempdir().unwrap();
    let (server, sink) = start(dir.path(), |c| {
        c.record = RecordFormat::Flv.into();
        c.segment_max = Duration::from_secs(4);
        c.screenshot_interval = None;
    });
    // 10 s with 1 s GOPs: segments of 4, 4 and 2 s.
    let mut ff = ffmpeg_publish(
        &format!("{}/live/rec", server.rtmp_base()),
        10,
        "320x240",
        25,
    );
    wait_event(&sink, 1, "rec", 20);
    ff.0.wait().unwrap();
    wait_event(&sink, 0, "rec", 10);
    sink.wait_count(Duration::from_secs(10), 3, is_event(100, "rec"));
    let rows = recordings(&server, "rec");
    assert_eq!(rows.len(), 3, "segments: {rows:?}");
    let durations: Vec<f64> = rows.iter().map(|r| probed_duration(&server, r)).collect();
    eprintln!("segment durations (ffprobe): {durations:?}");
    assert!(
        (durations[0] - 4.0).abs() < 1.0 && (durations[1] - 4.0).abs() < 1.0,
        "{durations:?}"
    );
    let total: f64 = durations.iter().sum();
    assert!(
        (total - 10.0).abs() < 1.0,
        "segments add up to {total:.2} s of a 10 s push"
    );
    // The event-100 callback carries seed 002's fields.
    let (_, ev) = wait_event(&sink, 100, "rec", 1);
    for k in [
        "channel_id",
        "end_time",
        "file_format",
        "file_id",
        "file_size",
        "sign",
        "start_time",
        "stream_id",
        "t",
        "video_id",
        "video_url",
    ] {
        assert!(ev.get(k).is_some(), "record callback lacks {k}: {ev}");
    }
    let (status, body) = http_get(ev["video_url"].as_str().unwrap()).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        body.len() as i64,
        ev["file_size"].as_i64().unwrap(),
        "served file size"
    );

    // A publisher killed mid-push still leaves a finalised, playable segment.
    let mut ff = ffmpeg_publish(
        &format!("{}/live/killed", server.rtmp_base()),
        60,
        "320x240",
        25,
    );
    let (began, _) = wait_event(&sink, 1, "killed", 20);
    std::thread::sleep(Duration::from_secs(3));
    ff.0.kill().unwrap();
    let truth = began.elapsed().as_secs_f64();
    let _ = ff.0.wait();
    wait_event(&sink, 100, "killed", 10);
    let rows = recordings(&server, "killed");
    assert_eq!(rows.len(), 1);
    let d = probed_duration(&server, &rows[0]);
    assert!(
        (d - truth).abs() < 1.0,
        "killed publisher: file {d:.2} s, pushed {truth:.2} s"
    );
    server.stop();
}

#[test]
fn an_interruption_closes_the_segment_and_mp4_recordings_play() {
    let dir = tempfile::tempdir().unwrap();
    let (server, sink) = start(dir.path(), |c| {
        c.record = RecordFormat::Mp4.into();
        c.screenshot_interval = None;
    });
    let url = format!("{}/live/cut", server.rtmp_base());
    for round in 1..=2 {
        let mut ff = ffmpeg_publish(&url, 3, "320x240", 25);
        ff.0.wait().unwrap();
        sink.wait_count(Duration::from_secs(10), round, is_event(100, "cut"));
    }
    let rows = recordings(&server, "cut");
    assert_eq!(rows.len(), 2, "one segment per push: {rows:?}");
    for r in &rows {
        assert_eq!(r["file_format"], "mp4");
        let d = probed_duration(&server, r);
        assert!(
            (d - 3.0).abs() < 1.0,
            "segment of a 3 s push lasts {d:.2} s"
        );
    }
    server.stop();
}

#[test]
fn screenshots_callbacks_tape_tasks_and_the_api_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (server, sink) = start(dir.path(), |c| {
        c.api_key = Some(API_KEY.into());
        c.record = RecordFormat::None.into();
    });
    let _ff = ffmpeg_publish(
        &format!("{}/live/shot", server.rtmp_base()),
        26,
        "1280x720",
        25,
    );
    wait_event(&sink, 1, "shot", 20);

    // Sign checks (seed 003): bad sign, expired t, no sign.
    let base = format!(
        "{}/common_access?cmd=1&interface=Live_Channel_GetStatus&Param.s.channel_id=shot",
        server.http_base()
    );
    let t = (now() + 60).to_string();
    let (code, r) = http_json(&format!(
        "{base}&t={t}&sign=00000000000000000000000000000000"
    ));
    assert_eq!((code, r["message"].as_str()), (403, Some("sign invalid")));
    let old = (now() - 5).to_string();
    let (code, r) = http_json(&format!(
        "{base}&t={old}&sign={}",
        md5_hex(&format!("{API_KEY}{old}"))
    ));
    assert_eq!((code, r["message"].as_str()), (403, Some("time expired")));
    let (code, _) = http_json(&base);
    assert_eq!(code, 403);
    let (code, r) = http_json(&format!(
        "{base}&t={t}&sign={}",
        md5_hex(&format!("{API_KEY}{t}"))
    ));
    assert_eq!((code, r["ret"].as_i64()), (200, Some(0)), "{r}");
    assert_eq!(r["output"][0]["status"], 1);
    // Error codes (seed 002).
    assert_eq!(api(&server, "Live_Channel_GetStatus", &[]).1["ret"], 1204);
    assert_eq!(
        api(
            &server,
            "Live_Channel_SetStatus",
            &[("Param.s.channel_id", "shot"), ("Param.n.status", "9")]
        )
        .1["ret"],
        1204
    );
    assert_eq!(
        api(
            &server,
            "Get_LivePushStat",
            &[("Param.s.stream_id", "nobody")]
        )
        .1["ret"],
        1301
    );
    assert_eq!(
        api(
            &server,
            "Live_Tape_GetFilelist",
            &[("Param.s.channel_id", "shot")]
        )
        .1["ret"],
        10003
    );
    assert_eq!(api(&server, "No_Such_Interface", &[]).1["ret"], 1204);
    let (_, list) = api(&server, "Live_Channel_GetLiveChannelList", &[]);
    assert_eq!(
        list["output"]["channel_list"][0]["channel_id"], "shot",
        "{list}"
    );
    let (_, urls) = api(
        &server,
        "Live_Channel_GetUrls",
        &[("Param.s.channel_id", "x")],
    );
    assert!(
        urls["output"]["play_url_flv"]
            .as_str()
            .unwrap()
            .ends_with("/live/x.flv"),
        "{urls}"
    );

    // A tape task records on demand (automatic recording is off).
    let (_, task) = api(
        &server,
        "Live_Tape_Start",
        &[("Param.s.channel_id", "shot")],
    );
    assert_eq!(task["ret"], 0, "{task}");
    let task_id = task["output"]["task_id"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_secs(3));
    let stop_tape = || {
        api(
            &server,
            "Live_Tape_Stop",
            &[
                ("Param.s.channel_id", "shot"),
                ("Param.n.task_id", &task_id),
            ],
        )
        .1["ret"]
            .clone()
    };
    assert_eq!(stop_tape(), 0);
    let (_, rec) = wait_event(&sink, 100, "shot", 10);
    assert!(num(&rec["duration"]) >= 1.0, "{rec}");
    assert_eq!(stop_tape(), 1204, "a stopped task cannot be stopped again");
    assert_eq!(recordings(&server, "shot").len(), 1);

    // Two screenshots, 10 s apart on the absolute-time cadence, 300 px wide.
    let shots: Vec<Value> = sink
        .wait_count(Duration::from_secs(25), 2, is_event(200, "shot"))
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert!(shots.len() >= 2, "screenshots: {shots:?}");
    let (a, b) = (
        shots[0]["create_time"].as_i64().unwrap(),
        shots[1]["create_time"].as_i64().unwrap(),
    );
    assert_eq!(b - a, 10, "cadence");
    assert_eq!(a % 10, 0, "on absolute 10 s marks");
    for s in &shots[..2] {
        assert_eq!(
            (s["width"].as_i64(), s["height"].as_i64()),
            (Some(300), Some(168)),
            "{s}"
        );
        let (code, jpeg) = http_get(s["pic_full_url"].as_str().unwrap()).unwrap();
        assert_eq!(code, 200);
        let img = image::load_from_memory(&jpeg).expect("a JPEG");
        assert_eq!((img.width(), img.height()), (300, 168));
        // <stream>_<push time>_<task time>_<offset>_<w>_<h>.jpg
        let name = s["pic_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let parts: Vec<&str> = name.trim_end_matches(".jpg").split('_').collect();
        assert_eq!(parts.len(), 6, "{name}");
        assert_eq!((parts[0], parts[4], parts[5]), ("shot", "300", "168"));
        let push_time: i64 = parts[1].parse().unwrap();
        assert_eq!(
            parts[3].parse::<i64>().unwrap(),
            s["create_time"].as_i64().unwrap() - push_time
        );
    }
    let (_, q) = api(
        &server,
        "Live_Queue_Get",
        &[("Param.n.bid", "100"), ("Param.n.count", "10")],
    );
    assert!(q["output"]["data"].as_array().unwrap().len() >= 2, "{q}");

    // Every callback is signed: sign = MD5(key + t), t in the future.
    for (_, v) in sink.events() {
        let t = v["t"].as_i64().unwrap();
        assert!(t > now(), "{v}");
        assert_eq!(
            v["sign"].as_str().unwrap(),
            md5_hex(&format!("{API_KEY}{t}")),
            "{v}"
        );
    }
    server.stop();
}

#[test]
fn a_restart_keeps_channels_bans_recordings_and_screenshots() {
    let dir = tempfile::tempdir().unwrap();
    let tune = |c: &mut ServerConfig| {
        c.api_key = Some(API_KEY.into());
        c.screenshot_interval = Some(Duration::from_secs(1));
    };
    let (server, sink) = start(dir.path(), tune);
    let mut ff = ffmpeg_publish(
        &format!("{}/live/keep", server.rtmp_base()),
        4,
        "320x240",
        25,
    );
    wait_event(&sink, 200, "keep", 20);
    ff.0.wait().unwrap();
    wait_event(&sink, 100, "keep", 10);
    assert_eq!(
        api(
            &server,
            "Live_Channel_SetStatus",
            &[("Param.s.channel_id", "banned"), ("Param.n.status", "0")]
        )
        .1["ret"],
        0
    );
    server.stop();

    let (server, _sink) = start(dir.path(), tune);
    let (_, list) = api(&server, "Live_Channel_GetChannelList", &[]);
    let ids: Vec<&str> = list["output"]["channel_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["channel_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["banned", "keep"], "{list}");
    assert_eq!(
        api(
            &server,
            "Live_Channel_GetStatus",
            &[("Param.s.channel_id", "banned")]
        )
        .1["output"][0]["status"],
        3
    );
    assert_eq!(recordings(&server, "keep").len(), 1);
    let (_, q) = api(
        &server,
        "Live_Queue_Get",
        &[("Param.n.bid", "100"), ("Param.n.count", "100")],
    );
    assert!(!q["output"]["data"].as_array().unwrap().is_empty(), "{q}");
    let ff = ffmpeg_push_once(&format!("{}/live/banned", server.rtmp_base()));
    assert!(!ff.status.success(), "the ban survives a restart");
    server.stop();
}

#[test]
fn play_signing_channel_manager_and_play_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let (server, sink) = start(dir.path(), |c| {
        c.play_key = Some(PUSH_KEY.into());
        c.record = RecordFormat::None.into();
        c.screenshot_interval = None;
    });
    let _ff = ffmpeg_publish(
        &format!("{}/live/sig", server.rtmp_base()),
        30,
        "320x240",
        25,
    );
    wait_event(&sink, 1, "sig", 20);
    // Play URLs need txSecret/txTime when a play key is set.
    let flv = format!("{}/live/sig.flv", server.http_base());
    let (code, _) = onair_testkit::http_probe::http_get_head(&flv).unwrap();
    assert_eq!(code, 403, "unsigned HTTP-FLV play");
    let q = onair_rtmp::sign::push_query(PUSH_KEY, "sig", (now() + 600) as u64);
    let (code, _) = onair_testkit::http_probe::http_get_head(&format!("{flv}?{q}")).unwrap();
    assert_eq!(code, 200, "signed HTTP-FLV play");
    let rtmp_unsigned = std::process::Command::new(require("ffprobe"))
        .args([
            "-v",
            "error",
            "-rw_timeout",
            "5000000",
            &format!("{}/live/sig", server.rtmp_base()),
        ])
        .output()
        .unwrap();
    assert!(!rtmp_unsigned.status.success(), "unsigned RTMP play");
    let (v, _, a, _) = probe(&format!("{}/live/sig?{q}", server.rtmp_base()));
    assert_eq!(
        (v.as_str(), a.as_str()),
        ("h264", "aac"),
        "signed RTMP play"
    );

    // Play statistics count a connected player.
    let (tx, rx) = mpsc::channel();
    let player = V2TXLivePlayer::new();
    player.set_observer(Some(Arc::new(FirstFrame(Mutex::new(Some(tx))))));
    player.start_play(&format!("{flv}?{q}")).unwrap();
    rx.recv_timeout(Duration::from_secs(10)).expect("a picture");
    let (_, stat) = api(&server, "Get_LivePlayStat", &[("Param.s.stream_id", "sig")]);
    assert_eq!(stat["output"]["stream_info"][0]["online"], 1, "{stat}");
    let (_, both) = api(&server, "Get_LiveStat", &[]);
    assert!(
        num(&both["output"]["stream_info"][0]["speed"]) > 0.0,
        "{both}"
    );
    player.stop_play().unwrap();

    // channel_manager: forbid cuts the push and refuses it until the time passes or resume.
    let until = (now() + 120).to_string();
    let (_, r) = api(
        &server,
        "channel_manager",
        &[
            ("Param.s.channel_id", "sig"),
            ("Param.s.action", "forbid"),
            ("Param.n.abstime_end", &until),
        ],
    );
    assert_eq!(r["ret"], 0, "{r}");
    wait_event(&sink, 0, "sig", 5);
    let refused = ffmpeg_push_once(&format!("{}/live/sig", server.rtmp_base()));
    assert!(
        !refused.status.success(),
        "a forbidden stream refuses pushes"
    );
    let (_, r) = api(
        &server,
        "channel_manager",
        &[("Param.s.channel_id", "sig"), ("Param.s.action", "resume")],
    );
    assert_eq!(r["ret"], 0, "{r}");
    let _ff2 = ffmpeg_publish(
        &format!("{}/live/sig", server.rtmp_base()),
        5,
        "320x240",
        25,
    );
    assert_eq!(
        sink.wait_count(Duration::from_secs(20), 2, is_event(1, "sig"))
            .len(),
        2,
        "resumed push began"
    );
    assert_eq!(
        api(
            &server,
            "channel_manager",
            &[
                ("Param.s.channel_id", "sig"),
                ("Param.s.action", "forbid"),
                ("Param.n.abstime_end", "1")
            ]
        )
        .1["ret"],
        1204
    );
    server.stop();
}
