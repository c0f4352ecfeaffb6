//! Colour conversion, rotation, mirror and scaling between the frame formats of the API and
//! the encoder's I420. Capture side: RGB -> I420 and NV12 -> I420 use onair's own kernels
//! ([`crate::i420_kernels`]: AVX2 with a scalar reference, BT.601 limited range, within 1 level
//! of libyuv and swscale). Render side: I420 -> RGBA/BGRA uses yuvutils (BT.601 limited range,
//! each chroma sample covering its 2x2 block, as libyuv and so LiteAV's renderers do; measured
//! faster than libyuv in `benches/RESULTS.md`), I420 -> NV12 our AVX2 interleave;
//! [`RenderBuffers`] reuses the output buffers. Rotation and mirror use yuvutils' geometry
//! module; scaling uses swscale (bilinear). I420 at the target size with no rotation or mirror
//! passes through without a copy.

use crate::error::{CodecError, CodecResult};
use crate::ffmpeg_init;
use crate::i420_kernels::{self, Kernel, PixelOrder};
use bytes::Bytes;
use ffmpeg_next as ff;
use onair_core::{PixelFormat, Rotation, Size, VideoFrame};
use yuvutils_rs::{MirrorMode, RotationMode};

/// Tightly packed I420 planes being worked on.
#[derive(Debug, Clone)]
struct I420 {
    w: usize,
    h: usize,
    buf: Vec<u8>,
}

impl I420 {
    fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            buf: vec![0; w * h * 3 / 2],
        }
    }

    fn black(w: usize, h: usize) -> Self {
        let mut s = Self::new(w, h);
        let (y, uv) = s.buf.split_at_mut(w * h);
        y.fill(16);
        uv.fill(128);
        s
    }

    fn planes_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        let (y, uv) = self.buf.split_at_mut(self.w * self.h);
        let (u, v) = uv.split_at_mut(self.w * self.h / 4);
        (y, u, v)
    }

    fn planes(&self) -> (&[u8], &[u8], &[u8]) {
        let (y, uv) = self.buf.split_at(self.w * self.h);
        let (u, v) = uv.split_at(self.w * self.h / 4);
        (y, u, v)
    }

    fn into_frame(self, like: &VideoFrame) -> CodecResult<VideoFrame> {
        Ok(VideoFrame::new(
            PixelFormat::I420,
            self.w as u32,
            self.h as u32,
            Bytes::from(self.buf),
        )?
        .with_timestamp(like.timestamp()))
    }
}

/// Copies rows of `rows` x `row_bytes` from a strided source into a packed destination.
fn copy_rows(src: &[u8], stride: usize, dst: &mut [u8], row_bytes: usize, rows: usize) {
    if stride == row_bytes {
        // Packed already: one copy.
        dst[..rows * row_bytes].copy_from_slice(&src[..rows * row_bytes]);
        return;
    }
    for r in 0..rows {
        dst[r * row_bytes..(r + 1) * row_bytes]
            .copy_from_slice(&src[r * stride..r * stride + row_bytes]);
    }
}

/// Any byte-buffer frame -> packed I420 at its own size (rotation not applied yet).
fn to_packed_i420(src: &VideoFrame) -> CodecResult<I420> {
    let (w, h) = (src.width() as usize, src.height() as usize);
    match src.format() {
        PixelFormat::I420 => {
            let mut out = I420::new(w, h);
            let (y, u, v) = out.planes_mut();
            for (i, dst) in [y, u, v].into_iter().enumerate() {
                let p = src
                    .plane(i)
                    .ok_or_else(|| CodecError::InvalidInput("missing plane".into()))?;
                copy_rows(p.data, p.stride, dst, p.row_bytes, p.rows);
            }
            Ok(out)
        }
        PixelFormat::Nv12 => {
            let mut out = I420::new(w, h);
            let py = src
                .plane(0)
                .ok_or_else(|| CodecError::InvalidInput("missing plane".into()))?;
            let puv = src
                .plane(1)
                .ok_or_else(|| CodecError::InvalidInput("missing plane".into()))?;
            if w % 2 == 0 && h % 2 == 0 {
                let (y, uv) = (&py, &puv);
                nv12_to_i420_into((y.data, y.stride), (uv.data, uv.stride), w, h, &mut out.buf)?;
                return Ok(out);
            }
            let (y, u, v) = out.planes_mut();
            copy_rows(py.data, py.stride, y, w, h);
            for r in 0..h / 2 {
                let row = &puv.data[r * puv.stride..r * puv.stride + w];
                for c in 0..w / 2 {
                    u[r * (w / 2) + c] = row[2 * c];
                    v[r * (w / 2) + c] = row[2 * c + 1];
                }
            }
            Ok(out)
        }
        PixelFormat::Rgba32 | PixelFormat::Bgra32 => {
            // yuvutils' 4:2:0 output needs even sizes: convert the even part, extend the edge.
            let (ew, eh) = (w.div_ceil(2) * 2, h.div_ceil(2) * 2);
            let p = src
                .plane(0)
                .ok_or_else(|| CodecError::InvalidInput("missing plane".into()))?;
            let (rgba, stride) = if (ew, eh) == (w, h) {
                (std::borrow::Cow::Borrowed(p.data), p.stride)
            } else {
                let mut padded = vec![0u8; ew * eh * 4];
                for r in 0..eh {
                    let sr = r.min(h - 1);
                    let row = &p.data[sr * p.stride..sr * p.stride + w * 4];
                    padded[r * ew * 4..r * ew * 4 + w * 4].copy_from_slice(row);
                    if ew > w {
                        let last = [
                            row[w * 4 - 4],
                            row[w * 4 - 3],
                            row[w * 4 - 2],
                            row[w * 4 - 1],
                        ];
                        padded[r * ew * 4 + w * 4..(r + 1) * ew * 4].copy_from_slice(&last);
                    }
                }
                (std::borrow::Cow::Owned(padded), ew * 4)
            };
            let mut out = I420::new(ew, eh);
            rgb_to_i420_into(
                &rgba,
                stride,
                ew,
                eh,
                src.format() == PixelFormat::Bgra32,
                &mut out.buf,
            )?;
            Ok(out)
        }
        other => Err(CodecError::Unsupported(format!(
            "{other} frames have no byte buffer to convert"
        ))),
    }
}

/// Converts packed RGBA (or BGRA) of an even `w` x `h` into tightly packed I420 in `dst`
/// (`w * h * 3 / 2` bytes), without allocating: the kernel behind [`to_i420`] for a caller that
/// reuses its buffers.
pub fn rgb_to_i420_into(
    rgba: &[u8],
    stride: usize,
    w: usize,
    h: usize,
    bgra: bool,
    dst: &mut [u8],
) -> CodecResult<()> {
    if w % 2 != 0
        || h % 2 != 0
        || dst.len() != w * h * 3 / 2
        || stride < w * 4
        || rgba.len() < stride * (h.max(1) - 1) + w * 4
    {
        return Err(CodecError::InvalidInput(format!(
            "rgb_to_i420_into: {w}x{h} (even), stride {stride}, {} input bytes, {} output bytes",
            rgba.len(),
            dst.len()
        )));
    }
    let (y, uv) = dst.split_at_mut(w * h);
    let (u, v) = uv.split_at_mut(w * h / 4);
    let order = if bgra {
        PixelOrder::Bgra
    } else {
        PixelOrder::Rgba
    };
    i420_kernels::rgb_to_i420(rgba, stride, (w, h), order, (y, u, v), Kernel::best());
    Ok(())
}

/// Converts NV12 of an even `w` x `h` (luma rows `y_stride` bytes apart, interleaved chroma
/// rows `uv_stride` apart) into tightly packed I420 in `dst` (`w * h * 3 / 2` bytes), without
/// allocating.
pub fn nv12_to_i420_into(
    (src_y, y_stride): (&[u8], usize),
    (src_uv, uv_stride): (&[u8], usize),
    w: usize,
    h: usize,
    dst: &mut [u8],
) -> CodecResult<()> {
    let fits = |len: usize, stride: usize, rows: usize| {
        stride >= w && (rows == 0 || len >= stride * (rows - 1) + w)
    };
    if w % 2 != 0
        || h % 2 != 0
        || dst.len() != w * h * 3 / 2
        || !fits(src_y.len(), y_stride, h)
        || !fits(src_uv.len(), uv_stride, h / 2)
    {
        return Err(CodecError::InvalidInput(format!(
            "nv12_to_i420_into: {w}x{h} (even), strides {y_stride}/{uv_stride}, {}+{} input bytes, {} output bytes",
            src_y.len(),
            src_uv.len(),
            dst.len()
        )));
    }
    let (y, uv) = dst.split_at_mut(w * h);
    let (u, v) = uv.split_at_mut(w * h / 4);
    i420_kernels::nv12_to_i420(
        (src_y, y_stride),
        (src_uv, uv_stride),
        (w, h),
        (y, u, v),
        Kernel::best(),
    );
    Ok(())
}

fn rotate(src: I420, rotation: Rotation) -> CodecResult<I420> {
    // yuvutils turns counter-clockwise; the API's rotation is clockwise.
    let mode = match rotation {
        Rotation::R90 => RotationMode::Rotate270,
        Rotation::R180 => RotationMode::Rotate180,
        Rotation::R270 => RotationMode::Rotate90,
        _ => return Ok(src),
    };
    let (ow, oh) = if rotation.swaps_dimensions() {
        (src.h, src.w)
    } else {
        (src.w, src.h)
    };
    let mut out = I420::new(ow, oh);
    let (sy, su, sv) = src.planes();
    let (dy, du, dv) = out.planes_mut();
    yuvutils_rs::rotate_plane(sy, src.w, dy, ow, src.w, src.h, mode).map_err(CodecError::yuv)?;
    yuvutils_rs::rotate_plane(su, src.w / 2, du, ow / 2, src.w / 2, src.h / 2, mode)
        .map_err(CodecError::yuv)?;
    yuvutils_rs::rotate_plane(sv, src.w / 2, dv, ow / 2, src.w / 2, src.h / 2, mode)
        .map_err(CodecError::yuv)?;
    Ok(out)
}

fn mirror(src: I420) -> CodecResult<I420> {
    let mut out = I420::new(src.w, src.h);
    let (w, h) = (src.w, src.h);
    let (sy, su, sv) = src.planes();
    let (dy, du, dv) = out.planes_mut();
    let m = MirrorMode::Horizontal;
    yuvutils_rs::mirror_plane(sy, w, dy, w, w, h, m).map_err(CodecError::yuv)?;
    yuvutils_rs::mirror_plane(su, w / 2, du, w / 2, w / 2, h / 2, m).map_err(CodecError::yuv)?;
    yuvutils_rs::mirror_plane(sv, w / 2, dv, w / 2, w / 2, h / 2, m).map_err(CodecError::yuv)?;
    Ok(out)
}

/// Bilinear I420 scaling through swscale.
fn scale(src: &I420, w: usize, h: usize) -> CodecResult<I420> {
    ffmpeg_init()?;
    let fmt = ff::format::Pixel::YUV420P;
    let mut ctx = ff::software::scaling::Context::get(
        fmt,
        src.w as u32,
        src.h as u32,
        fmt,
        w as u32,
        h as u32,
        ff::software::scaling::Flags::BILINEAR,
    )
    .map_err(CodecError::ffmpeg)?;
    let mut input = ff::frame::Video::new(fmt, src.w as u32, src.h as u32);
    let (sy, su, sv) = src.planes();
    for (i, (plane, pw, ph)) in [
        (sy, src.w, src.h),
        (su, src.w / 2, src.h / 2),
        (sv, src.w / 2, src.h / 2),
    ]
    .into_iter()
    .enumerate()
    {
        let stride = input.stride(i);
        let data = input.data_mut(i);
        for r in 0..ph {
            data[r * stride..r * stride + pw].copy_from_slice(&plane[r * pw..(r + 1) * pw]);
        }
    }
    let mut output = ff::frame::Video::new(fmt, w as u32, h as u32);
    ctx.run(&input, &mut output).map_err(CodecError::ffmpeg)?;
    let mut out = I420::new(w, h);
    {
        let (dy, du, dv) = out.planes_mut();
        for (i, (dst, pw, ph)) in [(dy, w, h), (du, w / 2, h / 2), (dv, w / 2, h / 2)]
            .into_iter()
            .enumerate()
        {
            copy_rows(output.data(i), output.stride(i), dst, pw, ph);
        }
    }
    Ok(out)
}

/// Places `src` at the top-left of a black frame of `w` x `h` (alignment padding).
fn pad(src: I420, w: usize, h: usize) -> I420 {
    if (src.w, src.h) == (w, h) {
        return src;
    }
    place(&src, w, h, 0, 0)
}

/// `src` on a black `w` x `h` picture with its top left at (`x`, `y`) (even, and `src` fits).
fn place(src: &I420, w: usize, h: usize, x: usize, y: usize) -> I420 {
    let mut out = I420::black(w, h);
    let (sy, su, sv) = src.planes();
    let (dy, du, dv) = out.planes_mut();
    for (s, d, sw, sh, dw, dx, dy0) in [
        (sy, dy, src.w, src.h, w, x, y),
        (su, du, src.w / 2, src.h / 2, w / 2, x / 2, y / 2),
        (sv, dv, src.w / 2, src.h / 2, w / 2, x / 2, y / 2),
    ] {
        for r in 0..sh {
            let at = (dy0 + r) * dw + dx;
            d[at..at + sw].copy_from_slice(&s[r * sw..(r + 1) * sw]);
        }
    }
    out
}

/// The even size of a `w` x `h` picture scaled to fit in `pw` x `ph` with its aspect kept.
pub fn fit_size(w: usize, h: usize, pw: usize, ph: usize) -> (usize, usize) {
    if w == 0 || h == 0 {
        return (pw, ph);
    }
    let even = |v: usize| (v & !1).max(2);
    if w * ph >= pw * h {
        (pw, even((h * pw + w / 2) / w).min(ph))
    } else {
        (even((w * ph + h / 2) / h).min(pw), ph)
    }
}

/// How a frame of another aspect than the encoded picture is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AspectFit {
    /// Stretched to the picture (camera frames: the app chose the camera's size).
    #[default]
    Stretch,
    /// Scaled with its aspect kept and centred on black bars (screen and window captures, as
    /// LiteAV does).
    Letterbox,
}

/// Prepares a captured frame for the encoder: converts to I420, applies the frame's rotation
/// and the encoder mirror, scales the picture to `picture` and pads it with black to `size`
/// (the backend-aligned encode size). An I420 frame already at `size` with nothing to apply is
/// returned as is, without copying.
pub fn to_encoder_i420(
    src: &VideoFrame,
    picture: Size,
    size: Size,
    mirror_h: bool,
) -> CodecResult<VideoFrame> {
    to_encoder_i420_fitted(src, picture, size, mirror_h, AspectFit::Stretch)
}

/// [`to_encoder_i420`] with the choice of how a frame of another aspect fills the picture.
pub fn to_encoder_i420_fitted(
    src: &VideoFrame,
    picture: Size,
    size: Size,
    mirror_h: bool,
    fit: AspectFit,
) -> CodecResult<VideoFrame> {
    if picture.width > size.width
        || picture.height > size.height
        || picture.width % 2 != 0
        || picture.height % 2 != 0
    {
        return Err(CodecError::InvalidInput(format!(
            "picture {picture} must be even and fit the encode size {size}"
        )));
    }
    let tight_i420 = src.format() == PixelFormat::I420 && src.stride() == src.width();
    if tight_i420
        && src.rotation() == Rotation::R0
        && !mirror_h
        && (src.width(), src.height()) == (size.width, size.height)
    {
        return Ok(src.clone());
    }
    let mut img = rotate(to_packed_i420(src)?, src.rotation())?;
    if mirror_h {
        img = mirror(img)?;
    }
    let (pw, ph) = (picture.width as usize, picture.height as usize);
    if (img.w, img.h) != (pw, ph) {
        let (fw, fh) = match fit {
            AspectFit::Stretch => (pw, ph),
            AspectFit::Letterbox => fit_size(img.w, img.h, pw, ph),
        };
        img = scale(&img, fw, fh)?;
        if (fw, fh) != (pw, ph) {
            img = place(&img, pw, ph, ((pw - fw) / 2) & !1, ((ph - fh) / 2) & !1);
        }
    }
    pad(img, size.width as usize, size.height as usize).into_frame(src)
}

/// Converts a frame to packed I420 at its own size (rotation applied).
pub fn to_i420(src: &VideoFrame) -> CodecResult<VideoFrame> {
    rotate(to_packed_i420(src)?, src.rotation())?.into_frame(src)
}

/// Converts an I420 frame to `format` for renderers: I420 (no copy), NV12, BGRA32 or RGBA32.
/// A one-off conversion: its buffer is freed with the frame (callers converting every picture
/// keep a [`RenderBuffers`]).
pub fn from_i420(src: &VideoFrame, format: PixelFormat) -> CodecResult<VideoFrame> {
    RenderBuffers::default().convert(src, format)
}

/// [`from_i420`] into buffers that come back when the frame handed out is dropped: a renderer
/// converting every picture allocates nothing once its frames in flight exist. The pool
/// follows the picture size.
#[derive(Debug, Default)]
pub struct RenderBuffers {
    pool: Option<onair_core::BufferPool>,
}

/// Idle render buffers kept: the frame an app still holds and the next.
const RENDER_BUFFERS_KEPT: usize = 2;

impl RenderBuffers {
    /// `src` (I420) converted to `format`; I420 itself passes through without a copy.
    pub fn convert(&mut self, src: &VideoFrame, format: PixelFormat) -> CodecResult<VideoFrame> {
        if format == PixelFormat::I420 && src.format() == PixelFormat::I420 {
            return Ok(src.clone());
        }
        let (w, h) = (src.width() as usize, src.height() as usize);
        let len = rendered_len(format, w, h)?;
        let pool = match &self.pool {
            Some(p) if p.buffer_len() == len => p,
            _ => self
                .pool
                .insert(onair_core::BufferPool::new(len, RENDER_BUFFERS_KEPT)),
        };
        let mut buf = pool.take();
        from_i420_into(src, format, buf.as_mut_slice())?;
        Ok(VideoFrame::new(format, w as u32, h as u32, buf.freeze())?
            .with_timestamp(src.timestamp()))
    }
}

/// Bytes of a tightly packed `format` picture of `w` x `h` that [`from_i420`] can make.
fn rendered_len(format: PixelFormat, w: usize, h: usize) -> CodecResult<usize> {
    match format {
        PixelFormat::I420 | PixelFormat::Nv12 | PixelFormat::Rgba32 | PixelFormat::Bgra32 => {
            Ok(VideoFrame::packed_len(format, w as u32, h as u32)?)
        }
        other => Err(CodecError::Unsupported(format!(
            "cannot render to {other} in a byte buffer"
        ))),
    }
}

/// Converts the I420 frame `src` into tightly packed `format` in `dst` (exactly
/// [`VideoFrame::packed_len`] bytes), without allocating. RGBA and BGRA: BT.601 limited range
/// through yuvutils (AVX2 where the CPU has it), each chroma sample covering its 2x2 block
/// as libyuv does; NV12: the chroma planes interleaved.
pub fn from_i420_into(src: &VideoFrame, format: PixelFormat, dst: &mut [u8]) -> CodecResult<()> {
    if src.format() != PixelFormat::I420 {
        return Err(CodecError::InvalidInput(format!(
            "expected an I420 frame, got {}",
            src.format()
        )));
    }
    let (w, h) = (src.width() as usize, src.height() as usize);
    let len = rendered_len(format, w, h)?;
    if dst.len() != len {
        return Err(CodecError::InvalidInput(format!(
            "from_i420_into: {w}x{h} {format} takes {len} bytes, got {}",
            dst.len()
        )));
    }
    let plane = |i| {
        src.plane(i)
            .ok_or_else(|| CodecError::InvalidInput("missing plane".into()))
    };
    let (py, pu, pv) = (plane(0)?, plane(1)?, plane(2)?);
    match format {
        PixelFormat::I420 => {
            let (y, uv) = dst.split_at_mut(w * h);
            let (u, v) = uv.split_at_mut(pu.row_bytes * pu.rows);
            copy_rows(py.data, py.stride, y, w, h);
            copy_rows(pu.data, pu.stride, u, pu.row_bytes, pu.rows);
            copy_rows(pv.data, pv.stride, v, pv.row_bytes, pv.rows);
        }
        PixelFormat::Nv12 => {
            let (y, uv) = dst.split_at_mut(w * h);
            copy_rows(py.data, py.stride, y, w, h);
            let (cw, ch) = (w / 2, h / 2);
            if pu.stride == cw && pv.stride == cw {
                // Packed planes are one long row each: fewer, longer loops.
                let n = cw * ch;
                i420_kernels::merge_uv(&pu.data[..n], &pv.data[..n], uv, Kernel::best());
            } else {
                for (r, row) in uv.chunks_exact_mut(w).take(ch).enumerate() {
                    i420_kernels::merge_uv(
                        &pu.data[r * pu.stride..][..cw],
                        &pv.data[r * pv.stride..][..cw],
                        &mut row[..2 * cw],
                        Kernel::best(),
                    );
                }
            }
        }
        PixelFormat::Rgba32 | PixelFormat::Bgra32 => {
            let image = yuvutils_rs::YuvPlanarImage {
                y_plane: py.data,
                y_stride: py.stride as u32,
                u_plane: pu.data,
                u_stride: pu.stride as u32,
                v_plane: pv.data,
                v_stride: pv.stride as u32,
                width: w as u32,
                height: h as u32,
            };
            let (range, matrix) = (
                yuvutils_rs::YuvRange::Limited,
                yuvutils_rs::YuvStandardMatrix::Bt601,
            );
            let stride = (w * 4) as u32;
            if format == PixelFormat::Rgba32 {
                yuvutils_rs::yuv420_to_rgba(&image, dst, stride, range, matrix)
            } else {
                yuvutils_rs::yuv420_to_bgra(&image, dst, stride, range, matrix)
            }
            .map_err(CodecError::yuv)?;
        }
        other => {
            return Err(CodecError::Unsupported(format!(
                "cannot render to {other} in a byte buffer"
            )))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use onair_core::Timestamp;

    fn i420(w: u32, h: u32, f: impl Fn(usize) -> u8) -> VideoFrame {
        let n = VideoFrame::packed_len(PixelFormat::I420, w, h).unwrap();
        VideoFrame::new(
            PixelFormat::I420,
            w,
            h,
            Bytes::from((0..n).map(f).collect::<Vec<_>>()),
        )
        .unwrap()
    }

    #[test]
    fn fit_sizes_keep_the_aspect_and_stay_even() {
        assert_eq!(fit_size(640, 480, 640, 360), (480, 360)); // 4:3 in 16:9: pillarbox
        assert_eq!(fit_size(1920, 600, 640, 360), (640, 200)); // wide: letterbox
        assert_eq!(fit_size(1280, 720, 640, 360), (640, 360));
        assert_eq!(fit_size(333, 1000, 640, 360), (120, 360));
        assert_eq!(fit_size(0, 10, 64, 32), (64, 32));
    }

    #[test]
    fn a_letterboxed_frame_is_centred_on_black() {
        // A bright 4:3 picture into 16:9: bars left and right, the picture in the middle.
        let f = i420(64, 48, |i| if i < 64 * 48 { 235 } else { 128 });
        let out = to_encoder_i420_fitted(
            &f,
            Size::new(64, 36),
            Size::new(64, 36),
            false,
            AspectFit::Letterbox,
        )
        .unwrap();
        let row: Vec<u8> = out.data()[18 * 64..19 * 64].to_vec();
        // 48x36 picture at x 8..56.
        assert!(row[..8].iter().all(|&y| y == 16), "{row:?}");
        assert!(row[56..].iter().all(|&y| y == 16), "{row:?}");
        assert!(row[10..54].iter().all(|&y| y > 200), "{row:?}");
        let stretched = to_encoder_i420(&f, Size::new(64, 36), Size::new(64, 36), false).unwrap();
        assert!(stretched.data()[18 * 64..19 * 64].iter().all(|&y| y > 200));
    }

    #[test]
    fn passthrough_copies_nothing() {
        let f = i420(64, 32, |i| i as u8);
        let out = to_encoder_i420(&f, Size::new(64, 32), Size::new(64, 32), false).unwrap();
        assert_eq!(out.data().as_ptr(), f.data().as_ptr());
    }

    #[test]
    fn mirror_reverses_rows() {
        let f = i420(4, 2, |i| if i < 8 { (i % 4) as u8 * 10 + 16 } else { 128 });
        let out = to_encoder_i420(&f, Size::new(4, 2), Size::new(4, 2), true).unwrap();
        assert_eq!(&out.data()[..4], &[46, 36, 26, 16]);
    }

    #[test]
    fn rotation_swaps_size_and_moves_pixels() {
        // Y: a 4x2 picture with a marked top-left pixel; 90 degrees clockwise puts it top-right.
        let f = i420(4, 2, |i| {
            if i == 0 {
                200
            } else if i < 8 {
                16
            } else {
                128
            }
        })
        .with_rotation(Rotation::R90);
        let out = to_i420(&f).unwrap();
        assert_eq!((out.width(), out.height()), (2, 4));
        let at = out.data()[..8].iter().position(|&p| p == 200);
        assert_eq!(at, Some(1), "{:?}", &out.data()[..8]);
    }

    #[test]
    fn rgb_rendering_is_within_3_levels_of_the_reference() {
        // Noise (every colour, hard edges) at an odd and an even size.
        for (w, h) in [(64u32, 36u32), (38, 22)] {
            // Noise inside the limited range (luma 16..=235, chroma 16..=240), two sizes: whole
            // and partial 32-pixel blocks.
            let f = i420(w, h, |i| {
                let s = (i as u32 ^ 0x5bd1_e995).wrapping_mul(0x9e37_79b9);
                16 + ((s >> 24) * 220 / 256) as u8
            });
            let (wu, hu) = (w as usize, h as usize);
            let (cw, ch) = (wu.div_ceil(2), hu.div_ceil(2));
            let (y, uv) = f.data().split_at(wu * hu);
            let (u, v) = uv.split_at(cw * ch);
            for (format, order) in [
                (PixelFormat::Rgba32, PixelOrder::Rgba),
                (PixelFormat::Bgra32, PixelOrder::Bgra),
            ] {
                let mut expected = vec![0u8; wu * hu * 4];
                i420_kernels::i420_to_rgb_reference((y, u, v), (wu, hu), order, &mut expected);
                let got = from_i420(&f, format).unwrap();
                let pooled = RenderBuffers::default().convert(&f, format).unwrap();
                assert_eq!(got.data(), pooled.data());
                let worst = got
                    .data()
                    .iter()
                    .zip(&expected)
                    .map(|(a, b)| a.abs_diff(*b))
                    .max();
                // yuvutils' fixed point against floating point (the convert bench's picture
                // shows 3 at most).
                assert!(worst <= Some(3), "{w}x{h} {format}: {worst:?} levels off");
            }
        }
    }

    #[test]
    fn render_buffers_come_back_and_follow_the_size() {
        let mut buffers = RenderBuffers::default();
        let f = i420(64, 32, |i| i as u8);
        let first = buffers.convert(&f, PixelFormat::Rgba32).unwrap();
        let ptr = first.data().as_ptr();
        drop(first);
        let again = buffers.convert(&f, PixelFormat::Rgba32).unwrap();
        assert_eq!(
            again.data().as_ptr(),
            ptr,
            "the dropped frame's buffer is reused"
        );
        let bigger = buffers
            .convert(&i420(128, 64, |i| i as u8), PixelFormat::Nv12)
            .unwrap();
        assert_eq!(bigger.data().len(), 128 * 64 * 3 / 2);
        assert!(from_i420_into(&f, PixelFormat::Rgba32, &mut [0u8; 10]).is_err());
        assert!(
            from_i420(&bigger, PixelFormat::Rgba32).is_err(),
            "NV12 is not I420"
        );
    }

    #[test]
    fn nv12_round_trip_is_exact() {
        let f = i420(8, 4, |i| (i * 7) as u8);
        let nv12 = from_i420(&f, PixelFormat::Nv12).unwrap();
        let back = to_i420(&nv12).unwrap();
        assert_eq!(back.data(), f.data());
    }

    #[test]
    fn scaling_and_padding() {
        let f = i420(64, 36, |_| 100).with_timestamp(Timestamp::from_millis(5));
        let out = to_encoder_i420(&f, Size::new(32, 18), Size::new(32, 32), false).unwrap();
        assert_eq!((out.width(), out.height()), (32, 32));
        assert_eq!(out.timestamp(), Timestamp::from_millis(5));
        assert!((i32::from(out.data()[0]) - 100).abs() <= 1);
        assert_eq!(out.data()[32 * 31], 16, "padding is black");
        assert!(to_encoder_i420(&f, Size::new(40, 18), Size::new(32, 32), false).is_err());
    }

    #[test]
    fn odd_rgba_converts() {
        let f = VideoFrame::new(PixelFormat::Rgba32, 3, 3, Bytes::from(vec![255u8; 36])).unwrap();
        let out = to_i420(&f).unwrap();
        assert_eq!((out.width(), out.height()), (4, 4));
        assert!(out.data()[0] >= 234);
    }
}
