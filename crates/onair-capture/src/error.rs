//! The capture errors: which device, and whether it is missing, busy or failed.

/// A capture device could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// No such device (or no device at all).
    #[error("{0}")]
    NotFound(String),
    /// The device exists but another program holds it.
    #[error("{0}")]
    Occupied(String),
    /// The device could not be opened or started.
    #[error("{0}")]
    StartFailed(String),
    /// A captured frame did not match its declared format and size.
    #[error("{0}")]
    InvalidFrame(String),
}

/// Result of the capture crate.
pub type CaptureResult<T> = Result<T, CaptureError>;
