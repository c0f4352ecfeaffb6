//! The `AudioEncoder` interface (AAC or Opus: [`crate::opus_encoder`]) and `AacEncoder`, AAC-LC
//! on FFmpeg's native encoder for the three audio qualities. Accepts s16
//! frames of any length, buffers them into 1024-sample AAC frames, and stamps every output frame
//! exactly with the time of the samples it decodes to: FFmpeg's packet n decodes to input
//! samples `(n - 1) * 1024..n * 1024` (the first is the encoder's priming), so packet n is
//! stamped `first input timestamp + (n - 1) * 1024 / rate`; timestamps never drift whatever the
//! input frame sizes, and a player plays each sample at its capture time.

use crate::audio_config::AudioConfig;
use crate::error::{CodecError, CodecResult};
use crate::ffmpeg_init;
use bytes::{Bytes, BytesMut};
use ffmpeg_next as ff;
use onair_core::{AudioCodec, AudioFrame, AudioQuality, Timestamp};
use onair_flv::{AudioSpecificConfig, AudioTag};

/// Samples per channel in one AAC-LC frame.
pub const AAC_FRAME_SAMPLES: usize = 1024;

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

/// FFmpeg's native AAC encoder.
pub struct AacEncoder {
    encoder: ff::encoder::Audio,
    quality: AudioQuality,
    /// Interleaved s16 waiting to fill a 1024-sample frame.
    pending: Vec<i16>,
    /// Time of sample 0 (the first input frame's timestamp).
    origin: Option<Timestamp>,
    frames_in: u64,
    packet: ff::Packet,
}

impl std::fmt::Debug for AacEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AacEncoder")
            .field("quality", &self.quality)
            .finish_non_exhaustive()
    }
}

/// FFmpeg's layout for 1 or 2 channels.
pub(crate) fn layout(channels: u16) -> ff::ChannelLayout {
    if channels == 2 {
        ff::ChannelLayout::STEREO
    } else {
        ff::ChannelLayout::MONO
    }
}

impl AacEncoder {
    /// An encoder for `quality` (rate, channels and bitrate from the spec).
    pub fn new(quality: AudioQuality) -> CodecResult<Self> {
        ffmpeg_init();
        let codec = ff::encoder::find(ff::codec::Id::AAC)
            .ok_or_else(|| CodecError::Unsupported("this FFmpeg has no AAC encoder".into()))?;
        let mut enc = ff::codec::Context::new_with_codec(codec)
            .encoder()
            .audio()
            .map_err(CodecError::ffmpeg)?;
        enc.set_rate(quality.sample_rate() as i32);
        enc.set_channel_layout(layout(quality.channels()));
        enc.set_format(ff::format::Sample::F32(ff::format::sample::Type::Planar));
        enc.set_bit_rate(quality.bitrate_kbps() as usize * 1000);
        enc.set_time_base((1, quality.sample_rate() as i32));
        let encoder = enc.open_as(codec).map_err(CodecError::ffmpeg)?;
        Ok(Self {
            encoder,
            quality,
            pending: Vec::new(),
            origin: None,
            frames_in: 0,
            packet: ff::Packet::empty(),
        })
    }

    /// The AudioSpecificConfig for the sequence header.
    pub fn config(&self) -> AudioSpecificConfig {
        AudioSpecificConfig::aac_lc(self.quality.sample_rate(), self.quality.channels() as u8)
            .expect("the three qualities have 1 or 2 channels")
    }

    fn send_pending_frame(&mut self, samples: &[i16]) -> CodecResult<()> {
        let ch = self.quality.channels() as usize;
        let mut frame = ff::frame::Audio::new(
            ff::format::Sample::F32(ff::format::sample::Type::Planar),
            AAC_FRAME_SAMPLES,
            layout(self.quality.channels()),
        );
        frame.set_rate(self.quality.sample_rate());
        for c in 0..ch {
            let plane = frame.plane_mut::<f32>(c);
            for (i, out) in plane.iter_mut().enumerate().take(AAC_FRAME_SAMPLES) {
                *out = f32::from(samples.get(i * ch + c).copied().unwrap_or(0)) / 32768.0;
            }
        }
        frame.set_pts(Some((self.frames_in * AAC_FRAME_SAMPLES as u64) as i64));
        self.frames_in += 1;
        self.encoder.send_frame(&frame).map_err(CodecError::ffmpeg)
    }

    fn receive(&mut self, out: &mut Vec<EncodedAudio>) -> CodecResult<()> {
        loop {
            match self.encoder.receive_packet(&mut self.packet) {
                Ok(()) => {
                    let frame = self.packet.data().unwrap_or(&[]);
                    let mut body = BytesMut::with_capacity(2 + frame.len());
                    body.extend_from_slice(&AudioTag::AAC_RAW_HEADER);
                    body.extend_from_slice(frame);
                    let body = body.freeze();
                    let pts = packet_time(
                        self.origin.unwrap_or(Timestamp::ZERO),
                        self.packet.pts().unwrap_or(0),
                        self.quality.sample_rate(),
                    );
                    out.push(EncodedAudio {
                        codec: AudioCodec::Aac,
                        pts,
                        data: body.slice(2..),
                        flv_body: Some(body),
                    });
                }
                Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {
                    return Ok(())
                }
                Err(ff::Error::Eof) => return Ok(()),
                Err(e) => return Err(CodecError::ffmpeg(e)),
            }
        }
    }
}

/// The time of a packet FFmpeg stamped `pts` (in samples from the first input sample, less the
/// encoder's priming: AAC's first packet decodes to 1024 samples of priming before the input,
/// and is stamped that much before `origin`), never before the stream's 0.
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

impl AudioEncoder for AacEncoder {
    fn decoder_config(&self) -> AudioConfig {
        AudioConfig::Aac(self.config())
    }

    fn frame_samples(&self) -> usize {
        AAC_FRAME_SAMPLES
    }

    fn encode(&mut self, frame: &AudioFrame) -> CodecResult<Vec<EncodedAudio>> {
        check_format(frame, self.quality)?;
        if self.origin.is_none() {
            self.origin = Some(frame.timestamp());
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend(frame.samples());
        let block = AAC_FRAME_SAMPLES * self.quality.channels() as usize;
        let mut out = Vec::new();
        let result = for_each_block(&mut pending, block, |chunk| {
            self.send_pending_frame(chunk)?;
            self.receive(&mut out)
        });
        self.pending = pending;
        result.map(|()| out)
    }

    fn flush(&mut self) -> CodecResult<Vec<EncodedAudio>> {
        let mut out = Vec::new();
        if !self.pending.is_empty() {
            let chunk = std::mem::take(&mut self.pending);
            self.send_pending_frame(&chunk)?;
            self.receive(&mut out)?;
        }
        self.encoder.send_eof().map_err(CodecError::ffmpeg)?;
        self.receive(&mut out)?;
        Ok(out)
    }
}
