//! `FrameConverter`: I420 <-> RGBA8 textures on the GPU.
//!
//! Upload: the three planes go to R8 textures (`write_texture`, no padding needed) and a compute
//! pass writes the RGBA8 frame texture. Download: a compute pass converts the RGBA8 texture to
//! I420 and packs the planes four bytes to a word into one storage buffer, which is copied to
//! a mapped buffer; only `w*h*3/2` bytes (plus row padding to whole words) cross back, never
//! the 4 bytes per pixel of RGBA. Pipelines are built once; per-size resources are rebuilt
//! when the size changes.

use crate::context::GpuContext;
use crate::error::{GpuError, GpuResult};
use bytes::Bytes;
use onair_core::{PixelFormat, VideoFrame};
use std::sync::Arc;

/// The format of every frame texture onair hands out or accepts.
pub const FRAME_TEXTURE_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// The usages of frame textures: sampled, written by compute or render passes, copied.
pub const FRAME_TEXTURE_USAGE: wgpu::TextureUsages = wgpu::TextureUsages::TEXTURE_BINDING
    .union(wgpu::TextureUsages::STORAGE_BINDING)
    .union(wgpu::TextureUsages::RENDER_ATTACHMENT)
    .union(wgpu::TextureUsages::COPY_SRC)
    .union(wgpu::TextureUsages::COPY_DST);

/// A new RGBA8 frame texture of `width` x `height` with [`FRAME_TEXTURE_USAGE`].
pub fn new_frame_texture(ctx: &GpuContext, width: u32, height: u32, label: &str) -> wgpu::Texture {
    ctx.device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: FRAME_TEXTURE_FORMAT,
        usage: FRAME_TEXTURE_USAGE,
        view_formats: &[],
    })
}

/// Per-size resources.
struct Sized {
    width: u32,
    height: u32,
    planes: [wgpu::Texture; 3],
    packed: wgpu::Buffer,
    readback: wgpu::Buffer,
    params: wgpu::Buffer,
    y_stride_words: u32,
    c_stride_words: u32,
}

/// Converts frames between I420 and RGBA8 textures on one [`GpuContext`].
pub struct FrameConverter {
    ctx: Arc<GpuContext>,
    upload: wgpu::ComputePipeline,
    luma: wgpu::ComputePipeline,
    chroma: wgpu::ComputePipeline,
    sized: Option<Sized>,
}

impl std::fmt::Debug for FrameConverter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameConverter")
            .field("adapter", &self.ctx.adapter.name)
            .finish_non_exhaustive()
    }
}

fn pipeline(ctx: &GpuContext, source: &str, entry: &str, label: &str) -> wgpu::ComputePipeline {
    let module = ctx
        .device
        .create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
    ctx.device
        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(label),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
}

fn words(bytes: u32) -> u32 {
    bytes.div_ceil(4)
}

impl FrameConverter {
    /// Builds the pipelines on `ctx`.
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        let upload = pipeline(
            &ctx,
            include_str!("shaders/i420_to_rgba.wgsl"),
            "main",
            "onair i420->rgba",
        );
        let down = include_str!("shaders/rgba_to_i420.wgsl");
        let luma = pipeline(&ctx, down, "luma", "onair rgba->i420 luma");
        let chroma = pipeline(&ctx, down, "chroma", "onair rgba->i420 chroma");
        Self {
            ctx,
            upload,
            luma,
            chroma,
            sized: None,
        }
    }

    /// The context this converter works on.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    fn sized(&mut self, width: u32, height: u32) -> GpuResult<()> {
        if width == 0 || height == 0 || width % 2 != 0 || height % 2 != 0 {
            return Err(GpuError::InvalidFrame(format!(
                "{width}x{height}: GPU frames need an even, non-zero size"
            )));
        }
        if !matches!(&self.sized, Some(s) if (s.width, s.height) == (width, height)) {
            let d = &self.ctx.device;
            let plane = |w, h, label| {
                d.create_texture(&wgpu::TextureDescriptor {
                    label: Some(label),
                    size: wgpu::Extent3d {
                        width: w,
                        height: h,
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
            let (cw, ch) = (width / 2, height / 2);
            let y_stride_words = words(width);
            let c_stride_words = words(cw);
            let total_words = y_stride_words * height + 2 * c_stride_words * ch;
            let size = u64::from(total_words) * 4;
            let packed = d.create_buffer(&wgpu::BufferDescriptor {
                label: Some("onair i420 packed"),
                size,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            let readback = d.create_buffer(&wgpu::BufferDescriptor {
                label: Some("onair i420 readback"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let u_offset = y_stride_words * height;
            let v_offset = u_offset + c_stride_words * ch;
            let params_words = [
                width,
                height,
                y_stride_words,
                c_stride_words,
                u_offset,
                v_offset,
                0,
                0,
            ];
            let params_bytes: Vec<u8> = params_words.iter().flat_map(|w| w.to_le_bytes()).collect();
            let params = d.create_buffer(&wgpu::BufferDescriptor {
                label: Some("onair i420 params"),
                size: params_bytes.len() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            self.ctx.queue.write_buffer(&params, 0, &params_bytes);
            self.sized = Some(Sized {
                width,
                height,
                planes: [
                    plane(width, height, "onair y"),
                    plane(cw, ch, "onair u"),
                    plane(cw, ch, "onair v"),
                ],
                packed,
                readback,
                params,
                y_stride_words,
                c_stride_words,
            });
        }
        Ok(())
    }

    fn check_texture(
        texture: &wgpu::Texture,
        width: u32,
        height: u32,
        usage: wgpu::TextureUsages,
    ) -> GpuResult<()> {
        let s = texture.size();
        if texture.format() != FRAME_TEXTURE_FORMAT
            || (s.width, s.height) != (width, height)
            || !texture.usage().contains(usage)
        {
            return Err(GpuError::InvalidFrame(format!(
                "texture is {:?} {}x{} with {:?}; onair needs {FRAME_TEXTURE_FORMAT:?} {width}x{height} with {usage:?}",
                texture.format(),
                s.width,
                s.height,
                texture.usage()
            )));
        }
        Ok(())
    }

    /// Writes I420 `frame` into `target` (an RGBA8 frame texture of the frame's size).
    pub fn upload(&mut self, frame: &VideoFrame, target: &wgpu::Texture) -> GpuResult<()> {
        if frame.format() != PixelFormat::I420 {
            return Err(GpuError::InvalidFrame(format!(
                "upload takes I420, not {}",
                frame.format()
            )));
        }
        let (w, h) = (frame.width(), frame.height());
        Self::check_texture(target, w, h, wgpu::TextureUsages::STORAGE_BINDING)?;
        let ctx = Arc::clone(&self.ctx);
        self.sized(w, h)?;
        let Some(sized) = self.sized.as_ref() else {
            return Err(GpuError::Device("no per-size resources".into()));
        };
        write_planes(&ctx.queue, frame, &sized.planes)?;
        let view = |t: &wgpu::Texture| t.create_view(&wgpu::TextureViewDescriptor::default());
        let (vy, vu, vv, vt) = (
            view(&sized.planes[0]),
            view(&sized.planes[1]),
            view(&sized.planes[2]),
            view(target),
        );
        let group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("onair upload"),
            layout: &self.upload.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&vy),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&vu),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(&vv),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::TextureView(&vt),
                },
            ],
        });
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.upload);
            pass.set_bind_group(0, &group, &[]);
            pass.dispatch_workgroups(w.div_ceil(8), h.div_ceil(8), 1);
        }
        ctx.queue.submit([enc.finish()]);
        Ok(())
    }

    /// A new frame texture holding I420 `frame` as RGBA8.
    pub fn to_texture(&mut self, frame: &VideoFrame) -> GpuResult<wgpu::Texture> {
        let t = new_frame_texture(&self.ctx, frame.width(), frame.height(), "onair frame");
        self.upload(frame, &t)?;
        Ok(t)
    }

    /// Converts RGBA8 `texture` to a tightly packed I420 frame (waits for the GPU).
    pub fn download(&mut self, texture: &wgpu::Texture) -> GpuResult<VideoFrame> {
        let s = texture.size();
        let (w, h) = (s.width, s.height);
        Self::check_texture(texture, w, h, wgpu::TextureUsages::TEXTURE_BINDING)?;
        let ctx = Arc::clone(&self.ctx);
        self.sized(w, h)?;
        let Some(sized) = self.sized.as_ref() else {
            return Err(GpuError::Device("no per-size resources".into()));
        };
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let group = |p: &wgpu::ComputePipeline| {
            ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("onair download"),
                layout: &p.get_bind_group_layout(0),
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::TextureView(&view),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: sized.packed.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: sized.params.as_entire_binding(),
                    },
                ],
            })
        };
        let (gl, gc) = (group(&self.luma), group(&self.chroma));
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.luma);
            pass.set_bind_group(0, &gl, &[]);
            pass.dispatch_workgroups(sized.y_stride_words.div_ceil(8), h.div_ceil(8), 1);
            pass.set_pipeline(&self.chroma);
            pass.set_bind_group(0, &gc, &[]);
            pass.dispatch_workgroups(sized.c_stride_words.div_ceil(8), (h / 2).div_ceil(8), 1);
        }
        enc.copy_buffer_to_buffer(&sized.packed, 0, &sized.readback, 0, None);
        ctx.queue.submit([enc.finish()]);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        sized
            .readback
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send(r);
            });
        ctx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Device(format!("waiting for the GPU: {e}")))?;
        rx.recv()
            .map_err(|_| GpuError::Device("the readback never completed".into()))?
            .map_err(|e| GpuError::Device(format!("readback: {e}")))?;
        let (wu, hu) = (w as usize, h as usize);
        let mut out = Vec::with_capacity(wu * hu * 3 / 2);
        {
            let mapped = sized.readback.slice(..).get_mapped_range();
            let ys = sized.y_stride_words as usize * 4;
            let cs = sized.c_stride_words as usize * 4;
            for r in 0..hu {
                out.extend_from_slice(&mapped[r * ys..r * ys + wu]);
            }
            let base = ys * hu;
            for plane in 0..2 {
                let at = base + plane * cs * (hu / 2);
                for r in 0..hu / 2 {
                    out.extend_from_slice(&mapped[at + r * cs..at + r * cs + wu / 2]);
                }
            }
        }
        sized.readback.unmap();
        VideoFrame::new(PixelFormat::I420, w, h, Bytes::from(out))
            .map_err(|e| GpuError::InvalidFrame(e.to_string()))
    }
}

/// Writes an I420 frame's three planes into R8 textures of the planes' sizes (the whole of
/// each texture), honouring the frame's strides; a plane too short for its texture is
/// INVALID_FRAME. Shared by the converter's upload and the render views.
pub(crate) fn write_planes(
    queue: &wgpu::Queue,
    frame: &VideoFrame,
    textures: &[wgpu::Texture; 3],
) -> GpuResult<()> {
    for (i, tex) in textures.iter().enumerate() {
        let plane = frame
            .plane(i)
            .ok_or_else(|| GpuError::InvalidFrame(format!("I420 frame without plane {i}")))?;
        let size = tex.size();
        let needed = plane.stride * (size.height as usize - 1) + size.width as usize;
        if plane.data.len() < needed {
            return Err(GpuError::InvalidFrame(format!(
                "plane {i} holds {} bytes; {}x{} needs {needed}",
                plane.data.len(),
                size.width,
                size.height
            )));
        }
        queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: tex,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            plane.data,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(plane.stride as u32),
                rows_per_image: Some(size.height),
            },
            size,
        );
    }
    Ok(())
}
