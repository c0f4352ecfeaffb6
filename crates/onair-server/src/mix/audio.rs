//! The mix's sound: each input's decoded PCM converted to 48 kHz stereo (FFmpeg's swresample),
//! queued per input, and summed into the output block by block.
//!
//! Each input queue is kept about [`TARGET_DEPTH_MS`] deep: the output takes its first block
//! that long after the mix starts, so sound and picture that arrived together leave together;
//! a queue past [`MAX_DEPTH_MS`] (the start burst of a stream's cached GOP, or clock drift
//! between a publisher and this server) is trimmed back to the target by dropping its oldest
//! samples, and a queue that runs dry gives silence. The sum saturates at the i16 range.

use ffmpeg_next as ff;
use onair_codec::{CodecError, CodecResult};
use onair_core::AudioFrame;
use std::collections::{HashMap, VecDeque};

/// Output sample rate.
pub const RATE: u32 = 48_000;
/// Output channels.
pub const CHANNELS: usize = 2;
/// How deep each input queue is kept, ms.
pub const TARGET_DEPTH_MS: u64 = 100;
/// Past this depth a queue is trimmed back to [`TARGET_DEPTH_MS`].
pub const MAX_DEPTH_MS: u64 = 300;

fn samples_of_ms(ms: u64) -> usize {
    (ms * u64::from(RATE) / 1000) as usize * CHANNELS
}

/// Converts decoded PCM of any rate and channel count to 48 kHz stereo s16.
pub struct PcmConverter {
    ctx: ff::software::resampling::Context,
    rate: u32,
    channels: u16,
}

impl std::fmt::Debug for PcmConverter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcmConverter")
            .field("rate", &self.rate)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

fn s16() -> ff::format::Sample {
    ff::format::Sample::I16(ff::format::sample::Type::Packed)
}

impl PcmConverter {
    /// A converter from `rate` Hz x `channels`.
    pub fn new(rate: u32, channels: u16) -> CodecResult<Self> {
        onair_codec::ffmpeg_init()?;
        let ctx = ff::software::resampling::Context::get(
            s16(),
            ff::ChannelLayout::default(i32::from(channels)),
            rate,
            s16(),
            ff::ChannelLayout::STEREO,
            RATE,
        )
        .map_err(CodecError::ffmpeg)?;
        Ok(Self {
            ctx,
            rate,
            channels,
        })
    }

    /// Whether this converter takes `frame`'s format.
    pub fn takes(&self, frame: &AudioFrame) -> bool {
        frame.sample_rate() == self.rate && frame.channels() == self.channels
    }

    /// Converts one frame; returns interleaved stereo samples.
    pub fn convert(&mut self, frame: &AudioFrame) -> CodecResult<Vec<i16>> {
        let n = frame.samples_per_channel();
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut input = ff::frame::Audio::new(
            s16(),
            n,
            ff::ChannelLayout::default(i32::from(self.channels)),
        );
        input.set_rate(self.rate);
        let bytes = frame.data();
        let len = bytes.len().min(input.data(0).len());
        input.data_mut(0)[..len].copy_from_slice(&bytes[..len]);
        let room = n * RATE as usize / self.rate.max(1) as usize + 256;
        let mut output = ff::frame::Audio::new(s16(), room, ff::ChannelLayout::STEREO);
        output.set_rate(RATE);
        self.ctx
            .run(&input, &mut output)
            .map_err(CodecError::ffmpeg)?;
        let got = output.samples() * CHANNELS * 2;
        Ok(output.data(0)[..got.min(output.data(0).len())]
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect())
    }
}

/// Per-input queues and the summing of them.
#[derive(Debug, Default)]
pub struct AudioMix {
    queues: HashMap<String, VecDeque<i16>>,
    /// Samples dropped to keep queues near the target depth.
    pub trimmed: u64,
    /// Samples of silence given for queues that ran dry.
    pub underrun: u64,
}

impl AudioMix {
    /// Adds `samples` (48 kHz stereo) of `input`.
    pub fn push(&mut self, input: &str, samples: &[i16]) {
        let q = self.queues.entry(input.to_string()).or_default();
        q.extend(samples);
        if q.len() > samples_of_ms(MAX_DEPTH_MS) {
            let drop = q.len() - samples_of_ms(TARGET_DEPTH_MS);
            q.drain(..drop);
            self.trimmed += drop as u64;
        }
    }

    /// Forgets an input (it left the mix).
    pub fn remove(&mut self, input: &str) {
        self.queues.remove(input);
    }

    /// Takes `frames` stereo sample frames from every queue and sums them.
    pub fn take(&mut self, frames: usize) -> Vec<i16> {
        let n = frames * CHANNELS;
        let mut sum = vec![0i32; n];
        for q in self.queues.values_mut() {
            let have = q.len().min(n);
            for (s, v) in sum.iter_mut().zip(q.drain(..have)) {
                *s += i32::from(v);
            }
            self.underrun += (n - have) as u64;
        }
        sum.into_iter()
            .map(|s| s.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_summed_with_saturation() {
        let mut m = AudioMix::default();
        m.push("a", &[1000, -1000, 30000, -30000]);
        m.push("b", &[24, 24, 10000, -10000]);
        assert_eq!(m.take(2), vec![1024, -976, 32767, -32768]);
    }

    #[test]
    fn a_dry_queue_gives_silence_and_is_counted() {
        let mut m = AudioMix::default();
        m.push("a", &[5, 5]);
        assert_eq!(m.take(2), vec![5, 5, 0, 0]);
        assert_eq!(m.underrun, 2);
    }

    #[test]
    fn a_deep_queue_is_trimmed_to_the_target_keeping_the_newest() {
        let mut m = AudioMix::default();
        let burst: Vec<i16> = (0..samples_of_ms(MAX_DEPTH_MS) as i32 + 2)
            .map(|i| (i % 30000) as i16)
            .collect();
        m.push("a", &burst);
        let left = samples_of_ms(TARGET_DEPTH_MS);
        assert_eq!(m.queues["a"].len(), left);
        assert_eq!(m.queues["a"].back(), burst.last());
        assert_eq!(m.trimmed as usize, burst.len() - left);
    }

    #[test]
    fn mono_44k1_becomes_48k_stereo() {
        let mut c = PcmConverter::new(44_100, 1).unwrap();
        let tone: Vec<i16> = (0..4410)
            .map(|i| ((i as f64 * 0.05).sin() * 10000.0) as i16)
            .collect();
        let f = AudioFrame::from_samples(&tone, 44_100, 1).unwrap();
        assert!(c.takes(&f));
        let mut out = c.convert(&f).unwrap();
        out.extend(c.convert(&f).unwrap());
        // 2 x 100 ms in; swresample holds back a few samples of filter delay.
        let frames = out.len() / 2;
        assert!((9400..=9600).contains(&frames), "{frames} frames");
        let (l, r): (Vec<i16>, Vec<i16>) = out.chunks(2).map(|p| (p[0], p[1])).unzip();
        assert_eq!(l, r, "mono goes to both channels");
        assert!(l.iter().any(|&s| s > 5000));
    }
}
