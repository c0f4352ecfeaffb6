//! `onair_player_*`: V2TXLivePlayer for C. An `OnairPlayer*` is an opaque handle from
//! `onair_player_create`, valid until `onair_player_release`; every function may be called
//! from any thread (release excepted: no other call on the same handle may run concurrently
//! with it), inside the player's own callbacks included.

use crate::guard::{call, call_value, handle, text};
use crate::player_observer::{CPlayerObserver, OnairPlayerObserver};
use crate::pusher::byte_buffers_only;
use crate::slot::UserData;
use crate::types::{OnairBufferType, OnairCode, OnairPixelFormat, ONAIR_ERROR_INVALID_PARAMETER};
use onair::{LiveError, LiveResult, V2TXLivePlayer};
use std::ffi::c_void;
use std::os::raw::c_char;
use std::sync::Arc;

/// A player handle (opaque to C).
#[derive(Debug)]
pub struct OnairPlayer {
    player: V2TXLivePlayer,
    observer: Arc<CPlayerObserver>,
}

/// Runs `f` on the player behind `p`.
///
/// # Safety
/// `p` is NULL or a live handle from `onair_player_create`.
unsafe fn with(
    what: &str,
    p: *const OnairPlayer,
    f: impl FnOnce(&V2TXLivePlayer) -> LiveResult,
) -> OnairCode {
    call(what, || {
        // SAFETY: forwarded from the caller.
        let p = unsafe { handle(p, "player") }?;
        f(&p.player)
    })
}

/// Creates a player (cache 1..5 s, 3 reconnects 3 s apart). Release it with
/// `onair_player_release`.
#[no_mangle]
pub extern "C" fn onair_player_create() -> *mut OnairPlayer {
    call_value("onair_player_create", std::ptr::null_mut(), || {
        let observer = Arc::new(CPlayerObserver::default());
        let player = V2TXLivePlayer::new();
        player.set_observer(Some(
            Arc::clone(&observer) as Arc<dyn onair::V2TXLivePlayerObserver>
        ));
        Box::into_raw(Box::new(OnairPlayer { player, observer }))
    })
}

/// Stops playing (as `onair_player_stop_play`) and frees the handle. NULL is ignored. May be
/// called from inside one of this player's callbacks; no callback runs after it returns.
///
/// # Safety
/// `player` is NULL or a live handle, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn onair_player_release(player: *mut OnairPlayer) {
    if player.is_null() {
        return;
    }
    let _ = call("onair_player_release", || {
        // SAFETY: a live handle from `onair_player_create`, released once by the contract.
        let boxed = unsafe { Box::from_raw(player) };
        boxed.observer.slot.set(None);
        drop(boxed);
        Ok(())
    });
}

/// Sets the observer (a copy of `*observer`, `user_data` passed back first); NULL clears it.
/// Once this returns the previous observer is not called again (unless this is itself called
/// from inside one of its callbacks, which then finishes).
///
/// # Safety
/// `player` is NULL or a live handle; `observer` is NULL or points to a valid table.
#[no_mangle]
pub unsafe extern "C" fn onair_player_set_observer(
    player: *mut OnairPlayer,
    observer: *const OnairPlayerObserver,
    user_data: *mut c_void,
) -> OnairCode {
    call("onair_player_set_observer", || {
        // SAFETY: forwarded from the caller.
        let p = unsafe { handle(player, "player") }?;
        // SAFETY: NULL or a valid table by the caller's contract; copied now.
        let table = unsafe { observer.as_ref() }.copied();
        p.observer.slot.set(table.map(|t| (t, UserData(user_data))));
        Ok(())
    })
}

/// Starts playing `url`: rtmp://, rtmps://, or an http(s):// FLV URL. INVALID_PARAMETER for
/// other URLs, REFUSED when already playing.
///
/// # Safety
/// `player` is NULL or a live handle; `url` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn onair_player_start_play(
    player: *mut OnairPlayer,
    url: *const c_char,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_start_play", player, |p| {
            p.start_play(text(url, "url")?)
        })
    }
}

/// Switches to another stream without a black frame (LiteAV `switchStream`): the playing
/// stream goes on until the new one's first keyframe; `on_stream_switched` reports the
/// outcome (0, -1 timeout, -2 refused by the server, -3 other). REFUSED unless playing,
/// INVALID_PARAMETER for NULL or a URL `onair_player_start_play` refuses.
///
/// # Safety
/// `player` is NULL or a live handle; `url` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn onair_player_switch_stream(
    player: *mut OnairPlayer,
    url: *const c_char,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_switch_stream", player, |p| {
            p.switch_stream(text(url, "url")?)
        })
    }
}

/// Stops playing: threads joined, socket closed, no callback afterwards.
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_stop_play(player: *mut OnairPlayer) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe { with("onair_player_stop_play", player, V2TXLivePlayer::stop_play) }
}

/// 1 while playing, 0 when not, ERROR_INVALID_PARAMETER for NULL.
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_is_playing(player: *mut OnairPlayer) -> i32 {
    call_value(
        "onair_player_is_playing",
        ONAIR_ERROR_INVALID_PARAMETER,
        || {
            // SAFETY: forwarded from the caller.
            match unsafe { handle(player, "player") } {
                Ok(p) => i32::from(p.player.is_playing()),
                Err(_) => ONAIR_ERROR_INVALID_PARAMETER,
            }
        },
    )
}

/// Mutes playout (the stream keeps flowing).
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_pause_audio(player: *mut OnairPlayer) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with(
            "onair_player_pause_audio",
            player,
            V2TXLivePlayer::pause_audio,
        )
    }
}

/// Unmutes, jumping to live.
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_resume_audio(player: *mut OnairPlayer) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with(
            "onair_player_resume_audio",
            player,
            V2TXLivePlayer::resume_audio,
        )
    }
}

/// Freezes the picture (no render callbacks).
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_pause_video(player: *mut OnairPlayer) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with(
            "onair_player_pause_video",
            player,
            V2TXLivePlayer::pause_video,
        )
    }
}

/// Shows the picture again, jumping to live.
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_resume_video(player: *mut OnairPlayer) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with(
            "onair_player_resume_video",
            player,
            V2TXLivePlayer::resume_video,
        )
    }
}

/// A snapshot of the picture on screen for `on_snapshot_complete`. REFUSED unless playing.
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_snapshot(player: *mut OnairPlayer) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe { with("onair_player_snapshot", player, V2TXLivePlayer::snapshot) }
}

/// The jitter buffer's cache in seconds: both > 0, `min_time <= max_time`. REFUSED while
/// playing.
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_set_cache_params(
    player: *mut OnairPlayer,
    min_time: f32,
    max_time: f32,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_set_cache_params", player, |p| {
            p.set_cache_params(min_time, max_time)
        })
    }
}

/// Playout volume 0..=100 (default 100).
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_set_playout_volume(
    player: *mut OnairPlayer,
    volume: i32,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_set_playout_volume", player, |p| {
            let v = u32::try_from(volume)
                .map_err(|_| LiveError::invalid(format!("volume {volume}; expected 0..=100")))?;
            p.set_playout_volume(v)
        })
    }
}

/// Reports the playout volume every `interval_ms` (>= 100; <= 0 turns it off).
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_enable_volume_evaluation(
    player: *mut OnairPlayer,
    interval_ms: i32,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_enable_volume_evaluation", player, |p| {
            p.enable_volume_evaluation(interval_ms)
        })
    }
}

/// Delivers decoded frames to `on_render_video_frame` as I420, NV12, BGRA32 or RGBA32 byte
/// buffers (NOT_SUPPORTED otherwise). Works before and during play.
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_enable_observe_video_frame(
    player: *mut OnairPlayer,
    enable: bool,
    pixel_format: OnairPixelFormat,
    buffer_type: OnairBufferType,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_enable_observe_video_frame", player, |p| {
            let f = crate::types::pixel_format(pixel_format)
                .ok_or_else(|| LiveError::invalid(format!("pixel_format {pixel_format}")))?;
            let b = crate::types::buffer_type(buffer_type)
                .ok_or_else(|| LiveError::invalid(format!("buffer_type {buffer_type}")))?;
            if enable {
                byte_buffers_only(f, b)?;
            }
            p.enable_observe_video_frame(enable, f, b)
        })
    }
}

/// Delivers played-out audio (20 ms s16 frames) to `on_playout_audio_frame`.
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_enable_observe_audio_frame(
    player: *mut OnairPlayer,
    enable: bool,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_enable_observe_audio_frame", player, |p| {
            p.enable_observe_audio_frame(enable)
        })
    }
}

/// Delivers SEI messages of `payload_type` (5 or 242) to `on_receive_sei_message`.
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_enable_receive_sei_message(
    player: *mut OnairPlayer,
    enable: bool,
    payload_type: i32,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_enable_receive_sei_message", player, |p| {
            let kind = u32::try_from(payload_type)
                .map_err(|_| LiveError::invalid(format!("SEI payload type {payload_type}")))?;
            p.enable_receive_sei_message(enable, kind)
        })
    }
}

/// Advanced settings by key (`maxNumberOfReconnection`, `secondsBetweenReconnection`,
/// `setHeaders`); NOT_SUPPORTED for other keys.
///
/// # Safety
/// `player` is NULL or a live handle; `key` and `value` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn onair_player_set_property(
    player: *mut OnairPlayer,
    key: *const c_char,
    value: *const c_char,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_set_property", player, |p| {
            p.set_property(text(key, "key")?, text(value, "value")?)
        })
    }
}

/// Draws the played picture into `view` (LiteAV `setRenderView`); NULL stops drawing. The player
/// keeps its own reference: the app may release its view handle afterwards.
///
/// # Safety
/// `player` is NULL or a live handle; `view` is NULL or a live view handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_set_render_view(
    player: *mut OnairPlayer,
    view: *const crate::view::OnairRenderView,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    let view = unsafe { crate::view::optional_view(view) };
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_set_render_view", player, |p| {
            p.set_render_view(view)
        })
    }
}

/// Clockwise rotation of the picture in the render view (`ONAIR_ROTATION_*`).
///
/// # Safety
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_set_render_rotation(
    player: *mut OnairPlayer,
    rotation: crate::types::OnairRotation,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_set_render_rotation", player, |p| {
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
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_set_render_fill_mode(
    player: *mut OnairPlayer,
    mode: crate::types::OnairFillMode,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_set_render_fill_mode", player, |p| {
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
/// `player` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn onair_player_show_debug_view(
    player: *mut OnairPlayer,
    show: bool,
) -> OnairCode {
    // SAFETY: forwarded from the caller.
    unsafe {
        with("onair_player_show_debug_view", player, |p| {
            p.show_debug_view(show);
            Ok(())
        })
    }
}
