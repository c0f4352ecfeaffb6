//! Tape tasks (`Live_Tape_Start` / `Live_Tape_Stop`) against FFmpeg pushes and FFprobe: under
//! automatic recording a tape task writes its own file beside the automatic one, and a task
//! scheduled in the future records from its start time to its end time.

use onair_server::{LiveServer, RecordFormat, ServerConfig};
use onair_testkit::http_probe::{http_json, CallbackSink};
use onair_testkit::peers::{ffmpeg_publish, ffprobe, num, wait_live_flv};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn start(dir: &std::path::Path, record: RecordFormat) -> (LiveServer, CallbackSink) {
    let sink = CallbackSink::start();
    let mut c = ServerConfig::new(dir);
    c.rtmp_addr = "127.0.0.1:0".into();
    c.http_addr = "127.0.0.1:0".into();
    c.record = record.into();
    c.screenshot_interval = None;
    c.callback_url = Some(sink.url.clone());
    (LiveServer::start(c).expect("server starts"), sink)
}

/// The event 100 of `stream` whose file name starts with `prefix_` (and is not a tape file
/// unless `prefix` says so).
fn recording(sink: &CallbackSink, prefix: &str, limit: Duration) -> Value {
    let pat = format!("/{prefix}_");
    let tape = prefix.ends_with("_tape");
    sink.wait_for(limit, |v| {
        v["event_type"] == 100
            && v["video_url"]
                .as_str()
                .is_some_and(|u| u.contains(&pat) && (tape || !u.contains("_tape_")))
    })
    .unwrap_or_else(|| panic!("no recording {prefix}_*: {:?}", sink.events()))
    .1
}

#[test]
fn a_tape_task_under_automatic_recording_writes_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let (server, sink) = start(dir.path(), RecordFormat::Flv);
    let push = ffmpeg_publish(
        &format!("rtmp://{}/live/both", server.rtmp_addr()),
        30,
        "320x240",
        8,
    );
    wait_live_flv(server.http_addr().port(), "both", Duration::from_secs(15));
    let (_, task) =
        http_json(&server.api_url("Live_Tape_Start", &[("Param.s.channel_id", "both")]));
    assert_eq!(task["ret"], 0, "{task}");
    let id = task["output"]["task_id"].as_str().unwrap().to_string();
    // Four seconds of tape (a recording's length, not a wait for an event).
    std::thread::sleep(Duration::from_secs(4));
    let (_, stop) = http_json(&server.api_url(
        "Live_Tape_Stop",
        &[("Param.s.channel_id", "both"), ("Param.n.task_id", &id)],
    ));
    assert_eq!(stop["ret"], 0, "{stop}");
    let tape = recording(&sink, "both_tape", Duration::from_secs(10));
    // The push goes on for two more seconds: the automatic file holds them, the tape does not.
    std::thread::sleep(Duration::from_secs(2));
    drop(push);
    let auto = recording(&sink, "both", Duration::from_secs(15));
    let (tape_s, auto_s) = (num(&tape["duration"]), num(&auto["duration"]));
    println!(
        "tape file {} ({tape_s:.1} s), automatic file {} ({auto_s:.1} s)",
        tape["video_url"], auto["video_url"]
    );
    assert!((2.5..=6.0).contains(&tape_s), "{tape}");
    assert!(
        auto_s > tape_s + 1.0,
        "the automatic recording covers the push: {auto}"
    );
    for file in [&tape, &auto] {
        let probe = ffprobe(file["video_url"].as_str().unwrap(), false);
        let d = num(&probe["format"]["duration"]);
        assert!(
            (d - num(&file["duration"])).abs() < 1.0,
            "{file}: FFprobe says {d} s"
        );
    }
}

#[test]
fn a_scheduled_tape_task_records_from_its_start_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let (server, sink) = start(dir.path(), RecordFormat::None);
    let _push = ffmpeg_publish(
        &format!("rtmp://{}/live/sched", server.rtmp_addr()),
        30,
        "320x240",
        8,
    );
    wait_live_flv(server.http_addr().port(), "sched", Duration::from_secs(15));
    let from = unix_now() + 3;
    let to = from + 4;
    let (_, task) = http_json(&server.api_url(
        "Live_Tape_Start",
        &[
            ("Param.s.channel_id", "sched"),
            ("Param.n.start_time", &from.to_string()),
            ("Param.n.end_time", &to.to_string()),
        ],
    ));
    assert_eq!(task["ret"], 0, "{task}");
    let rec = recording(&sink, "sched", Duration::from_secs(20));
    let start = rec["start_time"].as_i64().unwrap();
    let end = rec["end_time"].as_i64().unwrap();
    println!(
        "scheduled {from}..{to}: recorded {start}..{end}, {} s",
        rec["duration"]
    );
    // It starts at the first keyframe after the task's start (GOP 8 frames) and ends at its end.
    assert!(start >= from && start <= from + 2, "{rec}");
    assert!(end >= to && end <= to + 2, "{rec}");
    assert!((2.0..=5.5).contains(&num(&rec["duration"])), "{rec}");
}
