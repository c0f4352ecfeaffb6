//! Tag bodies as samples, whatever their framing: [`video_payload`] reads legacy AVC (codec id
//! 7), legacy HEVC (id 12) and single-track Enhanced RTMP video (`avc1`, `hvc1`, `av01`,
//! `vp09`); [`audio_payload`] legacy AAC and Enhanced RTMP audio (`mp4a`, `Opus`). Each is a
//! configuration record or one coded frame, with the codec's FourCC. For the server's
//! screenshots and MP4 recordings and the engines' local recordings; `None` for bodies that
//! carry neither (command frames, end of sequence, metadata, multitrack, other codecs, or bytes
//! too short to say).

use crate::enhanced::{
    video_packet, ExVideoTag, FourCc, CODEC_HEVC_LEGACY, FOURCC_AAC, FOURCC_AVC, FOURCC_HEVC,
    SOUND_FORMAT_EX_HEADER,
};
use bytes::Bytes;

/// A video body as a sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoPayload {
    /// A decoder configuration record (avcC, hvcC, av1C, vpcC).
    Config {
        /// The codec.
        codec: FourCc,
        /// The record.
        record: Bytes,
    },
    /// One coded frame.
    Coded {
        /// The codec.
        codec: FourCc,
        /// A keyframe (frame type 1).
        keyframe: bool,
        /// pts - dts, ms.
        composition_time_ms: i32,
        /// Length-prefixed NAL units (AVC, HEVC) or the codec's own framing (AV1 OBUs, VP9).
        data: Bytes,
    },
}

/// Reads a video tag body; see the module docs.
pub fn video_payload(body: &Bytes) -> Option<VideoPayload> {
    let first = *body.first()?;
    if first & 0x80 != 0 {
        let t = ExVideoTag::parse(body).ok()?;
        return match t.packet_type {
            video_packet::SEQUENCE_START => Some(VideoPayload::Config {
                codec: t.codec,
                record: t.payload,
            }),
            video_packet::CODED_FRAMES | video_packet::CODED_FRAMES_X if t.frame_type != 5 => {
                Some(VideoPayload::Coded {
                    codec: t.codec,
                    keyframe: t.frame_type == 1,
                    composition_time_ms: t.composition_time_ms,
                    data: t.payload,
                })
            }
            _ => None,
        };
    }
    let codec = match first & 0x0f {
        crate::video::CODEC_AVC => FOURCC_AVC,
        CODEC_HEVC_LEGACY => FOURCC_HEVC,
        _ => return None,
    };
    if body.len() < 5 || first >> 4 == 5 {
        return None;
    }
    let cts = (u32::from(body[2]) << 16) | (u32::from(body[3]) << 8) | u32::from(body[4]);
    match body[1] {
        0 => Some(VideoPayload::Config {
            codec,
            record: body.slice(5..),
        }),
        1 => Some(VideoPayload::Coded {
            codec,
            keyframe: first >> 4 == 1,
            composition_time_ms: ((cts << 8) as i32) >> 8,
            data: body.slice(5..),
        }),
        _ => None,
    }
}

/// An audio body as a sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioPayload {
    /// A decoder configuration (AudioSpecificConfig, OpusHead).
    Config {
        /// The codec.
        codec: FourCc,
        /// The record.
        record: Bytes,
    },
    /// One coded frame.
    Coded {
        /// The codec.
        codec: FourCc,
        /// The raw frame.
        data: Bytes,
    },
}

/// Reads an audio tag body; see the module docs.
pub fn audio_payload(body: &Bytes) -> Option<AudioPayload> {
    let first = *body.first()?;
    let format = first >> 4;
    if format == SOUND_FORMAT_EX_HEADER {
        let packet_type = first & 0x0f;
        let codec: FourCc = body.get(1..5)?.try_into().ok()?;
        let data = body.slice(5..);
        return match packet_type {
            0 => Some(AudioPayload::Config {
                codec,
                record: data,
            }),
            1 => Some(AudioPayload::Coded { codec, data }),
            _ => None,
        };
    }
    if format != crate::audio::FORMAT_AAC || body.len() < 2 {
        return None;
    }
    let data = body.slice(2..);
    Some(match body[1] {
        0 => AudioPayload::Config {
            codec: FOURCC_AAC,
            record: data,
        },
        _ => AudioPayload::Coded {
            codec: FOURCC_AAC,
            data,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enhanced::FOURCC_OPUS;

    #[test]
    fn video_bodies() {
        let seq = video_payload(&Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 2])).unwrap();
        assert!(
            matches!(seq, VideoPayload::Config { codec, record } if codec == FOURCC_AVC && record[..] == [1, 2])
        );
        let key = video_payload(&Bytes::from_static(&[0x1c, 1, 0xff, 0xff, 0xd8, 9])).unwrap();
        assert!(matches!(
            key,
            VideoPayload::Coded { codec, keyframe: true, composition_time_ms: -40, .. } if codec == FOURCC_HEVC
        ));
        let ex = video_payload(&Bytes::from_static(b"\xa3av01\x12\x00")).unwrap();
        assert!(matches!(
            ex,
            VideoPayload::Coded {
                keyframe: false,
                ..
            }
        ));
        assert!(
            video_payload(&Bytes::from_static(&[0x57, 0, 0, 0, 0])).is_none(),
            "command"
        );
        assert!(
            video_payload(&Bytes::from_static(&[0x17, 2, 0, 0, 0])).is_none(),
            "end"
        );
        assert!(
            video_payload(&Bytes::from_static(&[0x12, 0])).is_none(),
            "H.263"
        );
        assert!(video_payload(&Bytes::new()).is_none());
    }

    #[test]
    fn audio_bodies() {
        let aac = audio_payload(&Bytes::from_static(&[0xaf, 0, 0x11, 0x90])).unwrap();
        assert!(matches!(aac, AudioPayload::Config { codec, .. } if codec == FOURCC_AAC));
        let opus = audio_payload(&Bytes::from_static(b"\x91Opus\x01\x02")).unwrap();
        assert!(
            matches!(opus, AudioPayload::Coded { codec, data } if codec == FOURCC_OPUS && data[..] == [1, 2])
        );
        assert!(
            audio_payload(&Bytes::from_static(&[0x2f, 1])).is_none(),
            "MP3"
        );
        assert!(audio_payload(&Bytes::from_static(b"\x90Op")).is_none());
    }
}
