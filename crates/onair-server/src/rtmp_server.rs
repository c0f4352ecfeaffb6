//! RTMP ingest and play (RTMP 1.0 §7) on rml_rtmp's `ServerSession`: one tokio task per
//! connection. Inbound chunks are validated before the session parses them (rml_rtmp panics on
//! some malformed commands). Publishes are authorised by [`Shared::begin_publish`] (signature,
//! ban, one publisher per stream); a refusal is an `onStatus` error the client maps to
//! SERVER_PROCESS_FAILED, then the connection closes. Players are fed from their hub queue,
//! several tags per socket write.

use crate::hub::{MediaTag, PublishHandle, SubscriberKind, Subscription};
use crate::server::{accept_until_shutdown, Shared};
use rml_amf0::Amf0Value;
use rml_rtmp::chunk_io::ChunkSerializer;
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::messages::RtmpMessage;
use rml_rtmp::sessions::{
    ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult,
};
use rml_rtmp::time::RtmpTimestamp;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const CHUNK_SIZE: u32 = 4096;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Tags batched into one socket write for a player.
const WRITE_BATCH: usize = 64;

/// Accepts RTMP connections until shutdown, then waits for every connection to finish.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    let conn_shutdown = shutdown.clone();
    let mut conns = accept_until_shutdown(listener, shutdown, "RTMP", move |stream, peer| {
        let (shared, shutdown) = (shared.clone(), conn_shutdown.clone());
        async move {
            if let Err(e) = connection(stream, peer, &shared, shutdown).await {
                tracing::debug!(%peer, "RTMP connection closed: {e}");
            }
        }
    })
    .await;
    while conns.join_next().await.is_some() {}
}

type ConnResult<T> = Result<T, String>;

fn contained<T>(what: &str, f: impl FnOnce() -> T) -> ConnResult<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| format!("malformed RTMP data ({what})"))
}

async fn handshake(stream: &mut TcpStream) -> ConnResult<Vec<u8>> {
    let mut hs = Handshake::new(PeerType::Server);
    let mut buf = vec![0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed during the handshake".into());
        }
        let result = contained("handshake", || hs.process_bytes(&buf[..n]))?
            .map_err(|e| format!("handshake: {e:?}"))?;
        match result {
            HandshakeProcessResult::InProgress { response_bytes } => stream
                .write_all(&response_bytes)
                .await
                .map_err(|e| e.to_string())?,
            HandshakeProcessResult::Completed {
                response_bytes,
                remaining_bytes,
            } => {
                stream
                    .write_all(&response_bytes)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(remaining_bytes);
            }
        }
    }
}

/// An `onStatus` error on `stream_id`, serialised on its own (full header) chunk stream.
fn status_error(stream_id: u32, code: &str, description: &str) -> Vec<u8> {
    let mut ser = ChunkSerializer::new();
    let _ = ser.set_max_chunk_size(CHUNK_SIZE, RtmpTimestamp::new(0));
    let props: HashMap<String, Amf0Value> = [
        ("level", "error"),
        ("code", code),
        ("description", description),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Amf0Value::Utf8String(v.to_string())))
    .collect();
    let msg = RtmpMessage::Amf0Command {
        command_name: "onStatus".into(),
        transaction_id: 0.0,
        command_object: Amf0Value::Null,
        additional_arguments: vec![Amf0Value::Object(props)],
    };
    msg.into_message_payload(RtmpTimestamp::new(0), stream_id)
        .ok()
        .and_then(|p| ser.serialize(&p, true, false).ok())
        .map(|p| p.bytes)
        .unwrap_or_default()
}

struct Conn<'a> {
    shared: &'a Arc<Shared>,
    peer: SocketAddr,
    session: ServerSession,
    out: Vec<u8>,
    publishing: Option<PublishHandle>,
    playing: Option<(Subscription, u32)>,
    close_after_write: bool,
}

impl Conn<'_> {
    fn results(&mut self, results: Vec<ServerSessionResult>) -> ConnResult<()> {
        for r in results {
            match r {
                ServerSessionResult::OutboundResponse(p) => self.out.extend_from_slice(&p.bytes),
                ServerSessionResult::RaisedEvent(e) => self.event(e)?,
                ServerSessionResult::UnhandleableMessageReceived(_) => {}
            }
        }
        Ok(())
    }

    fn accept(&mut self, request_id: u32) -> ConnResult<()> {
        let r = contained("accept", || self.session.accept_request(request_id))?
            .map_err(|e| e.to_string())?;
        self.results(r)
    }

    fn event(&mut self, e: ServerSessionEvent) -> ConnResult<()> {
        match e {
            ServerSessionEvent::ConnectionRequested { request_id, .. } => {
                self.accept(request_id)?
            }
            ServerSessionEvent::PublishStreamRequested {
                request_id,
                app_name,
                stream_key,
                ..
            } => {
                if self.publishing.is_some() || self.playing.is_some() {
                    return Err("a second publish or play on one connection".into());
                }
                match self
                    .shared
                    .begin_publish(&app_name, &stream_key, &self.peer.to_string())
                {
                    Ok(handle) => {
                        self.accept(request_id)?;
                        self.publishing = Some(handle);
                    }
                    Err(refusal) => {
                        tracing::info!(peer = %self.peer, stream = %stream_key, "publish refused: {}", refusal.description);
                        self.out
                            .extend(status_error(1, refusal.code, &refusal.description));
                        self.close_after_write = true;
                    }
                }
            }
            ServerSessionEvent::PublishStreamFinished { .. } => self.close_after_write = true,
            ServerSessionEvent::StreamMetadataChanged { metadata, .. } => {
                if let Some(h) = &self.publishing {
                    h.push(MediaTag::metadata(0, metadata));
                }
            }
            ServerSessionEvent::AudioDataReceived {
                data, timestamp, ..
            } => {
                if let Some(h) = &self.publishing {
                    h.push(MediaTag::audio(timestamp.value, data));
                }
            }
            ServerSessionEvent::VideoDataReceived {
                data, timestamp, ..
            } => {
                if let Some(h) = &self.publishing {
                    h.push(MediaTag::video(timestamp.value, data));
                }
            }
            ServerSessionEvent::PlayStreamRequested {
                request_id,
                stream_key,
                stream_id,
                ..
            } => {
                if self.publishing.is_some() || self.playing.is_some() {
                    return Err("a second publish or play on one connection".into());
                }
                match self.shared.authorize_play(&stream_key) {
                    Ok(name) => {
                        self.accept(request_id)?;
                        if let Some(sub) = self.shared.hub.subscribe(&name, SubscriberKind::Rtmp) {
                            self.playing = Some((sub, stream_id));
                        }
                    }
                    Err(desc) => {
                        self.out
                            .extend(status_error(stream_id, "NetStream.Play.Failed", &desc));
                        self.close_after_write = true;
                    }
                }
            }
            ServerSessionEvent::PlayStreamFinished { .. } => self.close_after_write = true,
            _ => {}
        }
        Ok(())
    }

    fn media(&mut self, tag: &MediaTag, stream_id: u32) -> ConnResult<()> {
        let ts = RtmpTimestamp::new(tag.timestamp);
        let packet = match (&tag.metadata, tag.tag_type) {
            (Some(m), _) => self.session.send_metadata(stream_id, m),
            (None, onair_flv::TagType::Video) => {
                self.session
                    .send_video_data(stream_id, tag.data.clone(), ts, false)
            }
            (None, onair_flv::TagType::Audio) => {
                self.session
                    .send_audio_data(stream_id, tag.data.clone(), ts, false)
            }
            _ => return Ok(()),
        }
        .map_err(|e| e.to_string())?;
        self.out.extend_from_slice(&packet.bytes);
        Ok(())
    }
}

async fn recv_play(playing: &mut Option<(Subscription, u32)>) -> Option<crate::hub::Tag> {
    match playing {
        Some((sub, _)) => sub.rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn kicked(publishing: &Option<PublishHandle>) {
    match publishing {
        Some(h) => h.info.kick.notified().await,
        None => std::future::pending().await,
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: &Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) -> ConnResult<()> {
    let _ = stream.set_nodelay(true);
    let remaining = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&mut stream))
        .await
        .map_err(|_| "handshake timed out".to_string())??;
    let mut config = ServerSessionConfig::new();
    config.chunk_size = CHUNK_SIZE;
    let (session, initial) = ServerSession::new(config).map_err(|e| e.to_string())?;
    let mut conn = Conn {
        shared,
        peer,
        session,
        out: Vec::new(),
        publishing: None,
        playing: None,
        close_after_write: false,
    };
    let mut validator = onair_rtmp::ChunkValidator::new();
    let result: ConnResult<()> = async {
        conn.results(initial)?;
        let mut input = remaining;
        let mut buf = vec![0u8; 64 << 10];
        loop {
            if !input.is_empty() {
                validator.feed(&input).map_err(|e| e.to_string())?;
                let r = contained("message", || conn.session.handle_input(&input))?
                    .map_err(|e| e.to_string())?;
                conn.results(r)?;
                input.clear();
            }
            if !conn.out.is_empty() {
                stream.write_all(&conn.out).await.map_err(|e| e.to_string())?;
                conn.out.clear();
            }
            if conn.close_after_write {
                return Ok(());
            }
            tokio::select! {
                n = stream.read(&mut buf) => {
                    let n = n.map_err(|e| e.to_string())?;
                    if n == 0 {
                        return Ok(());
                    }
                    input.extend_from_slice(&buf[..n]);
                }
                tag = recv_play(&mut conn.playing) => {
                    let Some(tag) = tag else {
                        return Err("dropped: too slow".into());
                    };
                    let Some(stream_id) = conn.playing.as_ref().map(|(_, id)| *id) else {
                        continue;
                    };
                    conn.media(&tag, stream_id)?;
                    for _ in 1..WRITE_BATCH {
                        let Some(Ok(t)) = conn.playing.as_mut().map(|(s, _)| s.rx.try_recv()) else { break };
                        conn.media(&t, stream_id)?;
                    }
                    if let Some((s, _)) = &conn.playing {
                        s.bytes_out.fetch_add(conn.out.len() as u64, Ordering::Relaxed);
                    }
                }
                () = kicked(&conn.publishing) => return Err("publisher cut (banned or disabled)".into()),
                _ = shutdown.changed() => return Ok(()),
            }
        }
    }
    .await;
    if let Some(handle) = conn.publishing.take() {
        let reason = result
            .as_ref()
            .err()
            .cloned()
            .unwrap_or_else(|| "push ended".into());
        shared.end_publish(handle, &reason).await;
    }
    let _ = stream.shutdown().await;
    result
}
