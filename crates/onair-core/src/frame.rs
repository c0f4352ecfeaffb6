//! `VideoFrame` and `AudioFrame` (`V2TXLiveVideoFrame`, `V2TXLiveAudioFrame`): payloads over
//! `bytes::Bytes`, so handing a frame from one stage to the next copies no pixels. Every frame is
//! validated when it is built (spec "Frames"): a length that does not match the format and size,
//! a zero size, an odd size for a 4:2:0 format or a too-small stride is INVALID_PARAMETER, never
//! a panic.

use crate::error::{CoreError, CoreResult};
use crate::time::Timestamp;
use crate::video_types::{PixelFormat, Rotation};
use bytes::Bytes;
use std::time::Duration;

/// Largest accepted width or height, which keeps every size computation far from overflow.
pub const MAX_DIMENSION: u32 = 16_384;

/// One plane of a frame: its bytes, row stride and visible size in bytes and rows.
#[derive(Debug, Clone, Copy)]
pub struct Plane<'a> {
    /// The plane's bytes, `stride * rows` long (the last row may be exactly `row_bytes`).
    pub data: &'a [u8],
    /// Distance in bytes between the starts of two rows.
    pub stride: usize,
    /// Visible bytes per row.
    pub row_bytes: usize,
    /// Number of rows.
    pub rows: usize,
}

/// Byte layout of a frame: (offset, stride, row bytes, rows) for each plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    planes: [(usize, usize, usize, usize); 3],
    count: usize,
    total: usize,
}

fn layout(format: PixelFormat, width: u32, height: u32, stride: u32) -> CoreResult<Layout> {
    let (w, h, s) = (width as usize, height as usize, stride as usize);
    match format {
        PixelFormat::I420 => {
            let cs = s.div_ceil(2);
            let (cw, ch) = (w / 2, h / 2);
            let y = s * h;
            let c = cs * ch;
            Ok(Layout {
                planes: [(0, s, w, h), (y, cs, cw, ch), (y + c, cs, cw, ch)],
                count: 3,
                total: y + 2 * c,
            })
        }
        PixelFormat::Nv12 => {
            let y = s * h;
            Ok(Layout {
                planes: [(0, s, w, h), (y, s, w, h / 2), (0, 0, 0, 0)],
                count: 2,
                total: y + s * (h / 2),
            })
        }
        PixelFormat::Bgra32 | PixelFormat::Rgba32 => Ok(Layout {
            planes: [(0, s, w * 4, h), (0, 0, 0, 0), (0, 0, 0, 0)],
            count: 1,
            total: s * h,
        }),
        PixelFormat::Texture2D => Err(CoreError::NotSupported(
            "a Texture2D frame has no byte buffer; use the GPU path (BufferType::Texture)".into(),
        )),
        _ => Err(CoreError::invalid(
            "pixel_format",
            format!("{format}; expected i420, nv12, bgra32 or rgba32 for a byte buffer"),
        )),
    }
}

/// A raw video frame in CPU memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoFrame {
    format: PixelFormat,
    width: u32,
    height: u32,
    stride: u32,
    rotation: Rotation,
    timestamp: Timestamp,
    data: Bytes,
}

impl VideoFrame {
    /// The tightly packed byte length of a frame (stride = width, or width * 4 for packed).
    pub fn packed_len(format: PixelFormat, width: u32, height: u32) -> CoreResult<usize> {
        check_size(format, width, height)?;
        Ok(layout(format, width, height, Self::min_stride(format, width))?.total)
    }

    fn min_stride(format: PixelFormat, width: u32) -> u32 {
        width * format.packed_bytes_per_pixel().unwrap_or(1) as u32
    }

    /// A tightly packed frame. Fails with INVALID_PARAMETER when `data` is not exactly
    /// [`VideoFrame::packed_len`] bytes.
    pub fn new(format: PixelFormat, width: u32, height: u32, data: Bytes) -> CoreResult<Self> {
        check_size(format, width, height)?;
        Self::with_stride(format, width, height, Self::min_stride(format, width), data)
    }

    /// A frame whose first plane's rows are `stride` bytes apart (chroma planes of I420 use
    /// `ceil(stride / 2)`, NV12's UV plane uses `stride`).
    pub fn with_stride(
        format: PixelFormat,
        width: u32,
        height: u32,
        stride: u32,
        data: Bytes,
    ) -> CoreResult<Self> {
        check_size(format, width, height)?;
        let min = Self::min_stride(format, width);
        if stride < min || stride > MAX_DIMENSION * 4 {
            return Err(CoreError::invalid(
                "stride",
                format!(
                    "{stride} bytes; expected {min}..={} for {format} {width}x{height}",
                    MAX_DIMENSION * 4
                ),
            ));
        }
        let l = layout(format, width, height, stride)?;
        if data.len() != l.total {
            return Err(CoreError::invalid(
                "frame length",
                format!(
                    "{} bytes; {format} {width}x{height} with stride {stride} needs exactly {} bytes",
                    data.len(),
                    l.total
                ),
            ));
        }
        Ok(Self {
            format,
            width,
            height,
            stride,
            rotation: Rotation::R0,
            timestamp: Timestamp::ZERO,
            data,
        })
    }

    /// The same frame with a rotation to apply before encoding.
    pub fn with_rotation(mut self, rotation: Rotation) -> Self {
        self.rotation = rotation;
        self
    }

    /// The same frame stamped with a capture time.
    pub fn with_timestamp(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// Pixel format.
    pub fn format(&self) -> PixelFormat {
        self.format
    }
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Row stride of the first plane in bytes.
    pub fn stride(&self) -> u32 {
        self.stride
    }
    /// Clockwise rotation to apply.
    pub fn rotation(&self) -> Rotation {
        self.rotation
    }
    /// Capture or presentation time.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
    /// The whole buffer (cheap to clone: reference counted).
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    /// Number of planes (3 for I420, 2 for NV12, 1 for packed formats).
    pub fn plane_count(&self) -> usize {
        self.layout().count
    }

    fn layout(&self) -> Layout {
        // Validated at construction, so this cannot fail; fall back to an empty layout anyway.
        layout(self.format, self.width, self.height, self.stride).unwrap_or(Layout {
            planes: [(0, 0, 0, 0); 3],
            count: 0,
            total: 0,
        })
    }

    /// Plane `index` (Y, U, V for I420; Y, UV for NV12; the pixels for packed formats).
    pub fn plane(&self, index: usize) -> Option<Plane<'_>> {
        let l = self.layout();
        if index >= l.count {
            return None;
        }
        let (offset, stride, row_bytes, rows) = l.planes[index];
        let end = if index + 1 < l.count {
            l.planes[index + 1].0
        } else {
            l.total
        };
        Some(Plane {
            data: self.data.get(offset..end)?,
            stride,
            row_bytes,
            rows,
        })
    }
}

fn check_size(format: PixelFormat, width: u32, height: u32) -> CoreResult<()> {
    for (what, v) in [("width", width), ("height", height)] {
        if v == 0 || v > MAX_DIMENSION {
            return Err(CoreError::invalid(
                what,
                format!("{v}; expected 1..={MAX_DIMENSION}"),
            ));
        }
        if format.is_yuv420() && v % 2 != 0 {
            return Err(CoreError::invalid(
                what,
                format!("{v}; {format} is 4:2:0 and needs an even {what}"),
            ));
        }
    }
    Ok(())
}

/// Allowed PCM sample rates.
pub const SAMPLE_RATE_RANGE: std::ops::RangeInclusive<u32> = 8_000..=192_000;
/// Allowed channel counts.
pub const CHANNELS_RANGE: std::ops::RangeInclusive<u16> = 1..=2;

/// Interleaved signed 16-bit little-endian PCM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFrame {
    sample_rate: u32,
    channels: u16,
    timestamp: Timestamp,
    data: Bytes,
}

impl AudioFrame {
    /// A frame over s16le bytes. The length must be a non-zero whole number of sample frames.
    pub fn new(data: Bytes, sample_rate: u32, channels: u16) -> CoreResult<Self> {
        if !SAMPLE_RATE_RANGE.contains(&sample_rate) {
            return Err(CoreError::invalid(
                "sample_rate",
                format!("{sample_rate} Hz; expected 8000..=192000"),
            ));
        }
        if !CHANNELS_RANGE.contains(&channels) {
            return Err(CoreError::invalid(
                "channels",
                format!("{channels}; expected 1 or 2"),
            ));
        }
        let frame_bytes = 2 * channels as usize;
        if data.is_empty() || data.len() % frame_bytes != 0 {
            return Err(CoreError::invalid(
                "audio frame length",
                format!(
                    "{} bytes; expected a non-zero multiple of {frame_bytes} (s16le x {channels} channels)",
                    data.len()
                ),
            ));
        }
        Ok(Self {
            sample_rate,
            channels,
            timestamp: Timestamp::ZERO,
            data,
        })
    }

    /// A frame copied from interleaved samples.
    pub fn from_samples(samples: &[i16], sample_rate: u32, channels: u16) -> CoreResult<Self> {
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        Self::new(Bytes::from(bytes), sample_rate, channels)
    }

    /// The same frame stamped with a capture time.
    pub fn with_timestamp(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
    /// Channel count.
    pub fn channels(&self) -> u16 {
        self.channels
    }
    /// Capture or presentation time of the first sample.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
    /// The s16le bytes.
    pub fn data(&self) -> &Bytes {
        &self.data
    }
    /// Samples per channel.
    pub fn samples_per_channel(&self) -> usize {
        self.data.len() / (2 * self.channels as usize)
    }
    /// Play time of the frame.
    pub fn duration(&self) -> Duration {
        Duration::from_micros(
            self.samples_per_channel() as u64 * 1_000_000 / self.sample_rate as u64,
        )
    }
    /// The interleaved samples.
    pub fn samples(&self) -> impl ExactSizeIterator<Item = i16> + '_ {
        self.data
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::V2TXLiveCode;

    fn buf(n: usize) -> Bytes {
        Bytes::from(vec![0u8; n])
    }

    fn invalid(r: CoreResult<VideoFrame>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.code(), V2TXLiveCode::ErrorInvalidParameter, "{e}");
        e.to_string()
    }

    #[test]
    fn packed_lengths_of_each_format() {
        assert_eq!(
            VideoFrame::packed_len(PixelFormat::I420, 4, 2).unwrap(),
            8 + 2 + 2
        );
        assert_eq!(
            VideoFrame::packed_len(PixelFormat::Nv12, 4, 2).unwrap(),
            8 + 4
        );
        assert_eq!(
            VideoFrame::packed_len(PixelFormat::Bgra32, 3, 3).unwrap(),
            36
        );
        assert_eq!(
            VideoFrame::packed_len(PixelFormat::Rgba32, 1920, 1080).unwrap(),
            1920 * 1080 * 4
        );
        assert_eq!(
            VideoFrame::packed_len(PixelFormat::I420, 1920, 1080).unwrap(),
            1920 * 1080 * 3 / 2
        );
    }

    #[test]
    fn exact_lengths_are_accepted_for_every_format() {
        for f in [
            PixelFormat::I420,
            PixelFormat::Nv12,
            PixelFormat::Bgra32,
            PixelFormat::Rgba32,
        ] {
            let n = VideoFrame::packed_len(f, 64, 36).unwrap();
            let frame = VideoFrame::new(f, 64, 36, buf(n)).unwrap();
            assert_eq!(frame.data().len(), n);
            let total: usize = (0..frame.plane_count())
                .map(|i| frame.plane(i).unwrap().data.len())
                .sum();
            assert_eq!(total, n, "{f}");
            assert!(frame.plane(frame.plane_count()).is_none());
        }
    }

    #[test]
    fn short_and_long_buffers_are_invalid() {
        for f in [
            PixelFormat::I420,
            PixelFormat::Nv12,
            PixelFormat::Bgra32,
            PixelFormat::Rgba32,
        ] {
            let n = VideoFrame::packed_len(f, 16, 16).unwrap();
            let msg = invalid(VideoFrame::new(f, 16, 16, buf(n - 1)));
            assert!(msg.contains(&format!("needs exactly {n} bytes")), "{msg}");
            invalid(VideoFrame::new(f, 16, 16, buf(n + 1)));
            invalid(VideoFrame::new(f, 16, 16, Bytes::new()));
        }
    }

    #[test]
    fn zero_sizes_are_invalid() {
        for f in [
            PixelFormat::I420,
            PixelFormat::Nv12,
            PixelFormat::Bgra32,
            PixelFormat::Rgba32,
        ] {
            invalid(VideoFrame::new(f, 0, 16, buf(0)));
            invalid(VideoFrame::new(f, 16, 0, buf(0)));
            assert!(VideoFrame::packed_len(f, 0, 0).is_err());
        }
    }

    #[test]
    fn odd_sizes_are_invalid_for_420_only() {
        for f in [PixelFormat::I420, PixelFormat::Nv12] {
            let msg = invalid(VideoFrame::new(f, 15, 16, buf(1000)));
            assert!(msg.contains("even width"), "{msg}");
            let msg = invalid(VideoFrame::new(f, 16, 15, buf(1000)));
            assert!(msg.contains("even height"), "{msg}");
        }
        // Packed formats accept odd sizes.
        VideoFrame::new(PixelFormat::Bgra32, 15, 15, buf(15 * 15 * 4)).unwrap();
    }

    #[test]
    fn oversized_dimensions_are_invalid_not_overflowing() {
        let msg = invalid(VideoFrame::new(
            PixelFormat::Rgba32,
            u32::MAX,
            u32::MAX,
            buf(4),
        ));
        assert!(msg.contains("1..=16384"), "{msg}");
        invalid(VideoFrame::with_stride(
            PixelFormat::Rgba32,
            16,
            16,
            u32::MAX,
            buf(4),
        ));
    }

    #[test]
    fn strides() {
        // I420 16x4 with a 20-byte Y stride: Y 80, U and V 10*2 each.
        let f = VideoFrame::with_stride(PixelFormat::I420, 16, 4, 20, buf(80 + 40)).unwrap();
        let u = f.plane(1).unwrap();
        assert_eq!(
            (u.stride, u.row_bytes, u.rows, u.data.len()),
            (10, 8, 2, 20)
        );
        // NV12 stride 20: Y 80, UV 20*2.
        VideoFrame::with_stride(PixelFormat::Nv12, 16, 4, 20, buf(120)).unwrap();
        // BGRA stride 72 for width 16.
        let f = VideoFrame::with_stride(PixelFormat::Bgra32, 16, 2, 72, buf(144)).unwrap();
        assert_eq!(f.plane(0).unwrap().row_bytes, 64);
        // A stride under the row length.
        let msg = invalid(VideoFrame::with_stride(
            PixelFormat::Bgra32,
            16,
            2,
            63,
            buf(126),
        ));
        assert!(msg.contains("expected 64"), "{msg}");
        invalid(VideoFrame::with_stride(
            PixelFormat::I420,
            16,
            4,
            15,
            buf(96),
        ));
        // The stride-based length is required exactly.
        invalid(VideoFrame::with_stride(
            PixelFormat::I420,
            16,
            4,
            20,
            buf(96),
        ));
    }

    #[test]
    fn unknown_and_texture_formats() {
        invalid(VideoFrame::new(PixelFormat::Unknown, 16, 16, buf(16)));
        let e = VideoFrame::new(PixelFormat::Texture2D, 16, 16, buf(16)).unwrap_err();
        assert_eq!(e.code(), V2TXLiveCode::ErrorNotSupported);
    }

    #[test]
    fn frames_share_their_bytes() {
        let data = buf(VideoFrame::packed_len(PixelFormat::I420, 32, 32).unwrap());
        let ptr = data.as_ptr();
        let frame = VideoFrame::new(PixelFormat::I420, 32, 32, data).unwrap();
        let copy = frame
            .clone()
            .with_timestamp(Timestamp::from_millis(40))
            .with_rotation(Rotation::R90);
        assert_eq!(copy.data().as_ptr(), ptr);
        assert_eq!(copy.plane(0).unwrap().data.as_ptr(), ptr);
        assert_eq!(copy.timestamp().as_millis(), 40);
        assert_eq!(copy.rotation(), Rotation::R90);
    }

    #[test]
    fn audio_frame_rules() {
        let f = AudioFrame::from_samples(&[1, -2, 3, -4], 48_000, 2).unwrap();
        assert_eq!(f.samples_per_channel(), 2);
        assert_eq!(f.samples().collect::<Vec<_>>(), vec![1, -2, 3, -4]);
        let f = AudioFrame::new(buf(960 * 2), 48_000, 1).unwrap();
        assert_eq!(f.duration(), Duration::from_millis(20));
        for (len, rate, ch) in [
            (0, 48_000, 1),
            (3, 48_000, 1),
            (6, 48_000, 2),
            (4, 7_999, 1),
            (4, 48_000, 0),
            (12, 48_000, 3),
        ] {
            let e = AudioFrame::new(buf(len), rate, ch).unwrap_err();
            assert_eq!(
                e.code(),
                V2TXLiveCode::ErrorInvalidParameter,
                "{len} {rate} {ch}: {e}"
            );
        }
    }
}
