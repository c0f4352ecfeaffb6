//! Fuzzes SEI NAL parsing (H.264 type 6 and HEVC prefix SEI, type 39) and the
//! emulation-prevention round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onair_flv::sei::{
    add_emulation_prevention, parse_hevc_sei_nal, parse_sei_nal, remove_emulation_prevention,
};

fuzz_target!(|data: &[u8]| {
    let mut nal = vec![6u8];
    nal.extend_from_slice(data);
    let _ = parse_sei_nal(&nal);
    let mut hevc = vec![0x4e, 0x01];
    hevc.extend_from_slice(data);
    let _ = parse_hevc_sei_nal(&hevc);
    assert_eq!(
        remove_emulation_prevention(&add_emulation_prevention(data)),
        data
    );
});
