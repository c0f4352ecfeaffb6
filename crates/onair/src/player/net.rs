//! The player's receive side: connect (RTMP or HTTP-FLV by the URL), turn FLV tags into
//! jitter-buffer packets, reconnect on loss per the reconnect policy (attempts count only
//! connections that delivered no media, so a server that accepts and then sends nothing
//! still ends in ERROR_DISCONNECTED), on a single-threaded tokio runtime of its own.

use super::jitter::{Packet, Payload};
use super::observer::PlayerEvent;
use super::Shared;
use crate::control::reconnect::{Failure, Next, Reconnect};
use crate::pusher::ReconnectPolicy;
use onair_core::V2TXLiveCode;
use onair_flv::{AudioTag, FlvTag, TagType, VideoData, VideoTag};
use onair_rtmp::{PlaySession, RtmpError, TransportConfig};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) transport: TransportConfig,
    pub(crate) reconnect: ReconnectPolicy,
    pub(crate) shared: Arc<Shared>,
}

/// Warnings given once per session.
#[derive(Debug, Default)]
struct Warned {
    video_codec: bool,
    audio_codec: bool,
    malformed: bool,
}

impl Receiver {
    pub(crate) fn run(self) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                self.shared.emit(PlayerEvent::Error(
                    V2TXLiveCode::ErrorFailed,
                    format!("cannot start the network runtime: {e}"),
                ));
                return;
            }
        };
        runtime.block_on(self.supervise());
        self.shared.wake.notify_all();
    }

    /// Connects, receives, reconnects per the `control::reconnect` rules; returns when
    /// stopped or when it gives up.
    async fn supervise(&self) {
        let stop = &self.shared.stop;
        let mut plan = Reconnect::new(self.reconnect, &self.url);
        let mut warned = Warned::default();
        loop {
            let connect = tokio::select! {
                _ = stop.stopped() => return,
                r = PlaySession::connect(&self.url, &self.transport) => r,
            };
            let lost = match connect {
                Ok(session) => {
                    plan.on_connected();
                    self.shared.emit(PlayerEvent::Connected);
                    self.shared.buffer().reconnected();
                    match self.receive(session, &mut warned, &mut plan).await {
                        None => return,
                        Some(e) => e,
                    }
                }
                Err(e) => e,
            };
            tracing::warn!("play connection: {lost}");
            let failure = Failure {
                retryable: lost.is_retryable(),
            };
            let unix_now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            match plan.on_failure(failure, Instant::now(), unix_now) {
                Next::RetryAt(at) => {
                    tokio::select! {
                        _ = stop.stopped() => return,
                        _ = tokio::time::sleep_until(at.into()) => {}
                    }
                }
                Next::Fatal => {
                    self.fail(lost.code(), lost.to_string());
                    return;
                }
                Next::GiveUp => {
                    self.fail(
                        V2TXLiveCode::ErrorDisconnected,
                        format!(
                            "{lost}; {} reconnect attempts failed",
                            self.reconnect.attempts
                        ),
                    );
                    return;
                }
                Next::Expired => {
                    self.fail(
                        V2TXLiveCode::ErrorDisconnected,
                        format!("{lost}; the URL's txTime has passed, so no reconnect"),
                    );
                    return;
                }
            }
        }
    }

    fn fail(&self, code: V2TXLiveCode, message: String) {
        let code = if code == V2TXLiveCode::ErrorFailed {
            V2TXLiveCode::ErrorDisconnected
        } else {
            code
        };
        self.shared.ended.store(true, Ordering::Release);
        self.shared.emit(PlayerEvent::Error(code, message));
    }

    /// Reads one connection until it fails (`Some`) or the player stops (`None`); media
    /// arriving tells the reconnect plan the connection was good.
    async fn receive(
        &self,
        mut session: PlaySession,
        warned: &mut Warned,
        plan: &mut Reconnect,
    ) -> Option<RtmpError> {
        loop {
            let tag = tokio::select! {
                _ = self.shared.stop.stopped() => return None,
                t = session.next_tag() => t,
            };
            match tag {
                Ok(tag) => {
                    if let Some(p) = self.packet(tag, warned) {
                        plan.on_media();
                        self.shared.buffer().push(p, Instant::now());
                        self.shared.wake.notify_all();
                    }
                }
                Err(e) => return Some(e),
            }
        }
    }

    fn warn_once(&self, flag: &mut bool, code: V2TXLiveCode, message: String) {
        tracing::warn!("{message}");
        if !*flag {
            *flag = true;
            self.shared.emit(PlayerEvent::Warning(code, message));
        }
    }

    /// One FLV tag as a packet; malformed or unsupported tags are dropped with a warning.
    fn packet(&self, tag: FlvTag, warned: &mut Warned) -> Option<Packet> {
        let dts = i64::from(tag.timestamp_ms) * 1000;
        match tag.tag_type {
            TagType::Video => {
                self.shared
                    .rx_video_bytes
                    .fetch_add(tag.data.len() as u64, Ordering::Relaxed);
                let v = match VideoTag::parse(&tag.data) {
                    Ok(v) => v,
                    Err(e) => {
                        self.warn_once(
                            &mut warned.malformed,
                            V2TXLiveCode::ErrorFailed,
                            format!("malformed video tag dropped: {e}"),
                        );
                        return None;
                    }
                };
                let keyframe = v.is_keyframe();
                let payload = match v.data {
                    VideoData::AvcSequenceHeader(c) => Payload::VideoConfig(c),
                    VideoData::AvcNalus {
                        composition_time_ms,
                        data,
                    } => Payload::Video {
                        keyframe,
                        cts: i64::from(composition_time_ms) * 1000,
                        data,
                    },
                    VideoData::Unsupported { codec_id, .. } => {
                        self.warn_once(
                            &mut warned.video_codec,
                            V2TXLiveCode::ErrorNotSupported,
                            format!("video codec {codec_id} is not supported (H.264 only); playing audio only"),
                        );
                        return None;
                    }
                    _ => return None,
                };
                Some(Packet { dts, payload })
            }
            TagType::Audio => {
                self.shared
                    .rx_audio_bytes
                    .fetch_add(tag.data.len() as u64, Ordering::Relaxed);
                let payload = match AudioTag::parse(&tag.data) {
                    Ok(AudioTag::AacSequenceHeader(c)) => Payload::AudioConfig(c),
                    Ok(AudioTag::AacRaw(d)) => Payload::Audio(d),
                    Ok(AudioTag::Unsupported { format, .. }) => {
                        self.warn_once(
                            &mut warned.audio_codec,
                            V2TXLiveCode::ErrorNotSupported,
                            format!("sound format {format} is not supported (AAC only); playing video only"),
                        );
                        return None;
                    }
                    Ok(_) => return None,
                    Err(e) => {
                        self.warn_once(
                            &mut warned.malformed,
                            V2TXLiveCode::ErrorFailed,
                            format!("malformed audio tag dropped: {e}"),
                        );
                        return None;
                    }
                };
                Some(Packet { dts, payload })
            }
            _ => None,
        }
    }
}
