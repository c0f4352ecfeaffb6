//! `EngineError`: everything the sans-I/O engine refuses, each limit its own variant (so a
//! field report says which cap was hit), with the chunk stream and byte offset where it
//! happened. The engine never panics on peer input; it returns one of these and stays failed.

/// A protocol violation or a limit hit while decoding or encoding RTMP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// Set Chunk Size above the engine's cap (or 0, or with the reserved top bit set).
    #[error("Set Chunk Size {requested} at byte {offset}: allowed 1..={max}")]
    ChunkSize {
        /// The size the peer asked for.
        requested: u32,
        /// The cap.
        max: u32,
        /// Stream offset of the message.
        offset: u64,
    },
    /// A message longer than the cap.
    #[error("message of {length} bytes on chunk stream {csid} at byte {offset} exceeds the cap of {max} bytes")]
    MessageTooLong {
        /// Declared length.
        length: u32,
        /// The cap.
        max: u32,
        /// Chunk stream id.
        csid: u32,
        /// Stream offset of the chunk header.
        offset: u64,
    },
    /// More chunk streams with a message in progress than the cap.
    #[error("more than {max} chunk streams with a message in progress (chunk stream {csid} at byte {offset})")]
    TooManyChunkStreams {
        /// The cap.
        max: usize,
        /// The chunk stream that would have exceeded it.
        csid: u32,
        /// Stream offset of the chunk header.
        offset: u64,
    },
    /// Bytes of partially received messages above the cap.
    #[error("{buffered} bytes of partial messages buffered at byte {offset}, cap {max}")]
    ReassemblyTooLarge {
        /// What would be buffered.
        buffered: usize,
        /// The cap.
        max: usize,
        /// Stream offset.
        offset: u64,
    },
    /// A compressed chunk header (type 1, 2 or 3) on a chunk stream with no earlier header.
    #[error("chunk header type {fmt} on chunk stream {csid} at byte {offset} with no earlier header on that stream; bytes {hex}")]
    NoPreviousHeader {
        /// Header type 1-3.
        fmt: u8,
        /// Chunk stream id.
        csid: u32,
        /// Stream offset.
        offset: u64,
        /// The header bytes in hex.
        hex: String,
    },
    /// A control or AMF message whose body does not parse.
    #[error("malformed {what} (message type {type_id}) at byte {offset}: {reason}; bytes {hex}")]
    Malformed {
        /// Which message.
        what: &'static str,
        /// RTMP message type id.
        type_id: u8,
        /// Stream offset of the message's first chunk.
        offset: u64,
        /// Why.
        reason: String,
        /// The first bytes of the body in hex.
        hex: String,
    },
    /// A call that the session's state does not allow (a local programming error, not peer
    /// input): e.g. sending media before publishing started.
    #[error("{0}")]
    InvalidState(String),
    /// The engine failed earlier and accepts nothing more.
    #[error("the RTMP engine failed earlier: {0}")]
    Failed(Box<EngineError>),
}

/// The first `n` bytes of `data` in hex, for error messages.
pub(crate) fn hex(data: &[u8], n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for (i, b) in data.iter().take(n).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02x}"));
    }
    if data.len() > n {
        s.push_str(" ..");
    }
    s
}
