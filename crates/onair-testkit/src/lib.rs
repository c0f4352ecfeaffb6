//! # onair-testkit
//!
//! Test support for the workspace's interop suites (`tests/`, `crates/onair-cli/tests/`) and
//! comparative benches (`benches/`, `crates/onair-cli/benches/`); a dev-dependency only, never
//! part of the engine.
//!
//! - [`peers`]: the real tools and servers tests talk to (nginx-rtmp, node-media-server,
//!   FFmpeg 5.1 and 9, ffprobe, `onair serve`), each on loopback and stopped on drop.
//! - [`impair`]: the userspace link impairment proxy of the fault suite (latency and jitter,
//!   stalls, bandwidth caps, resets); [`throttle`]: the simpler rate-only proxy.
//! - [`desktop`]: PulseAudio null sinks and Xvfb displays; [`x11_window`]: a test window on
//!   one (stamped pattern or colour bars) that can be moved and destroyed.
//! - [`captures`]: the recorded RTMP conversations of `tests/captures/rtmp/`.
//! - [`live_source`]: real encoded FLV tags for transport tests; [`http_probe`]: a minimal HTTP
//!   client and callback sink.
//! - [`results`]: writes `benches/RESULTS.md`, which the README quotes.

use std::path::{Path, PathBuf};

pub mod browser;
pub mod captures;
pub mod desktop;
pub mod http_probe;
pub mod impair;
pub mod live_source;
pub mod peers;
pub mod results;
pub mod throttle;
pub mod wayland;
pub mod x11_app;
pub mod x11_window;

/// The workspace root (where `README.md`, `tests/` and `benches/` live).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The README's Rust snippets, compiled (and the runnable ones run) as doc tests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// Every file under `dir` (recursively) whose name ends in `.ext`: recordings and screenshots
/// that a server wrote somewhere in its data directory.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out
}
