//! Fuzzes script-data (AMF0 onMetaData) parsing, including the nesting cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onair_flv::{OnMetaData, ScriptData};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = ScriptData::parse(data) {
        let _ = OnMetaData::from_script(&s);
        let _ = s.encode();
    }
});
