//! The player's receive side: connect (RTMP or HTTP-FLV by the URL), turn FLV tags into
//! jitter-buffer packets, reconnect on loss per the reconnect policy (attempts count only
//! connections that delivered no media, so a server that accepts and then sends nothing
//! still ends in ERROR_DISCONNECTED), on a single-threaded tokio runtime of its own.

use super::jitter::{Packet, Payload};
use super::observer::PlayerEvent;
use super::Shared;
use crate::pusher::ReconnectPolicy;
use onair_core::V2TXLiveCode;
use onair_flv::{AudioTag, FlvTag, TagType, VideoData, VideoTag};
use onair_rtmp::{PlaySession, RtmpError, TransportConfig};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

    /// Sleeps `d` unless stopped first; `false` when stopped.
    async fn pause(&self, d: Duration) -> bool {
        tokio::select! {
            _ = self.shared.stop_notify.notified() => {}
            _ = tokio::time::sleep(d) => {}
        }
        !self.shared.stopped()
    }

    async fn supervise(&self) {
        let mut failures = 0u32;
        let mut warned = Warned::default();
        loop {
            if self.shared.stopped() {
                return;
            }
            let connect = tokio::select! {
                _ = self.shared.stop_notify.notified() => return,
                r = PlaySession::connect(&self.url, &self.transport) => r,
            };
            let lost = match connect {
                Ok(session) => {
                    self.shared.emit(PlayerEvent::Connected);
                    self.shared.buffer().reconnected();
                    let (media, reason) = self.receive(session, &mut warned).await;
                    match reason {
                        None => return,
                        Some(e) if !e.is_retryable() => {
                            self.fail(e.code(), e.to_string());
                            return;
                        }
                        Some(e) => {
                            if media {
                                failures = 0;
                            } else {
                                failures += 1;
                            }
                            e
                        }
                    }
                }
                Err(e) if !e.is_retryable() => {
                    self.fail(e.code(), e.to_string());
                    return;
                }
                Err(e) => {
                    failures += 1;
                    e
                }
            };
            tracing::warn!("play connection: {lost}");
            if failures > self.reconnect.attempts {
                self.fail(
                    V2TXLiveCode::ErrorDisconnected,
                    format!(
                        "{lost}; {} reconnect attempts failed",
                        self.reconnect.attempts
                    ),
                );
                return;
            }
            if !self.pause(self.reconnect.interval).await {
                return;
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

    /// Reads one connection until it fails (`Some`) or the player stops (`None`); the flag
    /// says whether any media arrived.
    async fn receive(
        &self,
        mut session: PlaySession,
        warned: &mut Warned,
    ) -> (bool, Option<RtmpError>) {
        let mut media = false;
        loop {
            let tag = tokio::select! {
                _ = self.shared.stop_notify.notified() => return (media, None),
                t = session.next_tag() => t,
            };
            if self.shared.stopped() {
                return (media, None);
            }
            match tag {
                Ok(tag) => {
                    if let Some(p) = self.packet(tag, warned) {
                        media = true;
                        self.shared.buffer().push(p, Instant::now());
                        self.shared.wake.notify_all();
                    }
                }
                Err(e) => return (media, Some(e)),
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
