//! `AudioDecoder`: AAC to interleaved s16 on FFmpeg. Raw FLV AAC frames are wrapped in ADTS
//! headers built from the AudioSpecificConfig, so the decoder needs no extradata.

use crate::error::{CodecError, CodecResult};
use crate::ffmpeg_init;
use ffmpeg_next as ff;
use onair_core::{AudioFrame, Timestamp};
use onair_flv::asc::SAMPLE_RATES;
use onair_flv::AudioSpecificConfig;

/// An audio decoder.
pub trait AudioDecoder: Send {
    /// Decodes one raw frame stamped `pts`; `None` while the decoder is priming.
    fn decode(&mut self, data: &[u8], pts: Timestamp) -> CodecResult<Option<AudioFrame>>;
}

/// FFmpeg's AAC decoder.
pub struct AacDecoder {
    decoder: ff::decoder::Audio,
    config: AudioSpecificConfig,
    frame: ff::frame::Audio,
}

impl std::fmt::Debug for AacDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AacDecoder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The 7-byte ADTS header for a raw frame of `len` bytes.
pub fn adts_header(config: &AudioSpecificConfig, len: usize) -> CodecResult<[u8; 7]> {
    let index = SAMPLE_RATES
        .iter()
        .position(|&r| r == config.sample_rate)
        .ok_or_else(|| {
            CodecError::Unsupported(format!("ADTS cannot carry {} Hz", config.sample_rate))
        })? as u8;
    if !(1..=4).contains(&config.object_type) || config.channels > 7 {
        return Err(CodecError::Unsupported(format!(
            "ADTS cannot carry object type {} with {} channels",
            config.object_type, config.channels
        )));
    }
    let full = len + 7;
    if full > 0x1fff {
        return Err(CodecError::Decode(format!(
            "AAC frame of {len} bytes is too large"
        )));
    }
    let profile = config.object_type - 1;
    Ok([
        0xff,
        0xf1,
        (profile << 6) | (index << 2) | (config.channels >> 2),
        ((config.channels & 3) << 6) | ((full >> 11) as u8 & 0x03),
        (full >> 3) as u8,
        (((full & 7) as u8) << 5) | 0x1f,
        0xfc,
    ])
}

impl AacDecoder {
    /// A decoder for streams described by `config`.
    pub fn new(config: AudioSpecificConfig) -> CodecResult<Self> {
        ffmpeg_init();
        adts_header(&config, 0)?;
        let codec = ff::decoder::find(ff::codec::Id::AAC)
            .ok_or_else(|| CodecError::Unsupported("this FFmpeg has no AAC decoder".into()))?;
        let decoder = ff::codec::Context::new_with_codec(codec)
            .decoder()
            .audio()
            .map_err(CodecError::ffmpeg)?;
        Ok(Self {
            decoder,
            config,
            frame: ff::frame::Audio::empty(),
        })
    }
}

fn to_s16(frame: &ff::frame::Audio) -> CodecResult<Vec<i16>> {
    use ff::format::sample::Type;
    use ff::format::Sample;
    let n = frame.samples();
    let ch = frame.channels() as usize;
    let mut out = vec![0i16; n * ch];
    let conv = |x: f32| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
    match frame.format() {
        Sample::F32(Type::Planar) => {
            for c in 0..ch {
                for (i, s) in frame.plane::<f32>(c).iter().take(n).enumerate() {
                    out[i * ch + c] = conv(*s);
                }
            }
        }
        Sample::I16(Type::Packed) => out.copy_from_slice(&frame.plane::<i16>(0)[..n * ch]),
        other => {
            return Err(CodecError::Unsupported(format!(
                "decoded sample format {other:?}"
            )))
        }
    }
    Ok(out)
}

impl AudioDecoder for AacDecoder {
    fn decode(&mut self, data: &[u8], pts: Timestamp) -> CodecResult<Option<AudioFrame>> {
        let header = adts_header(&self.config, data.len())?;
        let mut buf = Vec::with_capacity(data.len() + 7);
        buf.extend_from_slice(&header);
        buf.extend_from_slice(data);
        let packet = ff::Packet::copy(&buf);
        self.decoder
            .send_packet(&packet)
            .map_err(|e| CodecError::Decode(e.to_string()))?;
        match self.decoder.receive_frame(&mut self.frame) {
            Ok(()) => {
                let samples = to_s16(&self.frame)?;
                let ch = self.frame.channels();
                if samples.is_empty() {
                    return Ok(None);
                }
                Ok(Some(
                    AudioFrame::from_samples(&samples, self.frame.rate(), ch)?.with_timestamp(pts),
                ))
            }
            Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => Ok(None),
            Err(e) => Err(CodecError::Decode(e.to_string())),
        }
    }
}
