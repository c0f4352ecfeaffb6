//! A TCP proxy on loopback whose client -> server direction is shaped to a rate that can be
//! changed while it runs (0 = unlimited): a slow uplink for congestion tests. Its listening
//! socket has a small receive buffer, like a bottleneck's queue, so the slowness reaches the
//! sender instead of vanishing into megabytes of loopback buffering.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Forwards client -> upstream at `rate` bytes/s (0 = unlimited) and upstream -> client freely.
pub async fn throttling_proxy(upstream: u16, rate: Arc<AtomicU64>) -> u16 {
    // A small receive buffer, like a bottleneck router's queue (loopback would autotune it to
    // megabytes and hide the slow link).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener: TcpListener = socket.listen(16).unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(("127.0.0.1", upstream)).await.unwrap();
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut sr, &mut cw).await;
            });
            let rate = Arc::clone(&rate);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 1500];
                let mut allowed_sent = 0f64;
                let mut last = Instant::now();
                while let Ok(n @ 1..) = cr.read(&mut buf).await {
                    let r = rate.load(Ordering::Relaxed);
                    if r > 0 {
                        // Token bucket: after sending, wait until this many bytes fit the rate.
                        allowed_sent += n as f64;
                        let due = last + Duration::from_secs_f64(allowed_sent / r as f64);
                        tokio::time::sleep_until(due.into()).await;
                        if allowed_sent > r as f64 {
                            last = due;
                            allowed_sent = 0.0;
                        }
                    } else {
                        last = Instant::now();
                        allowed_sent = 0.0;
                    }
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}
