//! The watermark (set_watermark): a PNG/JPEG with alpha placed at (x, y) with a width of
//! `scale` times the video width, all three as fractions of the picture (0..1). The image is
//! scaled and converted to Y, U, V and alpha once per encode size; each frame then gets one
//! copy and an alpha blend over the covered rectangle (chroma blended per 2x2 block).

use crate::error::{LiveError, LiveResult};
use bytes::Bytes;
use onair_core::{PixelFormat, Size, VideoFrame};
use std::path::Path;

/// The watermark as the user gave it.
#[derive(Debug, Clone)]
pub(crate) struct WatermarkSpec {
    image: image::RgbaImage,
    x: f32,
    y: f32,
    scale: f32,
}

impl WatermarkSpec {
    pub(crate) fn load(path: &Path, x: f32, y: f32, scale: f32) -> LiveResult<Self> {
        for (name, v) in [("x", x), ("y", y), ("scale", scale)] {
            if !(0.0..=1.0).contains(&v) || v.is_nan() {
                return Err(LiveError::invalid(format!(
                    "watermark {name} = {v}; expected 0..=1"
                )));
            }
        }
        if scale == 0.0 {
            return Err(LiveError::invalid(
                "watermark scale 0: nothing to draw; expected (0, 1]",
            ));
        }
        let image = image::open(path)
            .map_err(|e| LiveError::invalid(format!("watermark {}: {e}", path.display())))?
            .to_rgba8();
        Ok(Self { image, x, y, scale })
    }

    /// Prepares the watermark for frames of `size` (the picture part of the encode size).
    pub(crate) fn render(&self, size: Size) -> Option<Watermark> {
        let w = ((size.width as f32 * self.scale).round() as u32).max(2) & !1;
        let aspect = self.image.height() as f32 / self.image.width().max(1) as f32;
        let h = ((w as f32 * aspect).round() as u32).max(2) & !1;
        let x0 = ((size.width as f32 * self.x) as u32) & !1;
        let y0 = ((size.height as f32 * self.y) as u32) & !1;
        let (w, h) = (
            w.min(size.width.saturating_sub(x0)) & !1,
            h.min(size.height.saturating_sub(y0)) & !1,
        );
        if w == 0 || h == 0 {
            return None;
        }
        let scaled =
            image::imageops::resize(&self.image, w, h, image::imageops::FilterType::Triangle);
        let n = (w * h) as usize;
        let (mut yp, mut up, mut vp, mut ap) =
            (vec![0u8; n], vec![0u8; n], vec![0u8; n], vec![0u8; n]);
        for (i, px) in scaled.pixels().enumerate() {
            let [r, g, b, a] = px.0.map(f32::from);
            // BT.601 limited range, as the rest of the pipeline.
            yp[i] = (16.0 + 0.257 * r + 0.504 * g + 0.098 * b)
                .round()
                .clamp(16.0, 235.0) as u8;
            up[i] = (128.0 - 0.148 * r - 0.291 * g + 0.439 * b)
                .round()
                .clamp(16.0, 240.0) as u8;
            vp[i] = (128.0 + 0.439 * r - 0.368 * g - 0.071 * b)
                .round()
                .clamp(16.0, 240.0) as u8;
            ap[i] = a as u8;
        }
        Some(Watermark {
            x0,
            y0,
            w,
            h,
            yp,
            up,
            vp,
            ap,
        })
    }
}

/// A watermark prepared for one frame size.
#[derive(Debug, Clone)]
pub(crate) struct Watermark {
    x0: u32,
    y0: u32,
    w: u32,
    h: u32,
    yp: Vec<u8>,
    up: Vec<u8>,
    vp: Vec<u8>,
    ap: Vec<u8>,
}

fn blend(dst: u8, src: u8, a: u8) -> u8 {
    ((u16::from(src) * u16::from(a) + u16::from(dst) * (255 - u16::from(a)) + 127) / 255) as u8
}

impl Watermark {
    /// `frame` (tightly packed I420) with the watermark blended in.
    pub(crate) fn apply(&self, frame: &VideoFrame) -> VideoFrame {
        let (fw, fh) = (frame.width() as usize, frame.height() as usize);
        if frame.format() != PixelFormat::I420
            || frame.stride() != frame.width()
            || self.x0 + self.w > frame.width()
            || self.y0 + self.h > frame.height()
        {
            return frame.clone();
        }
        let mut buf = frame.data().to_vec();
        let (y, uv) = buf.split_at_mut(fw * fh);
        let (u, v) = uv.split_at_mut(fw * fh / 4);
        let (x0, y0, w) = (self.x0 as usize, self.y0 as usize, self.w as usize);
        for r in 0..self.h as usize {
            for c in 0..w {
                let i = r * w + c;
                let p = &mut y[(y0 + r) * fw + x0 + c];
                *p = blend(*p, self.yp[i], self.ap[i]);
            }
        }
        for r in 0..self.h as usize / 2 {
            for c in 0..w / 2 {
                let i = 2 * r * w + 2 * c;
                let j = (y0 / 2 + r) * (fw / 2) + x0 / 2 + c;
                u[j] = blend(u[j], self.up[i], self.ap[i]);
                v[j] = blend(v[j], self.vp[i], self.ap[i]);
            }
        }
        VideoFrame::new(
            PixelFormat::I420,
            frame.width(),
            frame.height(),
            Bytes::from(buf),
        )
        .map(|f| f.with_timestamp(frame.timestamp()))
        .unwrap_or_else(|_| frame.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blends_an_opaque_red_square_where_asked() {
        let dir = std::env::temp_dir().join(format!("onair-wm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("red.png");
        image::RgbaImage::from_pixel(10, 10, image::Rgba([255, 0, 0, 255]))
            .save(&path)
            .unwrap();
        let spec = WatermarkSpec::load(&path, 0.5, 0.25, 0.25).unwrap();
        let wm = spec.render(Size::new(64, 32)).unwrap();
        assert_eq!((wm.x0, wm.y0, wm.w, wm.h), (32, 8, 16, 16));
        let frame = VideoFrame::new(
            PixelFormat::I420,
            64,
            32,
            Bytes::from(vec![128u8; 64 * 32 * 3 / 2]),
        )
        .unwrap();
        let out = wm.apply(&frame);
        let d = out.data();
        assert_eq!(d[10 * 64 + 40], 82, "red's luma inside");
        assert_eq!(d[10 * 64 + 10], 128, "untouched outside");
        let v = &d[64 * 32 + 32 * 16..];
        assert_eq!(v[5 * 32 + 20], 240, "red's V inside");
        assert!(WatermarkSpec::load(&path, 1.5, 0.0, 0.1).is_err());
        assert!(WatermarkSpec::load(&dir.join("missing.png"), 0.0, 0.0, 0.1).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
