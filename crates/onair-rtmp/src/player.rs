//! Play sessions: `RtmpPlayer` (rtmp://, rtmps://) and `HttpFlvPlayer` (http://, https://
//! `.flv`), both yielding the same stream of FLV tags, and [`PlaySession`] to pick by URL.

use crate::config::TransportConfig;
use crate::engine::ClientEvent;
use crate::error::RtmpError;
use crate::session::{establish, Role, Session};
use crate::url::StreamUrl;
use bytes::Bytes;
use onair_flv::{FlvDemuxer, FlvTag};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Plays an RTMP stream.
#[derive(Debug)]
pub struct RtmpPlayer {
    session: Session,
    pending: VecDeque<FlvTag>,
    requested: Instant,
    idle_timeout: Duration,
}

impl RtmpPlayer {
    /// Connects and starts playing.
    pub async fn connect(url: &str, config: &TransportConfig) -> Result<Self, RtmpError> {
        let url = StreamUrl::parse(url)?;
        let (mut session, requested) = establish(&url, config, Role::Play).await?;
        let pending = std::mem::take(&mut session.pending).into();
        Ok(Self {
            session,
            pending,
            requested,
            idle_timeout: config.idle_timeout,
        })
    }

    /// When the play command was sent (for first-frame latency).
    pub fn play_requested_at(&self) -> Instant {
        self.requested
    }

    /// The next tag; `Closed` when the server ends the stream.
    pub async fn next_tag(&mut self) -> Result<FlvTag, RtmpError> {
        loop {
            if let Some(t) = self.pending.pop_front() {
                return Ok(t);
            }
            let events = tokio::time::timeout(self.idle_timeout, self.session.read_events())
                .await
                .map_err(|_| RtmpError::Timeout {
                    stage: "read",
                    after: self.idle_timeout,
                })??;
            for event in events {
                match event {
                    ClientEvent::Media(tag) => self.pending.push_back(tag),
                    ClientEvent::Status(status) => {
                        let code = status.code;
                        if code.contains("StreamNotFound") || code.contains("Failed") {
                            return Err(RtmpError::StreamNotFound(code));
                        }
                        // UnpublishNotify: the publisher left; servers such as nginx-rtmp
                        // keep the play session and resume it when a publisher returns, so
                        // the player waits (its idle timeout still ends a dead stream).
                        if code.contains("Play.Stop") {
                            return Err(RtmpError::Closed(format!(" ({code})")));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Plays an HTTP-FLV stream.
#[derive(Debug)]
pub struct HttpFlvPlayer {
    response: reqwest::Response,
    demux: FlvDemuxer,
    requested: Instant,
    idle_timeout: Duration,
}

fn hex_head(b: &[u8]) -> String {
    b.iter()
        .take(8)
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl HttpFlvPlayer {
    /// Requests the stream and checks that the body is FLV.
    pub async fn connect(url: &str, config: &TransportConfig) -> Result<Self, RtmpError> {
        let parsed = StreamUrl::parse(url)?;
        if parsed.is_rtmp() {
            return Err(RtmpError::InvalidUrl(format!(
                "{url}: not an http(s):// .flv URL"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(config.max_redirects))
            .connect_timeout(config.connect_timeout);
        if let Some(pem) = &config.extra_ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| RtmpError::Tls(e.to_string()))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(|e| RtmpError::Io(e.to_string()))?;
        let mut request = client.get(url);
        for (k, v) in &config.http_headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let requested = Instant::now();
        let response = tokio::time::timeout(config.handshake_timeout, request.send())
            .await
            .map_err(|_| RtmpError::Timeout {
                stage: "HTTP request",
                after: config.handshake_timeout,
            })?
            .map_err(|e| {
                if e.is_connect() {
                    RtmpError::ConnectFailed {
                        addr: parsed.authority(),
                        reason: e.to_string(),
                    }
                } else if e.is_redirect() {
                    RtmpError::Protocol(format!("too many redirects: {e}"))
                } else {
                    RtmpError::Io(e.to_string())
                }
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(RtmpError::StreamNotFound(format!("HTTP 404 from {url}")));
        }
        if !status.is_success() {
            return Err(RtmpError::Http {
                status: status.as_u16(),
                url: url.to_string(),
            });
        }
        let mut player = Self {
            response,
            demux: FlvDemuxer::new(),
            requested,
            idle_timeout: config.idle_timeout,
        };
        // Check the signature before handing out anything.
        let mut head = Vec::new();
        while head.len() < 3 {
            match player.chunk().await? {
                Some(c) => {
                    head.extend_from_slice(&c);
                    player.demux.push(&c);
                }
                None => break,
            }
        }
        if !head.starts_with(b"FLV") {
            return Err(RtmpError::NotFlv {
                url: url.to_string(),
                head: hex_head(&head),
            });
        }
        Ok(player)
    }

    async fn chunk(&mut self) -> Result<Option<Bytes>, RtmpError> {
        tokio::time::timeout(self.idle_timeout, self.response.chunk())
            .await
            .map_err(|_| RtmpError::Timeout {
                stage: "read",
                after: self.idle_timeout,
            })?
            .map_err(|e| RtmpError::Io(e.to_string()))
    }

    /// When the request was sent.
    pub fn play_requested_at(&self) -> Instant {
        self.requested
    }

    /// The next tag; `Closed` at the end of the body.
    pub async fn next_tag(&mut self) -> Result<FlvTag, RtmpError> {
        loop {
            if let Some(tag) = self
                .demux
                .next_tag()
                .map_err(|e| RtmpError::Protocol(e.to_string()))?
            {
                return Ok(tag);
            }
            match self.chunk().await? {
                Some(c) => self.demux.push(&c),
                None => return Err(RtmpError::Closed(" (end of the HTTP body)".into())),
            }
        }
    }
}

/// A play connection of either kind, chosen by the URL's scheme.
#[derive(Debug)]
#[non_exhaustive]
pub enum PlaySession {
    /// rtmp:// or rtmps://.
    Rtmp(Box<RtmpPlayer>),
    /// http:// or https:// .flv.
    HttpFlv(Box<HttpFlvPlayer>),
}

impl PlaySession {
    /// Connects to `url` (INVALID_PARAMETER for anything but rtmp(s):// and http(s)://...flv).
    pub async fn connect(url: &str, config: &TransportConfig) -> Result<Self, RtmpError> {
        if StreamUrl::parse(url)?.is_rtmp() {
            Ok(Self::Rtmp(Box::new(
                RtmpPlayer::connect(url, config).await?,
            )))
        } else {
            Ok(Self::HttpFlv(Box::new(
                HttpFlvPlayer::connect(url, config).await?,
            )))
        }
    }

    /// The next tag.
    pub async fn next_tag(&mut self) -> Result<FlvTag, RtmpError> {
        match self {
            Self::Rtmp(p) => p.next_tag().await,
            Self::HttpFlv(p) => p.next_tag().await,
        }
    }

    /// When the play request was sent.
    pub fn play_requested_at(&self) -> Instant {
        match self {
            Self::Rtmp(p) => p.play_requested_at(),
            Self::HttpFlv(p) => p.play_requested_at(),
        }
    }
}
