//! Fuzzes the RTMP inbound path (chunk stream -> messages -> session events), as a hostile
//! server would drive it. rml_rtmp's own panics must be contained into errors.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = onair_rtmp::session::fuzz_inbound(data);
});
