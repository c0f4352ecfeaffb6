//! The client adapter: one socket ([`Io`]) driving the engine's [`ClientSession`]
//! (`crate::engine`, RTMP 1.0 §5-7, `docs/rtmp.md`). It owns the handshake, writes what the
//! engine queues (vectored writes of the queued `Bytes`), reads into the engine with the time of
//! arrival, and maps the engine's refusals to typed [`RtmpError`]s. Publish and play build on
//! [`establish`].

use crate::config::TransportConfig;
use crate::engine::{
    ClientConfig, ClientEvent, ClientRole, ClientSession, Handshake, HandshakeProgress, Status,
};
use crate::error::RtmpError;
use crate::io::Io;
use crate::url::StreamUrl;
use bytes::{Bytes, BytesMut};

/// Bytes the read buffer grows by.
const READ_CHUNK: usize = 64 * 1024;
use onair_flv::FlvTag;
use std::collections::VecDeque;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An established client session over a stream.
pub(crate) struct Session {
    pub(crate) io: Box<dyn Io>,
    pub(crate) engine: ClientSession,
    buf: BytesMut,
    out: VecDeque<Bytes>,
    /// Media that arrived while waiting for the acceptance, kept for the player.
    pub(crate) pending: Vec<FlvTag>,
    /// The Enhanced RTMP FourCCs of the server's connect `_result` (empty: a legacy server).
    pub(crate) server_fourccs: Vec<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

/// Writes every queued buffer, several per system call.
pub async fn write_queue<W: tokio::io::AsyncWrite + Unpin + ?Sized>(
    io: &mut W,
    out: &mut VecDeque<Bytes>,
) -> std::io::Result<usize> {
    let mut written = 0;
    while !out.is_empty() {
        let slices: Vec<std::io::IoSlice<'_>> = out
            .iter()
            .take(64)
            .map(|b| std::io::IoSlice::new(b))
            .collect();
        let mut n = io.write_vectored(&slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        written += n;
        while n > 0 {
            let Some(front) = out.front_mut() else { break };
            if n >= front.len() {
                n -= front.len();
                out.pop_front();
            } else {
                let _ = front.split_to(n);
                n = 0;
            }
        }
    }
    Ok(written)
}

fn rejection(stage: &str, s: Status) -> RtmpError {
    let text = if s.description.is_empty() {
        s.code.clone()
    } else {
        format!("{} ({})", s.code, s.description)
    };
    match stage {
        "connect" => RtmpError::ConnectRejected(text),
        "publish" => RtmpError::PublishRefused(text),
        "play" if s.code.contains("StreamNotFound") || s.code.contains("Play.Failed") => {
            RtmpError::StreamNotFound(text)
        }
        _ => RtmpError::Protocol(format!("{stage} refused: {text}")),
    }
}

impl Session {
    /// Writes what the engine queued.
    pub(crate) async fn flush(&mut self) -> Result<usize, RtmpError> {
        self.engine.take_output(&mut self.out);
        Ok(write_queue(&mut self.io, &mut self.out).await?)
    }

    /// Feeds bytes to the engine, writes its answers, returns its events.
    pub(crate) async fn handle(&mut self, data: &[u8]) -> Result<Vec<ClientEvent>, RtmpError> {
        self.engine.handle_input(Instant::now(), data)?;
        self.after_input().await
    }

    async fn after_input(&mut self) -> Result<Vec<ClientEvent>, RtmpError> {
        let mut events = Vec::new();
        while let Some(e) = self.engine.poll_event() {
            events.push(e);
        }
        self.flush().await?;
        Ok(events)
    }

    /// Reads once from the socket and handles what came; `Closed` at end of stream.
    /// The received bytes go to the engine without a copy (media in one chunk stays a slice
    /// of the read buffer).
    pub(crate) async fn read_events(&mut self) -> Result<Vec<ClientEvent>, RtmpError> {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        let n = self.io.read_buf(&mut self.buf).await?;
        if n == 0 {
            return Err(RtmpError::Closed(String::new()));
        }
        let data = self.buf.split().freeze();
        self.engine.handle_bytes(Instant::now(), data)?;
        self.after_input().await
    }

    /// Handles events until publish or play started; refusals are errors. Returns when the
    /// publish or play command went out.
    async fn await_start(&mut self, mut events: Vec<ClientEvent>) -> Result<Instant, RtmpError> {
        let mut requested = None;
        loop {
            if self.engine.stream_id() != 0 {
                requested.get_or_insert_with(Instant::now);
            }
            let mut started = false;
            for e in events {
                match e {
                    ClientEvent::Started => started = true,
                    ClientEvent::Rejected { stage, status } => {
                        return Err(rejection(stage, status))
                    }
                    ClientEvent::Media(tag) => self.pending.push(tag),
                    ClientEvent::Connected { fourcc_list } => self.server_fourccs = fourcc_list,
                    _ => {}
                }
            }
            if started {
                return Ok(requested.unwrap_or_else(Instant::now));
            }
            events = self.read_events().await?;
        }
    }
}

async fn handshake(io: &mut Box<dyn Io>) -> Result<Vec<u8>, RtmpError> {
    let (mut hs, c0c1) = Handshake::client().map_err(RtmpError::Handshake)?;
    io.write_all(&c0c1).await?;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = io.read(&mut buf).await?;
        if n == 0 {
            return Err(RtmpError::Closed(" during the handshake".into()));
        }
        match hs.process(&buf[..n]).map_err(RtmpError::Handshake)? {
            HandshakeProgress::InProgress { reply } => io.write_all(&reply).await?,
            HandshakeProgress::Done { reply, rest } => {
                io.write_all(&reply).await?;
                return Ok(rest);
            }
        }
    }
}

/// What to do once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Publish,
    Play,
}

/// Opens, handshakes, connects and starts publishing or playing, all within the configured
/// handshake timeout. Returns the session and when the publish or play command was sent.
pub(crate) async fn establish(
    url: &StreamUrl,
    config: &TransportConfig,
    role: Role,
) -> Result<(Session, Instant), RtmpError> {
    if !url.is_rtmp() {
        return Err(RtmpError::InvalidUrl(format!(
            "{url}: not an rtmp:// or rtmps:// URL"
        )));
    }
    let io = crate::io::open(url, config).await?;
    let fut = async move {
        let mut io = io;
        let rest = handshake(&mut io).await?;
        let mut cfg = ClientConfig::new(&url.app, &url.tc_url());
        cfg.chunk_size = config.chunk_size;
        cfg.fourcc_list = config.fourcc_list.clone();
        let engine_role = match role {
            Role::Publish => ClientRole::Publish,
            Role::Play => ClientRole::Play,
        };
        let engine = ClientSession::new(cfg, engine_role, &url.stream_with_query(), Instant::now());
        let mut s = Session {
            io,
            engine,
            buf: BytesMut::with_capacity(READ_CHUNK),
            out: VecDeque::new(),
            pending: Vec::new(),
            server_fourccs: Vec::new(),
        };
        s.flush().await?;
        let events = s.handle(&rest).await?;
        let requested = s.await_start(events).await?;
        Ok::<_, RtmpError>((s, requested))
    };
    tokio::time::timeout(config.handshake_timeout, fut)
        .await
        .map_err(|_| RtmpError::Timeout {
            stage: "RTMP handshake, connect and publish/play",
            after: config.handshake_timeout,
        })?
}

/// Feeds `data` as a server's chunk stream into a fresh play session of the real engine, as a
/// play connection does after its handshake, without any I/O. For the `rtmp_inbound` fuzz
/// target: it must return (an error is fine) and never panic. Returns how many events came.
#[doc(hidden)]
pub fn fuzz_inbound(data: &[u8]) -> Result<usize, RtmpError> {
    let now = Instant::now();
    let cfg = ClientConfig::new("live", "rtmp://127.0.0.1/live");
    let mut produced = 0;
    for role in [ClientRole::Play, ClientRole::Publish] {
        let mut s = ClientSession::new(cfg.clone(), role, "x", now);
        // Split the input in three so state carried across calls is exercised too.
        let (a, rest) = data.split_at(data.len() / 3);
        let (b, c) = rest.split_at(rest.len() / 2);
        for part in [a, b, c] {
            s.handle_input(now, part)?;
            while s.poll_event().is_some() {
                produced += 1;
            }
            let mut out = VecDeque::new();
            s.take_output(&mut out);
        }
    }
    Ok(produced)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz finding (rtmp_inbound, rml_rtmp era): an AMF0 command message with no values made
    /// rml_rtmp's command parser panic. The engine refuses it with a typed error.
    #[test]
    fn command_with_too_few_values_is_a_protocol_error() {
        let crash =
            include_bytes!("../tests/fuzz_regressions/rtmp_inbound-too-few-command-values.bin");
        let e = fuzz_inbound(crash).unwrap_err();
        assert!(matches!(e, RtmpError::Malformed(_)), "{e}");
    }
}
