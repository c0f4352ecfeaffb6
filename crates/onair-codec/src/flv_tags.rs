//! Encoded packets to FLV tags: the one place where encoder output becomes the payloads that a
//! file writer or an RTMP publisher sends (sequence headers first, then access units).

use crate::audio_config::AudioConfig;
use crate::audio_encoder::EncodedAudio;
use crate::video_encoder::{DecoderConfig, EncodedVideo};
use bytes::Bytes;
use onair_core::{AudioCodec, VideoCodec};
use onair_flv::enhanced::FOURCC_OPUS;
use onair_flv::opus::{audio_packet, ex_audio_body};
use onair_flv::{AudioSpecificConfig, AudioTag, ExVideoTag, FlvTag, TagType, VideoTag};

/// The encoder's own tag `body` when it still frames `payload` (same memory, nothing after
/// it): the payload then reaches the wire without another copy.
fn framed(body: Option<&Bytes>, payload: &Bytes) -> Option<Bytes> {
    let body = body?;
    let tail = body.len().checked_sub(payload.len())?;
    (body[tail..].as_ptr() == payload.as_ptr()).then(|| body.clone())
}

/// The tags for one encoded video frame: a sequence header when the parameter sets changed,
/// then the access unit (composition offset 0: the real-time profile has no B-frames). H.264
/// goes out as legacy FLV (codec id 7, what every server takes); HEVC with the Enhanced RTMP
/// header (FourCC `hvc1`: SequenceStart with the hvcC, then CodedFrames).
pub fn video_tags(v: &EncodedVideo) -> Vec<FlvTag> {
    let ts = v.pts.as_flv_millis();
    let mut tags = Vec::with_capacity(2);
    let tag = |body| FlvTag::new(TagType::Video, ts, body);
    match v.codec {
        VideoCodec::H264 => {
            if let Some(DecoderConfig::Avc(config)) = &v.config {
                tags.push(tag(VideoTag::sequence_header(config.clone()).encode()));
            }
            tags.push(tag(framed(v.flv_body.as_ref(), &v.avcc).unwrap_or_else(
                || VideoTag::nalus(v.keyframe, 0, v.avcc.clone()).encode(),
            )));
        }
        codec => {
            let fourcc = codec.fourcc();
            if let Some(config) = &v.config {
                tags.push(tag(
                    ExVideoTag::sequence_start(fourcc, config.encode()).encode()
                ));
            }
            tags.push(tag(framed(v.flv_body.as_ref(), &v.avcc).unwrap_or_else(
                || ExVideoTag::coded_frames(fourcc, v.keyframe, 0, v.avcc.clone()).encode(),
            )));
        }
    }
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

/// The sequence-header tag of any audio codec: AAC's legacy one (what every server takes), or
/// Opus's Enhanced RTMP SequenceStart carrying the OpusHead.
pub fn audio_start_tag(config: &AudioConfig, ts_ms: u32) -> FlvTag {
    match config {
        AudioConfig::Aac(c) => audio_config_tag(c, ts_ms),
        AudioConfig::Opus(head) => FlvTag::new(
            TagType::Audio,
            ts_ms,
            ex_audio_body(audio_packet::SEQUENCE_START, FOURCC_OPUS, &head.encode()),
        ),
    }
}

/// The tag for one AAC frame or Opus packet.
pub fn audio_tag(a: &EncodedAudio) -> FlvTag {
    FlvTag::new(
        TagType::Audio,
        a.pts.as_flv_millis(),
        framed(a.flv_body.as_ref(), &a.data).unwrap_or_else(|| match a.codec {
            AudioCodec::Opus => ex_audio_body(audio_packet::CODED_FRAMES, FOURCC_OPUS, &a.data),
            _ => AudioTag::AacRaw(a.data.clone()).encode(),
        }),
    )
}

/// Merges video and audio tags (each already in timestamp order) into one stream in timestamp
/// order; on equal timestamps video comes first, so sequence headers stay ahead of media.
pub fn interleave(video: Vec<FlvTag>, audio: Vec<FlvTag>) -> Vec<FlvTag> {
    let mut out = Vec::with_capacity(video.len() + audio.len());
    let (mut v, mut a) = (video.into_iter().peekable(), audio.into_iter().peekable());
    loop {
        let take_video = match (v.peek(), a.peek()) {
            (Some(x), Some(y)) => x.timestamp_ms <= y.timestamp_ms,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return out,
        };
        out.extend(if take_video { v.next() } else { a.next() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn interleave_orders_by_timestamp_video_first() {
        let t = |ty, ts| FlvTag::new(ty, ts, Bytes::new());
        let out = interleave(
            vec![t(TagType::Video, 0), t(TagType::Video, 40)],
            vec![
                t(TagType::Audio, 0),
                t(TagType::Audio, 21),
                t(TagType::Audio, 42),
            ],
        );
        let order: Vec<(TagType, u32)> = out.iter().map(|x| (x.tag_type, x.timestamp_ms)).collect();
        assert_eq!(
            order,
            vec![
                (TagType::Video, 0),
                (TagType::Audio, 0),
                (TagType::Audio, 21),
                (TagType::Video, 40),
                (TagType::Audio, 42)
            ]
        );
    }
}
