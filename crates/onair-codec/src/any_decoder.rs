//! `FfmpegVideoDecoder`: decodes any video codec that arrives over legacy FLV or Enhanced RTMP
//! (H.264, HEVC, AV1, VP9; see `docs/rtmp.md`), for the player and the server's screenshots.
//! The decoder configuration travels in-band, as for H.264: avcC / hvcC parameter sets become
//! Annex B NAL units before each keyframe, av1C's configuration OBUs precede the keyframe's
//! temporal unit. FFmpeg decodes (AV1 prefers libdav1d); pictures in any pixel format come out
//! as 8-bit I420 (swscale, see `video_decoder`). Garbage gives an error, never a crash.

use crate::error::{CodecError, CodecResult};
use crate::ffmpeg_init;
use crate::video_decoder::{receive_frames, ToI420};
use ffmpeg_next as ff;
use onair_core::{Timestamp, VideoFrame};
use onair_flv::avcc::{join_annexb, split_avcc};
use onair_flv::AvcDecoderConfig;

/// What the bitstream looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Length-prefixed NAL units (AVC, HEVC) turned into Annex B.
    Nal(u8),
    /// Passed as is (AV1 OBUs, VP9 frames).
    Raw,
}

/// A decoder for one stream's pictures.
pub struct FfmpegVideoDecoder {
    fourcc: [u8; 4],
    decoder: ff::decoder::Video,
    frame: ff::frame::Video,
    to_i420: ToI420,
    framing: Framing,
    /// Sent before each keyframe: parameter sets (Annex B) or configuration OBUs.
    prefix: Vec<u8>,
}

/// The server's name for it (screenshots decode one picture at a time).
pub type StillDecoder = FfmpegVideoDecoder;

impl std::fmt::Debug for FfmpegVideoDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FfmpegVideoDecoder")
            .field("fourcc", &String::from_utf8_lossy(&self.fourcc))
            .field("framing", &self.framing)
            .finish_non_exhaustive()
    }
}

/// The parameter sets of an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3) as Annex
/// B, and its NAL length size.
pub fn hvcc_to_annexb(hvcc: &[u8]) -> CodecResult<(Vec<u8>, u8)> {
    let bad = |why: &str| CodecError::Decode(format!("malformed hvcC: {why}"));
    if hvcc.len() < 23 {
        return Err(bad("shorter than 23 bytes"));
    }
    let length_size = (hvcc[21] & 0x03) + 1;
    let arrays = hvcc[22];
    let mut at = 23;
    let mut out = Vec::new();
    for _ in 0..arrays {
        let head = hvcc.get(at..at + 3).ok_or_else(|| bad("truncated array"))?;
        let count = u16::from_be_bytes([head[1], head[2]]);
        at += 3;
        for _ in 0..count {
            let len = hvcc
                .get(at..at + 2)
                .ok_or_else(|| bad("truncated NAL length"))?;
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            let nal = hvcc
                .get(at + 2..at + 2 + len)
                .ok_or_else(|| bad("truncated NAL"))?;
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(nal);
            at += 2 + len;
        }
    }
    Ok((out, length_size))
}

impl FfmpegVideoDecoder {
    /// A decoder for `fourcc` (`avc1`, `hvc1`, `av01`, `vp09`) with the sequence header's
    /// configuration record `config`.
    pub fn new(fourcc: [u8; 4], config: &[u8]) -> CodecResult<Self> {
        ffmpeg_init()?;
        let (codec, framing, prefix) = match &fourcc {
            b"avc1" => {
                let c = AvcDecoderConfig::parse(config)
                    .map_err(|e| CodecError::Decode(e.to_string()))?;
                (
                    ff::decoder::find(ff::codec::Id::H264),
                    Framing::Nal(c.nal_length_size),
                    c.to_annexb().to_vec(),
                )
            }
            b"hvc1" => {
                let (ps, n) = hvcc_to_annexb(config)?;
                (ff::decoder::find(ff::codec::Id::HEVC), Framing::Nal(n), ps)
            }
            b"av01" => (
                ff::decoder::find_by_name("libdav1d")
                    .or_else(|| ff::decoder::find_by_name("libaom-av1"))
                    .or_else(|| ff::decoder::find(ff::codec::Id::AV1)),
                Framing::Raw,
                config.get(4..).unwrap_or_default().to_vec(),
            ),
            b"vp09" => (
                ff::decoder::find(ff::codec::Id::VP9),
                Framing::Raw,
                Vec::new(),
            ),
            other => {
                return Err(CodecError::Unsupported(format!(
                    "no decoder for FourCC {:?}",
                    String::from_utf8_lossy(other)
                )))
            }
        };
        let codec = codec.ok_or_else(|| {
            CodecError::Unsupported(format!(
                "this FFmpeg has no decoder for {}",
                String::from_utf8_lossy(&fourcc)
            ))
        })?;
        let mut ctx = ff::codec::Context::new_with_codec(codec);
        ctx.set_threading(ff::threading::Config {
            kind: ff::threading::Type::Slice,
            count: 1,
            ..Default::default()
        });
        let decoder = ctx.decoder().video().map_err(CodecError::ffmpeg)?;
        Ok(Self {
            fourcc,
            decoder,
            frame: ff::frame::Video::empty(),
            to_i420: ToI420::default(),
            framing,
            prefix,
        })
    }

    /// The codec's FourCC (`avc1`, `hvc1`, `av01`, `vp09`).
    pub fn fourcc(&self) -> [u8; 4] {
        self.fourcc
    }

    fn receive_all(&mut self) -> CodecResult<Vec<VideoFrame>> {
        receive_frames(&mut self.decoder, &mut self.frame, &mut self.to_i420)
    }

    /// Decodes one coded frame; returns the pictures that became ready.
    pub fn decode(
        &mut self,
        data: &[u8],
        keyframe: bool,
        dts: Timestamp,
        pts: Timestamp,
    ) -> CodecResult<Vec<VideoFrame>> {
        let mut packet_data = Vec::with_capacity(data.len() + self.prefix.len() + 64);
        if keyframe {
            packet_data.extend_from_slice(&self.prefix);
        }
        match self.framing {
            Framing::Nal(n) => {
                let nals = split_avcc(data, n).map_err(|e| CodecError::Decode(e.to_string()))?;
                packet_data.extend_from_slice(&join_annexb(nals));
            }
            Framing::Raw => packet_data.extend_from_slice(data),
        }
        let mut packet = ff::Packet::copy(&packet_data);
        packet.set_dts(Some(dts.as_micros() as i64));
        packet.set_pts(Some(pts.as_micros() as i64));
        if keyframe {
            packet.set_flags(ff::packet::Flags::KEY);
        }
        self.decoder
            .send_packet(&packet)
            .map_err(|e| CodecError::Decode(e.to_string()))?;
        self.receive_all()
    }

    /// Drains the pictures held for reordering.
    pub fn flush(&mut self) -> CodecResult<Vec<VideoFrame>> {
        let _ = self.decoder.send_eof();
        let out = self.receive_all();
        self.decoder.flush();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hvcc_parameter_sets() {
        let mut hvcc = vec![1u8; 21];
        hvcc.push(0x03); // length size 4
        hvcc.push(2); // two arrays
        hvcc.extend_from_slice(&[0x20, 0, 1, 0, 2, 0x40, 0x01]); // VPS
        hvcc.extend_from_slice(&[0x21, 0, 1, 0, 1, 0x42]); // SPS
        let (ps, n) = hvcc_to_annexb(&hvcc).unwrap();
        assert_eq!(n, 4);
        assert_eq!(ps, [0, 0, 0, 1, 0x40, 0x01, 0, 0, 0, 1, 0x42]);
        assert!(hvcc_to_annexb(&hvcc[..30]).is_err());
        assert!(hvcc_to_annexb(&[1, 2]).is_err());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(StillDecoder::new(*b"xxxx", &[]).is_err());
        assert!(StillDecoder::new(*b"hvc1", &[0; 4]).is_err());
        if let Ok(mut d) = StillDecoder::new(*b"vp09", &[]) {
            let r = d.decode(&[0xff; 64], true, Timestamp::ZERO, Timestamp::ZERO);
            assert!(r.map(|f| f.is_empty()).unwrap_or(true));
        }
    }
}
