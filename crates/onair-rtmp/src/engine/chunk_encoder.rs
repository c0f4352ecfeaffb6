//! The outbound chunk stream (RTMP 1.0 §5.3.1, see `docs/rtmp.md`): splits messages into chunks
//! of the negotiated size with the smallest header that every peer reads the same way.
//!
//! Header choice: type 0 when the message stream id changes or the timestamp goes backwards;
//! type 1 when length or type change; type 2 otherwise. Type 3 is used only for continuation
//! chunks, never to start a message: peers disagree on the delta a type-3 message start
//! inherits after a type-0 header (FFmpeg adds the previous timestamp field, nginx-rtmp adds 0).
//!
//! [`encode_standalone`] builds a message whose first chunk has a full type-0 header: its bytes
//! do not depend on what was sent before on the connection, so the server encodes a published
//! message once and writes the same `Bytes` to every player (see `docs/rtmp.md`, fan-out).

use bytes::{BufMut, Bytes, BytesMut};
use std::collections::HashMap;

/// The header of a message to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader {
    /// Chunk stream id (2..=65599).
    pub csid: u32,
    /// Absolute timestamp, ms.
    pub timestamp: u32,
    /// Message type id.
    pub type_id: u8,
    /// Message stream id.
    pub stream_id: u32,
}

#[derive(Debug, Clone, Copy)]
struct Last {
    timestamp: u32,
    length: usize,
    type_id: u8,
    stream_id: u32,
}

/// Stateful chunk encoder for one connection's outbound direction.
#[derive(Debug)]
pub struct ChunkEncoder {
    chunk_size: u32,
    last: HashMap<u32, Last>,
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        Self::new()
    }
}

fn basic_header(out: &mut BytesMut, fmt: u8, csid: u32) {
    let fmt = fmt << 6;
    match csid {
        2..=63 => out.put_u8(fmt | csid as u8),
        64..=319 => {
            out.put_u8(fmt);
            out.put_u8((csid - 64) as u8);
        }
        _ => {
            let c = csid.clamp(320, 65599) - 64;
            out.put_u8(fmt | 1);
            out.put_u16_le(c as u16);
        }
    }
}

fn put_u24(out: &mut BytesMut, v: u32) {
    out.put_uint(u64::from(v.min(0x00ff_ffff)), 3);
}

/// Writes a message of `len` payload bytes as chunks: `fmt` is the first chunk's header type,
/// `ts_field` its timestamp field (absolute for type 0, a delta otherwise). Headers go into
/// `out`; `put_payload` is called with `out` and each chunk's payload range, in order, right
/// after that chunk's header.
fn write_chunks_with(
    out: &mut BytesMut,
    chunk_size: u32,
    h: &MessageHeader,
    (fmt, ts_field): (u8, u32),
    len: usize,
    mut put_payload: impl FnMut(&mut BytesMut, std::ops::Range<usize>),
) {
    let extended = ts_field >= 0x00ff_ffff;
    let chunk = chunk_size.max(1) as usize;
    basic_header(out, fmt, h.csid);
    if fmt < 3 {
        put_u24(out, ts_field);
    }
    if fmt < 2 {
        put_u24(out, len as u32);
        out.put_u8(h.type_id);
    }
    if fmt == 0 {
        out.put_u32_le(h.stream_id);
    }
    if extended {
        out.put_u32(ts_field);
    }
    let mut at = 0;
    loop {
        let n = (len - at).min(chunk);
        put_payload(out, at..at + n);
        at += n;
        if at == len {
            break;
        }
        basic_header(out, 3, h.csid);
        if extended {
            out.put_u32(ts_field);
        }
    }
}

/// [`write_chunks_with`] copying `payload` into `out`.
fn write_chunks(
    out: &mut BytesMut,
    chunk_size: u32,
    h: &MessageHeader,
    fmt: u8,
    ts_field: u32,
    payload: &[u8],
) {
    let chunks = payload.len().div_ceil(chunk_size.max(1) as usize).max(1);
    out.reserve(payload.len() + 18 + (chunks - 1) * 8);
    write_chunks_with(
        out,
        chunk_size,
        h,
        (fmt, ts_field),
        payload.len(),
        |o, r| {
            o.put_slice(&payload[r]);
        },
    );
}

/// A message with a type-0 first chunk and type-3 continuations: the same bytes whatever the
/// connection sent before (the receiver's state for `header.csid` is fully reset by it).
pub fn encode_standalone(chunk_size: u32, header: &MessageHeader, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::new();
    write_chunks(&mut out, chunk_size, header, 0, header.timestamp, payload);
    out.freeze()
}

impl ChunkEncoder {
    /// An encoder at the default chunk size (128).
    pub fn new() -> Self {
        Self {
            chunk_size: 128,
            last: HashMap::new(),
        }
    }

    /// The chunk size in use.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Switches the chunk size; call right after encoding the Set Chunk Size message.
    pub fn set_chunk_size(&mut self, size: u32) {
        self.chunk_size = size.clamp(1, 0x7fff_ffff);
    }

    /// Appends `payload` as chunks to `out`, compressing the header against the last message
    /// on the same chunk stream.
    pub fn encode(&mut self, header: &MessageHeader, payload: &[u8], out: &mut BytesMut) {
        let (fmt, ts_field) = self.header_form(header, payload.len());
        write_chunks(out, self.chunk_size, header, fmt, ts_field, payload);
        self.note_sent(header, payload.len());
    }

    /// Like [`ChunkEncoder::encode`], without copying the payload: chunk headers are written
    /// into `out`, and each time a chunk's payload is due, `out` is moved to `queue` followed
    /// by a slice of `payload` (same memory). Returns the bytes queued (headers and payload).
    pub fn encode_shared(
        &mut self,
        header: &MessageHeader,
        payload: &Bytes,
        out: &mut BytesMut,
        queue: &mut std::collections::VecDeque<Bytes>,
    ) -> usize {
        let form = self.header_form(header, payload.len());
        let before = out.len();
        let mut moved = 0;
        write_chunks_with(out, self.chunk_size, header, form, payload.len(), |o, r| {
            moved += o.len();
            queue.push_back(o.split().freeze());
            queue.push_back(payload.slice(r));
        });
        self.note_sent(header, payload.len());
        moved + out.len() - before + payload.len()
    }

    /// The first chunk's header type and timestamp field for `header` on this connection.
    fn header_form(&self, header: &MessageHeader, len: usize) -> (u8, u32) {
        match self.last.get(&header.csid) {
            Some(l) if l.stream_id == header.stream_id && header.timestamp >= l.timestamp => {
                let delta = header.timestamp - l.timestamp;
                if l.length == len && l.type_id == header.type_id {
                    (2, delta)
                } else {
                    (1, delta)
                }
            }
            _ => (0, header.timestamp),
        }
    }

    /// Records that a message produced elsewhere (by [`encode_standalone`]) went out on this
    /// connection, so the next compressed header is relative to it.
    pub fn note_sent(&mut self, header: &MessageHeader, length: usize) {
        self.last.insert(
            header.csid,
            Last {
                timestamp: header.timestamp,
                length,
                type_id: header.type_id,
                stream_id: header.stream_id,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::chunk_decoder::ChunkDecoder;
    use super::*;

    fn h(csid: u32, timestamp: u32, type_id: u8) -> MessageHeader {
        MessageHeader {
            csid,
            timestamp,
            type_id,
            stream_id: 1,
        }
    }

    #[test]
    fn round_trip_through_the_decoder() {
        let mut enc = ChunkEncoder::new();
        let mut out = BytesMut::new();
        let msgs: Vec<(MessageHeader, Vec<u8>)> = vec![
            (h(6, 0, 9), vec![1; 300]),
            (h(4, 0, 8), vec![2; 10]),
            (h(6, 33, 9), vec![3; 300]),
            (h(6, 66, 9), vec![4; 50]),
            (h(4, 23, 8), vec![5; 10]),
            (h(6, 10, 9), vec![6; 5]), // backwards: type 0
            (h(70, 0x0100_0000, 18), vec![7; 1000]),
            (h(400, 0x0100_0040, 18), vec![8; 3]),
        ];
        for (hd, p) in &msgs {
            enc.encode(hd, p, &mut out);
        }
        let mut dec = ChunkDecoder::default();
        dec.push(&out);
        for (hd, p) in &msgs {
            let m = dec.next_message().unwrap().unwrap();
            assert_eq!(
                (m.csid, m.timestamp, m.type_id, m.stream_id),
                (hd.csid, hd.timestamp, hd.type_id, hd.stream_id)
            );
            assert_eq!(&m.payload[..], &p[..]);
        }
        assert_eq!(dec.next_message().unwrap(), None);
    }

    #[test]
    fn standalone_bytes_do_not_depend_on_history() {
        let hd = h(6, 0x0123_4567, 9);
        let a = encode_standalone(4096, &hd, &[9; 10_000]);
        assert_eq!(a[0], 6);
        // After anything else on csid 6 the same bytes decode to the same message.
        let mut enc = ChunkEncoder::new();
        let mut out = BytesMut::new();
        enc.encode(&h(6, 5, 9), &[1; 3], &mut out);
        let mut dec = ChunkDecoder::default();
        let mut set = BytesMut::new();
        enc.encode(
            &MessageHeader {
                csid: 2,
                timestamp: 0,
                type_id: 1,
                stream_id: 0,
            },
            &4096u32.to_be_bytes(),
            &mut set,
        );
        dec.push(&set);
        dec.push(&out);
        dec.push(&a);
        let _ = dec.next_message().unwrap().unwrap();
        let _ = dec.next_message().unwrap().unwrap();
        let m = dec.next_message().unwrap().unwrap();
        assert_eq!(m.timestamp, 0x0123_4567);
        assert_eq!(m.payload.len(), 10_000);
    }
}
