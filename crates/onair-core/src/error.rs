//! The core crate's error type: what a caller got wrong, said plainly, with the V2TXLive code the
//! facade returns for it.

use crate::code::V2TXLiveCode;

/// A rejected argument, frame or configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A value outside its allowed range or shape; `detail` names the allowed range.
    #[error("invalid {what}: {detail}")]
    InvalidParameter {
        /// The argument or field that was wrong.
        what: &'static str,
        /// What was wrong and what is allowed.
        detail: String,
    },
    /// A combination onair cannot serve (e.g. a texture pixel format in a byte buffer).
    #[error("not supported: {0}")]
    NotSupported(String),
}

impl CoreError {
    /// Shorthand for [`CoreError::InvalidParameter`].
    pub fn invalid(what: &'static str, detail: impl Into<String>) -> Self {
        Self::InvalidParameter {
            what,
            detail: detail.into(),
        }
    }

    /// The V2TXLive code the API returns for this error.
    pub fn code(&self) -> V2TXLiveCode {
        match self {
            Self::InvalidParameter { .. } => V2TXLiveCode::ErrorInvalidParameter,
            Self::NotSupported(_) => V2TXLiveCode::ErrorNotSupported,
        }
    }
}

/// Result alias for the core crate.
pub type CoreResult<T> = Result<T, CoreError>;
