//! `tests/c/lifecycle.c` under valgrind: 20 rounds of creating, starting, stopping and
//! releasing a pusher and a player, then one of each releasing itself from its own callback;
//! no memory error and no definite leak (its own test binary, so valgrind's CPU load does not
//! slow the real-time suites of `c_api.rs`).

mod common;

use common::{build, crate_dir, prefix, text};
use onair_testkit::peers::{embedded_server, ffmpeg_publish, require, wait_live_flv};
use std::process::Command;
use std::time::Duration;

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
