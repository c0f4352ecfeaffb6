//! The player's receive side: connect (RTMP or HTTP-FLV by the URL), turn FLV tags into
//! jitter-buffer packets, reconnect on loss per the reconnect policy (attempts count only
//! connections that delivered no media, so a server that accepts and then sends nothing
//! still ends in ERROR_DISCONNECTED), on a single-threaded tokio runtime of its own. It also
//! carries out `switch_stream` (see `switch`): the new connection is prepared beside the
//! playing one and replaces it at its first keyframe; reconnects then go to the new URL.

use super::jitter::{Packet, Payload};
use super::observer::PlayerEvent;
use super::switch::{prepare, switch_code, Prepared, SwitchFailure};
use super::Shared;
use crate::control::reconnect::{Failure, Next, Reconnect};
use crate::pusher::ReconnectPolicy;
use bytes::Bytes;
use onair_codec::AudioConfig;
use onair_core::V2TXLiveCode;
use onair_flv::{AudioTag, FlvTag, TagType, VideoData, VideoTag};
use onair_rtmp::{PlaySession, RtmpError, TransportConfig};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A switch being prepared: dropping it cancels it.
type PendingSwitch = Pin<Box<dyn Future<Output = Result<Prepared, SwitchFailure>>>>;

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
        let mut url = self.url.clone();
        let mut plan = Reconnect::new(self.reconnect, &url);
        let mut warned = Warned::default();
        let mut tap_clock = TapClock::default();
        loop {
            let connect = tokio::select! {
                _ = stop.stopped() => return,
                r = PlaySession::connect(&url, &self.transport) => r,
                new = self.shared.switches.next() => {
                    // Not playing anything yet: the new URL simply replaces the old one.
                    self.adopt(&mut url, &mut plan, new);
                    continue;
                }
            };
            let lost = match connect {
                Ok(session) => {
                    plan.on_connected();
                    self.shared.emit(PlayerEvent::Connected);
                    self.shared.buffer().reconnected();
                    match self
                        .receive(session, &mut warned, &mut tap_clock, &mut plan, &mut url)
                        .await
                    {
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
                        new = self.shared.switches.next() => self.adopt(&mut url, &mut plan, new),
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

    /// A switch requested while no connection plays: the next connect goes to `new` with a
    /// fresh reconnect plan (its own txTime).
    fn adopt(&self, url: &mut String, plan: &mut Reconnect, new: String) {
        tracing::info!("switch_stream to {new} while not connected: connecting to it instead");
        *plan = Reconnect::new(self.reconnect, &new);
        self.shared
            .emit(PlayerEvent::Switched(new.clone(), switch_code::OK));
        *url = new;
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
    /// arriving tells the reconnect plan the connection was good. A switch request prepares
    /// the new connection beside this one and replaces it at its start point (`url` and
    /// `plan` then follow the new stream); a failed switch leaves this one playing.
    async fn receive(
        &self,
        mut session: PlaySession,
        warned: &mut Warned,
        tap_clock: &mut TapClock,
        plan: &mut Reconnect,
        url: &mut String,
    ) -> Option<RtmpError> {
        let mut pending: Option<(String, PendingSwitch)> = None;
        loop {
            tokio::select! {
                _ = self.shared.stop.stopped() => return None,
                new = self.shared.switches.next() => {
                    // A newer request replaces one still being prepared (dropping cancels it).
                    let job = Box::pin(prepare(new.clone(), self.transport.clone()));
                    pending = Some((new, job));
                }
                done = async {
                    match pending.as_mut() {
                        Some((_, job)) => job.await,
                        None => std::future::pending().await,
                    }
                } => {
                    let new_url = pending.take().map(|(u, _)| u).unwrap_or_default();
                    match done {
                        Ok(ready) => {
                            tracing::info!("switched from {url} to {}", ready.url);
                            // The old connection closes here, at the new stream's start point.
                            session = ready.session;
                            *plan = Reconnect::new(self.reconnect, &ready.url);
                            plan.on_connected();
                            self.shared.buffer().switched();
                            tap_clock.switched();
                            for tag in ready.tags {
                                self.accept(tag, warned, tap_clock, plan);
                            }
                            *url = ready.url;
                            self.shared.emit(PlayerEvent::Switched(url.clone(), switch_code::OK));
                        }
                        Err(e) => {
                            tracing::warn!("{}", e.message);
                            self.shared.emit(PlayerEvent::Warning(
                                V2TXLiveCode::ErrorFailed,
                                e.message,
                            ));
                            self.shared.emit(PlayerEvent::Switched(new_url, e.code));
                        }
                    }
                }
                t = session.next_tag() => match t {
                    Ok(tag) => self.accept(tag, warned, tap_clock, plan),
                    Err(e) => {
                        if let Some((new, _)) = pending.take() {
                            // The old stream is gone while the new one was being prepared:
                            // the reconnect goes straight to the stream asked for.
                            tracing::info!("play connection lost during a switch; reconnecting to {new}");
                            *plan = Reconnect::new(self.reconnect, &new);
                            *url = new;
                        }
                        return Some(e);
                    }
                },
            }
        }
    }

    /// One received tag: to the local recording (on one timeline across switches) and, as a
    /// packet, to the jitter buffer.
    fn accept(
        &self,
        tag: FlvTag,
        warned: &mut Warned,
        tap_clock: &mut TapClock,
        plan: &mut Reconnect,
    ) {
        self.shared.tap.tap(&tap_clock.retime(&tag));
        if let Some(p) = self.packet(tag, warned) {
            plan.on_media();
            self.shared.buffer().push(p, Instant::now());
            self.shared.wake.notify_all();
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
                let payload = match video_payload(&tag.data) {
                    Ok(Some(p)) => p,
                    Ok(None) => return None,
                    Err(TagError::Malformed(e)) => {
                        self.warn_once(
                            &mut warned.malformed,
                            V2TXLiveCode::ErrorFailed,
                            format!("malformed video tag dropped: {e}"),
                        );
                        return None;
                    }
                    Err(TagError::Unsupported(codec)) => {
                        self.warn_once(
                            &mut warned.video_codec,
                            V2TXLiveCode::ErrorNotSupported,
                            format!("video codec {codec} is not supported (H.264, HEVC, AV1 and VP9 are); playing audio only"),
                        );
                        return None;
                    }
                };
                Some(Packet { dts, payload })
            }
            TagType::Audio => {
                self.shared
                    .rx_audio_bytes
                    .fetch_add(tag.data.len() as u64, Ordering::Relaxed);
                let payload = match audio_payload(&tag.data) {
                    Ok(Some(p)) => p,
                    Ok(None) => return None,
                    Err(TagError::Unsupported(codec)) => {
                        self.warn_once(
                            &mut warned.audio_codec,
                            V2TXLiveCode::ErrorNotSupported,
                            format!(
                                "{codec} is not supported (AAC and Opus are); playing video only"
                            ),
                        );
                        return None;
                    }
                    Err(TagError::Malformed(e)) => {
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

/// The timeline of the tags handed to the local recording: after `switch_stream` the new
/// stream's tags are shifted to follow the old one's (one frame after its newest), so a
/// recording of the same size runs on instead of stepping back in time.
#[derive(Debug, Default)]
struct TapClock {
    newest: Option<u32>,
    shift: i64,
    splice: bool,
}

impl TapClock {
    fn switched(&mut self) {
        self.splice = true;
    }

    fn retime(&mut self, tag: &FlvTag) -> FlvTag {
        let own = i64::from(tag.timestamp_ms);
        if std::mem::take(&mut self.splice) {
            if let Some(n) = self.newest {
                self.shift = i64::from(n) + 20 - own;
            }
        }
        let ts = (own + self.shift).clamp(0, i64::from(u32::MAX)) as u32;
        self.newest = Some(self.newest.map_or(ts, |n| n.max(ts)));
        let mut out = tag.clone();
        out.timestamp_ms = ts;
        out
    }
}

/// Why a media tag gives no packet.
#[derive(Debug)]
pub(super) enum TagError {
    Malformed(String),
    Unsupported(String),
}

/// A video tag body as a packet: legacy AVC (codec id 7) and HEVC (id 12, as Chinese CDNs and
/// SRS send it), or Enhanced RTMP (`avc1`, `hvc1`, `av01`, `vp09`). `None` for what carries no
/// picture (end of sequence, metadata, command frames).
pub(super) fn video_payload(body: &Bytes) -> Result<Option<Payload>, TagError> {
    use onair_flv::enhanced::{
        video_packet, ExVideoTag, CODEC_HEVC_LEGACY, FOURCC_AV1, FOURCC_AVC, FOURCC_HEVC,
        FOURCC_VP9,
    };
    let malformed = |e: &dyn std::fmt::Display| TagError::Malformed(e.to_string());
    let Some(&first) = body.first() else {
        return Err(TagError::Malformed("empty video tag".into()));
    };
    if first & 0x80 != 0 {
        let t = ExVideoTag::parse(body).map_err(|e| malformed(&e))?;
        if ![FOURCC_AVC, FOURCC_HEVC, FOURCC_AV1, FOURCC_VP9].contains(&t.codec) {
            return Err(TagError::Unsupported(
                String::from_utf8_lossy(&t.codec).into_owned(),
            ));
        }
        return Ok(match t.packet_type {
            video_packet::SEQUENCE_START => Some(config(t.codec, t.payload)?),
            video_packet::CODED_FRAMES | video_packet::CODED_FRAMES_X if t.frame_type != 5 => {
                Some(Payload::Video {
                    keyframe: t.frame_type == 1,
                    cts: i64::from(t.composition_time_ms) * 1000,
                    data: t.payload,
                })
            }
            _ => None,
        });
    }
    if first & 0x0f == CODEC_HEVC_LEGACY {
        // Laid out as AVC: frame type / codec, packet type, composition time, payload.
        if body.len() < 5 {
            return Err(TagError::Malformed(
                "legacy HEVC tag shorter than 5 bytes".into(),
            ));
        }
        let cts = ((u32::from(body[2]) << 16 | u32::from(body[3]) << 8 | u32::from(body[4])) << 8)
            as i32
            >> 8;
        return Ok(match body[1] {
            0 => Some(config(FOURCC_HEVC, body.slice(5..))?),
            1 if first >> 4 != 5 => Some(Payload::Video {
                keyframe: first >> 4 == 1,
                cts: i64::from(cts) * 1000,
                data: body.slice(5..),
            }),
            _ => None,
        });
    }
    let v = VideoTag::parse(body).map_err(|e| malformed(&e))?;
    let keyframe = v.is_keyframe();
    Ok(match v.data {
        VideoData::AvcSequenceHeader(_) => Some(config(FOURCC_AVC, body.slice(5..))?),
        VideoData::AvcNalus {
            composition_time_ms,
            data,
        } => Some(Payload::Video {
            keyframe,
            cts: i64::from(composition_time_ms) * 1000,
            data,
        }),
        VideoData::Unsupported { codec_id, .. } => {
            return Err(TagError::Unsupported(codec_id.to_string()))
        }
        _ => None,
    })
}

/// An audio tag body as a packet: legacy AAC (sound format 10) or Enhanced RTMP (`mp4a`,
/// `Opus`). `None` for what carries no sound (Opus's channel-order packet, end of sequence).
pub(super) fn audio_payload(body: &Bytes) -> Result<Option<Payload>, TagError> {
    use onair_flv::enhanced::{FOURCC_AAC, FOURCC_OPUS, SOUND_FORMAT_EX_HEADER};
    use onair_flv::opus::audio_packet;
    let malformed = |e: &dyn std::fmt::Display| TagError::Malformed(e.to_string());
    let Some(&first) = body.first() else {
        return Err(TagError::Malformed("empty audio tag".into()));
    };
    if first >> 4 == SOUND_FORMAT_EX_HEADER {
        let Some(codec) = body.get(1..5) else {
            return Err(TagError::Malformed(
                "Enhanced RTMP audio tag shorter than 5 bytes".into(),
            ));
        };
        let payload = body.slice(5..);
        let packet_type = first & 0x0f;
        if packet_type == audio_packet::MULTITRACK {
            return Ok(None); // one track is played; multitrack audio is not (yet) read
        }
        return match codec {
            c if c == FOURCC_OPUS => Ok(match packet_type {
                audio_packet::SEQUENCE_START => Some(Payload::AudioConfig(AudioConfig::Opus(
                    onair_flv::OpusHead::parse(&payload).map_err(|e| malformed(&e))?,
                ))),
                audio_packet::CODED_FRAMES => Some(Payload::Audio {
                    data: payload,
                    opus: true,
                }),
                _ => None,
            }),
            c if c == FOURCC_AAC => Ok(match packet_type {
                audio_packet::SEQUENCE_START => Some(Payload::AudioConfig(AudioConfig::Aac(
                    onair_flv::AudioSpecificConfig::parse(&payload).map_err(|e| malformed(&e))?,
                ))),
                audio_packet::CODED_FRAMES => Some(Payload::Audio {
                    data: payload,
                    opus: false,
                }),
                _ => None,
            }),
            c => Err(TagError::Unsupported(format!(
                "audio codec {}",
                String::from_utf8_lossy(c)
            ))),
        };
    }
    Ok(match AudioTag::parse(body).map_err(|e| malformed(&e))? {
        AudioTag::AacSequenceHeader(c) => Some(Payload::AudioConfig(AudioConfig::Aac(c))),
        AudioTag::AacRaw(d) => Some(Payload::Audio {
            data: d,
            opus: false,
        }),
        AudioTag::Unsupported { format, .. } => {
            return Err(TagError::Unsupported(format!("sound format {format}")))
        }
        _ => None,
    })
}

/// A sequence header's record as a config; AVC's and HEVC's are parsed for their NAL length
/// size (an AVC record that does not parse is malformed).
fn config(fourcc: [u8; 4], record: Bytes) -> Result<Payload, TagError> {
    let malformed = |e: onair_flv::FlvError| TagError::Malformed(e.to_string());
    let nal_length = match fourcc {
        onair_flv::enhanced::FOURCC_AVC => Some(
            onair_flv::AvcDecoderConfig::parse(&record)
                .map_err(malformed)?
                .nal_length_size,
        ),
        // The decoder has the last word on an hvcC onair cannot read (then no SEI is read).
        onair_flv::enhanced::FOURCC_HEVC => onair_flv::HevcDecoderConfig::parse(&record)
            .ok()
            .map(|c| c.nal_length_size),
        _ => None,
    };
    Ok(Payload::VideoConfig(super::jitter::VideoConfig {
        fourcc,
        record,
        nal_length,
    }))
}

#[cfg(test)]
mod video_tag_tests {
    use super::*;

    #[test]
    fn the_recording_timeline_runs_on_across_a_switch() {
        let mut c = TapClock::default();
        let t = |ms| FlvTag::new(TagType::Video, ms, Bytes::new());
        assert_eq!(c.retime(&t(5_000)).timestamp_ms, 5_000);
        assert_eq!(c.retime(&t(5_040)).timestamp_ms, 5_040);
        c.switched();
        // The new stream's own clock is behind (or ahead): it continues after 5 040.
        assert_eq!(c.retime(&t(100)).timestamp_ms, 5_060);
        assert_eq!(c.retime(&t(140)).timestamp_ms, 5_100);
        c.switched();
        assert_eq!(c.retime(&t(900_000)).timestamp_ms, 5_120);
    }

    fn payload(body: &[u8]) -> Result<Option<Payload>, TagError> {
        video_payload(&Bytes::copy_from_slice(body))
    }

    #[test]
    fn legacy_enhanced_and_hevc_id_12_tags_become_packets() {
        // Enhanced HEVC coded frames with a -40 ms composition time, keyframe.
        match payload(b"\x91hvc1\xff\xff\xd8\x00\x00\x00\x01\x26") {
            Ok(Some(Payload::Video {
                keyframe,
                cts,
                data,
            })) => {
                assert!(keyframe);
                assert_eq!(cts, -40_000);
                assert_eq!(&data[..], b"\x00\x00\x00\x01\x26");
            }
            other => panic!("{other:?}"),
        }
        // Enhanced AV1 inter frame (CodedFramesX).
        assert!(matches!(
            payload(b"\xa3av01\x12\x00"),
            Ok(Some(Payload::Video {
                keyframe: false,
                cts: 0,
                ..
            }))
        ));
        // Enhanced sequence start carries the record whole.
        match payload(b"\x90av01\x81\x00\x0c\x00") {
            Ok(Some(Payload::VideoConfig(c))) => {
                assert_eq!(&c.fourcc, b"av01");
                assert_eq!(&c.record[..], b"\x81\x00\x0c\x00");
                assert_eq!(c.nal_length, None);
            }
            other => panic!("{other:?}"),
        }
        // Legacy HEVC (codec id 12): inter frame, cts 33 ms.
        assert!(matches!(
            payload(&[0x2c, 1, 0, 0, 33, 0, 0, 0, 1, 2]),
            Ok(Some(Payload::Video {
                keyframe: false,
                cts: 33_000,
                ..
            }))
        ));
        match payload(&[0x1c, 0, 0, 0, 0, 1, 2, 3]) {
            Ok(Some(Payload::VideoConfig(c))) => assert_eq!(&c.fourcc, b"hvc1"),
            other => panic!("{other:?}"),
        }
        // Not decodable: a codec onair has no decoder for, garbage, an empty body.
        assert!(matches!(
            payload(b"\x91xxxx\x00\x00\x00"),
            Err(TagError::Unsupported(_))
        ));
        assert!(matches!(
            payload(&[0x12, 0, 0]),
            Err(TagError::Unsupported(_))
        ));
        assert!(matches!(payload(&[0x1c, 1]), Err(TagError::Malformed(_))));
        assert!(matches!(payload(&[]), Err(TagError::Malformed(_))));
        // End of sequence carries no picture.
        assert!(matches!(payload(b"\x92hvc1"), Ok(None)));
    }
}
