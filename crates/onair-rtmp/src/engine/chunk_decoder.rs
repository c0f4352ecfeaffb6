//! The inbound chunk stream (RTMP 1.0 §5.3, see `docs/rtmp.md`): basic headers with 1-3 byte
//! chunk stream ids, message headers of type 0-3, extended timestamps, and reassembly of each
//! chunk stream's message in its own buffer, so chunks of different messages may interleave
//! (legal RTMP that a single shared buffer gets wrong).
//!
//! Push received bytes with [`ChunkDecoder::push_bytes`] (owned, not copied) or
//! [`ChunkDecoder::push`], pull whole messages with [`ChunkDecoder::next_message`]: "need more
//! bytes" is `Ok(None)`. A message that arrived in one chunk is a slice of the received
//! buffer; a multi-chunk message is copied once, into its own buffer. Set Chunk Size (type 1)
//! and Abort (type 2) take effect inside the decoder at the exact point of the stream where they
//! arrive, and are still returned to the caller. Every length is capped ([`Limits`]); a cap hit
//! or malformed header is an [`EngineError`] and the decoder stays failed. Nothing here panics
//! or allocates more than the caps allow on any input.

use super::error::{hex, EngineError};
use bytes::{Buf, Bytes, BytesMut};
use std::collections::{HashMap, VecDeque};

/// Message type ids of the protocol control messages the decoder acts on.
pub(crate) const TYPE_SET_CHUNK_SIZE: u8 = 1;
pub(crate) const TYPE_ABORT: u8 = 2;

/// Distinct chunk stream ids remembered per connection (their last headers).
const MAX_KNOWN_CHUNK_STREAMS: usize = 1024;
/// Chunk stream ids below this (the one-byte basic header) live in a table, the rest in a map.
const DIRECT_CSIDS: usize = 64;
/// Longest chunk header: 3-byte basic header, 11-byte message header, extended timestamp.
const MAX_HEADER: usize = 18;

/// Caps on what a peer may make the decoder hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest Set Chunk Size accepted (the spec allows up to 2^31 - 1).
    pub max_chunk_size: u32,
    /// Longest message (the 24-bit length field allows 16 MiB - 1).
    pub max_message_len: u32,
    /// Chunk streams with a message in progress at once.
    pub max_open_chunk_streams: usize,
    /// Bytes of partial messages held at once, all chunk streams together.
    pub max_reassembly_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_chunk_size: 16 << 20,
            max_message_len: 16 << 20,
            max_open_chunk_streams: 64,
            max_reassembly_bytes: 32 << 20,
        }
    }
}

/// One reassembled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The chunk stream it arrived on.
    pub csid: u32,
    /// Absolute timestamp, ms (wrapping 32-bit).
    pub timestamp: u32,
    /// Message type id (RTMP 1.0 §5.4, §7.1).
    pub type_id: u8,
    /// Message stream id.
    pub stream_id: u32,
    /// The body.
    pub payload: Bytes,
    /// Stream offset of the message's first chunk header (for error reports).
    pub offset: u64,
}

#[derive(Debug, Default)]
struct ChunkStream {
    timestamp: u32,
    /// The delta a type-3 header that starts a new message adds (0 after a type-0 header).
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// The last type 0-2 header carried an extended timestamp, so type-3 chunks do too.
    extended: bool,
    /// The message being reassembled and the offset of its first chunk.
    partial: Option<(BytesMut, u64)>,
}

/// Received bytes not yet consumed, as the segments they arrived in.
#[derive(Debug, Default)]
struct Input {
    segs: VecDeque<Bytes>,
    len: usize,
}

impl Input {
    fn push(&mut self, b: Bytes) {
        if !b.is_empty() {
            self.len += b.len();
            self.segs.push_back(b);
        }
    }

    /// Copies the first bytes into `out` without consuming them; returns how many.
    fn peek(&self, out: &mut [u8]) -> usize {
        let mut n = 0;
        for s in &self.segs {
            let k = (out.len() - n).min(s.len());
            out[n..n + k].copy_from_slice(&s[..k]);
            n += k;
            if n == out.len() {
                break;
            }
        }
        n
    }

    fn advance(&mut self, mut n: usize) {
        self.len -= n;
        while n > 0 {
            let Some(front) = self.segs.front_mut() else {
                return;
            };
            if n < front.len() {
                front.advance(n);
                return;
            }
            n -= front.len();
            self.segs.pop_front();
        }
    }

    /// Takes `n` bytes: a slice of the received buffer when they lie in one segment.
    fn take(&mut self, n: usize) -> Bytes {
        if let Some(front) = self.segs.front_mut() {
            if n <= front.len() {
                let b = front.split_to(n);
                if front.is_empty() {
                    self.segs.pop_front();
                }
                self.len -= n;
                return b;
            }
        }
        let mut out = BytesMut::with_capacity(n);
        self.take_into(n, &mut out);
        out.freeze()
    }

    /// Appends `n` bytes to `dst` and consumes them.
    fn take_into(&mut self, mut n: usize, dst: &mut BytesMut) {
        self.len -= n;
        while n > 0 {
            let Some(front) = self.segs.front_mut() else {
                return;
            };
            let k = n.min(front.len());
            dst.extend_from_slice(&front[..k]);
            n -= k;
            if k == front.len() {
                self.segs.pop_front();
            } else {
                front.advance(k);
            }
        }
    }

    fn clear(&mut self) {
        self.segs.clear();
        self.len = 0;
    }
}

/// The inbound chunk stream decoder.
#[derive(Debug)]
pub struct ChunkDecoder {
    input: Input,
    chunk_size: u32,
    direct: Vec<Option<ChunkStream>>,
    others: HashMap<u32, ChunkStream>,
    known: usize,
    open: usize,
    limits: Limits,
    buffered: usize,
    offset: u64,
    failed: Option<EngineError>,
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

struct Header {
    fmt: u8,
    csid: u32,
    /// Bytes of basic + message header + extended timestamp.
    len: usize,
    ts_field: u32,
    length: Option<u32>,
    type_id: Option<u8>,
    stream_id: Option<u32>,
    extended: bool,
}

fn be24(b: &[u8]) -> u32 {
    (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2])
}

impl ChunkDecoder {
    /// A decoder for a fresh connection (chunk size 128).
    pub fn new(limits: Limits) -> Self {
        Self {
            input: Input::default(),
            chunk_size: 128,
            direct: (0..DIRECT_CSIDS).map(|_| None).collect(),
            others: HashMap::new(),
            known: 0,
            open: 0,
            limits,
            buffered: 0,
            offset: 0,
            failed: None,
        }
    }

    /// Appends received bytes (copied).
    pub fn push(&mut self, data: &[u8]) {
        self.push_bytes(Bytes::copy_from_slice(data));
    }

    /// Appends received bytes without copying them: single-chunk messages come out as slices
    /// of `data`.
    pub fn push_bytes(&mut self, data: Bytes) {
        if self.failed.is_none() {
            self.input.push(data);
        }
    }

    /// The peer's current chunk size.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Bytes consumed so far (whole chunks).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes received but not yet consumed.
    pub fn pending_input(&self) -> usize {
        self.input.len
    }

    fn stream(&self, csid: u32) -> Option<&ChunkStream> {
        match self.direct.get(csid as usize) {
            Some(s) => s.as_ref(),
            None => self.others.get(&csid),
        }
    }

    fn stream_mut(&mut self, csid: u32) -> Option<&mut ChunkStream> {
        match self.direct.get_mut(csid as usize) {
            Some(s) => s.as_mut(),
            None => self.others.get_mut(&csid),
        }
    }

    fn fail(&mut self, e: EngineError) -> EngineError {
        self.failed = Some(e.clone());
        self.input.clear();
        self.direct.iter_mut().for_each(|s| *s = None);
        self.others.clear();
        self.buffered = 0;
        e
    }

    /// Parses the chunk header at the start of the input; `None` when incomplete.
    fn header(&self) -> Result<Option<Header>, EngineError> {
        let mut hb = [0u8; MAX_HEADER];
        let have = self.input.peek(&mut hb);
        let b = &hb[..have];
        let Some(&b0) = b.first() else {
            return Ok(None);
        };
        let fmt = b0 >> 6;
        let (csid, mut pos) = match b0 & 0x3f {
            0 => match b.get(1) {
                Some(&x) => (64 + u32::from(x), 2),
                None => return Ok(None),
            },
            1 => match (b.get(1), b.get(2)) {
                (Some(&x), Some(&y)) => (64 + u32::from(x) + 256 * u32::from(y), 3),
                _ => return Ok(None),
            },
            c => (u32::from(c), 1),
        };
        let mh = [11, 7, 3, 0][usize::from(fmt)];
        if b.len() < pos + mh {
            return Ok(None);
        }
        let m = &b[pos..pos + mh];
        let prev = self.stream(csid);
        if fmt > 0 && prev.is_none() {
            return Err(EngineError::NoPreviousHeader {
                fmt,
                csid,
                offset: self.offset,
                hex: hex(b, 16),
            });
        }
        let ts_field = if fmt < 3 { be24(&m[0..3]) } else { 0 };
        let (length, type_id) = if fmt < 2 {
            (Some(be24(&m[3..6])), Some(m[6]))
        } else {
            (None, None)
        };
        let stream_id = (fmt == 0).then(|| u32::from_le_bytes([m[7], m[8], m[9], m[10]]));
        pos += mh;
        let extended = if fmt < 3 {
            ts_field == 0x00ff_ffff
        } else {
            prev.is_some_and(|p| p.extended)
        };
        let mut ts = ts_field;
        if extended {
            if b.len() < pos + 4 {
                return Ok(None);
            }
            ts = u32::from_be_bytes([b[pos], b[pos + 1], b[pos + 2], b[pos + 3]]);
            pos += 4;
        }
        Ok(Some(Header {
            fmt,
            csid,
            len: pos,
            ts_field: ts,
            length,
            type_id,
            stream_id,
            extended,
        }))
    }

    /// The next whole message, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<RawMessage>, EngineError> {
        if let Some(e) = &self.failed {
            return Err(EngineError::Failed(Box::new(e.clone())));
        }
        match self.step() {
            Ok(m) => Ok(m),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn step(&mut self) -> Result<Option<RawMessage>, EngineError> {
        loop {
            let Some(h) = self.header()? else {
                return Ok(None);
            };
            let offset = self.offset;
            if self.stream(h.csid).is_none() {
                if self.known >= MAX_KNOWN_CHUNK_STREAMS {
                    return Err(EngineError::TooManyChunkStreams {
                        max: MAX_KNOWN_CHUNK_STREAMS,
                        csid: h.csid,
                        offset,
                    });
                }
                self.known += 1;
                match self.direct.get_mut(h.csid as usize) {
                    Some(slot) => *slot = Some(ChunkStream::default()),
                    None => {
                        self.others.insert(h.csid, ChunkStream::default());
                    }
                }
            }
            let (open, chunk_size, limits) = (self.open, self.chunk_size as usize, self.limits);
            let Some(st) = self.stream_mut(h.csid) else {
                return Ok(None);
            };
            let mut freed = 0;
            let mut closed = 0;
            if h.fmt < 3 {
                // A new header in the middle of a message: the peer abandoned it.
                if let Some((p, _)) = st.partial.take() {
                    freed = p.len();
                    closed = 1;
                }
            }
            let starts_message = st.partial.is_none();
            // Header values as they will be once this chunk is accepted.
            let length = h.length.unwrap_or(st.length);
            let (mut timestamp, mut delta) = (st.timestamp, st.delta);
            if starts_message {
                match h.fmt {
                    0 => {
                        timestamp = h.ts_field;
                        delta = 0;
                    }
                    1 | 2 => {
                        delta = h.ts_field;
                        timestamp = st.timestamp.wrapping_add(h.ts_field);
                    }
                    _ => timestamp = st.timestamp.wrapping_add(st.delta),
                }
                if length > limits.max_message_len {
                    return Err(EngineError::MessageTooLong {
                        length,
                        max: limits.max_message_len,
                        csid: h.csid,
                        offset,
                    });
                }
            }
            let have = st.partial.as_ref().map_or(0, |(p, _)| p.len());
            let remaining = (length as usize).saturating_sub(have);
            let take = remaining.min(chunk_size);
            let complete = take == remaining;
            if starts_message && !complete && open - closed >= limits.max_open_chunk_streams {
                return Err(EngineError::TooManyChunkStreams {
                    max: limits.max_open_chunk_streams,
                    csid: h.csid,
                    offset,
                });
            }
            if self.input.len < h.len + take {
                // Not yet. An abandoned partial stays dropped: account for it now.
                if closed == 1 {
                    // The abandoned partial stays dropped; account for it now.
                    self.open -= 1;
                    self.buffered -= freed;
                }
                return Ok(None);
            }
            let buffered_after = self.buffered - freed + if complete { 0 } else { take };
            if buffered_after > limits.max_reassembly_bytes {
                return Err(EngineError::ReassemblyTooLarge {
                    buffered: buffered_after,
                    max: limits.max_reassembly_bytes,
                    offset,
                });
            }
            // Accept the chunk.
            let Some(st) = self.stream_mut(h.csid) else {
                return Ok(None);
            };
            st.length = length;
            st.type_id = h.type_id.unwrap_or(st.type_id);
            st.stream_id = h.stream_id.unwrap_or(st.stream_id);
            if h.fmt < 3 {
                st.extended = h.extended;
            }
            st.timestamp = timestamp;
            st.delta = delta;
            let mut partial = st.partial.take();
            let (csid, type_id, stream_id) = (h.csid, st.type_id, st.stream_id);
            self.open -= closed;
            self.buffered -= freed;
            self.input.advance(h.len);
            self.offset += (h.len + take) as u64;
            let (payload, first_offset) = if starts_message && complete {
                // The whole message in one chunk: a slice of the received bytes.
                (self.input.take(take), offset)
            } else {
                let (buf, start) = partial.get_or_insert_with(|| {
                    // Grow with the data, not with the declared length.
                    (BytesMut::with_capacity(remaining.min(256 << 10)), offset)
                });
                let start = *start;
                self.input.take_into(take, buf);
                if !complete {
                    if starts_message {
                        self.open += 1;
                    }
                    self.buffered += take;
                    if let Some(st) = self.stream_mut(csid) {
                        st.partial = partial;
                    }
                    continue;
                }
                let (buf, _) = partial.take().unwrap_or_default();
                if !starts_message {
                    self.open -= 1;
                }
                self.buffered -= buf.len() - take;
                (buf.freeze(), start)
            };
            let msg = RawMessage {
                csid,
                timestamp,
                type_id,
                stream_id,
                payload,
                offset: first_offset,
            };
            self.control(&msg)?;
            return Ok(Some(msg));
        }
    }

    /// Applies Set Chunk Size and Abort at their place in the stream.
    fn control(&mut self, m: &RawMessage) -> Result<(), EngineError> {
        if m.csid != 2 && m.stream_id != 0 {
            return Ok(());
        }
        let value = || -> Result<u32, EngineError> {
            let p = &m.payload;
            if p.len() < 4 {
                return Err(EngineError::Malformed {
                    what: "protocol control message",
                    type_id: m.type_id,
                    offset: m.offset,
                    reason: format!("{} bytes, expected 4", p.len()),
                    hex: hex(p, 16),
                });
            }
            Ok(u32::from_be_bytes([p[0], p[1], p[2], p[3]]))
        };
        match m.type_id {
            TYPE_SET_CHUNK_SIZE => {
                let requested = value()?;
                let size = requested & 0x7fff_ffff;
                if size == 0 || size > self.limits.max_chunk_size {
                    return Err(EngineError::ChunkSize {
                        requested,
                        max: self.limits.max_chunk_size,
                        offset: m.offset,
                    });
                }
                self.chunk_size = size;
            }
            TYPE_ABORT => {
                let csid = value()?;
                let mut freed = None;
                if let Some(st) = self.stream_mut(csid) {
                    freed = st.partial.take().map(|(p, _)| p.len());
                }
                if let Some(n) = freed {
                    self.buffered -= n;
                    self.open -= 1;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header0(csid: u8, ts: u32, len: u32, type_id: u8, sid: u32) -> Vec<u8> {
        let mut v = vec![csid];
        v.extend_from_slice(&ts.min(0xff_ffff).to_be_bytes()[1..]);
        v.extend_from_slice(&len.to_be_bytes()[1..]);
        v.push(type_id);
        v.extend_from_slice(&sid.to_le_bytes());
        if ts >= 0xff_ffff {
            v.extend_from_slice(&ts.to_be_bytes());
        }
        v
    }

    fn all(d: &mut ChunkDecoder) -> Vec<RawMessage> {
        let mut out = Vec::new();
        while let Some(m) = d.next_message().unwrap() {
            out.push(m);
        }
        out
    }

    #[test]
    fn interleaved_chunk_streams_reassemble_separately() {
        let mut b = header0(2, 0, 4, 1, 0);
        b.extend_from_slice(&50u32.to_be_bytes());
        b.extend(header0(6, 40, 100, 9, 1));
        b.extend([0x17; 50]);
        b.extend(header0(4, 40, 70, 8, 1));
        b.extend([0xaf; 50]);
        b.push(0xc6);
        b.extend([0x27; 50]);
        b.push(0xc4);
        b.extend([0xae; 20]);
        for split in [1, 7, 33, b.len()] {
            let mut d = ChunkDecoder::default();
            let mut got = Vec::new();
            for piece in b.chunks(split) {
                d.push(piece);
                got.extend(all(&mut d));
            }
            let kinds: Vec<(u8, usize)> =
                got.iter().map(|m| (m.type_id, m.payload.len())).collect();
            assert_eq!(kinds, [(1, 4), (9, 100), (8, 70)], "split {split}");
            assert!(got[1].payload[..50].iter().all(|&x| x == 0x17));
            assert!(got[1].payload[50..].iter().all(|&x| x == 0x27));
            assert!(got[2].payload[50..].iter().all(|&x| x == 0xae));
            assert_eq!(d.buffered, 0);
        }
    }

    #[test]
    fn timestamps_deltas_and_extended() {
        let mut b = header0(4, 1000, 1, 8, 1);
        b.push(0xaf);
        b.extend([0x84, 0, 0, 23, 0xaf]); // type 2, delta 23
        b.extend([0xc4, 0xaf]); // type 3: same delta again
        b.extend(header0(5, 0x0100_0000, 3, 18, 1));
        b.extend([1, 2, 3]);
        let mut d = ChunkDecoder::default();
        d.push(&b);
        let ts: Vec<u32> = all(&mut d).iter().map(|m| m.timestamp).collect();
        assert_eq!(ts, [1000, 1023, 1046, 0x0100_0000]);
    }

    #[test]
    fn extended_timestamp_repeats_on_continuation_chunks() {
        let mut b = header0(6, 0x0200_0000, 200, 9, 1);
        b.extend([1; 128]);
        b.push(0xc6);
        b.extend(0x0200_0000u32.to_be_bytes());
        b.extend([2; 72]);
        let mut d = ChunkDecoder::default();
        d.push(&b);
        let m = all(&mut d);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].timestamp, 0x0200_0000);
        assert_eq!(m[0].payload.len(), 200);
        assert_eq!(m[0].payload[199], 2);
    }

    #[test]
    fn abort_discards_the_partial_message() {
        let mut b = header0(6, 0, 200, 9, 1);
        b.extend([1; 128]);
        b.extend(header0(2, 0, 4, 2, 0));
        b.extend(6u32.to_be_bytes());
        b.extend(header0(6, 0, 2, 9, 1));
        b.extend([7, 7]);
        let mut d = ChunkDecoder::default();
        d.push(&b);
        let m = all(&mut d);
        assert_eq!(m.len(), 2);
        assert_eq!(&m[1].payload[..], &[7, 7]);
        assert_eq!(d.buffered, 0);
    }

    #[test]
    fn caps_are_typed_errors_and_the_decoder_stays_failed() {
        let mut d = ChunkDecoder::default();
        let mut b = header0(2, 0, 4, 1, 0);
        b.extend(0x7fff_ffffu32.to_be_bytes());
        d.push(&b);
        assert!(matches!(
            d.next_message(),
            Err(EngineError::ChunkSize { .. })
        ));
        assert!(matches!(d.next_message(), Err(EngineError::Failed(_))));

        let mut d = ChunkDecoder::new(Limits {
            max_message_len: 1000,
            ..Limits::default()
        });
        d.push(&header0(3, 0, 1001, 20, 0));
        assert!(matches!(
            d.next_message(),
            Err(EngineError::MessageTooLong { .. })
        ));

        let mut d = ChunkDecoder::new(Limits {
            max_open_chunk_streams: 2,
            ..Limits::default()
        });
        for csid in 3..6 {
            d.push(&header0(csid, 0, 1000, 9, 1));
            d.push(&[0; 128]);
        }
        assert!(matches!(
            d.next_message(),
            Err(EngineError::TooManyChunkStreams { .. })
        ));

        let mut d = ChunkDecoder::default();
        d.push(&[0x43, 0, 0, 0, 0, 0, 1, 9]);
        assert!(matches!(
            d.next_message(),
            Err(EngineError::NoPreviousHeader { .. })
        ));
    }

    #[test]
    fn declared_length_is_not_preallocated() {
        let mut d = ChunkDecoder::default();
        d.push(&header0(3, 0, 0xff_fff0, 9, 1));
        d.push(&[0; 128]);
        assert_eq!(d.next_message().unwrap(), None);
        let cap = d.stream(3).unwrap().partial.as_ref().unwrap().0.capacity();
        assert!(cap <= 256 << 10, "{cap}");
    }
}
