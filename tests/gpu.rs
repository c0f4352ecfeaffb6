//! The GPU path on a real Vulkan driver (lavapipe on machines without a GPU): GPU RGBA -> I420
//! against the CPU conversion, the I420 -> texture -> I420 round trip, and a wrong texture
//! refused with an error rather than a wgpu abort.

use onair_codec::convert::{from_i420, to_i420};
use onair_codec::TestPattern;
use onair_core::{PixelFormat, Timestamp, VideoFrame};
use onair_gpu::{new_frame_texture, wgpu, FrameConverter, GpuContext};

fn context() -> std::sync::Arc<GpuContext> {
    GpuContext::new().unwrap_or_else(|e| {
        panic!("no wgpu adapter: {e}\n(install a Vulkan driver: `cargo xtask setup` installs mesa-vulkan-drivers)")
    })
}

fn max_diff(a: &[u8], b: &[u8]) -> (u8, f64) {
    assert_eq!(a.len(), b.len());
    let max = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
    let mean = a.iter().zip(b).map(|(x, y)| f64::from(x.abs_diff(*y))).sum::<f64>() / a.len() as f64;
    (max, mean)
}

fn write_rgba(ctx: &GpuContext, texture: &wgpu::Texture, rgba: &VideoFrame) {
    ctx.queue.write_texture(
        wgpu::TexelCopyTextureInfo {
            texture,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        rgba.data(),
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(rgba.stride()),
            rows_per_image: Some(rgba.height()),
        },
        texture.size(),
    );
}

#[test]
fn gpu_rgba_to_i420_matches_the_cpu_within_2_levels() {
    let ctx = context();
    eprintln!("adapter: {} ({:?})", ctx.adapter.name, ctx.adapter.backend);
    let mut conv = FrameConverter::new(ctx.clone());
    // Odd word counts on purpose: 1282 is not a multiple of 4, nor is its half.
    for (w, h) in [(1280u32, 720u32), (1282, 722), (368, 640)] {
        let i420 = TestPattern::new(w, h).frame(7, 1_700_000_000_000, Timestamp::ZERO, false);
        let rgba = from_i420(&i420, PixelFormat::Rgba32).unwrap();
        let texture = new_frame_texture(&ctx, w, h, "test");
        write_rgba(&ctx, &texture, &rgba);
        let gpu = conv.download(&texture).unwrap();
        let cpu = to_i420(&rgba).unwrap();
        let (max, mean) = max_diff(gpu.data(), cpu.data());
        eprintln!("{w}x{h}: GPU vs CPU RGBA->I420 max {max} mean {mean:.3}");
        assert!(max <= 2, "{w}x{h}: GPU and CPU differ by {max} levels");
    }
}

#[test]
fn i420_round_trips_through_a_texture() {
    let ctx = context();
    let mut conv = FrameConverter::new(ctx.clone());
    let i420 = TestPattern::new(640, 360).frame(3, 1_700_000_000_000, Timestamp::ZERO, false);
    let texture = conv.to_texture(&i420).unwrap();
    let back = conv.download(&texture).unwrap();
    let (max, mean) = max_diff(back.data(), i420.data());
    eprintln!("I420 -> texture -> I420: max {max} mean {mean:.3}");
    // Chroma is replicated on the way up and averaged on the way down; out-of-gamut colours
    // of the pattern clamp in RGB. The picture and its stamp survive.
    assert!(mean < 3.0, "mean difference {mean}");
    assert_eq!(onair_codec::read_stamp(&back).map(|s| s.counter), Some(3));
}

#[test]
fn a_texture_of_the_wrong_kind_is_an_error() {
    let ctx = context();
    let mut conv = FrameConverter::new(ctx.clone());
    let bgra = ctx.device.create_texture(&wgpu::TextureDescriptor {
        label: None,
        size: wgpu::Extent3d { width: 64, height: 64, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Bgra8Unorm,
        usage: wgpu::TextureUsages::TEXTURE_BINDING,
        view_formats: &[],
    });
    let e = conv.download(&bgra).unwrap_err();
    assert!(e.to_string().contains("Rgba8Unorm"), "{e}");
    let odd = new_frame_texture(&ctx, 63, 64, "odd");
    assert!(conv.download(&odd).is_err());
}
