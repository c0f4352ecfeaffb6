//! `cargo xtask`: the project's one entry point (see README "Two commands").
//!
//! - `cargo xtask demo`  installs what is missing, then runs the main job (`onair demo`).
//! - `cargo xtask test`  installs what is missing, then fmt, one build with clippy's lints on
//!   (`clippy_build_env`) and the whole test suite;
//!   `cargo xtask test --interop` runs only the interop suites (real peers), after setup.
//! - `cargo xtask setup` only installs (Debian/Ubuntu packages through apt, npm peers).
//! - `cargo xtask bench` runs every comparative bench and rewrites `benches/RESULTS.md`.
//! - `cargo xtask ffi`   builds the C library in release into `target/onair-ffi/` (see `ffi`).
//!
//! Set `ONAIR_SKIP_SETUP=1` to skip the install step (e.g. on a non-Debian machine where the
//! packages were installed by hand).

mod ffi;
mod setup;
mod suite;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo that runs xtask (`CARGO`), else the one on `PATH`.
fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Runs `cargo` with `args` in the workspace root; `Err` names the failing step.
fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_with(args, &[])
}

/// [`cargo`] with extra environment variables.
fn cargo_with(args: &[&str], env: &[(&str, String)]) -> Result<(), String> {
    let cargo = crate::cargo_program();
    println!("==> cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// The environment that makes the test build itself run clippy on the workspace's crates
/// (`cargo clippy` does the same through `RUSTC_WORKSPACE_WRAPPER`): one build gives the
/// lints and the test binaries, where a separate `cargo clippy` would first check all ~600
/// dependencies again (6 min on two cores). Lints fail the build (`-D warnings`).
fn clippy_build_env() -> Result<Vec<(&'static str, String)>, String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("could not run {rustc}: {e}"))?;
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let driver = Path::new(&sysroot).join("bin").join("clippy-driver");
    if !driver.is_file() {
        return Err(format!(
            "clippy is not installed ({} is missing): `rustup component add clippy`",
            driver.display()
        ));
    }
    Ok(vec![
        ("RUSTC_WORKSPACE_WRAPPER", driver.display().to_string()),
        // clippy-driver's own argument list, as `cargo clippy -- -D warnings` passes it.
        (
            "CLIPPY_ARGS",
            "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__".into(),
        ),
    ])
}

fn run_setup() -> Result<(), String> {
    if std::env::var_os("ONAIR_SKIP_SETUP").is_some_and(|v| v == "1") {
        println!("==> setup skipped (ONAIR_SKIP_SETUP=1)");
        return Ok(());
    }
    setup::install_missing(&workspace_root())
}

/// The interop suites: the root package's `tests/` and the CLI's (`crates/onair-cli/tests`).
/// One `cargo test` builds them with the examples and the `onair` binary they run.
const INTEROP: &[&str] = &["test", "-p", "onair-suite", "-p", "onair-cli"];

fn test(args: &[String]) -> Result<(), String> {
    run_setup()?;
    if args.iter().any(|a| a == "--interop") {
        let started = std::time::Instant::now();
        // The same environment as the full run's build, so its artifacts are reused.
        cargo_with(INTEROP, &clippy_build_env().unwrap_or_default())?;
        println!(
            "==> interop suites passed in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    cargo(&["fmt", "--all", "--check"])?;
    // One build for clippy and the tests, with clippy's lints on our crates; then the test
    // binaries, several at a time, with the benches' build and the fuzz targets' check beside
    // them (`suite`); then the doc tests with the same environment, so nothing is built again.
    // xtask itself is no test target: clippy checks it alone (its only dependency is serde_json).
    cargo(&["clippy", "-p", "xtask", "--", "-D", "warnings"])?;
    let lints = clippy_build_env()?;
    suite::build_and_run(&workspace_root(), &lints)?;
    let started = std::time::Instant::now();
    cargo_with(&["test", "--workspace", "--doc"], &lints)?;
    println!(
        "==> doc tests passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn demo(extra: &[String]) -> Result<(), String> {
    run_setup()?;
    let mut args = vec![
        "run",
        "--release",
        "--quiet",
        "-p",
        "onair-cli",
        "--",
        "demo",
    ];
    args.extend(extra.iter().map(String::as_str).filter(|a| *a != "--"));
    cargo(&args)
}

/// The comparative benches (package, bench), each rewriting its section of
/// `benches/RESULTS.md`; those that run the `onair` binary live in the CLI's package.
const BENCHES: &[(&str, &str)] = &[
    ("onair-suite", "frame_channel"),
    ("onair-suite", "convert"),
    ("onair-suite", "encode"),
    ("onair-cli", "push_vs_ffmpeg"),
    ("onair-cli", "play_vs_ffmpeg"),
    ("onair-cli", "server_fanout"),
    ("onair-cli", "server_load"),
    ("onair-cli", "screen_capture"),
    ("onair-suite", "render_view"),
    ("onair-suite", "process_hook"),
    ("onair-suite", "rtmp_parse"),
    ("onair-cli", "soak"),
];

fn bench() -> Result<(), String> {
    run_setup()?;
    // The render_view bench runs the `watch` example.
    cargo(&["build", "--release", "-p", "onair-suite", "--examples"])?;
    for (package, bench) in BENCHES {
        cargo(&["bench", "-p", package, "--bench", bench])?;
    }
    cargo(&[
        "run",
        "--quiet",
        "-p",
        "onair-testkit",
        "--bin",
        "quote_results",
    ])?;
    println!("==> results in benches/RESULTS.md, quoted in README.md");
    Ok(())
}

const HELP: &str = "\
cargo xtask <command>

commands:
  demo    install what is missing, then run the main job (onair demo)
  test    install what is missing, then cargo fmt --check, clippy -D warnings and all tests
          (--interop: only the interop suites against real peers)
  setup   install what is missing (apt packages, npm peers) and nothing else
  bench   run every comparative bench and rewrite benches/RESULTS.md
  ffi     build libonair.so / libonair.a in release and lay out target/onair-ffi/ (lib,
          include, lib/pkgconfig/onair.pc): PKG_CONFIG_PATH=target/onair-ffi/lib/pkgconfig

environment:
  ONAIR_SKIP_SETUP=1   skip the install step";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("demo") => demo(&args[1..]),
        Some("setup") => run_setup(),
        Some("bench") => bench(),
        Some("ffi") => run_setup()
            .and_then(|()| ffi::run(&workspace_root()))
            .map(|prefix| {
                println!(
                    "==> C library in {0}\n    PKG_CONFIG_PATH={0}/lib/pkgconfig \
                 cc app.c $(pkg-config --cflags --libs onair)",
                    prefix.display()
                );
            }),
        Some("help" | "-h" | "--help") | None => {
            println!("{HELP}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask: {msg}");
            ExitCode::FAILURE
        }
    }
}
