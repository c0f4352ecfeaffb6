//! `MjpegDecoder`: the JPEG pictures of MJPEG cameras to I420 on FFmpeg. A camera's JPEG is
//! full-range YCbCr 4:2:2 (or 4:2:0); swscale maps it to the limited-range 4:2:0 the encoder
//! takes, averaging chroma rows, exactly as `ffmpeg -pix_fmt yuv420p` does. Garbage and
//! size mismatches are errors, never crashes.

use crate::error::{CodecError, CodecResult};
use crate::ffmpeg_init;
use bytes::Bytes;
use ffmpeg_next as ff;
use onair_core::{PixelFormat, VideoFrame};

/// Decodes one JPEG picture at a time (MJPEG has no inter-frame state).
pub struct MjpegDecoder {
    decoder: ff::decoder::Video,
    frame: ff::frame::Video,
    out: ff::frame::Video,
    scaler: Option<(ff::format::Pixel, u32, u32, ff::software::scaling::Context)>,
}

impl std::fmt::Debug for MjpegDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MjpegDecoder").finish_non_exhaustive()
    }
}

impl MjpegDecoder {
    /// A decoder on FFmpeg's MJPEG codec.
    pub fn new() -> CodecResult<Self> {
        ffmpeg_init()?;
        let codec = ff::decoder::find(ff::codec::Id::MJPEG)
            .ok_or_else(|| CodecError::Unsupported("this FFmpeg has no MJPEG decoder".into()))?;
        let decoder = ff::codec::Context::new_with_codec(codec)
            .decoder()
            .video()
            .map_err(CodecError::ffmpeg)?;
        Ok(Self {
            decoder,
            frame: ff::frame::Video::empty(),
            out: ff::frame::Video::empty(),
            scaler: None,
        })
    }

    /// Decodes `jpeg` and converts it to tightly packed limited-range I420.
    pub fn decode(&mut self, jpeg: &[u8]) -> CodecResult<VideoFrame> {
        self.decoder
            .send_packet(&ff::Packet::copy(jpeg))
            .map_err(|e| CodecError::Decode(format!("MJPEG: {e}")))?;
        self.decoder
            .receive_frame(&mut self.frame)
            .map_err(|e| CodecError::Decode(format!("MJPEG: no picture ({e})")))?;
        let (fmt, w, h) = (self.frame.format(), self.frame.width(), self.frame.height());
        if w == 0 || h == 0 || w % 2 != 0 || h % 2 != 0 {
            return Err(CodecError::Unsupported(format!(
                "MJPEG picture of {w}x{h} (even sizes only)"
            )));
        }
        if !matches!(&self.scaler, Some((f, sw, sh, _)) if (*f, *sw, *sh) == (fmt, w, h)) {
            use ff::software::scaling::{Context, Flags};
            let ctx = Context::get(
                fmt,
                w,
                h,
                ff::format::Pixel::YUV420P,
                w,
                h,
                Flags::BILINEAR | Flags::ACCURATE_RND | Flags::FULL_CHR_H_INT,
            )
            .map_err(CodecError::ffmpeg)?;
            self.scaler = Some((fmt, w, h, ctx));
            self.out = ff::frame::Video::empty();
        }
        let Some((_, _, _, scaler)) = self.scaler.as_mut() else {
            return Err(CodecError::Decode("MJPEG: no scaler".into()));
        };
        scaler
            .run(&self.frame, &mut self.out)
            .map_err(CodecError::ffmpeg)?;
        let (w, h) = (w as usize, h as usize);
        let mut buf = Vec::with_capacity(w * h * 3 / 2);
        for (i, (pw, ph)) in [(w, h), (w / 2, h / 2), (w / 2, h / 2)]
            .into_iter()
            .enumerate()
        {
            let (data, stride) = (self.out.data(i), self.out.stride(i));
            for r in 0..ph {
                buf.extend_from_slice(&data[r * stride..r * stride + pw]);
            }
        }
        Ok(VideoFrame::new(
            PixelFormat::I420,
            w as u32,
            h as u32,
            Bytes::from(buf),
        )?)
    }
}
