//! `cargo xtask ffi`: builds the C library in release and lays out `target/onair-ffi/` as an
//! install prefix: `lib/libonair.so`, `lib/libonair.a`, `include/onair.h`,
//! `include/liteav/*.hpp`, `lib/pkgconfig/onair.pc` (its `prefix` is that directory, so
//! `PKG_CONFIG_PATH=target/onair-ffi/lib/pkgconfig` works). `Libs.private` lists the system
//! libraries the static library needs, as rustc reports them. Installed libraries are stripped
//! of debug info.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Builds and installs; returns the prefix.
pub fn run(root: &Path) -> Result<std::path::PathBuf, String> {
    let cargo = crate::cargo_program();
    let args = [
        "rustc",
        "--release",
        "-p",
        "onair-ffi",
        "--lib",
        "--",
        "--print",
        "native-static-libs",
    ];
    println!("==> cargo {}", args.join(" "));
    let mut child = Command::new(&cargo)
        .args(args)
        .current_dir(root)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run {cargo}: {e}"))?;
    let mut native = String::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            if let Some(libs) = line.split("native-static-libs:").nth(1) {
                native = libs.trim().to_string();
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("building onair-ffi failed ({status})"));
    }
    let release = root.join("target/release");
    let prefix = root.join("target/onair-ffi");
    let _ = std::fs::remove_dir_all(&prefix);
    for d in ["lib/pkgconfig", "include/liteav"] {
        std::fs::create_dir_all(prefix.join(d)).map_err(|e| e.to_string())?;
    }
    let copy = |from: &Path, to: &Path| {
        std::fs::copy(from, to)
            .map(|_| ())
            .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
    };
    copy(
        &release.join("libonair_ffi.so"),
        &prefix.join("lib/libonair.so"),
    )?;
    copy(
        &release.join("libonair_ffi.a"),
        &prefix.join("lib/libonair.a"),
    )?;
    // The release profile keeps line tables for backtraces (121 MB .so); installed copies lose
    // them (16 MB). target/release keeps the unstripped ones for debugging.
    for lib in ["lib/libonair.so", "lib/libonair.a"] {
        let stripped = Command::new("strip")
            .arg("--strip-debug")
            .arg(prefix.join(lib))
            .status();
        if !stripped.is_ok_and(|s| s.success()) {
            println!("==> strip --strip-debug {lib} failed; installed with debug info");
        }
    }
    let ffi = root.join("crates/onair-ffi");
    copy(
        &ffi.join("include/onair.h"),
        &prefix.join("include/onair.h"),
    )?;
    for e in std::fs::read_dir(ffi.join("include/liteav")).map_err(|e| e.to_string())? {
        let path = e.map_err(|e| e.to_string())?.path();
        if let Some(name) = path.file_name() {
            copy(&path, &prefix.join("include/liteav").join(name))?;
        }
    }
    let abs = std::fs::canonicalize(&prefix).map_err(|e| e.to_string())?;
    let version = std::fs::read_to_string(root.join("Cargo.toml"))
        .ok()
        .and_then(|t| {
            t.lines().find(|l| l.starts_with("version = ")).map(|l| {
                l.trim_start_matches("version = ")
                    .trim_matches('"')
                    .to_string()
            })
        })
        .unwrap_or_else(|| "0.0.0".into());
    if native.is_empty() {
        native = "-lpthread -ldl -lm".into();
    }
    let pc = std::fs::read_to_string(ffi.join("onair.pc.in"))
        .map_err(|e| e.to_string())?
        .replace("@PREFIX@", &abs.display().to_string())
        .replace("@VERSION@", &version)
        .replace("@LIBS_PRIVATE@", &native);
    std::fs::write(prefix.join("lib/pkgconfig/onair.pc"), pc).map_err(|e| e.to_string())?;
    Ok(abs)
}
