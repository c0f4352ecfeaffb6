//! # onair
//!
//! The V2TXLive client API in Rust (see `docs/v2txlive.md`): [`V2TXLivePusher`] pushes
//! a camera, a microphone, built-in sources (test pattern, still image) or the app's own frames over RTMP/RTMPS with
//! reconnects, congestion handling and statistics, reporting through a
//! [`V2TXLivePusherObserver`]; [`V2TXLivePlayer`] plays RTMP and HTTP-FLV streams through a
//! jitter buffer and an A/V clock, rendering to the app's [`V2TXLivePlayerObserver`]. Codes, presets and frames come from `onair-core` and are
//! re-exported here.
#![deny(missing_docs)]

mod control;
mod cpu;
pub mod error;
pub mod frame;
pub mod local_record;
pub mod player;
pub mod pusher;
mod render;
mod session;

pub use error::{LiveError, LiveResult};
pub use frame::{V2TXLiveAudioFrame, V2TXLiveVideoFrame};
pub use local_record::{record_code, LocalRecordingParams, RecordMode};
pub use onair_codec::{list_video_encoders, VideoEncoderBackend, VideoEncoderInfo};
pub use onair_core::{
    Alignment, AudioCodec, AudioFrame, AudioQuality, BufferType, FillMode, MirrorType, PixelFormat,
    PlayerStatistics, PushStatus, PusherStatistics, ResolutionMode, Rotation, Size, Timestamp,
    V2TXLiveCode, VideoCodec, VideoEncoderParam, VideoFrame, VideoResolution,
};
pub use onair_gpu::{raw_window_handle, wgpu, GpuContext, GpuError, RenderView};
pub use onair_rtmp::TransportConfig;
pub use player::{CachePreset, V2TXLivePlayer, V2TXLivePlayerObserver};
pub use pusher::{
    list_cameras, list_microphones, CameraInfo, MicrophoneInfo, ProcessVideoFrame, ReconnectPolicy,
    ScreenCaptureProperty, ScreenCaptureSourceInfo, SourceId, StopReason, V2TXLivePusher,
    V2TXLivePusherObserver, VideoSource,
};
