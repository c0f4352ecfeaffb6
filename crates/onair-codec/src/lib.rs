//! # onair-codec
//!
//! The media layer between frames and FLV payloads: the video encoder interface (H.264, HEVC)
//! with its openh264 backend ([`video_encoder`]) and FFmpeg's (libx264, libx265, NVENC, VA-API,
//! QSV: [`ffmpeg_encoder`]), video decoding on FFmpeg ([`video_decoder`]),
//! AAC and Opus decoding ([`audio_decoder`]) and encoding ([`aac_encoder`] on FDK,
//! [`opus_encoder`]), colour conversion, rotation, mirror and
//! scaling ([`convert`]), MP4 from FLV tags for recordings ([`mp4_writer`]), and the
//! counter-stamped test pattern with its tone ([`test_pattern`]).

pub mod aac_encoder;
pub mod any_decoder;
pub mod audio_config;
pub mod audio_decoder;
pub mod audio_encoder;
pub mod convert;
pub mod error;
pub mod ffmpeg_encoder;
pub mod ffmpeg_lazy;
mod ffmpeg_util;
pub mod flv_tags;
pub mod i420_kernels;
pub mod mjpeg_decoder;
pub mod mp4_writer;
pub mod muxer;
pub mod opus_encoder;
pub mod test_pattern;
pub mod ts_writer;
pub mod video_decoder;
pub mod video_encoder;

pub use aac_encoder::AacEncoder;
pub use any_decoder::{FfmpegVideoDecoder, StillDecoder};
pub use audio_config::AudioConfig;
pub use audio_decoder::{open_audio_decoder, AacDecoder, AudioDecoder, OpusDecoder};
pub use audio_encoder::{AudioEncoder, EncodedAudio};
pub use error::{CodecError, CodecResult};
pub use ffmpeg_encoder::{
    list_video_encoders, open_video_encoder, FfmpegH264Encoder, FfmpegVideoEncoder,
    VideoEncoderBackend, VideoEncoderInfo,
};
pub use ffmpeg_util::ffmpeg_init;
pub use mjpeg_decoder::MjpegDecoder;
pub use mp4_writer::{Mp4Layout, Mp4TagWriter, Mp4Tracks, Mp4Writer, TagOutcome};
pub use opus_encoder::OpusEncoder;
pub use test_pattern::{read_stamp, Stamp, TestPattern, Tone};
pub use ts_writer::TsMuxer;
pub use video_decoder::{FfmpegH264Decoder, VideoDecoder};
pub use video_encoder::{
    DecoderConfig, EncodedVideo, EncoderOptions, OpenH264Encoder, VideoEncoder,
};
