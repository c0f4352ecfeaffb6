//! # onair
//!
//! The V2TXLive client API in Rust (see `shared/spec/v2txlive.md`): [`V2TXLivePusher`] pushes
//! camera-less sources (test pattern, still image) or the app's own frames over RTMP/RTMPS with
//! reconnects, congestion handling and statistics, reporting through a
//! [`V2TXLivePusherObserver`]. Codes, presets and frames come from `onair-core` and are
//! re-exported here.
#![deny(missing_docs)]

mod cpu;
pub mod error;
pub mod frame;
pub mod pusher;

pub use error::{LiveError, LiveResult};
pub use frame::{V2TXLiveAudioFrame, V2TXLiveVideoFrame};
pub use onair_core::{
    Alignment, AudioQuality, BufferType, MirrorType, PixelFormat, PushStatus, PusherStatistics,
    ResolutionMode, Rotation, Size, V2TXLiveCode, VideoEncoderParam, VideoFrame, VideoResolution,
};
pub use onair_rtmp::TransportConfig;
pub use pusher::{ReconnectPolicy, V2TXLivePusher, V2TXLivePusherObserver, VideoSource};
