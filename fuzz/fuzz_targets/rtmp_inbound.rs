//! Fuzzes the RTMP inbound path (chunk stream -> messages -> session events), as a hostile
//! server would drive it. The property: no panic escapes onair's API. rml_rtmp panics that
//! onair contains (`catch_unwind` in `session::contained`) are allowed, so the init block
//! replaces libfuzzer-sys's abort-on-panic hook with a silent one; a panic that escapes still
//! aborts in the harness and is reported.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
        let _ = onair_rtmp::session::fuzz_inbound(data);
    }
);
