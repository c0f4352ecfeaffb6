//! Audio playout on the default output device through cpal. The media thread writes 20 ms
//! frames into a lock-free SPSC ring at the moment they are due; the device's real-time
//! callback reads it (silence on underrun) and never blocks or allocates. The device is opened
//! at the stream's sample rate (mono streams are duplicated onto stereo devices); when there is
//! no device or no matching configuration the player logs one warning and plays on silently.

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use onair_core::channel::{audio_ring, AudioRingProducer, ReadOutcome};

/// `false` when Linux has neither a sound card nor a sound server, so that opening ALSA's
/// default device (which would print ALSA's own errors to stderr) is skipped.
fn output_likely() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let cards = std::fs::read_to_string("/proc/asound/cards").unwrap_or_default();
    if !cards.trim().is_empty() && !cards.contains("no soundcards") {
        return true;
    }
    if std::env::var_os("PULSE_SERVER").is_some() {
        return true;
    }
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(std::path::PathBuf::from);
    let sockets = [
        runtime.as_ref().map(|r| r.join("pulse/native")),
        runtime.as_ref().map(|r| r.join("pipewire-0")),
        Some(std::path::PathBuf::from("/run/pulse/native")),
        Some(std::path::PathBuf::from("/var/run/pulse/native")),
    ];
    sockets.into_iter().flatten().any(|p| p.exists())
}

/// An open output stream.
pub(crate) struct AudioOut {
    _stream: cpal::Stream,
    ring: AudioRingProducer,
    rate: u32,
    channels: u16,
    device_channels: u16,
}

impl std::fmt::Debug for AudioOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioOut")
            .field("rate", &self.rate)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl AudioOut {
    /// Opens the default output for `rate` Hz and `channels` channels.
    pub(crate) fn open(rate: u32, channels: u16) -> Result<Self, String> {
        if !output_likely() {
            return Err("no audio output (no sound card and no PulseAudio/PipeWire server)".into());
        }
        onair_capture::audio_libs::ensure_loaded(onair_capture::audio_libs::AudioLibrary::Alsa)?;
        let host = cpal::default_host();
        let device = host
            .default_output_device()
            .ok_or_else(|| "no audio output device".to_string())?;
        let ranges = device
            .supported_output_configs()
            .map_err(|e| format!("cannot query the output device: {e}"))?;
        let wanted = [channels, 2];
        let range = ranges
            .filter(|r| {
                wanted.contains(&r.channels())
                    && (r.min_sample_rate()..=r.max_sample_rate()).contains(&rate)
                    && matches!(
                        r.sample_format(),
                        cpal::SampleFormat::I16 | cpal::SampleFormat::F32
                    )
            })
            .min_by_key(|r| {
                (
                    r.channels() != channels,
                    r.sample_format() != cpal::SampleFormat::I16,
                )
            })
            .ok_or_else(|| {
                format!("the output device has no {rate} Hz configuration with {channels} or 2 channels")
            })?;
        let device_channels = range.channels();
        let format = range.sample_format();
        let config = range.with_sample_rate(rate).config();
        // 300 ms of ring: the media thread writes on time, so this only absorbs scheduling.
        let (ring, mut consumer) = audio_ring(rate as usize * device_channels as usize * 3 / 10);
        let on_error = |e| tracing::warn!("audio output: {e}");
        let stream = match format {
            cpal::SampleFormat::I16 => device.build_output_stream(
                config,
                move |out: &mut [i16], _| {
                    if consumer.read(out) != ReadOutcome::Filled {
                        out.fill(0);
                    }
                },
                on_error,
                None,
            ),
            _ => {
                let mut scratch = Vec::new();
                device.build_output_stream(
                    config,
                    move |out: &mut [f32], _| {
                        // Grows once to the device's period, then reused.
                        scratch.resize(out.len(), 0i16);
                        if consumer.read(&mut scratch) != ReadOutcome::Filled {
                            scratch.fill(0);
                        }
                        for (o, s) in out.iter_mut().zip(&scratch) {
                            *o = f32::from(*s) / 32768.0;
                        }
                    },
                    on_error,
                    None,
                )
            }
        }
        .map_err(|e| format!("cannot open the audio output: {e}"))?;
        stream
            .play()
            .map_err(|e| format!("cannot start the audio output: {e}"))?;
        Ok(Self {
            _stream: stream,
            ring,
            rate,
            channels,
            device_channels,
        })
    }

    /// `true` if this output plays `rate` Hz x `channels`.
    pub(crate) fn matches(&self, rate: u32, channels: u16) -> bool {
        self.rate == rate && self.channels == channels
    }

    /// Queues interleaved samples for the device (dropped, and counted by the ring, if it is
    /// full).
    pub(crate) fn write(&mut self, samples: &[i16]) {
        if self.device_channels == self.channels {
            self.ring.push(samples);
        } else {
            let stereo: Vec<i16> = samples.iter().flat_map(|&s| [s, s]).collect();
            self.ring.push(&stereo);
        }
    }
}
