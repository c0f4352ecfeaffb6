//! `FlvError`: malformed input with its context (byte offset, tag type, a hex excerpt).
//! "Need more bytes" is never an error: parsers report it as `Ok(None)`.

use std::fmt;

/// What a parser rejected, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlvError {
    /// The stream does not start with `FLV`.
    #[error("not an FLV stream: signature {found:02x?} at offset 0, expected \"FLV\"")]
    BadSignature {
        /// The first three bytes.
        found: [u8; 3],
    },
    /// A tag larger than the configured cap.
    #[error(
        "tag at offset {offset}: {tag_type} tag of {size} bytes exceeds the cap of {cap} bytes"
    )]
    TagTooLarge {
        /// Offset of the tag header in the stream.
        offset: u64,
        /// The tag's type byte.
        tag_type: TagKind,
        /// Declared payload size.
        size: u32,
        /// The demuxer's cap.
        cap: u32,
    },
    /// A tag type other than audio (8), video (9) or script (18).
    #[error(
        "tag at offset {offset}: unknown tag type {tag_type} (expected 8, 9 or 18); bytes {hex}"
    )]
    UnknownTagType {
        /// Offset of the tag header.
        offset: u64,
        /// The type byte found.
        tag_type: u8,
        /// The tag header in hex.
        hex: String,
    },
    /// A PreviousTagSize field that does not match the tag before it.
    #[error(
        "offset {offset}: PreviousTagSize {found} does not match the preceding tag's {expected}"
    )]
    PreviousTagSize {
        /// Offset of the field.
        offset: u64,
        /// The value read.
        found: u32,
        /// 11 + the previous tag's payload size.
        expected: u32,
    },
    /// A payload (tag body, AVCC, ASC, SEI, AMF0) that does not parse.
    #[error("{what} at offset {offset} ({context}): {reason}; bytes {hex}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
        /// Offset within the parsed buffer.
        offset: usize,
        /// Tag kind or structure the bytes belong to.
        context: TagKind,
        /// What was wrong.
        reason: String,
        /// Up to 16 bytes from `offset`, in hex.
        hex: String,
    },
}

/// The kind of tag (or tag-less structure) an error refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TagKind {
    /// An audio tag (type 8).
    Audio,
    /// A video tag (type 9).
    Video,
    /// A script-data tag (type 18).
    Script,
    /// Another type byte.
    Other(u8),
    /// A structure outside a tag (NAL unit, SEI, raw config).
    None,
}

impl fmt::Display for TagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Audio => f.write_str("audio"),
            Self::Video => f.write_str("video"),
            Self::Script => f.write_str("script"),
            Self::Other(t) => write!(f, "type {t}"),
            Self::None => f.write_str("no tag"),
        }
    }
}

/// Up to 16 bytes of `data` from `offset`, as hex.
pub(crate) fn hex_at(data: &[u8], offset: usize) -> String {
    let end = data.len().min(offset.saturating_add(16));
    let start = offset.min(end);
    data[start..end]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Builds a [`FlvError::Malformed`].
pub(crate) fn malformed(
    what: &'static str,
    context: TagKind,
    data: &[u8],
    offset: usize,
    reason: impl Into<String>,
) -> FlvError {
    FlvError::Malformed {
        what,
        offset,
        context,
        reason: reason.into(),
        hex: hex_at(data, offset),
    }
}

/// A bounds-checked big-endian reader over a byte slice.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
    context: TagKind,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], what: &'static str, context: TagKind) -> Self {
        Self {
            data,
            pos: 0,
            what,
            context,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> FlvError {
        malformed(self.what, self.context, self.data, self.pos, reason)
    }

    pub(crate) fn bytes(&mut self, n: usize, field: &str) -> Result<&'a [u8], FlvError> {
        if self.remaining() < n {
            return Err(self.error(format!(
                "truncated {field}: needs {n} bytes, {} left",
                self.remaining()
            )));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn u8(&mut self, field: &str) -> Result<u8, FlvError> {
        Ok(self.bytes(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &str) -> Result<u16, FlvError> {
        let b = self.bytes(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u24(&mut self, field: &str) -> Result<u32, FlvError> {
        let b = self.bytes(3, field)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.data[self.pos..];
        self.pos = self.data.len();
        s
    }
}
