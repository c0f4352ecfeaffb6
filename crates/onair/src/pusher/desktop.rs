//! The desktop sources of LiteAV's desktop pusher: screen and window capture
//! (`get_screen_capture_sources`, `set_screen_capture_source`, `start_screen_capture`,
//! `stop_screen_capture`) and system audio (`start_system_audio_loopback`,
//! `stop_system_audio_loopback`, `set_system_audio_loopback_volume`).
//!
//! Screen capture is a device like the camera: it may start before `start_push`, runs across
//! pushes, and its frames replace the built-in source (one video source at a time: starting it
//! stops the camera, starting the camera stops it). Its two events,
//! `on_screen_capture_started` and `on_screen_capture_stopped(reason)`, come from the
//! capture's own callback thread, which `stop_screen_capture` joins: none arrives after it
//! returns. A captured window that closes reports reason 1 and the push goes on with its last
//! picture; `set_screen_capture_source` may then pick another source while capturing.
//!
//! System audio is the default output's monitor (PulseAudio or PipeWire's Pulse server),
//! mixed with the microphone ([`super::audio_mix`]).

use super::devices::Routes;
use super::observer::{PusherEvent, V2TXLivePusherObserver};
use super::V2TXLivePusher;
use crate::error::{LiveError, LiveResult};
use crate::session::{CallbackGate, EventLanes, Threads};
use onair_capture::screen::{open_backend, FrameSink, ScreenCapture};
pub use onair_capture::{CaptureTarget, Rect, RgbaImage, ScreenSource, SourceId, StopReason};
use onair_core::V2TXLiveCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// LiteAV's `V2TXLiveScreenCaptureSourceInfo`: a screen or window that can be captured.
pub type ScreenCaptureSourceInfo = ScreenSource;

/// LiteAV's `V2TXLiveScreenCaptureProperty`. `Default` leaves the cursor out and the border
/// off (set them as LiteAV's defaults have them: `capture_cursor: true, highlight_window:
/// true`); the border's colour and width default to LiteAV's green `0x8CBF26`, 5 pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenCaptureProperty {
    /// Draw the mouse cursor into the captured picture.
    pub capture_cursor: bool,
    /// Draw a border around the captured window on screen (X11: four thin windows outside its
    /// edges, never in the captured picture; on Wayland the compositor shows its own sharing
    /// indicator and this is ignored).
    pub highlight_window: bool,
    /// The border's colour, `0xRRGGBB` (LiteAV's `highlightBorderColor`).
    pub highlight_color: u32,
    /// The border's width in pixels, 1..=50 (LiteAV's `highlightBorderSize`).
    pub highlight_width: u32,
    /// Windows to leave out of a screen capture. Not supported by the X11 backend (it reads
    /// the screen's pixels): a non-empty list gives a NOT_SUPPORTED warning and is ignored.
    pub exclude_windows: Vec<u32>,
}

impl Default for ScreenCaptureProperty {
    fn default() -> Self {
        let border = onair_capture::screen::highlight::Highlight::default();
        Self {
            capture_cursor: false,
            highlight_window: false,
            highlight_color: border.rgb,
            highlight_width: border.width,
            exclude_windows: Vec::new(),
        }
    }
}

/// The running screen capture and its callback thread.
pub(crate) struct ScreenDevice {
    capture: ScreenCapture,
    events: EventLanes<PusherEvent>,
    callbacks: Threads,
    callbacks_stop: crossbeam_channel::Sender<()>,
}

impl std::fmt::Debug for ScreenDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScreenDevice").finish_non_exhaustive()
    }
}

impl ScreenDevice {
    /// Stops capturing, reports `on_screen_capture_stopped(0)`, and joins the callback thread
    /// once it has delivered everything.
    pub(crate) fn stop(self, routes: &Routes) {
        routes.screen_on.store(false, Ordering::Release);
        self.capture.stop();
        self.events.emit(PusherEvent::ScreenCaptureStopped(
            StopReason::Stopped as i32,
        ));
        drop(self.callbacks_stop);
        self.callbacks.join();
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn screen_error(code: V2TXLiveCode, e: impl std::fmt::Display) -> LiveError {
    LiveError::new(code, e.to_string())
}

impl V2TXLivePusher {
    /// The screens and windows that can be captured, with thumbnails scaled to fit
    /// `thumbnail_size` and icons to fit `icon_size` (`(0, 0)`: none). No display is
    /// WARNING_SCREEN_CAPTURE_NOT_SUPPORTED.
    pub fn get_screen_capture_sources(
        &self,
        thumbnail_size: (u32, u32),
        icon_size: (u32, u32),
    ) -> LiveResult<Vec<ScreenCaptureSourceInfo>> {
        let some = |s: (u32, u32)| (s.0 > 0 && s.1 > 0).then_some(s);
        onair_capture::list_screen_sources(some(thumbnail_size), some(icon_size))
            .map_err(|e| screen_error(V2TXLiveCode::WarningScreenCaptureNotSupported, e))
    }

    /// Chooses what to capture: `source` (a screen or window from
    /// [`get_screen_capture_sources`](Self::get_screen_capture_sources)), `capture_rect` a
    /// region within it (empty: all of it), and `property`. Allowed while capturing: the
    /// capture switches from the next frame, without restarting the push.
    pub fn set_screen_capture_source(
        &self,
        source: SourceId,
        capture_rect: Rect,
        property: ScreenCaptureProperty,
    ) -> LiveResult {
        if !property.exclude_windows.is_empty() {
            self.routes.warn(
                V2TXLiveCode::ErrorNotSupported,
                "screen capture: excluded windows are not supported (the screen's pixels are \
                 read as they are shown)",
            );
        }
        let target = CaptureTarget {
            source,
            region: capture_rect,
            cursor: property.capture_cursor,
            highlight: property.highlight_window.then_some(
                onair_capture::screen::highlight::Highlight {
                    rgb: property.highlight_color & 0xFF_FF_FF,
                    width: property.highlight_width.clamp(1, 50),
                },
            ),
        };
        let devices = lock(&self.devices);
        if let Some(screen) = devices.screen.as_ref() {
            screen.capture.set_target(target.clone());
        }
        drop(devices);
        *lock(&self.routes.screen_target) = Some(target);
        Ok(())
    }

    /// Starts capturing the source set by
    /// [`set_screen_capture_source`](Self::set_screen_capture_source) (the main screen when
    /// none was set) at the video quality's frame rate. Its frames replace the built-in source
    /// and stop the camera. `on_screen_capture_started` follows; a failure is
    /// WARNING_SCREEN_CAPTURE_START_FAILED (NOT_SUPPORTED without a display), as this call's
    /// error and through `on_warning` while pushing.
    pub fn start_screen_capture(&self) -> LiveResult {
        let fps = {
            let s = lock(&self.settings);
            if s.custom_video {
                return Err(LiveError::refused(
                    "start_screen_capture: custom video capture is on; only one video source",
                ));
            }
            s.video.resolve(s.alignment).fps
        };
        let target = lock(&self.routes.screen_target)
            .clone()
            .unwrap_or(CaptureTarget {
                source: SourceId::Screen(0),
                region: Rect::default(),
                cursor: false,
                highlight: None,
            });
        let mut devices = lock(&self.devices);
        if let Some(old) = devices.screen.take() {
            old.stop(&self.routes);
        }
        if let Some(camera) = devices.camera.take() {
            tracing::info!("screen capture replaces the camera");
            self.routes.camera_on.store(false, Ordering::Release);
            camera.stop();
        }
        let fail = |code, e: &dyn std::fmt::Display| {
            let err = screen_error(code, e);
            self.routes.warn(err.code, &err.message);
            err
        };
        let backend =
            open_backend().map_err(|e| fail(V2TXLiveCode::WarningScreenCaptureNotSupported, &e))?;
        // The observer as it is when each event is delivered (an app may set it after
        // starting the capture).
        let observer = Arc::clone(&self.observer);
        let (events, callback_side, callbacks_stop) = crate::session::lanes::<PusherEvent>();
        let mut callbacks = Threads::default();
        let gate = Arc::new(CallbackGate::default());
        callbacks.spawn("onair-screen-callbacks", move || {
            callback_side.run(&gate, |e| {
                let o = lock(&observer).clone();
                if let Some(o) = o {
                    e.deliver(o.as_ref() as &dyn V2TXLivePusherObserver);
                }
            });
        })?;
        let routes = Arc::clone(&self.routes);
        let stop_events = events.clone();
        let push_routes = Arc::clone(&self.routes);
        let started = ScreenCapture::start(
            backend,
            target.clone(),
            fps,
            ScreenSink(routes),
            move |reason| {
                tracing::warn!("screen capture stopped: {reason:?}");
                stop_events.emit(PusherEvent::ScreenCaptureStopped(reason as i32));
                if reason == StopReason::WindowClosed {
                    push_routes.warn(
                        V2TXLiveCode::WarningScreenCaptureInterrupted,
                        "the captured window was closed: the push goes on with its last picture",
                    );
                }
            },
        );
        match started {
            Ok(capture) => {
                tracing::info!("screen capture started: {}", target.source);
                self.routes.screen_on.store(true, Ordering::Release);
                events.emit(PusherEvent::ScreenCaptureStarted);
                devices.screen = Some(ScreenDevice {
                    capture,
                    events,
                    callbacks,
                    callbacks_stop,
                });
                Ok(())
            }
            Err(e) => {
                drop(callbacks_stop);
                callbacks.join();
                Err(fail(V2TXLiveCode::WarningScreenCaptureStartFailed, &e))
            }
        }
    }

    /// Stops the screen capture (`on_screen_capture_stopped(0)` before this returns); the
    /// built-in source takes over again.
    pub fn stop_screen_capture(&self) -> LiveResult {
        let screen = lock(&self.devices).screen.take();
        if let Some(s) = screen {
            s.stop(&self.routes);
        }
        Ok(())
    }

    /// Captures what the computer plays (the default output's monitor) and mixes it with the
    /// microphone. `path` (one program's audio) is NOT_SUPPORTED on Linux. A system without a
    /// PulseAudio (or PipeWire-Pulse) server is WARNING_MICROPHONE_START_FAILED.
    pub fn start_system_audio_loopback(&self, path: Option<&str>) -> LiveResult {
        if path.is_some_and(|p| !p.is_empty()) {
            return Err(LiveError::new(
                V2TXLiveCode::ErrorNotSupported,
                "start_system_audio_loopback: capturing one program's audio is not supported \
                 on Linux; pass no path for the whole output",
            ));
        }
        let quality = {
            let s = lock(&self.settings);
            if s.custom_audio {
                return Err(LiveError::refused(
                    "start_system_audio_loopback: custom audio capture is on",
                ));
            }
            s.audio
        };
        let mut devices = lock(&self.devices);
        if let Some(old) = devices.loopback.take() {
            old.stop();
        }
        let routes = Arc::clone(&self.routes);
        match onair_capture::SystemAudio::start(
            quality.sample_rate(),
            quality.channels(),
            move |pcm| routes.send_loopback(pcm),
        ) {
            Ok(l) => {
                tracing::info!("system audio loopback started ({})", l.device());
                devices.loopback = Some(l);
                self.routes.loopback_on.store(true, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                let err = screen_error(V2TXLiveCode::WarningMicrophoneStartFailed, e);
                self.routes.warn(err.code, &err.message);
                Err(err)
            }
        }
    }

    /// Stops the system audio loopback.
    pub fn stop_system_audio_loopback(&self) -> LiveResult {
        self.routes.loopback_on.store(false, Ordering::Release);
        if let Some(l) = lock(&self.devices).loopback.take() {
            l.stop();
        }
        Ok(())
    }

    /// The loopback's volume, 0 (silent) to 150 (1.5x); 100 is as captured.
    pub fn set_system_audio_loopback_volume(&self, volume: u32) -> LiveResult {
        if volume > 150 {
            return Err(LiveError::invalid(format!(
                "system audio loopback volume {volume}: 0..=150"
            )));
        }
        self.routes.loopback_volume.store(volume, Ordering::Release);
        Ok(())
    }
}

/// Screen capture frames into the running push (while the screen is the video source). It is
/// behind while the encoder has not taken the last frame or is opening on its first: the
/// capture then skips a tick instead of grabbing a 1080p picture (3 MiB) that would only wait
/// or evict the waiting one.
struct ScreenSink(Arc<Routes>);

impl FrameSink for ScreenSink {
    fn send(&mut self, frame: onair_core::VideoFrame) {
        if self.0.screen_on.load(Ordering::Acquire) {
            self.0.send_video(frame);
        }
    }

    fn is_behind(&self) -> bool {
        self.0.video_behind()
    }
}
