//! The mix's picture: an I420 canvas filled with a colour, onto which each layer's picture
//! (cropped, scaled to its rectangle once per decoded frame) is copied at its place. Even
//! rectangles (see [`super::layout`]) keep every chroma sample whole.

use super::layout::Rect;
use super::request::Crop;
use bytes::Bytes;
use onair_codec::convert::to_encoder_i420;
use onair_codec::CodecResult;
use onair_core::{PixelFormat, Size, Timestamp, VideoFrame};

/// BT.601 limited-range Y, U, V of an RGB colour (the encoder's matrix).
pub fn yuv_of(rgb: [u8; 3]) -> [u8; 3] {
    let [r, g, b] = rgb.map(f64::from);
    let y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
    let u = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
    let v = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
    [y, u, v].map(|c| c.round().clamp(0.0, 255.0) as u8)
}

/// A tightly packed I420 picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Picture {
    /// A `width` x `height` picture (even sides) of one colour.
    pub fn filled(width: u32, height: u32, rgb: [u8; 3]) -> Self {
        let (w, h) = (width as usize, height as usize);
        let [y, u, v] = yuv_of(rgb);
        let mut data = vec![y; w * h * 3 / 2];
        data[w * h..w * h + w * h / 4].fill(u);
        data[w * h + w * h / 4..].fill(v);
        Self {
            width,
            height,
            data,
        }
    }

    /// Width.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Y, U and V at pixel (`x`, `y`).
    pub fn yuv_at(&self, x: u32, y: u32) -> [u8; 3] {
        let (w, h) = (self.width as usize, self.height as usize);
        let (x, y) = (x as usize, y as usize);
        let c = (y / 2) * (w / 2) + x / 2;
        [
            self.data[y * w + x],
            self.data[w * h + c],
            self.data[w * h + w * h / 4 + c],
        ]
    }

    /// Fills the whole picture with `rgb`.
    pub fn fill(&mut self, rgb: [u8; 3]) {
        *self = Self::filled(self.width, self.height, rgb);
    }

    /// Fills `r` with `rgb`.
    pub fn fill_rect(&mut self, r: Rect, rgb: [u8; 3]) {
        let patch = Picture::filled(r.width, r.height, rgb);
        self.draw(&patch, r.x, r.y);
    }

    /// Copies `src` with its top-left corner at (`x`, `y`) (even), clipped to this picture.
    pub fn draw(&mut self, src: &Picture, x: u32, y: u32) {
        let (dw, dh) = (self.width as usize, self.height as usize);
        let (sw, sh) = (src.width as usize, src.height as usize);
        let (x, y) = ((x & !1) as usize, (y & !1) as usize);
        if x >= dw || y >= dh {
            return;
        }
        let (cw, ch) = (sw.min(dw - x), sh.min(dh - y));
        let (d, s) = (&mut self.data, &src.data);
        for row in 0..ch {
            let (di, si) = ((y + row) * dw + x, row * sw);
            d[di..di + cw].copy_from_slice(&s[si..si + cw]);
        }
        let (dcw, scw) = (dw / 2, sw / 2);
        let (dplane, splane) = (dw * dh / 4, sw * sh / 4);
        for p in 0..2 {
            let (dbase, sbase) = (dw * dh + p * dplane, sw * sh + p * splane);
            for row in 0..ch / 2 {
                let di = dbase + (y / 2 + row) * dcw + x / 2;
                let si = sbase + row * scw;
                d[di..di + cw / 2].copy_from_slice(&s[si..si + cw / 2]);
            }
        }
    }

    /// As an I420 frame stamped `pts`.
    pub fn to_frame(&self, pts: Timestamp) -> CodecResult<VideoFrame> {
        Ok(VideoFrame::new(
            PixelFormat::I420,
            self.width,
            self.height,
            Bytes::copy_from_slice(&self.data),
        )?
        .with_timestamp(pts))
    }

    /// A decoded frame, cropped to `crop` (clipped to the frame, even) and scaled to
    /// `width` x `height`.
    pub fn fit(
        frame: &VideoFrame,
        crop: Option<Crop>,
        width: u32,
        height: u32,
    ) -> CodecResult<Picture> {
        let cropped;
        let src = match crop.and_then(|c| crop_i420(frame, c)) {
            Some(c) => {
                cropped = c;
                &cropped
            }
            None => frame,
        };
        let size = Size { width, height };
        let out = to_encoder_i420(src, size, size, false)?;
        let (w, h) = (width as usize, height as usize);
        let mut data = Vec::with_capacity(w * h * 3 / 2);
        for (i, (pw, ph)) in [(w, h), (w / 2, h / 2), (w / 2, h / 2)]
            .into_iter()
            .enumerate()
        {
            let Some(p) = out.plane(i) else {
                return Err(onair_codec::CodecError::InvalidInput(
                    "scaled picture without a plane".into(),
                ));
            };
            for row in 0..ph {
                data.extend_from_slice(&p.data[row * p.stride..row * p.stride + pw]);
            }
        }
        Ok(Picture {
            width,
            height,
            data,
        })
    }
}

/// The `crop` part of an I420 frame (clipped to it, even), or `None` when nothing is left.
fn crop_i420(frame: &VideoFrame, c: Crop) -> Option<VideoFrame> {
    if frame.format() != PixelFormat::I420 {
        return None;
    }
    let (fw, fh) = (frame.width(), frame.height());
    let (x, y) = (c.x & !1, c.y & !1);
    if x >= fw || y >= fh {
        return None;
    }
    let w = (c.width.min(fw - x)) & !1;
    let h = (c.height.min(fh - y)) & !1;
    if w < 2 || h < 2 {
        return None;
    }
    let mut data = Vec::with_capacity((w * h * 3 / 2) as usize);
    for (i, (px, py, pw, ph)) in [
        (x, y, w, h),
        (x / 2, y / 2, w / 2, h / 2),
        (x / 2, y / 2, w / 2, h / 2),
    ]
    .into_iter()
    .enumerate()
    {
        let p = frame.plane(i)?;
        for row in py..py + ph {
            let at = row as usize * p.stride + px as usize;
            data.extend_from_slice(p.data.get(at..at + pw as usize)?);
        }
    }
    VideoFrame::new(PixelFormat::I420, w, h, Bytes::from(data))
        .ok()
        .map(|f| f.with_timestamp(frame.timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_use_the_encoders_matrix() {
        assert_eq!(yuv_of([0, 0, 0]), [16, 128, 128]);
        assert_eq!(yuv_of([255, 255, 255]), [235, 128, 128]);
        let red = yuv_of([255, 0, 0]);
        assert_eq!(red, [81, 90, 240]);
    }

    #[test]
    fn draw_places_a_picture_and_clips_it() {
        let mut canvas = Picture::filled(64, 32, [0, 0, 0]);
        let red = Picture::filled(16, 8, [255, 0, 0]);
        canvas.draw(&red, 40, 20);
        assert_eq!(canvas.yuv_at(40, 20), yuv_of([255, 0, 0]));
        assert_eq!(canvas.yuv_at(55, 27), yuv_of([255, 0, 0]));
        assert_eq!(canvas.yuv_at(56, 27), yuv_of([0, 0, 0]));
        assert_eq!(canvas.yuv_at(39, 20), yuv_of([0, 0, 0]));
        // Past the edge: only what fits is drawn.
        canvas.draw(&red, 60, 28);
        assert_eq!(canvas.yuv_at(63, 31), yuv_of([255, 0, 0]));
        canvas.draw(&red, 64, 0);
    }

    #[test]
    fn fit_scales_and_crops() {
        // Left half green, right half blue, 64x32.
        let mut src = Picture::filled(64, 32, [0, 255, 0]);
        src.fill_rect(
            Rect {
                x: 32,
                y: 0,
                width: 32,
                height: 32,
            },
            [0, 0, 255],
        );
        let frame = src.to_frame(Timestamp::ZERO).unwrap();
        let half = Picture::fit(&frame, None, 32, 16).unwrap();
        assert_eq!(half.yuv_at(4, 8), yuv_of([0, 255, 0]));
        assert_eq!(half.yuv_at(28, 8), yuv_of([0, 0, 255]));
        let right = Picture::fit(
            &frame,
            Some(Crop {
                x: 32,
                y: 0,
                width: 32,
                height: 32,
            }),
            16,
            16,
        )
        .unwrap();
        assert_eq!(right.yuv_at(2, 8), yuv_of([0, 0, 255]));
    }
}
