//! Microphones through cpal.
//!
//! The device runs in its own format (rate, channels, sample type). Inside cpal's real-time
//! callback each buffer is mixed to the wanted channel count, resampled with rubato's FFT
//! resampler when the rates differ, and cut into 20 ms interleaved s16 frames that go to the
//! sink (the pusher's SPSC ring). Every buffer is allocated up front: the callback neither
//! allocates nor blocks. The cpal stream lives on its own thread (streams are not `Send` on
//! every platform); [`Microphone::stop`] ends it and joins the thread.

use crate::audio_libs::{ensure_loaded, AudioLibrary};
use crate::error::{CaptureError, CaptureResult};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use rubato::{FftFixedIn, Resampler};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A microphone (capture device) the system offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MicrophoneInfo {
    /// What `start_microphone` takes.
    pub id: String,
    /// `true` for the system's default input.
    pub is_default: bool,
}

/// Lists the capture devices of the default host.
pub fn list_microphones() -> CaptureResult<Vec<MicrophoneInfo>> {
    ensure_loaded(AudioLibrary::Alsa).map_err(CaptureError::NotFound)?;
    let host = cpal::default_host();
    let default = host.default_input_device().map(|d| d.to_string());
    let devices = host
        .input_devices()
        .map_err(|e| CaptureError::StartFailed(format!("cannot list microphones: {e}")))?;
    Ok(devices
        .map(|d| {
            let id = d.to_string();
            MicrophoneInfo {
                is_default: default.as_deref() == Some(id.as_str()),
                id,
            }
        })
        .collect())
}

/// A running microphone capture; dropping it stops it.
#[derive(Debug)]
pub struct Microphone {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    device: String,
    device_format: (u32, u16),
}

/// What the real-time callback owns: mixing, resampling and framing state, all pre-allocated.
struct Framer<S: FnMut(&[i16])> {
    in_channels: usize,
    out_channels: usize,
    resampler: Option<FftFixedIn<f32>>,
    /// Mixed input waiting for a full resampler chunk, one Vec per output channel.
    pending: Vec<Vec<f32>>,
    chunk: usize,
    resampled: Vec<Vec<f32>>,
    /// Interleaved s16 output not yet a full 20 ms frame.
    frame: Vec<i16>,
    frame_len: usize,
    sink: S,
}

impl<S: FnMut(&[i16])> Framer<S> {
    fn new(
        in_rate: u32,
        in_channels: u16,
        out_rate: u32,
        out_channels: u16,
        sink: S,
    ) -> CaptureResult<Self> {
        let out_ch = usize::from(out_channels);
        let chunk = (in_rate as usize / 100).max(1); // 10 ms of input per resampler call
        let resampler = if in_rate == out_rate {
            None
        } else {
            Some(
                FftFixedIn::<f32>::new(in_rate as usize, out_rate as usize, chunk, 2, out_ch)
                    .map_err(|e| {
                        CaptureError::StartFailed(format!(
                            "cannot resample {in_rate} Hz to {out_rate} Hz: {e}"
                        ))
                    })?,
            )
        };
        let out_max = resampler.as_ref().map_or(chunk, |r| r.output_frames_max());
        let frame_len = out_rate as usize / 50 * out_ch;
        Ok(Self {
            in_channels: usize::from(in_channels.max(1)),
            out_channels: out_ch,
            resampler,
            pending: vec![Vec::with_capacity(chunk); out_ch],
            chunk,
            resampled: vec![vec![0.0; out_max]; out_ch],
            frame: Vec::with_capacity(frame_len + out_max * out_ch),
            frame_len,
            sink,
        })
    }

    /// Feeds one device buffer (interleaved, `in_channels` wide, as f32 in -1..1).
    fn feed(&mut self, data: impl ExactSizeIterator<Item = f32>) {
        let inc = self.in_channels;
        let mut frame_buf = [0f32; 32];
        let mut i = 0;
        for s in data {
            if i < frame_buf.len() {
                frame_buf[i] = s;
            }
            i += 1;
            if i == inc {
                self.push_frame(&frame_buf[..inc.min(frame_buf.len())]);
                i = 0;
            }
        }
    }

    fn push_frame(&mut self, input: &[f32]) {
        let n = input.len();
        if self.out_channels == 1 {
            let mono = input.iter().sum::<f32>() / n.max(1) as f32;
            self.pending[0].push(mono);
        } else {
            for (c, p) in self.pending.iter_mut().enumerate() {
                p.push(input[c.min(n - 1)]);
            }
        }
        if self.pending[0].len() == self.chunk {
            self.flush_chunk();
        }
    }

    fn flush_chunk(&mut self) {
        let produced = match self.resampler.as_mut() {
            Some(r) => match r.process_into_buffer(&self.pending, &mut self.resampled, None) {
                Ok((_, out)) => out,
                Err(e) => {
                    tracing::warn!("microphone resampler: {e}");
                    0
                }
            },
            None => {
                for (dst, src) in self.resampled.iter_mut().zip(&self.pending) {
                    dst[..src.len()].copy_from_slice(src);
                }
                self.pending[0].len()
            }
        };
        for p in &mut self.pending {
            p.clear();
        }
        for i in 0..produced {
            for c in 0..self.out_channels {
                let s = (self.resampled[c][i] * 32768.0).clamp(-32768.0, 32767.0);
                self.frame.push(s as i16);
            }
            if self.frame.len() == self.frame_len {
                (self.sink)(&self.frame);
                self.frame.clear();
            }
        }
    }
}

impl Microphone {
    /// Starts microphone `id` (`None`: the default input) and delivers 20 ms frames of
    /// interleaved s16 at `rate` Hz x `channels` to `sink`, from the audio callback.
    pub fn start(
        id: Option<&str>,
        rate: u32,
        channels: u16,
        sink: impl FnMut(&[i16]) + Send + 'static,
    ) -> CaptureResult<Self> {
        if !(1..=2).contains(&channels) || rate == 0 {
            return Err(CaptureError::StartFailed(format!(
                "microphone output of {rate} Hz x {channels}: onair captures 1 or 2 channels"
            )));
        }
        let wanted = id.map(str::to_string);
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let (opened_tx, opened_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("onair-microphone".into())
            .spawn(move || {
                let stream = match open_stream(wanted.as_deref(), rate, channels, sink) {
                    Ok((stream, name, format)) => {
                        let _ = opened_tx.send(Ok((name, format)));
                        stream
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                        return;
                    }
                };
                while !stop_flag.load(Ordering::Acquire) {
                    std::thread::park_timeout(Duration::from_millis(50));
                }
                let _ = stream.pause();
                drop(stream);
            })
            .map_err(|e| {
                CaptureError::StartFailed(format!("cannot start the microphone thread: {e}"))
            })?;
        match opened_rx.recv() {
            Ok(Ok((device, device_format))) => Ok(Self {
                stop,
                thread: Some(thread),
                device,
                device_format,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(CaptureError::StartFailed(
                    "the microphone thread ended before the device opened".into(),
                ))
            }
        }
    }

    /// The device's name.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The device's own rate and channel count (before mixing and resampling).
    pub fn device_format(&self) -> (u32, u16) {
        self.device_format
    }

    /// Stops the capture; no frame reaches the sink after this returns.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Drop for Microphone {
    fn drop(&mut self) {
        self.shutdown();
    }
}

type Opened = (cpal::Stream, String, (u32, u16));

fn open_stream(
    id: Option<&str>,
    rate: u32,
    channels: u16,
    sink: impl FnMut(&[i16]) + Send + 'static,
) -> CaptureResult<Opened> {
    ensure_loaded(AudioLibrary::Alsa).map_err(CaptureError::NotFound)?;
    let host = cpal::default_host();
    let device = match id {
        None | Some("") => host.default_input_device().ok_or_else(|| {
            CaptureError::NotFound("no microphone: the system has no default input device".into())
        })?,
        Some(id) => host
            .input_devices()
            .map_err(|e| CaptureError::StartFailed(format!("cannot list microphones: {e}")))?
            .find(|d| d.to_string() == id)
            .ok_or_else(|| CaptureError::NotFound(format!("no microphone {id:?}")))?,
    };
    let name = device.to_string();
    let config = device.default_input_config().map_err(|e| {
        CaptureError::StartFailed(format!(
            "microphone {name:?} has no usable input format: {e}"
        ))
    })?;
    let (in_rate, in_ch) = (config.sample_rate(), config.channels());
    if in_ch == 0 || usize::from(in_ch) > 32 {
        return Err(CaptureError::StartFailed(format!(
            "microphone {name:?} has {in_ch} channels"
        )));
    }
    let mut framer = Framer::new(in_rate, in_ch, rate, channels, sink)?;
    let on_error = {
        let name = name.clone();
        move |e: cpal::Error| tracing::warn!("microphone {name:?}: {e}")
    };
    let cfg = config.config();
    let built = match config.sample_format() {
        cpal::SampleFormat::F32 => device.build_input_stream(
            cfg,
            move |d: &[f32], _: &_| framer.feed(d.iter().copied()),
            on_error,
            None,
        ),
        cpal::SampleFormat::I16 => device.build_input_stream(
            cfg,
            move |d: &[i16], _: &_| framer.feed(d.iter().map(|&s| f32::from(s) / 32768.0)),
            on_error,
            None,
        ),
        cpal::SampleFormat::I32 => device.build_input_stream(
            cfg,
            move |d: &[i32], _: &_| framer.feed(d.iter().map(|&s| s as f32 / 2_147_483_648.0)),
            on_error,
            None,
        ),
        cpal::SampleFormat::U8 => device.build_input_stream(
            cfg,
            move |d: &[u8], _: &_| framer.feed(d.iter().map(|&s| (f32::from(s) - 128.0) / 128.0)),
            on_error,
            None,
        ),
        other => {
            return Err(CaptureError::StartFailed(format!(
                "microphone {name:?} delivers {other} samples; onair reads f32, i16, i32 and u8"
            )))
        }
    };
    let stream = built.map_err(|e| classify(&name, &e.to_string()))?;
    stream.play().map_err(|e| classify(&name, &e.to_string()))?;
    Ok((stream, name, (in_rate, in_ch)))
}

fn classify(name: &str, text: &str) -> CaptureError {
    if text.to_lowercase().contains("busy") {
        CaptureError::Occupied(format!("microphone {name:?} is in use: {text}"))
    } else {
        CaptureError::StartFailed(format!("microphone {name:?} could not be started: {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn run(in_rate: u32, in_ch: u16, out_rate: u32, out_ch: u16, seconds: f32) -> Vec<Vec<i16>> {
        let frames = Arc::new(Mutex::new(Vec::new()));
        let f2 = Arc::clone(&frames);
        let mut framer = Framer::new(in_rate, in_ch, out_rate, out_ch, move |f: &[i16]| {
            f2.lock().unwrap().push(f.to_vec());
        })
        .unwrap();
        let total = (in_rate as f32 * seconds) as usize;
        // 1 kHz at half scale, in odd-sized device buffers.
        let mut n = 0;
        while n < total {
            let len = 441.min(total - n);
            let buf: Vec<f32> = (n..n + len)
                .flat_map(|i| {
                    let s = (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / in_rate as f32).sin()
                        * 0.5;
                    std::iter::repeat_n(s, usize::from(in_ch))
                })
                .collect();
            framer.feed(buf.into_iter());
            n += len;
        }
        let v = frames.lock().unwrap().clone();
        v
    }

    #[test]
    fn frames_are_20ms_at_the_wanted_rate_and_channels() {
        let frames = run(44_100, 2, 48_000, 1, 1.0);
        assert!(frames.len() >= 45, "{} frames for 1 s", frames.len());
        assert!(frames.iter().all(|f| f.len() == 960));
        let frames = run(48_000, 1, 48_000, 2, 0.5);
        assert_eq!(frames.len(), 25);
        assert!(frames.iter().all(|f| f.len() == 1920 && f[0] == f[1]));
    }

    #[test]
    fn resampled_tone_keeps_its_level() {
        let frames = run(44_100, 2, 16_000, 1, 1.0);
        let all: Vec<i16> = frames.concat();
        let tail = &all[all.len() / 2..];
        let peak = tail.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((15_000..=17_500).contains(&peak), "peak {peak}");
    }
}
