//! The test suite's runner: builds every test binary once (with clippy's lints, see
//! `clippy_build_env`), then runs the binaries several at a time, where `cargo test` runs
//! one after the other.
//!
//! Why: most of our suites wait on real time (a 4 s push, a reconnect back-off, a resume
//! timeout) and use a fraction of a core (measured per binary: 0.02 to 0.5 of a core for all but
//! a few), so one binary at a time left this 2-core machine idle for most of the 12 minutes
//! the tests took. The few binaries that load the cores (encoders against real-time
//! deadlines, valgrind, x265) are listed in [`SOLO`] and run with nothing else beside them.
//!
//! Each binary runs as `cargo test` would run it: in its package's directory, with
//! `CARGO_MANIFEST_DIR` set and `target/debug/deps` on `LD_LIBRARY_PATH`, with the harness's own
//! threads. Its output goes to `target/xtask-tests/<package>-<target>.log` and is printed
//! whole when it fails. The doc tests run after the binaries, through cargo.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Binaries run at the same time (each runs up to two tests at once, its harness's default).
const LANES: usize = 3;

/// Test targets that load the cores and run alone: `(package, target)`.
const SOLO: &[(&str, &str)] = &[
    ("onair-cli", "push_hevc"),
    ("onair-cli", "screen_capture"),
    ("onair-cli", "encoders"),
    ("onair-codec", "codec_quality"),
    ("onair-ffi", "valgrind"),
    ("onair-suite", "media_interop"),
];

/// The longest binaries (about 30-70 s each here), started first so that none is left
/// running alone at the end.
const LONG_FIRST: &[&str] = &[
    "server_history",
    "pusher",
    "faults",
    "hls",
    "server",
    "render_view",
    "player",
    "browser",
    "examples",
    "cli",
    "rtmp_throttle",
    "c_api",
];

/// One test binary of the build.
#[derive(Debug, Clone)]
struct TestBinary {
    package: String,
    target: String,
    executable: PathBuf,
    package_dir: PathBuf,
}

impl TestBinary {
    fn label(&self) -> String {
        format!("{} {}", self.package, self.target)
    }

    fn solo(&self) -> bool {
        SOLO.iter()
            .any(|(p, t)| *p == self.package && *t == self.target)
    }

    fn rank(&self) -> usize {
        if self.solo() {
            return 0;
        }
        LONG_FIRST
            .iter()
            .position(|t| *t == self.target)
            .map_or(LONG_FIRST.len() + 1, |i| i + 1)
    }
}

/// The test binaries among cargo's JSON messages: artifacts built as tests (the harness's
/// `--test`) with an executable; benches left out.
fn parse_artifacts(json_lines: &str) -> Vec<TestBinary> {
    let mut binaries = Vec::new();
    for line in json_lines.lines() {
        let Ok(m) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if m["reason"] != "compiler-artifact" || m["profile"]["test"] != true {
            continue;
        }
        let kinds = m["target"]["kind"].as_array().cloned().unwrap_or_default();
        if kinds.iter().any(|k| k == "bench") {
            continue;
        }
        let (Some(exe), Some(manifest), Some(target)) = (
            m["executable"].as_str(),
            m["manifest_path"].as_str(),
            m["target"]["name"].as_str(),
        ) else {
            continue;
        };
        let package_dir = Path::new(manifest)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let package = package_name(&m["package_id"], &package_dir);
        binaries.push(TestBinary {
            package,
            target: target.to_string(),
            executable: PathBuf::from(exe),
            package_dir,
        });
    }
    binaries
}

/// The package's name from its id (`path+file:///…/crates/onair-cli#0.1.0` or the older
/// `onair-cli 0.1.0 (path+file://…)`), else its directory's name.
fn package_name(id: &Value, dir: &Path) -> String {
    let id = id.as_str().unwrap_or_default();
    if let Some((_, rest)) = id.split_once('#') {
        // `…/onair-suite#0.1.0` names the directory; `…#name@0.1.0` names the package.
        if let Some((name, _)) = rest.split_once('@') {
            return name.to_string();
        }
    } else if let Some((name, _)) = id.split_once(' ') {
        return name.to_string();
    }
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What one binary's run gave.
struct Outcome {
    index: usize,
    passed: bool,
    took: Duration,
    summary: String,
}

/// Builds the benches and the tests (one build, clippy's lints on through `env`), then runs
/// every test binary, [`LANES`] at a time; `Err` names the step or the binaries that failed.
pub fn build_and_run(root: &Path, env: &[(&str, String)]) -> Result<(), String> {
    let started = Instant::now();
    // The benches in the test profile: they share the tests' dependencies, so this checks
    // that they compile (and lints them) for little; `cargo xtask bench` runs them.
    cargo_output(root, &["test", "--workspace", "--benches", "--no-run"], env)?;
    // `cargo test`'s own selection: the tests, and the examples and binaries the suites run
    // built as programs (`--all-targets` would build the examples as tests instead).
    let out = cargo_output(
        root,
        &[
            "test",
            "--workspace",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ],
        env,
    )?;
    let mut binaries = parse_artifacts(&out);
    if binaries.is_empty() {
        return Err("the build made no test binary".into());
    }
    println!(
        "==> clippy (-D warnings) and the test build passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    binaries.sort_by_key(TestBinary::rank);
    let started = Instant::now();
    run(root, &binaries)?;
    println!(
        "==> {} test binaries passed in {:.0} s",
        binaries.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs cargo with `args` and `env` in `root`, its progress and diagnostics on the terminal;
/// returns what it printed on stdout.
fn cargo_output(root: &Path, args: &[&str], env: &[(&str, String)]) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("==> cargo {} (clippy's lints on)", args.join(" "));
    let out = Command::new(&cargo)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo {}` failed ({})",
            args.join(" "),
            out.status
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `binaries` in order, up to [`LANES`] at once, a solo one with nothing beside it.
fn run(root: &Path, binaries: &[TestBinary]) -> Result<(), String> {
    let logs = root.join("target").join("xtask-tests");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let deps = root.join("target").join("debug");
    let library_path = std::env::join_paths(
        [deps.join("deps"), deps.clone()].into_iter().chain(
            std::env::var_os("LD_LIBRARY_PATH")
                .iter()
                .flat_map(std::env::split_paths),
        ),
    )
    .map_err(|e| e.to_string())?;
    let (done_tx, done_rx) = mpsc::channel::<Outcome>();
    let mut next = 0;
    let mut running = 0;
    let mut solo_running = false;
    let mut failed = Vec::new();
    let total = binaries.len();
    while next < total || running > 0 {
        // Start what may start now.
        while next < total && !solo_running {
            let b = &binaries[next];
            let room = if b.solo() {
                running == 0
            } else {
                running < LANES
            };
            if !room {
                break;
            }
            let log = logs.join(format!("{}-{}.log", b.package, b.target));
            let file =
                std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
            let err = file.try_clone().map_err(|e| e.to_string())?;
            let mut cmd = Command::new(&b.executable);
            cmd.current_dir(&b.package_dir)
                .env("CARGO_MANIFEST_DIR", &b.package_dir)
                .env("LD_LIBRARY_PATH", &library_path)
                .stdin(Stdio::null())
                .stdout(file)
                .stderr(err);
            let index = next;
            let tx = done_tx.clone();
            let label = b.label();
            println!(
                "==> [{}/{total}] {label}{}",
                index + 1,
                if b.solo() { " (alone)" } else { "" }
            );
            let t0 = Instant::now();
            std::thread::spawn(move || {
                let status = cmd.status();
                let passed = status.as_ref().is_ok_and(|s| s.success());
                let summary = match status {
                    Ok(s) => s.to_string(),
                    Err(e) => format!("could not start: {e}"),
                };
                let _ = tx.send(Outcome {
                    index,
                    passed,
                    took: t0.elapsed(),
                    summary,
                });
            });
            solo_running = b.solo();
            running += 1;
            next += 1;
        }
        let Ok(o) = done_rx.recv() else {
            break;
        };
        running -= 1;
        let b = &binaries[o.index];
        if b.solo() {
            solo_running = false;
        }
        let log = logs.join(format!("{}-{}.log", b.package, b.target));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let result = text
            .lines()
            .rev()
            .find(|l| l.starts_with("test result:"))
            .unwrap_or("")
            .to_string();
        if o.passed {
            println!(
                "    ok   {} in {:.1} s: {result}",
                b.label(),
                o.took.as_secs_f64()
            );
        } else {
            println!("{text}");
            println!(
                "    FAILED {} in {:.1} s ({}): {result}; its output is above and in {}",
                b.label(),
                o.took.as_secs_f64(),
                o.summary,
                log.display()
            );
            failed.push(b.label());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("test binaries failed: {}", failed.join(", ")))
    }
}
