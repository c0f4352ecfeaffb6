//! The pusher's capture devices (camera, microphone) and the routes their frames take into a
//! running push.
//!
//! Devices live outside a push session: they may start before `start_push` and keep running
//! across pushes. While a push runs, its video channel and audio ring sit in [`Routes`]; the
//! camera's thread sends into the video channel, the microphone's real-time callback pushes
//! into the ring with `try_lock` (it never waits). A running camera or microphone replaces the
//! built-in source (test pattern / still image, tone): only one video source at a time.

use super::observer::PusherEvent;
use crate::error::LiveError;
use onair_capture::CaptureError;
use onair_core::channel::{AudioRingProducer, VideoSender};
use onair_core::V2TXLiveCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Where captured media goes while a push runs.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    pub(crate) video: Mutex<Option<Arc<VideoSender>>>,
    pub(crate) audio: Mutex<Option<AudioRingProducer>>,
    pub(crate) camera_on: AtomicBool,
    pub(crate) microphone_on: AtomicBool,
    /// The running push's event queue, for device warnings.
    pub(crate) events: Mutex<Option<super::Events>>,
}

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

    /// Pushes 20 ms of microphone PCM into the push's ring, if one runs. Called from the audio
    /// callback: never blocks (a busy lock, only possible while a push starts or stops, drops
    /// the frame).
    pub(crate) fn send_audio(&self, samples: &[i16]) {
        if let Ok(mut ring) = self.audio.try_lock() {
            if let Some(p) = ring.as_mut() {
                p.push(samples);
            }
        }
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

    pub(crate) fn camera_on(&self) -> bool {
        self.camera_on.load(Ordering::Acquire)
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
