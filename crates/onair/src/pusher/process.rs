//! The custom-process hook (`enable_custom_video_process`): every frame, at the encode size,
//! goes through the observer's `on_process_video_frame` on the video thread before the
//! watermark and the encoder.
//!
//! - Texture2D / Texture: the frame is uploaded to an RGBA8 `src` texture on the engine's wgpu
//!   device; the app draws into `dst` (or hands back its own texture); the engine converts the
//!   result to I420 on the GPU and reads back only the planes. The app hears about the device
//!   through `on_gpu_context_created` before the first frame and `on_gpu_context_destroyed`
//!   after the last, both on the video thread, both before `stop_push` returns.
//! - I420 or BGRA32 / ByteBuffer: the same on the CPU, `dst` starting as a copy of `src`.

use super::observer::V2TXLivePusherObserver;
use onair_codec::convert::{from_i420, to_i420};
use onair_core::{BufferType, PixelFormat, VideoFrame};
use onair_gpu::{new_frame_texture, wgpu, FrameConverter, GpuContext};
use std::sync::Arc;

/// What `on_process_video_frame` gets.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProcessVideoFrame<'a> {
    /// ByteBuffer modes (I420 or BGRA32, tightly packed): read `src`, write `dst` (same
    /// length; it starts as a copy of `src`, so leaving it alone passes the frame through).
    Bytes {
        /// The layout of `src` and `dst`.
        pixel_format: PixelFormat,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The frame.
        src: &'a [u8],
        /// What is encoded.
        dst: &'a mut [u8],
    },
    /// Texture mode: RGBA8 textures on the device of `on_gpu_context_created`. Draw into
    /// `dst`, or put a texture of your own (RGBA8, same size, TEXTURE_BINDING) in `replace`.
    /// Submit your work on the context's queue before returning.
    Texture {
        /// The frame.
        src: &'a wgpu::Texture,
        /// What is encoded unless `replace` is set; its content is undefined on entry.
        dst: &'a wgpu::Texture,
        /// A texture of the app's to encode instead of `dst`.
        replace: &'a mut Option<wgpu::Texture>,
    },
}

/// The hook's mode, chosen by `enable_custom_video_process`.
#[derive(Debug, Clone)]
pub(crate) enum ProcessMode {
    Gpu(Arc<GpuContext>),
    Bytes(PixelFormat),
}

impl ProcessMode {
    /// Checks a combination; the GPU one needs an adapter (NOT_SUPPORTED without).
    pub(crate) fn choose(
        pixel_format: PixelFormat,
        buffer_type: BufferType,
    ) -> Result<Self, String> {
        match (pixel_format, buffer_type) {
            (PixelFormat::Texture2D, BufferType::Texture) => GpuContext::new()
                .map(ProcessMode::Gpu)
                .map_err(|e| format!("the GPU process path needs a wgpu adapter: {e}")),
            (PixelFormat::I420 | PixelFormat::Bgra32, BufferType::ByteBuffer) => {
                Ok(ProcessMode::Bytes(pixel_format))
            }
            (f, b) => Err(format!(
                "custom process of {f} in {b:?}: onair serves Texture2D/Texture, I420/ByteBuffer and BGRA32/ByteBuffer"
            )),
        }
    }
}

/// The hook's state on the video thread.
pub(crate) enum Processor {
    Gpu {
        conv: Box<FrameConverter>,
        textures: Option<(wgpu::Texture, wgpu::Texture)>,
    },
    Bytes(PixelFormat),
}

impl Processor {
    /// Starts the hook; for the GPU path this tells the observer about the context.
    pub(crate) fn start(mode: &ProcessMode, observer: &dyn V2TXLivePusherObserver) -> Self {
        match mode {
            ProcessMode::Gpu(ctx) => {
                observer.on_gpu_context_created(ctx);
                Processor::Gpu {
                    conv: Box::new(FrameConverter::new(Arc::clone(ctx))),
                    textures: None,
                }
            }
            ProcessMode::Bytes(f) => Processor::Bytes(*f),
        }
    }

    /// Runs one I420 frame through the observer.
    pub(crate) fn process(
        &mut self,
        frame: &VideoFrame,
        observer: &dyn V2TXLivePusherObserver,
    ) -> Result<VideoFrame, String> {
        match self {
            Processor::Bytes(format) => {
                let src = if *format == PixelFormat::I420 {
                    frame.clone()
                } else {
                    from_i420(frame, *format).map_err(|e| e.to_string())?
                };
                let mut dst = src.data().to_vec();
                observer.on_process_video_frame(ProcessVideoFrame::Bytes {
                    pixel_format: *format,
                    width: src.width(),
                    height: src.height(),
                    src: src.data(),
                    dst: &mut dst,
                });
                let out = VideoFrame::new(*format, src.width(), src.height(), dst.into())
                    .map_err(|e| e.to_string())?;
                if *format == PixelFormat::I420 {
                    Ok(out.with_timestamp(frame.timestamp()))
                } else {
                    Ok(to_i420(&out)
                        .map_err(|e| e.to_string())?
                        .with_timestamp(frame.timestamp()))
                }
            }
            Processor::Gpu { conv, textures } => {
                let (w, h) = (frame.width(), frame.height());
                if !matches!(textures, Some((s, _)) if (s.width(), s.height()) == (w, h)) {
                    let ctx = conv.context();
                    *textures = Some((
                        new_frame_texture(ctx, w, h, "onair process src"),
                        new_frame_texture(ctx, w, h, "onair process dst"),
                    ));
                }
                let Some((src, dst)) = textures.as_ref() else {
                    return Err("no process textures".into());
                };
                conv.upload(frame, src).map_err(|e| e.to_string())?;
                let mut replace = None;
                observer.on_process_video_frame(ProcessVideoFrame::Texture {
                    src,
                    dst,
                    replace: &mut replace,
                });
                let result = replace.as_ref().unwrap_or(dst);
                let out = conv.download(result).map_err(|e| e.to_string())?;
                Ok(out.with_timestamp(frame.timestamp()))
            }
        }
    }

    /// Ends the hook; for the GPU path this tells the observer the context is going away.
    pub(crate) fn end(self, observer: &dyn V2TXLivePusherObserver) {
        if let Processor::Gpu { .. } = self {
            drop(self);
            observer.on_gpu_context_destroyed();
        }
    }
}
