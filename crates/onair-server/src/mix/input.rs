//! One mixed input stream: its hub tap, decoders built from its sequence headers, its newest
//! picture (scaled to its layer when drawn) and its sound (to the mix's queues). Video of any
//! codec the server decodes (H.264, HEVC, AV1...), sound in AAC; an input in another audio
//! codec is drawn but silent (with one warning).

use super::audio::PcmConverter;
use crate::hub::Tag;
use onair_codec::{AacDecoder, AudioDecoder, FfmpegVideoDecoder};
use onair_core::{Timestamp, VideoFrame};
use onair_flv::enhanced::FOURCC_AAC;
use onair_flv::VideoPayload;
use onair_flv::{audio_payload, video_payload, AudioPayload, AudioSpecificConfig, TagType};

/// What one tag gave.
#[derive(Debug, Default)]
pub struct Decoded {
    /// The newest picture it completed.
    pub picture: Option<VideoFrame>,
    /// 48 kHz stereo samples.
    pub pcm: Vec<i16>,
}

/// Decoding state of one input.
pub struct InputDecoder {
    name: String,
    video: Option<FfmpegVideoDecoder>,
    audio: Option<(AacDecoder, Option<PcmConverter>)>,
    warned_audio: bool,
    /// Decode errors since the start (a tag dropped before a keyframe, a bad frame).
    pub errors: u64,
}

impl std::fmt::Debug for InputDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputDecoder")
            .field("name", &self.name)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

impl InputDecoder {
    /// A decoder for stream `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            video: None,
            audio: None,
            warned_audio: false,
            errors: 0,
        }
    }

    /// Decodes one tag; `want_audio` is false for a picture-only input.
    pub fn tag(&mut self, tag: &Tag, want_audio: bool) -> Decoded {
        let mut out = Decoded::default();
        match tag.tag_type {
            TagType::Video => self.video_tag(tag, &mut out),
            TagType::Audio if want_audio => self.audio_tag(tag, &mut out),
            _ => {}
        }
        out
    }

    fn video_tag(&mut self, tag: &Tag, out: &mut Decoded) {
        match video_payload(&tag.data) {
            Some(VideoPayload::Config { codec, record }) => {
                match FfmpegVideoDecoder::new(codec, &record) {
                    Ok(d) => self.video = Some(d),
                    Err(e) => {
                        self.errors += 1;
                        self.video = None;
                        tracing::warn!(stream = %self.name, "mix input not decoded: {e}");
                    }
                }
            }
            Some(VideoPayload::Coded {
                codec,
                keyframe,
                composition_time_ms,
                data,
            }) => {
                let Some(dec) = self.video.as_mut().filter(|d| d.fourcc() == codec) else {
                    return;
                };
                let (dts, pts) = tag.decode_times(composition_time_ms);
                match dec.decode(&data, keyframe, dts, pts) {
                    Ok(frames) => out.picture = frames.into_iter().last(),
                    Err(_) => self.errors += 1,
                }
            }
            None => {}
        }
    }

    fn audio_tag(&mut self, tag: &Tag, out: &mut Decoded) {
        match audio_payload(&tag.data) {
            Some(AudioPayload::Config { codec, record }) if codec == FOURCC_AAC => {
                match AudioSpecificConfig::parse(&record)
                    .map_err(|e| onair_codec::CodecError::Decode(e.to_string()))
                    .and_then(AacDecoder::new)
                {
                    Ok(d) => self.audio = Some((d, None)),
                    Err(e) => {
                        self.errors += 1;
                        self.audio = None;
                        tracing::warn!(stream = %self.name, "mix input's sound not decoded: {e}");
                    }
                }
            }
            Some(AudioPayload::Config { codec, .. }) | Some(AudioPayload::Coded { codec, .. })
                if codec != FOURCC_AAC =>
            {
                let first = !std::mem::replace(&mut self.warned_audio, true);
                if first {
                    tracing::warn!(
                        stream = %self.name,
                        codec = %String::from_utf8_lossy(&codec),
                        "mix input's sound is not AAC: it is left out of the mix"
                    );
                }
            }
            Some(AudioPayload::Coded { data, .. }) => {
                let Some((dec, conv)) = self.audio.as_mut() else {
                    return;
                };
                let pts = Timestamp::from_millis(u64::from(tag.timestamp));
                let frame = match dec.decode(&data, pts) {
                    Ok(Some(f)) => f,
                    Ok(None) => return,
                    Err(_) => {
                        self.errors += 1;
                        return;
                    }
                };
                if !conv.as_ref().is_some_and(|c| c.takes(&frame)) {
                    *conv = PcmConverter::new(frame.sample_rate(), frame.channels()).ok();
                }
                if let Some(c) = conv.as_mut() {
                    match c.convert(&frame) {
                        Ok(pcm) => out.pcm = pcm,
                        Err(_) => self.errors += 1,
                    }
                }
            }
            _ => {}
        }
    }
}
