//! `OnairPusherObserver`: the C pusher observer (a struct of nullable function pointers whose
//! first parameter is the app's `user_data`) and the Rust observer that calls it.
//!
//! Threads: `on_process_video_frame` and `on_render_video_frame` run on the pusher's video
//! thread; every other callback on its callback thread, in order. Strings and frames are
//! borrowed for the duration of the call.

use crate::slot::{ObserverSlot, UserData};
use crate::types::{
    c_ptr, c_string, frame_view, pixel_format_value, OnairPushStatus, OnairPusherStatistics,
    OnairVideoFrame, ONAIR_BUFFER_TYPE_BYTE_BUFFER, ONAIR_ROTATION_0,
};
use onair::{
    ProcessVideoFrame, PushStatus, PusherStatistics, V2TXLiveCode, V2TXLivePusherObserver,
    VideoFrame,
};
use std::ffi::c_void;
use std::os::raw::c_char;

/// The pusher's callbacks. Every field may be NULL; a zeroed struct receives nothing.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct OnairPusherObserver {
    /// An error; the push may have ended (ERROR_DISCONNECTED after the reconnects).
    pub on_error: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            code: i32,
            msg: *const c_char,
            extra_info: *const c_char,
        ),
    >,
    /// A warning (NETWORK_BUSY, camera or microphone trouble); the push goes on.
    pub on_warning: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            code: i32,
            msg: *const c_char,
            extra_info: *const c_char,
        ),
    >,
    /// The first audio frame was captured.
    pub on_capture_first_audio_frame: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    /// The first video frame was captured.
    pub on_capture_first_video_frame: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    /// The captured volume, 0..=100 (`onair_pusher_enable_volume_evaluation`).
    pub on_microphone_volume_update:
        Option<unsafe extern "C" fn(user_data: *mut c_void, volume: i32)>,
    /// Connection status (`ONAIR_PUSH_STATUS_*`); `extra_info` may carry a legacy event number.
    pub on_push_status_update: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            status: OnairPushStatus,
            msg: *const c_char,
            extra_info: *const c_char,
        ),
    >,
    /// Statistics, every 2 s while pushing.
    pub on_statistics_update: Option<
        unsafe extern "C" fn(user_data: *mut c_void, statistics: *const OnairPusherStatistics),
    >,
    /// The snapshot asked for by `onair_pusher_snapshot` (RGBA32), or NULL when none could be
    /// taken.
    pub on_snapshot_complete:
        Option<unsafe extern "C" fn(user_data: *mut c_void, image: *const OnairVideoFrame)>,
    /// The local preview (`onair_pusher_enable_custom_video_render`): each frame as the encoder
    /// gets it, on the video thread.
    pub on_render_video_frame:
        Option<unsafe extern "C" fn(user_data: *mut c_void, frame: *const OnairVideoFrame)>,
    /// The custom-process hook (`onair_pusher_enable_custom_video_process`), on the video
    /// thread: write the processed picture into `dst->data` (same format, size and length;
    /// it starts as a copy of `src`), or point `dst->data` at a buffer the app owns (not on
    /// the callback's stack) of `dst->length` bytes, which onair copies as soon as the
    /// callback returns. Return 0.
    pub on_process_video_frame: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            src: *const OnairVideoFrame,
            dst: *mut OnairVideoFrame,
        ) -> i32,
    >,
}

/// The Rust observer a C pusher runs with: forwards to the table in its slot.
#[derive(Debug, Default)]
pub(crate) struct CPusherObserver {
    pub(crate) slot: ObserverSlot<OnairPusherObserver>,
}

impl CPusherObserver {
    fn message(
        &self,
        pick: impl Fn(
            &OnairPusherObserver,
        )
            -> Option<unsafe extern "C" fn(*mut c_void, i32, *const c_char, *const c_char)>,
        code: i32,
        message: &str,
        extra: &str,
    ) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = pick(t) {
                let (m, e) = (c_string(message), c_string(extra));
                // SAFETY: the app's callback, called as its declared C signature; the strings
                // live until it returns.
                unsafe { f(ud, code, c_ptr(&m), c_ptr(&e)) }
            }
        });
    }
}

impl V2TXLivePusherObserver for CPusherObserver {
    fn on_error(&self, code: V2TXLiveCode, message: &str, extra: &str) {
        self.message(|t| t.on_error, code.value(), message, extra);
    }

    fn on_warning(&self, code: V2TXLiveCode, message: &str, extra: &str) {
        self.message(|t| t.on_warning, code.value(), message, extra);
    }

    fn on_capture_first_audio_frame(&self) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_capture_first_audio_frame {
                // SAFETY: the app's callback with its user_data.
                unsafe { f(ud) }
            }
        });
    }

    fn on_capture_first_video_frame(&self) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_capture_first_video_frame {
                // SAFETY: the app's callback with its user_data.
                unsafe { f(ud) }
            }
        });
    }

    fn on_microphone_volume_update(&self, volume: u32) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_microphone_volume_update {
                // SAFETY: the app's callback with its user_data.
                unsafe { f(ud, volume.min(100) as i32) }
            }
        });
    }

    fn on_push_status_update(&self, status: PushStatus, message: &str, extra: &str) {
        self.message(
            |t| t.on_push_status_update,
            i32::from(status.value()),
            message,
            extra,
        );
    }

    fn on_statistics_update(&self, statistics: &PusherStatistics) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_statistics_update {
                let s = OnairPusherStatistics::from(statistics);
                // SAFETY: the app's callback; `s` lives until it returns.
                unsafe { f(ud, &s) }
            }
        });
    }

    fn on_snapshot_complete(&self, image: Option<&VideoFrame>) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_snapshot_complete {
                let view = image.map(frame_view);
                let ptr = view.as_ref().map_or(std::ptr::null(), |v| v as *const _);
                // SAFETY: the app's callback; the frame's bytes live until it returns.
                unsafe { f(ud, ptr) }
            }
        });
    }

    fn on_render_video_frame(&self, frame: &VideoFrame) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_render_video_frame {
                let view = frame_view(frame);
                // SAFETY: the app's callback; the frame's bytes live until it returns.
                unsafe { f(ud, &view) }
            }
        });
    }

    fn on_process_video_frame(&self, frame: ProcessVideoFrame<'_>) {
        let ProcessVideoFrame::Bytes {
            pixel_format,
            width,
            height,
            src,
            dst,
        } = frame
        else {
            // Texture mode is refused by onair_pusher_enable_custom_video_process.
            return;
        };
        self.slot.with(|t, UserData(ud)| {
            let Some(f) = t.on_process_video_frame else {
                return;
            };
            let view = |data: *mut u8, len: usize| OnairVideoFrame {
                pixel_format: pixel_format_value(pixel_format),
                buffer_type: ONAIR_BUFFER_TYPE_BYTE_BUFFER,
                data,
                length: u32::try_from(len).unwrap_or(u32::MAX),
                width,
                height,
                stride: 0,
                rotation: ONAIR_ROTATION_0,
            };
            let src_view = view(src.as_ptr().cast_mut(), src.len());
            let own = dst.as_mut_ptr();
            let mut dst_view = view(own, dst.len());
            // SAFETY: the app's callback; both buffers live until it returns and `dst` is
            // writable for its length.
            unsafe { f(ud, &src_view, &mut dst_view) };
            if dst_view.data != own && !dst_view.data.is_null() {
                // The app pointed dst at its own buffer of the same length: take it.
                // SAFETY: the callback's contract: `dst->length` readable bytes at
                // `dst->data` in a buffer the app owns, read right after the callback.
                let theirs = unsafe { std::slice::from_raw_parts(dst_view.data, dst.len()) };
                dst.copy_from_slice(theirs);
            }
        });
    }
}
