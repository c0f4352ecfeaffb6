//! The `onair` command line, run as the binary cargo built for these tests
//! (`CARGO_BIN_EXE_onair`): push, play, serve and sign against real peers, their output files
//! and their exit codes (0 ok, 1 the session never connected or ended in an error, 2 bad
//! arguments), whatever `--seconds` says.

use onair::*;
use onair_testkit::http_probe::http_json;
use onair_testkit::peers::{ffprobe, num, onair_serve, stream, DeadPort, Nginx};
use onair_testkit::peers::{probe_av as probe, watch_rtmp as watch};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const API_KEY: &str = "5d41402abc4b2a76b9719d911017c592";
const PUSH_KEY: &str = "e12c46f2612d5106e2034781ab261ca3";

/// The binary under test, built by this same cargo invocation.
fn onair() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_onair"))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// onair's pusher (test pattern) into `url`.
fn pusher(url: &str, preset: VideoResolution, fps: u32) -> V2TXLivePusher {
    let p = V2TXLivePusher::new();
    p.set_video_quality(
        VideoEncoderParam::new(preset, ResolutionMode::Landscape, fps, 0, 0).unwrap(),
    )
    .unwrap();
    p.start_push(url).unwrap();
    p
}

#[test]
fn a_push_or_play_that_never_connects_exits_1_whatever_seconds_says() {
    // A port this test owns where nothing listens: connections are refused.
    let dead = DeadPort::new();
    let url = format!("rtmp://127.0.0.1:{}/live/none", dead.port());
    let push = Command::new(onair())
        .args(["push", &url, "--seconds", "2", "--preset", "320x240"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&push.stderr);
    assert_eq!(push.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("never connected"), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let play = Command::new(onair())
        .args(["play", &url, "--seconds", "2", "--last-frame"])
        .arg(dir.path().join("none.png"))
        .output()
        .unwrap();
    assert_eq!(
        play.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&play.stderr)
    );
}

#[test]
fn onair_push_720p30_is_what_ffprobe_sees() {
    let nginx = Nginx::start();
    let url = nginx.url("cli720");
    let onair = onair();
    let mut child = onair_testkit::peers::Child(
        Command::new(&onair)
            .args([
                "push",
                &url,
                "--preset",
                "1280x720",
                "--fps",
                "30",
                "--seconds",
                "14",
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let probe_url = url.clone();
    let probe = std::thread::spawn(move || ffprobe(&probe_url, false));
    let (kbps, frames, _) = watch(&url, 8);
    let probe = probe.join().unwrap();
    let v = stream(&probe, "video");
    assert_eq!(
        (
            v["codec_name"].as_str(),
            v["width"].as_u64(),
            v["height"].as_u64()
        ),
        (Some("h264"), Some(1280), Some(720))
    );
    assert_eq!(v["r_frame_rate"], "30/1");
    let a = stream(&probe, "audio");
    assert_eq!(
        (a["codec_name"].as_str(), num(&a["sample_rate"]) as u32),
        (Some("aac"), 48_000)
    );
    println!("onair push: {kbps:.0} kbps video over {frames} frames");
    assert!(
        (1000.0..=1800.0 * 1.1).contains(&kbps),
        "video bitrate {kbps:.0} kbps outside the 1280x720 range 1000-1800"
    );
    let status = child.0.wait().unwrap();
    assert!(status.success(), "onair push exited with {status}");
}

#[test]
fn onair_play_cli_writes_frames_png_and_a_json_summary() {
    let nginx = Nginx::start();
    let url = nginx.url("cli");
    let _push = pusher(&url, VideoResolution::R320x180, 25);
    let onair = onair();
    let dir = tempfile::tempdir().unwrap();
    let (frames, json, last) = (
        dir.path().join("frames"),
        dir.path().join("summary.json"),
        dir.path().join("last.png"),
    );
    let out = std::process::Command::new(&onair)
        .args([
            "play",
            &url,
            "--seconds",
            "5",
            "--cache",
            "speed",
            "--frames-dir",
        ])
        .arg(&frames)
        .arg("--stats-json")
        .arg(&json)
        .arg("--last-frame")
        .arg(&last)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("glass-to-glass latency"), "{stdout}");
    assert!(stderr.contains("fps |"), "no statistics line: {stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let n = summary["frames"].as_u64().unwrap();
    assert!(n >= 40, "{summary}");
    assert_eq!(summary["width"], 320);
    assert_eq!(summary["counter"]["out_of_order"], 0);
    assert!(
        summary["counter"]["missing"].as_u64().unwrap() * 20 <= n,
        "{summary}"
    );
    let p50 = summary["latency"]["p50_ms"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 < 1000.0, "{summary}");
    assert!(summary["first_frame_ms"].as_f64().is_some());
    let written = std::fs::read_dir(&frames).unwrap().count() as u64;
    assert_eq!(written, n);
    let img = image::open(&last).unwrap();
    assert_eq!((img.width(), img.height()), (320, 180));

    // Bad arguments exit 2 with a message; an unplayable URL exits 1.
    let bad = std::process::Command::new(&onair)
        .args(["play", "ftp://x/live/s", "--seconds", "1"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("INVALID_PARAMETER"));
    let dead_port = DeadPort::new();
    let dead = std::process::Command::new(&onair)
        .args([
            "play",
            &format!("rtmp://127.0.0.1:{}/live/s", dead_port.port()),
        ])
        .args(["--seconds", "20", "--last-frame"])
        .arg(dir.path().join("none.png"))
        .output()
        .unwrap();
    assert_eq!(
        dead.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&dead.stderr)
    );
}

/// `onair play --switch-to`: an RTMP stream, then after 2 s an HTTP-FLV stream of another
/// size (`switch_stream`): one switch reported with code 0, the last picture is the second
/// stream's, and every picture carries a readable stamp (none black).
#[test]
fn onair_play_switch_to_ends_on_the_second_stream() {
    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(dir.path());
    let valid = Duration::from_secs(600);
    let _a = pusher(
        &server.push_url("live", "cli-a", valid),
        VideoResolution::R320x180,
        25,
    );
    let _b = pusher(
        &server.push_url("live", "cli-b", valid),
        VideoResolution::R640x360,
        25,
    );
    let http = server.http_addr().port();
    for name in ["cli-a", "cli-b"] {
        onair_testkit::peers::wait_live_flv(http, name, Duration::from_secs(20));
    }
    let (json, last) = (dir.path().join("summary.json"), dir.path().join("last.png"));
    let out = Command::new(onair())
        .args(["play", &format!("{}/live/cli-a", server.rtmp_base())])
        .args([
            "--switch-to",
            &format!("{}/live/cli-b.flv", server.http_base()),
        ])
        .args(["--switch-after", "2", "--seconds", "5", "--stats-json"])
        .arg(&json)
        .arg("--last-frame")
        .arg(&last)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("switched 0: http://"), "{stderr}");
    assert!(stderr.contains("video 640x360"), "{stderr}");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(summary["switches"], 1, "{summary}");
    assert_eq!(summary["width"], 640, "{summary}");
    assert_eq!(
        summary["frames"], summary["latency"]["samples"],
        "{summary}"
    );
    let img = image::open(&last).unwrap();
    assert_eq!((img.width(), img.height()), (640, 360));
}

/// `onair sign --usersig` against Tencent's reference, PyPI `tls-sig-api-v2`, both ways: the
/// package recomputes the signature of onair's UserSig from its fields (the package has no
/// verifier of its own: its signing function is the judge), and a UserSig the package minted
/// verifies with `onair sign --usersig --verify`; a wrong key, user or a tampered sig do not.
#[test]
fn usersig_agrees_with_tls_sig_api_v2_both_ways() {
    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    let sign = |extra: &[&str]| {
        Command::new(onair())
            .args([
                "sign",
                "--usersig",
                "--sdkappid",
                "1400000000",
                "--key",
                KEY,
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = sign(&["--user", "xiaojun", "--expire", "86400"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .to_string();
    // The package judges ours: decode it as Tencent documents, re-sign the same fields.
    let judged = onair_testkit::peers::tls_sig_api_v2(
        r#"
import base64, json, sys, zlib, TLSSigAPIv2
sig, key = sys.argv[1], sys.argv[2]
raw = sig.replace('*', '+').replace('-', '/').replace('_', '=')
doc = json.loads(zlib.decompress(base64.b64decode(raw)))
api = TLSSigAPIv2.TLSSigAPIv2(doc['TLS.sdkappid'], key)
again = api._TLSSigAPIv2__hmacsha256(doc['TLS.identifier'], doc['TLS.time'], doc['TLS.expire'])
print(json.dumps({'same': bytes.decode(again) == doc['TLS.sig'], 'doc': doc}))
"#,
        &[&ours, KEY],
    );
    let judged: Value = serde_json::from_str(judged.trim()).unwrap();
    assert_eq!(judged["same"], true, "{judged}");
    assert_eq!(judged["doc"]["TLS.identifier"], "xiaojun");
    assert_eq!(judged["doc"]["TLS.sdkappid"], 1_400_000_000u64);
    assert_eq!(judged["doc"]["TLS.expire"], 86_400);
    assert_eq!(judged["doc"]["TLS.ver"], "2.0");
    // The package's own UserSig, checked by onair.
    let theirs = onair_testkit::peers::tls_sig_api_v2(
        "import sys, TLSSigAPIv2\nprint(TLSSigAPIv2.TLSSigAPIv2(1400000000, sys.argv[1]).gen_sig('xiaojun', 3600))",
        &[KEY],
    );
    let theirs = theirs.trim();
    let ok = sign(&["--user", "xiaojun", "--verify", theirs]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("valid: user xiaojun of 1400000000"));
    let wrong_user = sign(&["--user", "someone", "--verify", theirs]);
    assert_eq!(wrong_user.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong_user.stderr).contains("TLS.identifier"));
    let wrong_key = Command::new(onair())
        .args([
            "sign",
            "--usersig",
            "--sdkappid",
            "1400000000",
            "--key",
            "other",
        ])
        .args(["--user", "xiaojun", "--verify", theirs])
        .output()
        .unwrap();
    assert_eq!(wrong_key.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong_key.stderr).contains("signature does not match"));
    let mut tampered = theirs.to_string();
    tampered.insert(10, 'A');
    assert_eq!(
        sign(&["--user", "xiaojun", "--verify", &tampered])
            .status
            .code(),
        Some(1)
    );
    // Without what it needs: a usage error.
    assert_eq!(sign(&[]).status.code(), Some(2));
}

#[test]
fn onair_serve_sign_push_and_play_commands() {
    let onair = onair();
    let dir = tempfile::tempdir().unwrap();
    let mut serve = onair_serve(
        &onair,
        dir.path(),
        &[
            "--push-key",
            PUSH_KEY,
            "--api-key",
            API_KEY,
            "--record",
            "flv",
            "--segment-minutes",
            "1",
        ],
    );
    let (rtmp, http) = (serve.rtmp, serve.http);
    let sign = std::process::Command::new(&onair)
        .args([
            "sign",
            "--stream",
            "cli",
            "--key",
            PUSH_KEY,
            "--rtmp",
            &format!("rtmp://127.0.0.1:{rtmp}"),
            "--json",
        ])
        .output()
        .unwrap();
    assert!(sign.status.success());
    let urls: Value = serde_json::from_slice(&sign.stdout).unwrap();
    let push_url = urls["push_url"].as_str().unwrap();
    assert!(
        push_url.contains("txSecret=") && push_url.contains("txTime="),
        "{urls}"
    );
    let mut push = std::process::Command::new(&onair)
        .args(["push", push_url, "--preset", "640x360", "--seconds", "8"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // HTTP-FLV needs a live stream: wait until the server reports the push (readiness).
    let live = (0..150).any(|_| {
        let t = (now() + 60).to_string();
        let url = format!(
            "http://127.0.0.1:{http}/common_access?interface=Get_LivePushStat&Param.s.stream_id=cli&t={t}&sign={}",
            onair_rtmp::sign::api_sign(API_KEY, &t)
        );
        let ready = http_json(&url).1["ret"] == 0;
        if !ready {
            std::thread::sleep(Duration::from_millis(100));
        }
        ready
    });
    assert!(live, "onair push never went live");
    let play = std::process::Command::new(&onair)
        .args([
            "play",
            &format!("http://127.0.0.1:{http}/live/cli.flv"),
            "--seconds",
            "4",
            "--json",
            "--last-frame",
        ])
        .arg(dir.path().join("last.png"))
        .output()
        .unwrap();
    assert!(
        play.status.success(),
        "{}",
        String::from_utf8_lossy(&play.stderr)
    );
    let summary: Value = serde_json::from_slice(&play.stdout).unwrap();
    assert!(num(&summary["frames"]) > 30.0, "{summary}");
    assert!(push.wait().unwrap().success());
    // An unsigned push is refused: exit 1.
    let refused = std::process::Command::new(&onair)
        .args([
            "push",
            &format!("rtmp://127.0.0.1:{rtmp}/live/cli"),
            "--seconds",
            "3",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    // Ctrl-C stops the server cleanly, recording finalised.
    let _ = std::process::Command::new("kill")
        .args(["-INT", &serve.child.0.id().to_string()])
        .status();
    assert!(serve.child.0.wait().unwrap().success());
    let files: Vec<_> = std::fs::read_dir(dir.path().join("record"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let (v, _, _, d) = probe(files[0].path().to_str().unwrap());
    assert_eq!(v, "h264");
    assert!(d > 5.0, "recorded {d:.1} s of an 8 s push");
}

#[test]
fn onair_push_source_camera_without_a_camera_warns_and_pushes_the_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(dir.path());
    let out = Command::new(onair())
        .args([
            "push",
            &server.push_url("live", "clicam", Duration::from_secs(600)),
        ])
        .args(["--source", "camera", "--seconds", "3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "onair push exits 0: {stderr}");
    assert!(stderr.contains("WARNING_CAMERA_START_FAILED"), "{stderr}");
    assert!(stderr.contains("test pattern instead"), "{stderr}");
    // What onair says is all the user reads: openh264's own start-up warning stays out.
    assert!(!stderr.contains("[OpenH264]"), "{stderr}");
    server.stop();
}

/// The onair binary's dynamic section as `readelf -d` prints it (its needed libraries).
fn dynamic_section() -> String {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(onair())
        .output()
        .expect("readelf (binutils) runs: apt-get install binutils");
    assert!(out.status.success(), "readelf failed");
    let dynamic = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dynamic.contains("(NEEDED)") && dynamic.contains("libc.so"),
        "readelf listed no needed libraries: {dynamic}"
    );
    dynamic
}

/// A push or play process never maps libavformat (and the ~40 libraries it pulls in): the
/// server's muxers load it when they are first used (`onair_codec::muxer`). On x86-64 Linux
/// the rest of FFmpeg (libavcodec and its ~110 libraries, libavutil, libswscale,
/// libswresample) is not linked either: it loads on the first FFmpeg call
/// (`onair_codec::ffmpeg_lazy`), so a pusher on openh264 and FDK AAC never maps it. The
/// dynamic section is read by binutils' `readelf`, not by onair.
#[test]
fn the_binary_does_not_link_libavformat_the_muxers_load_it_when_used() {
    let dynamic = dynamic_section();
    let ffmpeg: &[&str] = if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        &[
            "libavformat",
            "libavcodec",
            "libavutil",
            "libswscale",
            "libswresample",
        ]
    } else {
        &["libavformat"]
    };
    for lib in ffmpeg {
        assert!(
            !dynamic.contains(lib),
            "the onair binary links {lib} at start (a new FFmpeg function missing from \
             crates/onair-codec/ffmpeg-functions.txt?):\n{dynamic}"
        );
    }
    let name = onair_codec::muxer::library_name();
    assert!(name.starts_with("libavformat.so."), "{name}");
}

/// ALSA, libpulse and PipeWire (and the ~30 libraries they need) are loaded by the first
/// microphone, loopback, speaker or Wayland capture, not at start: `onair serve` or a screen
/// push carries none of them, and the binary starts where they are not installed.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[test]
fn the_binary_does_not_link_the_audio_system_libraries() {
    let dynamic = dynamic_section();
    for lib in ["libasound", "libpulse", "libpipewire"] {
        assert!(
            !dynamic.contains(lib),
            "the onair binary links {lib} at start (a new function missing from \
             crates/onair-capture/audio-functions.txt?):\n{dynamic}"
        );
    }
}

/// The memory the lazy FFmpeg saves is real: a push of the pattern with sound (openh264, FDK
/// AAC) reaches its first statistics line, encoders open and packets on the wire, without
/// FFmpeg or its dependencies mapped (read from the kernel's `/proc/PID/maps`).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[test]
fn a_push_of_h264_and_aac_never_maps_ffmpeg() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(dir.path());
    let mut push = Command::new(onair())
        .args([
            "push",
            &server.push_url("live", "nolibav", Duration::from_secs(600)),
        ])
        .args(["--audio", "default", "--seconds", "4"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(push.stderr.take().unwrap());
    let mut seen = Vec::new();
    let mut maps = None;
    for line in stderr.lines().map_while(Result::ok) {
        if maps.is_none() && line.contains(" fps | video ") && line.contains("audio") {
            maps = Some(std::fs::read_to_string(format!("/proc/{}/maps", push.id())).unwrap());
        }
        seen.push(line);
    }
    assert!(push.wait().unwrap().success(), "{seen:#?}");
    let maps = maps.unwrap_or_else(|| panic!("no statistics line: {seen:#?}"));
    assert!(maps.contains("libc.so"), "{maps}");
    for lib in [
        "libavcodec",
        "libavutil",
        "libswscale",
        "libswresample",
        "libavformat",
    ] {
        assert!(!maps.contains(lib), "the push mapped {lib}:\n{maps}");
    }
    server.stop();
}
