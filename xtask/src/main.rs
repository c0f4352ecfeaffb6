//! `cargo xtask`: the project's one entry point (see README "Two commands").
//!
//! - `cargo xtask demo`  installs what is missing, then runs the main job (`onair demo`).
//! - `cargo xtask test`  installs what is missing, then fmt, clippy and the whole test suite;
//!   `cargo xtask test --interop` runs only the interop suites (real peers), after setup.
//! - `cargo xtask setup` only installs (Debian/Ubuntu packages through apt, npm peers).
//! - `cargo xtask bench` runs every comparative bench and rewrites `benches/RESULTS.md`.
//! - `cargo xtask ffi`   builds the C library in release into `target/onair-ffi/` (see `ffi`).
//!
//! Set `ONAIR_SKIP_SETUP=1` to skip the install step (e.g. on a non-Debian machine where the
//! packages were installed by hand).

mod ffi;
mod setup;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs `cargo` with `args` in the workspace root; `Err` names the failing step.
fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("==> cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
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
        cargo(INTEROP)?;
        println!(
            "==> interop suites passed in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    // Plain `cargo test` (not `--all-targets`): it builds the examples as the binaries the
    // suites run and runs the doc tests, in the same invocation; the benches are compiled by
    // clippy above and run by `cargo xtask bench`.
    let started = std::time::Instant::now();
    cargo(&["test", "--workspace"])?;
    println!(
        "==> build and tests passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    // The fuzz targets are their own workspace (cargo-fuzz layout); keep them compiling.
    cargo(&[
        "check",
        "--manifest-path",
        "fuzz/Cargo.toml",
        "--target-dir",
        "target",
    ])?;
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
