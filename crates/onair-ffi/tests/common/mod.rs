//! Shared by the C API suites: an install prefix over this build's `libonair_ffi.so` (laid
//! out like `cargo xtask ffi`'s), and builds of C and C++ sources against it through
//! `pkg-config`, warning-free.
#![allow(dead_code)]

use onair_testkit::peers::require;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn repo() -> PathBuf {
    crate_dir().join("../..")
}

/// The C library of this build: cargo puts the cdylib next to the test binaries.
pub fn cdylib() -> PathBuf {
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
pub fn prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        // One prefix per test binary, so suites running at once do not share one.
        let exe = std::env::current_exe().expect("test binary path");
        let suite = exe.file_stem().and_then(|s| s.to_str()).unwrap_or("suite");
        let p =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("onair-ffi-prefix-{suite}"));
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
pub fn pkg_config() -> Vec<String> {
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
pub fn build(source: &str) -> PathBuf {
    build_with(source, &[])
}

/// [`build`] linking `libs` too (e.g. `-lX11`).
pub fn build_with(source: &str, libs: &[&str]) -> PathBuf {
    let src = repo().join(source);
    let cpp = source.ends_with(".cpp");
    let out =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(Path::new(source).file_stem().unwrap());
    let mut cmd = Command::new(require(if cpp { "c++" } else { "cc" }));
    cmd.args(["-g", "-O1", "-Wall", "-Wextra", "-Werror"]);
    cmd.arg(if cpp { "-std=c++11" } else { "-std=gnu11" });
    cmd.arg(&src)
        .args(pkg_config())
        .args(libs)
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
pub fn program(binary: &Path) -> Command {
    let mut c = Command::new(binary);
    c.env("LD_LIBRARY_PATH", prefix().join("lib"));
    c
}

pub fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
