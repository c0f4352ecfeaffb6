//! The server's error type: configuration mistakes (with the accepted range), I/O, the
//! database, and media work (remux, screenshots). Peer misbehaviour never becomes an error
//! here: it closes that peer's connection and is logged.

use std::path::PathBuf;

/// What went wrong in the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A configuration value is out of range or malformed.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Binding a listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The state database failed.
    #[error("state database: {0}")]
    Db(#[from] rusqlite::Error),
    /// Remuxing, decoding or encoding a picture failed.
    #[error("media: {0}")]
    Media(String),
}

impl ServerError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias.
pub type ServerResult<T> = Result<T, ServerError>;
