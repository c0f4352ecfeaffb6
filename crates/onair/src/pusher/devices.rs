//! The pusher's capture devices (camera, microphone) and the routes their frames take into a
//! running push.
//!
//! Devices live outside a push session: they may start before `start_push` and keep running
//! across pushes. While a push runs, its video channel and audio ring sit in [`Routes`]; the
//! camera's thread sends into the video channel, the microphone's real-time callback pushes
//! into the ring with `try_lock` (it never waits). A running camera, screen capture or
//! microphone replaces the built-in source (test pattern / still image, tone): only one video
//! source at a time. While the system audio loopback runs, the microphone and the loopback
//! queue their PCM for the mixer (`audio_mix`) instead.

use super::audio_mix::SourceQueue;
use super::observer::PusherEvent;
use crate::error::LiveError;
use onair_capture::CaptureError;
use onair_core::channel::{AudioRingProducer, VideoSender};
use onair_core::V2TXLiveCode;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Where captured media goes while a push runs.
#[derive(Debug)]
pub(crate) struct Routes {
    pub(crate) video: Mutex<Option<Arc<VideoSender>>>,
    pub(crate) audio: Mutex<Option<AudioRingProducer>>,
    pub(crate) camera_on: AtomicBool,
    pub(crate) microphone_on: AtomicBool,
    /// Screen capture frames go to the push (see `desktop`).
    pub(crate) screen_on: AtomicBool,
    /// What `set_screen_capture_source` chose.
    pub(crate) screen_target: Mutex<Option<onair_capture::CaptureTarget>>,
    /// The system audio loopback runs: microphone and loopback meet in the mixer.
    pub(crate) loopback_on: AtomicBool,
    /// The loopback's volume, 0..=150 (100 as captured).
    pub(crate) loopback_volume: AtomicU32,
    /// Loopback PCM waiting for the mixer.
    pub(crate) loopback_queue: Mutex<SourceQueue>,
    /// Microphone PCM waiting for the mixer (while the loopback runs).
    pub(crate) microphone_queue: Mutex<SourceQueue>,
    /// The running push's event queue, for device warnings.
    pub(crate) events: Mutex<Option<super::Events>>,
    /// The push's encoder is on its first frame, which includes opening it (openh264
    /// allocates and initialises ~30 MiB at 1080p): frames sent meanwhile would only wait.
    pub(crate) video_encoder_starting: AtomicBool,
}

impl Default for Routes {
    fn default() -> Self {
        Self {
            video: Mutex::default(),
            audio: Mutex::default(),
            camera_on: AtomicBool::default(),
            microphone_on: AtomicBool::default(),
            screen_on: AtomicBool::default(),
            screen_target: Mutex::default(),
            loopback_on: AtomicBool::default(),
            loopback_volume: AtomicU32::new(100),
            loopback_queue: Mutex::default(),
            microphone_queue: Mutex::default(),
            events: Mutex::default(),
            video_encoder_starting: AtomicBool::default(),
        }
    }
}

/// Most PCM samples a mixer queue holds (interleaved; 200 ms of 48 kHz stereo).
pub(crate) const MIX_QUEUE_CAP: usize = 48_000 * 2 / 5;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Routes {
    /// Sends a camera frame into the push, if one runs.
    pub(crate) fn send_video(&self, frame: onair_core::VideoFrame) {
        if let Some(tx) = lock(&self.video).as_ref() {
            let _ = tx.send(frame);
        }
    }

    /// The running push's encoder has frames waiting for it, or is still opening on its first
    /// one (`false` without a push).
    pub(crate) fn video_behind(&self) -> bool {
        self.video_encoder_starting.load(Ordering::Acquire)
            || lock(&self.video)
                .as_ref()
                .is_some_and(|tx| tx.stats().depth > 0)
    }

    /// Pushes 20 ms of microphone PCM into the push's ring, if one runs. Called from the audio
    /// callback: never blocks (a busy lock, only possible while a push starts or stops, drops
    /// the frame).
    pub(crate) fn send_audio(&self, samples: &[i16]) {
        if self.loopback_on.load(Ordering::Acquire) {
            // The mixer takes it from here (never waits: a busy queue drops the frame).
            if let Ok(mut q) = self.microphone_queue.try_lock() {
                q.push(samples, MIX_QUEUE_CAP);
            }
            return;
        }
        if let Ok(mut ring) = self.audio.try_lock() {
            if let Some(p) = ring.as_mut() {
                p.push(samples);
            }
        }
    }

    /// Queues system audio PCM for the mixer.
    pub(crate) fn send_loopback(&self, samples: &[i16]) {
        lock(&self.loopback_queue).push(samples, MIX_QUEUE_CAP);
    }

    /// Reports a device failure as a warning to the running push's observer.
    pub(crate) fn warn(&self, code: V2TXLiveCode, message: &str) {
        if let Some(events) = lock(&self.events).as_ref() {
            events.emit(PusherEvent::Warning(
                code,
                message.to_string(),
                String::new(),
            ));
        }
    }

    /// A device (camera or screen) replaces the built-in video source.
    pub(crate) fn camera_on(&self) -> bool {
        self.camera_on.load(Ordering::Acquire) || self.screen_on.load(Ordering::Acquire)
    }

    pub(crate) fn microphone_on(&self) -> bool {
        self.microphone_on.load(Ordering::Acquire)
    }
}

/// The running devices.
#[derive(Debug, Default)]
pub(crate) struct Devices {
    pub(crate) camera: Option<onair_capture::Camera>,
    pub(crate) microphone: Option<onair_capture::Microphone>,
    pub(crate) screen: Option<super::desktop::ScreenDevice>,
    pub(crate) loopback: Option<onair_capture::SystemAudio>,
}

/// A camera failure as the API's warning code (CAMERA_OCCUPIED for a busy device,
/// CAMERA_START_FAILED otherwise).
pub(crate) fn camera_error(e: &CaptureError) -> LiveError {
    let code = match e {
        CaptureError::Occupied(_) => V2TXLiveCode::WarningCameraOccupied,
        _ => V2TXLiveCode::WarningCameraStartFailed,
    };
    LiveError::new(code, e.to_string())
}

/// A microphone failure as the API's warning code.
pub(crate) fn microphone_error(e: &CaptureError) -> LiveError {
    let code = match e {
        CaptureError::Occupied(_) => V2TXLiveCode::WarningMicrophoneOccupied,
        _ => V2TXLiveCode::WarningMicrophoneStartFailed,
    };
    LiveError::new(code, e.to_string())
}
