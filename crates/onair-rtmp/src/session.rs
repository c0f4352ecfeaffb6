//! The RTMP session (RTMP 1.0 §5-7) on rml_rtmp's sans-I/O `ClientSession`: handshake, connect
//! with the tcUrl, publish or play, and inbound message handling, driven over any [`Io`].
//!
//! Every session runs a second rml_rtmp `ChunkDeserializer` over the same inbound bytes (the
//! `InboundTap`) before the `ClientSession` sees them. It validates AMF0 command and data
//! messages with onair's bounded scanner (rml_rtmp panics on a command with fewer than three
//! values, a fuzz finding), and play sessions take their media from it rather than from the
//! session's events: the session drops media whose message stream id is not the one
//! createStream returned, and node-media-server (among others) sends media on stream id 0.
//!
//! rml_rtmp's chunk deserializer keeps a single reassembly buffer and can panic (subtraction
//! overflow, capacity overflow) on a hostile chunk stream. Every call into it goes through
//! `contained`, which turns such a panic into `RtmpError::Protocol`: a hostile server gets an
//! error, never a crashed app. Its message length field caps one message at 16 MiB.

use crate::config::TransportConfig;
use crate::error::RtmpError;
use crate::io::Io;
use crate::url::StreamUrl;
use onair_flv::{FlvTag, TagType};
use rml_rtmp::chunk_io::ChunkDeserializer;
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{
    ClientSession, ClientSessionConfig, ClientSessionEvent, ClientSessionResult, PublishRequestType,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs `f` on the session, turning a panic inside rml_rtmp into a protocol error.
pub(crate) fn contained<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, RtmpError> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|_| RtmpError::Protocol(format!("malformed RTMP data ({what})")))
}

/// What a session turns inbound bytes into.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// A control event (acceptance, status, ping response...).
    Event(ClientSessionEvent),
    /// A media or script message, as an FLV tag (play sessions only).
    Media(FlvTag),
}

/// Reads the raw chunk stream ahead of the session: validates AMF0 messages and (for play)
/// extracts media whatever its message stream id.
struct InboundTap {
    deserializer: ChunkDeserializer,
    deliver_media: bool,
}

/// AMF0 command (20) and data (18) messages must scan cleanly; commands need a name, a
/// transaction id and a command object.
fn validate_amf0(type_id: u8, data: &[u8]) -> Result<(), RtmpError> {
    let min_values = match type_id {
        20 => 3,
        18 => 1,
        _ => return Ok(()),
    };
    let n = onair_flv::metadata::count_amf0_values(data)
        .map_err(|e| RtmpError::Protocol(format!("bad AMF0 message: {e}")))?;
    if n < min_values {
        return Err(RtmpError::Protocol(format!(
            "AMF0 message of type {type_id} with {n} values, expected at least {min_values}"
        )));
    }
    Ok(())
}

impl InboundTap {
    fn feed(&mut self, data: &[u8], out: &mut Vec<Inbound>) -> Result<(), RtmpError> {
        let mut input = data;
        loop {
            let next = contained("inbound chunk stream", || {
                self.deserializer.get_next_message(input)
            })?
            .map_err(|e| RtmpError::Protocol(e.to_string()))?;
            input = &[];
            let Some(m) = next else { return Ok(()) };
            validate_amf0(m.type_id, &m.data)?;
            if !self.deliver_media && m.type_id != 1 {
                continue;
            }
            let tag_type = match m.type_id {
                1 if m.data.len() >= 4 => {
                    let size = u32::from_be_bytes([m.data[0], m.data[1], m.data[2], m.data[3]])
                        & 0x7fff_ffff;
                    self.deserializer
                        .set_max_chunk_size(size as usize)
                        .map_err(|e| RtmpError::Protocol(e.to_string()))?;
                    continue;
                }
                8 => TagType::Audio,
                9 => TagType::Video,
                18 => TagType::Script,
                _ => continue,
            };
            out.push(Inbound::Media(FlvTag::new(
                tag_type,
                m.timestamp.value,
                m.data,
            )));
        }
    }
}

/// Validates an inbound RTMP chunk stream before an rml_rtmp session parses it (servers use
/// this in front of `ServerSession`): AMF0 commands and data must scan cleanly and chunk-size
/// changes are followed. rml_rtmp panics on some malformed commands; this turns them into a
/// [`RtmpError::Protocol`] first.
pub struct ChunkValidator {
    tap: InboundTap,
}

impl std::fmt::Debug for ChunkValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkValidator").finish_non_exhaustive()
    }
}

impl Default for ChunkValidator {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkValidator {
    /// A validator for a fresh connection (chunk size 128).
    pub fn new() -> Self {
        Self {
            tap: InboundTap {
                deserializer: ChunkDeserializer::new(),
                deliver_media: false,
            },
        }
    }

    /// Checks the next bytes of the stream (partial messages are kept for the next call).
    pub fn feed(&mut self, data: &[u8]) -> Result<(), RtmpError> {
        let mut out = Vec::new();
        self.tap.feed(data, &mut out)
    }
}

/// An established RTMP session over a stream.
pub(crate) struct Session {
    pub(crate) io: Box<dyn Io>,
    pub(crate) session: ClientSession,
    buf: Vec<u8>,
    /// The validating tap (delivering media for play sessions).
    tap: InboundTap,
    /// Media that arrived while waiting for an acceptance, kept for the player.
    pub(crate) pending: Vec<FlvTag>,
    /// Message stream id for data messages onair serialises itself (publish).
    pub(crate) data_stream_id: Option<u32>,
    /// The outbound chunk size announced to the server.
    pub(crate) chunk_size: u32,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

fn status_error(code: &str, publishing: bool) -> RtmpError {
    if code.contains("StreamNotFound") || code.contains("Play.Failed") {
        RtmpError::StreamNotFound(code.to_string())
    } else if publishing {
        RtmpError::PublishRefused(code.to_string())
    } else {
        RtmpError::Protocol(format!("unexpected status {code}"))
    }
}

impl Session {
    /// Feeds bytes to the session; writes its responses; returns raised events.
    pub(crate) async fn handle(&mut self, data: &[u8]) -> Result<Vec<Inbound>, RtmpError> {
        let mut events = Vec::new();
        self.tap.feed(data, &mut events)?;
        let results = contained("inbound chunk stream", || self.session.handle_input(data))?
            .map_err(|e| RtmpError::Protocol(e.to_string()))?;
        for r in results {
            match r {
                ClientSessionResult::OutboundResponse(p) => self.io.write_all(&p.bytes).await?,
                // With a tap, media comes from the tap only.
                ClientSessionResult::RaisedEvent(
                    ClientSessionEvent::VideoDataReceived { .. }
                    | ClientSessionEvent::AudioDataReceived { .. }
                    | ClientSessionEvent::StreamMetadataReceived { .. },
                ) if self.tap.deliver_media => {}
                ClientSessionResult::RaisedEvent(e) => events.push(Inbound::Event(e)),
                ClientSessionResult::UnhandleableMessageReceived(_) => {}
            }
        }
        Ok(events)
    }

    /// Reads once from the socket and handles what came; `Closed` at end of stream.
    pub(crate) async fn read_events(&mut self) -> Result<Vec<Inbound>, RtmpError> {
        let n = self.io.read(&mut self.buf).await?;
        if n == 0 {
            return Err(RtmpError::Closed(String::new()));
        }
        let data = self.buf[..n].to_vec();
        self.handle(&data).await
    }

    /// Reads until `accept` says the awaited event came, or an error status arrives.
    async fn await_event(
        &mut self,
        publishing: bool,
        accept: impl Fn(&ClientSessionEvent) -> bool,
    ) -> Result<(), RtmpError> {
        loop {
            let mut accepted = false;
            for inbound in self.read_events().await? {
                let e = match inbound {
                    Inbound::Media(tag) => {
                        self.pending.push(tag);
                        continue;
                    }
                    Inbound::Event(e) => e,
                };
                if accepted {
                    continue;
                }
                if accept(&e) {
                    accepted = true;
                    continue;
                }
                match e {
                    ClientSessionEvent::ConnectionRequestRejected { description } => {
                        return Err(RtmpError::ConnectRejected(description))
                    }
                    ClientSessionEvent::UnhandleableOnStatusCode { code }
                        if code.contains("Failed")
                            || code.contains("Rejected")
                            || code.contains("BadName")
                            || code.contains("NotFound")
                            || code.contains("Error") =>
                    {
                        return Err(status_error(&code, publishing))
                    }
                    _ => {}
                }
            }
            if accepted {
                return Ok(());
            }
        }
    }
}

async fn handshake(io: &mut Box<dyn Io>) -> Result<Vec<u8>, RtmpError> {
    let mut hs = Handshake::new(PeerType::Client);
    let p0p1 = hs
        .generate_outbound_p0_and_p1()
        .map_err(|e| RtmpError::Handshake(format!("{e:?}")))?;
    io.write_all(&p0p1).await?;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = io.read(&mut buf).await?;
        if n == 0 {
            return Err(RtmpError::Closed(" during the handshake".into()));
        }
        let result = contained("handshake", || hs.process_bytes(&buf[..n]))?
            .map_err(|e| RtmpError::Handshake(format!("{e:?}")))?;
        match result {
            HandshakeProcessResult::InProgress { response_bytes } => {
                io.write_all(&response_bytes).await?
            }
            HandshakeProcessResult::Completed {
                response_bytes,
                remaining_bytes,
            } => {
                io.write_all(&response_bytes).await?;
                return Ok(remaining_bytes);
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
/// handshake timeout. Returns the session and when the publish/play request was sent.
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
        let leftover = handshake(&mut io).await?;
        let mut cfg = ClientSessionConfig::new();
        cfg.tc_url = Some(url.tc_url());
        cfg.chunk_size = config.chunk_size;
        cfg.flash_version = "FMLE/3.0 (compatible; onair)".into();
        let (session, initial) =
            ClientSession::new(cfg).map_err(|e| RtmpError::Protocol(e.to_string()))?;
        let mut s = Session {
            io,
            session,
            buf: vec![0u8; 64 * 1024],
            tap: InboundTap {
                deserializer: ChunkDeserializer::new(),
                deliver_media: role == Role::Play,
            },
            pending: Vec::new(),
            data_stream_id: None,
            chunk_size: config.chunk_size,
        };
        for r in initial {
            if let ClientSessionResult::OutboundResponse(p) = r {
                s.io.write_all(&p.bytes).await?;
            }
        }
        let connect = s
            .session
            .request_connection(url.app.clone())
            .map_err(|e| RtmpError::Protocol(e.to_string()))?;
        if let ClientSessionResult::OutboundResponse(p) = connect {
            s.io.write_all(&p.bytes).await?;
        }
        if !leftover.is_empty() {
            s.handle(&leftover).await?;
        }
        s.await_event(false, |e| {
            matches!(e, ClientSessionEvent::ConnectionRequestAccepted)
        })
        .await?;
        let name = url.stream_with_query();
        let request = match role {
            Role::Publish => s.session.request_publishing(name, PublishRequestType::Live),
            Role::Play => s.session.request_playback(name),
        }
        .map_err(|e| RtmpError::Protocol(e.to_string()))?;
        if let ClientSessionResult::OutboundResponse(p) = request {
            s.io.write_all(&p.bytes).await?;
        }
        let requested = Instant::now();
        let publishing = role == Role::Publish;
        s.await_event(publishing, |e| match role {
            Role::Publish => matches!(e, ClientSessionEvent::PublishRequestAccepted),
            Role::Play => matches!(e, ClientSessionEvent::PlaybackRequestAccepted),
        })
        .await?;
        Ok::<_, RtmpError>((s, requested))
    };
    tokio::time::timeout(config.handshake_timeout, fut)
        .await
        .map_err(|_| RtmpError::Timeout {
            stage: "RTMP handshake, connect and publish/play",
            after: config.handshake_timeout,
        })?
}

/// Feeds `data` as a server's chunk stream into a fresh client session and media tap, the way
/// a play connection handles it, without any I/O. For the `rtmp_inbound` fuzz target: it must
/// return (an error is fine) and never panic. Returns how many messages came out.
#[doc(hidden)]
pub fn fuzz_inbound(data: &[u8]) -> Result<usize, RtmpError> {
    let (mut session, _) = ClientSession::new(ClientSessionConfig::new())
        .map_err(|e| RtmpError::Protocol(e.to_string()))?;
    let _ = session.request_connection("live".into());
    let mut tap = InboundTap {
        deserializer: ChunkDeserializer::new(),
        deliver_media: true,
    };
    let mut out = Vec::new();
    let mut produced = 0;
    // Split the input in two so state carried across calls is exercised too.
    let (a, b) = data.split_at(data.len() / 2);
    for part in [a, b] {
        tap.feed(part, &mut out)?;
        let results = contained("inbound chunk stream", || session.handle_input(part))?
            .map_err(|e| RtmpError::Protocol(e.to_string()))?;
        produced += results.len();
    }
    Ok(produced + out.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz finding (rtmp_inbound): an AMF0 command message with no values made rml_rtmp's
    /// command parser panic (`drain(..3)` on an empty list). It is now refused before rml_rtmp
    /// sees it.
    #[test]
    fn command_with_too_few_values_is_a_protocol_error() {
        let crash =
            include_bytes!("../tests/fuzz_regressions/rtmp_inbound-too-few-command-values.bin");
        let e = fuzz_inbound(crash).unwrap_err();
        assert!(matches!(e, RtmpError::Protocol(_)), "{e}");
    }

    #[test]
    fn command_validation() {
        assert!(validate_amf0(20, &[]).is_err());
        assert!(
            validate_amf0(20, b"\x02\x00\x01a\x00\x3f\xf0\x00\x00\x00\x00\x00\x00\x05").is_ok()
        );
        assert!(validate_amf0(20, b"\x02\x00\x01a\x05").is_err());
        assert!(validate_amf0(18, b"\x03\x00").is_err());
        assert!(validate_amf0(9, b"anything").is_ok());
    }
}
