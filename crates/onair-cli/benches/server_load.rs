//! Server load: `onair serve` with 20 publishers of 640x360 25 fps at about 600 kbps (FFmpeg
//! stream copies of one pre-encoded file, looped in real time) and 1000 HTTP-FLV players spread
//! over them (50 each), on loopback, for a 60 s window. Halfway through, 5,000 more connections
//! arrive beyond the connection cap and are refused while the players go on.
//!
//! Measured: per player, the video frames received over the window against the 25 fps the
//! publishers send (goal: every player >= 95%), the server's peak RSS (goal < 300 MiB, from
//! /proc VmHWM), the refusals `Get_LiveStat` counts (goal: all 5,000), and the players' frames
//! in the 10 s after the flood against the 10 s before it (the served ones not slowed).
//! The players are tokio tasks in this process reading close-delimited HTTP/1.0 bodies
//! through onair's FLV demuxer. Results go to `benches/RESULTS.md` (section `server_load`).

use onair_flv::{FlvDemuxer, TagType};
use onair_testkit::peers::{onair_serve, process_cpu_seconds, require, Child};
use onair_testkit::results::{is_bench_run, write_section};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PUBLISHERS: usize = 20;
const PLAYERS: usize = 1000;
const FLOOD: usize = 5000;
const FPS: f64 = 25.0;
const WARMUP: Duration = Duration::from_secs(5);
const WINDOW: Duration = Duration::from_secs(60);

/// A 12 s 640x360 source at about 600 kbps (540k video + 64k AAC), encoded once.
fn source(dir: &std::path::Path) -> String {
    let path = dir.join("src360.flv").display().to_string();
    let ok = Command::new(require("ffmpeg"))
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=1000:sample_rate=44100",
            "-t",
            "12",
        ])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-b:v", "540k", "-maxrate", "540k",
        ])
        .args(["-bufsize", "540k", "-g", "50", "-pix_fmt", "yuv420p"])
        .args(["-c:a", "aac", "-b:a", "64k", "-y", &path])
        .status()
        .expect("ffmpeg")
        .success();
    assert!(ok, "encoding the source failed");
    path
}

fn publish(src: &str, url: &str) -> Child {
    Child(
        Command::new(require("ffmpeg"))
            .args(["-v", "error", "-re", "-stream_loop", "-1", "-i", src])
            .args(["-c", "copy", "-f", "flv", url])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ffmpeg publish"),
    )
}

/// One HTTP-FLV player: counts video tags until the body ends.
async fn player(addr: String, path: String, frames: Arc<AtomicU64>) {
    let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
        return;
    };
    // HTTP/1.0: the body is the raw FLV, delimited by the close.
    if s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .is_err()
    {
        return;
    }
    let mut buf = vec![0u8; 32 << 10];
    let mut head = Vec::new();
    let mut demux = FlvDemuxer::new();
    let mut in_body = false;
    loop {
        let n = match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut data = &buf[..n];
        if !in_body {
            head.extend_from_slice(data);
            let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            demux.push(&head[end + 4..]);
            in_body = true;
            data = &[];
        }
        demux.push(data);
        while let Ok(Some(tag)) = demux.next_tag() {
            if tag.tag_type == TagType::Video {
                frames.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn snapshot(frames: &[Arc<AtomicU64>]) -> Vec<u64> {
    frames.iter().map(|f| f.load(Ordering::Relaxed)).collect()
}

fn diff(a: &[u64], b: &[u64]) -> Vec<u64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    if !is_bench_run() {
        println!(
            "server_load: a whole-server bench; run it with `cargo bench --bench server_load`"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let src = source(dir.path());
    // The cap: the publishers, the players and a little room for the API and probes.
    let cap = (PUBLISHERS + PLAYERS + 16).to_string();
    let serve = onair_serve(
        std::path::Path::new(env!("CARGO_BIN_EXE_onair")),
        &dir.path().join("data"),
        &[
            "--record",
            "none",
            "--no-hls",
            "--screenshot-seconds",
            "0",
            "--max-connections",
            &cap,
            "--max-connections-per-ip",
            &cap,
        ],
    );
    let (rtmp, http) = (serve.rtmp, serve.http);
    let pid = serve.child.0.id();
    let publishers: Vec<Child> = (0..PUBLISHERS)
        .map(|i| publish(&src, &format!("rtmp://127.0.0.1:{rtmp}/live/load{i}")))
        .collect();
    for i in 0..PUBLISHERS {
        onair_testkit::peers::wait_live_flv(http, &format!("load{i}"), Duration::from_secs(30));
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let frames: Vec<Arc<AtomicU64>> = (0..PLAYERS).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let addr = format!("127.0.0.1:{http}");
    for (i, f) in frames.iter().enumerate() {
        rt.spawn(player(
            addr.clone(),
            format!("/live/load{}.flv", i % PUBLISHERS),
            f.clone(),
        ));
    }
    std::thread::sleep(WARMUP);

    let (f0, c0, t0) = (snapshot(&frames), process_cpu_seconds(pid), Instant::now());
    // Halfway: 5,000 connections beyond the cap, held open by this process.
    std::thread::sleep(WINDOW / 2 - Duration::from_secs(10));
    let before_flood = snapshot(&frames);
    std::thread::sleep(Duration::from_secs(10));
    let at_flood = snapshot(&frames);
    let flood_started = Instant::now();
    let before_s = 10.0;
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        if let Ok(s) = std::net::TcpStream::connect(&addr) {
            flood.push(s);
        }
    }
    let flood_s = flood_started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(10));
    let after_flood = snapshot(&frames);
    let after_s = flood_started.elapsed().as_secs_f64();
    std::thread::sleep(WINDOW.saturating_sub(t0.elapsed()));
    let (f1, c1, dt) = (
        snapshot(&frames),
        process_cpu_seconds(pid),
        t0.elapsed().as_secs_f64(),
    );
    let rss = peak_rss_mib(pid);
    // The cap's spare places went to the first flood connections; closing them frees the
    // places (as the server sees them close) for the statistics request.
    drop(flood);
    let stat_url = format!("http://{addr}/common_access?interface=Get_LiveStat");
    let stat = (0..20)
        .find_map(|_| match onair_testkit::http_probe::http_get(&stat_url) {
            Ok((200, body)) => serde_json::from_slice::<serde_json::Value>(&body).ok(),
            _ => {
                std::thread::sleep(Duration::from_millis(100));
                None
            }
        })
        .expect("Get_LiveStat answered");
    drop(publishers);
    rt.shutdown_timeout(Duration::from_secs(2));

    let got = diff(&f1, &f0);
    let expected = FPS * dt;
    let worst = *got.iter().min().unwrap_or(&0) as f64 / expected;
    let mean = got.iter().sum::<u64>() as f64 / got.len() as f64 / expected;
    let under = got
        .iter()
        .filter(|g| (**g as f64) < 0.95 * expected)
        .count();
    // Frame rates (all players) over the 10 s before the flood, and over the flood and the
    // 10 s after it.
    let pre = diff(&at_flood, &before_flood).iter().sum::<u64>() as f64 / before_s;
    let post = diff(&after_flood, &at_flood).iter().sum::<u64>() as f64 / after_s;
    let refused = stat["output"]["refused_connections"].as_u64().unwrap_or(0);
    let cpu = (c1 - c0) / dt;
    let body = format!(
        "### Server load: {PUBLISHERS} publishers (640x360 25 fps, ~600 kbps) and {PLAYERS} HTTP-FLV players on loopback, {dt:.0} s window\n\n\
         | measure | goal | measured |\n\
         |---|---|---|\n\
         | frames per player, worst / mean (of {expected:.0} sent) | every player >= 95% | {:.1}% / {:.1}% ({under} players under 95%) |\n\
         | server peak RSS | < 300 MiB | {rss:.0} MiB |\n\
         | {FLOOD} connections beyond the cap (opened in {flood_s:.1} s) | all refused | {refused} refused |\n\
         | players' frame rate during the flood and 10 s after / 10 s before | not slowed (~1.00) | {:.3} |\n\
         | server CPU | | {:.0}% of a core |\n\n\
         The cap was {cap} connections (its 16 spare places went to the first flood \
         connections, the rest were refused); 20 FFmpeg stream copies publish; the players are tokio \
         tasks in the bench process on one worker thread, all on this 2-core machine. Measured \
         by `cargo bench -p onair-cli --bench server_load`.",
        worst * 100.0,
        mean * 100.0,
        post / pre.max(1e-9),
        cpu * 100.0,
    );
    println!("{body}");
    if let Err(e) = write_section("server_load", &body) {
        eprintln!("could not write the results file: {e}");
    }
}
