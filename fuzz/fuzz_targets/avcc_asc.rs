//! Fuzzes AVCDecoderConfigurationRecord, AVCC / Annex B splitting and AudioSpecificConfig.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onair_flv::avcc::{split_annexb, split_avcc};
use onair_flv::{AudioSpecificConfig, AvcDecoderConfig};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = AvcDecoderConfig::parse(data) {
        // What parses re-encodes to something that parses the same.
        let again = AvcDecoderConfig::parse(&c.encode()).expect("re-parse");
        assert_eq!(again.sps, c.sps);
        assert_eq!(again.pps, c.pps);
    }
    for len in [1, 2, 4] {
        let _ = split_avcc(data, len);
    }
    let _ = split_annexb(data);
    let _ = AudioSpecificConfig::parse(data);
});
