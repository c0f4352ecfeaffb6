//! The statistics history against FFmpeg and FFprobe: an FFmpeg push (constant bitrate) with
//! an FFmpeg HTTP-FLV player on it, sampled every 20 s (a minute in production), gives one
//! `Get_LivePushStatHistory` sample per mark whose kbps is within 10% of FFprobe's bitrate of
//! the server's recording of that push, `Get_LivePlayStatHistory` counts the player and its
//! bytes, and an empty range answers 10003.

use onair_server::{LiveServer, RecordFormat, ServerConfig};
use onair_testkit::http_probe::http_json;
use onair_testkit::peers::{num, require, wait_live_flv};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn history_samples_match_ffprobe_and_count_the_players() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ServerConfig::new(dir.path());
    c.rtmp_addr = "127.0.0.1:0".into();
    c.http_addr = "127.0.0.1:0".into();
    c.record = RecordFormat::Flv.into();
    c.screenshot_interval = None;
    c.stats_interval = Duration::from_secs(20);
    let sink = onair_testkit::http_probe::CallbackSink::start();
    c.callback_url = Some(sink.url.clone());
    let server = LiveServer::start(c).expect("server starts");
    let began = unix_now();
    let seconds = 66;
    let mut push = Command::new(require("ffmpeg"))
        .args([
            "-v",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"])
        .args([
            "-t",
            &seconds.to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
        ])
        .args([
            "-b:v", "500k", "-minrate", "500k", "-maxrate", "500k", "-bufsize", "500k",
        ])
        .args([
            "-x264-params",
            "nal-hrd=cbr",
            "-g",
            "50",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac", "-b:a", "64k", "-f", "flv"])
        .arg(format!("rtmp://{}/live/hist", server.rtmp_addr()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start ffmpeg");
    wait_live_flv(server.http_addr().port(), "hist", Duration::from_secs(15));
    let mut player = Command::new(require("ffmpeg"))
        .args(["-v", "error", "-i"])
        .arg(format!("{}/live/hist.flv", server.http_base()))
        .args(["-c", "copy", "-f", "null", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the ffmpeg player");
    assert!(push.wait().unwrap().success(), "the FFmpeg push failed");
    let _ = player.wait();
    let ended = unix_now();

    let push_url = server.api_url(
        "Get_LivePushStatHistory",
        &[
            ("Param.s.stream_id", "hist"),
            ("Param.n.start_time", &began.to_string()),
            ("Param.n.end_time", &ended.to_string()),
        ],
    );
    let (_, v) = http_json(&push_url);
    assert_eq!(v["ret"], 0, "{v}");
    let samples = v["output"]["stat_info"].as_array().unwrap().clone();
    // The recording of the same push (its event 100 says it is complete), measured by FFprobe.
    let (_, ready) = sink
        .wait_for(Duration::from_secs(15), |v| {
            v["event_type"] == 100 && v["stream_id"] == "hist"
        })
        .unwrap_or_else(|| panic!("no recording event: {:?}", sink.events()));
    let file = ready["video_url"].as_str().unwrap().to_string();
    let probe = onair_testkit::peers::ffprobe(&file, false);
    let ffprobe_kbps = num(&probe["format"]["bit_rate"]) / 1000.0;
    println!(
        "{} samples over a {seconds} s push (20 s marks), FFprobe {ffprobe_kbps:.0} kbps:",
        samples.len()
    );
    for s in &samples {
        println!("  {s}");
    }
    // One per 20 s mark the push spanned: 66 s hold three or four marks, depending on where
    // the push began between two of them.
    assert!((3..=4).contains(&samples.len()), "{v}");
    for s in &samples {
        let kbps = s["speed"].as_f64().unwrap();
        assert!(
            (kbps - ffprobe_kbps).abs() <= 0.10 * ffprobe_kbps,
            "sample {s}: {kbps} kbps against FFprobe's {ffprobe_kbps:.0}"
        );
        assert_eq!(s["client_ip"], "127.0.0.1");
    }

    let (_, v) = http_json(&server.api_url(
        "Get_LivePlayStatHistory",
        &[
            ("Param.n.start_time", &began.to_string()),
            ("Param.n.end_time", &ended.to_string()),
        ],
    ));
    println!("play history: {}", v["output"]);
    let plays = v["output"]["stat_info"].as_array().unwrap();
    assert!(plays.iter().any(|s| s["online"] == 1), "{v}");
    let flux = v["output"]["sum_info"]["flux"].as_f64().unwrap();
    // The player got most of the push (it joined once the stream was live).
    assert!(flux > 0.5 * ffprobe_kbps * 40.0 / 8000.0, "{v}");

    let (_, v) = http_json(&server.api_url(
        "Get_LivePushStatHistory",
        &[
            ("Param.s.stream_id", "hist"),
            ("Param.n.start_time", "1000"),
            ("Param.n.end_time", "2000"),
        ],
    ));
    assert_eq!(
        (v["ret"].as_i64(), v["message"].as_str()),
        (Some(10003), Some("query data is empty"))
    );
}
