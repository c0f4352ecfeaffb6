//! `AudioDecoder`: AAC and Opus to interleaved s16 on FFmpeg. Each decoder is opened with the
//! stream's own configuration as extradata and fed the raw frames as FLV carries them: AAC gets
//! the AudioSpecificConfig, so every AAC FFmpeg decodes plays (LC, HE-AAC v1/v2 signalled
//! explicitly, ER AAC-LD/ELD, which an ADTS header cannot describe); Opus gets the OpusHead, so
//! FFmpeg discards the encoder's priming (pre-skip). [`open_audio_decoder`] picks the decoder
//! for a configuration. [`adts_header`] remains for writers of `.aac` files.

use crate::audio_config::AudioConfig;
use crate::error::{CodecError, CodecResult};
use crate::ffmpeg_init;
use ffmpeg_next as ff;
use onair_core::{AudioFrame, Timestamp};
use onair_flv::asc::SAMPLE_RATES;
use onair_flv::{AudioSpecificConfig, OpusHead};

/// An audio decoder.
pub trait AudioDecoder: Send + std::fmt::Debug {
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
        let decoder = open_with_extradata(ff::codec::Id::AAC, &config.raw, config.sample_rate)?;
        Ok(Self {
            decoder,
            config,
            frame: ff::frame::Audio::empty(),
        })
    }
}

/// FFmpeg's decoder for `id`, opened with `extradata` (the stream's configuration) and
/// `sample_rate`; the channel count comes from the configuration.
fn open_with_extradata(
    id: ff::codec::Id,
    extradata: &[u8],
    sample_rate: u32,
) -> CodecResult<ff::decoder::Audio> {
    ffmpeg_init()?;
    let codec = ff::decoder::find(id)
        .ok_or_else(|| CodecError::Unsupported(format!("this FFmpeg has no {id:?} decoder")))?;
    let mut ctx = ff::codec::Context::new_with_codec(codec);
    // SAFETY: the context is not open yet and owns nothing in these fields; the buffer comes
    // from av_mallocz with the padding FFmpeg requires and is freed with the context.
    unsafe {
        let raw = ctx.as_mut_ptr();
        let pad = ff::ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
        let p = ff::ffi::av_mallocz(extradata.len() + pad).cast::<u8>();
        if p.is_null() {
            return Err(CodecError::Decode(format!(
                "out of memory for the {id:?} configuration"
            )));
        }
        std::ptr::copy_nonoverlapping(extradata.as_ptr(), p, extradata.len());
        (*raw).extradata = p;
        (*raw).extradata_size = extradata.len() as i32;
        (*raw).sample_rate = sample_rate as i32;
    }
    ctx.decoder()
        .audio()
        .map_err(|e| CodecError::Decode(format!("{id:?} decoder refused the configuration: {e}")))
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
        Sample::F32(Type::Packed) => {
            let data = frame.data(0);
            for (o, b) in out.iter_mut().zip(data.chunks_exact(4)) {
                *o = conv(f32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
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

/// The decoder for `config`.
pub fn open_audio_decoder(config: &AudioConfig) -> CodecResult<Box<dyn AudioDecoder>> {
    Ok(match config {
        AudioConfig::Aac(c) => Box::new(AacDecoder::new(c.clone())?),
        AudioConfig::Opus(h) => Box::new(OpusDecoder::new(*h)?),
    })
}

/// Sends one packet and takes the frame it decodes to, if any.
fn decode_packet(
    decoder: &mut ff::decoder::Audio,
    frame: &mut ff::frame::Audio,
    packet: &ff::Packet,
    pts: Timestamp,
) -> CodecResult<Option<AudioFrame>> {
    decoder
        .send_packet(packet)
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    match decoder.receive_frame(frame) {
        Ok(()) => {
            let samples = to_s16(frame)?;
            if samples.is_empty() {
                return Ok(None);
            }
            Ok(Some(
                AudioFrame::from_samples(&samples, frame.rate(), frame.channels())?
                    .with_timestamp(pts),
            ))
        }
        Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => Ok(None),
        Err(e) => Err(CodecError::Decode(e.to_string())),
    }
}

/// FFmpeg's Opus decoder (48 kHz output, mono or stereo).
pub struct OpusDecoder {
    decoder: ff::decoder::Audio,
    head: OpusHead,
    frame: ff::frame::Audio,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder")
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

impl OpusDecoder {
    /// A decoder for streams described by `head`.
    pub fn new(head: OpusHead) -> CodecResult<Self> {
        let decoder = open_with_extradata(ff::codec::Id::OPUS, &head.encode(), 48_000)?;
        Ok(Self {
            decoder,
            head,
            frame: ff::frame::Audio::empty(),
        })
    }
}

impl AudioDecoder for OpusDecoder {
    fn decode(&mut self, data: &[u8], pts: Timestamp) -> CodecResult<Option<AudioFrame>> {
        if onair_flv::opus::packet_samples(data).is_none() {
            return Err(CodecError::Decode(format!(
                "malformed Opus packet of {} bytes",
                data.len()
            )));
        }
        let packet = ff::Packet::copy(data);
        decode_packet(&mut self.decoder, &mut self.frame, &packet, pts)
    }
}

impl AudioDecoder for AacDecoder {
    fn decode(&mut self, data: &[u8], pts: Timestamp) -> CodecResult<Option<AudioFrame>> {
        if data.is_empty() {
            return Err(CodecError::Decode("empty AAC frame".into()));
        }
        let packet = ff::Packet::copy(data);
        decode_packet(&mut self.decoder, &mut self.frame, &packet, pts)
    }
}
