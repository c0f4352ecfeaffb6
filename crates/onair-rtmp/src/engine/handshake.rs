//! The RTMP handshake (C0/C1/C2, S0/S1/S2; RTMP 1.0 §5.2, with the digest scheme Flash-era
//! peers use), through rml_rtmp's `Handshake`, the one part of rml_rtmp onair keeps: it works on
//! fixed 1536-byte packets and cannot be made to allocate or index out of bounds by the peer
//! (fuzz target `rtmp_handshake`). Sans-I/O like the rest of the engine.

use rml_rtmp::handshake::{Handshake as Inner, HandshakeProcessResult, PeerType};

/// Most bytes a peer may send before the handshake completes (C0 + C1 + C2 and a little of
/// what follows); more is an error.
const MAX_HANDSHAKE_BYTES: usize = 1 + 1536 * 2 + 64 * 1024;

/// What feeding bytes to the handshake gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeProgress {
    /// Not done; write `reply`.
    InProgress {
        /// Bytes to write.
        reply: Vec<u8>,
    },
    /// Done; write `reply`, then feed `rest` to the session (the first chunks).
    Done {
        /// Bytes to write.
        reply: Vec<u8>,
        /// Bytes after the handshake.
        rest: Vec<u8>,
    },
}

/// One side's handshake.
pub struct Handshake {
    inner: Inner,
    seen: usize,
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl Handshake {
    /// The client side; returns it and C0 + C1 to send.
    pub fn client() -> Result<(Self, Vec<u8>), String> {
        let mut inner = Inner::new(PeerType::Client);
        let c0c1 = inner
            .generate_outbound_p0_and_p1()
            .map_err(|e| format!("{e:?}"))?;
        Ok((Self { inner, seen: 0 }, c0c1))
    }

    /// The server side.
    pub fn server() -> Self {
        Self {
            inner: Inner::new(PeerType::Server),
            seen: 0,
        }
    }

    /// Feeds received bytes.
    pub fn process(&mut self, data: &[u8]) -> Result<HandshakeProgress, String> {
        self.seen += data.len();
        if self.seen > MAX_HANDSHAKE_BYTES {
            return Err(format!(
                "{} bytes without completing the handshake",
                self.seen
            ));
        }
        match self
            .inner
            .process_bytes(data)
            .map_err(|e| format!("{e:?}"))?
        {
            HandshakeProcessResult::InProgress { response_bytes } => {
                Ok(HandshakeProgress::InProgress {
                    reply: response_bytes,
                })
            }
            HandshakeProcessResult::Completed {
                response_bytes,
                remaining_bytes,
            } => Ok(HandshakeProgress::Done {
                reply: response_bytes,
                rest: remaining_bytes,
            }),
        }
    }
}
