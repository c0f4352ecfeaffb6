//! The C types of the API: integer enums with `#define`d values (a value C passes that names
//! nothing is ERROR_INVALID_PARAMETER, never undefined behaviour, which a Rust `enum` would
//! be), the frame, encoder-parameter and statistics structs, and their conversions to and from
//! the engine's Rust types. Numbering follows onair's stable table (`docs/c-api.md`); the
//! LiteAV C++ header maps its own enum numbering onto it.

use onair::{
    AudioQuality, BufferType, PixelFormat, PlayerStatistics, PusherStatistics, ResolutionMode,
    Rotation, VideoFrame, VideoResolution,
};
use std::os::raw::c_char;

/// A V2TXLive code (`ONAIR_OK`, `ONAIR_ERROR_*`, `ONAIR_WARNING_*`).
pub type OnairCode = i32;

/// Success.
pub const ONAIR_OK: OnairCode = 0;
/// Unclassified failure.
pub const ONAIR_ERROR_FAILED: OnairCode = -1;
/// A NULL handle or pointer, a bad URL, frame or argument.
pub const ONAIR_ERROR_INVALID_PARAMETER: OnairCode = -2;
/// The call is not allowed in this state.
pub const ONAIR_ERROR_REFUSED: OnairCode = -3;
/// Unsupported combination (pixel format / buffer type, property key).
pub const ONAIR_ERROR_NOT_SUPPORTED: OnairCode = -4;
/// Reserved (onair has no licences).
pub const ONAIR_ERROR_INVALID_LICENSE: OnairCode = -5;
/// A request timed out.
pub const ONAIR_ERROR_REQUEST_TIMEOUT: OnairCode = -6;
/// The server refused (bad txSecret, banned stream).
pub const ONAIR_ERROR_SERVER_PROCESS_FAILED: OnairCode = -7;
/// The connection was lost and the reconnects ran out.
pub const ONAIR_ERROR_DISCONNECTED: OnairCode = -8;
/// The uplink cannot keep up.
pub const ONAIR_WARNING_NETWORK_BUSY: OnairCode = 1101;
/// The player stalled (> 800 ms without a frame while playing).
pub const ONAIR_WARNING_VIDEO_BLOCK: OnairCode = 2105;
/// The camera could not be started.
pub const ONAIR_WARNING_CAMERA_START_FAILED: OnairCode = -1301;
/// The camera is used by another process.
pub const ONAIR_WARNING_CAMERA_OCCUPIED: OnairCode = -1316;
/// The camera is not authorised.
pub const ONAIR_WARNING_CAMERA_NO_PERMISSION: OnairCode = -1314;
/// The microphone could not be started.
pub const ONAIR_WARNING_MICROPHONE_START_FAILED: OnairCode = -1302;
/// The microphone is used by another process.
pub const ONAIR_WARNING_MICROPHONE_OCCUPIED: OnairCode = -1319;
/// The microphone is not authorised.
pub const ONAIR_WARNING_MICROPHONE_NO_PERMISSION: OnairCode = -1317;
/// Screen capture is not supported here.
pub const ONAIR_WARNING_SCREEN_CAPTURE_NOT_SUPPORTED: OnairCode = -1309;
/// Screen capture could not be started.
pub const ONAIR_WARNING_SCREEN_CAPTURE_START_FAILED: OnairCode = -1308;
/// Screen capture was interrupted.
pub const ONAIR_WARNING_SCREEN_CAPTURE_INTERRUPTED: OnairCode = -7001;

/// Pixel layout of a frame (`ONAIR_PIXEL_FORMAT_*`).
pub type OnairPixelFormat = i32;
/// Unknown / unset.
pub const ONAIR_PIXEL_FORMAT_UNKNOWN: OnairPixelFormat = 0;
/// Planar Y, U, V at 4:2:0.
pub const ONAIR_PIXEL_FORMAT_I420: OnairPixelFormat = 1;
/// Y plane, then interleaved UV at 4:2:0.
pub const ONAIR_PIXEL_FORMAT_NV12: OnairPixelFormat = 2;
/// Packed B, G, R, A bytes.
pub const ONAIR_PIXEL_FORMAT_BGRA32: OnairPixelFormat = 3;
/// Packed R, G, B, A bytes.
pub const ONAIR_PIXEL_FORMAT_RGBA32: OnairPixelFormat = 4;
/// A GPU texture (Rust API only; the C API serves byte buffers).
pub const ONAIR_PIXEL_FORMAT_TEXTURE_2D: OnairPixelFormat = 5;

/// Where a frame's pixels are (`ONAIR_BUFFER_TYPE_*`).
pub type OnairBufferType = i32;
/// Unknown / unset.
pub const ONAIR_BUFFER_TYPE_UNKNOWN: OnairBufferType = 0;
/// In memory, at `data`.
pub const ONAIR_BUFFER_TYPE_BYTE_BUFFER: OnairBufferType = 1;
/// In a GPU texture.
pub const ONAIR_BUFFER_TYPE_TEXTURE: OnairBufferType = 2;

/// Clockwise rotation (`ONAIR_ROTATION_*`).
pub type OnairRotation = i32;
/// None.
pub const ONAIR_ROTATION_0: OnairRotation = 0;
/// 90 degrees clockwise.
pub const ONAIR_ROTATION_90: OnairRotation = 1;
/// 180 degrees.
pub const ONAIR_ROTATION_180: OnairRotation = 2;
/// 270 degrees clockwise.
pub const ONAIR_ROTATION_270: OnairRotation = 3;

/// How a picture fills its render view (`ONAIR_FILL_MODE_*`), LiteAV's values.
pub type OnairFillMode = i32;
/// Cover the view, cropping what overflows (the default).
pub const ONAIR_FILL_MODE_FILL: OnairFillMode = 0;
/// Fit inside the view, black bars around.
pub const ONAIR_FILL_MODE_FIT: OnairFillMode = 1;
/// Stretch to the view.
pub const ONAIR_FILL_MODE_SCALE_FILL: OnairFillMode = 2;

/// Mirror of the local preview (`ONAIR_MIRROR_*`), LiteAV's values.
pub type OnairMirrorType = i32;
/// Cameras mirrored (as a front camera), other sources not.
pub const ONAIR_MIRROR_AUTO: OnairMirrorType = 0;
/// Always mirrored.
pub const ONAIR_MIRROR_ENABLE: OnairMirrorType = 1;
/// Never mirrored.
pub const ONAIR_MIRROR_DISABLE: OnairMirrorType = 2;

/// A resolution preset (`ONAIR_VIDEO_RESOLUTION_*`), in LiteAV's order.
pub type OnairVideoResolution = i32;
/// 160x160, 100-150 kbps.
pub const ONAIR_VIDEO_RESOLUTION_160X160: OnairVideoResolution = 0;
/// 270x270, 200-300 kbps.
pub const ONAIR_VIDEO_RESOLUTION_270X270: OnairVideoResolution = 1;
/// 480x480, 350-525 kbps.
pub const ONAIR_VIDEO_RESOLUTION_480X480: OnairVideoResolution = 2;
/// 320x240, 250-375 kbps.
pub const ONAIR_VIDEO_RESOLUTION_320X240: OnairVideoResolution = 3;
/// 480x360, 400-600 kbps.
pub const ONAIR_VIDEO_RESOLUTION_480X360: OnairVideoResolution = 4;
/// 640x480, 600-900 kbps.
pub const ONAIR_VIDEO_RESOLUTION_640X480: OnairVideoResolution = 5;
/// 320x180, 250-400 kbps.
pub const ONAIR_VIDEO_RESOLUTION_320X180: OnairVideoResolution = 6;
/// 480x270, 350-550 kbps.
pub const ONAIR_VIDEO_RESOLUTION_480X270: OnairVideoResolution = 7;
/// 640x360, 500-900 kbps.
pub const ONAIR_VIDEO_RESOLUTION_640X360: OnairVideoResolution = 8;
/// 960x540, 800-1500 kbps.
pub const ONAIR_VIDEO_RESOLUTION_960X540: OnairVideoResolution = 9;
/// 1280x720, 1000-1800 kbps.
pub const ONAIR_VIDEO_RESOLUTION_1280X720: OnairVideoResolution = 10;
/// 1920x1080, 2500-3000 kbps.
pub const ONAIR_VIDEO_RESOLUTION_1920X1080: OnairVideoResolution = 11;

/// Landscape or portrait (`ONAIR_VIDEO_RESOLUTION_MODE_*`).
pub type OnairVideoResolutionMode = i32;
/// The preset as named (640x360).
pub const ONAIR_VIDEO_RESOLUTION_MODE_LANDSCAPE: OnairVideoResolutionMode = 0;
/// Width and height swapped (360x640).
pub const ONAIR_VIDEO_RESOLUTION_MODE_PORTRAIT: OnairVideoResolutionMode = 1;

/// Audio quality (`ONAIR_AUDIO_QUALITY_*`).
pub type OnairAudioQuality = i32;
/// 16 kHz mono, 16 kbps.
pub const ONAIR_AUDIO_QUALITY_SPEECH: OnairAudioQuality = 0;
/// 48 kHz mono, 50 kbps (the default).
pub const ONAIR_AUDIO_QUALITY_DEFAULT: OnairAudioQuality = 1;
/// 48 kHz stereo, 128 kbps.
pub const ONAIR_AUDIO_QUALITY_MUSIC: OnairAudioQuality = 2;

/// A video encoder backend (`ONAIR_VIDEO_ENCODER_*`).
pub type OnairVideoEncoderBackend = i32;
/// openh264 (the default).
pub const ONAIR_VIDEO_ENCODER_OPENH264: OnairVideoEncoderBackend = 0;
/// FFmpeg's libx264 (high profile).
pub const ONAIR_VIDEO_ENCODER_X264: OnairVideoEncoderBackend = 1;
/// NVIDIA NVENC.
pub const ONAIR_VIDEO_ENCODER_NVENC: OnairVideoEncoderBackend = 2;
/// VA-API.
pub const ONAIR_VIDEO_ENCODER_VAAPI: OnairVideoEncoderBackend = 3;
/// Intel Quick Sync.
pub const ONAIR_VIDEO_ENCODER_QSV: OnairVideoEncoderBackend = 4;
/// The first that opens: hardware, then x264 / x265, then openh264.
pub const ONAIR_VIDEO_ENCODER_AUTO: OnairVideoEncoderBackend = 5;
/// FFmpeg's libx265 (HEVC; the default for `ONAIR_VIDEO_CODEC_H265`).
pub const ONAIR_VIDEO_ENCODER_X265: OnairVideoEncoderBackend = 6;

/// A video codec (`ONAIR_VIDEO_CODEC_*`).
pub type OnairVideoCodec = i32;
/// H.264 (the default).
pub const ONAIR_VIDEO_CODEC_H264: OnairVideoCodec = 0;
/// H.265 / HEVC over Enhanced RTMP; H.264 with a warning to a server that does not take it.
pub const ONAIR_VIDEO_CODEC_H265: OnairVideoCodec = 1;

/// An audio codec (`ONAIR_AUDIO_CODEC_*`).
pub type OnairAudioCodec = i32;
/// AAC (the default).
pub const ONAIR_AUDIO_CODEC_AAC: OnairAudioCodec = 0;
/// Opus over Enhanced RTMP v2 (low delay); AAC with a warning to a server that does not take it.
pub const ONAIR_AUDIO_CODEC_OPUS: OnairAudioCodec = 1;

pub(crate) fn audio_codec(v: OnairAudioCodec) -> Option<onair::AudioCodec> {
    Some(match v {
        ONAIR_AUDIO_CODEC_AAC => onair::AudioCodec::Aac,
        ONAIR_AUDIO_CODEC_OPUS => onair::AudioCodec::Opus,
        _ => return None,
    })
}

pub(crate) fn video_codec(v: OnairVideoCodec) -> Option<onair::VideoCodec> {
    Some(match v {
        ONAIR_VIDEO_CODEC_H264 => onair::VideoCodec::H264,
        ONAIR_VIDEO_CODEC_H265 => onair::VideoCodec::H265,
        _ => return None,
    })
}

pub(crate) fn encoder_backend(v: OnairVideoEncoderBackend) -> Option<onair::VideoEncoderBackend> {
    use onair::VideoEncoderBackend as B;
    Some(match v {
        ONAIR_VIDEO_ENCODER_OPENH264 => B::OpenH264,
        ONAIR_VIDEO_ENCODER_X264 => B::X264,
        ONAIR_VIDEO_ENCODER_NVENC => B::Nvenc,
        ONAIR_VIDEO_ENCODER_VAAPI => B::Vaapi,
        ONAIR_VIDEO_ENCODER_QSV => B::Qsv,
        ONAIR_VIDEO_ENCODER_AUTO => B::Auto,
        ONAIR_VIDEO_ENCODER_X265 => B::X265,
        _ => return None,
    })
}

/// Push connection status (`ONAIR_PUSH_STATUS_*`), as `on_push_status_update` reports it.
pub type OnairPushStatus = i32;
/// Not connected.
pub const ONAIR_PUSH_STATUS_DISCONNECTED: OnairPushStatus = 0;
/// Connecting.
pub const ONAIR_PUSH_STATUS_CONNECTING: OnairPushStatus = 1;
/// Connected and publishing.
pub const ONAIR_PUSH_STATUS_CONNECT_SUCCESS: OnairPushStatus = 2;
/// Reconnecting after a loss.
pub const ONAIR_PUSH_STATUS_RECONNECTING: OnairPushStatus = 3;

/// A video frame, borrowed for the duration of the call that passes it.
///
/// Given to onair (`onair_pusher_send_custom_video_frame`): `data` holds `length` bytes of
/// `width` x `height` pixels; `stride` is the first plane's row pitch in bytes, 0 for tightly
/// packed. Handed out by onair (render, snapshot, process callbacks): every field is filled,
/// `data` is valid until the callback returns and is read-only except for the `dst` frame of
/// `on_process_video_frame`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct OnairVideoFrame {
    /// `ONAIR_PIXEL_FORMAT_*`.
    pub pixel_format: OnairPixelFormat,
    /// `ONAIR_BUFFER_TYPE_*` (ByteBuffer on every C path).
    pub buffer_type: OnairBufferType,
    /// The pixels.
    pub data: *mut u8,
    /// Bytes at `data`.
    pub length: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Row pitch of the first plane in bytes; 0 = tightly packed.
    pub stride: u32,
    /// `ONAIR_ROTATION_*`: rotation to apply before encoding (custom capture).
    pub rotation: OnairRotation,
}

/// PCM audio: interleaved signed 16-bit little-endian samples, borrowed for the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct OnairAudioFrame {
    /// The samples.
    pub data: *const u8,
    /// Bytes at `data` (a whole number of sample frames).
    pub length: u32,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channels (1 or 2).
    pub channels: u32,
}

/// The encoder settings of `onair_pusher_set_video_quality`.
///
/// `video_bitrate` 0 takes the preset's default, `min_video_bitrate` 0 the preset's minimum;
/// equal values turn bitrate adaptation off. `video_fps` 0 means 15.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct OnairVideoEncoderParam {
    /// `ONAIR_VIDEO_RESOLUTION_*`.
    pub video_resolution: OnairVideoResolution,
    /// `ONAIR_VIDEO_RESOLUTION_MODE_*`.
    pub video_resolution_mode: OnairVideoResolutionMode,
    /// Frames per second, 1..=60 (0: 15).
    pub video_fps: u32,
    /// Target bitrate in kbit/s (0: the preset's).
    pub video_bitrate: u32,
    /// Floor bitrate in kbit/s under congestion (0: the preset's).
    pub min_video_bitrate: u32,
}

/// What `on_statistics_update` reports for a push, every 2 s.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct OnairPusherStatistics {
    /// This process's CPU use, percent of one core.
    pub app_cpu: i32,
    /// The system's CPU use, percent.
    pub system_cpu: i32,
    /// Width of what was sent.
    pub width: i32,
    /// Height of what was sent.
    pub height: i32,
    /// Frames per second sent.
    pub fps: i32,
    /// Video kbit/s sent.
    pub video_bitrate: i32,
    /// Audio kbit/s sent.
    pub audio_bitrate: i32,
    /// Round trip to the server in ms.
    pub rtt: i32,
    /// Upload kbit/s.
    pub net_speed: i32,
}

/// What `on_statistics_update` reports for a play, every 2 s.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct OnairPlayerStatistics {
    /// This process's CPU use, percent of one core.
    pub app_cpu: i32,
    /// The system's CPU use, percent.
    pub system_cpu: i32,
    /// Video width.
    pub width: i32,
    /// Video height.
    pub height: i32,
    /// Frames per second rendered.
    pub fps: i32,
    /// Video kbit/s received.
    pub video_bitrate: i32,
    /// Audio kbit/s received.
    pub audio_bitrate: i32,
    /// Always 0: RTMP and HTTP-FLV run over TCP and report no loss.
    pub audio_packet_loss: i32,
    /// Always 0 (see `audio_packet_loss`).
    pub video_packet_loss: i32,
    /// Jitter buffer delay in ms.
    pub jitter_buffer_delay: i32,
    /// Audio stall time in the last 2 s window, ms.
    pub audio_total_block_time: i32,
    /// Audio stall share of the window, percent.
    pub audio_block_rate: i32,
    /// Video stall time in the last 2 s window, ms.
    pub video_total_block_time: i32,
    /// Video stall share of the window, percent.
    pub video_block_rate: i32,
    /// Always 0: the protocols carry no round-trip measure for players.
    pub rtt: i32,
    /// Download kbit/s.
    pub net_speed: i32,
}

pub(crate) fn pixel_format(v: OnairPixelFormat) -> Option<PixelFormat> {
    Some(match v {
        ONAIR_PIXEL_FORMAT_UNKNOWN => PixelFormat::Unknown,
        ONAIR_PIXEL_FORMAT_I420 => PixelFormat::I420,
        ONAIR_PIXEL_FORMAT_NV12 => PixelFormat::Nv12,
        ONAIR_PIXEL_FORMAT_BGRA32 => PixelFormat::Bgra32,
        ONAIR_PIXEL_FORMAT_RGBA32 => PixelFormat::Rgba32,
        ONAIR_PIXEL_FORMAT_TEXTURE_2D => PixelFormat::Texture2D,
        _ => return None,
    })
}

pub(crate) fn pixel_format_value(f: PixelFormat) -> OnairPixelFormat {
    match f {
        PixelFormat::I420 => ONAIR_PIXEL_FORMAT_I420,
        PixelFormat::Nv12 => ONAIR_PIXEL_FORMAT_NV12,
        PixelFormat::Bgra32 => ONAIR_PIXEL_FORMAT_BGRA32,
        PixelFormat::Rgba32 => ONAIR_PIXEL_FORMAT_RGBA32,
        PixelFormat::Texture2D => ONAIR_PIXEL_FORMAT_TEXTURE_2D,
        _ => ONAIR_PIXEL_FORMAT_UNKNOWN,
    }
}

pub(crate) fn buffer_type(v: OnairBufferType) -> Option<BufferType> {
    Some(match v {
        ONAIR_BUFFER_TYPE_UNKNOWN => BufferType::Unknown,
        ONAIR_BUFFER_TYPE_BYTE_BUFFER => BufferType::ByteBuffer,
        ONAIR_BUFFER_TYPE_TEXTURE => BufferType::Texture,
        _ => return None,
    })
}

pub(crate) fn fill_mode(v: OnairFillMode) -> Option<onair::FillMode> {
    Some(match v {
        ONAIR_FILL_MODE_FILL => onair::FillMode::Fill,
        ONAIR_FILL_MODE_FIT => onair::FillMode::Fit,
        ONAIR_FILL_MODE_SCALE_FILL => onair::FillMode::ScaleFill,
        _ => return None,
    })
}

pub(crate) fn mirror_type(v: OnairMirrorType) -> Option<onair::MirrorType> {
    Some(match v {
        ONAIR_MIRROR_AUTO => onair::MirrorType::Auto,
        ONAIR_MIRROR_ENABLE => onair::MirrorType::Enable,
        ONAIR_MIRROR_DISABLE => onair::MirrorType::Disable,
        _ => return None,
    })
}

pub(crate) fn rotation(v: OnairRotation) -> Option<Rotation> {
    Some(match v {
        ONAIR_ROTATION_0 => Rotation::R0,
        ONAIR_ROTATION_90 => Rotation::R90,
        ONAIR_ROTATION_180 => Rotation::R180,
        ONAIR_ROTATION_270 => Rotation::R270,
        _ => return None,
    })
}

pub(crate) fn rotation_value(r: Rotation) -> OnairRotation {
    match r {
        Rotation::R90 => ONAIR_ROTATION_90,
        Rotation::R180 => ONAIR_ROTATION_180,
        Rotation::R270 => ONAIR_ROTATION_270,
        _ => ONAIR_ROTATION_0,
    }
}

pub(crate) fn resolution(v: OnairVideoResolution) -> Option<VideoResolution> {
    usize::try_from(v)
        .ok()
        .and_then(|i| VideoResolution::ALL.get(i).copied())
}

pub(crate) fn resolution_mode(v: OnairVideoResolutionMode) -> Option<ResolutionMode> {
    match v {
        ONAIR_VIDEO_RESOLUTION_MODE_LANDSCAPE => Some(ResolutionMode::Landscape),
        ONAIR_VIDEO_RESOLUTION_MODE_PORTRAIT => Some(ResolutionMode::Portrait),
        _ => None,
    }
}

pub(crate) fn audio_quality(v: OnairAudioQuality) -> Option<AudioQuality> {
    match v {
        ONAIR_AUDIO_QUALITY_SPEECH => Some(AudioQuality::Speech),
        ONAIR_AUDIO_QUALITY_DEFAULT => Some(AudioQuality::Default),
        ONAIR_AUDIO_QUALITY_MUSIC => Some(AudioQuality::Music),
        _ => None,
    }
}

/// The C view of an engine frame; `data` borrows `frame`'s bytes.
pub(crate) fn frame_view(frame: &VideoFrame) -> OnairVideoFrame {
    let data = frame.data();
    OnairVideoFrame {
        pixel_format: pixel_format_value(frame.format()),
        buffer_type: ONAIR_BUFFER_TYPE_BYTE_BUFFER,
        data: data.as_ptr().cast_mut(),
        length: u32::try_from(data.len()).unwrap_or(u32::MAX),
        width: frame.width(),
        height: frame.height(),
        stride: frame.stride(),
        rotation: rotation_value(frame.rotation()),
    }
}

fn clamp(v: f32) -> i32 {
    if v.is_finite() {
        v.round().clamp(0.0, i32::MAX as f32) as i32
    } else {
        0
    }
}

fn int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl From<&PusherStatistics> for OnairPusherStatistics {
    fn from(s: &PusherStatistics) -> Self {
        Self {
            app_cpu: clamp(s.app_cpu),
            system_cpu: clamp(s.system_cpu),
            width: int(s.width),
            height: int(s.height),
            fps: clamp(s.fps),
            video_bitrate: int(s.video_bitrate),
            audio_bitrate: int(s.audio_bitrate),
            rtt: int(s.rtt),
            net_speed: int(s.net_speed),
        }
    }
}

impl From<&PlayerStatistics> for OnairPlayerStatistics {
    fn from(s: &PlayerStatistics) -> Self {
        Self {
            app_cpu: clamp(s.app_cpu),
            system_cpu: clamp(s.system_cpu),
            width: int(s.width),
            height: int(s.height),
            fps: clamp(s.fps),
            video_bitrate: int(s.video_bitrate),
            audio_bitrate: int(s.audio_bitrate),
            audio_packet_loss: 0,
            video_packet_loss: 0,
            jitter_buffer_delay: int(s.jitter_buffer_delay),
            audio_total_block_time: int(s.audio_total_block_time),
            audio_block_rate: int(s.audio_block_rate),
            video_total_block_time: int(s.video_total_block_time),
            video_block_rate: int(s.video_block_rate),
            rtt: 0,
            net_speed: int(s.net_speed),
        }
    }
}

/// A NUL-terminated copy of `s` for C (interior NULs become spaces).
pub(crate) fn c_string(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// The pointer of a `CString` for the duration of a call.
pub(crate) fn c_ptr(s: &std::ffi::CString) -> *const c_char {
    s.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use onair::V2TXLiveCode;

    /// Each `ONAIR_*` code constant has the number of the spec's code of the same name.
    #[test]
    fn code_constants_match_the_engine_table() {
        let table = [
            ("OK", ONAIR_OK),
            ("ERROR_FAILED", ONAIR_ERROR_FAILED),
            ("ERROR_INVALID_PARAMETER", ONAIR_ERROR_INVALID_PARAMETER),
            ("ERROR_REFUSED", ONAIR_ERROR_REFUSED),
            ("ERROR_NOT_SUPPORTED", ONAIR_ERROR_NOT_SUPPORTED),
            ("ERROR_INVALID_LICENSE", ONAIR_ERROR_INVALID_LICENSE),
            ("ERROR_REQUEST_TIMEOUT", ONAIR_ERROR_REQUEST_TIMEOUT),
            (
                "ERROR_SERVER_PROCESS_FAILED",
                ONAIR_ERROR_SERVER_PROCESS_FAILED,
            ),
            ("ERROR_DISCONNECTED", ONAIR_ERROR_DISCONNECTED),
            ("WARNING_NETWORK_BUSY", ONAIR_WARNING_NETWORK_BUSY),
            ("WARNING_VIDEO_BLOCK", ONAIR_WARNING_VIDEO_BLOCK),
            (
                "WARNING_CAMERA_START_FAILED",
                ONAIR_WARNING_CAMERA_START_FAILED,
            ),
            ("WARNING_CAMERA_OCCUPIED", ONAIR_WARNING_CAMERA_OCCUPIED),
            (
                "WARNING_CAMERA_NO_PERMISSION",
                ONAIR_WARNING_CAMERA_NO_PERMISSION,
            ),
            (
                "WARNING_MICROPHONE_START_FAILED",
                ONAIR_WARNING_MICROPHONE_START_FAILED,
            ),
            (
                "WARNING_MICROPHONE_OCCUPIED",
                ONAIR_WARNING_MICROPHONE_OCCUPIED,
            ),
            (
                "WARNING_MICROPHONE_NO_PERMISSION",
                ONAIR_WARNING_MICROPHONE_NO_PERMISSION,
            ),
            (
                "WARNING_SCREEN_CAPTURE_NOT_SUPPORTED",
                ONAIR_WARNING_SCREEN_CAPTURE_NOT_SUPPORTED,
            ),
            (
                "WARNING_SCREEN_CAPTURE_START_FAILED",
                ONAIR_WARNING_SCREEN_CAPTURE_START_FAILED,
            ),
            (
                "WARNING_SCREEN_CAPTURE_INTERRUPTED",
                ONAIR_WARNING_SCREEN_CAPTURE_INTERRUPTED,
            ),
        ];
        assert_eq!(table.len(), V2TXLiveCode::ALL.len());
        for code in V2TXLiveCode::ALL {
            let (_, value) = table
                .iter()
                .find(|(name, _)| *name == code.name())
                .unwrap_or_else(|| panic!("no ONAIR_{} constant", code.name()));
            assert_eq!(*value, code.value(), "{}", code.name());
        }
    }

    #[test]
    fn presets_follow_liteav_order_and_unknown_values_are_refused() {
        assert_eq!(
            resolution(ONAIR_VIDEO_RESOLUTION_160X160),
            Some(VideoResolution::R160x160)
        );
        assert_eq!(
            resolution(ONAIR_VIDEO_RESOLUTION_640X360),
            Some(VideoResolution::R640x360)
        );
        assert_eq!(
            resolution(ONAIR_VIDEO_RESOLUTION_1920X1080),
            Some(VideoResolution::R1920x1080)
        );
        assert_eq!(resolution(12), None);
        assert_eq!(resolution(-1), None);
        assert_eq!(pixel_format(6), None);
        assert_eq!(rotation(4), None);
        assert_eq!(audio_quality(3), None);
        for f in [
            PixelFormat::I420,
            PixelFormat::Nv12,
            PixelFormat::Bgra32,
            PixelFormat::Rgba32,
        ] {
            assert_eq!(pixel_format(pixel_format_value(f)), Some(f));
        }
    }
}
