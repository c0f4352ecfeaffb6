//! What a publisher or player sends the embedded server after the handshake: onair-server runs
//! every byte through `ChunkValidator` and only then through rml_rtmp's `ServerSession`, as here.
//! Neither may panic (the server also contains panics, but a crash here is a bug to fix).
#![no_main]

use libfuzzer_sys::fuzz_target;
use onair_rtmp::ChunkValidator;
use rml_rtmp::sessions::{ServerSession, ServerSessionConfig};

fuzz_target!(|data: &[u8]| {
    let mut validator = ChunkValidator::new();
    let Ok((mut session, _)) = ServerSession::new(ServerSessionConfig::new()) else { return };
    for piece in data.chunks(97) {
        if validator.feed(piece).is_err() {
            return;
        }
        if session.handle_input(piece).is_err() {
            return;
        }
    }
});
