//! Every exported function given a NULL handle, and every pointer argument given NULL with a
//! live handle, answers ERROR_INVALID_PARAMETER without touching memory. The list of
//! functions walked is checked against `include/onair.h`, so a new function without a case
//! here fails this test.

use onair_ffi::log::*;
use onair_ffi::player::*;
use onair_ffi::pusher::*;
use onair_ffi::types::*;
use onair_ffi::view::*;
use onair_ffi::*;
use std::collections::BTreeSet;
use std::ptr::{null, null_mut};

const INVALID: i32 = ONAIR_ERROR_INVALID_PARAMETER;

/// Records that the function was walked and checks its answer.
macro_rules! expect_invalid {
    ($seen:ident, $f:ident ( $($arg:expr),* )) => {{
        $seen.insert(stringify!($f));
        // SAFETY: NULL is what every function must survive; other arguments are valid.
        let got = unsafe { $f($($arg),*) };
        assert_eq!(got, INVALID, "{} with NULL", stringify!($f));
    }};
}

fn header_functions() -> BTreeSet<String> {
    let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/onair.h"))
        .expect("include/onair.h");
    let mut names = BTreeSet::new();
    let mut rest = header.as_str();
    while let Some(i) = rest.find("onair_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if tail[end..].starts_with('(') {
            names.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names
}

#[test]
fn every_function_refuses_null() {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let url = c"rtmp://127.0.0.1:1/live/x".as_ptr();
    let key = c"maxNumberOfReconnection".as_ptr();
    let np: *mut OnairPusher = null_mut();
    let nl: *mut OnairPlayer = null_mut();

    // Pusher: NULL handle.
    expect_invalid!(seen, onair_pusher_set_observer(np, null(), null_mut()));
    expect_invalid!(seen, onair_pusher_start_push(np, url));
    expect_invalid!(seen, onair_pusher_stop_push(np));
    expect_invalid!(seen, onair_pusher_is_pushing(np));
    expect_invalid!(seen, onair_pusher_set_video_quality(np, null()));
    expect_invalid!(
        seen,
        onair_pusher_set_audio_quality(np, ONAIR_AUDIO_QUALITY_DEFAULT)
    );
    expect_invalid!(
        seen,
        onair_pusher_set_video_encoder_backend(np, ONAIR_VIDEO_ENCODER_X264)
    );
    expect_invalid!(
        seen,
        onair_pusher_set_video_codec(np, ONAIR_VIDEO_CODEC_H265)
    );
    expect_invalid!(
        seen,
        onair_pusher_set_audio_codec(np, ONAIR_AUDIO_CODEC_OPUS)
    );
    expect_invalid!(seen, onair_pusher_set_opus_frame_duration(np, 10));
    expect_invalid!(seen, onair_pusher_enable_custom_video_capture(np, true));
    expect_invalid!(seen, onair_pusher_enable_custom_audio_capture(np, true));
    expect_invalid!(seen, onair_pusher_send_custom_video_frame(np, null()));
    expect_invalid!(seen, onair_pusher_send_custom_audio_frame(np, null()));
    expect_invalid!(
        seen,
        onair_pusher_enable_custom_video_process(
            np,
            true,
            ONAIR_PIXEL_FORMAT_I420,
            ONAIR_BUFFER_TYPE_BYTE_BUFFER
        )
    );
    expect_invalid!(
        seen,
        onair_pusher_enable_custom_video_render(
            np,
            true,
            ONAIR_PIXEL_FORMAT_I420,
            ONAIR_BUFFER_TYPE_BYTE_BUFFER
        )
    );
    expect_invalid!(seen, onair_pusher_start_camera(np, c"".as_ptr()));
    expect_invalid!(seen, onair_pusher_stop_camera(np));
    expect_invalid!(seen, onair_pusher_start_microphone(np));
    expect_invalid!(seen, onair_pusher_stop_microphone(np));
    expect_invalid!(
        seen,
        onair_pusher_start_virtual_camera(np, c"x.png".as_ptr())
    );
    expect_invalid!(seen, onair_pusher_stop_virtual_camera(np));
    expect_invalid!(seen, onair_pusher_pause_audio(np));
    expect_invalid!(seen, onair_pusher_resume_audio(np));
    expect_invalid!(seen, onair_pusher_pause_video(np));
    expect_invalid!(seen, onair_pusher_resume_video(np));
    expect_invalid!(seen, onair_pusher_snapshot(np));
    expect_invalid!(seen, onair_pusher_set_encoder_mirror(np, true));
    expect_invalid!(seen, onair_pusher_set_watermark(np, null(), 0.0, 0.0, 0.1));
    expect_invalid!(seen, onair_pusher_enable_volume_evaluation(np, 300));
    expect_invalid!(
        seen,
        onair_pusher_send_sei_message(np, 242, c"x".as_ptr().cast(), 1)
    );
    expect_invalid!(seen, onair_pusher_set_property(np, key, c"3".as_ptr()));

    // Player: NULL handle.
    expect_invalid!(seen, onair_player_set_observer(nl, null(), null_mut()));
    expect_invalid!(seen, onair_player_start_play(nl, url));
    expect_invalid!(seen, onair_player_switch_stream(nl, url));
    expect_invalid!(seen, onair_player_stop_play(nl));
    expect_invalid!(seen, onair_player_is_playing(nl));
    expect_invalid!(seen, onair_player_pause_audio(nl));
    expect_invalid!(seen, onair_player_resume_audio(nl));
    expect_invalid!(seen, onair_player_pause_video(nl));
    expect_invalid!(seen, onair_player_resume_video(nl));
    expect_invalid!(seen, onair_player_snapshot(nl));
    expect_invalid!(seen, onair_player_set_cache_params(nl, 1.0, 5.0));
    expect_invalid!(seen, onair_player_set_playout_volume(nl, 50));
    expect_invalid!(seen, onair_player_enable_volume_evaluation(nl, 300));
    expect_invalid!(
        seen,
        onair_player_enable_observe_video_frame(
            nl,
            true,
            ONAIR_PIXEL_FORMAT_I420,
            ONAIR_BUFFER_TYPE_BYTE_BUFFER
        )
    );
    expect_invalid!(seen, onair_player_enable_observe_audio_frame(nl, true));
    expect_invalid!(seen, onair_player_enable_receive_sei_message(nl, true, 242));
    expect_invalid!(seen, onair_player_set_property(nl, key, c"3".as_ptr()));
    // Render views: NULL handles and arguments.
    let nv: *mut OnairRenderView = null_mut();
    expect_invalid!(seen, onair_pusher_set_render_view(np, null()));
    expect_invalid!(
        seen,
        onair_pusher_set_render_rotation(np, ONAIR_ROTATION_90)
    );
    expect_invalid!(
        seen,
        onair_pusher_set_render_fill_mode(np, ONAIR_FILL_MODE_FIT)
    );
    expect_invalid!(
        seen,
        onair_pusher_set_render_mirror(np, ONAIR_MIRROR_ENABLE)
    );
    expect_invalid!(seen, onair_pusher_show_debug_view(np, true));
    expect_invalid!(seen, onair_player_set_render_view(nl, null()));
    expect_invalid!(
        seen,
        onair_player_set_render_rotation(nl, ONAIR_ROTATION_90)
    );
    expect_invalid!(
        seen,
        onair_player_set_render_fill_mode(nl, ONAIR_FILL_MODE_FIT)
    );
    expect_invalid!(seen, onair_player_show_debug_view(nl, true));
    expect_invalid!(seen, onair_render_view_set_size(nv, 640, 360));
    expect_invalid!(seen, onair_render_view_is_alive(nv));
    let mut out: *mut OnairRenderView = null_mut();
    expect_invalid!(
        seen,
        onair_render_view_create_x11(null_mut(), 0, 1, &mut out)
    );
    assert!(out.is_null());
    expect_invalid!(
        seen,
        onair_render_view_create_wayland(null_mut(), null_mut(), &mut out)
    );
    assert!(out.is_null());

    // Live handles, NULL pointer arguments.
    let p = onair_pusher_create();
    let l = onair_player_create();
    assert!(!p.is_null() && !l.is_null());
    let mut with_handle = BTreeSet::new();
    expect_invalid!(with_handle, onair_pusher_start_push(p, null()));
    expect_invalid!(with_handle, onair_pusher_set_video_quality(p, null()));
    expect_invalid!(with_handle, onair_pusher_send_custom_video_frame(p, null()));
    expect_invalid!(with_handle, onair_pusher_send_custom_audio_frame(p, null()));
    expect_invalid!(with_handle, onair_pusher_start_camera(p, null()));
    expect_invalid!(with_handle, onair_pusher_start_virtual_camera(p, null()));
    expect_invalid!(
        with_handle,
        onair_pusher_send_sei_message(p, 242, null(), 4)
    );
    expect_invalid!(
        with_handle,
        onair_pusher_set_property(p, null(), c"3".as_ptr())
    );
    expect_invalid!(with_handle, onair_pusher_set_property(p, key, null()));
    expect_invalid!(with_handle, onair_player_start_play(l, null()));
    expect_invalid!(with_handle, onair_player_switch_stream(l, null()));
    expect_invalid!(
        with_handle,
        onair_player_set_property(l, null(), c"3".as_ptr())
    );
    expect_invalid!(with_handle, onair_player_set_property(l, key, null()));
    // NULL out pointers; a window id of 0.
    let mut x = 1u8;
    let display = (&mut x as *mut u8).cast();
    expect_invalid!(
        with_handle,
        onair_render_view_create_x11(display, 0, 1, null_mut())
    );
    expect_invalid!(
        with_handle,
        onair_render_view_create_wayland(display, display, null_mut())
    );
    let mut out: *mut OnairRenderView = null_mut();
    expect_invalid!(
        with_handle,
        onair_render_view_create_x11(display, 0, 0, &mut out)
    );
    // A frame struct whose data pointer is NULL.
    let frame = OnairVideoFrame {
        pixel_format: ONAIR_PIXEL_FORMAT_I420,
        buffer_type: ONAIR_BUFFER_TYPE_BYTE_BUFFER,
        data: null_mut(),
        length: 16 * 16 * 3 / 2,
        width: 16,
        height: 16,
        stride: 0,
        rotation: ONAIR_ROTATION_0,
    };
    // SAFETY: a valid handle and frame struct; its NULL data must be refused.
    let got = unsafe { onair_pusher_enable_custom_video_capture(p, true) };
    assert_eq!(got, ONAIR_OK);
    // SAFETY: as above.
    let got = unsafe { onair_pusher_send_custom_video_frame(p, &frame) };
    assert_eq!(got, INVALID);
    let audio = OnairAudioFrame {
        data: null(),
        length: 1920,
        sample_rate: 48_000,
        channels: 1,
    };
    // SAFETY: as above.
    let got = unsafe { onair_pusher_send_custom_audio_frame(p, &audio) };
    assert_eq!(got, INVALID);
    // Enum values out of range are INVALID_PARAMETER, in range they take.
    // SAFETY: a live handle.
    unsafe {
        assert_eq!(onair_pusher_set_video_codec(p, 7), INVALID);
        assert_eq!(
            onair_pusher_set_video_codec(p, ONAIR_VIDEO_CODEC_H265),
            ONAIR_OK
        );
        assert_eq!(onair_pusher_set_audio_codec(p, 2), INVALID);
        assert_eq!(
            onair_pusher_set_audio_codec(p, ONAIR_AUDIO_CODEC_OPUS),
            ONAIR_OK
        );
        assert_eq!(onair_pusher_set_opus_frame_duration(p, 15), INVALID);
        assert_eq!(onair_pusher_set_opus_frame_duration(p, 10), ONAIR_OK);
        assert_eq!(onair_pusher_set_video_encoder_backend(p, 42), INVALID);
        assert_eq!(onair_pusher_set_render_fill_mode(p, 9), INVALID);
        assert_eq!(onair_pusher_set_render_mirror(p, 9), INVALID);
        assert_eq!(onair_player_set_render_rotation(l, 9), INVALID);
        assert_eq!(
            onair_player_set_render_fill_mode(l, ONAIR_FILL_MODE_SCALE_FILL),
            ONAIR_OK
        );
        // NULL clears the view: not an error.
        assert_eq!(onair_pusher_set_render_view(p, null()), ONAIR_OK);
        assert_eq!(onair_player_set_render_view(l, null()), ONAIR_OK);
        assert_eq!(
            onair_pusher_set_video_encoder_backend(p, ONAIR_VIDEO_ENCODER_X265),
            ONAIR_OK
        );
    }
    // NULL observers clear (the documented meaning), they are not errors.
    // SAFETY: live handles.
    let got = unsafe { onair_pusher_set_observer(p, null(), null_mut()) };
    assert_eq!(got, ONAIR_OK);
    // SAFETY: live handles.
    let got = unsafe { onair_player_set_observer(l, null(), null_mut()) };
    assert_eq!(got, ONAIR_OK);
    // SAFETY: live handles, released once.
    unsafe {
        onair_pusher_release(p);
        onair_player_release(l);
        // Releasing NULL is a no-op.
        onair_pusher_release(null_mut());
        onair_player_release(null_mut());
        onair_render_view_release(null_mut());
    }
    for f in [
        "onair_pusher_release",
        "onair_player_release",
        "onair_render_view_release",
        "onair_pusher_create",
        "onair_player_create",
    ] {
        seen.insert(f);
    }
    // Functions without handles: NULL is not an argument they take, or means "off".
    // SAFETY: a NULL callback turns logging off.
    let log = unsafe { onair_set_log_callback(None, null_mut(), ONAIR_LOG_INFO) };
    assert!(log == ONAIR_OK || log == ONAIR_ERROR_REFUSED);
    for f in [
        "onair_set_log_callback",
        "onair_version",
        "onair_code_message",
        "onair_last_error_message",
    ] {
        seen.insert(f);
    }
    // SAFETY: a static string.
    let why = unsafe { std::ffi::CStr::from_ptr(onair_last_error_message()) };
    assert!(
        !why.to_bytes().is_empty(),
        "the last failure left its sentence"
    );

    let declared = header_functions();
    let walked: BTreeSet<String> = seen.iter().map(|s| s.to_string()).collect();
    let missing: Vec<_> = declared.difference(&walked).collect();
    assert!(
        missing.is_empty(),
        "functions in onair.h this test does not walk: {missing:?}"
    );
    let extra: Vec<_> = walked.difference(&declared).collect();
    assert!(extra.is_empty(), "walked but not in onair.h: {extra:?}");
}
