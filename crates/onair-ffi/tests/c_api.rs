//! The C API from C and C++, judged by peers: the examples (`examples/c/push_custom.c`,
//! `examples/c/play_render.c`, `examples/cpp/liteav_push.cpp`) and `tests/c/lifecycle.c` are
//! built with the system compilers against an install prefix laid out like
//! `cargo xtask ffi`'s (this build's `libonair_ffi.so` as `lib/libonair.so`, the checked-in
//! headers, `onair.pc`), found through `pkg-config`. FFprobe reads what they push into the
//! embedded server, FFmpeg publishes what they play, valgrind watches their lifetimes.

use onair_testkit::peers::{
    embedded_server, ffmpeg_publish, ffprobe, num, probe_av, require, stream, wait_live_flv,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn repo() -> PathBuf {
    crate_dir().join("../..")
}

/// The C library of this build: cargo puts the cdylib next to the test binaries.
fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let lib = exe.with_file_name("libonair_ffi.so");
    assert!(
        lib.is_file(),
        "{} is missing: the onair-ffi cdylib is built with its tests",
        lib.display()
    );
    lib
}

/// An install prefix (lib/, include/, lib/pkgconfig/onair.pc) over this build's library.
fn prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("onair-ffi-prefix");
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(p.join("lib/pkgconfig")).unwrap();
        std::fs::create_dir_all(p.join("include/liteav")).unwrap();
        std::fs::copy(cdylib(), p.join("lib/libonair.so")).unwrap();
        std::fs::copy(
            crate_dir().join("include/onair.h"),
            p.join("include/onair.h"),
        )
        .unwrap();
        for e in std::fs::read_dir(crate_dir().join("include/liteav")).unwrap() {
            let e = e.unwrap().path();
            std::fs::copy(&e, p.join("include/liteav").join(e.file_name().unwrap())).unwrap();
        }
        let pc = std::fs::read_to_string(crate_dir().join("onair.pc.in"))
            .unwrap()
            .replace("@PREFIX@", p.to_str().unwrap())
            .replace("@VERSION@", env!("CARGO_PKG_VERSION"))
            .replace("@LIBS_PRIVATE@", "-lpthread -ldl -lm");
        std::fs::write(p.join("lib/pkgconfig/onair.pc"), pc).unwrap();
        p
    })
}

/// `pkg-config --cflags --libs onair` against the prefix.
fn pkg_config() -> Vec<String> {
    let out = Command::new(require("pkg-config"))
        .args(["--cflags", "--libs", "onair"])
        .env("PKG_CONFIG_PATH", prefix().join("lib/pkgconfig"))
        .output()
        .expect("run pkg-config");
    assert!(
        out.status.success(),
        "pkg-config: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Builds `source` (C, or C++ for `.cpp`) warning-free into the test's temp dir.
fn build(source: &str) -> PathBuf {
    let src = repo().join(source);
    let cpp = source.ends_with(".cpp");
    let out =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(Path::new(source).file_stem().unwrap());
    let mut cmd = Command::new(require(if cpp { "c++" } else { "cc" }));
    cmd.args(["-g", "-O1", "-Wall", "-Wextra", "-Werror"]);
    cmd.arg(if cpp { "-std=c++11" } else { "-std=gnu11" });
    cmd.arg(&src)
        .args(pkg_config())
        .args(["-lpthread", "-lm", "-o"])
        .arg(&out);
    let result = cmd.output().expect("run the compiler");
    assert!(
        result.status.success(),
        "{source} does not build warning-free: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

/// A built program, ready to run against the prefix's library.
fn program(binary: &Path) -> Command {
    let mut c = Command::new(binary);
    c.env("LD_LIBRARY_PATH", prefix().join("lib"));
    c
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

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
fn lifecycle_under_valgrind_has_no_errors_and_no_definite_leaks() {
    let bin = build("crates/onair-ffi/tests/c/lifecycle.c");
    let dir = tempfile::tempdir().unwrap();
    let server = embedded_server(dir.path());
    let live = format!("{}/live/vglive", server.rtmp_base());
    let _ffmpeg = ffmpeg_publish(&live, 600, "320x180", 25);
    wait_live_flv(server.http_addr().port(), "vglive", Duration::from_secs(20));
    let push = format!("{}/live/vgpush", server.rtmp_base());
    let supp = crate_dir().join("tests/c/valgrind.supp");
    let out = Command::new(require("valgrind"))
        .args([
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--error-exitcode=1",
            "--num-callers=30",
        ])
        .arg(format!("--suppressions={}", supp.display()))
        .arg(&bin)
        .args([push.as_str(), live.as_str(), "20"])
        .env("LD_LIBRARY_PATH", prefix().join("lib"))
        .output()
        .expect("run valgrind");
    let report = text(&out);
    assert!(
        out.status.success(),
        "valgrind found errors or leaks: {report}"
    );
    assert!(report.contains("lifecycle ok: 20 rounds"), "{report}");
    assert!(
        report.contains("ERROR SUMMARY: 0 errors"),
        "valgrind's summary: {report}"
    );
    server.stop();
}
