//! The GPU path on a real Vulkan driver (lavapipe on machines without a GPU): GPU RGBA -> I420
//! against the CPU conversion, the I420 -> texture -> I420 round trip, and a wrong texture
//! refused with an error rather than a wgpu abort.

#[path = "../examples/gpu_process/effect.rs"]
mod effect;

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
    let max = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0);
    let mean = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum::<f64>()
        / a.len() as f64;
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
        size: wgpu::Extent3d {
            width: 64,
            height: 64,
            depth_or_array_layers: 1,
        },
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

/// Runs the invert effect in the hook and records the GPU lifecycle.
#[derive(Default)]
struct Inverter {
    state: std::sync::Mutex<Option<(std::sync::Arc<GpuContext>, effect::GpuEffect)>>,
    log: std::sync::Mutex<Vec<&'static str>>,
}

impl onair::V2TXLivePusherObserver for Inverter {
    fn on_gpu_context_created(&self, ctx: &std::sync::Arc<GpuContext>) {
        let effect = effect::GpuEffect::new(ctx, effect::INVERT_WGSL);
        *self.state.lock().unwrap() = Some((ctx.clone(), effect));
        self.log.lock().unwrap().push("created");
    }
    fn on_gpu_context_destroyed(&self) {
        self.state.lock().unwrap().take();
        self.log.lock().unwrap().push("destroyed");
    }
    fn on_process_video_frame(&self, frame: onair::ProcessVideoFrame<'_>) {
        if let onair::ProcessVideoFrame::Texture { src, dst, .. } = frame {
            if let Some((ctx, effect)) = self.state.lock().unwrap().as_ref() {
                effect.run(ctx, src, dst);
            }
            self.log.lock().unwrap().push("frame");
        }
    }
}

/// A server, a pusher at 640x360 with `setup` applied, one frame decoded back by ffmpeg from
/// HTTP-FLV (yuv420p); the push is stopped before returning.
fn push_one_frame(stream: &str, setup: impl FnOnce(&onair::V2TXLivePusher)) -> (Vec<u8>, u32, u32) {
    use onair::*;
    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(dir.path());
    let (w, h) = (640u32, 360u32);
    let pusher = V2TXLivePusher::new();
    pusher
        .set_video_quality(VideoEncoderParam::custom(Size::new(w, h), 15, 1500, 800).unwrap())
        .unwrap();
    setup(&pusher);
    pusher
        .start_push(&server.push_url("live", stream, std::time::Duration::from_secs(600)))
        .unwrap();
    let flv = format!("{}/live/{stream}.flv", server.http_base());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let decoded = loop {
        let out = std::process::Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-i",
                &flv,
                "-frames:v",
                "1",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "yuv420p",
                "-",
            ])
            .output()
            .unwrap();
        if out.status.success() && out.stdout.len() == (w * h * 3 / 2) as usize {
            break out.stdout;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no frame decoded from {flv}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    pusher.stop_push().unwrap();
    server.stop();
    (decoded, w, h)
}

/// Undoes the inversion in YUV (RGB inversion is Y -> 251 - Y, C -> 256 - C in BT.601 limited
/// range), reads the stamp, regenerates that exact pattern frame and checks the decoded luma is
/// its inverse (and not the pattern itself).
fn assert_inverse_of_the_pattern(decoded: &[u8], w: u32, h: u32) {
    let luma = (w * h) as usize;
    let undone: Vec<u8> = decoded
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if i < luma {
                251u8.saturating_sub(v)
            } else {
                (256 - i32::from(v)).clamp(0, 255) as u8
            }
        })
        .collect();
    let undone = VideoFrame::new(PixelFormat::I420, w, h, undone.into()).unwrap();
    let stamp = onair_codec::read_stamp(&undone)
        .expect("the inverted-back frame carries the pattern's stamp");
    let original =
        TestPattern::new(w, h).frame(stamp.counter, stamp.capture_ms, Timestamp::ZERO, false);
    let expected_inverse: Vec<u8> = original.data()[..luma]
        .iter()
        .map(|&y| 251 - y.min(251))
        .collect();
    let (_, mean_inverse) = max_diff(&decoded[..luma], &expected_inverse);
    let (_, mean_plain) = max_diff(&decoded[..luma], &original.data()[..luma]);
    eprintln!("decoded luma vs the inverse pattern: mean {mean_inverse:.2}; vs the pattern itself: {mean_plain:.2}");
    assert!(
        mean_inverse < 4.0,
        "the pushed stream is not the inverse (mean diff {mean_inverse:.2})"
    );
    assert!(
        mean_plain > 40.0,
        "the pushed stream looks like the plain pattern"
    );
}

#[test]
fn an_invert_shader_in_the_hook_inverts_the_pushed_stream() {
    use onair::*;
    let observer = std::sync::Arc::new(Inverter::default());
    let (decoded, w, h) = push_one_frame("inverted", |pusher| {
        pusher.set_observer(Some(observer.clone()));
        pusher
            .enable_custom_video_process(true, PixelFormat::Texture2D, BufferType::Texture)
            .unwrap();
    });
    // The lifecycle: created, frames, destroyed, all before stop_push returned.
    let log = observer.log.lock().unwrap().clone();
    assert_eq!(log.first(), Some(&"created"), "{log:?}");
    assert_eq!(log.last(), Some(&"destroyed"), "{log:?}");
    assert!(
        log.iter().filter(|e| **e == "frame").count() >= 5,
        "{log:?}"
    );
    assert_inverse_of_the_pattern(&decoded, w, h);
}

/// The CPU hook: inverts BGRA32 byte buffers.
struct CpuInverter;

impl onair::V2TXLivePusherObserver for CpuInverter {
    fn on_process_video_frame(&self, frame: onair::ProcessVideoFrame<'_>) {
        if let onair::ProcessVideoFrame::Bytes {
            pixel_format: PixelFormat::Bgra32,
            src,
            dst,
            ..
        } = frame
        {
            for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                d[..3].copy_from_slice(&[255 - s[0], 255 - s[1], 255 - s[2]]);
            }
        }
    }
}

#[test]
fn the_bgra32_byte_buffer_hook_inverts_the_pushed_stream_on_the_cpu() {
    use onair::*;
    let (decoded, w, h) = push_one_frame("cpu-inverted", |pusher| {
        pusher.set_observer(Some(std::sync::Arc::new(CpuInverter)));
        pusher
            .enable_custom_video_process(true, PixelFormat::Bgra32, BufferType::ByteBuffer)
            .unwrap();
    });
    assert_inverse_of_the_pattern(&decoded, w, h);
}

#[test]
fn unsupported_hook_combinations_are_not_supported() {
    use onair::*;
    let pusher = V2TXLivePusher::new();
    for (f, b) in [
        (PixelFormat::Texture2D, BufferType::ByteBuffer),
        (PixelFormat::I420, BufferType::Texture),
        (PixelFormat::Nv12, BufferType::ByteBuffer),
        (PixelFormat::Unknown, BufferType::Unknown),
    ] {
        let e = pusher.enable_custom_video_process(true, f, b).unwrap_err();
        assert_eq!(e.code, V2TXLiveCode::ErrorNotSupported, "{f} {b:?}: {e}");
    }
    pusher
        .enable_custom_video_process(true, PixelFormat::I420, BufferType::ByteBuffer)
        .unwrap();
    pusher
        .enable_custom_video_process(false, PixelFormat::Unknown, BufferType::Unknown)
        .unwrap();
}

/// Reads the delivered textures back and keeps the stamps they carry.
#[derive(Default)]
struct TextureSink {
    converter: std::sync::Mutex<Option<FrameConverter>>,
    stamps: std::sync::Mutex<Vec<u32>>,
}

impl onair::V2TXLivePlayerObserver for TextureSink {
    fn on_render_video_texture(
        &self,
        player: &onair::V2TXLivePlayer,
        texture: &wgpu::Texture,
        _: Timestamp,
    ) {
        let mut conv = self.converter.lock().unwrap();
        let conv = conv.get_or_insert_with(|| FrameConverter::new(player.gpu_context().unwrap()));
        let frame = conv.download(texture).unwrap();
        if let Some(s) = onair_codec::read_stamp(&frame) {
            self.stamps.lock().unwrap().push(s.counter);
        }
    }
}

#[test]
fn the_player_delivers_frames_as_textures_on_the_shared_device() {
    use onair::*;
    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(dir.path());
    let pusher = V2TXLivePusher::new();
    pusher
        .start_push(&server.push_url("live", "tex", std::time::Duration::from_secs(600)))
        .unwrap();

    // The app's own context, shared with the player (as a window's device would be).
    let ctx = context();
    let player = V2TXLivePlayer::new();
    player.set_gpu_context(ctx.clone());
    let sink = std::sync::Arc::new(TextureSink::default());
    player.set_observer(Some(sink.clone()));
    player
        .enable_observe_video_frame(true, PixelFormat::Texture2D, BufferType::Texture)
        .unwrap();
    assert!(std::sync::Arc::ptr_eq(&player.gpu_context().unwrap(), &ctx));
    let url = format!("{}/live/tex", server.rtmp_base());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    player.start_play(&url).unwrap();
    while sink.stamps.lock().unwrap().len() < 10 {
        assert!(
            std::time::Instant::now() < deadline,
            "fewer than 10 textures with a stamp"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    player.stop_play().unwrap();
    pusher.stop_push().unwrap();
    server.stop();
    let stamps = sink.stamps.lock().unwrap().clone();
    assert!(
        stamps.windows(2).all(|p| p[1] > p[0]),
        "counters rise: {stamps:?}"
    );
}
