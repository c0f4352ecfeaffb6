//! A WGSL compute effect for the GPU custom-process hook, shared by the `gpu_process` example
//! and the hook's tests: `src` is read, `dst` written, one dispatch per frame on the engine's
//! queue.

use onair::wgpu;
use onair::GpuContext;

/// A compiled effect: a compute shader with `src: texture_2d<f32>` at binding 0 and
/// `dst: texture_storage_2d<rgba8unorm, write>` at binding 1, entry point `main`.
#[derive(Debug)]
pub struct GpuEffect {
    pipeline: wgpu::ComputePipeline,
}

/// The invert effect's WGSL.
pub const INVERT_WGSL: &str = include_str!("../shaders/invert.wgsl");

impl GpuEffect {
    /// Compiles `wgsl` on the context's device.
    pub fn new(ctx: &GpuContext, wgsl: &str) -> Self {
        let module = ctx
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("effect"),
                source: wgpu::ShaderSource::Wgsl(wgsl.into()),
            });
        let pipeline = ctx
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("effect"),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
        Self { pipeline }
    }

    /// Runs the effect from `src` into `dst` and submits it.
    pub fn run(&self, ctx: &GpuContext, src: &wgpu::Texture, dst: &wgpu::Texture) {
        let view = |t: &wgpu::Texture| t.create_view(&wgpu::TextureViewDescriptor::default());
        let (vs, vd) = (view(src), view(dst));
        let group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("effect"),
            layout: &self.pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&vs),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&vd),
                },
            ],
        });
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &group, &[]);
            pass.dispatch_workgroups(src.width().div_ceil(8), src.height().div_ceil(8), 1);
        }
        ctx.queue.submit([enc.finish()]);
    }
}
