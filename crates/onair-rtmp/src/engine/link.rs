//! What both ends of an RTMP connection share once the handshake is done: the chunk decoder
//! and encoder, the outbound byte queue, acknowledgements (RTMP 1.0 §5.4.3-5.4.4: a peer that
//! announced a Window Acknowledgement Size gets an Acknowledgement each time that many bytes
//! arrived) and answers to pings (§7.1.7). Sessions build on it; it does no I/O.

use super::chunk_decoder::{ChunkDecoder, Limits, RawMessage};
use super::chunk_encoder::{ChunkEncoder, MessageHeader};
use super::error::EngineError;
use super::message::{Message, UserControl};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;

/// Chunk stream for protocol control and user control messages (RTMP 1.0 §5.4).
pub const CSID_CONTROL: u32 = 2;
/// Chunk stream for connection-level commands (connect, createStream, their answers).
pub const CSID_COMMAND: u32 = 3;
/// Chunk stream for audio.
pub const CSID_AUDIO: u32 = 4;
/// Chunk stream for data messages (@setDataFrame, onMetaData, |RtmpSampleAccess).
pub const CSID_DATA: u32 = 5;
/// Chunk stream for video.
pub const CSID_VIDEO: u32 = 6;
/// Chunk stream for stream-level commands (publish, play, onStatus, deleteStream).
pub const CSID_STREAM: u32 = 8;

/// The connection core.
#[derive(Debug)]
pub(crate) struct Link {
    decoder: ChunkDecoder,
    encoder: ChunkEncoder,
    pending: BytesMut,
    out: VecDeque<Bytes>,
    out_len: usize,
    received: u64,
    acked: u64,
    peer_window: u32,
}

impl Link {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            decoder: ChunkDecoder::new(limits),
            encoder: ChunkEncoder::new(),
            pending: BytesMut::new(),
            out: VecDeque::new(),
            out_len: 0,
            received: 0,
            acked: 0,
            peer_window: 0,
        }
    }

    pub(crate) fn push_input(&mut self, data: &[u8]) {
        self.decoder.push(data);
        self.received += data.len() as u64;
    }

    pub(crate) fn push_input_bytes(&mut self, data: Bytes) {
        self.received += data.len() as u64;
        self.decoder.push_bytes(data);
    }

    /// The next inbound message, with acknowledgements and ping answers already queued.
    pub(crate) fn next(&mut self) -> Result<Option<(RawMessage, Message)>, EngineError> {
        let Some(raw) = self.decoder.next_message()? else {
            return Ok(None);
        };
        let msg = Message::decode(&raw)?;
        match &msg {
            Message::WindowAckSize(w) => self.peer_window = *w,
            Message::UserControl(UserControl::PingRequest(t)) => {
                self.send(
                    CSID_CONTROL,
                    0,
                    0,
                    &Message::UserControl(UserControl::PingResponse(*t)),
                );
            }
            _ => {}
        }
        let consumed = self.decoder.offset();
        if self.peer_window > 0 && consumed - self.acked >= u64::from(self.peer_window) {
            self.acked = consumed;
            self.send(
                CSID_CONTROL,
                0,
                0,
                &Message::Acknowledgement(consumed as u32),
            );
        }
        Ok(Some((raw, msg)))
    }

    /// Queues a message encoded with this connection's header compression.
    pub(crate) fn send(&mut self, csid: u32, timestamp: u32, stream_id: u32, msg: &Message) {
        let (type_id, payload) = msg.encode();
        self.send_raw(
            &MessageHeader {
                csid,
                timestamp,
                type_id,
                stream_id,
            },
            &payload,
        );
    }

    pub(crate) fn send_raw(&mut self, header: &MessageHeader, payload: &[u8]) {
        let before = self.pending.len();
        self.encoder.encode(header, payload, &mut self.pending);
        self.out_len += self.pending.len() - before;
    }

    /// Queues a message whose payload goes out as slices of `payload`, not copied.
    pub(crate) fn send_bytes(&mut self, header: &MessageHeader, payload: &Bytes) {
        self.out_len +=
            self.encoder
                .encode_shared(header, payload, &mut self.pending, &mut self.out);
    }

    /// Announces and switches to a new outbound chunk size.
    pub(crate) fn set_chunk_size(&mut self, size: u32) {
        self.send(CSID_CONTROL, 0, 0, &Message::SetChunkSize(size));
        self.encoder.set_chunk_size(size);
    }

    pub(crate) fn chunk_size(&self) -> u32 {
        self.encoder.chunk_size()
    }

    /// Queues chunk bytes built once elsewhere (`encode_standalone` at this chunk size).
    pub(crate) fn send_shared(&mut self, bytes: Bytes, header: &MessageHeader, length: usize) {
        self.flush_pending();
        self.encoder.note_sent(header, length);
        self.out_len += bytes.len();
        self.out.push_back(bytes);
    }

    fn flush_pending(&mut self) {
        if !self.pending.is_empty() {
            let b = self.pending.split().freeze();
            self.out.push_back(b);
        }
    }

    /// Takes everything queued for the socket, in order.
    pub(crate) fn take_output(&mut self, into: &mut VecDeque<Bytes>) {
        self.flush_pending();
        into.append(&mut self.out);
        self.out_len = 0;
    }

    /// Bytes queued for the socket.
    pub(crate) fn output_len(&self) -> usize {
        self.out_len
    }

    /// Bytes received so far.
    pub(crate) fn received(&self) -> u64 {
        self.received
    }
}
