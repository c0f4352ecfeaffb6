//! Real peers for the interop tests: finding the tools (ffmpeg, ffprobe, flvmeta...) with a
//! clear "how to install" failure when one is missing, running them, and reading ffprobe's JSON.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The path of `tool` on PATH; panics with the install command when it is missing (a test that
/// needs a peer fails loudly, it never passes silently).
pub fn require(tool: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "the test peer `{tool}` is not installed: run `cargo xtask setup` \
             (Debian: sudo apt-get install {})",
            debian_package(tool)
        )
    })
}

fn debian_package(tool: &str) -> &str {
    match tool {
        "ffprobe" | "ffmpeg" => "ffmpeg",
        "nginx" => "nginx libnginx-mod-rtmp",
        "node" => "nodejs",
        other => other,
    }
}

/// Runs `tool args`; panics with its stderr when it fails.
pub fn run(tool: &str, args: &[&str]) -> Output {
    let out = Command::new(require(tool))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {} failed ({}):\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `ffprobe -show_streams -show_format` (and packets when asked) of `input`, as JSON.
pub fn ffprobe(input: &str, packets: bool) -> Value {
    let mut args = vec![
        "-v",
        "error",
        "-of",
        "json",
        "-show_streams",
        "-show_format",
    ];
    if packets {
        args.push("-show_packets");
    }
    args.push(input);
    let out = run("ffprobe", &args);
    serde_json::from_slice(&out.stdout).expect("ffprobe prints JSON")
}

/// The first stream of `codec_type` ("video" or "audio") in ffprobe's JSON.
pub fn stream<'a>(probe: &'a Value, codec_type: &str) -> &'a Value {
    probe["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == codec_type))
        .unwrap_or_else(|| panic!("no {codec_type} stream in {probe}"))
}

/// A number ffprobe printed as a string or a number.
pub fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => s.parse().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

/// The directory holding this build's examples (`target/<profile>/examples`), from the
/// running test binary's path (`target/<profile>/deps/<test>`).
pub fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(Path::parent)
        .map(|p| p.join("examples"))
        .expect("target/<profile>/examples")
}

/// The path of example `name`, built first with this test build's profile (a no-op when it
/// is up to date, e.g. after `cargo test --all-targets`).
pub fn example(name: &str) -> PathBuf {
    let dir = examples_dir();
    let release = dir
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|p| p == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", "onair-suite", "--example", name]);
    if release {
        cmd.arg("--release");
    }
    let status = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building example {name} failed");
    let p = dir.join(name);
    assert!(p.is_file(), "example {name} is not at {}", p.display());
    p
}
