//! Video enums of the V2TXLive surface: pixel format, buffer type, rotation, mirror and fill
//! mode. onair fixes its own stable numbering (the platforms' SDKs differ), given by `#[repr]`.

use crate::error::CoreError;
use std::fmt;
use std::str::FromStr;

/// Pixel layout of a video frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum PixelFormat {
    /// Not specified.
    #[default]
    Unknown = 0,
    /// Planar 4:2:0: Y plane, then U, then V.
    I420 = 1,
    /// Semi-planar 4:2:0: Y plane, then interleaved UV.
    Nv12 = 2,
    /// Packed 8-bit B, G, R, A.
    Bgra32 = 3,
    /// Packed 8-bit R, G, B, A.
    Rgba32 = 4,
    /// A GPU texture (wgpu), only with [`BufferType::Texture`].
    Texture2D = 5,
}

impl PixelFormat {
    /// `true` for the 4:2:0 formats whose width and height must be even.
    pub const fn is_yuv420(self) -> bool {
        matches!(self, Self::I420 | Self::Nv12)
    }

    /// Bytes per pixel for packed formats.
    pub const fn packed_bytes_per_pixel(self) -> Option<usize> {
        match self {
            Self::Bgra32 | Self::Rgba32 => Some(4),
            _ => None,
        }
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unknown => "unknown",
            Self::I420 => "i420",
            Self::Nv12 => "nv12",
            Self::Bgra32 => "bgra32",
            Self::Rgba32 => "rgba32",
            Self::Texture2D => "texture2d",
        })
    }
}

impl FromStr for PixelFormat {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "i420" => Ok(Self::I420),
            "nv12" => Ok(Self::Nv12),
            "bgra32" | "bgra" => Ok(Self::Bgra32),
            "rgba32" | "rgba" => Ok(Self::Rgba32),
            "texture2d" | "texture" => Ok(Self::Texture2D),
            _ => Err(CoreError::invalid(
                "pixel format",
                format!("{s:?}; expected one of i420, nv12, bgra32, rgba32, texture2d"),
            )),
        }
    }
}

/// Where a frame's pixels live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum BufferType {
    /// Not specified.
    #[default]
    Unknown = 0,
    /// CPU memory.
    ByteBuffer = 1,
    /// A GPU texture.
    Texture = 2,
}

/// Clockwise rotation of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Rotation {
    /// Upright.
    #[default]
    R0,
    /// 90 degrees clockwise.
    R90,
    /// 180 degrees.
    R180,
    /// 270 degrees clockwise.
    R270,
}

impl Rotation {
    /// The angle in degrees.
    pub const fn degrees(self) -> u32 {
        match self {
            Self::R0 => 0,
            Self::R90 => 90,
            Self::R180 => 180,
            Self::R270 => 270,
        }
    }

    /// The rotation for an angle of 0, 90, 180 or 270 degrees.
    pub fn from_degrees(degrees: u32) -> Result<Self, CoreError> {
        match degrees {
            0 => Ok(Self::R0),
            90 => Ok(Self::R90),
            180 => Ok(Self::R180),
            270 => Ok(Self::R270),
            _ => Err(CoreError::invalid(
                "rotation",
                format!("{degrees} degrees; expected 0, 90, 180 or 270"),
            )),
        }
    }

    /// `true` when the rotation swaps width and height.
    pub const fn swaps_dimensions(self) -> bool {
        matches!(self, Self::R90 | Self::R270)
    }
}

/// Mirror mode (for the local preview or the encoded stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum MirrorType {
    /// Front camera mirrored, rear camera not.
    #[default]
    Auto = 0,
    /// Always mirrored.
    Enable = 1,
    /// Never mirrored.
    Disable = 2,
}

/// How a picture fills a view of another aspect ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum FillMode {
    /// Fill the view, cropping what overflows.
    #[default]
    Fill = 0,
    /// Fit inside the view, with bars.
    Fit = 1,
    /// Stretch to the view.
    ScaleFill = 2,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_format_parse_and_classify() {
        for f in [
            PixelFormat::I420,
            PixelFormat::Nv12,
            PixelFormat::Bgra32,
            PixelFormat::Rgba32,
            PixelFormat::Texture2D,
        ] {
            assert_eq!(f.to_string().parse::<PixelFormat>().unwrap(), f);
        }
        assert!("yuyv".parse::<PixelFormat>().is_err());
        assert!(PixelFormat::I420.is_yuv420() && PixelFormat::Nv12.is_yuv420());
        assert!(!PixelFormat::Rgba32.is_yuv420());
        assert_eq!(PixelFormat::Bgra32.packed_bytes_per_pixel(), Some(4));
    }

    #[test]
    fn rotation_degrees() {
        for r in [Rotation::R0, Rotation::R90, Rotation::R180, Rotation::R270] {
            assert_eq!(Rotation::from_degrees(r.degrees()).unwrap(), r);
        }
        let err = Rotation::from_degrees(45).unwrap_err();
        assert!(err.to_string().contains("0, 90, 180 or 270"), "{err}");
        assert!(Rotation::R90.swaps_dimensions() && !Rotation::R180.swaps_dimensions());
    }
}

/// The video codec a pusher encodes (`set_video_codec`, LiteAV's `enableHevcEncode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum VideoCodec {
    /// H.264 / AVC: legacy FLV codec id 7, plays everywhere.
    #[default]
    H264 = 0,
    /// H.265 / HEVC: Enhanced RTMP FourCC `hvc1`, to servers that announce it.
    H265 = 1,
}

impl VideoCodec {
    /// `h264` or `h265` (what `onair push --codec` takes).
    pub fn name(self) -> &'static str {
        match self {
            Self::H264 => "h264",
            Self::H265 => "h265",
        }
    }

    /// The codec called `name`: `h264` / `avc`, `h265` / `hevc`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "h264" | "avc" | "h.264" => Some(Self::H264),
            "h265" | "hevc" | "h.265" => Some(Self::H265),
            _ => None,
        }
    }

    /// The Enhanced RTMP FourCC.
    pub fn fourcc(self) -> [u8; 4] {
        match self {
            Self::H264 => *b"avc1",
            Self::H265 => *b"hvc1",
        }
    }
}

impl std::fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
