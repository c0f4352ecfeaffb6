//! The API's frame types (`V2TXLiveVideoFrame`, `V2TXLiveAudioFrame`) as users fill them in,
//! validated into the core's frames on the way in: a wrong length, a zero or odd 4:2:0 size or
//! a texture in a byte buffer is refused with INVALID_PARAMETER / NOT_SUPPORTED, never a panic.

use crate::error::{LiveError, LiveResult};
use bytes::Bytes;
use onair_core::{AudioFrame, BufferType, PixelFormat, Rotation, VideoFrame};

/// A video frame handed to `send_custom_video_frame`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TXLiveVideoFrame {
    /// Pixel layout.
    pub pixel_format: PixelFormat,
    /// Where the pixels are (only ByteBuffer on this path).
    pub buffer_type: BufferType,
    /// The pixels.
    pub data: Bytes,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes between rows of the first plane; `None` for tightly packed.
    pub stride: Option<u32>,
    /// Clockwise rotation to apply before encoding.
    pub rotation: Rotation,
}

impl V2TXLiveVideoFrame {
    /// A tightly packed byte-buffer frame.
    pub fn new(pixel_format: PixelFormat, width: u32, height: u32, data: Bytes) -> Self {
        Self {
            pixel_format,
            buffer_type: BufferType::ByteBuffer,
            data,
            width,
            height,
            stride: None,
            rotation: Rotation::R0,
        }
    }

    pub(crate) fn validate(&self) -> LiveResult<VideoFrame> {
        if self.buffer_type == BufferType::Texture || self.pixel_format == PixelFormat::Texture2D {
            return Err(LiveError::new(
                onair_core::V2TXLiveCode::ErrorNotSupported,
                "texture frames go through the GPU custom-process path, not send_custom_video_frame",
            ));
        }
        let frame = match self.stride {
            None => VideoFrame::new(
                self.pixel_format,
                self.width,
                self.height,
                self.data.clone(),
            )?,
            Some(s) => VideoFrame::with_stride(
                self.pixel_format,
                self.width,
                self.height,
                s,
                self.data.clone(),
            )?,
        };
        Ok(frame.with_rotation(self.rotation))
    }
}

/// PCM handed to `send_custom_audio_frame`: interleaved s16le.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TXLiveAudioFrame {
    /// The samples.
    pub data: Bytes,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u16,
}

impl V2TXLiveAudioFrame {
    pub(crate) fn validate(&self) -> LiveResult<AudioFrame> {
        Ok(AudioFrame::new(
            self.data.clone(),
            self.sample_rate,
            self.channels,
        )?)
    }
}
