//! Hostile RTMP clients against the embedded server (its real `ServerSession` behind the real
//! accept loop): after a real handshake, a giant Set Chunk Size with a 16 MiB message, a
//! message left half sent on one chunk stream while others go on, endless garbage, AMF0 nested
//! 10 000 deep, a flood of chunk streams each left open, and garbage instead of a handshake.
//! Meanwhile FFmpeg 5.1 publishes a real stream: afterwards ffprobe still reads it over RTMP
//! and HTTP-FLV, every malformed connection was closed by the server (the half-sent message is
//! legal RTMP and stays open, holding no more than the bytes it sent), and memory stayed
//! bounded. No panic hook is installed: a panic anywhere fails the test.

use onair_rtmp::engine::{Handshake, HandshakeProgress};
use onair_testkit::peers::{ffmpeg_publish, ffprobe, rss_kib, stream, wait_until_live};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn chunk0(csid: u8, len: u32, type_id: u8, stream: u32) -> Vec<u8> {
    let mut v = vec![csid & 0x3f, 0, 0, 0];
    v.extend_from_slice(&len.to_be_bytes()[1..]);
    v.push(type_id);
    v.extend_from_slice(&stream.to_le_bytes());
    v
}

#[derive(Debug, Clone, Copy)]
enum Attack {
    GiantChunkHugeMessage,
    HalfMessageThenOthers,
    EndlessGarbage,
    DeepAmf,
    ChunkStreamFlood,
    GarbageHandshake,
}

async fn client_handshake(s: &mut TcpStream) -> bool {
    let Ok((mut hs, c0c1)) = Handshake::client() else {
        return false;
    };
    if s.write_all(&c0c1).await.is_err() {
        return false;
    }
    let mut buf = vec![0u8; 8192];
    loop {
        let Ok(n) = s.read(&mut buf).await else {
            return false;
        };
        if n == 0 {
            return false;
        }
        match hs.process(&buf[..n]) {
            Ok(HandshakeProgress::InProgress { reply }) => {
                if s.write_all(&reply).await.is_err() {
                    return false;
                }
            }
            Ok(HandshakeProgress::Done { reply, .. }) => return s.write_all(&reply).await.is_ok(),
            Err(_) => return false,
        }
    }
}

/// Runs one attack; returns whether the server closed the connection within `limit`.
async fn attack(addr: std::net::SocketAddr, a: Attack, limit: Duration) -> bool {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return true;
    };
    let garbage: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    if let Attack::GarbageHandshake = a {
        let _ = s.write_all(&garbage).await;
    } else {
        if !client_handshake(&mut s).await {
            return true;
        }
        let mut b = Vec::new();
        match a {
            Attack::GiantChunkHugeMessage => {
                b.extend(chunk0(2, 4, 1, 0));
                b.extend(0x7fff_ffffu32.to_be_bytes());
                b.extend(chunk0(3, 0x00ff_ffff, 9, 1));
                b.extend(&garbage);
            }
            Attack::HalfMessageThenOthers => {
                b.extend(chunk0(2, 4, 1, 0));
                b.extend(100u32.to_be_bytes());
                b.extend(chunk0(6, 0x00ff_0000, 9, 1));
                b.extend([0x17; 100]);
                for _ in 0..2000 {
                    b.extend(chunk0(4, 50, 8, 1));
                    b.extend([0xaf; 50]);
                }
            }
            Attack::EndlessGarbage => {
                for _ in 0..64 {
                    b.extend(&garbage);
                }
            }
            Attack::DeepAmf => {
                let mut body = b"\x02\x00\x07connect\x00\x3f\xf0\x00\x00\x00\x00\x00\x00".to_vec();
                for _ in 0..10_000 {
                    body.extend([0x0a, 0, 0, 0, 1]);
                }
                b.extend(chunk0(2, 4, 1, 0));
                b.extend(65536u32.to_be_bytes());
                b.extend(chunk0(3, body.len() as u32, 20, 0));
                b.extend(body);
            }
            Attack::ChunkStreamFlood => {
                b.extend(chunk0(2, 4, 1, 0));
                b.extend(64u32.to_be_bytes());
                for csid in 0..5000u32 {
                    // 3-byte basic header: csid 64 + csid, each starting a 1000-byte message.
                    b.push(1);
                    b.extend_from_slice(&(csid as u16).to_le_bytes());
                    b.extend_from_slice(&chunk0(0, 1000, 9, 1)[1..]);
                    b.extend([0; 64]);
                }
            }
            Attack::GarbageHandshake => {}
        }
        let _ = s.write_all(&b).await;
    }
    // The server must close: read until EOF or error, within the limit.
    let mut sink = vec![0u8; 65536];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut sink)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

#[test]
fn hostile_clients_are_cut_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(dir.path());
    let url = server.push_url("live", "steady", Duration::from_secs(600));
    let _publisher = ffmpeg_publish(&url, 30, "320x180", 25);
    let play_rtmp = format!("{}/live/steady", server.rtmp_base());
    wait_until_live(&play_rtmp, Duration::from_secs(15));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let baseline = rss_kib();
    let started = Instant::now();
    let addr = server.rtmp_addr();
    let results = rt.block_on(async {
        let mut tasks = Vec::new();
        for a in [
            Attack::GiantChunkHugeMessage,
            Attack::HalfMessageThenOthers,
            Attack::EndlessGarbage,
            Attack::DeepAmf,
            Attack::ChunkStreamFlood,
            Attack::GarbageHandshake,
        ] {
            for _ in 0..4 {
                tasks.push((a, tokio::spawn(attack(addr, a, Duration::from_secs(3)))));
            }
        }
        let mut out = Vec::new();
        for (a, t) in tasks {
            out.push((a, t.await.unwrap()));
        }
        out
    });
    let growth = rss_kib().saturating_sub(baseline) / 1024;
    println!(
        "24 hostile clients in {:?}, RSS growth {growth} MiB",
        started.elapsed()
    );
    for (a, closed) in &results {
        let legal = matches!(a, Attack::HalfMessageThenOthers);
        assert_eq!(*closed, !legal, "{a:?}: closed by the server: {closed}");
    }
    assert!(growth < 96, "memory grew by {growth} MiB under attack");
    // The honest stream is still served, both ways.
    for input in [
        play_rtmp.clone(),
        format!("{}/live/steady.flv", server.http_base()),
    ] {
        let probe = ffprobe(&input, false);
        let v = stream(&probe, "video");
        assert_eq!(v["width"], 320, "{input}");
    }
    server.stop();
}
