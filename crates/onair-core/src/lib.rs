//! # onair-core
//!
//! The types every onair crate shares, following `docs/v2txlive.md`: the V2TXLive codes
//! ([`V2TXLiveCode`]), status and video enums, the 12 resolution presets with the
//! encoder-alignment rule ([`VideoResolution`], [`VideoEncoderParam`], [`EncodeTarget`]), audio
//! qualities, validated frames over `bytes::Bytes` ([`VideoFrame`], [`AudioFrame`]), typed
//! timestamps ([`Timestamp`]), reusable frame buffers ([`BufferPool`]), statistics, and the bounded frame channels that link pipeline
//! stages ([`channel`]). No I/O, no FFI.

pub mod audio_codec;
pub mod audio_quality;
pub mod buffer_pool;
pub mod channel;
pub mod code;
pub mod encoder_param;
pub mod error;
pub mod frame;
pub mod resolution;
pub mod stats;
pub mod status;
pub mod time;
pub mod video_types;

pub use audio_codec::{AudioCodec, OPUS_FRAME_MS};
pub use audio_quality::AudioQuality;
pub use buffer_pool::{BufferPool, PooledBuffer};
pub use code::{legacy_event, V2TXLiveCode};
pub use encoder_param::{EncodeTarget, ResolutionSpec, VideoEncoderParam};
pub use error::{CoreError, CoreResult};
pub use frame::{AudioFrame, Plane, VideoFrame};
pub use resolution::{Alignment, ResolutionMode, Size, VideoResolution};
pub use stats::{PlayerStatistics, PusherStatistics, STATISTICS_INTERVAL};
pub use status::PushStatus;
pub use time::Timestamp;
pub use video_types::{BufferType, FillMode, MirrorType, PixelFormat, Rotation, VideoCodec};
