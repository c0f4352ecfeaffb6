//! Inbound RTMP parsing throughput: onair's chunk decoder (`onair_rtmp::engine::ChunkDecoder`)
//! against rml_rtmp's `ChunkDeserializer` (the decoder onair used before its own engine) on the
//! same recorded chunk streams (`tests/captures/rtmp/`: OBS 29 publishing, nginx-rtmp serving),
//! fed in the recorded TCP read sizes, in the same run (onair as the owned `Bytes` its adapters
//! read into, rml_rtmp as slices, its API). Both turn bytes into whole messages and
//! follow Set Chunk Size; each pass is timed and the best of several passes is kept. Also the
//! whole server session (messages, AMF0 commands, media events) on the OBS capture.
//! Results go to `benches/RESULTS.md` (section `rtmp_parse`).

use bytes::Bytes;
use onair_rtmp::engine::{ChunkDecoder, Limits, ServerConfig, ServerEvent, ServerSession};
use onair_testkit::captures::{pieces, Capture};
use onair_testkit::results::{is_bench_run, write_section};
use std::time::{Duration, Instant};

const PASSES: usize = 7;
const REPEAT: usize = 40;

fn onair(pieces: &[Bytes]) -> usize {
    let mut d = ChunkDecoder::new(Limits::default());
    let mut n = 0;
    for p in pieces {
        d.push_bytes(p.clone());
        while let Some(m) = d.next_message().expect("decode") {
            n += m.payload.len();
        }
    }
    n
}

fn rml(pieces: &[&[u8]]) -> usize {
    let mut d = rml_rtmp::chunk_io::ChunkDeserializer::new();
    let mut n = 0;
    for p in pieces {
        let mut input = *p;
        while let Some(m) = d.get_next_message(input).expect("decode") {
            input = &[];
            if m.type_id == 1 {
                let s = u32::from_be_bytes([m.data[0], m.data[1], m.data[2], m.data[3]]);
                d.set_max_chunk_size(s as usize).unwrap();
            }
            n += m.data.len();
        }
    }
    n
}

fn session(pieces: &[Bytes]) -> usize {
    let mut s = ServerSession::new(ServerConfig::default());
    let mut n = 0;
    let mut out = std::collections::VecDeque::new();
    for p in pieces {
        s.handle_bytes(p.clone()).expect("decode");
        while let Some(e) = s.poll_event() {
            match e {
                ServerEvent::ConnectRequested { .. } => s.accept_connect(),
                ServerEvent::PublishRequested { stream_id, .. } => s.accept_publish(stream_id),
                ServerEvent::Media { tag, .. } => n += tag.data.len(),
                _ => {}
            }
        }
        s.take_output(&mut out);
        out.clear();
    }
    n
}

/// Best MB/s over the passes of `f` (each pass runs it REPEAT times).
fn rate(bytes: usize, f: impl Fn() -> usize) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..PASSES {
        let t = Instant::now();
        for _ in 0..REPEAT {
            std::hint::black_box(f());
        }
        best = best.min(t.elapsed());
    }
    (bytes * REPEAT) as f64 / best.as_secs_f64() / 1e6
}

fn main() {
    if !is_bench_run() {
        println!("rtmp_parse: run it with `cargo bench --bench rtmp_parse`");
        return;
    }
    let mut rows = String::new();
    let mut ratios = Vec::new();
    for (name, dir, what) in [
        ("obs29-publish-h264", "c2s", "OBS 29 publish (H.264 + AAC)"),
        (
            "nginx-play-h264-bframes",
            "s2c",
            "nginx-rtmp serving (H.264 + AAC)",
        ),
    ] {
        let capture = Capture::load(name);
        let data = capture.chunks(dir);
        let p = pieces(data, &capture.recorded_cuts(dir));
        // What a socket read gives each: onair's adapters read into a buffer they hand over
        // as `Bytes` (no copy), rml_rtmp takes slices.
        let owned: Vec<Bytes> = p.iter().map(|s| Bytes::copy_from_slice(s)).collect();
        assert_eq!(
            onair(&owned),
            rml(&p),
            "{name}: both decoders must see the same payload bytes"
        );
        let a = rate(data.len(), || onair(&owned));
        let b = rate(data.len(), || rml(&p));
        ratios.push(a / b);
        rows.push_str(&format!(
            "| {what}, {} KiB in {} reads | {a:.0} | {b:.0} | {:.2}x |\n",
            data.len() / 1024,
            p.len(),
            a / b
        ));
        if dir == "c2s" {
            let s = rate(data.len(), || session(&owned));
            rows.push_str(&format!(
                "| {what}: onair's whole server session (commands, media events) | {s:.0} | | |\n"
            ));
        }
    }
    let body = format!(
        "### Inbound RTMP parsing: onair's chunk decoder vs rml_rtmp's, same recorded streams\n\n\
         | chunk stream | onair, MB/s | rml_rtmp 0.8, MB/s | onair / rml_rtmp |\n|---|---|---|---|\n{rows}\n\
         Best of {PASSES} passes of {REPEAT} decodes each, fed in the recorded TCP read sizes \
         (goal: >= 1.5x). Lowest ratio: {:.2}x. Measured by `cargo bench --bench rtmp_parse`.",
        ratios.iter().cloned().fold(f64::INFINITY, f64::min)
    );
    println!("{body}");
    if let Err(e) = write_section("rtmp_parse", &body) {
        eprintln!("could not write the results file: {e}");
    }
}
