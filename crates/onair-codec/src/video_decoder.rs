//! `VideoDecoder`: H.264 decoding on FFmpeg (baseline, main and high, B-frames). Frames come out
//! in presentation order as I420 `VideoFrame`s stamped with their pts. The sequence header's
//! SPS/PPS are sent in-band (Annex B) before each keyframe, so no unsafe extradata handling is
//! needed. Garbage gives an error, never a crash.
//!
//! [`ToI420`] is how every FFmpeg decoder here hands out pictures: 8-bit 4:2:0 is copied as is;
//! any other layout the decoder produces (10-bit, 4:2:2, 4:4:4, full-range `yuvj*`, RGB) is
//! converted by swscale, and an odd size is cut to the even size below it.

use crate::error::{CodecError, CodecResult};
use crate::ffmpeg_init;
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
    to_i420: ToI420,
}

impl std::fmt::Debug for FfmpegH264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FfmpegH264Decoder").finish_non_exhaustive()
    }
}

impl FfmpegH264Decoder {
    /// A decoder with `threads` slice/frame threads (0 = FFmpeg's choice, 1 = lowest latency).
    pub fn new(threads: usize) -> CodecResult<Self> {
        ffmpeg_init()?;
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
            to_i420: ToI420::default(),
        })
    }

    fn receive_all(&mut self) -> CodecResult<Vec<VideoFrame>> {
        receive_frames(&mut self.decoder, &mut self.frame, &mut self.to_i420)
    }
}

/// Every picture the decoder has ready, as I420 frames (also used by the any-codec decoder).
pub(crate) fn receive_frames(
    decoder: &mut ff::decoder::Video,
    frame: &mut ff::frame::Video,
    to_i420: &mut ToI420,
) -> CodecResult<Vec<VideoFrame>> {
    let mut out = Vec::new();
    loop {
        match decoder.receive_frame(frame) {
            Ok(()) => out.push(to_i420.convert(frame)?),
            Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => break,
            Err(ff::Error::Eof) => break,
            Err(e) => return Err(CodecError::Decode(e.to_string())),
        }
    }
    Ok(out)
}

/// A swscale context that may move to another thread with the decoder owning it.
struct Scaler(ff::software::scaling::Context);

// SAFETY: an SwsContext has no thread affinity; it is only unsafe to use from two threads at
// once, and `ToI420` owns it and uses it through `&mut self` only.
unsafe impl Send for Scaler {}

/// Decoded pictures to packed 8-bit I420, swscale for any other layout (see the module docs).
#[derive(Default)]
pub struct ToI420 {
    /// The scaler for the last (format, width, height) seen, and its output picture.
    scaler: Option<(ff::format::Pixel, u32, u32, Scaler)>,
    converted: Option<ff::frame::Video>,
    /// Output buffers of the current size: a picture costs one copy, no allocation (and no
    /// fresh pages for the kernel to zero) once the frames in flight exist.
    pool: Option<onair_core::BufferPool>,
}

/// Decoded pictures the pool keeps for reuse (the player holds a few in its ready queue).
const POOLED_PICTURES: usize = 8;

impl std::fmt::Debug for ToI420 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToI420")
            .field(
                "scaling_from",
                &self.scaler.as_ref().map(|s| (s.0, s.1, s.2)),
            )
            .finish()
    }
}

impl ToI420 {
    /// `f` as an I420 frame stamped with its pts (µs).
    pub fn convert(&mut self, f: &ff::frame::Video) -> CodecResult<VideoFrame> {
        use ff::format::Pixel;
        let (w, h) = (f.width(), f.height());
        if w < 2
            || h < 2
            || w > onair_core::frame::MAX_DIMENSION
            || h > onair_core::frame::MAX_DIMENSION
        {
            return Err(CodecError::Unsupported(format!("decoded size {w}x{h}")));
        }
        let (ew, eh) = (w & !1, h & !1);
        let direct = f.format() == Pixel::YUV420P && (ew, eh) == (w, h);
        let picture = if direct {
            f
        } else {
            let key = (f.format(), w, h);
            if self.scaler.as_ref().map(|s| (s.0, s.1, s.2)) != Some(key) {
                let ctx = ff::software::scaling::Context::get(
                    f.format(),
                    w,
                    h,
                    Pixel::YUV420P,
                    ew,
                    eh,
                    ff::software::scaling::Flags::BILINEAR,
                )
                .map_err(|e| {
                    CodecError::Unsupported(format!(
                        "no conversion from {:?} {w}x{h} to I420: {e}",
                        f.format()
                    ))
                })?;
                self.scaler = Some((key.0, key.1, key.2, Scaler(ctx)));
                self.converted = Some(ff::frame::Video::empty());
            }
            let (Some((_, _, _, Scaler(ctx))), Some(out)) =
                (self.scaler.as_mut(), self.converted.as_mut())
            else {
                return Err(CodecError::Decode("scaler state lost".into()));
            };
            ctx.run(f, out).map_err(|e| {
                CodecError::Decode(format!("converting {:?} to I420: {e}", f.format()))
            })?;
            &*out
        };
        let (w, h) = (ew as usize, eh as usize);
        let len = w * h * 3 / 2;
        if self.pool.as_ref().map(onair_core::BufferPool::buffer_len) != Some(len) {
            self.pool = Some(onair_core::BufferPool::new(len, POOLED_PICTURES));
        }
        let mut pooled = self
            .pool
            .as_ref()
            .map(onair_core::BufferPool::take)
            .ok_or_else(|| CodecError::Decode("picture pool lost".into()))?;
        let buf = pooled.as_mut_slice();
        let mut off = 0;
        for (i, (pw, ph)) in [(w, h), (w / 2, h / 2), (w / 2, h / 2)]
            .into_iter()
            .enumerate()
        {
            let (data, stride) = (picture.data(i), picture.stride(i));
            for r in 0..ph {
                let row = data.get(r * stride..r * stride + pw).ok_or_else(|| {
                    CodecError::Decode("decoded plane shorter than its size".into())
                })?;
                buf[off..off + pw].copy_from_slice(row);
                off += pw;
            }
        }
        // Packets carry microseconds (FFmpeg passes pts through untouched).
        let pts_us = f.pts().unwrap_or(0).max(0) as u64;
        Ok(
            VideoFrame::new(PixelFormat::I420, w as u32, h as u32, pooled.freeze())?
                .with_timestamp(Timestamp::from_micros(pts_us)),
        )
    }
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
