//! Cloud mixing with FFmpeg's pushes as inputs (x264 high profile with B-frames, AAC 44.1 kHz
//! stereo): a colour canvas with both streams side by side; FFmpeg reads the mixed stream at
//! the canvas size, sees the canvas colour where no input is drawn and hears the mixed tones;
//! banning a mix's output ends that mix; stopping the server with a mix running ends it
//! cleanly, its recording finalised.

use onair_server::{LiveServer, RecordFormat, ServerConfig};
use onair_testkit::http_probe::{http_get_head, http_json, http_post_json, CallbackSink};
use onair_testkit::peers::{ffmpeg_publish, ffprobe, require, stream, wait_live_flv};
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

fn mix_body(para: Value) -> Value {
    json!({"timestamp": 1, "eventId": 1,
           "interface": {"interfaceName": "Mix_StreamV2", "para": para}})
}

#[test]
fn ffmpeg_inputs_on_a_colour_canvas_and_a_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let sink = CallbackSink::start();
    let mut c = ServerConfig::new(dir.path());
    c.rtmp_addr = "127.0.0.1:0".into();
    c.http_addr = "127.0.0.1:0".into();
    c.record = RecordFormat::Flv.into();
    c.screenshot_interval = None;
    c.callback_url = Some(sink.url.clone());
    let server = LiveServer::start(c).expect("server starts");
    let rtmp = server.rtmp_addr();
    let _left = ffmpeg_publish(&format!("rtmp://{rtmp}/live/left"), 60, "320x240", 25);
    let _right = ffmpeg_publish(&format!("rtmp://{rtmp}/live/right"), 60, "320x240", 25);
    let http = server.http_addr().port();
    wait_live_flv(http, "left", Duration::from_secs(15));
    wait_live_flv(http, "right", Duration::from_secs(15));

    let api = format!(
        "{}/common_access?interface=Mix_StreamV2",
        server.http_base()
    );
    let (_, r) = http_post_json(
        &api,
        &mix_body(json!({
            "interface": "mix_streamv2.start_mix_stream_advanced",
            "mix_stream_session_id": "pk",
            "output_stream_id": "pk_out",
            "output_stream_type": 1,
            "output_stream_frame_rate": 20,
            "output_stream_bit_rate": 800,
            "input_stream_list": [
                {"input_stream_id": "canvas1", "layout_params": {"image_layer": 1,
                  "input_type": 3, "image_width": 640, "image_height": 360, "color": "0x00C000"}},
                {"input_stream_id": "left", "layout_params": {"image_layer": 2,
                  "location_x": 0, "location_y": 60}},
                {"input_stream_id": "right", "layout_params": {"image_layer": 3,
                  "location_x": 0.5, "location_y": 60}},
            ]
        })),
    );
    assert_eq!(r["code"], 0, "{r}");
    wait_live_flv(http, "pk_out", Duration::from_secs(10));
    let flv = format!("{}/live/pk_out.flv", server.http_base());
    let probe = ffprobe(&flv, false);
    let v = stream(&probe, "video");
    assert_eq!(
        (&v["width"], &v["height"]),
        (&json!(640), &json!(360)),
        "{probe}"
    );
    assert_eq!(v["r_frame_rate"], "20/1", "{probe}");

    // A strip of canvas above the inputs (y < 60), and the volume of 3 s of sound.
    let out = Command::new(require("ffmpeg"))
        .args([
            "-v",
            "info",
            "-rw_timeout",
            "10000000",
            "-t",
            "3",
            "-i",
            &flv,
        ])
        .args(["-map", "0:a", "-af", "volumedetect", "-f", "null", "-"])
        .args([
            "-map",
            "0:v",
            "-vf",
            "crop=640:40:0:10,scale=1:1:flags=area",
        ])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("run ffmpeg");
    let log = String::from_utf8_lossy(&out.stderr);
    let mean_db: f64 = log
        .lines()
        .find_map(|l| l.split("mean_volume:").nth(1))
        .and_then(|s| s.trim().trim_end_matches("dB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no volume measured: {log}"));
    let last = out.stdout.rchunks(3).next().expect("no picture decoded");
    println!("canvas strip {last:?}, mixed sound mean {mean_db} dB");
    assert!(
        last[0] < 40 && last[1] > 150 && last[2] < 40,
        "the canvas colour where no input is drawn: {last:?}"
    );
    assert!(mean_db > -40.0, "the inputs' tones are heard: {mean_db} dB");

    // A second session; banning its output ends it (the first goes on).
    let (_, r2) = http_post_json(
        &api,
        &mix_body(json!({
            "interface": "mix_streamv2.start_mix_stream_advanced",
            "mix_stream_session_id": "second",
            "output_stream_id": "pk2",
            "input_stream_list": [
                {"input_stream_id": "right", "layout_params": {"image_layer": 1}},
                {"input_stream_id": "left", "layout_params": {"image_layer": 2,
                  "image_width": 0.5, "image_height": 0.5}},
            ]
        })),
    );
    assert_eq!(r2["code"], 0, "{r2}");
    wait_live_flv(http, "pk2", Duration::from_secs(10));
    let (_, ban) = http_json(&server.api_url(
        "Live_Channel_SetStatus",
        &[("Param.s.channel_id", "pk2"), ("Param.n.status", "0")],
    ));
    assert_eq!(ban["ret"], 0, "{ban}");
    assert!(
        sink.wait_for(Duration::from_secs(10), |v| {
            v["event_type"] == 0 && v["stream_id"] == "pk2"
        })
        .is_some(),
        "the banned mix ended: {:?}",
        sink.events()
    );
    let (status, _) = http_get_head(&format!("{}/live/pk2.flv", server.http_base())).unwrap();
    assert_eq!(status, 404);

    let t = Instant::now();
    server.stop();
    let stop = t.elapsed();
    println!("server stopped with a mix running in {stop:?}");
    assert!(stop < Duration::from_secs(10), "{stop:?}");
    let (_, rec) = sink
        .wait_for(Duration::from_secs(10), |v| {
            v["event_type"] == 100 && v["stream_id"] == "pk_out"
        })
        .unwrap_or_else(|| panic!("the mix's recording was not finalised: {:?}", sink.events()));
    assert!(rec["duration"].as_f64().unwrap_or(0.0) >= 1.0, "{rec}");
}
