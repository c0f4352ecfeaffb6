//! Fuzzes UserSig verification (a UserSig is what a client hands a backend): arbitrary text,
//! and arbitrary JSON behind valid zlib and base64, never panic nor inflate past the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onair_rtmp::usersig::{gen_usersig, verify_usersig};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = verify_usersig(1_400_000_000, "key", "user", &text, 1_796_000_000);
    // A well-formed one still verifies whatever the user name is (names short enough for the
    // UserSig to stay under the 8 KiB cap).
    if text.len() <= 1024 {
        let sig = gen_usersig(1_400_000_000, "key", &text, 60, 1_796_000_000);
        assert!(verify_usersig(1_400_000_000, "key", &text, &sig, 1_796_000_000).is_ok());
    }
});
