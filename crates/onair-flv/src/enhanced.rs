//! Enhanced RTMP v1/v2 tag headers (veovera enhanced-rtmp; the facts used are in `docs/rtmp.md`):
//! the ExVideoTagHeader (IsExHeader bit, frame type, VideoPacketType, FourCC `avc1`, `hvc1`,
//! `av01`, `vp09`), the ExAudioTagHeader (SoundFormat 9, AudioPacketType, FourCC `mp4a`, `Opus`),
//! multitrack packets (read, passed through), and the legacy HEVC codec id 12 that Chinese CDNs
//! use. [`video_info`] / [`audio_info`] classify any body (legacy or enhanced) for the server's
//! GOP cache, recordings and screenshots; [`ExVideoTag::parse`] reads the coded payload.

use crate::error::{FlvError, Reader, TagKind};
use bytes::Bytes;

/// A FourCC as it appears on the wire.
pub type FourCc = [u8; 4];

/// H.264.
pub const FOURCC_AVC: FourCc = *b"avc1";
/// HEVC.
pub const FOURCC_HEVC: FourCc = *b"hvc1";
/// AV1.
pub const FOURCC_AV1: FourCc = *b"av01";
/// VP9.
pub const FOURCC_VP9: FourCc = *b"vp09";
/// AAC.
pub const FOURCC_AAC: FourCc = *b"mp4a";
/// Opus.
pub const FOURCC_OPUS: FourCc = *b"Opus";

/// The legacy FLV codec id for HEVC (not in FLV 10.1; used by Chinese CDNs and SRS).
pub const CODEC_HEVC_LEGACY: u8 = 12;

/// VideoPacketType values.
pub mod video_packet {
    /// Decoder configuration (avcC / hvcC / av1C / vpcC).
    pub const SEQUENCE_START: u8 = 0;
    /// Coded frames with a composition time offset (AVC, HEVC).
    pub const CODED_FRAMES: u8 = 1;
    /// End of sequence.
    pub const SEQUENCE_END: u8 = 2;
    /// Coded frames, composition time offset 0 implied.
    pub const CODED_FRAMES_X: u8 = 3;
    /// AMF metadata (e.g. HDR colour info).
    pub const METADATA: u8 = 4;
    /// MPEG-2 TS sequence start (AV1 from TS).
    pub const MPEG2TS_SEQUENCE_START: u8 = 5;
    /// Multitrack wrapper (v2).
    pub const MULTITRACK: u8 = 6;
    /// Modifier extensions (v2).
    pub const MOD_EX: u8 = 7;
}

/// What a video body is, enough to cache and cut a stream (legacy or enhanced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoInfo {
    /// The codec: a FourCC (legacy AVC reads as `avc1`, legacy id 12 as `hvc1`; other legacy ids
    /// as `[0, 0, 0, id]`).
    pub codec: FourCc,
    /// A keyframe carrying a picture (not a sequence header).
    pub keyframe: bool,
    /// A decoder configuration record.
    pub sequence_header: bool,
    /// Sent with the Enhanced RTMP header.
    pub enhanced: bool,
    /// A multitrack packet (v2).
    pub multitrack: bool,
}

/// Classifies a video tag body; `None` when it is too short to say.
pub fn video_info(body: &[u8]) -> Option<VideoInfo> {
    let first = *body.first()?;
    let frame_type = (first >> 4) & 0x07;
    if first & 0x80 != 0 {
        let mut packet_type = first & 0x0f;
        let mut multitrack = false;
        let mut at = 1;
        if packet_type == video_packet::MULTITRACK {
            let b = *body.get(1)?;
            packet_type = b & 0x0f;
            multitrack = true;
            at = 2;
        }
        let command = frame_type == 5 && packet_type != video_packet::METADATA;
        let codec: FourCc = if command {
            [0; 4]
        } else {
            body.get(at..at + 4)?.try_into().ok()?
        };
        let coded = matches!(
            packet_type,
            video_packet::CODED_FRAMES | video_packet::CODED_FRAMES_X
        );
        return Some(VideoInfo {
            codec,
            keyframe: !command && coded && frame_type == 1,
            sequence_header: !command
                && matches!(
                    packet_type,
                    video_packet::SEQUENCE_START | video_packet::MPEG2TS_SEQUENCE_START
                ),
            enhanced: true,
            multitrack,
        });
    }
    let codec_id = first & 0x0f;
    let codec = match codec_id {
        crate::video::CODEC_AVC => FOURCC_AVC,
        CODEC_HEVC_LEGACY => FOURCC_HEVC,
        id => [0, 0, 0, id],
    };
    let packet_type = body.get(1).copied();
    let avc_like = matches!(codec_id, crate::video::CODEC_AVC | CODEC_HEVC_LEGACY);
    let sequence_header = avc_like && packet_type == Some(0);
    Some(VideoInfo {
        codec,
        keyframe: frame_type == 1 && !sequence_header && (!avc_like || packet_type == Some(1)),
        sequence_header,
        enhanced: false,
        multitrack: false,
    })
}

/// What an audio body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    /// FourCC (legacy AAC reads as `mp4a`; other legacy formats as `[0, 0, 0, format]`).
    pub codec: FourCc,
    /// A decoder configuration (AudioSpecificConfig, OpusHead).
    pub sequence_header: bool,
    /// Sent with the Enhanced RTMP header (SoundFormat 9).
    pub enhanced: bool,
}

/// SoundFormat 9: the ExAudioTagHeader follows.
pub const SOUND_FORMAT_EX_HEADER: u8 = 9;

/// Classifies an audio tag body; `None` when it is too short to say.
pub fn audio_info(body: &[u8]) -> Option<AudioInfo> {
    let first = *body.first()?;
    let format = first >> 4;
    if format == SOUND_FORMAT_EX_HEADER {
        let mut packet_type = first & 0x0f;
        let mut at = 1;
        if packet_type == 5 {
            packet_type = *body.get(1)? & 0x0f;
            at = 2;
        }
        let codec: FourCc = body.get(at..at + 4)?.try_into().ok()?;
        return Some(AudioInfo {
            codec,
            sequence_header: packet_type == 0,
            enhanced: true,
        });
    }
    let aac = format == crate::audio::FORMAT_AAC;
    Some(AudioInfo {
        codec: if aac { FOURCC_AAC } else { [0, 0, 0, format] },
        sequence_header: aac && body.get(1) == Some(&0),
        enhanced: false,
    })
}

/// A single-track Enhanced RTMP video body, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExVideoTag {
    /// The codec.
    pub codec: FourCc,
    /// FLV frame type (1 key, 2 inter, 5 command...).
    pub frame_type: u8,
    /// VideoPacketType.
    pub packet_type: u8,
    /// Composition time offset, ms (CodedFrames of AVC and HEVC; 0 otherwise).
    pub composition_time_ms: i32,
    /// The configuration record (SequenceStart) or the coded data.
    pub payload: Bytes,
}

impl ExVideoTag {
    /// A SequenceStart body carrying a configuration record (hvcC, av1C, ...), as a keyframe.
    pub fn sequence_start(codec: FourCc, record: Bytes) -> Self {
        Self {
            codec,
            frame_type: 1,
            packet_type: video_packet::SEQUENCE_START,
            composition_time_ms: 0,
            payload: record,
        }
    }

    /// A CodedFrames body (with its composition time offset: every reader since Enhanced RTMP
    /// v1 takes it, where CodedFramesX came later).
    pub fn coded_frames(
        codec: FourCc,
        keyframe: bool,
        composition_time_ms: i32,
        data: Bytes,
    ) -> Self {
        Self {
            codec,
            frame_type: if keyframe { 1 } else { 2 },
            packet_type: video_packet::CODED_FRAMES,
            composition_time_ms,
            payload: data,
        }
    }

    /// The tag body: `IsExHeader | FrameType | PacketType`, FourCC, the composition time for
    /// CodedFrames of AVC / HEVC, then the payload.
    pub fn encode(&self) -> Bytes {
        let (header, len) = self.header();
        let mut out = bytes::BytesMut::with_capacity(len + self.payload.len());
        out.extend_from_slice(&header[..len]);
        out.extend_from_slice(&self.payload);
        out.freeze()
    }

    /// The bytes in front of the payload (5, or 8 with a composition time) and how many: for a
    /// caller that lays the payload out behind them itself (the encoders do, so the body needs
    /// no copy).
    pub fn header(&self) -> ([u8; 8], usize) {
        let cts = self.packet_type == video_packet::CODED_FRAMES
            && (self.codec == FOURCC_AVC || self.codec == FOURCC_HEVC);
        let mut h = [0u8; 8];
        h[0] = 0x80 | (self.frame_type & 7) << 4 | (self.packet_type & 0x0f);
        h[1..5].copy_from_slice(&self.codec);
        if !cts {
            return (h, 5);
        }
        let c = self.composition_time_ms.clamp(-(1 << 23), (1 << 23) - 1) as u32;
        h[5..8].copy_from_slice(&c.to_be_bytes()[1..]);
        (h, 8)
    }

    /// Parses an enhanced body (IsExHeader set, not multitrack, not a command frame).
    pub fn parse(body: &Bytes) -> Result<Self, FlvError> {
        let mut r = Reader::new(body, "enhanced video tag", TagKind::Video);
        let first = r.u8("IsExHeader/FrameType/PacketType")?;
        if first & 0x80 == 0 {
            return Err(r.error("not an Enhanced RTMP video header (IsExHeader is 0)"));
        }
        let frame_type = (first >> 4) & 0x07;
        let packet_type = first & 0x0f;
        if packet_type == video_packet::MULTITRACK || packet_type == video_packet::MOD_EX {
            return Err(r.error(format!(
                "VideoPacketType {packet_type} (multitrack / ModEx) is passed through, not decoded"
            )));
        }
        let codec: FourCc = r
            .bytes(4, "video FourCC")?
            .try_into()
            .map_err(|_| r.error("video FourCC"))?;
        let mut composition_time_ms = 0;
        if packet_type == video_packet::CODED_FRAMES
            && (codec == FOURCC_AVC || codec == FOURCC_HEVC)
        {
            let cts = r.u24("CompositionTime")?;
            composition_time_ms = ((cts << 8) as i32) >> 8;
        }
        Ok(Self {
            codec,
            frame_type,
            packet_type,
            composition_time_ms,
            payload: body.slice(r.pos()..),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_and_enhanced_classification() {
        let avc_seq = video_info(&[0x17, 0, 0, 0, 0, 1]).unwrap();
        assert!(avc_seq.sequence_header && !avc_seq.keyframe && avc_seq.codec == FOURCC_AVC);
        let avc_key = video_info(&[0x17, 1, 0, 0, 0]).unwrap();
        assert!(avc_key.keyframe && !avc_key.sequence_header);
        assert!(!video_info(&[0x27, 1, 0, 0, 0]).unwrap().keyframe);
        let hevc_legacy = video_info(&[0x1c, 0, 0, 0, 0]).unwrap();
        assert!(hevc_legacy.sequence_header && hevc_legacy.codec == FOURCC_HEVC);
        let hvc_seq = video_info(b"\x90hvc1\x01").unwrap();
        assert!(hvc_seq.sequence_header && hvc_seq.enhanced && hvc_seq.codec == FOURCC_HEVC);
        let av1_key = video_info(b"\x93av01\x12\x00").unwrap();
        assert!(av1_key.keyframe && av1_key.codec == FOURCC_AV1);
        let av1_inter = video_info(b"\xa3av01\x12\x00").unwrap();
        assert!(!av1_inter.keyframe);
        let multi = video_info(b"\x96\x01hvc1\x00\x00").unwrap();
        assert!(multi.multitrack && multi.keyframe && multi.codec == FOURCC_HEVC);
        assert_eq!(video_info(b"\x90hv"), None);
        assert_eq!(video_info(&[]), None);

        let aac = audio_info(&[0xaf, 0, 0x12, 0x10]).unwrap();
        assert!(aac.sequence_header && aac.codec == FOURCC_AAC);
        let opus = audio_info(b"\x90OpusOpusHead").unwrap();
        assert!(opus.sequence_header && opus.enhanced && opus.codec == FOURCC_OPUS);
        assert!(!audio_info(b"\x91Opus\x01").unwrap().sequence_header);
    }

    #[test]
    fn ex_video_tag_payloads() {
        let t = ExVideoTag::parse(&Bytes::from_static(
            b"\x91hvc1\xff\xff\xd8\x00\x00\x00\x01\x26",
        ))
        .unwrap();
        assert_eq!(
            (t.codec, t.packet_type, t.composition_time_ms),
            (FOURCC_HEVC, 1, -40)
        );
        assert_eq!(&t.payload[..], b"\x00\x00\x00\x01\x26");
        let t = ExVideoTag::parse(&Bytes::from_static(b"\x93av01\x12\x00")).unwrap();
        assert_eq!(
            (t.composition_time_ms, &t.payload[..]),
            (0, &b"\x12\x00"[..])
        );
        assert!(ExVideoTag::parse(&Bytes::from_static(b"\x17\x01")).is_err());
        let frames =
            ExVideoTag::coded_frames(FOURCC_HEVC, true, -40, Bytes::from_static(b"\x00\x01"));
        let body = frames.encode();
        assert_eq!(&body[..], b"\x91hvc1\xff\xff\xd8\x00\x01");
        assert_eq!(ExVideoTag::parse(&body).unwrap(), frames);
        let info = video_info(&body).unwrap();
        assert!(info.keyframe && info.enhanced && !info.sequence_header);
        let start = ExVideoTag::sequence_start(FOURCC_HEVC, Bytes::from_static(b"\x01\x02"));
        let body = start.encode();
        assert_eq!(&body[..], b"\x90hvc1\x01\x02");
        assert!(video_info(&body).unwrap().sequence_header);
        assert_eq!(ExVideoTag::parse(&body).unwrap(), start);
        assert!(ExVideoTag::parse(&Bytes::from_static(b"\x91hv")).is_err());
    }
}
