//! A player window: plays a URL into a winit window through `onair::RenderView`
//! (`V2TXLivePlayer::set_render_view`), the way a desktop app hands LiteAV its window.
//!
//! ```sh
//! cargo run --release --example watch -- http://127.0.0.1:8080/live/test.flv --fill fit
//! cargo run --release --example watch -- rtmp://127.0.0.1/live/test --fill fill --size 640x640 --debug
//! ```
//! Options: `--fill fit|fill|stretch` (default fill, as LiteAV), `--size WxH` (the window's inner
//! size, default 960x540), `--rotation 0|90|180|270`, `--debug` (the statistics overlay),
//! `--seconds N` (quit after N seconds; default: when the window closes).
//!
//! Closing the window stops drawing but not playing when `--seconds` is given: the player goes
//! on until then (as an app that hides its video keeps the stream). Once a second it prints
//! `rendered N presented M window open|closed` (N from `on_render_video_frame`, M pictures the
//! view presented), which scripts and the tests that screenshot it under Xvfb read.

use onair::{
    BufferType, FillMode, PixelFormat, RenderView, Rotation, V2TXLiveCode, V2TXLivePlayer,
    V2TXLivePlayerObserver, VideoFrame,
};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use winit::application::ApplicationHandler;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::{Window, WindowId};

#[derive(Default)]
struct Counter {
    rendered: AtomicU64,
}

impl V2TXLivePlayerObserver for Counter {
    fn on_error(&self, _: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, _: &str) {
        eprintln!("error {}: {message}", code.name());
    }
    fn on_warning(&self, _: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, _: &str) {
        eprintln!("warning {}: {message}", code.name());
    }
    fn on_render_video_frame(&self, _: &V2TXLivePlayer, _: &VideoFrame) {
        self.rendered.fetch_add(1, Ordering::Relaxed);
    }
}

struct Options {
    url: String,
    fill: FillMode,
    size: (u32, u32),
    rotation: Rotation,
    debug: bool,
    seconds: Option<f64>,
}

struct App {
    opts: Options,
    player: V2TXLivePlayer,
    counter: Arc<Counter>,
    window: Option<Arc<Window>>,
    view: Option<RenderView>,
    closed: bool,
    /// The view's end was reported.
    view_stopped: bool,
    started: Instant,
    next_report: Instant,
    error: Option<String>,
}

impl App {
    fn open(&mut self, event_loop: &ActiveEventLoop) -> Result<(), String> {
        let attrs = Window::default_attributes()
            .with_title("onair watch")
            .with_inner_size(winit::dpi::PhysicalSize::new(
                self.opts.size.0,
                self.opts.size.1,
            ))
            .with_position(winit::dpi::PhysicalPosition::new(0, 0));
        let window = Arc::new(event_loop.create_window(attrs).map_err(|e| e.to_string())?);
        let view = RenderView::from_window(Arc::clone(&window)).map_err(|e| e.to_string())?;
        self.player
            .set_render_view(Some(view.clone()))
            .map_err(|e| e.to_string())?;
        self.window = Some(window);
        self.view = Some(view);
        Ok(())
    }

    fn close_window(&mut self) {
        // The view's last clone goes with the player's: its thread ends and the window with it.
        let _ = self.player.set_render_view(None);
        self.view = None;
        self.window = None;
        self.closed = true;
    }

    fn report(&mut self) {
        let presented = self.view.as_ref().map_or(0, RenderView::presented);
        if let Some(v) = &self.view {
            if !v.is_alive() && !self.view_stopped {
                self.view_stopped = true;
                eprintln!(
                    "render view stopped: {}",
                    v.error().unwrap_or_else(|| "unknown".into())
                );
            }
        }
        println!(
            "rendered {} presented {presented} window {}",
            self.counter.rendered.load(Ordering::Relaxed),
            if self.closed { "closed" } else { "open" }
        );
    }
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.window.is_none() && !self.closed {
            if let Err(e) = self.open(event_loop) {
                self.error = Some(e);
                event_loop.exit();
            }
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => {
                self.close_window();
                if self.opts.seconds.is_none() {
                    event_loop.exit();
                }
            }
            // Destroyed behind our back (not by closing): the view notices by itself and stops
            // with a warning, which the next report prints.
            WindowEvent::Destroyed if self.opts.seconds.is_none() => event_loop.exit(),
            // X11 views follow their window by themselves; other window systems need this.
            WindowEvent::Resized(size) => {
                if let Some(v) = &self.view {
                    v.set_size(size.width, size.height);
                }
            }
            _ => {}
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        let now = Instant::now();
        if self
            .opts
            .seconds
            .is_some_and(|s| now.duration_since(self.started).as_secs_f64() >= s)
        {
            event_loop.exit();
            return;
        }
        if now >= self.next_report {
            self.next_report += Duration::from_secs(1);
            self.report();
        }
        event_loop.set_control_flow(ControlFlow::WaitUntil(self.next_report));
    }
}

fn parse() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut opts = Options {
        url: String::new(),
        fill: FillMode::Fill,
        size: (960, 540),
        rotation: Rotation::R0,
        debug: false,
        seconds: None,
    };
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--fill" => {
                opts.fill = match value()?.as_str() {
                    "fit" => FillMode::Fit,
                    "fill" => FillMode::Fill,
                    "stretch" => FillMode::ScaleFill,
                    other => return Err(format!("--fill {other}: expected fit, fill or stretch")),
                }
            }
            "--size" => {
                let v = value()?;
                let (w, h) = v
                    .split_once('x')
                    .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
                    .filter(|&(w, h): &(u32, u32)| w > 0 && h > 0)
                    .ok_or(format!("--size {v}: expected WxH, e.g. 640x640"))?;
                opts.size = (w, h);
            }
            "--rotation" => {
                let v = value()?;
                opts.rotation = v
                    .parse()
                    .ok()
                    .and_then(|d| Rotation::from_degrees(d).ok())
                    .ok_or(format!("--rotation {v}: expected 0, 90, 180 or 270"))?;
            }
            "--seconds" => {
                let v = value()?;
                opts.seconds = Some(
                    v.parse()
                        .ok()
                        .filter(|s: &f64| *s > 0.0)
                        .ok_or(format!("--seconds {v}: expected a positive number"))?,
                );
            }
            "--debug" => opts.debug = true,
            url if !url.starts_with("--") && opts.url.is_empty() => opts.url = url.to_string(),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if opts.url.is_empty() {
        return Err("usage: watch URL [--fill fit|fill|stretch] [--size WxH] [--rotation DEG] [--debug] [--seconds N]".into());
    }
    Ok(opts)
}

fn main() -> ExitCode {
    let opts = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let event_loop = match EventLoop::new() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("no window system ({e}); run under X11 (or Xvfb)");
            return ExitCode::FAILURE;
        }
    };
    let player = V2TXLivePlayer::new();
    let counter = Arc::new(Counter::default());
    player.set_observer(Some(counter.clone()));
    let setup = player
        .set_render_fill_mode(opts.fill)
        .and_then(|()| player.set_render_rotation(opts.rotation))
        .and_then(|()| {
            player.enable_observe_video_frame(true, PixelFormat::I420, BufferType::ByteBuffer)
        })
        .and_then(|()| {
            player.show_debug_view(opts.debug);
            player.start_play(&opts.url)
        });
    if let Err(e) = setup {
        eprintln!("cannot play {}: {e}", opts.url);
        return ExitCode::FAILURE;
    }
    let mut app = App {
        opts,
        player,
        counter,
        window: None,
        view: None,
        closed: false,
        view_stopped: false,
        started: Instant::now(),
        next_report: Instant::now() + Duration::from_secs(1),
        error: None,
    };
    let run = event_loop.run_app(&mut app);
    let _ = app.player.stop_play();
    app.report();
    if let Err(e) = run {
        eprintln!("event loop: {e}");
        return ExitCode::FAILURE;
    }
    match app.error {
        Some(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}
