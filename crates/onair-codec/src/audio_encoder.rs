//! The `AudioEncoder` interface, which AAC ([`crate::aac_encoder`]) and Opus
//! ([`crate::opus_encoder`]) implement for the three audio qualities, and what they share:
//! frames of any length in, every output frame stamped exactly with the time of the samples
//! it decodes to (so timestamps never drift whatever the input frame sizes, and a player plays
//! each sample at its capture time).

use crate::audio_config::AudioConfig;
use crate::error::{CodecError, CodecResult};
use bytes::Bytes;
use onair_core::{AudioCodec, AudioFrame, AudioQuality, Timestamp};

/// One encoded audio frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedAudio {
    /// AAC or Opus.
    pub codec: AudioCodec,
    /// Time of the frame's first sample.
    pub pts: Timestamp,
    /// The raw AAC frame (no ADTS header) or Opus packet.
    pub data: Bytes,
    /// The FLV audio tag body whose tail is `data`'s memory (the encoder writes the 2-byte AAC
    /// or 5-byte Enhanced RTMP header in front of the frame), so the frame reaches the wire
    /// without another copy;
    /// `flv_tags::audio_tag` uses it only while `data` is still that memory.
    pub flv_body: Option<Bytes>,
}

/// An audio encoder.
pub trait AudioEncoder: Send {
    /// The decoder configuration for the sequence header.
    fn decoder_config(&self) -> AudioConfig;
    /// Samples per channel in one coded frame.
    fn frame_samples(&self) -> usize;
    /// Adds PCM; returns the frames that became ready.
    fn encode(&mut self, frame: &AudioFrame) -> CodecResult<Vec<EncodedAudio>>;
    /// Pads the last partial frame with silence and drains the encoder.
    fn flush(&mut self) -> CodecResult<Vec<EncodedAudio>>;
}

/// The time of a packet that decodes from input sample `pts` on (negative for an encoder's
/// priming, which decodes to samples before the first input and is stamped that much before
/// `origin`), never before the stream's 0.
pub(crate) fn packet_time(origin: Timestamp, pts: i64, rate: u32) -> Timestamp {
    let offset = Timestamp::from_samples(pts.unsigned_abs(), rate).as_duration();
    if pts >= 0 {
        origin + offset
    } else {
        Timestamp::from(origin.as_duration().saturating_sub(offset))
    }
}

/// Hands each whole block of `block` interleaved samples at the front of `pending` to `f`, in
/// order, and keeps the rest (a partial block) for the next call.
pub(crate) fn for_each_block(
    pending: &mut Vec<i16>,
    block: usize,
    mut f: impl FnMut(&[i16]) -> CodecResult<()>,
) -> CodecResult<()> {
    let mut start = 0;
    let mut result = Ok(());
    while pending.len() - start >= block {
        result = f(&pending[start..start + block]);
        start += block;
        if result.is_err() {
            break;
        }
    }
    pending.drain(..start);
    result
}

/// Refuses a frame whose rate or channel count is not the quality's.
pub(crate) fn check_format(frame: &AudioFrame, quality: AudioQuality) -> CodecResult<()> {
    if frame.sample_rate() != quality.sample_rate() || frame.channels() != quality.channels() {
        return Err(CodecError::InvalidInput(format!(
            "audio {} Hz x {} channels; the {} quality needs {} Hz x {}",
            frame.sample_rate(),
            frame.channels(),
            quality,
            quality.sample_rate(),
            quality.channels()
        )));
    }
    Ok(())
}
