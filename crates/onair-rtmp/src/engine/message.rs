//! RTMP messages (RTMP 1.0 §5.4 protocol control, §6.2 user control, §7.1 message types; see
//! `docs/rtmp.md`): decoded from a [`RawMessage`] into [`Message`] and encoded back to a
//! type id and body. Audio, video and data bodies stay `Bytes` slices of the received buffer
//! (no copy); AMF0 commands go through [`Command`].

use super::chunk_decoder::RawMessage;
use super::command::Command;
use super::error::{hex, EngineError};
use bytes::{BufMut, Bytes, BytesMut};

/// Message type ids (RTMP 1.0 §5.4, §7.1).
pub mod type_id {
    /// Set Chunk Size.
    pub const SET_CHUNK_SIZE: u8 = 1;
    /// Abort Message.
    pub const ABORT: u8 = 2;
    /// Acknowledgement.
    pub const ACKNOWLEDGEMENT: u8 = 3;
    /// User Control Message.
    pub const USER_CONTROL: u8 = 4;
    /// Window Acknowledgement Size.
    pub const WINDOW_ACK_SIZE: u8 = 5;
    /// Set Peer Bandwidth.
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    /// Audio.
    pub const AUDIO: u8 = 8;
    /// Video.
    pub const VIDEO: u8 = 9;
    /// AMF3 data.
    pub const DATA_AMF3: u8 = 15;
    /// AMF3 command.
    pub const COMMAND_AMF3: u8 = 17;
    /// AMF0 data.
    pub const DATA_AMF0: u8 = 18;
    /// AMF0 command.
    pub const COMMAND_AMF0: u8 = 20;
    /// Aggregate.
    pub const AGGREGATE: u8 = 22;
}

/// User Control events (RTMP 1.0 §6.2, §7.1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserControl {
    /// Stream Begin (0).
    StreamBegin(u32),
    /// Stream EOF (1).
    StreamEof(u32),
    /// Stream Dry (2).
    StreamDry(u32),
    /// Set Buffer Length (3), ms.
    SetBufferLength {
        /// Message stream id.
        stream_id: u32,
        /// Buffer length, ms.
        ms: u32,
    },
    /// Stream Is Recorded (4).
    StreamIsRecorded(u32),
    /// Ping Request (6) with the sender's timestamp.
    PingRequest(u32),
    /// Ping Response (7) echoing it.
    PingResponse(u32),
    /// Another event type, kept as is.
    Other {
        /// Event type.
        event: u16,
        /// Event data.
        data: Bytes,
    },
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Message {
    /// Set Chunk Size (already applied by the decoder).
    SetChunkSize(u32),
    /// Abort (already applied by the decoder).
    Abort(u32),
    /// Acknowledgement: bytes received so far.
    Acknowledgement(u32),
    /// Window Acknowledgement Size.
    WindowAckSize(u32),
    /// Set Peer Bandwidth.
    SetPeerBandwidth {
        /// Window size.
        size: u32,
        /// Limit type 0 hard, 1 soft, 2 dynamic.
        limit: u8,
    },
    /// A user control event.
    UserControl(UserControl),
    /// An audio body (an FLV audio tag body, legacy or Enhanced RTMP).
    Audio(Bytes),
    /// A video body (an FLV video tag body, legacy or Enhanced RTMP).
    Video(Bytes),
    /// A data message body in AMF0 (for AMF3 data the leading format byte is removed).
    Data(Bytes),
    /// A command.
    Command(Command),
    /// An aggregate message body (FLV tags back to back).
    Aggregate(Bytes),
    /// Any other type, kept as is.
    Other {
        /// Message type id.
        type_id: u8,
        /// The body.
        payload: Bytes,
    },
}

fn malformed(m: &RawMessage, what: &'static str, reason: String) -> EngineError {
    EngineError::Malformed {
        what,
        type_id: m.type_id,
        offset: m.offset,
        reason,
        hex: hex(&m.payload, 16),
    }
}

fn be32(m: &RawMessage, at: usize, what: &'static str) -> Result<u32, EngineError> {
    m.payload
        .get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| {
            malformed(
                m,
                what,
                format!("{} bytes, need {}", m.payload.len(), at + 4),
            )
        })
}

impl Message {
    /// Decodes a reassembled message.
    pub fn decode(m: &RawMessage) -> Result<Self, EngineError> {
        use type_id::*;
        Ok(match m.type_id {
            SET_CHUNK_SIZE => Self::SetChunkSize(be32(m, 0, "Set Chunk Size")? & 0x7fff_ffff),
            ABORT => Self::Abort(be32(m, 0, "Abort")?),
            ACKNOWLEDGEMENT => Self::Acknowledgement(be32(m, 0, "Acknowledgement")?),
            WINDOW_ACK_SIZE => Self::WindowAckSize(be32(m, 0, "Window Acknowledgement Size")?),
            SET_PEER_BANDWIDTH => Self::SetPeerBandwidth {
                size: be32(m, 0, "Set Peer Bandwidth")?,
                limit: m.payload.get(4).copied().unwrap_or(2),
            },
            USER_CONTROL => {
                let p = &m.payload;
                if p.len() < 2 {
                    return Err(malformed(m, "User Control", "no event type".into()));
                }
                let event = u16::from_be_bytes([p[0], p[1]]);
                let arg = |at| be32(m, at, "User Control");
                Self::UserControl(match event {
                    0 => UserControl::StreamBegin(arg(2)?),
                    1 => UserControl::StreamEof(arg(2)?),
                    2 => UserControl::StreamDry(arg(2)?),
                    3 => UserControl::SetBufferLength {
                        stream_id: arg(2)?,
                        ms: arg(6)?,
                    },
                    4 => UserControl::StreamIsRecorded(arg(2)?),
                    6 => UserControl::PingRequest(arg(2)?),
                    7 => UserControl::PingResponse(arg(2)?),
                    event => UserControl::Other {
                        event,
                        data: p.slice(2..),
                    },
                })
            }
            AUDIO => Self::Audio(m.payload.clone()),
            VIDEO => Self::Video(m.payload.clone()),
            DATA_AMF0 => Self::Data(m.payload.clone()),
            DATA_AMF3 => Self::Data(m.payload.slice(m.payload.len().min(1)..)),
            COMMAND_AMF0 | COMMAND_AMF3 => {
                let body = if m.type_id == COMMAND_AMF3 {
                    &m.payload[m.payload.len().min(1)..]
                } else {
                    &m.payload[..]
                };
                Self::Command(Command::decode(body).map_err(|r| malformed(m, "command", r))?)
            }
            AGGREGATE => Self::Aggregate(m.payload.clone()),
            type_id => Self::Other {
                type_id,
                payload: m.payload.clone(),
            },
        })
    }

    /// The type id and body of this message.
    pub fn encode(&self) -> (u8, Bytes) {
        use type_id::*;
        let u32_body = |v: u32| Bytes::copy_from_slice(&v.to_be_bytes());
        match self {
            Self::SetChunkSize(v) => (SET_CHUNK_SIZE, u32_body(*v)),
            Self::Abort(v) => (ABORT, u32_body(*v)),
            Self::Acknowledgement(v) => (ACKNOWLEDGEMENT, u32_body(*v)),
            Self::WindowAckSize(v) => (WINDOW_ACK_SIZE, u32_body(*v)),
            Self::SetPeerBandwidth { size, limit } => {
                let mut b = BytesMut::with_capacity(5);
                b.put_u32(*size);
                b.put_u8(*limit);
                (SET_PEER_BANDWIDTH, b.freeze())
            }
            Self::UserControl(u) => {
                let mut b = BytesMut::with_capacity(10);
                let (event, a, c) = match u {
                    UserControl::StreamBegin(s) => (0, *s, None),
                    UserControl::StreamEof(s) => (1, *s, None),
                    UserControl::StreamDry(s) => (2, *s, None),
                    UserControl::SetBufferLength { stream_id, ms } => (3, *stream_id, Some(*ms)),
                    UserControl::StreamIsRecorded(s) => (4, *s, None),
                    UserControl::PingRequest(t) => (6, *t, None),
                    UserControl::PingResponse(t) => (7, *t, None),
                    UserControl::Other { event, data } => {
                        b.put_u16(*event);
                        b.put_slice(data);
                        return (USER_CONTROL, b.freeze());
                    }
                };
                b.put_u16(event);
                b.put_u32(a);
                if let Some(c) = c {
                    b.put_u32(c);
                }
                (USER_CONTROL, b.freeze())
            }
            Self::Audio(b) => (AUDIO, b.clone()),
            Self::Video(b) => (VIDEO, b.clone()),
            Self::Data(b) => (DATA_AMF0, b.clone()),
            Self::Command(c) => (COMMAND_AMF0, c.encode()),
            Self::Aggregate(b) => (AGGREGATE, b.clone()),
            Self::Other { type_id, payload } => (*type_id, payload.clone()),
        }
    }
}

/// Splits an aggregate message body into its sub-messages: (type id, timestamp, body). The
/// first sub-message's timestamp is moved to the aggregate's `timestamp` and the others keep
/// their offsets from it. A truncated tail ends the list (it is dropped, not an error).
pub fn split_aggregate(timestamp: u32, body: &Bytes) -> Vec<(u8, u32, Bytes)> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut base: Option<u32> = None;
    while body.len() >= pos + 11 {
        let h = &body[pos..pos + 11];
        let len = ((h[1] as usize) << 16) | ((h[2] as usize) << 8) | h[3] as usize;
        let ts = (u32::from(h[7]) << 24)
            | (u32::from(h[4]) << 16)
            | (u32::from(h[5]) << 8)
            | u32::from(h[6]);
        let end = pos + 11 + len;
        if end > body.len() {
            break;
        }
        let first = *base.get_or_insert(ts);
        out.push((
            h[0] & 0x1f,
            timestamp.wrapping_add(ts.wrapping_sub(first)),
            body.slice(pos + 11..end),
        ));
        pos = end + 4;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(type_id: u8, payload: &[u8]) -> RawMessage {
        RawMessage {
            csid: 2,
            timestamp: 0,
            type_id,
            stream_id: 0,
            payload: Bytes::copy_from_slice(payload),
            offset: 0,
        }
    }

    #[test]
    fn control_messages_round_trip() {
        for m in [
            Message::SetChunkSize(4096),
            Message::Acknowledgement(7),
            Message::WindowAckSize(2_500_000),
            Message::SetPeerBandwidth {
                size: 2_500_000,
                limit: 2,
            },
            Message::UserControl(UserControl::StreamBegin(1)),
            Message::UserControl(UserControl::SetBufferLength {
                stream_id: 1,
                ms: 3000,
            }),
            Message::UserControl(UserControl::PingRequest(99)),
        ] {
            let (t, b) = m.encode();
            assert_eq!(Message::decode(&raw(t, &b)).unwrap(), m);
        }
    }

    #[test]
    fn short_bodies_are_errors() {
        for (t, b) in [(1u8, &[0u8, 0][..]), (4, &[0]), (4, &[0, 6, 1]), (5, &[])] {
            assert!(matches!(
                Message::decode(&raw(t, b)),
                Err(EngineError::Malformed { .. })
            ));
        }
    }

    #[test]
    fn aggregate_split() {
        let mut body = Vec::new();
        for (t, ts, data) in [(9u8, 1000u32, &b"abc"[..]), (8, 1020, b"de")] {
            body.push(t);
            body.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
            body.extend_from_slice(&ts.to_be_bytes()[1..]);
            body.push((ts >> 24) as u8);
            body.extend_from_slice(&[0, 0, 0]);
            body.extend_from_slice(data);
            body.extend_from_slice(&(11 + data.len() as u32).to_be_bytes());
        }
        body.extend_from_slice(&[9, 0, 0]); // truncated tail
        let parts = split_aggregate(50, &Bytes::from(body));
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].0, parts[0].1, &parts[0].2[..]),
            (9, 50, &b"abc"[..])
        );
        assert_eq!((parts[1].0, parts[1].1), (8, 70));
    }
}
