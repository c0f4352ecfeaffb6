//! `AacEncoder`: AAC-LC on the Fraunhofer FDK encoder (`fdk-aac-sys`, built from its bundled
//! source and linked statically).
//!
//! Why not FFmpeg's native AAC encoder, which onair used before: libavcodec brings ~110 shared
//! libraries into every process that loads it (Debian's build links x265, AV1 encoders, SVG,
//! teletext...), about 19 MiB of resident memory in a pusher that needs none of them once the
//! video encoder is openh264; FDK's encoder is also the better one (it is Android's, and
//! FFmpeg's documentation ranks it first). Its latency is FFmpeg's: a frame leaves the encoder
//! once the next two are in.
//!
//! FDK also writes ER AAC-LD (512-sample frames, 512 samples of delay), which onair does not
//! offer: FLV's audio header can only say 5.5, 11, 22 or 44 kHz, and FFmpeg (5.1 and 9, so
//! ffplay and the players built on it) decodes ER AAC at that nominal rate instead of the
//! AudioSpecificConfig's: 48 kHz AAC-LD plays 9% slow there (a 1 kHz tone measured 918.7 Hz).
//! See `docs/audio.md`.
//!
//! Stamps: FDK reports its delay (`nDelay`: the decoded signal trails the input by that many
//! samples). Output frame `k` decodes to samples `k * L..(k + 1) * L` of the decoded signal,
//! which are input samples `k * L - delay..`: frame `k` is stamped
//! `first input timestamp + (k * L - delay) / rate`, so a player plays each sample at its
//! capture time whatever the input frame sizes (the first frames, priming, are stamped before
//! the origin; see `audio_encoder::packet_time`).

use crate::audio_config::AudioConfig;
use crate::audio_encoder::{check_format, packet_time, AudioEncoder, EncodedAudio};
use crate::error::{CodecError, CodecResult};
use bytes::BytesMut;
use fdk_aac_sys as fdk;
use onair_core::{AudioCodec, AudioFrame, AudioQuality, Timestamp};
use onair_flv::{AudioSpecificConfig, AudioTag};
use std::ffi::{c_int, c_void};

/// The FDK encoder instance, closed on drop.
struct Handle(fdk::HANDLE_AACENCODER);

// SAFETY: an FDK encoder instance has no thread affinity; `AacEncoder` uses it from one thread
// at a time (`&mut self`).
unsafe impl Send for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from aacEncOpen and is closed once.
        unsafe { fdk::aacEncClose(&mut self.0) };
    }
}

/// An AAC encoder for one of the three audio qualities.
pub struct AacEncoder {
    handle: Handle,
    quality: AudioQuality,
    config: AudioSpecificConfig,
    /// Samples per channel in one frame.
    frame_len: usize,
    /// Samples per channel the decoded signal trails the input.
    delay: u64,
    /// Bytes one frame can take at most.
    max_frame_bytes: usize,
    /// Time of input sample 0 (the first frame's timestamp).
    origin: Option<Timestamp>,
    frames_out: u64,
    /// The input frame's samples, reused.
    scratch: Vec<i16>,
    /// Where FDK writes frames: each leaves as a `Bytes` split off its front, so one
    /// allocation serves many frames (and is reclaimed whole once they are all dropped).
    out: BytesMut,
}

/// Frames' room one output allocation holds.
const OUT_FRAMES_PER_ALLOCATION: usize = 32;

impl std::fmt::Debug for AacEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AacEncoder")
            .field("quality", &self.quality)
            .field("delay", &self.delay)
            .finish_non_exhaustive()
    }
}

fn fdk_error(what: &str, code: fdk::AACENC_ERROR) -> CodecError {
    CodecError::Library {
        library: "fdk-aac",
        message: format!("{what}: error 0x{code:x}"),
    }
}

fn check(what: &str, code: fdk::AACENC_ERROR) -> CodecResult<()> {
    if code == fdk::AACENC_ERROR_AACENC_OK {
        Ok(())
    } else {
        Err(fdk_error(what, code))
    }
}

impl AacEncoder {
    /// An AAC-LC encoder for `quality` (rate, channels and bitrate from the spec).
    pub fn new(quality: AudioQuality) -> CodecResult<Self> {
        let channels = quality.channels();
        let mut raw: fdk::HANDLE_AACENCODER = std::ptr::null_mut();
        // SAFETY: aacEncOpen writes a new handle (or leaves null on failure).
        check("open", unsafe {
            fdk::aacEncOpen(&mut raw, 0, u32::from(channels))
        })?;
        let handle = Handle(raw);
        let params = [
            (
                "object type",
                fdk::AACENC_PARAM_AACENC_AOT,
                fdk::AUDIO_OBJECT_TYPE_AOT_AAC_LC as u32,
            ),
            (
                "sample rate",
                fdk::AACENC_PARAM_AACENC_SAMPLERATE,
                quality.sample_rate(),
            ),
            (
                "channel mode",
                fdk::AACENC_PARAM_AACENC_CHANNELMODE,
                u32::from(channels),
            ),
            ("bitrate mode", fdk::AACENC_PARAM_AACENC_BITRATEMODE, 0),
            (
                "bitrate",
                fdk::AACENC_PARAM_AACENC_BITRATE,
                quality.bitrate_kbps() * 1000,
            ),
            // Raw frames: FLV carries the AudioSpecificConfig in its sequence header.
            ("transport", fdk::AACENC_PARAM_AACENC_TRANSMUX, 0),
            // Full quantisation search: what FDK's own tools and FFmpeg's wrapper default to.
            ("afterburner", fdk::AACENC_PARAM_AACENC_AFTERBURNER, 1),
        ];
        for (what, param, value) in params {
            // SAFETY: a live handle; FDK validates the value.
            check(what, unsafe {
                fdk::aacEncoder_SetParam(handle.0, param, value)
            })?;
        }
        // SAFETY: all-null buffers ask FDK to initialise with the parameters set above.
        check("initialise", unsafe {
            fdk::aacEncEncode(
                handle.0,
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null_mut(),
            )
        })?;
        // SAFETY: all-zero is a valid InfoStruct (integers and a byte array).
        let mut info: fdk::AACENC_InfoStruct = unsafe { std::mem::zeroed() };
        // SAFETY: a live, initialised handle; `info` is writable.
        check("info", unsafe { fdk::aacEncInfo(handle.0, &mut info) })?;
        let conf = &info.confBuf[..(info.confSize as usize).min(info.confBuf.len())];
        let config = AudioSpecificConfig::parse(conf)
            .map_err(|e| CodecError::InvalidInput(format!("FDK's AudioSpecificConfig: {e}")))?;
        Ok(Self {
            handle,
            quality,
            config,
            frame_len: info.frameLength as usize,
            delay: u64::from(info.nDelay),
            max_frame_bytes: info.maxOutBufBytes as usize,
            origin: None,
            frames_out: 0,
            scratch: Vec::new(),
            out: BytesMut::new(),
        })
    }

    /// The AudioSpecificConfig for the sequence header.
    pub fn config(&self) -> AudioSpecificConfig {
        self.config.clone()
    }

    /// Samples per channel the decoded signal trails the input (FDK's `nDelay`).
    pub fn delay_samples(&self) -> u64 {
        self.delay
    }

    /// One call of aacEncEncode on `input` (interleaved; `None` flushes): the samples it took
    /// and the frame it wrote, if any.
    fn encode_call(&mut self, input: Option<&[i16]>) -> CodecResult<(usize, Option<EncodedAudio>)> {
        let header = AudioTag::AAC_RAW_HEADER;
        let need = header.len() + self.max_frame_bytes;
        if self.out.capacity() < need {
            self.out.reserve(need * OUT_FRAMES_PER_ALLOCATION);
        }
        let body = &mut self.out;
        body.clear();
        body.extend_from_slice(&header);
        let samples = input.unwrap_or(&[]);
        let mut in_ptr = samples.as_ptr() as *mut c_void;
        let mut in_id = fdk::AACENC_BufferIdentifier_IN_AUDIO_DATA as c_int;
        let mut in_size = std::mem::size_of_val(samples) as c_int;
        let mut in_el = std::mem::size_of::<i16>() as c_int;
        let in_desc = fdk::AACENC_BufDesc {
            numBufs: 1,
            bufs: &mut in_ptr,
            bufferIdentifiers: &mut in_id,
            bufSizes: &mut in_size,
            bufElSizes: &mut in_el,
        };
        let spare = body.spare_capacity_mut();
        let mut out_ptr = spare.as_mut_ptr() as *mut c_void;
        let mut out_id = fdk::AACENC_BufferIdentifier_OUT_BITSTREAM_DATA as c_int;
        let mut out_size = spare.len() as c_int;
        let mut out_el = 1 as c_int;
        let out_desc = fdk::AACENC_BufDesc {
            numBufs: 1,
            bufs: &mut out_ptr,
            bufferIdentifiers: &mut out_id,
            bufSizes: &mut out_size,
            bufElSizes: &mut out_el,
        };
        let in_args = fdk::AACENC_InArgs {
            numInSamples: input.map_or(-1, |s| s.len() as c_int),
            numAncBytes: 0,
        };
        // SAFETY: all-zero is a valid OutArgs (integers).
        let mut out_args: fdk::AACENC_OutArgs = unsafe { std::mem::zeroed() };
        // SAFETY: the descriptors point at `samples` (read-only for FDK despite the pointer
        // type) and at `body`'s spare capacity, with their sizes in bytes; both outlive the call.
        let code = unsafe {
            fdk::aacEncEncode(self.handle.0, &in_desc, &out_desc, &in_args, &mut out_args)
        };
        if code == fdk::AACENC_ERROR_AACENC_ENCODE_EOF {
            return Ok((0, None));
        }
        check("encode", code)?;
        let written = (out_args.numOutBytes.max(0) as usize).min(self.max_frame_bytes);
        let consumed = (out_args.numInSamples.max(0) as usize).min(samples.len());
        if written == 0 {
            return Ok((consumed, None));
        }
        // SAFETY: FDK wrote `written` bytes (at most the spare capacity it was given).
        unsafe { body.set_len(header.len() + written) };
        let body = body.split().freeze();
        let decoded_from = (self.frames_out * self.frame_len as u64) as i64 - self.delay as i64;
        self.frames_out += 1;
        let pts = packet_time(
            self.origin.unwrap_or(Timestamp::ZERO),
            decoded_from,
            self.quality.sample_rate(),
        );
        Ok((
            consumed,
            Some(EncodedAudio {
                codec: AudioCodec::Aac,
                pts,
                data: body.slice(header.len()..),
                flv_body: Some(body),
            }),
        ))
    }
}

impl AudioEncoder for AacEncoder {
    fn decoder_config(&self) -> AudioConfig {
        AudioConfig::Aac(self.config())
    }

    fn frame_samples(&self) -> usize {
        self.frame_len
    }

    fn encode(&mut self, frame: &AudioFrame) -> CodecResult<Vec<EncodedAudio>> {
        check_format(frame, self.quality)?;
        if self.origin.is_none() {
            self.origin = Some(frame.timestamp());
        }
        let mut samples = std::mem::take(&mut self.scratch);
        samples.clear();
        samples.extend(frame.samples());
        let mut rest = &samples[..];
        let mut out = Vec::new();
        let mut result = Ok(());
        while !rest.is_empty() {
            match self.encode_call(Some(rest)) {
                Ok((0, None)) => {
                    result = Err(fdk_error("the encoder took no input and gave no output", 0));
                    break;
                }
                Ok((consumed, frame)) => {
                    out.extend(frame);
                    rest = &rest[consumed..];
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.scratch = samples;
        result.map(|()| out)
    }

    fn flush(&mut self) -> CodecResult<Vec<EncodedAudio>> {
        let mut out = Vec::new();
        // The delay line holds at most a few frames; the bound guards against an encoder
        // that never reports its end.
        for _ in 0..64 {
            match self.encode_call(None)? {
                (_, Some(frame)) => out.push(frame),
                (_, None) => break,
            }
        }
        Ok(out)
    }
}
