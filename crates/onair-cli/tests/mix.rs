//! Cloud mixing (`Mix_StreamV2`) end to end, judged by FFmpeg: two `onair push` pictures of
//! different colours into `onair serve`, mixed into a 1280x720 canvas with the second at
//! 320x180 in the bottom-right corner; FFmpeg decodes the mixed stream at 1280x720 and the
//! colours at both layers' centres are their inputs'. An input that drops shows the background
//! after its hold; cancelling ends the output stream. The output is a live stream like any
//! other: push callbacks, a screenshot, a recording FFprobe reads. Refusals carry Tencent's
//! codes.

use onair_testkit::http_probe::{http_get_head, http_json, http_post_json, CallbackSink};
use onair_testkit::peers::{
    ffprobe, onair_serve, require, stream, wait_live_flv, wait_until_live, Child,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const KEY: &str = "mixkey";
const RED: [u8; 3] = [200, 40, 40];
const BLUE: [u8; 3] = [40, 40, 200];
const GREEN: [u8; 3] = [40, 200, 40];

fn onair() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_onair"))
}

/// Writes a binary PPM (FFmpeg reads it as an image, like a PNG).
fn write_ppm(path: &Path, w: u32, h: u32, color_at: impl Fn(u32, u32) -> [u8; 3]) {
    let mut out = format!("P6\n{w} {h}\n255\n").into_bytes();
    for y in 0..h {
        for x in 0..w {
            out.extend_from_slice(&color_at(x, y));
        }
    }
    std::fs::write(path, out).unwrap();
}

/// `image:PATH` wants PNG or JPEG: FFmpeg converts the PPM.
fn picture(dir: &Path, name: &str, w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> PathBuf {
    let ppm = dir.join(format!("{name}.ppm"));
    write_ppm(&ppm, w, h, f);
    let png = dir.join(format!("{name}.png"));
    let ok = Command::new(require("ffmpeg"))
        .args(["-v", "error", "-y", "-i"])
        .arg(&ppm)
        .arg(&png)
        .status()
        .unwrap()
        .success();
    assert!(ok, "FFmpeg made no {name}.png");
    png
}

fn push(rtmp: u16, name: &str, png: &Path, preset: &str) -> Child {
    Child(
        Command::new(onair())
            .arg("push")
            .arg(format!("rtmp://127.0.0.1:{rtmp}/live/{name}"))
            .arg("--source")
            .arg(format!("image:{}", png.display()))
            .args(["--preset", preset, "--fps", "15"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start onair push"),
    )
}

fn signed_mix_url(http: u16) -> String {
    let t = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60)
        .to_string();
    let sign = onair_rtmp::sign::api_sign(KEY, &t);
    format!(
        "http://127.0.0.1:{http}/common_access?appid=1&interface=Mix_StreamV2&t={t}&sign={sign}"
    )
}

fn body(para: Value) -> Value {
    json!({"timestamp": 1, "eventId": 7,
           "interface": {"interfaceName": "Mix_StreamV2", "para": para}})
}

fn start_body(session: &str, output: &str, second: &str) -> Value {
    start_at(session, output, second, 960, 540)
}

/// A start (or an update of a running session) with the second input at `x`, `y`.
fn start_at(session: &str, output: &str, second: &str, x: u32, y: u32) -> Value {
    body(json!({
        "interface": "mix_streamv2.start_mix_stream_advanced",
        "app_id": 1,
        "mix_stream_template_id": 0,
        "mix_stream_session_id": session,
        "output_stream_id": output,
        "output_stream_type": 1,
        "input_stream_list": [
            {"input_stream_id": "red", "layout_params": {"image_layer": 1}},
            {"input_stream_id": second, "layout_params": {"image_layer": 2,
              "image_width": 320, "image_height": 180, "location_x": x, "location_y": y}},
        ]
    }))
}

fn cancel_body(session: &str, output: &str) -> Value {
    body(json!({
        "interface": "mix_streamv2.cancel_mix_stream",
        "mix_stream_session_id": session,
        "output_stream_id": output,
    }))
}

/// One picture of `url` decoded by FFmpeg, `skip` pictures in (past the start burst's GOP):
/// width, height and RGB bytes.
fn grab(url: &str, skip: u32, out: &Path) -> (u32, u32, Vec<u8>) {
    let st = Command::new(require("ffmpeg"))
        .args(["-v", "error", "-rw_timeout", "10000000", "-i", url])
        .args(["-vf", &format!("select=gte(n\\,{skip})"), "-frames:v", "1"])
        .args(["-f", "image2", "-c:v", "ppm", "-y"])
        .arg(out)
        .status()
        .expect("run ffmpeg");
    assert!(st.success(), "FFmpeg decoded no picture of {url}");
    let raw = std::fs::read(out).unwrap();
    // "P6\n<w> <h>\n255\n" then RGB.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while raw[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !raw[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&raw[start..at]).into_owned());
    }
    let (w, h) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, raw[at + 1..].to_vec())
}

fn rgb_at(pic: &(u32, u32, Vec<u8>), x: u32, y: u32) -> [u8; 3] {
    let i = ((y * pic.0 + x) * 3) as usize;
    [pic.2[i], pic.2[i + 1], pic.2[i + 2]]
}

fn near(got: [u8; 3], want: [u8; 3]) -> bool {
    got.iter()
        .zip(want)
        .all(|(&g, w)| (i16::from(g) - i16::from(w)).abs() <= 16)
}

#[test]
fn two_pushes_mix_into_a_corner_layout_and_cancel_ends_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let sink = CallbackSink::start();
    let serve = onair_serve(
        onair(),
        dir.path(),
        &[
            "--api-key",
            KEY,
            "--callback",
            &sink.url,
            "--record",
            "flv",
            "--screenshot-seconds",
            "2",
        ],
    );
    let red = picture(dir.path(), "red", 1280, 720, |_, _| RED);
    // The second picture's left quarter is green: seen scaled (not cropped) in the corner.
    let blue = picture(dir.path(), "blue", 640, 360, |x, _| {
        if x < 160 {
            GREEN
        } else {
            BLUE
        }
    });
    let _red_push = push(serve.rtmp, "red", &red, "1280x720");
    let mut blue_push = push(serve.rtmp, "blue", &blue, "640x360");
    // Live with their metadata read (the canvas takes its size from it): FFprobe opens them.
    for name in ["red", "blue"] {
        wait_live_flv(serve.http, name, Duration::from_secs(20));
        wait_until_live(
            &format!("http://127.0.0.1:{}/live/{name}.flv", serve.http),
            Duration::from_secs(20),
        );
    }
    let url = signed_mix_url(serve.http);

    // Refusals first: a bad sign, a missing input, a GET.
    let bad = url.replace("&sign=", "&sign=0");
    let (status, _) = http_post_json(&bad, &start_body("room", "mixed", "blue"));
    assert_eq!(status, 403, "a bad sign is refused");
    let (_, missing) = http_post_json(&url, &start_body("room", "mixed", "nosuch"));
    assert_eq!(missing["code"], -505, "{missing}");
    let (_, get) = http_json(&url);
    assert_eq!(get["code"], -1, "{get}");

    let (status, started) = http_post_json(&url, &start_body("room", "mixed", "blue"));
    assert_eq!((status, &started["code"]), (200, &json!(0)), "{started}");
    let (_, busy) = http_post_json(&url, &start_body("room2", "mixed", "blue"));
    assert_eq!(busy["code"], -300, "one output, one session: {busy}");
    wait_live_flv(serve.http, "mixed", Duration::from_secs(10));
    let flv = format!("http://127.0.0.1:{}/live/mixed.flv", serve.http);

    let probe = ffprobe(&flv, false);
    let v = stream(&probe, "video");
    assert_eq!(
        (&v["codec_name"], &v["width"], &v["height"]),
        (&json!("h264"), &json!(1280), &json!(720)),
        "{probe}"
    );
    let a = stream(&probe, "audio");
    assert_eq!(
        (&a["codec_name"], &a["sample_rate"], &a["channels"]),
        (&json!("aac"), &json!("48000"), &json!(2)),
        "{probe}"
    );

    let pic = grab(&flv, 60, &dir.path().join("mixed.ppm"));
    assert_eq!(
        (pic.0, pic.1),
        (1280, 720),
        "the canvas is the first layer's size"
    );
    let canvas_centre = rgb_at(&pic, 640, 360);
    let corner_centre = rgb_at(&pic, 1120, 630);
    let corner_left = rgb_at(&pic, 1000, 630);
    let left_of_corner = rgb_at(&pic, 940, 630);
    println!(
        "canvas centre {canvas_centre:?}, corner centre {corner_centre:?}, \
         corner's left quarter {corner_left:?}, left of the corner {left_of_corner:?}"
    );
    assert!(near(canvas_centre, RED), "canvas centre {canvas_centre:?}");
    assert!(near(corner_centre, BLUE), "corner centre {corner_centre:?}");
    assert!(near(corner_left, GREEN), "corner left {corner_left:?}");
    assert!(
        near(left_of_corner, RED),
        "left of the corner {left_of_corner:?}"
    );

    // The same session and output again: the layout changes in place, the output goes on.
    let (_, moved) = http_post_json(&url, &start_at("room", "mixed", "blue", 0, 0));
    assert_eq!(moved["code"], 0, "{moved}");
    let pic = grab(&flv, 60, &dir.path().join("moved.ppm"));
    let (top_left, old_corner) = (rgb_at(&pic, 160, 90), rgb_at(&pic, 1120, 630));
    println!("after the move: top-left centre {top_left:?}, old corner {old_corner:?}");
    assert!(near(top_left, BLUE) && near(old_corner, RED));

    // The corner input drops: after its hold the corner shows the background (black).
    let (_, back) = http_post_json(&url, &start_body("room", "mixed", "blue"));
    assert_eq!(back["code"], 0, "{back}");
    blue_push.kill();
    std::thread::sleep(Duration::from_millis(3500));
    let dropped = grab(&flv, 60, &dir.path().join("dropped.ppm"));
    let corner = rgb_at(&dropped, 1120, 630);
    println!("corner after its input dropped: {corner:?}");
    assert!(near(corner, [0, 0, 0]), "corner after the drop {corner:?}");
    assert!(near(rgb_at(&dropped, 640, 360), RED));

    // Cancelling ends the output: a reader's stream ends and the stream is gone.
    let reader = Child(
        Command::new(require("ffmpeg"))
            .args(["-v", "error", "-i", &flv, "-f", "null", "-"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_secs(1));
    let (_, unknown) = http_post_json(&url, &cancel_body("nosuch", "mixed"));
    assert_eq!(unknown["code"], -31001, "{unknown}");
    let (_, wrong) = http_post_json(&url, &cancel_body("room", "other"));
    assert_eq!(wrong["code"], -31003, "{wrong}");
    let (_, cancelled) = http_post_json(&url, &cancel_body("room", "mixed"));
    assert_eq!(cancelled["code"], 0, "{cancelled}");
    assert!(
        reader.exits_within(Duration::from_secs(10)).is_some(),
        "the reader's stream ended with the cancel"
    );
    let (status, _) = http_get_head(&flv).unwrap();
    assert_eq!(status, 404, "the output is no longer live");

    // Like any push: begin and end callbacks, screenshots, a recording.
    let of_mix = |ev: i64| move |v: &Value| v["event_type"] == ev && v["stream_id"] == "mixed";
    let limit = Duration::from_secs(15);
    for (ev, what) in [(1, "push begin"), (0, "push end"), (200, "screenshot")] {
        assert!(
            sink.wait_for(limit, of_mix(ev)).is_some(),
            "no {what} callback for the mix: {:?}",
            sink.events()
        );
    }
    let (_, rec) = sink
        .wait_for(limit, of_mix(100))
        .unwrap_or_else(|| panic!("no recording of the mix: {:?}", sink.events()));
    let file = rec["video_url"].as_str().unwrap().to_string();
    let recorded = ffprobe(&file, false);
    let rv = stream(&recorded, "video");
    assert_eq!(
        (&rv["width"], &rv["height"]),
        (&json!(1280), &json!(720)),
        "{recorded}"
    );
    println!("recording {file}: {} s", rec["duration"]);
}
