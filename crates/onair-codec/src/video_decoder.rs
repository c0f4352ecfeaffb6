//! `VideoDecoder`: H.264 decoding on FFmpeg (baseline, main and high, B-frames). Frames come out
//! in presentation order as I420 `VideoFrame`s stamped with their pts. The sequence header's
//! SPS/PPS are sent in-band (Annex B) before each keyframe, so no unsafe extradata handling is
//! needed. Garbage gives an error, never a crash.

use crate::error::{CodecError, CodecResult};
use crate::ffmpeg_init;
use bytes::Bytes;
use ffmpeg_next as ff;
use onair_core::{PixelFormat, Timestamp, VideoFrame};
use onair_flv::avcc::{join_annexb, split_avcc};
use onair_flv::AvcDecoderConfig;

/// An H.264 decoder.
pub trait VideoDecoder: Send {
    /// Installs the parameter sets of an AVC sequence header.
    fn set_config(&mut self, config: &AvcDecoderConfig);
    /// Decodes one AVCC access unit; returns the frames that became ready (presentation order).
    fn decode(
        &mut self,
        avcc: &[u8],
        keyframe: bool,
        dts: Timestamp,
        pts: Timestamp,
    ) -> CodecResult<Vec<VideoFrame>>;
    /// Drains the frames held for reordering (end of stream).
    fn flush(&mut self) -> CodecResult<Vec<VideoFrame>>;
}

/// FFmpeg's H.264 decoder.
pub struct FfmpegH264Decoder {
    decoder: ff::decoder::Video,
    config: Option<AvcDecoderConfig>,
    frame: ff::frame::Video,
}

impl std::fmt::Debug for FfmpegH264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FfmpegH264Decoder").finish_non_exhaustive()
    }
}

impl FfmpegH264Decoder {
    /// A decoder with `threads` slice/frame threads (0 = FFmpeg's choice, 1 = lowest latency).
    pub fn new(threads: usize) -> CodecResult<Self> {
        ffmpeg_init();
        let codec = ff::decoder::find(ff::codec::Id::H264)
            .ok_or_else(|| CodecError::Unsupported("this FFmpeg has no H.264 decoder".into()))?;
        let mut ctx = ff::codec::Context::new_with_codec(codec);
        ctx.set_threading(ff::threading::Config {
            kind: ff::threading::Type::Slice,
            count: threads,
            ..Default::default()
        });
        let decoder = ctx.decoder().video().map_err(CodecError::ffmpeg)?;
        Ok(Self {
            decoder,
            config: None,
            frame: ff::frame::Video::empty(),
        })
    }

    fn receive_all(&mut self) -> CodecResult<Vec<VideoFrame>> {
        receive_frames(&mut self.decoder, &mut self.frame)
    }
}

/// Every picture the decoder has ready, as I420 frames (also used by the still decoder).
pub(crate) fn receive_frames(
    decoder: &mut ff::decoder::Video,
    frame: &mut ff::frame::Video,
) -> CodecResult<Vec<VideoFrame>> {
    let mut out = Vec::new();
    loop {
        match decoder.receive_frame(frame) {
            Ok(()) => out.push(to_i420_frame(frame)?),
            Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => break,
            Err(ff::Error::Eof) => break,
            Err(e) => return Err(CodecError::Decode(e.to_string())),
        }
    }
    Ok(out)
}

fn to_i420_frame(f: &ff::frame::Video) -> CodecResult<VideoFrame> {
    use ff::format::Pixel;
    if !matches!(f.format(), Pixel::YUV420P | Pixel::YUVJ420P) {
        return Err(CodecError::Unsupported(format!(
            "decoded pixel format {:?} (only 8-bit 4:2:0)",
            f.format()
        )));
    }
    let (w, h) = (f.width() as usize, f.height() as usize);
    if w == 0 || h == 0 || w % 2 != 0 || h % 2 != 0 {
        return Err(CodecError::Unsupported(format!(
            "decoded size {w}x{h} (even sizes only)"
        )));
    }
    let mut buf = vec![0u8; w * h * 3 / 2];
    let mut off = 0;
    for (i, (pw, ph)) in [(w, h), (w / 2, h / 2), (w / 2, h / 2)]
        .into_iter()
        .enumerate()
    {
        let (data, stride) = (f.data(i), f.stride(i));
        for r in 0..ph {
            buf[off..off + pw].copy_from_slice(&data[r * stride..r * stride + pw]);
            off += pw;
        }
    }
    // Packets carry microseconds (FFmpeg passes pts through untouched).
    let pts_us = f.pts().unwrap_or(0).max(0) as u64;
    Ok(
        VideoFrame::new(PixelFormat::I420, w as u32, h as u32, Bytes::from(buf))?
            .with_timestamp(Timestamp::from_micros(pts_us)),
    )
}

impl VideoDecoder for FfmpegH264Decoder {
    fn set_config(&mut self, config: &AvcDecoderConfig) {
        self.config = Some(config.clone());
    }

    fn decode(
        &mut self,
        avcc: &[u8],
        keyframe: bool,
        dts: Timestamp,
        pts: Timestamp,
    ) -> CodecResult<Vec<VideoFrame>> {
        let length_size = self.config.as_ref().map_or(4, |c| c.nal_length_size);
        let nals = split_avcc(avcc, length_size).map_err(|e| CodecError::Decode(e.to_string()))?;
        let mut annexb = Vec::with_capacity(avcc.len() + 64);
        if keyframe {
            if let Some(c) = &self.config {
                annexb.extend_from_slice(&c.to_annexb());
            }
        }
        annexb.extend_from_slice(&join_annexb(nals));
        let mut packet = ff::Packet::copy(&annexb);
        packet.set_dts(Some(dts.as_micros() as i64));
        packet.set_pts(Some(pts.as_micros() as i64));
        if keyframe {
            packet.set_flags(ff::packet::Flags::KEY);
        }
        match self.decoder.send_packet(&packet) {
            Ok(()) => {}
            Err(ff::Error::InvalidData) => {
                return Err(CodecError::Decode("invalid H.264 data".into()))
            }
            Err(e) => return Err(CodecError::Decode(e.to_string())),
        }
        self.receive_all()
    }

    fn flush(&mut self) -> CodecResult<Vec<VideoFrame>> {
        let _ = self.decoder.send_eof();
        let out = self.receive_all();
        self.decoder.flush();
        out
    }
}
