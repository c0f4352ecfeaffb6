//! The GPU side of onair, on wgpu.
//!
//! - [`GpuContext`]: the device and queue the engine works on; made headless by onair
//!   ([`GpuContext::new`], Vulkan or GL, lavapipe included) or wrapped around the app's own
//!   device ([`GpuContext::from_device`]) so textures can go straight to its windows.
//! - [`FrameConverter`]: I420 frames to RGBA8 textures (three R8 plane uploads and a compute
//!   pass) and RGBA8 textures back to I420 (a compute pass that packs the planes, so only the
//!   planes are read back, not RGBA).
//! - [`RenderView`]: video drawn into the app's own window (fill mode, rotation, mirror, debug
//!   overlay), on its own thread (`view`).
//!
//! The custom-process hook itself (texture in, texture out, around the encoder) lives in the
//! pusher; this crate gives it the parts.

mod context;
mod convert;
mod error;
pub mod view;

pub use context::GpuContext;
pub use convert::{new_frame_texture, FrameConverter, FRAME_TEXTURE_FORMAT, FRAME_TEXTURE_USAGE};
pub use error::{GpuError, GpuResult};
pub use view::RenderView;
pub use wgpu;
pub use wgpu::rwh as raw_window_handle;
