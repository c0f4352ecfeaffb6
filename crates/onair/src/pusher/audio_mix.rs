//! Mixing the system audio loopback with the microphone (or the built-in tone) into the one
//! audio track: each source queues its 20 ms frames, the audio source thread takes one block
//! of each every 20 ms, scales the loopback by its volume (0..=150) and sums them through a
//! soft limiter, so loud sources together bend smoothly below full scale instead of clipping.

use std::collections::VecDeque;

/// Level (of full scale) up to which the limiter passes samples unchanged.
const KNEE: f32 = 0.75;

/// Queued samples of one source, capped so a source faster than the clock cannot add delay.
#[derive(Debug, Default)]
pub(crate) struct SourceQueue {
    samples: VecDeque<i16>,
    /// Samples dropped at the cap.
    pub(crate) dropped: u64,
}

impl SourceQueue {
    /// Adds samples, keeping at most `cap` (the newest).
    pub(crate) fn push(&mut self, samples: &[i16], cap: usize) {
        self.samples.extend(samples);
        if self.samples.len() > cap {
            let extra = self.samples.len() - cap;
            self.samples.drain(..extra);
            self.dropped += extra as u64;
        }
    }

    /// Takes `n` samples, silence where the queue runs short.
    pub(crate) fn take(&mut self, n: usize) -> Vec<i16> {
        let have = self.samples.len().min(n);
        let mut out: Vec<i16> = self.samples.drain(..have).collect();
        out.resize(n, 0);
        out
    }

    /// Forgets what is queued.
    pub(crate) fn clear(&mut self) {
        self.samples.clear();
    }
}

/// One sample through the soft limiter: unchanged up to [`KNEE`] of full scale, then bent
/// smoothly (exponential approach) so that no sum ever reaches past full scale.
pub(crate) fn soft_limit(x: f32) -> i16 {
    let full = 32767.0f32;
    let knee = KNEE * full;
    let a = x.abs();
    let y = if a <= knee {
        a
    } else {
        let room = full - knee;
        knee + room * (1.0 - (-(a - knee) / room).exp())
    };
    (y.min(full) * x.signum()).round() as i16
}

/// `loopback * volume / 100 + other`, limited.
pub(crate) fn mix(loopback: &[i16], volume: u32, other: &[i16]) -> Vec<i16> {
    let gain = volume.min(150) as f32 / 100.0;
    loopback
        .iter()
        .zip(other)
        .map(|(&l, &o)| soft_limit(f32::from(l) * gain + f32::from(o)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_passes_quiet_samples_and_never_clips() {
        for x in [-20000i16, -1, 0, 1, 24000] {
            assert_eq!(soft_limit(f32::from(x)), x);
        }
        let mut last = soft_limit(24575.0);
        for x in (24576..200_000).step_by(97) {
            let y = soft_limit(x as f32);
            assert!(y >= last, "monotonic at {x}");
            last = y;
        }
        // Two full-scale sources together stay below full scale; nothing goes past it.
        assert!(soft_limit(2.0 * 32767.0) < i16::MAX);
        assert_eq!(soft_limit(1e9), i16::MAX);
        assert_eq!(soft_limit(-1e9), -32767);
    }

    #[test]
    fn volume_scales_the_loopback_only() {
        let lb = [1000i16, -1000, 2000];
        let mic = [10i16, 10, 10];
        assert_eq!(mix(&lb, 100, &mic), vec![1010, -990, 2010]);
        assert_eq!(mix(&lb, 0, &mic), vec![10, 10, 10]);
        assert_eq!(mix(&lb, 150, &mic), vec![1510, -1490, 3010]);
        // Two loud sources bend below full scale.
        let loud = [30000i16; 4];
        assert!(mix(&loud, 100, &loud)
            .iter()
            .all(|&s| s > 30000 && s < i16::MAX));
    }

    #[test]
    fn queues_cap_keep_the_newest_and_pad_with_silence() {
        let mut q = SourceQueue::default();
        q.push(&[1, 2, 3, 4, 5], 3);
        assert_eq!(q.dropped, 2);
        assert_eq!(q.take(5), vec![3, 4, 5, 0, 0]);
        assert_eq!(q.take(2), vec![0, 0]);
    }
}
