//! Fuzzes the chunk stream decoder alone with small caps, so the limit paths (chunk size,
//! message length, open chunk streams, reassembly bytes) are reached quickly. The property: no
//! panic, and once it fails it stays failed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onair_rtmp::engine::{ChunkDecoder, Limits};

fuzz_target!(|data: &[u8]| {
    let mut d = ChunkDecoder::new(Limits {
        max_chunk_size: 4096,
        max_message_len: 64 << 10,
        max_open_chunk_streams: 4,
        max_reassembly_bytes: 128 << 10,
    });
    let mut failed = false;
    for piece in data.chunks(61) {
        d.push(piece);
        loop {
            match d.next_message() {
                Ok(Some(m)) => assert!(!failed && m.payload.len() <= 64 << 10),
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
    }
});
