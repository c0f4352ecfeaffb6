//! The web pages of `onair serve` in a real browser (Debian's Chromium, headless, driven by
//! playwright-core): the watch page plays an `onair push` test pattern over HTTP-FLV with
//! rising stamps read from its canvas pixels, low glass-to-glass latency and running audio;
//! the console lists an FFmpeg push with its screenshot, bans it (FFmpeg exits, a new push is
//! refused until unbanned), and with `--api-key` shows and does nothing without the key. Each
//! test writes its page's PNG under `assets/screens/` for the README.

use onair_testkit::browser::Browser;
use onair_testkit::peers::{ffmpeg_publish, onair_serve, wait_live_flv, Child as PeerChild};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn onair() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_onair"))
}

fn screens() -> PathBuf {
    let dir = onair_testkit::workspace_root().join("assets/screens");
    std::fs::create_dir_all(&dir).expect("create assets/screens");
    dir
}

/// `onair push` of the stamped test pattern, 640x360 30 fps, to `live/<name>` for `seconds`.
fn onair_push(rtmp: u16, name: &str, seconds: u32) -> PeerChild {
    PeerChild(
        Command::new(onair())
            .args(["push", &format!("rtmp://127.0.0.1:{rtmp}/live/{name}")])
            .args([
                "--preset",
                "640x360",
                "--fps",
                "30",
                "--seconds",
                &seconds.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start onair push"),
    )
}

/// The page's painted stamps `onairStats.stamps.slice(<from>)`: (frame counter, latency ms).
fn painted_stamps(b: &mut Browser, from: &str) -> Vec<(u64, f64)> {
    b.eval(&format!(
        "onairStats.stamps.slice({from}).map(s => [s.counter, s.latencyMs])"
    ))
    .unwrap()
    .as_array()
    .unwrap()
    .iter()
    .map(|p| (p[0].as_u64().unwrap(), p[1].as_f64().unwrap()))
    .collect()
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
    let _push = onair_push(serve.rtmp, "web", 40);
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
    let stamps = painted_stamps(&mut b, &from.to_string());
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

/// FFmpeg pushing a 320x240 test source with AAC in real time for up to a minute.
fn ffmpeg_push(url: &str) -> PeerChild {
    ffmpeg_publish(url, 60, "320x240", 25)
}

/// The row of `channel` in the console with `status` (idle, live, banned).
fn row(channel: &str, status: &str) -> String {
    format!("document.querySelector('tr[data-channel=\"{channel}\"][data-status=\"{status}\"]')")
}

#[test]
fn console_lists_an_ffmpeg_push_with_its_screenshot_and_bans_it() {
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(
        onair(),
        dir.path(),
        &[
            "--record",
            "none",
            "--screenshot-seconds",
            "2",
            "--console-admin",
        ],
    );
    let url = format!("rtmp://127.0.0.1:{}/live/cons", serve.rtmp);
    let mut b = Browser::start();
    assert_eq!(
        b.goto(&format!("http://127.0.0.1:{}/", serve.http))
            .unwrap(),
        200
    );
    b.until(
        "document.getElementById('notice').textContent.startsWith('No channel')",
        5_000,
    )
    .unwrap();

    let started = Instant::now();
    let ffmpeg = ffmpeg_push(&url);
    b.until(&row("cons", "live"), 10_000)
        .unwrap_or_else(|e| panic!("the console never listed the push: {e}; {:?}", b.log()));
    let listed = started.elapsed();
    b.until(
        "document.querySelector('tr[data-channel=\"cons\"] img.shot')?.naturalWidth > 0",
        15_000,
    )
    .unwrap_or_else(|e| panic!("no screenshot shown: {e}"));
    let shown = started.elapsed();
    let cells: Value = b
        .eval("[...document.querySelectorAll('tr[data-channel=\"cons\"] td')].map(td => td.textContent)")
        .unwrap();
    println!("console: listed {listed:?} after FFmpeg's start, screenshot at {shown:?}: {cells}");
    assert!(
        listed <= Duration::from_secs(2),
        "listed {listed:?} after the push started"
    );
    let text = cells.to_string();
    assert!(
        text.contains("127.0.0.1") && text.contains("320x240"),
        "{text}"
    );

    // Recording on demand: record, stop, and the file is listed with a link that serves it.
    b.click("tr[data-channel=\"cons\"] button[data-action=\"record\"]")
        .unwrap();
    b.until("document.querySelector('tr[data-channel=\"cons\"] button[data-action=\"stop recording\"]')", 5_000)
        .unwrap();
    b.until("new Promise(r => setTimeout(() => r(true), 3000))", 5_000)
        .unwrap();
    b.click("tr[data-channel=\"cons\"] button[data-action=\"stop recording\"]")
        .unwrap();
    let link = b
        .until(
            "document.querySelector('tr[data-channel=\"cons\"] a[href^=\"/record/\"]')?.href",
            15_000,
        )
        .unwrap_or_else(|e| panic!("the recording is not listed: {e}"));
    let link = link.as_str().unwrap().to_string();
    let probe = onair_testkit::peers::ffprobe(&link, false);
    let duration = onair_testkit::peers::num(&probe["format"]["duration"]);
    println!("recording {link}: {duration:.1} s");
    assert!(duration >= 2.0, "{link} holds {duration} s");
    b.screenshot(&screens().join("console.png")).unwrap();

    // Ban: FFmpeg's push is cut and a new one refused until unbanned.
    b.click("tr[data-channel=\"cons\"] button[data-action=\"ban\"]")
        .unwrap();
    let status = ffmpeg
        .exits_within(Duration::from_secs(10))
        .expect("FFmpeg still pushing 10 s after the ban");
    println!("FFmpeg after the ban: {status}");
    assert!(!status.success(), "FFmpeg ended well after a ban");
    b.until(&row("cons", "banned"), 5_000).unwrap();
    let status = ffmpeg_push(&url)
        .exits_within(Duration::from_secs(10))
        .expect("a banned stream's push was not refused within 10 s");
    assert!(!status.success(), "pushing a banned stream succeeded");
    assert!(b.eval(&row("cons", "live")).unwrap().is_null());

    b.click("tr[data-channel=\"cons\"] button[data-action=\"unban\"]")
        .unwrap();
    b.until(&row("cons", "idle"), 5_000).unwrap();
    let again = ffmpeg_push(&url);
    b.until(&row("cons", "live"), 10_000)
        .expect("pushing after the unban is listed live");
    drop(again);
}

#[test]
fn console_with_an_api_key_needs_it_to_show_or_do_anything() {
    let dir = tempfile::tempdir().unwrap();
    let key = "console-test-key";
    let serve = onair_serve(
        onair(),
        dir.path(),
        &[
            "--record",
            "none",
            "--screenshot-seconds",
            "0",
            "--api-key",
            key,
        ],
    );
    let ffmpeg = ffmpeg_push(&format!("rtmp://127.0.0.1:{}/live/keyed", serve.rtmp));
    wait_live_flv(serve.http, "keyed", Duration::from_secs(15));
    let mut b = Browser::start();
    assert_eq!(
        b.goto(&format!("http://127.0.0.1:{}/", serve.http))
            .unwrap(),
        200
    );
    b.until(
        "document.getElementById('notice').textContent.includes('API key')",
        5_000,
    )
    .unwrap();
    let rows = "document.querySelectorAll('#channels tr').length";
    assert_eq!(b.eval(rows).unwrap(), 0, "data shown without the key");
    // The page's own API calls without a sign are refused: no ban without the key.
    let unsigned = "fetch('/common_access?interface=Live_Channel_SetStatus&Param.s.channel_id=keyed&Param.n.status=0').then(r => r.status)";
    assert_eq!(b.eval(unsigned).unwrap(), 403);

    b.fill("#key", "wrong-key").unwrap();
    b.click("#keyform button").unwrap();
    b.until(
        "document.getElementById('notice').textContent.includes('refused')",
        5_000,
    )
    .unwrap();
    assert_eq!(b.eval(rows).unwrap(), 0, "data shown with a wrong key");

    b.fill("#key", key).unwrap();
    b.click("#keyform button").unwrap();
    b.until(&row("keyed", "live"), 5_000)
        .unwrap_or_else(|e| panic!("the right key shows nothing: {e}; {:?}", b.log()));
    b.click("tr[data-channel=\"keyed\"] button[data-action=\"ban\"]")
        .unwrap();
    let status = ffmpeg
        .exits_within(Duration::from_secs(10))
        .expect("FFmpeg still pushing 10 s after a signed ban");
    assert!(!status.success());
    b.until(&row("keyed", "banned"), 5_000).unwrap();
}

/// Where WebCodecs is missing (here forced with `?engine=hls`), the watch page plays the
/// server's HLS in a <video> element: pictures come, their stamps rise; its latency is printed
/// beside the WebCodecs figure (the README's why).
#[test]
fn watch_page_falls_back_to_hls() {
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(
        onair(),
        dir.path(),
        &[
            "--record",
            "none",
            "--screenshot-seconds",
            "0",
            "--hls-fragment-seconds",
            "1",
        ],
    );
    let _push = onair_push(serve.rtmp, "hlsweb", 60);
    wait_live_flv(serve.http, "hlsweb", Duration::from_secs(15));
    let mut b = Browser::start();
    let url = format!(
        "http://127.0.0.1:{}/watch/live/hlsweb?engine=hls",
        serve.http
    );
    assert_eq!(b.goto(&url).unwrap(), 200);
    b.until("onairStats.stamps.length > 120", 40_000)
        .unwrap_or_else(|e| panic!("HLS painted no stamped pictures: {e}; {:?}", b.log()));
    assert_eq!(b.eval("onairStats.mode").unwrap(), "hls");
    let stamps = painted_stamps(&mut b, "-60");
    assert!(stamps.windows(2).all(|w| w[1].0 > w[0].0), "{stamps:?}");
    let mut lat: Vec<f64> = stamps.iter().map(|s| s.1).collect();
    lat.sort_by(f64::total_cmp);
    println!(
        "watch page on HLS (1 s fragments): latency p50 {:.0} ms p95 {:.0} ms",
        quantile(&lat, 0.5),
        quantile(&lat, 0.95)
    );
}

/// `onair demo --open` hands the watch page's URL to the default browser ($BROWSER here, a
/// script that notes it), and that page plays the demo's stream in Chromium while it runs.
#[test]
fn demo_open_hands_the_watch_page_to_the_browser_and_it_plays() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let opened = dir.path().join("opened.txt");
    let fake_browser = dir.path().join("browser.sh");
    std::fs::write(
        &fake_browser,
        format!("#!/bin/sh\necho \"$1\" > '{}'\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &fake_browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut demo = Command::new(onair())
        .args([
            "demo",
            "--seconds",
            "12",
            "--preset",
            "640x360",
            "--open",
            "--out",
        ])
        .arg(dir.path().join("demo"))
        .env("BROWSER", &fake_browser)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start onair demo");
    let mut lines = std::io::BufReader::new(demo.stderr.take().unwrap()).lines();
    let watch = loop {
        let line = lines
            .next()
            .expect("demo ended before printing the watch URL")
            .unwrap();
        if let Some(url) = line.strip_prefix("watch (browser): ") {
            break url.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let demo = PeerChild(demo);
    assert!(
        watch.starts_with("http://127.0.0.1:") && watch.ends_with("/watch/live/demo"),
        "{watch}"
    );
    let mut b = Browser::start();
    assert_eq!(b.goto(&watch).unwrap(), 200);
    b.until("onairStats.stamps.length > 60", 15_000)
        .unwrap_or_else(|e| {
            panic!(
                "the demo's watch page painted no stamps: {e}; {:?}",
                b.log()
            )
        });
    let mut demo = demo;
    let status = demo.0.wait().unwrap();
    assert!(status.success(), "demo failed: {status}");
    let handed = std::fs::read_to_string(&opened).expect("--open did not start $BROWSER");
    assert_eq!(handed.trim(), watch);
}
