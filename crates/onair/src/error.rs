//! `LiveError`: what an API call returns when it cannot do what was asked: the V2TXLive code and
//! a sentence saying why.

use onair_core::{CoreError, V2TXLiveCode};
use std::fmt;

/// A refused or failed API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveError {
    /// The V2TXLive code (never OK).
    pub code: V2TXLiveCode,
    /// What happened, for people.
    pub message: String,
}

impl LiveError {
    /// An error with `code`.
    pub fn new(code: V2TXLiveCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// ERROR_REFUSED: the call is not allowed in this state.
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(V2TXLiveCode::ErrorRefused, message)
    }

    /// ERROR_INVALID_PARAMETER.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(V2TXLiveCode::ErrorInvalidParameter, message)
    }
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.name(), self.message)
    }
}

impl std::error::Error for LiveError {}

impl From<CoreError> for LiveError {
    fn from(e: CoreError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<onair_rtmp::RtmpError> for LiveError {
    fn from(e: onair_rtmp::RtmpError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<onair_codec::CodecError> for LiveError {
    fn from(e: onair_codec::CodecError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

/// The interval of `enable_volume_evaluation` (pusher and player): `<= 0` turns it off (0),
/// 1..=99 ms is INVALID_PARAMETER.
pub(crate) fn volume_interval_ms(interval_ms: i32) -> LiveResult<u32> {
    match interval_ms {
        i32::MIN..=0 => Ok(0),
        1..=99 => Err(LiveError::invalid(format!(
            "volume interval {interval_ms} ms; expected >= 100, or <= 0 to disable"
        ))),
        v => Ok(v as u32),
    }
}

/// Result of an API call.
pub type LiveResult<T = ()> = Result<T, LiveError>;
