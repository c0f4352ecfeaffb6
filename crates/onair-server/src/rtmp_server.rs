//! RTMP ingest and play (RTMP 1.0 §7, `docs/rtmp.md`): the tokio adapter around onair-rtmp's
//! sans-I/O `ServerSession`, one task per connection. Publishes are authorised by
//! [`Shared::begin_publish`] (signature, ban, one publisher per stream); a refusal is an
//! `onStatus` error the client maps to SERVER_PROCESS_FAILED, then the connection closes.
//!
//! Fan-out: every tag a player gets is chunk bytes encoded once for all players
//! ([`MediaTag::rtmp_chunks`], a type-0 first chunk on play stream id 1 at [`CHUNK_SIZE`]); a
//! player's task gathers the tags that are ready into one vectored write per wake-up. Only a
//! player on another stream id (a client that called createStream twice) is encoded per
//! connection.

use crate::hub::{MediaTag, PublishHandle, SubscriberKind, Subscription, UNPUBLISH_NOTIFY};
use crate::server::{accept_until_shutdown, Shared};
use bytes::{Bytes, BytesMut};
use onair_flv::TagType;
use onair_rtmp::engine::{Handshake, HandshakeProgress, ServerConfig, ServerEvent, ServerSession};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The chunk size the server announces and encodes shared player chunks with.
pub const CHUNK_SIZE: u32 = 4096;
/// The message stream id of a player's first createStream (what shared chunks carry).
pub const PLAY_STREAM_ID: u32 = 1;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes the read buffer grows by.
const READ_CHUNK: usize = 64 << 10;
/// Tags gathered into one socket write for a player.
const WRITE_BATCH: usize = 64;

/// Accepts RTMP connections until shutdown, then waits for every connection to finish.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    let conn_shutdown = shutdown.clone();
    let limits = shared.conns.clone();
    let mut conns = accept_until_shutdown(
        listener,
        shutdown,
        "RTMP",
        limits,
        b"",
        move |stream, peer| {
            let (shared, shutdown) = (shared.clone(), conn_shutdown.clone());
            async move {
                if let Err(e) = connection(stream, peer, &shared, shutdown).await {
                    tracing::debug!(%peer, "RTMP connection closed: {e}");
                }
            }
        },
    )
    .await;
    while conns.join_next().await.is_some() {}
}

type ConnResult<T> = Result<T, String>;

async fn handshake(stream: &mut TcpStream) -> ConnResult<Vec<u8>> {
    let mut hs = Handshake::server();
    let mut buf = vec![0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed during the handshake".into());
        }
        match hs
            .process(&buf[..n])
            .map_err(|e| format!("handshake: {e}"))?
        {
            HandshakeProgress::InProgress { reply } => {
                stream.write_all(&reply).await.map_err(|e| e.to_string())?
            }
            HandshakeProgress::Done { reply, rest } => {
                stream.write_all(&reply).await.map_err(|e| e.to_string())?;
                return Ok(rest);
            }
        }
    }
}

struct Conn<'a> {
    shared: &'a Arc<Shared>,
    peer: SocketAddr,
    session: ServerSession,
    app: String,
    publishing: Option<PublishHandle>,
    playing: Option<(Subscription, u32)>,
    close_after_write: bool,
    /// The publisher ended its stream; the hub is told before the next read.
    unpublish: bool,
    /// When the last audio or video message of a publish came in.
    last_media: tokio::time::Instant,
}

impl Conn<'_> {
    fn events(&mut self) -> ConnResult<()> {
        while let Some(e) = self.session.poll_event() {
            self.event(e)?;
        }
        match self.session.error() {
            Some(e) => Err(e.to_string()),
            None => Ok(()),
        }
    }

    fn event(&mut self, e: ServerEvent) -> ConnResult<()> {
        match e {
            ServerEvent::ConnectRequested { app, .. } => {
                self.app = app;
                self.session.accept_connect();
            }
            ServerEvent::PublishRequested {
                stream_id, name, ..
            } => {
                if self.publishing.is_some() || self.playing.is_some() {
                    return Err("a second publish or play on one connection".into());
                }
                let (shared, app, peer) = (self.shared, &self.app, self.peer.to_string());
                match crate::server::off_worker(|| shared.begin_publish(app, &name, &peer)) {
                    Ok(handle) => {
                        self.session.accept_publish(stream_id);
                        self.publishing = Some(handle);
                        self.last_media = tokio::time::Instant::now();
                    }
                    Err(refusal) => {
                        tracing::info!(peer = %self.peer, stream = %name, "publish refused: {}", refusal.description);
                        self.session
                            .reject_publish(stream_id, refusal.code, &refusal.description);
                        self.close_after_write = true;
                    }
                }
            }
            ServerEvent::Media { tag, .. } => {
                if let Some(h) = &self.publishing {
                    if tag.tag_type != TagType::Script {
                        self.last_media = tokio::time::Instant::now();
                    }
                    let t = match tag.tag_type {
                        TagType::Audio => Some(MediaTag::audio(tag.timestamp_ms, tag.data)),
                        TagType::Video => Some(MediaTag::video(tag.timestamp_ms, tag.data)),
                        _ => MediaTag::script(tag.timestamp_ms, tag.data)
                            .filter(|t| t.metadata.is_some()),
                    };
                    if let Some(t) = t {
                        h.push(t);
                    }
                }
            }
            ServerEvent::PlayRequested { stream_id, name } => {
                if self.publishing.is_some() || self.playing.is_some() {
                    return Err("a second publish or play on one connection".into());
                }
                match self.shared.authorize_play(&name) {
                    Ok(name) => {
                        self.session.accept_play(stream_id);
                        if let Some(sub) = self.shared.hub.subscribe(&name, SubscriberKind::Rtmp) {
                            self.playing = Some((sub, stream_id));
                        }
                    }
                    Err(desc) => {
                        self.session
                            .reject_play(stream_id, "NetStream.Play.Failed", &desc);
                        self.close_after_write = true;
                    }
                }
            }
            // The client ended its publish or play (FCUnpublish, deleteStream, closeStream): end
            // it here and keep the connection until the client closes it, as nginx-rtmp does
            // (GStreamer's rtmp2sink still sends deleteStream after FCUnpublish).
            ServerEvent::PublishFinished { .. } => self.unpublish = true,
            ServerEvent::PlayFinished { .. } => self.playing = None,
            _ => {}
        }
        Ok(())
    }

    fn media(&mut self, tag: &MediaTag, stream_id: u32) {
        if let Some(code) = tag.notice {
            let description = if code == UNPUBLISH_NOTIFY {
                "the publisher stopped"
            } else {
                "a publisher started"
            };
            self.session
                .send_status(stream_id, "status", code, description);
            return;
        }
        let flv = tag.to_flv_tag(tag.timestamp);
        if stream_id == PLAY_STREAM_ID && self.session.chunk_size() == CHUNK_SIZE {
            let bytes: Bytes = tag.rtmp_chunks().clone();
            self.session.send_shared(stream_id, &flv, bytes);
        } else {
            self.session.send_media(stream_id, &flv);
        }
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
    let config = ServerConfig {
        chunk_size: CHUNK_SIZE,
        fourcc_list: onair_rtmp::config::DEFAULT_FOURCC_LIST
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ..ServerConfig::default()
    };
    let mut conn = Conn {
        shared,
        peer,
        session: ServerSession::new(config),
        app: String::new(),
        publishing: None,
        playing: None,
        close_after_write: false,
        unpublish: false,
        last_media: tokio::time::Instant::now(),
    };
    let (idle, media_timeout) = (
        shared.config.idle_timeout,
        shared.config.publish_media_timeout,
    );
    let mut last_activity = tokio::time::Instant::now();
    let mut out: VecDeque<Bytes> = VecDeque::new();
    let result: ConnResult<()> = async {
        // Received bytes go to the engine without a copy: a publisher's single-chunk messages
        // stay slices of this buffer all the way to the players.
        let mut input = Some(Bytes::from(remaining));
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        loop {
            if let Some(data) = input.take().filter(|d| !d.is_empty()) {
                conn.session.handle_bytes(data).map_err(|e| e.to_string())?;
                conn.events()?;
            }
            conn.session.take_output(&mut out);
            if !out.is_empty() {
                let n = onair_rtmp::write_queue(&mut stream, &mut out)
                    .await
                    .map_err(|e| e.to_string())?;
                last_activity = tokio::time::Instant::now();
                if let Some((s, _)) = &conn.playing {
                    s.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
            if conn.close_after_write {
                return Ok(());
            }
            if std::mem::take(&mut conn.unpublish) {
                if let Some(handle) = conn.publishing.take() {
                    shared.end_publish(handle, "push ended").await;
                }
            }
            if buf.capacity() - buf.len() < READ_CHUNK / 4 {
                buf.reserve(READ_CHUNK);
            }
            // A publisher must keep sending media; a connection that neither publishes nor
            // plays must keep sending something. A player waiting for its stream may wait.
            let (deadline, why) = if conn.publishing.is_some() {
                (conn.last_media + media_timeout, "no media")
            } else if conn.playing.is_some() {
                (tokio::time::Instant::now() + Duration::from_secs(86_400 * 365), "")
            } else {
                (last_activity + idle, "idle")
            };
            tokio::select! {
                n = stream.read_buf(&mut buf) => {
                    let n = n.map_err(|e| e.to_string())?;
                    if n == 0 {
                        return Ok(());
                    }
                    last_activity = tokio::time::Instant::now();
                    input = Some(buf.split().freeze());
                }
                () = tokio::time::sleep_until(deadline) => {
                    let limit = if why == "idle" { idle } else { media_timeout };
                    return Err(format!("closed: {why} for {limit:?}"));
                }
                tag = recv_play(&mut conn.playing) => {
                    let Some(tag) = tag else {
                        return Err("dropped: too slow".into());
                    };
                    let Some(stream_id) = conn.playing.as_ref().map(|(_, id)| *id) else {
                        continue;
                    };
                    conn.media(&tag, stream_id);
                    for _ in 1..WRITE_BATCH {
                        let Some(Ok(t)) = conn.playing.as_mut().map(|(s, _)| s.rx.try_recv()) else { break };
                        conn.media(&t, stream_id);
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
