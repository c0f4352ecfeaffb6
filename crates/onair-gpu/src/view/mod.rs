//! `RenderView`: pictures drawn into the app's own window (LiteAV's `setRenderView`).
//!
//! ```text
//! player media thread / pusher video thread --show(frame)--> [newest-frame slot]
//!     -> view thread: upload the I420 planes, lay out (fill mode, rotation, mirror), draw,
//!        debug overlay, present                         (one thread and one surface per view)
//! ```
//! A view is made from anything with `raw-window-handle` 0.6 handles (winit, tao, SDL, GTK...)
//! or, for C callers, from raw handles. It renders on the app's [`GpuContext`] when one with a
//! wgpu instance is given, else on a headless context onair shares between its views. Frames
//! are presented as they come (the player hands them over at their presentation time), the
//! newest wins when the window falls behind. The window's size is followed on X11 (see
//! `window`); on Wayland the app reports it with [`RenderView::set_size`]. When the window
//! disappears the view stops drawing with a warning (never a panic) and
//! [`RenderView::is_alive`] turns false; the player or pusher holding it is not affected.
//! Dropping the last clone of a view stops and joins its thread.

pub mod layout;
pub mod overlay;
mod renderer;
mod window;

use crate::context::GpuContext;
use crate::error::{GpuError, GpuResult};
use layout::Layout;
use onair_core::{FillMode, Rotation, VideoFrame};
use renderer::Renderer;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use wgpu::rwh::{HasDisplayHandle, HasWindowHandle, RawDisplayHandle, RawWindowHandle};
use window::{WindowState, WindowWatch};

/// Most characters a debug line shows, and most lines.
const DEBUG_COLS: usize = 48;
const DEBUG_LINES: usize = 8;

/// A window onair draws video into. Cheap to clone; clones draw into the same window.
#[derive(Clone)]
pub struct RenderView {
    shared: Arc<Shared>,
    _owner: Arc<Owner>,
}

impl std::fmt::Debug for RenderView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.shared.lock();
        f.debug_struct("RenderView")
            .field("fill", &s.fill)
            .field("rotation", &s.rotation)
            .field("mirror", &s.mirror)
            .field("alive", &s.alive)
            .field("presented", &s.presented)
            .finish()
    }
}

/// What the view's handles and its thread share.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Debug)]
struct State {
    /// The newest frame not yet drawn.
    pending: Option<VideoFrame>,
    fill: FillMode,
    rotation: Rotation,
    mirror: bool,
    debug: Option<String>,
    /// The window's size as the app reported it.
    size: Option<(u32, u32)>,
    /// Draw again without a new frame (a setting or the size changed).
    redraw: bool,
    stop: bool,
    alive: bool,
    presented: u64,
    /// Frames replaced by a newer one before they were drawn.
    skipped: u64,
    error: Option<String>,
}

/// Stops and joins the thread when the last clone goes.
#[derive(Debug)]
struct Owner {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

/// The contexts views render on when the app gave none (one per process, made on first use).
fn shared_context() -> GpuResult<Arc<GpuContext>> {
    static CONTEXT: Mutex<Option<Arc<GpuContext>>> = Mutex::new(None);
    let mut slot = CONTEXT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(c) = slot.as_ref() {
        return Ok(Arc::clone(c));
    }
    let c = GpuContext::new()?;
    *slot = Some(Arc::clone(&c));
    Ok(c)
}

impl RenderView {
    /// A view drawing into `window` (winit, tao, SDL... anything with `raw-window-handle` 0.6
    /// handles), on onair's shared headless GPU context. The window is kept alive by the view.
    pub fn from_window<W>(window: W) -> GpuResult<Self>
    where
        W: HasWindowHandle + HasDisplayHandle + Send + Sync + 'static,
    {
        Self::from_window_with_context(window, None)
    }

    /// Like [`from_window`](Self::from_window), on `context` when given (the app's own, so it
    /// can share textures with it; made with [`GpuContext::new`] or
    /// [`GpuContext::from_parts`], which keep the wgpu instance a surface needs).
    pub fn from_window_with_context<W>(
        window: W,
        context: Option<Arc<GpuContext>>,
    ) -> GpuResult<Self>
    where
        W: HasWindowHandle + HasDisplayHandle + Send + Sync + 'static,
    {
        let raw = window
            .window_handle()
            .map_err(|e| GpuError::InvalidFrame(format!("render view: no window handle: {e}")))?
            .as_raw();
        let ctx = match context {
            Some(c) => c,
            None => shared_context()?,
        };
        let instance = ctx.instance().ok_or_else(no_instance)?;
        let surface = instance
            .create_surface(window)
            .map_err(|e| GpuError::Device(format!("render view: cannot make a surface: {e}")))?;
        Self::start(ctx, surface, raw)
    }

    /// A view from raw handles: for C callers (an X11 `Display*` and window id, a Wayland
    /// `wl_display*` and `wl_surface*`, ...).
    ///
    /// # Safety
    /// The handles must be valid and stay valid until the last clone of the view is dropped.
    pub unsafe fn from_raw(
        display: RawDisplayHandle,
        window: RawWindowHandle,
        context: Option<Arc<GpuContext>>,
    ) -> GpuResult<Self> {
        let ctx = match context {
            Some(c) => c,
            None => shared_context()?,
        };
        let instance = ctx.instance().ok_or_else(no_instance)?;
        // SAFETY: the caller promises the handles outlive the view, which owns the surface.
        let surface = unsafe {
            instance.create_surface_unsafe(wgpu::SurfaceTargetUnsafe::RawHandle {
                raw_display_handle: display,
                raw_window_handle: window,
            })
        }
        .map_err(|e| GpuError::Device(format!("render view: cannot make a surface: {e}")))?;
        Self::start(ctx, surface, window)
    }

    fn start(
        ctx: Arc<GpuContext>,
        surface: wgpu::Surface<'static>,
        raw: RawWindowHandle,
    ) -> GpuResult<Self> {
        let adapter = ctx.wgpu_adapter().ok_or_else(no_instance)?;
        if !adapter.is_surface_supported(&surface) {
            return Err(GpuError::Device(format!(
                "render view: {} cannot present to this window",
                ctx.adapter.name
            )));
        }
        let caps = surface.get_capabilities(adapter);
        // Pictures are gamma-encoded RGB already: present through a non-sRGB format.
        let format = caps
            .formats
            .iter()
            .find(|f| !f.is_srgb())
            .or(caps.formats.first())
            .copied()
            .ok_or_else(|| GpuError::Device("render view: the surface offers no format".into()))?;
        let present_mode = if caps.present_modes.contains(&wgpu::PresentMode::Mailbox) {
            wgpu::PresentMode::Mailbox
        } else {
            wgpu::PresentMode::Fifo
        };
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            width: 0,
            height: 0,
            present_mode,
            desired_maximum_frame_latency: 1,
            alpha_mode: caps
                .alpha_modes
                .first()
                .copied()
                .unwrap_or(wgpu::CompositeAlphaMode::Auto),
            view_formats: vec![],
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                pending: None,
                fill: FillMode::Fill,
                rotation: Rotation::R0,
                mirror: false,
                debug: None,
                size: None,
                redraw: false,
                stop: false,
                alive: true,
                presented: 0,
                skipped: 0,
                error: None,
            }),
            wake: Condvar::new(),
        });
        let watch = WindowWatch::new(&raw);
        let renderer = Renderer::new(Arc::clone(&ctx), format);
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("onair-view".into())
            .spawn(move || {
                let mut r = ViewThread {
                    shared: thread_shared,
                    ctx,
                    surface,
                    config,
                    renderer,
                    watch,
                    debug: None,
                    overlay_for: None,
                    failures: 0,
                };
                r.run();
            })
            .map_err(|e| GpuError::Device(format!("render view: cannot start its thread: {e}")))?;
        Ok(Self {
            _owner: Arc::new(Owner {
                shared: Arc::clone(&shared),
                thread: Mutex::new(Some(thread)),
            }),
            shared,
        })
    }

    /// Hands over the frame to show now (I420). Never waits: a frame not yet drawn is
    /// replaced by a newer one.
    pub fn show(&self, frame: &VideoFrame) {
        let mut s = self.shared.lock();
        if !s.alive {
            return;
        }
        if s.pending.replace(frame.clone()).is_some() {
            s.skipped += 1;
        }
        drop(s);
        self.shared.wake.notify_one();
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        let mut s = self.shared.lock();
        f(&mut s);
        s.redraw = true;
        drop(s);
        self.shared.wake.notify_one();
    }

    /// How the picture fills the window (default Fill, as LiteAV).
    pub fn set_fill_mode(&self, fill: FillMode) {
        self.update(|s| s.fill = fill);
    }

    /// Clockwise rotation of the shown picture.
    pub fn set_rotation(&self, rotation: Rotation) {
        self.update(|s| s.rotation = rotation);
    }

    /// Mirrors the shown picture left to right.
    pub fn set_mirror(&self, mirror: bool) {
        self.update(|s| s.mirror = mirror);
    }

    /// The debug overlay's text (`None` hides it), drawn over the picture's top-left corner.
    pub fn set_debug_text(&self, text: Option<String>) {
        self.update(|s| s.debug = text);
    }

    /// The window's inner size in pixels, for window systems that do not tell it (Wayland):
    /// call it from the app's resize event. On X11 the view follows the window by itself.
    pub fn set_size(&self, width: u32, height: u32) {
        self.update(|s| s.size = Some((width, height)));
    }

    /// Settings as (fill mode, rotation, mirror).
    pub fn settings(&self) -> (FillMode, Rotation, bool) {
        let s = self.shared.lock();
        (s.fill, s.rotation, s.mirror)
    }

    /// `false` once the window is gone or drawing failed for good (see
    /// [`error`](Self::error)); frames handed over after that are ignored.
    pub fn is_alive(&self) -> bool {
        self.shared.lock().alive
    }

    /// Why the view stopped drawing, once it has.
    pub fn error(&self) -> Option<String> {
        self.shared.lock().error.clone()
    }

    /// Pictures presented so far.
    pub fn presented(&self) -> u64 {
        self.shared.lock().presented
    }

    /// Frames replaced by a newer one before the window could show them.
    pub fn skipped(&self) -> u64 {
        self.shared.lock().skipped
    }
}

fn no_instance() -> GpuError {
    GpuError::Device(
        "render view: this GpuContext has no wgpu instance (GpuContext::from_device); make it \
         with GpuContext::from_parts so surfaces can be created on it"
            .into(),
    )
}

/// The view's thread: owns the surface and everything drawn with it.
struct ViewThread {
    shared: Arc<Shared>,
    ctx: Arc<GpuContext>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    renderer: Renderer,
    watch: WindowWatch,
    /// The overlay text drawn now, and the window width it was laid out for.
    debug: Option<String>,
    overlay_for: Option<u32>,
    /// Consecutive failures to get a surface texture.
    failures: u32,
}

/// Surface texture failures in a row that end the view.
const MAX_FAILURES: u32 = 5;

impl ViewThread {
    fn run(&mut self) {
        loop {
            let (frame, fill, rotation, mirror, debug, size) = {
                let mut s = self.shared.lock();
                while !s.stop && s.pending.is_none() && !s.redraw {
                    s = self
                        .shared
                        .wake
                        .wait(s)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
                if s.stop {
                    return;
                }
                s.redraw = false;
                (
                    s.pending.take(),
                    s.fill,
                    s.rotation,
                    s.mirror,
                    s.debug.clone(),
                    s.size,
                )
            };
            let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.step(frame.as_ref(), fill, rotation, mirror, debug, size)
            }));
            let end = match step {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e),
                Err(_) => Some("drawing panicked inside the GPU driver or wgpu".to_string()),
            };
            if let Some(e) = end {
                tracing::warn!("render view stopped: {e}");
                let mut s = self.shared.lock();
                s.alive = false;
                s.pending = None;
                s.error = Some(e);
                return;
            }
        }
    }

    /// Draws one picture; `Err` ends the view.
    fn step(
        &mut self,
        frame: Option<&VideoFrame>,
        fill: FillMode,
        rotation: Rotation,
        mirror: bool,
        debug: Option<String>,
        app_size: Option<(u32, u32)>,
    ) -> Result<(), String> {
        let window = match self.watch.state() {
            WindowState::Gone => return Err("its window is gone".into()),
            WindowState::Alive(Some(size)) => size,
            WindowState::Alive(None) => app_size
                .or(frame.map(|f| (f.width(), f.height())))
                .or(self.renderer.frame_size())
                .unwrap_or((0, 0)),
        };
        if window.0 == 0 || window.1 == 0 {
            return Ok(()); // minimised or not sized yet: nothing to draw into
        }
        if let Some(f) = frame {
            if let Err(e) = self.renderer.upload(f) {
                tracing::warn!("render view: frame not shown: {e}");
                return Ok(());
            }
        }
        let Some(video) = self.renderer.frame_size() else {
            return Ok(()); // no picture yet
        };
        if (self.config.width, self.config.height) != window {
            self.config.width = window.0;
            self.config.height = window.1;
            self.surface.configure(&self.ctx.device, &self.config);
        }
        if debug != self.debug || (debug.is_some() && self.overlay_for != Some(window.0)) {
            let cols = ((window.0.saturating_sub(2 * overlay::PAD)) / overlay::CELL) as usize;
            let rows = ((window.1.saturating_sub(2 * overlay::PAD)) / overlay::CELL) as usize;
            let image = debug
                .as_deref()
                .and_then(|t| overlay::render_text(t, cols.min(DEBUG_COLS), rows.min(DEBUG_LINES)));
            self.renderer.set_overlay(image.as_ref());
            self.debug = debug;
            self.overlay_for = Some(window.0);
        }
        let layout = Layout::compute(video, window, fill, rotation, mirror);
        let output = match self.surface.get_current_texture() {
            Ok(t) => t,
            Err(wgpu::SurfaceError::Timeout) => return Ok(()),
            Err(e) => {
                self.failures += 1;
                if self.failures >= MAX_FAILURES {
                    return Err(format!("the window's surface keeps failing ({e})"));
                }
                // Outdated or lost (a resize raced us): configure again for the next frame.
                self.surface.configure(&self.ctx.device, &self.config);
                return Ok(());
            }
        };
        self.failures = 0;
        let target = output.texture.create_view(&Default::default());
        self.renderer.draw(&target, window, &layout);
        output.present();
        self.shared.lock().presented += 1;
        Ok(())
    }
}

impl Drop for ViewThread {
    fn drop(&mut self) {
        // Everything submitted finishes before the surface (and the window it holds) goes.
        let _ = self.ctx.device.poll(wgpu::PollType::wait_indefinitely());
    }
}
