//! Cloud mixing with FFmpeg's pushes as inputs (x264 high profile with B-frames, AAC 44.1 kHz
//! stereo): a colour canvas with both streams side by side; FFmpeg reads the mixed stream at
//! the canvas size, sees the canvas colour where no input is drawn and hears both inputs' tones
//! (440 Hz and 1 kHz);
//! banning a mix's output ends that mix; stopping the server with a mix running ends it
//! cleanly, its recording finalised.

use onair_server::{LiveServer, RecordFormat, ServerConfig};
use onair_testkit::http_probe::{http_get_head, http_json, http_post_json, CallbackSink};
use onair_testkit::peers::{
    decode_audio_mono, ffmpeg_publish_tone, ffprobe, require, stream, tone_share, wait_live_flv,
    wait_until_live,
};
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
    // Different tones, so that the mix's sound shows both (two equal tones may cancel).
    let _left = ffmpeg_publish_tone(&format!("rtmp://{rtmp}/live/left"), 60, "320x240", 25, 440);
    let _right = ffmpeg_publish_tone(
        &format!("rtmp://{rtmp}/live/right"),
        60,
        "320x240",
        25,
        1000,
    );
    let http = server.http_addr().port();
    // Live with their metadata read (the mix takes their sizes from it): FFprobe opens them.
    for name in ["left", "right"] {
        wait_live_flv(http, name, Duration::from_secs(15));
        wait_until_live(
            &format!("{}/live/{name}.flv", server.http_base()),
            Duration::from_secs(15),
        );
    }

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

    // A strip of canvas above the inputs (y < 60).
    let out = Command::new(require("ffmpeg"))
        .args([
            "-v",
            "error",
            "-rw_timeout",
            "10000000",
            "-t",
            "2",
            "-i",
            &flv,
        ])
        .args([
            "-map",
            "0:v",
            "-vf",
            "crop=640:40:0:10,scale=1:1:flags=area",
        ])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("run ffmpeg");
    let last = out.stdout.rchunks(3).next().expect("no picture decoded");
    assert!(
        last[0] < 40 && last[1] > 150 && last[2] < 40,
        "the canvas colour where no input is drawn: {last:?}"
    );
    // Both inputs' tones in the mixed sound.
    let pcm = decode_audio_mono(&flv, 4);
    let tail = &pcm[pcm.len() / 4..];
    let (s440, s1k) = (tone_share(tail, 440.0), tone_share(tail, 1000.0));
    println!("canvas strip {last:?}; mixed sound: 440 Hz {s440:.3}, 1 kHz {s1k:.3} of the power");
    assert!(
        s440 > 0.1 && s1k > 0.1,
        "both inputs are heard: {s440:.3} {s1k:.3}"
    );

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
