//! Camera pixel formats to I420: YUYV (packed 4:2:2, chroma rows averaged), NV12 (semi-planar,
//! through the codec's converter) and MJPEG (FFmpeg's decoder, one per capture thread, then swscale to limited-range 4:2:0). Every input
//! is checked against its declared size first, so a short or corrupt frame is an error, never
//! a panic.

use crate::error::{CaptureError, CaptureResult};
use bytes::Bytes;
use onair_core::{PixelFormat, VideoFrame};

/// The formats a camera is asked for, most wanted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CameraPixelFormat {
    /// Packed 4:2:2, Y0 U Y1 V.
    Yuyv,
    /// Semi-planar 4:2:0.
    Nv12,
    /// Motion JPEG: one JPEG picture per frame.
    Mjpeg,
}

impl std::fmt::Display for CameraPixelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Yuyv => "YUYV",
            Self::Nv12 => "NV12",
            Self::Mjpeg => "MJPEG",
        })
    }
}

fn invalid(msg: String) -> CaptureError {
    CaptureError::InvalidFrame(msg)
}

/// Converts one camera frame of `width` x `height` to a tightly packed I420 frame.
pub fn camera_frame_to_i420(
    format: CameraPixelFormat,
    width: u32,
    height: u32,
    data: &[u8],
) -> CaptureResult<VideoFrame> {
    if width == 0 || height == 0 || width % 2 != 0 || height % 2 != 0 {
        return Err(invalid(format!(
            "{format} frame of {width}x{height}: width and height must be even and non-zero"
        )));
    }
    let (w, h) = (width as usize, height as usize);
    match format {
        CameraPixelFormat::Yuyv => yuyv_to_i420(w, h, data),
        CameraPixelFormat::Nv12 => {
            let frame = VideoFrame::new(
                PixelFormat::Nv12,
                width,
                height,
                Bytes::copy_from_slice(data),
            )
            .map_err(|e| invalid(format!("NV12 frame: {e}")))?;
            onair_codec::convert::to_i420(&frame).map_err(|e| invalid(format!("NV12 frame: {e}")))
        }
        CameraPixelFormat::Mjpeg => mjpeg_to_i420(w, h, data),
    }
}

fn yuyv_to_i420(w: usize, h: usize, data: &[u8]) -> CaptureResult<VideoFrame> {
    if data.len() != w * h * 2 {
        return Err(invalid(format!(
            "YUYV frame of {w}x{h} needs {} bytes, got {}",
            w * h * 2,
            data.len()
        )));
    }
    // Luma is copied; chroma of each 2x2 block is the rounded mean of its two rows (a camera's
    // 4:2:2 has chroma on every row; taking one row of two would alias vertical detail).
    let mut out = vec![0u8; w * h * 3 / 2];
    let (y, uv) = out.split_at_mut(w * h);
    let (u, v) = uv.split_at_mut(w * h / 4);
    for (row, src) in data.chunks_exact(w * 2).enumerate() {
        for (dst, px) in y[row * w..(row + 1) * w]
            .iter_mut()
            .zip(src.iter().step_by(2))
        {
            *dst = *px;
        }
    }
    let cw = w / 2;
    for cy in 0..h / 2 {
        let top = &data[2 * cy * w * 2..(2 * cy + 1) * w * 2];
        let bottom = &data[(2 * cy + 1) * w * 2..(2 * cy + 2) * w * 2];
        for cx in 0..cw {
            let mean = |i: usize| (u16::from(top[i]) + u16::from(bottom[i])).div_ceil(2) as u8;
            u[cy * cw + cx] = mean(cx * 4 + 1);
            v[cy * cw + cx] = mean(cx * 4 + 3);
        }
    }
    VideoFrame::new(PixelFormat::I420, w as u32, h as u32, Bytes::from(out))
        .map_err(|e| invalid(format!("YUYV frame: {e}")))
}

fn mjpeg_to_i420(w: usize, h: usize, data: &[u8]) -> CaptureResult<VideoFrame> {
    thread_local! {
        static DECODER: std::cell::RefCell<Option<onair_codec::MjpegDecoder>> =
            const { std::cell::RefCell::new(None) };
    }
    let frame = DECODER.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d =
                Some(onair_codec::MjpegDecoder::new().map_err(|e| invalid(format!("MJPEG: {e}")))?);
        }
        match d.as_mut() {
            Some(dec) => dec
                .decode(data)
                .map_err(|e| invalid(format!("MJPEG frame: {e}"))),
            None => Err(invalid("MJPEG: no decoder".into())),
        }
    })?;
    if (frame.width() as usize, frame.height() as usize) != (w, h) {
        return Err(invalid(format!(
            "MJPEG frame is {}x{}, the camera said {w}x{h}",
            frame.width(),
            frame.height()
        )));
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_sizes_are_errors_not_panics() {
        for f in [
            CameraPixelFormat::Yuyv,
            CameraPixelFormat::Nv12,
            CameraPixelFormat::Mjpeg,
        ] {
            assert!(camera_frame_to_i420(f, 4, 4, &[0; 7]).is_err());
            assert!(camera_frame_to_i420(f, 3, 4, &[0; 24]).is_err());
            assert!(camera_frame_to_i420(f, 0, 0, &[]).is_err());
        }
    }

    #[test]
    fn yuyv_keeps_luma_and_averages_chroma_rows() {
        // 2x2: row 0 Y=10,20 U=100 V=200; row 1 Y=30,40 U=110 V=210.
        let data = [10, 100, 20, 200, 30, 110, 40, 210];
        let f = camera_frame_to_i420(CameraPixelFormat::Yuyv, 2, 2, &data).unwrap();
        let d = f.data();
        assert_eq!(&d[..4], &[10, 20, 30, 40]);
        assert!((i32::from(d[4]) - 105).abs() <= 1, "U {}", d[4]);
        assert!((i32::from(d[5]) - 205).abs() <= 1, "V {}", d[5]);
    }
}
