//! A hostile RTMP server (real handshake, then a giant chunk size with a 16 MiB message, endless
//! garbage, a message left half sent while another chunk stream goes on, or garbage instead of
//! a handshake): the client ends with a typed error within its timeout, never panics (no panic
//! hook is installed: a panic fails the test), and its memory stays bounded. The cases run one
//! after the other in one test so the memory figures are not mixed with other tests'.

use onair_rtmp::{RtmpError, RtmpPlayer, RtmpPublisher, SendQueueConfig, TransportConfig};
use onair_testkit::peers::rss_kib;
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy)]
enum Attack {
    GiantChunkHugeMessage,
    EndlessGarbage,
    InterleavedReassembly,
    GarbageHandshake,
}

async fn server_handshake(s: &mut TcpStream) -> Option<()> {
    let mut hs = Handshake::new(PeerType::Server);
    let mut buf = vec![0u8; 8192];
    loop {
        let n = s.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        match hs.process_bytes(&buf[..n]).ok()? {
            HandshakeProcessResult::InProgress { response_bytes } => {
                s.write_all(&response_bytes).await.ok()?
            }
            HandshakeProcessResult::Completed { response_bytes, .. } => {
                s.write_all(&response_bytes).await.ok()?;
                return Some(());
            }
        }
    }
}

/// A type-0 chunk header for a message on chunk stream `csid`.
fn chunk0(csid: u8, len: u32, type_id: u8, stream: u32) -> Vec<u8> {
    let mut v = vec![csid & 0x3f, 0, 0, 0];
    v.extend_from_slice(&len.to_be_bytes()[1..]);
    v.push(type_id);
    v.extend_from_slice(&stream.to_le_bytes());
    v
}

fn set_chunk_size(size: u32) -> Vec<u8> {
    let mut v = chunk0(2, 4, 1, 0);
    v.extend_from_slice(&size.to_be_bytes());
    v
}

async fn serve(listener: TcpListener, attack: Attack) {
    while let Ok((mut s, _)) = listener.accept().await {
        tokio::spawn(async move {
            let garbage: Vec<u8> = (0..65_536u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            if let Attack::GarbageHandshake = attack {
                let _ = s.write_all(&garbage).await;
                return;
            }
            if server_handshake(&mut s).await.is_none() {
                return;
            }
            let start = Instant::now();
            match attack {
                Attack::GiantChunkHugeMessage => {
                    let mut head = set_chunk_size(0x7fff_ffff);
                    head.extend(chunk0(3, 0x00ff_ffff, 9, 1));
                    if s.write_all(&head).await.is_err() {
                        return;
                    }
                    while start.elapsed() < Duration::from_secs(6)
                        && s.write_all(&garbage).await.is_ok()
                    {}
                }
                Attack::EndlessGarbage => {
                    while start.elapsed() < Duration::from_secs(6)
                        && s.write_all(&garbage).await.is_ok()
                    {}
                }
                Attack::InterleavedReassembly => {
                    // Half of a 100-byte message on csid 3, then a new 10-byte message on csid 4
                    // (legal interleaving; the rml_rtmp era's single reassembly buffer computed
                    // 10 - 50 and panicked), then silence: the client times out.
                    let mut b = set_chunk_size(50);
                    b.extend(chunk0(3, 100, 9, 1));
                    b.extend(std::iter::repeat_n(0x17, 50));
                    b.extend(chunk0(4, 10, 8, 1));
                    b.extend(std::iter::repeat_n(0xaf, 10));
                    let _ = s.write_all(&b).await;
                    let mut sink = [0u8; 1024];
                    while start.elapsed() < Duration::from_secs(6)
                        && matches!(s.read(&mut sink).await, Ok(n) if n > 0)
                    {}
                }
                Attack::GarbageHandshake => {}
            }
        });
    }
}

#[test]
fn hostile_servers_get_typed_errors_and_bounded_memory() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = TransportConfig {
        connect_timeout: Duration::from_secs(2),
        handshake_timeout: Duration::from_secs(3),
        ..Default::default()
    };
    let baseline = rss_kib();
    let mut peak = baseline;
    for attack in [
        Attack::GiantChunkHugeMessage,
        Attack::EndlessGarbage,
        Attack::InterleavedReassembly,
        Attack::GarbageHandshake,
    ] {
        for play in [true, false] {
            let (addr, server) = rt.block_on(async {
                let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = l.local_addr().unwrap();
                (addr, tokio::spawn(serve(l, attack)))
            });
            let url = format!("rtmp://{addr}/live/x");
            let started = Instant::now();
            let error = rt.block_on(async {
                if play {
                    RtmpPlayer::connect(&url, &config)
                        .await
                        .map(|_| ())
                        .unwrap_err()
                } else {
                    RtmpPublisher::connect(&url, &config, SendQueueConfig::default())
                        .await
                        .map(|_| ())
                        .unwrap_err()
                }
            });
            let took = started.elapsed();
            peak = peak.max(rss_kib());
            println!(
                "{attack:?} (play {play}): {error} after {took:?}, rss {} MiB",
                rss_kib() / 1024
            );
            assert!(
                matches!(
                    error,
                    RtmpError::Protocol(_)
                        | RtmpError::Malformed(_)
                        | RtmpError::Timeout { .. }
                        | RtmpError::Handshake(_)
                        | RtmpError::Closed(_)
                ),
                "{attack:?}: unexpected {error}"
            );
            assert!(
                took < Duration::from_secs(4),
                "{attack:?}: {took:?} is past the 3 s timeout"
            );
            server.abort();
        }
    }
    let growth_mib = peak.saturating_sub(baseline) / 1024;
    println!("peak RSS growth {growth_mib} MiB");
    assert!(
        growth_mib < 96,
        "memory grew by {growth_mib} MiB under attack"
    );
}
