//! System audio loopback: what the computer plays, recorded from the default output's monitor
//! (`@DEFAULT_MONITOR@`) of the PulseAudio server, or PipeWire's Pulse server, through
//! libpulse's simple API. PulseAudio converts to the wanted rate and channel count; the
//! thread hands 20 ms s16 frames to the sink.
//!
//! Why libpulse rather than cpal's ALSA `pulse` device: ALSA's plugin records the default
//! *source* (the microphone) and cannot name the output's monitor without an asoundrc entry;
//! the Pulse API names it directly and works the same under PipeWire.

use crate::audio_libs::{ensure_loaded, AudioLibrary};
use crate::error::{CaptureError, CaptureResult};
use libpulse_binding::def::BufferAttr;
use libpulse_binding::sample::{Format, Spec};
use libpulse_binding::stream::Direction;
use libpulse_simple_binding::Simple;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The Pulse name of the default output's monitor source.
pub const DEFAULT_MONITOR: &str = "@DEFAULT_MONITOR@";

/// A running loopback capture.
#[derive(Debug)]
pub struct SystemAudio {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    device: String,
}

impl SystemAudio {
    /// Starts recording the default output's monitor at `rate` Hz x `channels`; `sink` gets
    /// each 20 ms of interleaved s16. A missing server is an error here (the open happens
    /// before this returns).
    pub fn start(
        rate: u32,
        channels: u16,
        mut sink: impl FnMut(&[i16]) + Send + 'static,
    ) -> CaptureResult<Self> {
        ensure_loaded(AudioLibrary::PulseSimple)
            .map_err(|e| CaptureError::NotFound(format!("system audio: {e}")))?;
        let spec = Spec {
            format: Format::S16NE,
            channels: channels.clamp(1, 2) as u8,
            rate,
        };
        if !spec.is_valid() {
            return Err(CaptureError::StartFailed(format!(
                "system audio: {rate} Hz x {channels} is not a valid format"
            )));
        }
        let frame_samples = (rate / 50) as usize * usize::from(spec.channels);
        let stop = Arc::new(AtomicBool::new(false));
        let (opened_tx, opened_rx) = std::sync::mpsc::channel();
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("onair-loopback".into())
            .spawn(move || {
                let attr = BufferAttr {
                    maxlength: u32::MAX,
                    tlength: u32::MAX,
                    prebuf: u32::MAX,
                    minreq: u32::MAX,
                    fragsize: (frame_samples * 2) as u32,
                };
                let simple = match Simple::new(
                    None,
                    "onair",
                    Direction::Record,
                    Some(DEFAULT_MONITOR),
                    "system audio loopback",
                    &spec,
                    None,
                    Some(&attr),
                ) {
                    Ok(s) => {
                        let _ = opened_tx.send(Ok(()));
                        s
                    }
                    Err(e) => {
                        let _ =
                            opened_tx.send(Err(e.to_string().unwrap_or_else(|| format!("{e:?}"))));
                        return;
                    }
                };
                let mut bytes = vec![0u8; frame_samples * 2];
                let mut samples = vec![0i16; frame_samples];
                while !stop_flag.load(Ordering::Acquire) {
                    if let Err(e) = simple.read(&mut bytes) {
                        tracing::warn!("system audio loopback ended: {e}");
                        return;
                    }
                    for (s, b) in samples.iter_mut().zip(bytes.chunks_exact(2)) {
                        *s = i16::from_ne_bytes([b[0], b[1]]);
                    }
                    sink(&samples);
                }
            })
            .map_err(|e| CaptureError::StartFailed(format!("no loopback thread: {e}")))?;
        match opened_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                stop,
                thread: Some(thread),
                device: DEFAULT_MONITOR.to_string(),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(CaptureError::NotFound(format!(
                    "system audio: cannot record the output's monitor from a PulseAudio or \
                     PipeWire-Pulse server: {e}"
                )))
            }
            Err(_) => {
                let _ = thread.join();
                Err(CaptureError::StartFailed(
                    "system audio: the loopback thread ended before opening".into(),
                ))
            }
        }
    }

    /// The Pulse source recorded.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Stops and joins the thread (within one 20 ms read).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SystemAudio {
    fn drop(&mut self) {
        self.shutdown();
    }
}
