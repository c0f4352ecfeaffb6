//! The C API from C and C++, judged by peers: the examples (`examples/c/push_custom.c`,
//! `examples/c/play_render.c`, `examples/c/play_window.c` under Xvfb,
//! `examples/cpp/liteav_push.cpp`) and `tests/c/lifecycle.c` are
//! built with the system compilers against an install prefix laid out like
//! `cargo xtask ffi`'s (this build's `libonair_ffi.so` as `lib/libonair.so`, the checked-in
//! headers, `onair.pc`), found through `pkg-config`. FFprobe reads what they push into the
//! embedded server, FFmpeg publishes what they play (`tests/valgrind.rs` watches lifetimes).

mod common;

use common::{build, program, text};
use onair_testkit::peers::{
    embedded_server, ffmpeg_publish, ffprobe, num, probe_av, stream, wait_live_flv,
};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

/// Runs a pushing program for `seconds` while FFprobe reads the stream over HTTP-FLV:
/// (ffprobe's video stream, the program's output).
fn push_and_probe(binary: &Path, name: &str, seconds: u32) -> (serde_json::Value, Output) {
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(dir.path());
    let url = format!("{}/live/{name}", server.rtmp_base());
    let child = program(binary)
        .args([url.as_str(), &seconds.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the pusher");
    wait_live_flv(server.http_addr().port(), name, Duration::from_secs(20));
    let flv = format!("{}/live/{name}.flv", server.http_base());
    let (vcodec, width, acodec, _) = probe_av(&flv);
    let probe = ffprobe(&flv, false);
    let video = stream(&probe, "video").clone();
    let out = child.wait_with_output().unwrap();
    assert_eq!(vcodec, "h264", "{}", text(&out));
    assert_eq!(acodec, "aac", "{}", text(&out));
    assert_eq!(width, 640.0);
    server.stop();
    (video, out)
}

#[test]
fn push_custom_c_example_is_read_by_ffprobe_at_the_requested_size() {
    let bin = build("examples/c/push_custom.c");
    let (video, out) = push_and_probe(&bin, "cpush", 6);
    assert_eq!(num(&video["height"]), 360.0, "{video}");
    assert!(out.status.success(), "push_custom failed: {}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("status 2:"),
        "no ConnectSuccess: {}",
        text(&out)
    );
}

#[test]
fn liteav_cpp_example_compiles_with_werror_and_pushes_what_ffprobe_reads() {
    let bin = build("examples/cpp/liteav_push.cpp");
    let (video, out) = push_and_probe(&bin, "cpppush", 6);
    assert_eq!(num(&video["height"]), 360.0, "{video}");
    assert!(out.status.success(), "liteav_push failed: {}", text(&out));
}

#[test]
fn play_render_c_example_counts_the_frames_of_a_ten_second_stream() {
    let c_player = build("examples/c/play_render.c");
    let cpp_player = build("crates/onair-ffi/tests/c/liteav_play.cpp");
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(dir.path());
    let url = format!("{}/live/cplay", server.rtmp_base());
    // 10 s at 25 fps, one GOP: a player that joins late still gets every frame from the
    // server's GOP cache.
    let _ffmpeg = ffmpeg_publish(&url, 10, "320x240", 250);
    wait_live_flv(server.http_addr().port(), "cplay", Duration::from_secs(20));
    let flv = format!("{}/live/cplay.flv", server.http_base());
    let cpp = program(&cpp_player)
        .args([flv.as_str(), "13"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = program(&c_player)
        .args([url.as_str(), "13"])
        .output()
        .unwrap();
    let cpp = cpp.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let frames: u32 = last
        .strip_prefix("frames ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("last line is not `frames N`: {}", text(&out)));
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout.contains("resolution 320x240"), "{}", text(&out));
    assert!(
        (238..=250).contains(&frames),
        "rendered {frames} of 250 frames (>= 95% expected): {}",
        text(&out)
    );
    let cpp_out = String::from_utf8_lossy(&cpp.stdout);
    assert!(cpp.status.success(), "liteav_play: {}", text(&cpp));
    let cpp_frames: u32 = cpp_out
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("frames "))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        cpp_frames >= 238,
        "the C++ player rendered {cpp_frames}: {}",
        text(&cpp)
    );
    println!("rendered of 250: C over RTMP {frames}, C++ over HTTP-FLV {cpp_frames}");
    server.stop();
}

#[test]
fn play_window_c_example_draws_the_stream_into_its_x11_window() {
    let binary = common::build_with("examples/c/play_window.c", &["-lX11"]);
    let xvfb = onair_testkit::desktop::Xvfb::start(800, 700);
    let desk = onair_testkit::x11_app::Desk::connect(xvfb.display());
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(dir.path());
    let url = format!("{}/live/cwindow", server.rtmp_base());
    let _ffmpeg = ffmpeg_publish(&url, 20, "320x240", 50);
    wait_live_flv(
        server.http_addr().port(),
        "cwindow",
        Duration::from_secs(20),
    );
    let flv = format!("{}/live/cwindow.flv", server.http_base());
    let child = program(&binary)
        .args([flv.as_str(), "8"])
        .env("DISPLAY", xvfb.display())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    desk.wait_window("onair c window", Duration::from_secs(20));
    // 4:3 letterboxed in 640x640: 640x480 at y = 80, black above and below.
    let level = |shot: &[[u8; 3]], y: usize| {
        shot[y * 640..(y + 1) * 640]
            .iter()
            .map(|p| p.iter().map(|&c| f64::from(c)).sum::<f64>() / 3.0)
            .sum::<f64>()
            / 640.0
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let shot = loop {
        let shot = desk.grab(0, 0, 640, 640);
        if level(&shot, 320) > 30.0 || std::time::Instant::now() > deadline {
            break shot;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    assert!(
        level(&shot, 320) > 30.0,
        "no picture in the window: {}",
        text(&out)
    );
    for y in [2, 70, 570, 637] {
        assert!(
            level(&shot, y) < 8.0,
            "row {y} is not a black bar: {}",
            text(&out)
        );
    }
    assert!(out.status.success(), "play_window failed: {}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("view alive 1"),
        "{}",
        text(&out)
    );
    server.stop();
}
