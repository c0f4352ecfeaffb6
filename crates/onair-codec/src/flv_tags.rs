//! Encoded packets to FLV tags: the one place where encoder output becomes the payloads that a
//! file writer or an RTMP publisher sends (sequence headers first, then access units).

use crate::audio_encoder::EncodedAudio;
use crate::video_encoder::EncodedVideo;
use onair_flv::{AudioSpecificConfig, AudioTag, FlvTag, TagType, VideoTag};

/// The tags for one encoded video frame: a sequence header when the parameter sets changed,
/// then the access unit (composition offset 0: the real-time profile has no B-frames).
pub fn video_tags(v: &EncodedVideo) -> Vec<FlvTag> {
    let ts = v.pts.as_flv_millis();
    let mut tags = Vec::with_capacity(2);
    if let Some(config) = &v.config {
        tags.push(FlvTag::new(
            TagType::Video,
            ts,
            VideoTag::sequence_header(config.clone()).encode(),
        ));
    }
    tags.push(FlvTag::new(
        TagType::Video,
        ts,
        VideoTag::nalus(v.keyframe, 0, v.avcc.clone()).encode(),
    ));
    tags
}

/// The AAC sequence-header tag.
pub fn audio_config_tag(config: &AudioSpecificConfig, ts_ms: u32) -> FlvTag {
    FlvTag::new(
        TagType::Audio,
        ts_ms,
        AudioTag::AacSequenceHeader(config.clone()).encode(),
    )
}

/// The tag for one AAC frame.
pub fn audio_tag(a: &EncodedAudio) -> FlvTag {
    FlvTag::new(
        TagType::Audio,
        a.pts.as_flv_millis(),
        AudioTag::AacRaw(a.data.clone()).encode(),
    )
}
