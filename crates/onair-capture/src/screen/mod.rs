//! Screen and window capture: the sources a desktop offers (screens, windows with their titles,
//! thumbnails and icons) and a capture thread that grabs the chosen one as frames paced to a
//! frame rate.
//!
//! - [`x11`]: X11 through x11rb: MIT-SHM grabs (the server writes the picture into shared
//!   memory; no copy through the socket), XFixes for the cursor, windows followed by their
//!   geometry each frame (moved windows stay captured; what covers them is captured too, as
//!   without a compositor there is nothing else to read).
//! - [`cursor`]: drawing the cursor image onto a grabbed frame.
//! - [`highlight`]: the coloured border around a captured window (X11).
//! - `portal` and `pipewire` (feature `wayland`, on by default): Wayland through the
//!   xdg-desktop-portal ScreenCast interface (ashpd), which lets the user pick a screen or a
//!   window in the system's dialog, and a PipeWire stream of the picked source.
//!
//! [`open_backend`] picks X11 when `DISPLAY` reaches a server (XWayland included) and the
//! portal when only `WAYLAND_DISPLAY` is set.
//!
//! [`ScreenCapture`] runs one capture on its own thread. A captured window that is destroyed,
//! or a screen whose size changes, ends the grabbing with a [`StopReason`] reported once; the
//! thread then repeats the last picture at the frame rate (a push goes on) until the app picks
//! another source ([`ScreenCapture::set_target`]) or stops it. See `docs/screen-capture.md`.

pub mod cursor;
pub mod highlight;
#[cfg(feature = "wayland")]
pub mod pipewire;
#[cfg(feature = "wayland")]
pub mod portal;
pub mod x11;

use crate::error::{CaptureError, CaptureResult};
use onair_core::VideoFrame;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceId {
    /// A whole screen (X screen number).
    Screen(u32),
    /// A top-level window (X window id).
    Window(u32),
}

impl std::fmt::Display for SourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceId::Screen(n) => write!(f, "screen:{n}"),
            SourceId::Window(w) => write!(f, "window:{w:#x}"),
        }
    }
}

impl std::str::FromStr for SourceId {
    type Err = CaptureError;
    /// `screen`, `screen:N`, `window:ID` (decimal or `0x` hex).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            CaptureError::NotFound(format!(
                "{s:?} is not a source id: expected screen, screen:N or window:ID"
            ))
        };
        let num = |t: &str| -> Result<u32, CaptureError> {
            match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(h) => u32::from_str_radix(h, 16).map_err(|_| bad()),
                None => t.parse().map_err(|_| bad()),
            }
        };
        if s == "screen" {
            return Ok(SourceId::Screen(0));
        }
        if let Some(n) = s.strip_prefix("screen:") {
            return Ok(SourceId::Screen(num(n)?));
        }
        if let Some(w) = s.strip_prefix("window:") {
            return Ok(SourceId::Window(num(w)?));
        }
        Err(bad())
    }
}

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Rect {
    /// Empty (width or height 0): "the whole source" where a region is optional.
    pub fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// The part of `self` inside `bounds`.
    pub fn intersect(&self, bounds: &Rect) -> Rect {
        let x0 = self.x.max(bounds.x);
        let y0 = self.y.max(bounds.y);
        let x1 = (self.x + self.width as i32).min(bounds.x + bounds.width as i32);
        let y1 = (self.y + self.height as i32).min(bounds.y + bounds.height as i32);
        if x1 <= x0 || y1 <= y0 {
            return Rect {
                x: x0,
                y: y0,
                width: 0,
                height: 0,
            };
        }
        Rect {
            x: x0,
            y: y0,
            width: (x1 - x0) as u32,
            height: (y1 - y0) as u32,
        }
    }
}

/// A packed RGBA picture (thumbnails, icons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbaImage {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// `width * height * 4` bytes, R, G, B, A.
    pub data: Vec<u8>,
}

/// A screen or window the system offers (LiteAV's `V2TXLiveScreenCaptureSourceInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenSource {
    /// What to pass to [`CaptureTarget`].
    pub id: SourceId,
    /// A screen's name, a window's title.
    pub name: String,
    /// Position and size on the screen (a window's outer geometry, root coordinates).
    pub rect: Rect,
    /// The source's picture scaled to fit the asked thumbnail size, when one was asked.
    pub thumbnail: Option<RgbaImage>,
    /// A window's icon (`_NET_WM_ICON`) scaled to the asked size, where the window has one.
    pub icon: Option<RgbaImage>,
    /// A window that is minimised (iconic) or unmapped.
    pub minimized: bool,
    /// The main screen.
    pub is_main_screen: bool,
}

/// What to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureTarget {
    /// The screen or window.
    pub source: SourceId,
    /// A region within it (source coordinates); empty for the whole source.
    pub region: Rect,
    /// Draw the cursor into the frames.
    pub cursor: bool,
    /// Draw a border around a captured window on the screen (X11; on Wayland the compositor
    /// shows its own sharing indicator). Not part of the captured picture.
    pub highlight: Option<highlight::Highlight>,
}

/// Why capturing stopped (LiteAV's `onScreenCaptureStopped` reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The app stopped it (0).
    Stopped = 0,
    /// The captured window was closed (1).
    WindowClosed = 1,
    /// The display changed (its size) (2).
    DisplayChanged = 2,
}

/// A grab that did not give a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrabError {
    /// The source is gone for good: stop with this reason.
    Gone(StopReason),
    /// This grab failed (try again at the next frame).
    Failed(String),
}

/// A system whose screens can be listed and grabbed.
pub trait ScreenBackend: Send {
    /// The screens and windows. `thumbnail` and `icon` are the largest sizes wanted (`None`:
    /// none).
    fn sources(
        &mut self,
        thumbnail: Option<(u32, u32)>,
        icon: Option<(u32, u32)>,
    ) -> CaptureResult<Vec<ScreenSource>>;
    /// One frame of `target`: I420 (X11, converted where the grab lies) or BGRA (the
    /// portal's PipeWire pictures).
    fn grab(&mut self, target: &CaptureTarget) -> Result<VideoFrame, GrabError>;
    /// [`ScreenBackend::grab`] for a caller holding the previous frame in `previous`. A
    /// backend drawing into pooled buffers takes it (its memory then holds the new picture
    /// when nothing else holds it any more) once the new picture has been read, and leaves it
    /// when the grab fails before that. The default leaves it.
    fn grab_reusing(
        &mut self,
        target: &CaptureTarget,
        previous: &mut Option<VideoFrame>,
    ) -> Result<VideoFrame, GrabError> {
        let _ = previous;
        self.grab(target)
    }
}

/// The backend for this session: X11 when `DISPLAY` reaches a server, else the
/// xdg-desktop-portal when the session is Wayland (`WAYLAND_DISPLAY`). A portal that does not
/// answer is an error naming what to install.
pub fn open_backend() -> CaptureResult<Box<dyn ScreenBackend>> {
    let display = std::env::var("DISPLAY").ok().filter(|d| !d.is_empty());
    backend_for(
        display.as_deref(),
        std::env::var_os("WAYLAND_DISPLAY").is_some_and(|w| !w.is_empty()),
    )
}

/// The backend for an X11 `display` (`None`: no `DISPLAY`) in a session that is or is not
/// Wayland.
fn backend_for(display: Option<&str>, wayland: bool) -> CaptureResult<Box<dyn ScreenBackend>> {
    match (display, wayland) {
        (Some(d), _) => Ok(Box::new(x11::X11Screen::connect(Some(d))?)),
        (None, true) => wayland_backend(),
        (None, false) => Err(CaptureError::NotFound(
            "screen capture: no display (neither DISPLAY nor WAYLAND_DISPLAY is set)".into(),
        )),
    }
}

#[cfg(feature = "wayland")]
fn wayland_backend() -> CaptureResult<Box<dyn ScreenBackend>> {
    match portal::PortalScreen::connect() {
        Ok(p) => Ok(Box::new(p)),
        Err(e) => {
            tracing::warn!("{e}");
            Err(e)
        }
    }
}

#[cfg(not(feature = "wayland"))]
fn wayland_backend() -> CaptureResult<Box<dyn ScreenBackend>> {
    Err(CaptureError::NotFound(
        "screen capture: this is a Wayland session without X11 (no DISPLAY) and onair was \
         built without its `wayland` feature (xdg-desktop-portal + PipeWire)"
            .into(),
    ))
}

/// Lists the screens and windows of this session ([`open_backend`]).
pub fn list_screen_sources(
    thumbnail: Option<(u32, u32)>,
    icon: Option<(u32, u32)>,
) -> CaptureResult<Vec<ScreenSource>> {
    open_backend()?.sources(thumbnail, icon)
}

struct Control {
    target: CaptureTarget,
    /// Bumped by `set_target`, so the thread sees a new target even if equal.
    generation: u64,
    stop: bool,
}

/// Where a capture's frames go.
///
/// Any `FnMut(VideoFrame)` closure is a sink that is never behind.
pub trait FrameSink: Send + 'static {
    /// Takes a frame.
    fn send(&mut self, frame: VideoFrame);
    /// `true` while a frame sent earlier still waits to be taken (the consumer, an encoder,
    /// is behind). The capture then skips that tick: a new picture would only replace the
    /// waiting one, and grabbing it would hold one more frame in memory for nothing.
    fn is_behind(&self) -> bool {
        false
    }
}

impl<F: FnMut(VideoFrame) + Send + 'static> FrameSink for F {
    fn send(&mut self, frame: VideoFrame) {
        self(frame);
    }
}

/// A running capture: its thread grabs at the frame rate and hands each frame to the sink.
pub struct ScreenCapture {
    control: Arc<(Mutex<Control>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ScreenCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScreenCapture").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ScreenCapture {
    /// Starts capturing `target` at `fps` with `backend`. The first grab happens before this
    /// returns: a source that cannot be grabbed at all is an error here. `sink` gets a frame
    /// each tick it is not behind ([`FrameSink::is_behind`]); `on_stop` is called (on the
    /// capture thread) when the source goes away.
    pub fn start(
        mut backend: Box<dyn ScreenBackend>,
        target: CaptureTarget,
        fps: u32,
        mut sink: impl FrameSink,
        mut on_stop: impl FnMut(StopReason) + Send + 'static,
    ) -> CaptureResult<Self> {
        let first = match backend.grab(&target) {
            Ok(f) => f,
            Err(GrabError::Gone(r)) => {
                return Err(CaptureError::NotFound(format!(
                    "screen capture of {}: the source is gone ({r:?})",
                    target.source
                )))
            }
            Err(GrabError::Failed(m)) => {
                return Err(CaptureError::StartFailed(format!(
                    "screen capture of {}: {m}",
                    target.source
                )))
            }
        };
        let control = Arc::new((
            Mutex::new(Control {
                target,
                generation: 0,
                stop: false,
            }),
            Condvar::new(),
        ));
        let shared = Arc::clone(&control);
        let interval = Duration::from_secs(1) / fps.clamp(1, 120);
        let thread = std::thread::Builder::new()
            .name("onair-screen".into())
            .spawn(move || {
                let (m, cv) = &*shared;
                // The last picture, repeated when a grab fails or the source is gone.
                let mut last = Some(first.clone());
                sink.send(first);
                let mut gone: Option<u64> = None; // the generation whose source went away
                let mut warned = false;
                let start = Instant::now();
                let mut n: u32 = 1;
                loop {
                    let due = start + interval * n;
                    n = n.saturating_add(1);
                    let (target, generation) = {
                        let mut c = lock(m);
                        loop {
                            if c.stop {
                                return;
                            }
                            let now = Instant::now();
                            if now >= due {
                                break;
                            }
                            c = cv
                                .wait_timeout(c, due - now)
                                .map(|(g, _)| g)
                                .unwrap_or_else(|e| e.into_inner().0);
                        }
                        (c.target.clone(), c.generation)
                    };
                    if Instant::now().saturating_duration_since(due) > interval * 4 {
                        // Far behind (a stalled machine): skip to now rather than burst.
                        n = (start.elapsed().as_micros() / interval.as_micros().max(1)) as u32 + 1;
                    }
                    if sink.is_behind() {
                        continue; // the last frame still waits: no new one to replace it
                    }
                    if gone != Some(generation) {
                        match backend.grab_reusing(&target, &mut last) {
                            Ok(f) => {
                                warned = false;
                                last = Some(f);
                            }
                            Err(GrabError::Gone(reason)) => {
                                gone = Some(generation);
                                on_stop(reason);
                            }
                            Err(GrabError::Failed(msg)) => {
                                if !std::mem::replace(&mut warned, true) {
                                    tracing::warn!("screen capture: {msg}");
                                }
                            }
                        }
                    }
                    if let Some(f) = &last {
                        sink.send(f.clone());
                    }
                }
            })
            .map_err(|e| CaptureError::StartFailed(format!("no screen capture thread: {e}")))?;
        Ok(Self {
            control,
            thread: Some(thread),
        })
    }

    /// Captures another source or region from the next frame on (no restart).
    pub fn set_target(&self, target: CaptureTarget) {
        let mut c = lock(&self.control.0);
        c.target = target;
        c.generation += 1;
    }

    /// Stops and joins the thread (no sink or `on_stop` call after this returns).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        lock(&self.control.0).stop = true;
        self.control.1.notify_all();
        if let Some(t) = self.thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for ScreenCapture {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ids_round_trip() {
        for id in [SourceId::Screen(0), SourceId::Window(0x40_0001)] {
            assert_eq!(id.to_string().parse::<SourceId>().unwrap(), id);
        }
        assert_eq!("screen".parse::<SourceId>().unwrap(), SourceId::Screen(0));
        assert_eq!(
            "window:4194305".parse::<SourceId>().unwrap(),
            SourceId::Window(4_194_305)
        );
        assert!("tab:1".parse::<SourceId>().is_err());
        assert!("window:0xzz".parse::<SourceId>().is_err());
    }

    #[test]
    fn no_display_and_wayland_only_sessions_say_why() {
        let err = |r: CaptureResult<Box<dyn ScreenBackend>>| match r {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a backend without a display"),
        };
        assert!(err(backend_for(None, false)).contains("neither DISPLAY nor WAYLAND_DISPLAY"));
        // A display that does not answer is an error naming the connection.
        let e = err(backend_for(Some(":4242"), false));
        assert!(e.contains("cannot connect to the X display"), "{e}");
    }

    #[test]
    fn rects_intersect() {
        let screen = Rect {
            x: 0,
            y: 0,
            width: 100,
            height: 50,
        };
        let half_off = Rect {
            x: 80,
            y: -10,
            width: 40,
            height: 30,
        };
        assert_eq!(
            half_off.intersect(&screen),
            Rect {
                x: 80,
                y: 0,
                width: 20,
                height: 20
            }
        );
        let outside = Rect {
            x: 200,
            y: 0,
            width: 10,
            height: 10,
        };
        assert!(outside.intersect(&screen).is_empty());
    }

    /// A backend that gives numbered frames, then says the window closed.
    struct Scripted {
        grabs: u32,
        close_after: u32,
    }

    impl ScreenBackend for Scripted {
        fn sources(
            &mut self,
            _: Option<(u32, u32)>,
            _: Option<(u32, u32)>,
        ) -> CaptureResult<Vec<ScreenSource>> {
            Ok(Vec::new())
        }
        fn grab(&mut self, _: &CaptureTarget) -> Result<VideoFrame, GrabError> {
            self.grabs += 1;
            if self.grabs > self.close_after {
                return Err(GrabError::Gone(StopReason::WindowClosed));
            }
            let v = self.grabs as u8;
            VideoFrame::new(
                onair_core::PixelFormat::Bgra32,
                2,
                2,
                bytes::Bytes::from(vec![v; 16]),
            )
            .map_err(|e| GrabError::Failed(e.to_string()))
        }
    }

    /// A sink that is behind until told otherwise, and counts how often it was asked.
    struct Backlogged {
        frames: std::sync::mpsc::Sender<u8>,
        behind: Arc<std::sync::atomic::AtomicBool>,
        asked: std::sync::mpsc::Sender<()>,
    }

    impl FrameSink for Backlogged {
        fn send(&mut self, frame: VideoFrame) {
            let _ = self.frames.send(frame.data()[0]);
        }
        fn is_behind(&self) -> bool {
            let _ = self.asked.send(());
            self.behind.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    #[test]
    fn nothing_is_grabbed_while_the_sink_is_behind() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let (frames_tx, frames) = std::sync::mpsc::channel();
        let (asked_tx, asked) = std::sync::mpsc::channel();
        let behind = Arc::new(AtomicBool::new(true));
        let cap = ScreenCapture::start(
            Box::new(Scripted {
                grabs: 0,
                close_after: 1000,
            }),
            CaptureTarget {
                source: SourceId::Screen(0),
                region: Rect::default(),
                cursor: false,
                highlight: None,
            },
            100,
            Backlogged {
                frames: frames_tx,
                behind: Arc::clone(&behind),
                asked: asked_tx,
            },
            |_| {},
        )
        .unwrap();
        assert_eq!(frames.recv_timeout(Duration::from_secs(5)), Ok(1));
        // Five ticks asked the sink and found it behind: no frame was sent...
        for _ in 0..5 {
            asked.recv_timeout(Duration::from_secs(5)).unwrap();
        }
        behind.store(false, Ordering::SeqCst);
        // ...and none grabbed: the next picture is the backend's second.
        assert_eq!(frames.recv_timeout(Duration::from_secs(5)), Ok(2));
        assert_eq!(frames.recv_timeout(Duration::from_secs(5)), Ok(3));
        cap.stop();
    }

    #[test]
    fn a_closed_window_is_reported_once_and_its_last_picture_repeats() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel();
        let cap = ScreenCapture::start(
            Box::new(Scripted {
                grabs: 0,
                close_after: 3,
            }),
            CaptureTarget {
                source: SourceId::Window(1),
                region: Rect::default(),
                cursor: false,
                highlight: None,
            },
            100,
            move |f: VideoFrame| {
                let _ = tx.send(f.data()[0]);
            },
            move |r| {
                let _ = stop_tx.send(r);
            },
        )
        .unwrap();
        let firsts: Vec<u8> = (0..8)
            .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        assert_eq!(&firsts[..3], &[1, 2, 3]);
        assert!(firsts[3..].iter().all(|&v| v == 3), "{firsts:?}");
        assert_eq!(
            stop_rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            StopReason::WindowClosed
        );
        assert!(stop_rx.try_recv().is_err(), "reported once");
        cap.stop();
        // The thread is joined: its sink is gone, nothing comes after what was queued.
        let _queued = rx.try_iter().count();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(1)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        );
    }
}
