//! A small broadcaster window: the pusher's local preview in a winit window through
//! `onair::RenderView` (`V2TXLivePusher::set_render_view`), pushing to a URL when one is given,
//! with the statistics overlay on request.
//!
//! ```sh
//! cargo run --release --example studio -- --source test
//! cargo run --release --example studio -- --source screen --push rtmp://127.0.0.1/live/desk --debug
//! cargo run --release --example studio -- --source camera --mirror enable --rotation 90
//! ```
//! Options: `--source test|camera|screen` (default test: the counter-stamped pattern),
//! `--push URL` (without it the preview runs and nothing is sent), `--preset WxH` (default
//! 1280x720), `--fps N` (default 30), `--mirror auto|enable|disable` (the preview's mirror),
//! `--rotation 0|90|180|270`, `--fill fit|fill|stretch` (default fit), `--size WxH` (the
//! window's inner size, default 960x540), `--debug`, `--seconds N` (quit after N seconds;
//! default: when the window closes), `--print-stamps` (print the stamp counter of every
//! `on_render_video_frame` picture of the test pattern as `stamp N`).
//!
//! Once a second it prints `previewed N presented M pushing yes|no` (N frames through
//! `on_render_video_frame`, M pictures the view presented).

use onair::{
    BufferType, FillMode, MirrorType, PixelFormat, PushStatus, RenderView, ResolutionMode,
    Rotation, V2TXLiveCode, V2TXLivePusher, V2TXLivePusherObserver, VideoEncoderParam, VideoFrame,
    VideoResolution,
};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use winit::application::ApplicationHandler;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::{Window, WindowId};

#[derive(Default)]
struct Studio {
    previewed: AtomicU64,
    pushing: AtomicBool,
    print_stamps: bool,
}

impl V2TXLivePusherObserver for Studio {
    fn on_error(&self, code: V2TXLiveCode, message: &str, _: &str) {
        eprintln!("error {}: {message}", code.name());
    }
    fn on_warning(&self, code: V2TXLiveCode, message: &str, _: &str) {
        eprintln!("warning {}: {message}", code.name());
    }
    fn on_push_status_update(&self, status: PushStatus, message: &str, _: &str) {
        self.pushing
            .store(status == PushStatus::ConnectSuccess, Ordering::Relaxed);
        eprintln!("push: {status:?} {message}");
    }
    fn on_render_video_frame(&self, frame: &VideoFrame) {
        self.previewed.fetch_add(1, Ordering::Relaxed);
        if self.print_stamps {
            if let Some(s) = onair_codec::read_stamp(frame) {
                println!("stamp {}", s.counter);
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Source {
    Test,
    Camera,
    Screen,
}

struct Options {
    source: Source,
    push: Option<String>,
    preset: VideoResolution,
    fps: u32,
    mirror: MirrorType,
    rotation: Rotation,
    fill: FillMode,
    size: (u32, u32),
    debug: bool,
    seconds: Option<f64>,
    print_stamps: bool,
}

struct App {
    opts: Options,
    pusher: V2TXLivePusher,
    studio: Arc<Studio>,
    window: Option<Arc<Window>>,
    view: Option<RenderView>,
    closed: bool,
    started: Instant,
    next_report: Instant,
    error: Option<String>,
}

impl App {
    fn open(&mut self, event_loop: &ActiveEventLoop) -> Result<(), String> {
        let attrs = Window::default_attributes()
            .with_title("onair studio")
            .with_inner_size(winit::dpi::PhysicalSize::new(
                self.opts.size.0,
                self.opts.size.1,
            ))
            .with_position(winit::dpi::PhysicalPosition::new(0, 0));
        let window = Arc::new(event_loop.create_window(attrs).map_err(|e| e.to_string())?);
        let view = RenderView::from_window(Arc::clone(&window)).map_err(|e| e.to_string())?;
        self.pusher
            .set_render_view(Some(view.clone()))
            .map_err(|e| e.to_string())?;
        self.window = Some(window);
        self.view = Some(view);
        Ok(())
    }

    fn report(&self) {
        println!(
            "previewed {} presented {} pushing {}",
            self.studio.previewed.load(Ordering::Relaxed),
            self.view.as_ref().map_or(0, RenderView::presented),
            if self.studio.pushing.load(Ordering::Relaxed) {
                "yes"
            } else {
                "no"
            }
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
            WindowEvent::CloseRequested | WindowEvent::Destroyed => {
                let _ = self.pusher.set_render_view(None);
                self.view = None;
                self.window = None;
                self.closed = true;
                event_loop.exit();
            }
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

fn size_of(flag: &str, v: &str) -> Result<(u32, u32), String> {
    v.split_once('x')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .filter(|&(w, h): &(u32, u32)| w > 0 && h > 0)
        .ok_or(format!("{flag} {v}: expected WxH"))
}

fn parse() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut opts = Options {
        source: Source::Test,
        push: None,
        preset: VideoResolution::R1280x720,
        fps: 30,
        mirror: MirrorType::Auto,
        rotation: Rotation::R0,
        fill: FillMode::Fit,
        size: (960, 540),
        debug: false,
        seconds: None,
        print_stamps: false,
    };
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--source" => {
                opts.source = match value()?.as_str() {
                    "test" => Source::Test,
                    "camera" => Source::Camera,
                    "screen" => Source::Screen,
                    other => {
                        return Err(format!("--source {other}: expected test, camera or screen"))
                    }
                }
            }
            "--push" => opts.push = Some(value()?),
            "--preset" => {
                let v = value()?;
                opts.preset = VideoResolution::ALL
                    .into_iter()
                    .find(|r| {
                        let s = r.size();
                        format!("{}x{}", s.width, s.height) == v
                    })
                    .ok_or(format!("--preset {v}: not one of the 12 presets"))?;
            }
            "--fps" => {
                let v = value()?;
                opts.fps = v
                    .parse()
                    .ok()
                    .filter(|f| (1..=60).contains(f))
                    .ok_or(format!("--fps {v}: expected 1..=60"))?;
            }
            "--mirror" => {
                opts.mirror = match value()?.as_str() {
                    "auto" => MirrorType::Auto,
                    "enable" => MirrorType::Enable,
                    "disable" => MirrorType::Disable,
                    other => {
                        return Err(format!(
                            "--mirror {other}: expected auto, enable or disable"
                        ))
                    }
                }
            }
            "--rotation" => {
                let v = value()?;
                opts.rotation = v
                    .parse()
                    .ok()
                    .and_then(|d| Rotation::from_degrees(d).ok())
                    .ok_or(format!("--rotation {v}: expected 0, 90, 180 or 270"))?;
            }
            "--fill" => {
                opts.fill = match value()?.as_str() {
                    "fit" => FillMode::Fit,
                    "fill" => FillMode::Fill,
                    "stretch" => FillMode::ScaleFill,
                    other => return Err(format!("--fill {other}: expected fit, fill or stretch")),
                }
            }
            "--size" => opts.size = size_of("--size", &value()?)?,
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
            "--print-stamps" => opts.print_stamps = true,
            other => return Err(format!("unknown argument {other} (see the example's docs)")),
        }
    }
    Ok(opts)
}

/// Configures the pusher and starts the chosen source (and the push, when asked).
fn start(pusher: &V2TXLivePusher, opts: &Options) -> Result<(), String> {
    let e = |e: onair::LiveError| e.to_string();
    pusher
        .set_video_quality(
            VideoEncoderParam::new(opts.preset, ResolutionMode::Landscape, opts.fps, 0, 0)
                .map_err(|e| e.to_string())?,
        )
        .map_err(e)?;
    pusher.set_render_mirror(opts.mirror).map_err(e)?;
    pusher.set_render_rotation(opts.rotation).map_err(e)?;
    pusher.set_render_fill_mode(opts.fill).map_err(e)?;
    pusher.show_debug_view(opts.debug);
    pusher
        .enable_custom_video_render(true, PixelFormat::I420, BufferType::ByteBuffer)
        .map_err(e)?;
    match opts.source {
        Source::Test => {}
        Source::Camera => {
            let cameras = onair::list_cameras().map_err(|e| e.to_string())?;
            let first = cameras
                .first()
                .ok_or("no camera found (onair sources lists them)")?;
            pusher.start_camera(&first.id).map_err(e)?;
        }
        Source::Screen => pusher.start_screen_capture().map_err(e)?,
    }
    if let Some(url) = &opts.push {
        pusher.start_push(url).map_err(e)?;
    }
    Ok(())
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
    let pusher = V2TXLivePusher::new();
    let studio = Arc::new(Studio {
        print_stamps: opts.print_stamps,
        ..Default::default()
    });
    pusher.set_observer(Some(studio.clone()));
    if let Err(e) = start(&pusher, &opts) {
        eprintln!("studio: {e}");
        return ExitCode::FAILURE;
    }
    let mut app = App {
        opts,
        pusher,
        studio,
        window: None,
        view: None,
        closed: false,
        started: Instant::now(),
        next_report: Instant::now() + Duration::from_secs(1),
        error: None,
    };
    let run = event_loop.run_app(&mut app);
    let _ = app.pusher.stop_push();
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
