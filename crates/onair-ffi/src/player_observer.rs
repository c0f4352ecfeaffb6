//! `OnairPlayerObserver`: the C player observer (nullable function pointers, the app's
//! `user_data` first) and the Rust observer that calls it.
//!
//! Threads: `on_render_video_frame` and `on_playout_audio_frame` run on the player's media
//! thread when the frame is due; every other callback on its callback thread, in order.
//! Strings, frames and SEI payloads are borrowed for the duration of the call.

use crate::slot::{ObserverSlot, UserData};
use crate::types::{
    c_ptr, c_string, frame_view, OnairAudioFrame, OnairPlayerStatistics, OnairVideoFrame,
};
use onair::{AudioFrame, PlayerStatistics, V2TXLiveCode, V2TXLivePlayer, VideoFrame};
use std::ffi::c_void;
use std::os::raw::c_char;

/// A callback with a code, a message and extra information.
pub type OnairMessageCallback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        code: i32,
        msg: *const c_char,
        extra_info: *const c_char,
    ),
>;

/// A callback with extra information only.
pub type OnairInfoCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, extra_info: *const c_char)>;

/// A callback with a first-play flag and extra information.
pub type OnairPlayingCallback = Option<
    unsafe extern "C" fn(user_data: *mut c_void, first_play: bool, extra_info: *const c_char),
>;

/// The player's callbacks. Every field may be NULL; a zeroed struct receives nothing.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct OnairPlayerObserver {
    /// An error; after ERROR_DISCONNECTED the play has ended.
    pub on_error: OnairMessageCallback,
    /// A warning (WARNING_VIDEO_BLOCK, an unsupported codec); playback goes on.
    pub on_warning: OnairMessageCallback,
    /// The decoded picture size, on the first frame and whenever it changes.
    pub on_video_resolution_changed:
        Option<unsafe extern "C" fn(user_data: *mut c_void, width: i32, height: i32)>,
    /// Connected to the server (again, after a reconnect).
    pub on_connected: OnairInfoCallback,
    /// Video is playing (`first_play`: the first frame; else after a stall).
    pub on_video_playing: OnairPlayingCallback,
    /// Audio is playing (`first_play`: the first frame; else after a stall).
    pub on_audio_playing: OnairPlayingCallback,
    /// Video stalled and waits for data.
    pub on_video_loading: OnairInfoCallback,
    /// Audio stalled and waits for data.
    pub on_audio_loading: OnairInfoCallback,
    /// The playout volume, 0..=100 (`onair_player_enable_volume_evaluation`).
    pub on_playout_volume_update: Option<unsafe extern "C" fn(user_data: *mut c_void, volume: i32)>,
    /// Statistics, every 2 s while playing.
    pub on_statistics_update: Option<
        unsafe extern "C" fn(user_data: *mut c_void, statistics: *const OnairPlayerStatistics),
    >,
    /// The snapshot asked for by `onair_player_snapshot` (RGBA32), or NULL when none could
    /// be taken.
    pub on_snapshot_complete:
        Option<unsafe extern "C" fn(user_data: *mut c_void, image: *const OnairVideoFrame)>,
    /// A decoded frame in the format of `onair_player_enable_observe_video_frame`, when it is
    /// due on screen.
    pub on_render_video_frame:
        Option<unsafe extern "C" fn(user_data: *mut c_void, frame: *const OnairVideoFrame)>,
    /// 20 ms of played-out PCM (`onair_player_enable_observe_audio_frame`).
    pub on_playout_audio_frame:
        Option<unsafe extern "C" fn(user_data: *mut c_void, frame: *const OnairAudioFrame)>,
    /// An SEI message of the type chosen by `onair_player_enable_receive_sei_message`.
    pub on_receive_sei_message: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            payload_type: i32,
            data: *const u8,
            data_size: u32,
        ),
    >,
    /// `onair_player_switch_stream` ended: 0 the new stream plays, -1 it had no keyframe
    /// within 10 s, -2 the server refused it, -3 another failure (the old stream plays on).
    pub on_stream_switched:
        Option<unsafe extern "C" fn(user_data: *mut c_void, url: *const c_char, code: i32)>,
}

/// The Rust observer a C player runs with: forwards to the table in its slot.
#[derive(Debug, Default)]
pub(crate) struct CPlayerObserver {
    pub(crate) slot: ObserverSlot<OnairPlayerObserver>,
}

impl CPlayerObserver {
    fn message(
        &self,
        pick: impl Fn(&OnairPlayerObserver) -> OnairMessageCallback,
        code: V2TXLiveCode,
        message: &str,
        extra: &str,
    ) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = pick(t) {
                let (m, e) = (c_string(message), c_string(extra));
                // SAFETY: the app's callback as declared; the strings live until it returns.
                unsafe { f(ud, code.value(), c_ptr(&m), c_ptr(&e)) }
            }
        });
    }

    fn info(&self, pick: impl Fn(&OnairPlayerObserver) -> OnairInfoCallback, extra: &str) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = pick(t) {
                let e = c_string(extra);
                // SAFETY: the app's callback as declared; the string lives until it returns.
                unsafe { f(ud, c_ptr(&e)) }
            }
        });
    }

    fn playing(
        &self,
        pick: impl Fn(&OnairPlayerObserver) -> OnairPlayingCallback,
        first: bool,
        extra: &str,
    ) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = pick(t) {
                let e = c_string(extra);
                // SAFETY: the app's callback as declared; the string lives until it returns.
                unsafe { f(ud, first, c_ptr(&e)) }
            }
        });
    }

    fn frame(
        &self,
        pick: impl Fn(
            &OnairPlayerObserver,
        ) -> Option<unsafe extern "C" fn(*mut c_void, *const OnairVideoFrame)>,
        frame: Option<&VideoFrame>,
    ) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = pick(t) {
                let view = frame.map(frame_view);
                let ptr = view.as_ref().map_or(std::ptr::null(), |v| v as *const _);
                // SAFETY: the app's callback; the frame's bytes live until it returns.
                unsafe { f(ud, ptr) }
            }
        });
    }
}

fn int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl onair::V2TXLivePlayerObserver for CPlayerObserver {
    fn on_error(&self, _: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, extra: &str) {
        self.message(|t| t.on_error, code, message, extra);
    }

    fn on_warning(&self, _: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, extra: &str) {
        self.message(|t| t.on_warning, code, message, extra);
    }

    fn on_video_resolution_changed(&self, _: &V2TXLivePlayer, width: u32, height: u32) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_video_resolution_changed {
                // SAFETY: the app's callback with its user_data.
                unsafe { f(ud, int(width), int(height)) }
            }
        });
    }

    fn on_connected(&self, _: &V2TXLivePlayer, extra: &str) {
        self.info(|t| t.on_connected, extra);
    }

    fn on_video_playing(&self, _: &V2TXLivePlayer, first_play: bool, extra: &str) {
        self.playing(|t| t.on_video_playing, first_play, extra);
    }

    fn on_audio_playing(&self, _: &V2TXLivePlayer, first_play: bool, extra: &str) {
        self.playing(|t| t.on_audio_playing, first_play, extra);
    }

    fn on_video_loading(&self, _: &V2TXLivePlayer, extra: &str) {
        self.info(|t| t.on_video_loading, extra);
    }

    fn on_audio_loading(&self, _: &V2TXLivePlayer, extra: &str) {
        self.info(|t| t.on_audio_loading, extra);
    }

    fn on_playout_volume_update(&self, _: &V2TXLivePlayer, volume: u32) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_playout_volume_update {
                // SAFETY: the app's callback with its user_data.
                unsafe { f(ud, int(volume.min(100))) }
            }
        });
    }

    fn on_statistics_update(&self, _: &V2TXLivePlayer, statistics: &PlayerStatistics) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_statistics_update {
                let s = OnairPlayerStatistics::from(statistics);
                // SAFETY: the app's callback; `s` lives until it returns.
                unsafe { f(ud, &s) }
            }
        });
    }

    fn on_snapshot_complete(&self, _: &V2TXLivePlayer, image: Option<&VideoFrame>) {
        self.frame(|t| t.on_snapshot_complete, image);
    }

    fn on_render_video_frame(&self, _: &V2TXLivePlayer, frame: &VideoFrame) {
        self.frame(|t| t.on_render_video_frame, Some(frame));
    }

    fn on_playout_audio_frame(&self, _: &V2TXLivePlayer, frame: &AudioFrame) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_playout_audio_frame {
                let data = frame.data();
                let view = OnairAudioFrame {
                    data: data.as_ptr(),
                    length: u32::try_from(data.len()).unwrap_or(u32::MAX),
                    sample_rate: frame.sample_rate(),
                    channels: u32::from(frame.channels()),
                };
                // SAFETY: the app's callback; the samples live until it returns.
                unsafe { f(ud, &view) }
            }
        });
    }

    fn on_stream_switched(&self, _: &V2TXLivePlayer, url: &str, code: i32) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_stream_switched {
                let u = c_string(url);
                // SAFETY: the app's callback; the string lives until it returns.
                unsafe { f(ud, c_ptr(&u), code) }
            }
        });
    }

    fn on_receive_sei_message(&self, _: &V2TXLivePlayer, payload_type: u32, data: &[u8]) {
        self.slot.with(|t, UserData(ud)| {
            if let Some(f) = t.on_receive_sei_message {
                let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
                // SAFETY: the app's callback; the payload lives until it returns.
                unsafe { f(ud, int(payload_type), data.as_ptr(), len) }
            }
        });
    }
}
