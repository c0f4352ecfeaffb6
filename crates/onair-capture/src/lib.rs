//! Capture devices for the pusher.
//!
//! - [`camera`]: cameras through nokhwa (V4L2 on Linux): listing, format negotiation (YUYV,
//!   NV12, MJPEG), conversion to I420 ([`camera_format`]) and frame pacing on a capture thread.
//! - [`microphone`]: microphones through cpal: the device's own format is mixed to the wanted
//!   channel count, resampled (rubato) to the audio quality's rate and cut into 20 ms s16 frames
//!   inside the real-time callback, without allocating or blocking there.
//! - [`screen`]: screens and windows (X11 through x11rb with MIT-SHM and XFixes): listing with
//!   thumbnails and icons, and a capture thread paced to a frame rate.
//! - [`loopback`]: system audio, the default output's monitor through libpulse.
//! - [`audio_libs`]: ALSA, libpulse and PipeWire, loaded on first use (not needed libraries of
//!   the binary).
//!
//! Failures are [`CaptureError`]s that say which device and why; the pusher turns them into
//! CAMERA_START_FAILED / CAMERA_OCCUPIED / MICROPHONE_START_FAILED warnings.

pub mod audio_libs;
pub mod camera;
pub mod camera_format;
mod error;
pub mod loopback;
pub mod microphone;
pub mod screen;

pub use camera::{list_cameras, Camera, CameraInfo};
pub use camera_format::{camera_frame_to_i420, CameraPixelFormat};
pub use error::{CaptureError, CaptureResult};
pub use loopback::SystemAudio;
pub use microphone::{list_microphones, Microphone, MicrophoneInfo};
pub use screen::{
    list_screen_sources, CaptureTarget, FrameSink, Rect, RgbaImage, ScreenCapture, ScreenSource,
    SourceId, StopReason,
};
