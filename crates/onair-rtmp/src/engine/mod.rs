//! onair's own sans-I/O RTMP engine (RTMP 1.0 §5-7 and Enhanced RTMP v1/v2; the facts it
//! relies on are in `docs/rtmp.md`). Bytes in, events and bytes out, `now` passed in; one thin
//! tokio adapter per role owns the socket ([`crate::session`] for clients, onair-server for
//! the server).
//!
//! Layers, bottom up:
//! - [`handshake`]: C0-C2 / S0-S2 (rml_rtmp's, the only part of it kept).
//! - [`chunk_decoder`] / [`chunk_encoder`]: the chunk stream, per-chunk-stream reassembly,
//!   header types 0-3, extended timestamps, Set Chunk Size and Abort, caps ([`Limits`]).
//! - [`message`]: protocol control, user control, media, data and aggregate messages.
//! - [`command`]: AMF0 commands (bounded scan, then rml_amf0 values).
//! - [`client`] and [`server`]: the sessions.
//!
//! Nothing in the engine panics on peer input: every limit and malformation is an
//! [`EngineError`], after which the decoder stays failed.

pub mod chunk_decoder;
pub mod chunk_encoder;
pub mod client;
pub mod command;
pub mod error;
pub mod handshake;
mod link;
pub mod message;
pub mod server;

pub use chunk_decoder::{ChunkDecoder, Limits, RawMessage};
pub use chunk_encoder::{encode_standalone, ChunkEncoder, MessageHeader};
pub use client::{ClientConfig, ClientEvent, ClientRole, ClientSession, Status};
pub use command::Command;
pub use error::EngineError;
pub use handshake::{Handshake, HandshakeProgress};
pub use link::{CSID_AUDIO, CSID_COMMAND, CSID_CONTROL, CSID_DATA, CSID_STREAM, CSID_VIDEO};
pub use message::{Message, UserControl};
pub use server::{encode_shared, ServerConfig, ServerEvent, ServerSession};
