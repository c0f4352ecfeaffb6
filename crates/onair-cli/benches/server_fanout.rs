//! Server fan-out: one 1280x720 25 fps H.264 + AAC stream (ffmpeg stream copy of a pre-encoded
//! file, looped in real time) served to 200 players on loopback, in the same run:
//! - onair's server (`onair serve`) to 200 HTTP-FLV players,
//! - onair's server to 200 RTMP players,
//! - the same with `--merge-ms 40` (audio waits for the next video frame),
//! - nginx-rtmp to 200 RTMP players (the peer).
//!
//! Measured over 10 s after a 3 s warm-up: the server process's CPU seconds (from /proc) per
//! player, and per player the video frames received; "no player starves another" is the
//! fewest frames any player got over the most. The players are light readers in this process
//! (HTTP-FLV: a socket and the FLV demuxer; RTMP: onair-rtmp's play client).
//! Results go to `benches/RESULTS.md` (section `server_fanout`).

use onair_flv::{FlvDemuxer, TagType};
use onair_rtmp::{RtmpPlayer, TransportConfig};
use onair_testkit::peers::{onair_serve, process_cpu_seconds, require, Child, Nginx};
use onair_testkit::results::{is_bench_run, write_section};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PLAYERS: usize = 200;
/// The merge window of the second onair configuration.
const MERGE_MS: &str = "40";
const WARMUP: Duration = Duration::from_secs(3);
const WINDOW: Duration = Duration::from_secs(10);

/// A 12 s 720p source, encoded once.
fn source(dir: &std::path::Path) -> String {
    let path = dir.join("src720.flv").display().to_string();
    let ok = Command::new(require("ffmpeg"))
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=25",
            "-f",
            "lavfi",
        ])
        .args([
            "-i",
            "sine=frequency=1000:sample_rate=44100",
            "-t",
            "12",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
        ])
        .args([
            "-b:v", "1800k", "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-y", &path,
        ])
        .status()
        .expect("ffmpeg")
        .success();
    assert!(ok, "encoding the source failed");
    path
}

fn publish(src: &str, url: &str) -> Child {
    Child(
        Command::new(require("ffmpeg"))
            .args([
                "-v",
                "error",
                "-re",
                "-stream_loop",
                "-1",
                "-i",
                src,
                "-c",
                "copy",
                "-f",
                "flv",
                url,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ffmpeg publish"),
    )
}

/// Per-player video frame counters and a stop flag.
struct Players {
    frames: Vec<Arc<AtomicU64>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Players {
    fn snapshot(&self) -> Vec<u64> {
        self.frames
            .iter()
            .map(|f| f.load(Ordering::Relaxed))
            .collect()
    }

    fn finish(self) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

fn http_flv_players(addr: &str, path: &str) -> Players {
    let stop = Arc::new(AtomicBool::new(false));
    let mut frames = Vec::new();
    let mut threads = Vec::new();
    for _ in 0..PLAYERS {
        let counter = Arc::new(AtomicU64::new(0));
        frames.push(counter.clone());
        let (stop, addr, path) = (stop.clone(), addr.to_string(), path.to_string());
        threads.push(std::thread::spawn(move || {
            let Ok(mut s) = std::net::TcpStream::connect(&addr) else {
                return;
            };
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
            let mut r = BufReader::new(s);
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            // Chunked transfer: strip the chunk framing, feed the FLV demuxer.
            let mut demux = FlvDemuxer::new();
            let mut buf = vec![0u8; 64 << 10];
            while !stop.load(Ordering::Acquire) {
                let mut size_line = String::new();
                match r.read_line(&mut size_line) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(_) => continue,
                }
                let Ok(n) = usize::from_str_radix(size_line.trim(), 16) else {
                    continue;
                };
                let mut left = n + 2;
                while left > 0 {
                    let want = left.min(buf.len());
                    match r.read(&mut buf[..want]) {
                        Ok(0) => return,
                        Ok(k) => {
                            let data_end = k.min(left.saturating_sub(2));
                            demux.push(&buf[..data_end]);
                            left -= k;
                        }
                        Err(_) if stop.load(Ordering::Acquire) => return,
                        Err(_) => {}
                    }
                }
                while let Ok(Some(tag)) = demux.next_tag() {
                    if tag.tag_type == TagType::Video {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    Players {
        frames,
        stop,
        threads,
    }
}

fn rtmp_players(url: &str) -> Players {
    let stop = Arc::new(AtomicBool::new(false));
    let frames: Vec<Arc<AtomicU64>> = (0..PLAYERS).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let (stop2, url, counters) = (stop.clone(), url.to_string(), frames.clone());
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let mut tasks = Vec::new();
            for c in counters {
                let (url, stop) = (url.clone(), stop2.clone());
                tasks.push(tokio::spawn(async move {
                    let Ok(mut p) = RtmpPlayer::connect(&url, &TransportConfig::default()).await
                    else {
                        return;
                    };
                    while !stop.load(Ordering::Acquire) {
                        match tokio::time::timeout(Duration::from_millis(200), p.next_tag()).await {
                            Ok(Ok(t)) if t.tag_type == TagType::Video => {
                                c.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(Ok(_)) | Err(_) => {}
                            Ok(Err(_)) => return,
                        }
                    }
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        });
    });
    Players {
        frames,
        stop,
        threads: vec![thread],
    }
}

/// (CPU seconds of the server over the window, fewest/most frames per player, mean fps).
fn measure(server_pid: u32, players: Players) -> (f64, f64, f64) {
    std::thread::sleep(WARMUP);
    let (c0, f0, t0) = (
        process_cpu_seconds(server_pid),
        players.snapshot(),
        Instant::now(),
    );
    std::thread::sleep(WINDOW);
    let (c1, f1, dt) = (
        process_cpu_seconds(server_pid),
        players.snapshot(),
        t0.elapsed().as_secs_f64(),
    );
    players.finish();
    let got: Vec<u64> = f1.iter().zip(&f0).map(|(a, b)| a - b).collect();
    let (min, max) = (
        *got.iter().min().unwrap_or(&0),
        *got.iter().max().unwrap_or(&0),
    );
    let mean_fps = got.iter().sum::<u64>() as f64 / got.len().max(1) as f64 / dt;
    (c1 - c0, min as f64 / (max.max(1)) as f64, mean_fps)
}

fn wait_live(addr: &str, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok((200, _)) =
            onair_testkit::http_probe::http_get_head(&format!("http://{addr}{path}"))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{path} never went live");
}

fn main() {
    if !is_bench_run() {
        println!(
            "server_fanout: a whole-server bench; run it with `cargo bench --bench server_fanout`"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let src = source(dir.path());

    // onair's server: the default (every message written at once), then with a merge window.
    let mut onair = Vec::new();
    for merge in ["0", MERGE_MS] {
        let serve = onair_serve(
            std::path::Path::new(env!("CARGO_BIN_EXE_onair")),
            &dir.path().join(format!("data{merge}")),
            &[
                "--record",
                "none",
                // Like for like: the nginx-rtmp peer has HLS off.
                "--no-hls",
                "--screenshot-seconds",
                "0",
                "--merge-ms",
                merge,
            ],
        );
        let (rtmp, http) = (serve.rtmp, serve.http);
        let http_addr = format!("127.0.0.1:{http}");
        let _pub = publish(&src, &format!("rtmp://127.0.0.1:{rtmp}/live/b"));
        wait_live(&http_addr, "/live/b.flv");
        let flv = measure(
            serve.child.0.id(),
            http_flv_players(&http_addr, "/live/b.flv"),
        );
        let rtmp = measure(
            serve.child.0.id(),
            rtmp_players(&format!("rtmp://127.0.0.1:{rtmp}/live/b")),
        );
        onair.push((flv, rtmp));
    }
    let [((flv_cpu, flv_fair, flv_fps), (ortmp_cpu, ortmp_fair, ortmp_fps)), ((mflv_cpu, mflv_fair, mflv_fps), (mrtmp_cpu, mrtmp_fair, mrtmp_fps))] =
        onair[..]
    else {
        unreachable!("two configurations measured")
    };

    // nginx-rtmp.
    let nginx = Nginx::start();
    let _pub = publish(&src, &nginx.url("b"));
    std::thread::sleep(Duration::from_secs(2));
    let (ng_cpu, ng_fair, ng_fps) = measure(nginx.pid(), rtmp_players(&nginx.url("b")));

    let per = |c: f64| c / WINDOW.as_secs_f64() / PLAYERS as f64 * 1000.0;
    let body = format!(
        "### Server fan-out: one 1280x720 25 fps stream (~1.9 Mbps) to {PLAYERS} players on loopback, {} s window\n\n\
         | server, protocol | server CPU, ms per second per player | fewest / most frames per player | mean fps per player |\n\
         |---|---|---|---|\n\
         | `onair serve`, HTTP-FLV | {:.2} | {flv_fair:.2} | {flv_fps:.1} |\n\
         | `onair serve`, RTMP | {:.2} | {ortmp_fair:.2} | {ortmp_fps:.1} |\n\
         | `onair serve --merge-ms {MERGE_MS}`, HTTP-FLV | {:.2} | {mflv_fair:.2} | {mflv_fps:.1} |\n\
         | `onair serve --merge-ms {MERGE_MS}`, RTMP | {:.2} | {mrtmp_fair:.2} | {mrtmp_fps:.1} |\n\
         | nginx-rtmp, RTMP (peer) | {:.2} | {ng_fair:.2} | {ng_fps:.1} |\n\n\
         Ratio to nginx-rtmp, default: HTTP-FLV {:.2}x, RTMP {:.2}x; with `--merge-ms {MERGE_MS}` \
         (audio waits for the next video frame, so each player is woken and written to once per \
         frame; players get audio up to {MERGE_MS} ms later): HTTP-FLV {:.2}x, RTMP {:.2}x. \
         A fairness of 1.00 means every player got the same frames (goal >= 0.95: no player \
         starves another). Every published message is encoded once (RTMP chunk bytes, FLV tag \
         bytes) and shared. Measured by `cargo bench --bench server_fanout`.",
        WINDOW.as_secs(),
        per(flv_cpu),
        per(ortmp_cpu),
        per(mflv_cpu),
        per(mrtmp_cpu),
        per(ng_cpu),
        flv_cpu / ng_cpu.max(1e-9),
        ortmp_cpu / ng_cpu.max(1e-9),
        mflv_cpu / ng_cpu.max(1e-9),
        mrtmp_cpu / ng_cpu.max(1e-9),
    );
    println!("{body}");
    if let Err(e) = write_section("server_fanout", &body) {
        eprintln!("could not write the results file: {e}");
    }
}
