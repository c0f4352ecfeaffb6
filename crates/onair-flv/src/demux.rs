//! Incremental FLV demuxer (FLV 10.1 annex E): push bytes as they arrive, pull whole tags.
//! Needing more bytes is `Ok(None)`, never an error. Tag sizes are capped so a hostile stream
//! cannot make it buffer without bound; after an error the demuxer stays failed.

use crate::error::{hex_at, FlvError, TagKind};
use crate::tag::{FlvHeader, FlvTag, TagType, FILE_HEADER_LEN, TAG_HEADER_LEN};
use bytes::{Buf, BytesMut};

/// Default cap on one tag's payload: 8 MiB (a 4K keyframe is well under that).
pub const DEFAULT_MAX_TAG_SIZE: u32 = 8 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Header,
    /// Expecting PreviousTagSize, which must equal `expected` (0 after the header).
    PrevSize {
        expected: u32,
    },
    TagHeader,
    Failed(FlvError),
}

/// Push-based FLV demuxer.
#[derive(Debug)]
pub struct FlvDemuxer {
    buf: BytesMut,
    state: State,
    /// Stream offset of `buf[0]`.
    offset: u64,
    max_tag_size: u32,
    header: Option<FlvHeader>,
}

impl Default for FlvDemuxer {
    fn default() -> Self {
        Self::new()
    }
}

impl FlvDemuxer {
    /// A demuxer for a stream that starts with the FLV file header.
    pub fn new() -> Self {
        Self::with_max_tag_size(DEFAULT_MAX_TAG_SIZE)
    }

    /// A demuxer rejecting tags whose payload exceeds `max_tag_size` bytes.
    pub fn with_max_tag_size(max_tag_size: u32) -> Self {
        Self {
            buf: BytesMut::new(),
            state: State::Header,
            offset: 0,
            max_tag_size,
            header: None,
        }
    }

    /// Appends bytes received from the network or a file.
    pub fn push(&mut self, data: &[u8]) {
        if !matches!(self.state, State::Failed(_)) {
            self.buf.extend_from_slice(data);
        }
    }

    /// The file header, once parsed.
    pub fn header(&self) -> Option<FlvHeader> {
        self.header
    }

    /// Bytes buffered but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Stream offset of the next unconsumed byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn consume(&mut self, n: usize) {
        self.buf.advance(n);
        self.offset += n as u64;
    }

    fn fail(&mut self, e: FlvError) -> Result<Option<FlvTag>, FlvError> {
        self.state = State::Failed(e.clone());
        self.buf = BytesMut::new();
        Err(e)
    }

    /// The next complete tag, `Ok(None)` if more bytes are needed.
    pub fn next_tag(&mut self) -> Result<Option<FlvTag>, FlvError> {
        loop {
            match self.state.clone() {
                State::Failed(e) => return Err(e),
                State::Header => {
                    if self.buf.len() < FILE_HEADER_LEN {
                        // Reject a wrong signature as soon as its bytes are in.
                        let n = self.buf.len().min(3);
                        if self.buf[..n] != b"FLV"[..n] {
                            return self.fail(self.bad_signature());
                        }
                        return Ok(None);
                    }
                    if &self.buf[..3] != b"FLV" {
                        return self.fail(self.bad_signature());
                    }
                    let flags = self.buf[4];
                    let data_offset =
                        u32::from_be_bytes([self.buf[5], self.buf[6], self.buf[7], self.buf[8]]);
                    if !(FILE_HEADER_LEN as u32..=1024).contains(&data_offset) {
                        return self.fail(FlvError::Malformed {
                            what: "FLV header",
                            offset: 5,
                            context: TagKind::None,
                            reason: format!("DataOffset {data_offset}, expected 9..=1024"),
                            hex: hex_at(&self.buf, 0),
                        });
                    }
                    if self.buf.len() < data_offset as usize {
                        return Ok(None);
                    }
                    self.header = Some(FlvHeader {
                        has_audio: flags & 0x04 != 0,
                        has_video: flags & 0x01 != 0,
                    });
                    self.consume(data_offset as usize);
                    self.state = State::PrevSize { expected: 0 };
                }
                State::PrevSize { expected } => {
                    if self.buf.len() < 4 {
                        return Ok(None);
                    }
                    let found =
                        u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
                    // Some writers leave the field at 0; anything else must be right.
                    if found != expected && found != 0 {
                        let offset = self.offset;
                        return self.fail(FlvError::PreviousTagSize {
                            offset,
                            found,
                            expected,
                        });
                    }
                    self.consume(4);
                    self.state = State::TagHeader;
                }
                State::TagHeader => {
                    if self.buf.len() < TAG_HEADER_LEN {
                        return Ok(None);
                    }
                    let h = &self.buf[..TAG_HEADER_LEN];
                    let type_byte = h[0];
                    let size = u32::from_be_bytes([0, h[1], h[2], h[3]]);
                    let ts = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
                    let Some(tag_type) = TagType::from_byte(type_byte) else {
                        let e = FlvError::UnknownTagType {
                            offset: self.offset,
                            tag_type: type_byte,
                            hex: hex_at(&self.buf, 0),
                        };
                        return self.fail(e);
                    };
                    if size > self.max_tag_size {
                        let e = FlvError::TagTooLarge {
                            offset: self.offset,
                            tag_type: tag_type.kind(),
                            size,
                            cap: self.max_tag_size,
                        };
                        return self.fail(e);
                    }
                    let total = TAG_HEADER_LEN + size as usize;
                    if self.buf.len() < total {
                        self.buf.reserve(total - self.buf.len());
                        return Ok(None);
                    }
                    self.consume(TAG_HEADER_LEN);
                    let data = self.buf.split_to(size as usize).freeze();
                    self.offset += u64::from(size);
                    self.state = State::PrevSize {
                        expected: TAG_HEADER_LEN as u32 + size,
                    };
                    return Ok(Some(FlvTag::new(tag_type, ts, data)));
                }
            }
        }
    }

    fn bad_signature(&self) -> FlvError {
        let mut found = [0u8; 3];
        let n = self.buf.len().min(3);
        found[..n].copy_from_slice(&self.buf[..n]);
        FlvError::BadSignature { found }
    }
}

/// Demuxes a whole in-memory FLV file. A truncated last tag is an error here.
pub fn demux_all(data: &[u8]) -> Result<(FlvHeader, Vec<FlvTag>), FlvError> {
    let mut d = FlvDemuxer::new();
    d.push(data);
    let mut tags = Vec::new();
    while let Some(tag) = d.next_tag()? {
        tags.push(tag);
    }
    let header = d.header().ok_or_else(|| FlvError::Malformed {
        what: "FLV header",
        offset: 0,
        context: TagKind::None,
        reason: format!("truncated: {} bytes, needs 9", data.len()),
        hex: hex_at(data, 0),
    })?;
    // Every byte must belong to a whole tag (a missing final PreviousTagSize is tolerated).
    if d.buffered() > 0 {
        return Err(FlvError::Malformed {
            what: "FLV tag",
            offset: d.offset() as usize,
            context: TagKind::None,
            reason: format!(
                "truncated: {} bytes of an incomplete tag at the end",
                d.buffered()
            ),
            hex: String::new(),
        });
    }
    Ok((header, tags))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tag::FlvHeader;
    use bytes::{Bytes, BytesMut};

    fn file(tags: &[FlvTag]) -> Vec<u8> {
        let mut b = BytesMut::new();
        b.extend_from_slice(
            &FlvHeader {
                has_audio: true,
                has_video: true,
            }
            .encode(),
        );
        for t in tags {
            t.encode_into(&mut b);
        }
        b.to_vec()
    }

    fn sample_tags() -> Vec<FlvTag> {
        vec![
            FlvTag::new(
                TagType::Script,
                0,
                Bytes::from_static(b"\x02\x00\x0aonMetaData"),
            ),
            FlvTag::new(
                TagType::Video,
                0,
                Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 2]),
            ),
            FlvTag::new(TagType::Audio, 23, Bytes::from_static(&[0xaf, 1, 9, 9])),
            FlvTag::new(
                TagType::Video,
                0x0123_4567,
                Bytes::from_static(&[0x27, 1, 0, 0, 40]),
            ),
        ]
    }

    #[test]
    fn byte_at_a_time_equals_whole() {
        let tags = sample_tags();
        let bytes = file(&tags);
        let mut d = FlvDemuxer::new();
        let mut got = Vec::new();
        for b in &bytes {
            d.push(std::slice::from_ref(b));
            while let Some(t) = d.next_tag().unwrap() {
                got.push(t);
            }
        }
        assert_eq!(got, tags);
        assert_eq!(
            d.header(),
            Some(FlvHeader {
                has_audio: true,
                has_video: true
            })
        );
        assert_eq!(demux_all(&bytes).unwrap().1, tags);
    }

    #[test]
    fn extended_timestamp() {
        let tags = sample_tags();
        let (_, got) = demux_all(&file(&tags)).unwrap();
        assert_eq!(got[3].timestamp_ms, 0x0123_4567);
    }

    #[test]
    fn bad_signature_is_reported_early() {
        let mut d = FlvDemuxer::new();
        d.push(b"GI");
        let e = d.next_tag().unwrap_err();
        assert!(matches!(e, FlvError::BadSignature { .. }), "{e}");
        // The demuxer stays failed.
        d.push(b"FLV");
        assert_eq!(d.next_tag().unwrap_err(), e);
    }

    #[test]
    fn oversized_tag_is_refused_before_buffering() {
        let mut bytes = file(&[]);
        bytes.extend_from_slice(&[9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0]);
        let mut d = FlvDemuxer::with_max_tag_size(1 << 20);
        d.push(&bytes);
        let e = d.next_tag().unwrap_err();
        assert!(e.to_string().contains("exceeds the cap"), "{e}");
        assert!(e.to_string().contains("offset 13"), "{e}");
    }

    #[test]
    fn unknown_tag_type_names_offset() {
        let mut bytes = file(&[]);
        bytes.extend_from_slice(&[7, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        let e = demux_all(&bytes).unwrap_err();
        assert!(
            matches!(
                e,
                FlvError::UnknownTagType {
                    offset: 13,
                    tag_type: 7,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn wrong_previous_tag_size() {
        let mut bytes = file(&sample_tags()[..1]);
        let n = bytes.len();
        bytes[n - 1] ^= 0x55;
        bytes.extend_from_slice(&sample_tags()[1].encode());
        let e = demux_all(&bytes).unwrap_err();
        assert!(matches!(e, FlvError::PreviousTagSize { .. }), "{e}");
    }

    #[test]
    fn truncated_file_is_an_error_for_demux_all_only() {
        let bytes = file(&sample_tags());
        for cut in [3, 12, 20, bytes.len() - 5] {
            assert!(demux_all(&bytes[..cut]).is_err(), "cut at {cut}");
            let mut d = FlvDemuxer::new();
            d.push(&bytes[..cut]);
            while d.next_tag().unwrap().is_some() {}
        }
    }
}
