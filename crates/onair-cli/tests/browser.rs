//! The web pages of `onair serve` in a real browser (Debian's Chromium, headless, driven by
//! playwright-core): the watch page plays an `onair push` test pattern over HTTP-FLV with
//! rising stamps read from its canvas pixels, low glass-to-glass latency and running audio;
//! the console lists an FFmpeg push with its screenshot, bans it (FFmpeg exits, a new push is
//! refused until unbanned), and with `--api-key` shows and does nothing without the key. Each
//! test writes its page's PNG under `assets/screens/` for the README.

use onair_testkit::browser::Browser;
use onair_testkit::peers::{onair_serve, wait_live_flv};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn onair() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_onair"))
}

fn screens() -> PathBuf {
    let dir = onair_testkit::workspace_root().join("assets/screens");
    std::fs::create_dir_all(&dir).expect("create assets/screens");
    dir
}

/// Kills the child on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[test]
fn watch_page_plays_the_test_pattern_with_low_latency_and_sound() {
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(
        onair(),
        dir.path(),
        &["--record", "none", "--screenshot-seconds", "0"],
    );
    let _push = Killed(
        Command::new(onair())
            .args(["push", &format!("rtmp://127.0.0.1:{}/live/web", serve.rtmp)])
            .args(["--preset", "640x360", "--fps", "30", "--seconds", "40"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start onair push"),
    );
    wait_live_flv(serve.http, "web", Duration::from_secs(15));

    let mut b = Browser::start();
    let url = format!("http://127.0.0.1:{}/watch/live/web", serve.http);
    assert_eq!(b.goto(&url).unwrap(), 200);
    b.until("window.onairStats && onairStats.stamps.length > 30", 15_000)
        .unwrap_or_else(|e| panic!("no stamped picture painted: {e}; page: {:?}", b.log()));
    let mode = b.eval("onairStats.mode").unwrap();
    assert_eq!(
        mode, "webcodecs",
        "Chromium has WebCodecs on a loopback page"
    );

    // Ten seconds of playback, measured from the page's own figures.
    let before: Value = b
        .eval("({...onairStats, stamps: onairStats.stamps.length})")
        .unwrap();
    let began = Instant::now();
    b.until("new Promise(r => setTimeout(() => r(true), 10000))", 15_000)
        .unwrap();
    let span = began.elapsed().as_secs_f64();
    let after: Value = b
        .eval("({...onairStats, stamps: onairStats.stamps.length})")
        .unwrap();
    let from = before["stamps"].as_u64().unwrap();
    let stamps: Vec<(u64, f64)> = b
        .eval(&format!(
            "onairStats.stamps.slice({from}).map(s => [s.counter, s.latencyMs])"
        ))
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_u64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    let first = stamps.first().unwrap().0;
    let last = stamps.last().unwrap().0;
    let mut counters: Vec<u64> = stamps.iter().map(|s| s.0).collect();
    counters.dedup();
    let rising = counters.windows(2).all(|w| w[1] > w[0]);
    let expected = (last - first + 1) as f64;
    let mut lat: Vec<f64> = stamps.iter().map(|s| s.1).collect();
    lat.sort_by(f64::total_cmp);
    let (p50, p95) = (quantile(&lat, 0.5), quantile(&lat, 0.95));
    let audio_s = after["audioTime"].as_f64().unwrap() - before["audioTime"].as_f64().unwrap();
    let audio_frames =
        after["audioScheduled"].as_u64().unwrap() - before["audioScheduled"].as_u64().unwrap();
    println!(
        "watch page over {span:.1} s: {} of {expected} frames painted (counters {first}..{last}), \
         latency p50 {p50:.0} ms p95 {p95:.0} ms, audio {audio_s:.1} s ({audio_frames} AAC frames \
         scheduled, {}), {} pictures dropped",
        counters.len(),
        after["audioState"],
        after["dropped"].as_u64().unwrap() - before["dropped"].as_u64().unwrap(),
    );
    assert!(rising, "stamps go back: {counters:?}");
    assert!(
        counters.len() as f64 >= 0.9 * expected && expected >= 0.9 * 30.0 * span,
        "{} of {expected} frames painted over {span:.1} s",
        counters.len()
    );
    assert!(
        p50 <= 300.0 && p95 <= 500.0,
        "latency p50 {p50} ms, p95 {p95} ms"
    );
    assert_eq!(after["audioState"], "running");
    assert!(
        audio_s >= 0.9 * span
            && audio_frames as f64 >= 0.9 * span * after["audioRate"].as_f64().unwrap() / 1024.0,
        "audio: {audio_s:.1} s of clock, {audio_frames} AAC frames scheduled over {span:.1} s"
    );
    b.screenshot(&screens().join("watch.png")).unwrap();
}
