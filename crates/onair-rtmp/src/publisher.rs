//! `RtmpPublisher`: publishes FLV tags over RTMP/RTMPS. `send` never blocks: tags go into the
//! [`SendQueue`] (drop policy, bounded memory) and a network task writes them to the socket,
//! answers the server (acknowledgements), measures RTT with pings and watches for a status that
//! ends the publish (e.g. a ban). `close` stops the task and closes the socket before returning.

use crate::config::TransportConfig;
use crate::error::RtmpError;
use crate::send_queue::{PushOutcome, SendQueue, SendQueueConfig, SendQueueStats};
use crate::session::{contained, establish, Inbound, Role, Session};
use crate::url::StreamUrl;
use onair_flv::{FlvTag, ScriptData, TagType};
use rml_rtmp::chunk_io::ChunkSerializer;
use rml_rtmp::messages::MessagePayload;
use rml_rtmp::sessions::{ClientSessionEvent, ClientSessionResult, StreamMetadata};
use rml_rtmp::time::RtmpTimestamp;
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

/// A live publish connection.
#[derive(Debug)]
pub struct RtmpPublisher {
    shared: Arc<Shared>,
    task: Option<JoinHandle<Result<(), RtmpError>>>,
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
        let (session, _) = establish(&url, config, Role::Publish).await?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(SendQueue::new(queue)),
            wake: Notify::new(),
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
            result
        });
        Ok(Self {
            shared,
            task: Some(task),
        })
    }

    /// Queues a tag. Fails with the error that ended the connection, if it ended.
    pub fn send(&self, tag: FlvTag) -> Result<PushOutcome, RtmpError> {
        if let Some(e) = lock(&self.shared.failure).clone() {
            return Err(e);
        }
        let outcome = lock(&self.shared.queue).push(tag);
        self.shared.wake.notify_one();
        Ok(outcome)
    }

    /// Current statistics.
    pub fn stats(&self) -> PublisherStats {
        PublisherStats {
            queue: lock(&self.shared.queue).stats(Instant::now()),
            rtt_ms: self.shared.rtt_ms.load(Ordering::Relaxed),
        }
    }

    /// The error that ended the connection, if it ended.
    pub fn failure(&self) -> Option<RtmpError> {
        lock(&self.shared.failure).clone()
    }

    /// Waits until the queue is empty (everything written to the socket) or `timeout` passes.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if lock(&self.shared.queue).is_empty() || self.failure().is_some() {
                return lock(&self.shared.queue).is_empty();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
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

fn packet_for(session: &mut Session, tag: &FlvTag) -> Result<Option<Vec<u8>>, RtmpError> {
    let ts = RtmpTimestamp::new(tag.timestamp_ms);
    let result = match tag.tag_type {
        TagType::Video => contained("serialise video", || {
            session
                .session
                .publish_video_data(tag.data.clone(), ts, false)
        })?,
        TagType::Audio => contained("serialise audio", || {
            session
                .session
                .publish_audio_data(tag.data.clone(), ts, false)
        })?,
        _ => return data_packet(session, tag).map(Some),
    };
    match result.map_err(|e| RtmpError::Protocol(e.to_string()))? {
        ClientSessionResult::OutboundResponse(p) => Ok(Some(p.bytes)),
        _ => Ok(None),
    }
}

/// A script tag as a `@setDataFrame` data message, with every AMF0 field kept (rml_rtmp's
/// `publish_metadata` knows only a fixed set). Data messages travel on chunk stream 3, which
/// rml_rtmp uses for nothing else once onair sends all metadata itself; each goes out with a
/// full (type 0) header from onair's own serializer, in the session's chunk size, on the
/// message stream id the session's own serialization reveals.
fn data_packet(session: &mut Session, tag: &FlvTag) -> Result<Vec<u8>, RtmpError> {
    if session.data_stream_id.is_none() {
        let probe = contained("serialise metadata", || {
            session.session.publish_metadata(&StreamMetadata::new())
        })?
        .map_err(|e| RtmpError::Protocol(e.to_string()))?;
        if let ClientSessionResult::OutboundResponse(p) = probe {
            // A type-0 header on csid 3: 1 + 3 (timestamp) + 3 (length) + 1 (type) + 4 (stream id, LE).
            if p.bytes.len() >= 12 && p.bytes[0] == 3 {
                session.data_stream_id = Some(u32::from_le_bytes([
                    p.bytes[8],
                    p.bytes[9],
                    p.bytes[10],
                    p.bytes[11],
                ]));
            }
        }
    }
    let stream_id = session.data_stream_id.unwrap_or(1);
    ScriptData::parse(&tag.data)
        .map_err(|e| RtmpError::Protocol(format!("bad script tag: {e}")))?;
    let mut data = b"\x02\x00\x0d@setDataFrame".to_vec();
    data.extend_from_slice(&tag.data);
    let payload = MessagePayload {
        timestamp: RtmpTimestamp::new(tag.timestamp_ms),
        type_id: 18,
        message_stream_id: stream_id,
        data: bytes::Bytes::from(data),
    };
    let mut serializer = ChunkSerializer::new();
    let chunk_size = session.chunk_size;
    contained("serialise metadata", || {
        serializer.set_max_chunk_size(chunk_size, RtmpTimestamp::new(0))
    })?
    .map_err(|e| RtmpError::Protocol(e.to_string()))?;
    let packet = contained("serialise metadata", || {
        serializer.serialize(&payload, true, false)
    })?
    .map_err(|e| RtmpError::Protocol(e.to_string()))?;
    Ok(packet.bytes)
}

async fn run(mut session: Session, shared: &Shared) -> Result<(), RtmpError> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut ping_sent: Option<Instant> = None;
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
            if let Some(bytes) = packet_for(&mut session, &tag)? {
                session.io.write_all(&bytes).await?;
                lock(&shared.queue).on_sent(bytes.len(), Instant::now());
            }
        }
        if shared.stop.load(Ordering::Acquire) {
            if let Ok(Ok(results)) = contained("stop", || session.session.stop_publishing()) {
                for r in results {
                    if let ClientSessionResult::OutboundResponse(p) = r {
                        let _ = session.io.write_all(&p.bytes).await;
                    }
                }
            }
            let _ = session.io.shutdown().await;
            return Ok(());
        }
        if Instant::now() >= next_ping {
            if let Ok(Ok((packet, _))) = contained("ping", || session.session.send_ping_request()) {
                session.io.write_all(&packet.bytes).await?;
                ping_sent = Some(Instant::now());
            }
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
                let data = buf[..n].to_vec();
                for inbound in session.handle(&data).await? {
                    let Inbound::Event(e) = inbound else { continue };
                    match e {
                        ClientSessionEvent::PingResponseReceived { .. } => {
                            if let Some(sent) = ping_sent.take() {
                                let rtt = sent.elapsed().as_millis().min(u128::from(u32::MAX)) as u32;
                                shared.rtt_ms.store(rtt.max(1), Ordering::Relaxed);
                            }
                        }
                        ClientSessionEvent::UnhandleableOnStatusCode { code }
                            if code.contains("Unpublish") || code.contains("Failed") || code.contains("Error") || code.contains("BadName") =>
                        {
                            return Err(RtmpError::PublishRefused(code));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}
