//! Fuzzes the client side of onair's RTMP engine: a hostile server's chunk stream fed to real
//! `ClientSession`s (play and publish) through `onair_rtmp::session::fuzz_inbound`. The
//! property: no panic at all (libfuzzer-sys's default hook aborts on any), and every result is a
//! value or a typed error. Seeds: the `.s2c` captures of real servers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = onair_rtmp::session::fuzz_inbound(data);
});
