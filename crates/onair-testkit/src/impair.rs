//! A userspace link impairment proxy on loopback (this machine has no netem): every byte between
//! a client and `upstream` passes through it, in both directions, and the test changes the
//! link while it runs:
//!
//! - latency with jitter (`set_latency(80, 40)`: each chunk is held 40..120 ms, order kept);
//! - stalls: forwarding stops until resumed (what a lossy TCP path looks like to the
//!   application: nothing, then a burst), by hand or periodically;
//! - a bandwidth cap per direction, changeable mid-stream (0 = unlimited);
//! - a connection reset: every open connection is closed with RST on both sides.
//!
//! The listening and upstream sockets have small buffers, so a slow or stalled link pushes
//! back on the sender instead of vanishing into megabytes of loopback buffering.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch, Notify};

/// Bytes of one forwarded read at most.
const CHUNK: usize = 4 * 1024;
/// Bytes held by the proxy per direction at most, like a bottleneck router's queue: beyond it
/// the reader waits and TCP pushes back on the sender. (With the latency set, throughput is
/// at most this per latency: 48 KiB / 120 ms is about 3 Mbit/s.)
const IN_FLIGHT_BYTES: usize = 48 * 1024;
/// Socket buffers on both legs.
const SOCKET_BUFFER: u32 = 32 * 1024;

#[derive(Debug, Default)]
struct Link {
    latency_ms: AtomicU64,
    jitter_ms: AtomicU64,
    /// Bytes per second in each direction; 0 = unlimited.
    rate: AtomicU64,
    /// Bytes forwarded client -> upstream and upstream -> client.
    up_bytes: AtomicU64,
    down_bytes: AtomicU64,
    open: AtomicUsize,
    accepted: AtomicUsize,
    seed: AtomicU64,
    reset: Notify,
    reset_epoch: AtomicU64,
    /// Sockets of open connections, for `reset`.
    sockets: Mutex<Vec<(u64, std::net::TcpStream)>>,
}

/// See the module docs. Dropping it stops the proxy and closes every connection.
#[derive(Debug)]
pub struct ImpairProxy {
    /// The port clients connect to (127.0.0.1).
    pub port: u16,
    link: Arc<Link>,
    stalled: watch::Sender<bool>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl ImpairProxy {
    /// Starts a proxy to `127.0.0.1:upstream` on a port of its own, with a clean link.
    pub fn start(upstream: u16) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("impair-proxy")
            .enable_all()
            .build()
            .expect("proxy runtime");
        let link = Arc::new(Link {
            seed: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
            ..Link::default()
        });
        let (stalled, stalled_rx) = watch::channel(false);
        let listener = runtime.block_on(async {
            let socket = TcpSocket::new_v4().expect("socket");
            socket.set_recv_buffer_size(SOCKET_BUFFER).expect("rcvbuf");
            socket.set_send_buffer_size(SOCKET_BUFFER).expect("sndbuf");
            socket
                .bind("127.0.0.1:0".parse().expect("addr"))
                .expect("bind");
            socket.listen(64).expect("listen")
        });
        let port = listener.local_addr().expect("local addr").port();
        runtime.spawn(accept_loop(
            listener,
            upstream,
            Arc::clone(&link),
            stalled_rx,
        ));
        Self {
            port,
            link,
            stalled,
            runtime: Some(runtime),
        }
    }

    /// Holds each chunk `latency_ms` +/- `jitter_ms` (uniform), in order.
    pub fn set_latency(&self, latency_ms: u64, jitter_ms: u64) {
        self.link.latency_ms.store(latency_ms, Ordering::Relaxed);
        self.link
            .jitter_ms
            .store(jitter_ms.min(latency_ms), Ordering::Relaxed);
    }

    /// Caps each direction at `bytes_per_s` (0 = unlimited), from now on.
    pub fn set_rate(&self, bytes_per_s: u64) {
        self.link.rate.store(bytes_per_s, Ordering::Relaxed);
    }

    /// Stops forwarding in both directions (`true`) or resumes it (`false`); what was held
    /// goes out at once on resume, as after a TCP retransmission timeout.
    pub fn set_stalled(&self, stalled: bool) {
        let _ = self.stalled.send(stalled);
    }

    /// Stalls for `len` every `every`, `count` times, on the proxy's own runtime.
    pub fn periodic_stalls(&self, every: Duration, len: Duration, count: u32) {
        let tx = self.stalled.clone();
        if let Some(rt) = &self.runtime {
            rt.spawn(async move {
                for _ in 0..count {
                    tokio::time::sleep(every).await;
                    let _ = tx.send(true);
                    tokio::time::sleep(len).await;
                    let _ = tx.send(false);
                }
            });
        }
    }

    /// Closes every open connection with a TCP reset on both sides.
    pub fn reset(&self) {
        self.link.reset_epoch.fetch_add(1, Ordering::AcqRel);
        let sockets = std::mem::take(
            &mut *self
                .link
                .sockets
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        // Zero linger: when the connection tasks drop their sockets (woken below), the kernel
        // sends RST instead of FIN.
        for (_, s) in &sockets {
            let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
        }
        drop(sockets);
        self.link.reset.notify_waiters();
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.link.open.load(Ordering::Acquire)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.link.accepted.load(Ordering::Acquire)
    }

    /// Bytes forwarded so far (client -> upstream, upstream -> client).
    pub fn forwarded(&self) -> (u64, u64) {
        (
            self.link.up_bytes.load(Ordering::Relaxed),
            self.link.down_bytes.load(Ordering::Relaxed),
        )
    }
}

impl Drop for ImpairProxy {
    fn drop(&mut self) {
        self.reset();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: u16,
    link: Arc<Link>,
    stalled: watch::Receiver<bool>,
) {
    let mut next_id = 0u64;
    while let Ok((client, _)) = listener.accept().await {
        link.accepted.fetch_add(1, Ordering::AcqRel);
        let server = async {
            let s = TcpSocket::new_v4()?;
            s.set_recv_buffer_size(SOCKET_BUFFER)?;
            s.set_send_buffer_size(SOCKET_BUFFER)?;
            s.connect(([127, 0, 0, 1], upstream).into()).await
        };
        let Ok(server) = server.await else {
            continue; // upstream down: the client sees its connection close
        };
        next_id += 1;
        let id = next_id;
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        {
            let mut socks = link
                .sockets
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for s in [&client, &server] {
                if let Ok(clone) = clone_std(s) {
                    socks.push((id, clone));
                }
            }
        }
        link.open.fetch_add(1, Ordering::AcqRel);
        tokio::spawn(connection(
            id,
            client,
            server,
            Arc::clone(&link),
            stalled.clone(),
        ));
    }
}

/// A second handle on the socket (for `reset`); the tokio stream keeps doing the I/O.
fn clone_std(s: &TcpStream) -> std::io::Result<std::net::TcpStream> {
    let sock = socket2::SockRef::from(s).try_clone()?;
    Ok(sock.into())
}

async fn connection(
    id: u64,
    client: TcpStream,
    server: TcpStream,
    link: Arc<Link>,
    stalled: watch::Receiver<bool>,
) {
    let epoch = link.reset_epoch.load(Ordering::Acquire);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pump(cr, sw, Arc::clone(&link), stalled.clone(), true);
    let down = pump(sr, cw, Arc::clone(&link), stalled, false);
    let reset = async {
        loop {
            let n = link.reset.notified();
            tokio::pin!(n);
            n.as_mut().enable();
            if link.reset_epoch.load(Ordering::Acquire) != epoch {
                return;
            }
            n.await;
        }
    };
    tokio::select! {
        _ = async { tokio::join!(up, down) } => {}
        _ = reset => {}
    }
    link.sockets
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .retain(|(i, _)| *i != id);
    link.open.fetch_sub(1, Ordering::AcqRel);
}

/// One direction: a reader that stamps each chunk with its delivery time, a writer that
/// waits for that time, for the link to be un-stalled and for the rate's tokens.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: Arc<Link>,
    mut stalled: watch::Receiver<bool>,
    up: bool,
) {
    // Bounded twice over: the byte budget below, and the channel (every chunk holds >= 1 byte).
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(IN_FLIGHT_BYTES);
    let budget = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT_BYTES));
    let reader_link = Arc::clone(&link);
    let reader_budget = Arc::clone(&budget);
    let reader = async move {
        let mut last = Instant::now();
        loop {
            // Room for a whole chunk first: the proxy's queue is bounded in bytes.
            let Ok(permit) = reader_budget.acquire_many(CHUNK as u32).await else {
                break;
            };
            permit.forget();
            let mut buf = vec![0u8; CHUNK];
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            buf.truncate(n);
            reader_budget.add_permits(CHUNK - n);
            let delay = reader_link.delay();
            // Order is kept: a chunk never overtakes the one before it.
            let at = (Instant::now() + delay).max(last);
            last = at;
            if tx.send((at, buf)).await.is_err() {
                break;
            }
        }
    };
    let writer = async move {
        // Token bucket: bytes allowed since `since` at the current rate.
        let mut since = Instant::now();
        let mut sent_since = 0u64;
        while let Some((at, chunk)) = rx.recv().await {
            tokio::time::sleep_until(at.into()).await;
            if stalled.wait_for(|s| !*s).await.is_err() {
                return;
            }
            let rate = link.rate.load(Ordering::Relaxed);
            if rate > 0 {
                sent_since += chunk.len() as u64;
                let due = since + Duration::from_secs_f64(sent_since as f64 / rate as f64);
                tokio::time::sleep_until(due.into()).await;
                if Instant::now().duration_since(since) > Duration::from_secs(1) {
                    since = Instant::now();
                    sent_since = 0;
                }
            } else {
                since = Instant::now();
                sent_since = 0;
            }
            if to.write_all(&chunk).await.is_err() {
                return;
            }
            budget.add_permits(chunk.len());
            let counter = if up { &link.up_bytes } else { &link.down_bytes };
            counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

impl Link {
    /// This chunk's delay: latency +/- jitter (xorshift; reproducible per proxy).
    fn delay(&self) -> Duration {
        let latency = self.latency_ms.load(Ordering::Relaxed);
        let jitter = self.jitter_ms.load(Ordering::Relaxed);
        if latency == 0 {
            return Duration::ZERO;
        }
        let mut x = self.seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed.store(x, Ordering::Relaxed);
        let spread = if jitter == 0 { 0 } else { x % (2 * jitter + 1) };
        Duration::from_millis(latency - jitter + spread)
    }
}
