//! FLV file header and tags (FLV 10.1 annex E.2-E.4): the 9-byte header, 11-byte tag headers
//! with the 24+8-bit timestamp, and the PreviousTagSize fields. Muxing here is pure: values in,
//! bytes out.

use crate::error::TagKind;
use bytes::{BufMut, Bytes, BytesMut};

/// Size of the FLV file header.
pub const FILE_HEADER_LEN: usize = 9;
/// Size of a tag header.
pub const TAG_HEADER_LEN: usize = 11;
/// Largest payload the 24-bit DataSize field can express.
pub const MAX_TAG_DATA: u32 = 0x00FF_FFFF;

/// The type of an FLV tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TagType {
    /// Audio (8).
    Audio,
    /// Video (9).
    Video,
    /// Script data (18), e.g. onMetaData.
    Script,
}

impl TagType {
    /// The type byte.
    pub const fn byte(self) -> u8 {
        match self {
            Self::Audio => 8,
            Self::Video => 9,
            Self::Script => 18,
        }
    }

    /// The type of a type byte (the filter and reserved bits must be zero).
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            8 => Some(Self::Audio),
            9 => Some(Self::Video),
            18 => Some(Self::Script),
            _ => None,
        }
    }

    /// The matching error context.
    pub const fn kind(self) -> TagKind {
        match self {
            Self::Audio => TagKind::Audio,
            Self::Video => TagKind::Video,
            Self::Script => TagKind::Script,
        }
    }
}

/// One FLV tag: type, timestamp in milliseconds and payload (audio/video/script body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlvTag {
    /// Audio, video or script.
    pub tag_type: TagType,
    /// Decode timestamp in ms (32 bits with the extension byte).
    pub timestamp_ms: u32,
    /// The tag body.
    pub data: Bytes,
}

/// What the FLV header announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlvHeader {
    /// The file has audio tags.
    pub has_audio: bool,
    /// The file has video tags.
    pub has_video: bool,
}

impl FlvHeader {
    /// The 9-byte header followed by PreviousTagSize0 (13 bytes).
    pub fn encode(&self) -> Bytes {
        let flags = (u8::from(self.has_audio) << 2) | u8::from(self.has_video);
        let mut b = BytesMut::with_capacity(FILE_HEADER_LEN + 4);
        b.put_slice(b"FLV");
        b.put_u8(1);
        b.put_u8(flags);
        b.put_u32(FILE_HEADER_LEN as u32);
        b.put_u32(0);
        b.freeze()
    }
}

impl FlvTag {
    /// A tag.
    pub fn new(tag_type: TagType, timestamp_ms: u32, data: Bytes) -> Self {
        Self {
            tag_type,
            timestamp_ms,
            data,
        }
    }

    /// Appends the tag header, body and trailing PreviousTagSize to `out`.
    ///
    /// Bodies over [`MAX_TAG_DATA`] cannot be expressed in FLV; they are a caller bug and are
    /// truncated to the cap rather than written with a wrapped size.
    pub fn encode_into(&self, out: &mut BytesMut) {
        let data = &self.data[..self.data.len().min(MAX_TAG_DATA as usize)];
        let size = data.len() as u32;
        out.reserve(TAG_HEADER_LEN + data.len() + 4);
        out.put_u8(self.tag_type.byte());
        out.put_uint(u64::from(size), 3);
        out.put_uint(u64::from(self.timestamp_ms & 0x00FF_FFFF), 3);
        out.put_u8((self.timestamp_ms >> 24) as u8);
        out.put_uint(0, 3); // StreamID, always 0
        out.put_slice(data);
        out.put_u32(TAG_HEADER_LEN as u32 + size);
    }

    /// The tag as bytes (header, body, PreviousTagSize).
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::new();
        self.encode_into(&mut b);
        b.freeze()
    }
}
