//! Fuzzes the handshake (rml_rtmp's, the one part of it onair keeps) on both sides with hostile
//! bytes in pieces. The property: no panic, bounded input (the wrapper refuses more than C0 +
//! C1 + C2 plus 64 KiB).
#![no_main]

use libfuzzer_sys::fuzz_target;
use onair_rtmp::engine::Handshake;

fuzz_target!(|data: &[u8]| {
    let mut server = Handshake::server();
    for piece in data.chunks(700) {
        if server.process(piece).is_err() {
            break;
        }
    }
    if let Ok((mut client, _)) = Handshake::client() {
        for piece in data.chunks(1537) {
            if client.process(piece).is_err() {
                break;
            }
        }
    }
});
