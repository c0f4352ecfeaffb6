//! `OpusEncoder`: Opus on libopus through FFmpeg, in its low-delay mode (CELT only, 2.5 ms of
//! look-ahead), with 10 or 20 ms frames, for the three audio qualities (16 kHz speech, 48 kHz
//! mono and stereo). Accepts s16 frames of any length, cuts them into codec frames and stamps
//! every packet with the time of the first sample it decodes to: the encoder's priming
//! (OpusHead pre-skip) is taken off, so a player that discards it, as every Opus decoder does,
//! plays each sample at its capture time.

use crate::audio_config::AudioConfig;
use crate::audio_encoder::{for_each_block, AudioEncoder, EncodedAudio};
use crate::error::{CodecError, CodecResult};
use crate::ffmpeg_init;
use bytes::BytesMut;
use ffmpeg_next as ff;
use onair_core::{AudioCodec, AudioFrame, AudioQuality, Timestamp, OPUS_FRAME_MS};
use onair_flv::opus::OPUS_CODED_HEADER;
use onair_flv::OpusHead;

/// libopus through FFmpeg.
pub struct OpusEncoder {
    encoder: ff::encoder::Audio,
    quality: AudioQuality,
    head: OpusHead,
    /// Samples per channel in one frame.
    frame_samples: usize,
    /// Interleaved s16 waiting to fill a frame.
    pending: Vec<i16>,
    /// Time of sample 0 (the first input frame's timestamp).
    origin: Option<Timestamp>,
    samples_in: u64,
    packet: ff::Packet,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder")
            .field("quality", &self.quality)
            .field("frame_samples", &self.frame_samples)
            .finish_non_exhaustive()
    }
}

const FORMAT: ff::format::Sample = ff::format::Sample::I16(ff::format::sample::Type::Packed);

/// FFmpeg's layout for 1 or 2 channels.
fn layout(channels: u16) -> ff::ChannelLayout {
    if channels == 2 {
        ff::ChannelLayout::STEREO
    } else {
        ff::ChannelLayout::MONO
    }
}

impl OpusEncoder {
    /// An encoder for `quality` (its rate, channels and bitrate) with `frame_ms` frames (10
    /// or 20).
    pub fn new(quality: AudioQuality, frame_ms: u32) -> CodecResult<Self> {
        if !OPUS_FRAME_MS.contains(&frame_ms) {
            return Err(CodecError::InvalidInput(format!(
                "Opus frames of {frame_ms} ms; 10 or 20 are offered"
            )));
        }
        ffmpeg_init()?;
        let codec = ff::encoder::find_by_name("libopus").ok_or_else(|| {
            CodecError::Unsupported(
                "this FFmpeg has no libopus encoder (Debian: libavcodec59 is built with it)".into(),
            )
        })?;
        let rate = quality.sample_rate();
        let mut enc = ff::codec::Context::new_with_codec(codec)
            .encoder()
            .audio()
            .map_err(CodecError::ffmpeg)?;
        enc.set_rate(rate as i32);
        enc.set_channel_layout(layout(quality.channels()));
        enc.set_format(FORMAT);
        enc.set_bit_rate(quality.bitrate_kbps() as usize * 1000);
        enc.set_time_base((1, rate as i32));
        let mut options = ff::Dictionary::new();
        options.set("application", "lowdelay");
        options.set("frame_duration", &frame_ms.to_string());
        let encoder = enc
            .open_as_with(codec, options)
            .map_err(CodecError::ffmpeg)?;
        // SAFETY: the context is open and owned by `encoder`; libopusenc fills `extradata`
        // (the OpusHead) at open and never changes it afterwards.
        let extradata = unsafe {
            let ctx = encoder.as_ptr();
            if (*ctx).extradata.is_null() || (*ctx).extradata_size <= 0 {
                &[][..]
            } else {
                std::slice::from_raw_parts((*ctx).extradata, (*ctx).extradata_size as usize)
            }
        };
        let head = OpusHead::parse(extradata).map_err(|e| {
            CodecError::Unsupported(format!("libopus gave no usable OpusHead: {e}"))
        })?;
        Ok(Self {
            frame_samples: (rate * frame_ms / 1000) as usize,
            encoder,
            quality,
            head,
            pending: Vec::new(),
            origin: None,
            samples_in: 0,
            packet: ff::Packet::empty(),
        })
    }

    /// The identification header (pre-skip: the encoder's priming at 48 kHz).
    pub fn head(&self) -> OpusHead {
        self.head
    }

    fn send(&mut self, samples: &[i16]) -> CodecResult<()> {
        let ch = self.quality.channels() as usize;
        let mut frame =
            ff::frame::Audio::new(FORMAT, self.frame_samples, layout(self.quality.channels()));
        frame.set_rate(self.quality.sample_rate());
        let bytes = frame.data_mut(0);
        for (i, out) in bytes
            .chunks_exact_mut(2)
            .take(self.frame_samples * ch)
            .enumerate()
        {
            out.copy_from_slice(&samples.get(i).copied().unwrap_or(0).to_le_bytes());
        }
        frame.set_pts(Some(self.samples_in as i64));
        self.samples_in += self.frame_samples as u64;
        self.encoder.send_frame(&frame).map_err(CodecError::ffmpeg)
    }

    fn receive(&mut self, out: &mut Vec<EncodedAudio>) -> CodecResult<()> {
        loop {
            match self.encoder.receive_packet(&mut self.packet) {
                Ok(()) => {
                    let data = self.packet.data().unwrap_or(&[]);
                    let mut body = BytesMut::with_capacity(OPUS_CODED_HEADER.len() + data.len());
                    body.extend_from_slice(&OPUS_CODED_HEADER);
                    body.extend_from_slice(data);
                    let body = body.freeze();
                    // FFmpeg stamps the packet with its first input sample less the priming;
                    // the first packet's decodable part starts at sample 0.
                    let first = self.packet.pts().unwrap_or(0).max(0);
                    let origin = self.origin.unwrap_or(Timestamp::ZERO);
                    out.push(EncodedAudio {
                        codec: AudioCodec::Opus,
                        pts: crate::audio_encoder::packet_time(
                            origin,
                            first,
                            self.quality.sample_rate(),
                        ),
                        data: body.slice(OPUS_CODED_HEADER.len()..),
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

impl AudioEncoder for OpusEncoder {
    fn decoder_config(&self) -> AudioConfig {
        AudioConfig::Opus(self.head)
    }

    fn frame_samples(&self) -> usize {
        self.frame_samples
    }

    fn encode(&mut self, frame: &AudioFrame) -> CodecResult<Vec<EncodedAudio>> {
        crate::audio_encoder::check_format(frame, self.quality)?;
        if self.origin.is_none() {
            self.origin = Some(frame.timestamp());
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend(frame.samples());
        let block = self.frame_samples * self.quality.channels() as usize;
        let mut out = Vec::new();
        let result = for_each_block(&mut pending, block, |chunk| {
            self.send(chunk)?;
            self.receive(&mut out)
        });
        self.pending = pending;
        result.map(|()| out)
    }

    fn flush(&mut self) -> CodecResult<Vec<EncodedAudio>> {
        let mut out = Vec::new();
        if !self.pending.is_empty() {
            let chunk = std::mem::take(&mut self.pending);
            self.send(&chunk)?;
            self.receive(&mut out)?;
        }
        self.encoder.send_eof().map_err(CodecError::ffmpeg)?;
        self.receive(&mut out)?;
        Ok(out)
    }
}
