//! Fuzzes the Enhanced RTMP tag header readers of onair-flv (`video_info`, `audio_info`,
//! `ExVideoTag::parse`) and the legacy tag parsers on the same bytes. The property: no panic;
//! a body `video_info` calls a sequence header is never also a keyframe.
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
});
