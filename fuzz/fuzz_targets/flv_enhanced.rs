//! Fuzzes the Enhanced RTMP tag header readers of onair-flv (`video_info`, `audio_info`,
//! `ExVideoTag::parse`), the HEVCDecoderConfigurationRecord and SPS readers, and the legacy tag
//! parsers on the same bytes. The properties: no panic; a body `video_info` calls a sequence
//! header is never also a keyframe; a record that parses encodes back to one that parses the
//! same.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(v) = onair_flv::video_info(data) {
        assert!(!(v.keyframe && v.sequence_header));
    }
    let _ = onair_flv::audio_info(data);
    let body = Bytes::copy_from_slice(data);
    let _ = onair_flv::ExVideoTag::parse(&body);
    let _ = onair_flv::VideoTag::parse(&body);
    let _ = onair_flv::AudioTag::parse(&body);
    if let Ok(record) = onair_flv::HevcDecoderConfig::parse(data) {
        let again = onair_flv::HevcDecoderConfig::parse(&record.encode()).expect("re-parse");
        assert_eq!(again.arrays, record.arrays);
    }
    let mut sps = vec![0x42, 0x01];
    sps.extend_from_slice(data);
    let _ = onair_flv::hvcc::HevcSpsInfo::parse(&sps);
});
