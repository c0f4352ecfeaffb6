//! Fuzzes the incremental FLV demuxer and every tag-body parser on what it yields. The first
//! byte picks the chunk size the input is pushed in, so split points are explored too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onair_flv::{AudioTag, FlvDemuxer, ScriptData, TagType, VideoTag};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let mut d = FlvDemuxer::with_max_tag_size(1 << 16);
    for c in rest.chunks(usize::from(chunk).max(1)) {
        d.push(c);
        loop {
            match d.next_tag() {
                Ok(Some(tag)) => {
                    assert!(tag.data.len() <= 1 << 16);
                    match tag.tag_type {
                        TagType::Video => drop(VideoTag::parse(&tag.data)),
                        TagType::Audio => drop(AudioTag::parse(&tag.data)),
                        _ => drop(ScriptData::parse(&tag.data)),
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
