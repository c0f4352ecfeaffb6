//! FLV video tag bodies (FLV 10.1 annex E.4.3): frame type, codec id, and for AVC (codec 7) the
//! AVCPacketType with its signed 24-bit composition time offset.

use crate::avcc::AvcDecoderConfig;
use crate::error::{FlvError, Reader, TagKind};
use bytes::{BufMut, Bytes, BytesMut};

/// The AVC codec id.
pub const CODEC_AVC: u8 = 7;

/// The FLV video frame type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameType {
    /// A keyframe (IDR for AVC).
    Key,
    /// An inter frame.
    Inter,
    /// A disposable inter frame (H.263 only).
    DisposableInter,
    /// A generated keyframe (server use).
    GeneratedKey,
    /// Video info / command frame.
    Command,
}

impl FrameType {
    fn from_bits(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::Key,
            2 => Self::Inter,
            3 => Self::DisposableInter,
            4 => Self::GeneratedKey,
            5 => Self::Command,
            _ => return None,
        })
    }
    fn bits(self) -> u8 {
        match self {
            Self::Key => 1,
            Self::Inter => 2,
            Self::DisposableInter => 3,
            Self::GeneratedKey => 4,
            Self::Command => 5,
        }
    }
}

/// The body of a video tag.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VideoData {
    /// AVC sequence header.
    AvcSequenceHeader(AvcDecoderConfig),
    /// One AVC access unit in AVCC form.
    AvcNalus {
        /// Composition time offset in ms (pts - dts).
        composition_time_ms: i32,
        /// Length-prefixed NAL units.
        data: Bytes,
    },
    /// AVC end of sequence.
    AvcEndOfSequence,
    /// A codec onair does not decode (the player warns).
    Unsupported {
        /// The FLV codec id.
        codec_id: u8,
        /// The raw body after the first byte.
        data: Bytes,
    },
}

/// A parsed video tag body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoTag {
    /// Key or inter.
    pub frame_type: FrameType,
    /// The payload.
    pub data: VideoData,
}

impl VideoTag {
    /// A sequence-header tag (always a keyframe).
    pub fn sequence_header(config: AvcDecoderConfig) -> Self {
        Self {
            frame_type: FrameType::Key,
            data: VideoData::AvcSequenceHeader(config),
        }
    }

    /// An access-unit tag.
    pub fn nalus(keyframe: bool, composition_time_ms: i32, avcc: Bytes) -> Self {
        Self {
            frame_type: if keyframe {
                FrameType::Key
            } else {
                FrameType::Inter
            },
            data: VideoData::AvcNalus {
                composition_time_ms,
                data: avcc,
            },
        }
    }

    /// The 5 bytes in front of the NAL units of a [`VideoTag::nalus`] body (FrameType and
    /// CodecID, AVCPacketType 1, composition time), for a caller that lays the NAL units out
    /// behind them itself (the encoders do, so the body needs no copy).
    pub fn nalus_header(keyframe: bool, composition_time_ms: i32) -> [u8; 5] {
        let frame_type = if keyframe {
            FrameType::Key
        } else {
            FrameType::Inter
        };
        let cts = composition_time_ms.clamp(-(1 << 23), (1 << 23) - 1) as u32;
        let c = cts.to_be_bytes();
        [(frame_type.bits() << 4) | CODEC_AVC, 1, c[1], c[2], c[3]]
    }

    /// `true` for keyframes.
    pub fn is_keyframe(&self) -> bool {
        matches!(self.frame_type, FrameType::Key | FrameType::GeneratedKey)
    }

    /// Parses a video tag body. Codecs other than AVC parse as [`VideoData::Unsupported`].
    pub fn parse(body: &Bytes) -> Result<Self, FlvError> {
        let mut r = Reader::new(body, "video tag", TagKind::Video);
        let first = r.u8("FrameType/CodecID")?;
        if first & 0x80 != 0 {
            // Enhanced RTMP (HEVC, AV1 by FourCC): not decoded by onair.
            return Ok(Self {
                frame_type: FrameType::from_bits((first >> 4) & 0x07).unwrap_or(FrameType::Inter),
                data: VideoData::Unsupported {
                    codec_id: first & 0x0f,
                    data: body.slice(1..),
                },
            });
        }
        let frame_type = FrameType::from_bits(first >> 4)
            .ok_or_else(|| r.error(format!("reserved frame type {}", first >> 4)))?;
        let codec_id = first & 0x0f;
        if codec_id != CODEC_AVC {
            return Ok(Self {
                frame_type,
                data: VideoData::Unsupported {
                    codec_id,
                    data: body.slice(1..),
                },
            });
        }
        if frame_type == FrameType::Command {
            return Ok(Self {
                frame_type,
                data: VideoData::Unsupported {
                    codec_id,
                    data: body.slice(1..),
                },
            });
        }
        let packet_type = r.u8("AVCPacketType")?;
        let cts = r.u24("CompositionTime")?;
        let composition_time_ms = ((cts << 8) as i32) >> 8; // sign-extend 24 bits
        let data = match packet_type {
            0 => VideoData::AvcSequenceHeader(AvcDecoderConfig::parse(r.rest())?),
            1 => VideoData::AvcNalus {
                composition_time_ms,
                data: body.slice(r.pos()..),
            },
            2 => VideoData::AvcEndOfSequence,
            t => return Err(r.error(format!("AVCPacketType {t}, expected 0, 1 or 2"))),
        };
        Ok(Self { frame_type, data })
    }

    /// Serialises the body.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::new();
        match &self.data {
            VideoData::Unsupported { codec_id, data } => {
                b.put_u8((self.frame_type.bits() << 4) | (codec_id & 0x0f));
                b.put_slice(data);
            }
            avc => {
                b.put_u8((self.frame_type.bits() << 4) | CODEC_AVC);
                match avc {
                    VideoData::AvcSequenceHeader(c) => {
                        b.put_slice(&[0, 0, 0, 0]);
                        b.put_slice(&c.encode());
                    }
                    VideoData::AvcNalus {
                        composition_time_ms,
                        data,
                    } => {
                        let h = Self::nalus_header(self.is_keyframe(), *composition_time_ms);
                        b.put_slice(&h[1..]);
                        b.put_slice(data);
                    }
                    _ => b.put_slice(&[2, 0, 0, 0]),
                }
            }
        }
        b.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_composition_time() {
        let t = VideoTag::nalus(false, -40, Bytes::from_static(&[0, 0, 0, 1, 0x41]));
        let enc = t.encode();
        assert_eq!(&enc[..5], &[0x27, 1, 0xff, 0xff, 0xd8]);
        assert_eq!(VideoTag::parse(&enc).unwrap(), t);
    }

    #[test]
    fn other_codecs_are_unsupported_not_errors() {
        let t = VideoTag::parse(&Bytes::from_static(&[0x12, 1, 2, 3])).unwrap();
        assert!(matches!(t.data, VideoData::Unsupported { codec_id: 2, .. }));
        let t = VideoTag::parse(&Bytes::from_static(&[0x90, b'h', b'v', b'c', b'1'])).unwrap();
        assert!(matches!(t.data, VideoData::Unsupported { .. }));
    }

    #[test]
    fn malformed_bodies() {
        for body in [
            &[][..],
            &[0x17],
            &[0x17, 1, 0],
            &[0x07, 1, 0, 0, 0],
            &[0x17, 9, 0, 0, 0],
            &[0x17, 0, 0, 0, 0, 1],
        ] {
            assert!(
                VideoTag::parse(&Bytes::copy_from_slice(body)).is_err(),
                "{body:02x?}"
            );
        }
    }
}
