//! What a publisher or player sends the embedded server after the handshake: onair-server runs
//! every byte through `ChunkValidator` and then through rml_rtmp's `ServerSession` inside
//! `catch_unwind`, as here. The property: no panic escapes that containment (rml_rtmp's chunk
//! deserializer panics on interleaved chunk streams; the validator turns that into an error).
//! As in `rtmp_inbound`, the init block replaces libfuzzer-sys's abort-on-panic hook.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onair_rtmp::ChunkValidator;
use rml_rtmp::sessions::{ServerSession, ServerSessionConfig};
use std::panic::{catch_unwind, AssertUnwindSafe};

fuzz_target!(
    init: {
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
        let mut validator = ChunkValidator::new();
        let Ok((mut session, _)) = ServerSession::new(ServerSessionConfig::new()) else { return };
        for piece in data.chunks(97) {
            if validator.feed(piece).is_err() {
                return;
            }
            match catch_unwind(AssertUnwindSafe(|| session.handle_input(piece))) {
                Ok(Ok(_)) => {}
                _ => return,
            }
        }
    }
);
