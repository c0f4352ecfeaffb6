//! `CodecError`: what an encoder, decoder or converter rejected, in words.

use onair_core::{CoreError, V2TXLiveCode};

/// An encode, decode or conversion failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The input does not fit what the codec was configured for.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The bitstream could not be decoded (garbage, truncation, missing headers).
    #[error("cannot decode: {0}")]
    Decode(String),
    /// A codec or format onair does not handle.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// The codec library failed.
    #[error("{library} failed: {message}")]
    Library {
        /// `openh264`, `ffmpeg`, `yuvutils`...
        library: &'static str,
        /// Its message.
        message: String,
    },
}

impl CodecError {
    /// An error reported by FFmpeg.
    pub fn ffmpeg(e: impl std::fmt::Display) -> Self {
        Self::Library {
            library: "ffmpeg",
            message: e.to_string(),
        }
    }

    pub(crate) fn openh264(e: impl std::fmt::Display) -> Self {
        Self::Library {
            library: "openh264",
            message: e.to_string(),
        }
    }

    pub(crate) fn yuv(e: impl std::fmt::Debug) -> Self {
        Self::Library {
            library: "yuvutils",
            message: format!("{e:?}"),
        }
    }

    /// The V2TXLive code for this error.
    pub fn code(&self) -> V2TXLiveCode {
        match self {
            Self::InvalidInput(_) => V2TXLiveCode::ErrorInvalidParameter,
            Self::Unsupported(_) => V2TXLiveCode::ErrorNotSupported,
            Self::Decode(_) | Self::Library { .. } => V2TXLiveCode::ErrorFailed,
        }
    }
}

impl From<CoreError> for CodecError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotSupported(m) => Self::Unsupported(m),
            other => Self::InvalidInput(other.to_string()),
        }
    }
}

/// Result alias for this crate.
pub type CodecResult<T> = Result<T, CodecError>;
