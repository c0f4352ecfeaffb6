//! # onair-flv
//!
//! Sans-I/O FLV (FLV 10.1 annex E): bytes in, values out, and back. File header and tags
//! ([`tag`]), an incremental demuxer ([`demux`]), video and audio tag bodies ([`video`],
//! [`audio`]), the AVCDecoderConfigurationRecord and Annex B <-> AVCC ([`avcc`]),
//! AudioSpecificConfig ([`asc`]), Opus over Enhanced RTMP ([`opus`]), SEI messages ([`sei`]) and script data / onMetaData
//! ([`metadata`]). Every parser returns a [`FlvError`] with offset and context on malformed
//! input and never panics; sizes and nesting are capped. Fuzz targets live in `fuzz/`.

pub mod asc;
pub mod audio;
pub mod avcc;
pub mod demux;
pub mod enhanced;
pub mod error;
pub mod hvcc;
pub mod metadata;
pub mod opus;
pub mod payload;
pub mod sei;
pub mod tag;
pub mod video;

pub use asc::AudioSpecificConfig;
pub use audio::AudioTag;
pub use avcc::AvcDecoderConfig;
pub use demux::{demux_all, FlvDemuxer};
pub use enhanced::{audio_info, video_info, AudioInfo, ExVideoTag, VideoInfo};
pub use error::{FlvError, TagKind};
pub use hvcc::HevcDecoderConfig;
pub use metadata::{OnMetaData, ScriptData};
pub use opus::OpusHead;
pub use payload::{audio_payload, video_payload, AudioPayload, VideoPayload};
pub use rml_amf0::Amf0Value;
pub use sei::SeiMessage;
pub use tag::{FlvHeader, FlvTag, TagType};
pub use video::{FrameType, VideoData, VideoTag};
