//! A preview window (winit + wgpu): shows the local test pattern (what `push_test_pattern`
//! sends), or a played stream delivered by `V2TXLivePlayer` as wgpu textures on the window's own
//! device (`set_gpu_context` + `enable_observe_video_frame(true, Texture2D, Texture)`).
//!
//! ```sh
//! cargo run --release --example preview -- --seconds 10
//! cargo run --release --example preview -- --play http://127.0.0.1:8080/live/test.flv
//! ```
//! It prints `presented N frames` once a second, so scripts (and the test that screenshots it
//! under Xvfb) know the window shows pictures.

use onair::wgpu;
use onair::{
    BufferType, GpuContext, PixelFormat, Timestamp, V2TXLivePlayer, V2TXLivePlayerObserver,
};
use onair_codec::TestPattern;
use onair_gpu::FrameConverter;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use winit::application::ApplicationHandler;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::{Window, WindowId};

/// Where pictures come from.
enum Source {
    Pattern {
        pattern: TestPattern,
        converter: Box<FrameConverter>,
        n: u32,
    },
    Player {
        player: V2TXLivePlayer,
        latest: Arc<Mutex<Option<wgpu::Texture>>>,
    },
}

/// Keeps the newest texture the player delivers.
struct Latest(Arc<Mutex<Option<wgpu::Texture>>>);

impl V2TXLivePlayerObserver for Latest {
    fn on_render_video_texture(&self, _: &V2TXLivePlayer, texture: &wgpu::Texture, _: Timestamp) {
        *self.0.lock().unwrap() = Some(texture.clone());
    }
}

struct Gpu {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
    ctx: Arc<GpuContext>,
    pipeline: wgpu::RenderPipeline,
    sampler: wgpu::Sampler,
}

struct App {
    size: (u32, u32),
    play: Option<String>,
    until: Instant,
    gpu: Option<Gpu>,
    source: Option<Source>,
    presented: u64,
    last_report: Instant,
    next_frame: Instant,
    error: Option<String>,
}

impl App {
    fn init(&mut self, event_loop: &ActiveEventLoop) -> Result<(), String> {
        let attrs = Window::default_attributes()
            .with_title("onair preview")
            .with_inner_size(winit::dpi::PhysicalSize::new(self.size.0, self.size.1))
            .with_position(winit::dpi::PhysicalPosition::new(0, 0))
            .with_resizable(false);
        let window = Arc::new(event_loop.create_window(attrs).map_err(|e| e.to_string())?);
        let instance = wgpu::Instance::new(&wgpu::InstanceDescriptor {
            backends: wgpu::Backends::VULKAN | wgpu::Backends::GL,
            ..Default::default()
        });
        let surface = instance
            .create_surface(window.clone())
            .map_err(|e| e.to_string())?;
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            compatible_surface: Some(&surface),
            ..Default::default()
        }))
        .map_err(|e| format!("no adapter for the window: {e}"))?;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("preview"),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| e.to_string())?;
        let ctx = GpuContext::from_device(device, queue, adapter.get_info());
        let size = window.inner_size();
        let mut config = surface
            .get_default_config(&adapter, size.width.max(1), size.height.max(1))
            .ok_or("the surface does not fit the adapter")?;
        // Frame textures hold gamma-encoded RGB: present them through a non-sRGB format.
        let caps = surface.get_capabilities(&adapter);
        if let Some(f) = caps.formats.iter().find(|f| !f.is_srgb()) {
            config.format = *f;
        }
        surface.configure(&ctx.device, &config);
        let shader = ctx
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("blit"),
                source: wgpu::ShaderSource::Wgsl(include_str!("shaders/blit.wgsl").into()),
            });
        let pipeline = ctx
            .device
            .create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some("blit"),
                layout: None,
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some("vs"),
                    compilation_options: Default::default(),
                    buffers: &[],
                },
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some("fs"),
                    compilation_options: Default::default(),
                    targets: &[Some(config.format.into())],
                }),
                primitive: Default::default(),
                depth_stencil: None,
                multisample: Default::default(),
                multiview: None,
                cache: None,
            });
        let sampler = ctx.device.create_sampler(&wgpu::SamplerDescriptor {
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        self.source = Some(match &self.play {
            None => Source::Pattern {
                pattern: TestPattern::new(self.size.0, self.size.1),
                converter: Box::new(FrameConverter::new(ctx.clone())),
                n: 0,
            },
            Some(url) => {
                let latest = Arc::new(Mutex::new(None));
                let player = V2TXLivePlayer::new();
                player.set_gpu_context(ctx.clone());
                player.set_observer(Some(Arc::new(Latest(latest.clone()))));
                player
                    .enable_observe_video_frame(true, PixelFormat::Texture2D, BufferType::Texture)
                    .map_err(|e| e.to_string())?;
                player.start_play(url).map_err(|e| e.to_string())?;
                Source::Player { player, latest }
            }
        });
        self.gpu = Some(Gpu {
            window,
            surface,
            config,
            ctx,
            pipeline,
            sampler,
        });
        Ok(())
    }

    /// The texture to show now.
    fn frame(&mut self) -> Option<wgpu::Texture> {
        match self.source.as_mut()? {
            Source::Pattern {
                pattern,
                converter,
                n,
            } => {
                *n += 1;
                let ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                let frame = pattern.frame(*n, ms, Timestamp::ZERO, false);
                converter.to_texture(&frame).ok()
            }
            Source::Player { latest, .. } => latest.lock().unwrap().clone(),
        }
    }

    fn draw(&mut self) {
        let Some(texture) = self.frame() else { return };
        let Some(gpu) = self.gpu.as_ref() else { return };
        let Ok(output) = gpu.surface.get_current_texture() else {
            gpu.surface.configure(&gpu.ctx.device, &gpu.config);
            return;
        };
        let view = texture.create_view(&Default::default());
        let group = gpu
            .ctx
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("blit"),
                layout: &gpu.pipeline.get_bind_group_layout(0),
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::TextureView(&view),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::Sampler(&gpu.sampler),
                    },
                ],
            });
        let target = output.texture.create_view(&Default::default());
        let mut enc = gpu.ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("blit"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &target,
                    resolve_target: None,
                    depth_slice: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                ..Default::default()
            });
            pass.set_pipeline(&gpu.pipeline);
            pass.set_bind_group(0, &group, &[]);
            pass.draw(0..3, 0..1);
        }
        gpu.ctx.queue.submit([enc.finish()]);
        gpu.window.pre_present_notify();
        output.present();
        self.presented += 1;
        if self.last_report.elapsed() >= Duration::from_secs(1) {
            self.last_report = Instant::now();
            println!("presented {} frames", self.presented);
        }
    }
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.gpu.is_none() {
            if let Err(e) = self.init(event_loop) {
                self.error = Some(e);
                event_loop.exit();
            }
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => event_loop.exit(),
            WindowEvent::RedrawRequested => self.draw(),
            _ => {}
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        if Instant::now() >= self.until {
            event_loop.exit();
            return;
        }
        // About 30 pictures a second.
        let now = Instant::now();
        if now >= self.next_frame {
            self.next_frame = (self.next_frame + Duration::from_millis(33)).max(now);
            if let Some(gpu) = &self.gpu {
                gpu.window.request_redraw();
            }
        }
        event_loop.set_control_flow(ControlFlow::WaitUntil(self.next_frame));
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let seconds: f64 = flag("--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let width = flag("--width").and_then(|s| s.parse().ok()).unwrap_or(640);
    let height = flag("--height").and_then(|s| s.parse().ok()).unwrap_or(360);
    let event_loop = match EventLoop::new() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("no window system ({e}); run under X11 (or Xvfb)");
            return ExitCode::FAILURE;
        }
    };
    let mut app = App {
        size: (width, height),
        play: flag("--play").cloned(),
        until: Instant::now() + Duration::from_secs_f64(seconds),
        gpu: None,
        source: None,
        presented: 0,
        last_report: Instant::now(),
        next_frame: Instant::now(),
        error: None,
    };
    if let Err(e) = event_loop.run_app(&mut app) {
        eprintln!("event loop: {e}");
        return ExitCode::FAILURE;
    }
    if let Some(Source::Player { player, .. }) = app.source.take() {
        let _ = player.stop_play();
    }
    println!("presented {} frames", app.presented);
    match app.error {
        Some(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        None if app.presented == 0 => ExitCode::FAILURE,
        None => ExitCode::SUCCESS,
    }
}
