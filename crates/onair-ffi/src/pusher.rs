//! `onair_pusher_*`: V2TXLivePusher for C. An `OnairPusher*` is an opaque handle from
//! `onair_pusher_create`, valid until `onair_pusher_release`; every function may be called
//! from any thread (release excepted: no other call on the same handle may run concurrently
//! with it), inside the pusher's own callbacks included.

use crate::guard::{bytes, call, call_value, handle, null, text};
use crate::pusher_observer::{CPusherObserver, OnairPusherObserver};
use crate::slot::UserData;
use crate::types::{
    audio_quality, buffer_type, pixel_format, resolution, resolution_mode, rotation,
    OnairAudioFrame, OnairAudioQuality, OnairBufferType, OnairCode, OnairPixelFormat,
    OnairVideoEncoderParam, OnairVideoFrame, ONAIR_ERROR_INVALID_PARAMETER,
};
use bytes::Bytes;
use onair::{
    BufferType, LiveError, LiveResult, PixelFormat, V2TXLiveAudioFrame, V2TXLiveCode,
    V2TXLivePusher, V2TXLiveVideoFrame, VideoEncoderParam, VideoSource,
};
use std::ffi::c_void;
use std::os::raw::c_char;
use std::sync::Arc;

/// A pusher handle (opaque to C).
#[derive(Debug)]
pub struct OnairPusher {
    pusher: V2TXLivePusher,
    observer: Arc<CPusherObserver>,
}

/// Runs `f` on the pusher behind `p`.
///
/// # Safety
/// `p` is NULL or a live handle from `onair_pusher_create`.
unsafe fn with(
    what: &str,
    p: *const OnairPusher,
    f: impl FnOnce(&V2TXLivePusher) -> LiveResult,
) -> OnairCode {
    call(what, || {
        // SAFETY: forwarded from the caller.
        let p = unsafe { handle(p, "pusher") }?;
        f(&p.pusher)
    })
}

/// Creates a pusher (test pattern and tone as its sources until the app picks others).
/// Release it with `onair_pusher_release`.
#[no_mangle]
pub extern "C" fn onair_pusher_create() -> *mut OnairPusher {
    call_value("onair_pusher_create", std::ptr::null_mut(), || {
        let observer = Arc::new(CPusherObserver::default());
        let pusher = V2TXLivePusher::new();
        pusher.set_observer(Some(
            Arc::clone(&observer) as Arc<dyn onair::V2TXLivePusherObserver>
        ));
        Box::into_raw(Box::new(OnairPusher { pusher, observer }))
    })
}

/// Stops the push (as `onair_pusher_stop_push`) and frees the handle. NULL is ignored. May be
/// called from inside one of this pusher's callbacks; no callback runs after it returns.
///
/// # Safety
/// `pusher` is NULL or a live handle, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_release(pusher: *mut OnairPusher) {
    if pusher.is_null() {
        return;
    }
    let _ = call("onair_pusher_release", || {
        // SAFETY: a live handle from `onair_pusher_create`, released once by the contract.
        let boxed = unsafe { Box::from_raw(pusher) };
        boxed.observer.slot.set(None);
        drop(boxed);
        Ok(())
    });
}

/// Sets the observer: a copy of `*observer` is kept, with `user_data` passed back as every
/// callback's first argument. NULL clears it. Once this returns the previous observer is not
/// called again (unless this is itself called from inside one of its callbacks, which then
/// finishes), so the app may free the old `user_data`.
///
/// # Safety
/// `pusher` is NULL or a live handle; `observer` is NULL or points to a valid table.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_observer(
    pusher: *mut OnairPusher,
    observer: *const OnairPusherObserver,
    user_data: *mut c_void,
) -> OnairCode {
    call("onair_pusher_set_observer", || {
        // SAFETY: forwarded from the caller.
        let p = unsafe { handle(pusher, "pusher") }?;
        // SAFETY: NULL or a valid table by the caller's contract; copied now.
        let table = unsafe { observer.as_ref() }.copied();
        p.observer.slot.set(table.map(|t| (t, UserData(user_data))));
        Ok(())
    })
}

/// Starts pushing to `url` (rtmp:// or rtmps://); progress arrives through the observer.
/// INVALID_PARAMETER for a bad URL, REFUSED when already pushing.
///
/// # Safety
/// `pusher` is NULL or a live handle; `url` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_start_push(
    pusher: *mut OnairPusher,
    url: *const c_char,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_start_push", pusher, |p| {
            p.start_push(text(url, "url")?)
        })
    }
}

/// Stops pushing: threads joined, socket closed, no callback afterwards.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_stop_push(pusher: *mut OnairPusher) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe { with("onair_pusher_stop_push", pusher, V2TXLivePusher::stop_push) }
}

/// 1 while pushing, 0 when not, ERROR_INVALID_PARAMETER for NULL.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_is_pushing(pusher: *mut OnairPusher) -> i32 {
    call_value(
        "onair_pusher_is_pushing",
        ONAIR_ERROR_INVALID_PARAMETER,
        || {
            // SAFETY: forwarded from the caller.
            match unsafe { handle(pusher, "pusher") } {
                Ok(p) => i32::from(p.pusher.is_pushing()),
                Err(_) => ONAIR_ERROR_INVALID_PARAMETER,
            }
        },
    )
}

/// Sets the encoder's preset, orientation, frame rate and bitrates (also while pushing).
///
/// # Safety
/// `pusher` is NULL or a live handle; `param` is NULL or points to a valid struct.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_video_quality(
    pusher: *mut OnairPusher,
    param: *const OnairVideoEncoderParam,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_video_quality", pusher, |p| {
            // In the unsafe block above: NULL or a valid struct by the caller's contract.
            let param = param.as_ref().ok_or_else(|| null("param"))?;
            let res = resolution(param.video_resolution).ok_or_else(|| {
                LiveError::invalid(format!(
                    "video_resolution {}; expected ONAIR_VIDEO_RESOLUTION_*",
                    param.video_resolution
                ))
            })?;
            let mode = resolution_mode(param.video_resolution_mode).ok_or_else(|| {
                LiveError::invalid(format!(
                    "video_resolution_mode {}; expected LANDSCAPE (0) or PORTRAIT (1)",
                    param.video_resolution_mode
                ))
            })?;
            let fps = if param.video_fps == 0 {
                15
            } else {
                param.video_fps
            };
            p.set_video_quality(VideoEncoderParam::new(
                res,
                mode,
                fps,
                param.video_bitrate,
                param.min_video_bitrate,
            )?)
        })
    }
}

/// onair extension: the video encoder backend (`ONAIR_VIDEO_ENCODER_*`, default openh264 for
/// H.264 and x265 for HEVC);
/// opened by `onair_pusher_start_push`, which fails with NOT_SUPPORTED naming what is missing
/// when it cannot. REFUSED while pushing.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_video_encoder_backend(
    pusher: *mut OnairPusher,
    backend: crate::types::OnairVideoEncoderBackend,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_video_encoder_backend", pusher, |p| {
            let b = crate::types::encoder_backend(backend).ok_or_else(|| {
                LiveError::invalid(format!(
                    "encoder backend {backend}; expected ONAIR_VIDEO_ENCODER_*"
                ))
            })?;
            p.set_video_encoder_backend(b)
        })
    }
}

/// onair extension: the video codec (`ONAIR_VIDEO_CODEC_*`, default H.264). HEVC goes out over
/// Enhanced RTMP to a server that announces `hvc1`; to any other the push switches to H.264
/// and reports `on_warning(ONAIR_ERROR_NOT_SUPPORTED, ..)`. The LiteAV property
/// `enableHevcEncode` (`onair_pusher_set_property`) is the same switch. REFUSED while pushing.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_video_codec(
    pusher: *mut OnairPusher,
    codec: crate::types::OnairVideoCodec,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_video_codec", pusher, |p| {
            let c = crate::types::video_codec(codec).ok_or_else(|| {
                LiveError::invalid(format!("video codec {codec}; expected ONAIR_VIDEO_CODEC_*"))
            })?;
            p.set_video_codec(c)
        })
    }
}

/// onair extension: the audio codec (`ONAIR_AUDIO_CODEC_*`, default AAC). Opus goes out over
/// Enhanced RTMP v2 to a server that announces `Opus` (`onair serve` does); to any other the
/// push switches to AAC and reports `on_warning(ONAIR_ERROR_NOT_SUPPORTED, ..)`. REFUSED while
/// pushing.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_audio_codec(
    pusher: *mut OnairPusher,
    codec: crate::types::OnairAudioCodec,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_audio_codec", pusher, |p| {
            let c = crate::types::audio_codec(codec).ok_or_else(|| {
                LiveError::invalid(format!("audio codec {codec}; expected ONAIR_AUDIO_CODEC_*"))
            })?;
            p.set_audio_codec(c)
        })
    }
}

/// onair extension: Opus frame duration in ms, 10 or 20 (default 20); INVALID_PARAMETER for
/// others, REFUSED while pushing.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_opus_frame_duration(
    pusher: *mut OnairPusher,
    ms: u32,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_opus_frame_duration", pusher, |p| {
            p.set_opus_frame_duration(ms)
        })
    }
}

/// `ONAIR_AUDIO_QUALITY_*`; REFUSED while pushing.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_audio_quality(
    pusher: *mut OnairPusher,
    quality: OnairAudioQuality,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_audio_quality", pusher, |p| {
            p.set_audio_quality(audio_quality(quality).ok_or_else(|| {
                LiveError::invalid(format!(
                    "audio quality {quality}; expected ONAIR_AUDIO_QUALITY_*"
                ))
            })?)
        })
    }
}

/// Custom video capture on or off (before `onair_pusher_start_push`).
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_enable_custom_video_capture(
    pusher: *mut OnairPusher,
    enable: bool,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_enable_custom_video_capture", pusher, |p| {
            p.enable_custom_video_capture(enable)
        })
    }
}

/// Custom audio capture on or off (before `onair_pusher_start_push`).
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_enable_custom_audio_capture(
    pusher: *mut OnairPusher,
    enable: bool,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_enable_custom_audio_capture", pusher, |p| {
            p.enable_custom_audio_capture(enable)
        })
    }
}

/// The engine's view of a C frame (its bytes copied: the caller keeps its buffer).
///
/// # Safety
/// `frame` is NULL or points to a valid struct whose `data` holds `length` bytes.
pub(crate) unsafe fn video_frame_in(
    frame: *const OnairVideoFrame,
) -> LiveResult<V2TXLiveVideoFrame> {
    // SAFETY: NULL or valid by the caller's contract.
    let f = unsafe { frame.as_ref() }.ok_or_else(|| null("frame"))?;
    let format = pixel_format(f.pixel_format).ok_or_else(|| {
        LiveError::invalid(format!(
            "pixel_format {}; expected ONAIR_PIXEL_FORMAT_*",
            f.pixel_format
        ))
    })?;
    let buffer = buffer_type(f.buffer_type).ok_or_else(|| {
        LiveError::invalid(format!(
            "buffer_type {}; expected ONAIR_BUFFER_TYPE_*",
            f.buffer_type
        ))
    })?;
    let rot = rotation(f.rotation).ok_or_else(|| {
        LiveError::invalid(format!(
            "rotation {}; expected ONAIR_ROTATION_*",
            f.rotation
        ))
    })?;
    if f.length == 0 {
        return Err(LiveError::invalid("frame length is 0"));
    }
    // SAFETY: `length` readable bytes at `data` by the caller's contract (NULL refused).
    let data = unsafe { bytes(f.data, f.length as usize, "frame data") }?;
    let mut frame =
        V2TXLiveVideoFrame::new(format, f.width, f.height, Bytes::copy_from_slice(data));
    frame.buffer_type = if buffer == BufferType::Unknown {
        BufferType::ByteBuffer
    } else {
        buffer
    };
    frame.stride = (f.stride != 0).then_some(f.stride);
    frame.rotation = rot;
    Ok(frame)
}

/// Sends one custom video frame (its bytes are copied before this returns). REFUSED unless
/// custom video capture is on and pushing; INVALID_PARAMETER for a frame whose length does not
/// match its format and size.
///
/// # Safety
/// `pusher` is NULL or a live handle; `frame` is NULL or a valid frame whose `data` holds
/// `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_send_custom_video_frame(
    pusher: *mut OnairPusher,
    frame: *const OnairVideoFrame,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_send_custom_video_frame", pusher, |p| {
            // In the unsafe block above: forwarded from the caller.
            p.send_custom_video_frame(&video_frame_in(frame)?)
        })
    }
}

/// Sends custom PCM (s16le at the audio quality's rate and channels: 48000 x 1 by default).
/// REFUSED unless custom audio capture is on and pushing.
///
/// # Safety
/// `pusher` is NULL or a live handle; `frame` is NULL or a valid frame whose `data` holds
/// `length` bytes.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_send_custom_audio_frame(
    pusher: *mut OnairPusher,
    frame: *const OnairAudioFrame,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_send_custom_audio_frame", pusher, |p| {
            // In the unsafe block above: NULL or valid by the caller's contract.
            let f = frame.as_ref().ok_or_else(|| null("frame"))?;
            if f.length == 0 {
                return Err(LiveError::invalid("audio frame length is 0"));
            }
            // In the unsafe block above: `length` readable bytes at `data` (NULL refused).
            let data = bytes(f.data, f.length as usize, "audio data")?;
            let channels = u16::try_from(f.channels)
                .map_err(|_| LiveError::invalid(format!("{} channels", f.channels)))?;
            p.send_custom_audio_frame(&V2TXLiveAudioFrame {
                data: Bytes::copy_from_slice(data),
                sample_rate: f.sample_rate,
                channels,
            })
        })
    }
}

fn format_pair(
    format: OnairPixelFormat,
    buffer: OnairBufferType,
) -> LiveResult<(PixelFormat, BufferType)> {
    let f =
        pixel_format(format).ok_or_else(|| LiveError::invalid(format!("pixel_format {format}")))?;
    let b =
        buffer_type(buffer).ok_or_else(|| LiveError::invalid(format!("buffer_type {buffer}")))?;
    Ok((f, b))
}

pub(crate) fn byte_buffers_only(f: PixelFormat, b: BufferType) -> LiveResult {
    if f == PixelFormat::Texture2D || b == BufferType::Texture {
        return Err(LiveError::new(
            V2TXLiveCode::ErrorNotSupported,
            "the C API serves byte buffers; GPU textures are reachable from Rust only",
        ));
    }
    Ok(())
}

/// The custom-process hook: every frame goes through `on_process_video_frame` before it is
/// encoded, as I420 or BGRA32 in a byte buffer (other combinations are NOT_SUPPORTED).
/// REFUSED while pushing.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_enable_custom_video_process(
    pusher: *mut OnairPusher,
    enable: bool,
    pixel_format: OnairPixelFormat,
    buffer_type: OnairBufferType,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_enable_custom_video_process", pusher, |p| {
            let (f, b) = format_pair(pixel_format, buffer_type)?;
            if enable {
                byte_buffers_only(f, b)?;
            }
            p.enable_custom_video_process(enable, f, b)
        })
    }
}

/// The local preview: frames as the encoder gets them go to `on_render_video_frame`, as
/// I420, NV12, BGRA32 or RGBA32 byte buffers.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_enable_custom_video_render(
    pusher: *mut OnairPusher,
    enable: bool,
    pixel_format: OnairPixelFormat,
    buffer_type: OnairBufferType,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_enable_custom_video_render", pusher, |p| {
            let (f, b) = format_pair(pixel_format, buffer_type)?;
            p.enable_custom_video_render(enable, f, b)
        })
    }
}

/// Starts camera `camera_id` (`""` for the first one).
///
/// # Safety
/// `pusher` is NULL or a live handle; `camera_id` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_start_camera(
    pusher: *mut OnairPusher,
    camera_id: *const c_char,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_start_camera", pusher, |p| {
            p.start_camera(text(camera_id, "camera_id")?)
        })
    }
}

/// Stops the camera.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_stop_camera(pusher: *mut OnairPusher) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with(
            "onair_pusher_stop_camera",
            pusher,
            V2TXLivePusher::stop_camera,
        )
    }
}

/// Starts the system's default microphone.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_start_microphone(pusher: *mut OnairPusher) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_start_microphone", pusher, |p| {
            p.start_microphone(None)
        })
    }
}

/// Stops the microphone.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_stop_microphone(pusher: *mut OnairPusher) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with(
            "onair_pusher_stop_microphone",
            pusher,
            V2TXLivePusher::stop_microphone,
        )
    }
}

/// The virtual camera: pushes the still image (PNG or JPEG) at `image_path`. REFUSED while
/// pushing.
///
/// # Safety
/// `pusher` is NULL or a live handle; `image_path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_start_virtual_camera(
    pusher: *mut OnairPusher,
    image_path: *const c_char,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_start_virtual_camera", pusher, |p| {
            p.start_virtual_camera(text(image_path, "image_path")?)
        })
    }
}

/// Back to the test pattern after `onair_pusher_start_virtual_camera`. REFUSED while pushing.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_stop_virtual_camera(pusher: *mut OnairPusher) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_stop_virtual_camera", pusher, |p| {
            p.set_video_source(VideoSource::TestPattern)
        })
    }
}

/// Sends silence instead of the captured audio, timestamps continuous.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_pause_audio(pusher: *mut OnairPusher) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with(
            "onair_pusher_pause_audio",
            pusher,
            V2TXLivePusher::pause_audio,
        )
    }
}

/// Sends the captured audio again.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_resume_audio(pusher: *mut OnairPusher) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with(
            "onair_pusher_resume_audio",
            pusher,
            V2TXLivePusher::resume_audio,
        )
    }
}

/// Stops sending video (the audio goes on).
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_pause_video(pusher: *mut OnairPusher) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with(
            "onair_pusher_pause_video",
            pusher,
            V2TXLivePusher::pause_video,
        )
    }
}

/// Sends video again, starting with a keyframe.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_resume_video(pusher: *mut OnairPusher) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with(
            "onair_pusher_resume_video",
            pusher,
            V2TXLivePusher::resume_video,
        )
    }
}

/// Takes a snapshot of the pushed picture for `on_snapshot_complete`. REFUSED unless
/// pushing.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_snapshot(pusher: *mut OnairPusher) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe { with("onair_pusher_snapshot", pusher, V2TXLivePusher::snapshot) }
}

/// Mirrors what viewers see (`true`) or not.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_encoder_mirror(
    pusher: *mut OnairPusher,
    mirror: bool,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_encoder_mirror", pusher, |p| {
            p.set_encoder_mirror(if mirror {
                onair::MirrorType::Enable
            } else {
                onair::MirrorType::Disable
            })
        })
    }
}

/// A watermark image (PNG/JPEG) at `x`, `y`, `scale` times the video width, all in 0..=1;
/// `image_path` NULL removes it.
///
/// # Safety
/// `pusher` is NULL or a live handle; `image_path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_watermark(
    pusher: *mut OnairPusher,
    image_path: *const c_char,
    x: f32,
    y: f32,
    scale: f32,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_watermark", pusher, |p| {
            let path = if image_path.is_null() {
                None
            } else {
                // In the unsafe block above: non-NULL, NUL-terminated by the caller's contract.
                Some(std::path::PathBuf::from(text(image_path, "image_path")?))
            };
            p.set_watermark(path.as_deref(), x, y, scale)
        })
    }
}

/// Reports the captured volume every `interval_ms` (>= 100; <= 0 turns it off).
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_enable_volume_evaluation(
    pusher: *mut OnairPusher,
    interval_ms: i32,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_enable_volume_evaluation", pusher, |p| {
            p.enable_volume_evaluation(interval_ms)
        })
    }
}

/// Puts an SEI message (payload type 5 or 242, 1..=65536 bytes) into the next video frame.
///
/// # Safety
/// `pusher` is NULL or a live handle; `data` is NULL or holds `data_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_send_sei_message(
    pusher: *mut OnairPusher,
    payload_type: i32,
    data: *const u8,
    data_size: u32,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_send_sei_message", pusher, |p| {
            if data.is_null() {
                return Err(null("data"));
            }
            // In the unsafe block above: `data_size` readable bytes by the caller's contract.
            let payload = bytes(data, data_size as usize, "data")?;
            let kind = u32::try_from(payload_type)
                .map_err(|_| LiveError::invalid(format!("SEI payload type {payload_type}")))?;
            p.send_sei_message(kind, payload)
        })
    }
}

/// Advanced settings by key (`setVideoQualityEx`, `setMetaData`, `maxNumberOfReconnection`,
/// `secondsBetweenReconnection`); NOT_SUPPORTED for other keys.
///
/// # Safety
/// `pusher` is NULL or a live handle; `key` and `value` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_property(
    pusher: *mut OnairPusher,
    key: *const c_char,
    value: *const c_char,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_property", pusher, |p| {
            p.set_property(text(key, "key")?, text(value, "value")?)
        })
    }
}

/// Draws the local preview into `view` (LiteAV `setRenderView`); NULL stops drawing. The pusher
/// keeps its own reference: the app may release its view handle afterwards.
///
/// # Safety
/// `pusher` is NULL or a live handle; `view` is NULL or a live view handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_render_view(
    pusher: *mut OnairPusher,
    view: *const crate::view::OnairRenderView,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    let view = unsafe { crate::view::optional_view(view) };
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_render_view", pusher, |p| {
            p.set_render_view(view)
        })
    }
}

/// Clockwise rotation of the picture in the render view (`ONAIR_ROTATION_*`).
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_render_rotation(
    pusher: *mut OnairPusher,
    rotation: crate::types::OnairRotation,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_render_rotation", pusher, |p| {
            let r = crate::types::rotation(rotation).ok_or_else(|| {
                onair::LiveError::invalid(format!("rotation {rotation}; expected ONAIR_ROTATION_*"))
            })?;
            p.set_render_rotation(r)
        })
    }
}

/// How the picture fills the render view (`ONAIR_FILL_MODE_*`; FILL, the default, crops).
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_render_fill_mode(
    pusher: *mut OnairPusher,
    mode: crate::types::OnairFillMode,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_render_fill_mode", pusher, |p| {
            let m = crate::types::fill_mode(mode).ok_or_else(|| {
                onair::LiveError::invalid(format!("fill mode {mode}; expected ONAIR_FILL_MODE_*"))
            })?;
            p.set_render_fill_mode(m)
        })
    }
}

/// The statistics overlay over the picture in the render view (LiteAV `showDebugView`).
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_show_debug_view(
    pusher: *mut OnairPusher,
    show: bool,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_show_debug_view", pusher, |p| {
            p.show_debug_view(show);
            Ok(())
        })
    }
}

/// Mirror of the local preview (`ONAIR_MIRROR_*`; AUTO mirrors cameras); what viewers see is
/// `onair_pusher_set_encoder_mirror`'s.
///
/// # Safety
/// `pusher` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_pusher_set_render_mirror(
    pusher: *mut OnairPusher,
    mirror: crate::types::OnairMirrorType,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_pusher_set_render_mirror", pusher, |p| {
            let m = crate::types::mirror_type(mirror).ok_or_else(|| {
                onair::LiveError::invalid(format!("mirror {mirror}; expected ONAIR_MIRROR_*"))
            })?;
            p.set_render_mirror(m)
        })
    }
}
