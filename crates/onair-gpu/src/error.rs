//! The GPU errors.

/// What went wrong on the GPU side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// No GPU adapter (no driver; on Linux install mesa-vulkan-drivers for lavapipe).
    #[error("{0}")]
    NoAdapter(String),
    /// The adapter refused a device, or the device was lost.
    #[error("{0}")]
    Device(String),
    /// A frame or texture that does not fit (format, size, usage).
    #[error("{0}")]
    InvalidFrame(String),
}

/// Result of the GPU crate.
pub type GpuResult<T> = Result<T, GpuError>;
