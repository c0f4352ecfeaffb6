//! `RtmpPublisher`: publishes FLV tags over RTMP/RTMPS. `send` never blocks: tags go into the
//! [`SendQueue`] (drop policy, bounded memory) and a network task writes them to the socket,
//! answers the server (acknowledgements), measures RTT with pings and watches for a status that
//! ends the publish (e.g. a ban). `close` stops the task and closes the socket before returning.

use crate::config::TransportConfig;
use crate::engine::ClientEvent;
use crate::error::RtmpError;
use crate::send_queue::{PushOutcome, SendQueue, SendQueueConfig, SendQueueStats};
use crate::session::{establish, Role, Session};
use crate::url::StreamUrl;
use onair_flv::{FlvTag, ScriptData, TagType};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How often the publisher pings the server for RTT.
pub const PING_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct Shared {
    queue: Mutex<SendQueue>,
    wake: Notify,
    /// Raised for the session's monitor: the connection failed, or the queue is congested.
    signal: Notify,
    /// Raised by the writer when the queue empties or the connection ends (for `flush`).
    drained: Notify,
    stop: AtomicBool,
    rtt_ms: AtomicU32,
    failure: Mutex<Option<RtmpError>>,
}

/// Publisher statistics.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PublisherStats {
    /// The send queue's gauges and counters.
    pub queue: SendQueueStats,
    /// Last measured round-trip time, ms (0 until a ping was answered).
    pub rtt_ms: u32,
}

/// Waits for what a session's monitor watches: the connection ended, or the send queue is
/// congested. A signal raised while nobody waits is kept for the next wait.
#[derive(Debug, Clone)]
pub struct PublisherSignal(Arc<Shared>);

impl PublisherSignal {
    /// Resolves at the next signal (or at once for one raised since the last wait).
    pub async fn changed(&self) {
        self.0.signal.notified().await;
    }
}

/// A live publish connection.
#[derive(Debug)]
pub struct RtmpPublisher {
    shared: Arc<Shared>,
    task: Option<JoinHandle<Result<(), RtmpError>>>,
    server_fourccs: Vec<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RtmpPublisher {
    /// Connects and starts publishing `url` (its last path segment is the stream name).
    pub async fn connect(
        url: &str,
        config: &TransportConfig,
        queue: SendQueueConfig,
    ) -> Result<Self, RtmpError> {
        let url = StreamUrl::parse(url)?;
        let (mut session, _) = establish(&url, config, Role::Publish).await?;
        let server_fourccs = std::mem::take(&mut session.server_fourccs);
        let shared = Arc::new(Shared {
            queue: Mutex::new(SendQueue::new(queue)),
            wake: Notify::new(),
            signal: Notify::new(),
            drained: Notify::new(),
            stop: AtomicBool::new(false),
            rtt_ms: AtomicU32::new(0),
            failure: Mutex::new(None),
        });
        let task_shared = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            let result = run(session, &task_shared).await;
            if let Err(e) = &result {
                *lock(&task_shared.failure) = Some(e.clone());
            }
            task_shared.signal.notify_one();
            task_shared.drained.notify_waiters();
            result
        });
        Ok(Self {
            shared,
            task: Some(task),
            server_fourccs,
        })
    }

    /// The Enhanced RTMP FourCCs the server announced in its connect reply (`fourCcList`):
    /// empty for a legacy server, which takes only FLV's own codecs (H.264, AAC).
    pub fn server_fourcc_list(&self) -> &[String] {
        &self.server_fourccs
    }

    /// The server announced `fourcc` (e.g. `hvc1`) in its connect reply.
    pub fn server_accepts(&self, fourcc: &str) -> bool {
        self.server_fourccs.iter().any(|f| f == fourcc)
    }

    /// Queues a tag. Fails with the error that ended the connection, if it ended.
    pub fn send(&self, tag: FlvTag) -> Result<PushOutcome, RtmpError> {
        if let Some(e) = lock(&self.shared.failure).clone() {
            return Err(e);
        }
        let (outcome, congested) = {
            let mut q = lock(&self.shared.queue);
            let outcome = q.push(tag);
            (outcome, q.is_congested())
        };
        self.shared.wake.notify_one();
        if congested || outcome == PushOutcome::DroppedInter {
            self.shared.signal.notify_one();
        }
        Ok(outcome)
    }

    /// Current statistics.
    pub fn stats(&self) -> PublisherStats {
        PublisherStats {
            queue: lock(&self.shared.queue).stats(Instant::now()),
            rtt_ms: self.shared.rtt_ms.load(Ordering::Relaxed),
        }
    }

    /// A handle on the publisher's signal, to wait on without borrowing the publisher.
    pub fn signal(&self) -> PublisherSignal {
        PublisherSignal(Arc::clone(&self.shared))
    }

    /// The error that ended the connection, if it ended.
    pub fn failure(&self) -> Option<RtmpError> {
        lock(&self.shared.failure).clone()
    }

    /// Waits until the queue is empty (everything written to the socket) or `timeout` passes.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let drained = async {
            loop {
                let notified = self.shared.drained.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if lock(&self.shared.queue).is_empty() || self.failure().is_some() {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(timeout, drained).await;
        lock(&self.shared.queue).is_empty()
    }

    /// Stops publishing: tells the server (deleteStream), closes the socket, joins the task.
    /// Returns the error that had ended the connection, if any.
    pub async fn close(mut self) -> Result<(), RtmpError> {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        let abort = task.abort_handle();
        match tokio::time::timeout(Duration::from_secs(2), task).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(RtmpError::Stopped),
            Err(_) => {
                // Stuck in a write to a dead link: cancel it (the socket is dropped with it).
                abort.abort();
                Ok(())
            }
        }
    }
}

impl Drop for RtmpPublisher {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Validates a script tag before it goes out (a malformed one would break the server's parser).
fn check_script(tag: &FlvTag) -> Result<(), RtmpError> {
    if tag.tag_type == TagType::Script {
        ScriptData::parse(&tag.data)
            .map_err(|e| RtmpError::Protocol(format!("bad script tag: {e}")))?;
    }
    Ok(())
}

async fn run(mut session: Session, shared: &Shared) -> Result<(), RtmpError> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut next_ping = Instant::now() + Duration::from_millis(500);
    loop {
        // Write everything queued.
        loop {
            if shared.stop.load(Ordering::Acquire) {
                break;
            }
            let Some(tag) = lock(&shared.queue).pop() else {
                break;
            };
            check_script(&tag)?;
            let n = session.engine.send_media(&tag)?;
            session.flush().await?;
            let empty = {
                let mut q = lock(&shared.queue);
                q.on_sent_tag(&tag, n, Instant::now());
                q.is_empty()
            };
            if empty {
                shared.drained.notify_waiters();
            }
        }
        if shared.stop.load(Ordering::Acquire) {
            session.engine.close();
            let _ = session.flush().await;
            let _ = session.io.shutdown().await;
            return Ok(());
        }
        if Instant::now() >= next_ping {
            session.engine.ping(Instant::now());
            session.flush().await?;
            next_ping = Instant::now() + PING_INTERVAL;
        }
        let wait = next_ping.saturating_duration_since(Instant::now());
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            read = session.io.read(&mut buf) => {
                let n = read?;
                if n == 0 {
                    return Err(RtmpError::Closed(String::new()));
                }
                for e in session.handle(&buf[..n]).await? {
                    match e {
                        ClientEvent::Rtt(rtt) => {
                            let ms = rtt.as_millis().min(u128::from(u32::MAX)) as u32;
                            shared.rtt_ms.store(ms.max(1), Ordering::Relaxed);
                        }
                        ClientEvent::Status(s)
                            if s.code.contains("Unpublish") || s.code.contains("Failed") || s.code.contains("Error") || s.code.contains("BadName") || s.level == "error" =>
                        {
                            return Err(RtmpError::PublishRefused(s.code));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}
