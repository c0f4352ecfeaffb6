//! The drawing side of a render view: the I420 planes of the newest frame as three R8 textures,
//! a render pass that clears the window to black and draws the picture into the layout's
//! viewport (YUV to RGB in the fragment shader, so no RGBA copy of the frame exists), and the
//! debug overlay's texture blended over its corner.

use super::layout::Layout;
use super::overlay::TextImage;
use crate::context::GpuContext;
use crate::error::{GpuError, GpuResult};
use onair_core::{PixelFormat, VideoFrame};
use std::sync::Arc;

/// The plane textures of one frame size.
struct Planes {
    size: (u32, u32),
    /// Bound with the filtering sampler (a scaled picture).
    group: wgpu::BindGroup,
    /// Bound with the nearest sampler: a picture drawn pixel for pixel needs no filtering,
    /// which is several times cheaper on a CPU driver (lavapipe) and exact.
    exact: wgpu::BindGroup,
    textures: [wgpu::Texture; 3],
}

struct Overlay {
    size: (u32, u32),
    group: wgpu::BindGroup,
}

/// Pipelines and textures of one view (one surface format).
pub(crate) struct Renderer {
    ctx: Arc<GpuContext>,
    picture: wgpu::RenderPipeline,
    overlay_pipeline: wgpu::RenderPipeline,
    sampler: wgpu::Sampler,
    nearest: wgpu::Sampler,
    params: wgpu::Buffer,
    planes: Option<Planes>,
    overlay: Option<Overlay>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("frame", &self.planes.as_ref().map(|p| p.size))
            .finish_non_exhaustive()
    }
}

impl Renderer {
    pub(crate) fn new(ctx: Arc<GpuContext>, format: wgpu::TextureFormat) -> Self {
        let device = &ctx.device;
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("onair view"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../shaders/view.wgsl").into()),
        });
        let pipeline = |entry: &str, blend: Option<wgpu::BlendState>| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(entry),
                layout: None,
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some("vs"),
                    compilation_options: Default::default(),
                    buffers: &[],
                },
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some(entry),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format,
                        blend,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                primitive: Default::default(),
                depth_stencil: None,
                multisample: Default::default(),
                multiview: None,
                cache: None,
            })
        };
        let picture = pipeline("fs_picture", None);
        let overlay_pipeline = pipeline("fs_overlay", Some(wgpu::BlendState::ALPHA_BLENDING));
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("onair view"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            address_mode_u: wgpu::AddressMode::ClampToEdge,
            address_mode_v: wgpu::AddressMode::ClampToEdge,
            ..Default::default()
        });
        let nearest = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("onair view exact"),
            address_mode_u: wgpu::AddressMode::ClampToEdge,
            address_mode_v: wgpu::AddressMode::ClampToEdge,
            ..Default::default()
        });
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("onair view params"),
            size: 32,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Self {
            ctx,
            picture,
            overlay_pipeline,
            sampler,
            nearest,
            params,
            planes: None,
            overlay: None,
        }
    }

    /// The size of the frame uploaded last.
    pub(crate) fn frame_size(&self) -> Option<(u32, u32)> {
        self.planes.as_ref().map(|p| p.size)
    }

    /// Uploads an I420 frame's planes (textures are made again only when the size changes).
    pub(crate) fn upload(&mut self, frame: &VideoFrame) -> GpuResult<()> {
        if frame.format() != PixelFormat::I420 {
            return Err(GpuError::InvalidFrame(format!(
                "a render view shows I420 frames, not {}",
                frame.format()
            )));
        }
        let (w, h) = (frame.width(), frame.height());
        if self.planes.as_ref().map(|p| p.size) != Some((w, h)) {
            self.planes = Some(self.make_planes(w, h));
        }
        let Some(planes) = self.planes.as_ref() else {
            return Ok(());
        };
        crate::convert::write_planes(&self.ctx.queue, frame, &planes.textures)
    }

    fn make_planes(&self, w: u32, h: u32) -> Planes {
        let device = &self.ctx.device;
        let tex = |pw: u32, ph: u32| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some("onair view plane"),
                size: wgpu::Extent3d {
                    width: pw.max(1),
                    height: ph.max(1),
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::R8Unorm,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            })
        };
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let textures = [tex(w, h), tex(cw, ch), tex(cw, ch)];
        let views: Vec<_> = textures
            .iter()
            .map(|t| t.create_view(&Default::default()))
            .collect();
        let group = |sampler: &wgpu::Sampler| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("onair view planes"),
                layout: &self.picture.get_bind_group_layout(0),
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::TextureView(&views[0]),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::TextureView(&views[1]),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::TextureView(&views[2]),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: wgpu::BindingResource::Sampler(sampler),
                    },
                    wgpu::BindGroupEntry {
                        binding: 4,
                        resource: self.params.as_entire_binding(),
                    },
                ],
            })
        };
        Planes {
            size: (w, h),
            group: group(&self.sampler),
            exact: group(&self.nearest),
            textures,
        }
    }

    /// Sets (or clears) the overlay's picture.
    pub(crate) fn set_overlay(&mut self, image: Option<&TextImage>) {
        let Some(img) = image else {
            self.overlay = None;
            return;
        };
        let device = &self.ctx.device;
        let size = wgpu::Extent3d {
            width: img.width,
            height: img.height,
            depth_or_array_layers: 1,
        };
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("onair view overlay"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        self.ctx.queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            &img.rgba,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(img.width * 4),
                rows_per_image: Some(img.height),
            },
            size,
        );
        let view = texture.create_view(&Default::default());
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("onair view overlay"),
            layout: &self.overlay_pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 5,
                    resource: wgpu::BindingResource::TextureView(&view),
                },
                wgpu::BindGroupEntry {
                    binding: 6,
                    resource: wgpu::BindingResource::Sampler(&self.sampler),
                },
            ],
        });
        self.overlay = Some(Overlay {
            size: (img.width, img.height),
            group,
        });
    }

    /// Clears `target` (a `window` sized surface texture) to black and draws the picture with
    /// `layout`, then the overlay at the viewport's top-left corner (clipped to the window).
    pub(crate) fn draw(&self, target: &wgpu::TextureView, window: (u32, u32), layout: &Layout) {
        let [a, b] = layout.uv;
        let params: Vec<u8> = [a[0], a[1], a[2], 0.0, b[0], b[1], b[2], 0.0]
            .iter()
            .flat_map(|f| f.to_le_bytes())
            .collect();
        self.ctx.queue.write_buffer(&self.params, 0, &params);
        let mut enc = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("onair view"),
            });
        {
            let mut pass = enc.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("onair view"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: target,
                    resolve_target: None,
                    depth_slice: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                ..Default::default()
            });
            let vp = layout.viewport;
            if let (Some(planes), true) = (&self.planes, vp.width > 0 && vp.height > 0) {
                pass.set_viewport(
                    vp.x as f32,
                    vp.y as f32,
                    vp.width as f32,
                    vp.height as f32,
                    0.0,
                    1.0,
                );
                pass.set_pipeline(&self.picture);
                let group = if layout.is_one_to_one(planes.size) {
                    &planes.exact
                } else {
                    &planes.group
                };
                pass.set_bind_group(0, group, &[]);
                pass.draw(0..3, 0..1);
            }
            if let Some(o) = &self.overlay {
                // Inside the picture when it is letterboxed, else the window's corner.
                let (x, y) = (vp.x.min(window.0), vp.y.min(window.1));
                // Drawn whole or not at all (the text is laid out for the window's width).
                if x + o.size.0 <= window.0 && y + o.size.1 <= window.1 {
                    pass.set_viewport(
                        x as f32,
                        y as f32,
                        o.size.0 as f32,
                        o.size.1 as f32,
                        0.0,
                        1.0,
                    );
                    pass.set_pipeline(&self.overlay_pipeline);
                    pass.set_bind_group(0, &o.group, &[]);
                    pass.draw(0..3, 0..1);
                }
            }
        }
        self.ctx.queue.submit([enc.finish()]);
    }
}
