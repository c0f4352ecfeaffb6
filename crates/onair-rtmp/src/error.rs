//! `RtmpError`: every way a publish or play connection can fail, typed so the facade maps each to
//! a V2TXLive code and the user sees what happened (refused, timed out, rejected by the server,
//! stream not found, malformed data, closed by the peer).

use onair_core::V2TXLiveCode;
use std::time::Duration;

/// A transport failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtmpError {
    /// The URL does not parse or uses an unsupported scheme.
    #[error("invalid URL {0}")]
    InvalidUrl(String),
    /// TCP connect failed (refused, unreachable, DNS).
    #[error("cannot connect to {addr}: {reason}")]
    ConnectFailed {
        /// host:port.
        addr: String,
        /// The OS's reason.
        reason: String,
    },
    /// A stage did not finish in time.
    #[error("{stage} timed out after {after:?}")]
    Timeout {
        /// Which stage: TCP connect, handshake, connect, publish, play, read.
        stage: &'static str,
        /// The configured limit.
        after: Duration,
    },
    /// TLS set-up or certificate verification failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The RTMP handshake failed.
    #[error("RTMP handshake failed: {0}")]
    Handshake(String),
    /// The server refused the connect command (wrong app, auth).
    #[error("the server rejected the connection: {0}")]
    ConnectRejected(String),
    /// The server refused to publish (bad name, bad signature, stream busy or banned).
    #[error("the server refused to publish: {0}")]
    PublishRefused(String),
    /// The stream to play does not exist (RTMP NetStream.Play.StreamNotFound, HTTP 404).
    #[error("stream not found: {0}")]
    StreamNotFound(String),
    /// The peer sent something that is not valid RTMP / HTTP-FLV.
    #[error("protocol error from the server: {0}")]
    Protocol(String),
    /// The peer's RTMP broke the protocol or one of the engine's caps (typed, with where).
    #[error("malformed RTMP from the peer: {0}")]
    Malformed(crate::engine::EngineError),
    /// The HTTP server answered with an error status.
    #[error("HTTP {status} from {url}")]
    Http {
        /// Status code.
        status: u16,
        /// The URL requested.
        url: String,
    },
    /// The HTTP body is not FLV.
    #[error("the response from {url} is not FLV (starts with {head})")]
    NotFlv {
        /// The URL requested.
        url: String,
        /// The first bytes, in hex.
        head: String,
    },
    /// The peer closed the connection.
    #[error("the server closed the connection{0}")]
    Closed(String),
    /// The connection was closed locally (stop).
    #[error("stopped")]
    Stopped,
    /// Another I/O failure.
    #[error("I/O error: {0}")]
    Io(String),
}

impl RtmpError {
    /// The V2TXLive code for this error.
    pub fn code(&self) -> V2TXLiveCode {
        match self {
            Self::InvalidUrl(_) => V2TXLiveCode::ErrorInvalidParameter,
            Self::Timeout { .. } => V2TXLiveCode::ErrorRequestTimeout,
            Self::ConnectRejected(_)
            | Self::PublishRefused(_)
            | Self::StreamNotFound(_)
            | Self::Http { .. } => V2TXLiveCode::ErrorServerProcessFailed,
            Self::Closed(_) => V2TXLiveCode::ErrorDisconnected,
            _ => V2TXLiveCode::ErrorFailed,
        }
    }

    /// `true` when retrying the same URL can help (network trouble), `false` when the server
    /// said no or the URL is wrong.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::ConnectFailed { .. }
                | Self::Timeout { .. }
                | Self::Closed(_)
                | Self::Io(_)
                | Self::Protocol(_)
                | Self::Malformed(_)
                | Self::Tls(_)
        )
    }
}

impl From<std::io::Error> for RtmpError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe => Self::Closed(format!(" ({e})")),
            _ => Self::Io(e.to_string()),
        }
    }
}

impl From<crate::engine::EngineError> for RtmpError {
    fn from(e: crate::engine::EngineError) -> Self {
        Self::Malformed(e)
    }
}
