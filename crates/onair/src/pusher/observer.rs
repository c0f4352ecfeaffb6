//! `V2TXLivePusherObserver`: the pusher's callbacks (spec "Pusher", Observer). Every method has
//! a no-op default, so an app implements only what it needs. Callbacks run on the pusher's own
//! callback thread, in order, and never after `stop_push` (or drop) has returned.

use super::process::ProcessVideoFrame;
use onair_core::{PushStatus, PusherStatistics, V2TXLiveCode, VideoFrame};
use onair_gpu::GpuContext;
use std::sync::Arc;

/// Receives pusher events.
pub trait V2TXLivePusherObserver: Send + Sync {
    /// An error; the push may have ended (e.g. ERROR_DISCONNECTED after reconnects ran out).
    fn on_error(&self, code: V2TXLiveCode, message: &str, extra: &str) {
        let _ = (code, message, extra);
    }
    /// A warning (NETWORK_BUSY, camera/microphone trouble); the push goes on.
    fn on_warning(&self, code: V2TXLiveCode, message: &str, extra: &str) {
        let _ = (code, message, extra);
    }
    /// The first audio frame was captured.
    fn on_capture_first_audio_frame(&self) {}
    /// The first video frame was captured.
    fn on_capture_first_video_frame(&self) {}
    /// The captured audio's volume, 0..=100, at the interval set by `enable_volume_evaluation`.
    fn on_microphone_volume_update(&self, volume: u32) {
        let _ = volume;
    }
    /// Connection status changed; `extra` carries the legacy event number when there is one.
    fn on_push_status_update(&self, status: PushStatus, message: &str, extra: &str) {
        let _ = (status, message, extra);
    }
    /// Statistics, every 2 s while pushing.
    fn on_statistics_update(&self, statistics: &PusherStatistics) {
        let _ = statistics;
    }
    /// A snapshot of what is being pushed (RGBA32), or `None` if none could be taken.
    fn on_snapshot_complete(&self, image: Option<&VideoFrame>) {
        let _ = image;
    }
    /// The local preview (`enable_custom_video_render`): each frame as the encoder gets it
    /// (after the process hook and the watermark, mirrored as `set_encoder_mirror` says), in
    /// the format asked for, on the video thread while pushing; before `start_push` and
    /// between pushes, the running source's frames at the same size (no process hook), on the
    /// preview thread. Return quickly.
    fn on_render_video_frame(&self, frame: &VideoFrame) {
        let _ = frame;
    }
    /// The GPU process path's device and queue exist (onGLContextCreated in the original).
    /// Called on the video thread before the first `on_process_video_frame`; build pipelines
    /// here.
    fn on_gpu_context_created(&self, context: &Arc<GpuContext>) {
        let _ = context;
    }
    /// The GPU process path is ending (onGLContextDestroyed): drop what was made on the
    /// device. Called on the video thread after the last frame, before `stop_push` returns.
    fn on_gpu_context_destroyed(&self) {}
    /// One frame through the custom-process hook (`enable_custom_video_process`), on the video
    /// thread: fill `dst` from `src`. Return quickly; the encoder waits.
    fn on_process_video_frame(&self, frame: ProcessVideoFrame<'_>) {
        let _ = frame;
    }
    /// `start_local_recording` began (code 0) or was refused (-1 failed, -2 not `.mp4`, -6
    /// already recording, -7 the file exists, -8 no permission).
    fn on_local_record_begin(&self, code: i32, storage_path: &str) {
        let _ = (code, storage_path);
    }
    /// Milliseconds of media in the recording so far, every `interval_ms`.
    fn on_local_recording(&self, duration_ms: u64, storage_path: &str) {
        let _ = (duration_ms, storage_path);
    }
    /// The recording ended (`stop_local_recording`, or `stop_push`, before it returns): 0 a
    /// complete file, -1 failed, -2 the resolution changed (the file holds what came before),
    /// -3 shorter than a second (no file is left).
    fn on_local_record_complete(&self, code: i32, storage_path: &str) {
        let _ = (code, storage_path);
    }

    /// Screen capture started (`start_screen_capture`). From the screen capture's callback
    /// thread, which `stop_screen_capture` joins.
    fn on_screen_capture_started(&self) {}

    /// Screen capture stopped: 0 by the app (`stop_screen_capture`), 1 the captured window
    /// was closed (the push goes on with its last picture), 2 the display changed. LiteAV
    /// spells it `onScreenCaptureStoped`.
    fn on_screen_capture_stopped(&self, reason: i32) {
        let _ = reason;
    }
}

/// The event queue between the pipeline and the callback thread.
#[derive(Debug, Clone)]
pub(crate) enum PusherEvent {
    Error(V2TXLiveCode, String, String),
    Warning(V2TXLiveCode, String, String),
    FirstAudioFrame,
    FirstVideoFrame,
    Status(PushStatus, String, String),
    Statistics(PusherStatistics),
    Snapshot(Option<VideoFrame>),
    Volume(u32),
    Record(crate::local_record::RecordEvent),
    ScreenCaptureStarted,
    ScreenCaptureStopped(i32),
}

impl crate::session::Event for PusherEvent {
    fn lane(&self) -> crate::session::Lane {
        match self {
            Self::Statistics(_) | Self::Volume(_) => crate::session::Lane::Lossy,
            _ => crate::session::Lane::Lossless,
        }
    }
}

impl PusherEvent {
    pub(crate) fn deliver(&self, o: &dyn V2TXLivePusherObserver) {
        match self {
            Self::Error(c, m, e) => o.on_error(*c, m, e),
            Self::Warning(c, m, e) => o.on_warning(*c, m, e),
            Self::FirstAudioFrame => o.on_capture_first_audio_frame(),
            Self::FirstVideoFrame => o.on_capture_first_video_frame(),
            Self::Status(s, m, e) => o.on_push_status_update(*s, m, e),
            Self::Statistics(s) => o.on_statistics_update(s),
            Self::Snapshot(f) => o.on_snapshot_complete(f.as_ref()),
            Self::Volume(v) => o.on_microphone_volume_update(*v),
            Self::ScreenCaptureStarted => o.on_screen_capture_started(),
            Self::ScreenCaptureStopped(r) => o.on_screen_capture_stopped(*r),
            Self::Record(r) => {
                use crate::local_record::RecordEvent as R;
                match r {
                    R::Begin(c, p) => o.on_local_record_begin(*c, p),
                    R::Progress(ms, p) => o.on_local_recording(*ms, p),
                    R::Complete(c, p) => o.on_local_record_complete(*c, p),
                    R::Warning(m) => o.on_warning(V2TXLiveCode::ErrorFailed, m, ""),
                }
            }
        }
    }
}
