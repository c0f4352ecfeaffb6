//! `V2TXLivePlayerObserver`: the player's callbacks (spec "Player", Observer), each with the
//! player as first argument and a no-op default. `on_render_video_frame` and
//! `on_playout_audio_frame` run on the player's media thread, at the moment the frame is due;
//! every other callback runs on the player's callback thread, in order. None arrives after
//! `stop_play` (or drop) has returned.

use super::V2TXLivePlayer;
use onair_core::{AudioFrame, PlayerStatistics, V2TXLiveCode, VideoFrame};

/// Receives player events.
pub trait V2TXLivePlayerObserver: Send + Sync {
    /// An error; after ERROR_DISCONNECTED the play has ended.
    fn on_error(&self, player: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, extra: &str) {
        let _ = (player, code, message, extra);
    }
    /// A warning (WARNING_VIDEO_BLOCK, an unsupported codec); playback goes on.
    fn on_warning(&self, player: &V2TXLivePlayer, code: V2TXLiveCode, message: &str, extra: &str) {
        let _ = (player, code, message, extra);
    }
    /// The decoded picture size, on the first frame and whenever it changes.
    fn on_video_resolution_changed(&self, player: &V2TXLivePlayer, width: u32, height: u32) {
        let _ = (player, width, height);
    }
    /// Connected to the server (again, after a reconnect).
    fn on_connected(&self, player: &V2TXLivePlayer, extra: &str) {
        let _ = (player, extra);
    }
    /// Video is playing: `first_play` is true for the first frame, false after a recovery.
    fn on_video_playing(&self, player: &V2TXLivePlayer, first_play: bool, extra: &str) {
        let _ = (player, first_play, extra);
    }
    /// Audio is playing: `first_play` is true for the first frame, false after a recovery.
    fn on_audio_playing(&self, player: &V2TXLivePlayer, first_play: bool, extra: &str) {
        let _ = (player, first_play, extra);
    }
    /// Video stalled and is waiting for data.
    fn on_video_loading(&self, player: &V2TXLivePlayer, extra: &str) {
        let _ = (player, extra);
    }
    /// Audio stalled and is waiting for data.
    fn on_audio_loading(&self, player: &V2TXLivePlayer, extra: &str) {
        let _ = (player, extra);
    }
    /// The playout volume, 0..=100, at the interval set by `enable_volume_evaluation`.
    fn on_playout_volume_update(&self, player: &V2TXLivePlayer, volume: u32) {
        let _ = (player, volume);
    }
    /// Statistics, every 2 s while playing.
    fn on_statistics_update(&self, player: &V2TXLivePlayer, statistics: &PlayerStatistics) {
        let _ = (player, statistics);
    }
    /// A snapshot (RGBA32) of the picture on screen, or `None` when none could be taken.
    fn on_snapshot_complete(&self, player: &V2TXLivePlayer, image: Option<&VideoFrame>) {
        let _ = (player, image);
    }
    /// A decoded frame, in the format chosen by `enable_observe_video_frame`, when it is due
    /// on screen. Runs on the media thread: return quickly.
    fn on_render_video_frame(&self, player: &V2TXLivePlayer, frame: &VideoFrame) {
        let _ = (player, frame);
    }
    /// A decoded frame as an RGBA8 wgpu texture (`enable_observe_video_frame(true, Texture2D,
    /// Texture)`), on the player's GPU context, when it is due on screen; `timestamp` is its
    /// presentation time. The texture is the app's to keep. Runs on the media thread.
    fn on_render_video_texture(
        &self,
        player: &V2TXLivePlayer,
        texture: &onair_gpu::wgpu::Texture,
        timestamp: onair_core::Timestamp,
    ) {
        let _ = (player, texture, timestamp);
    }
    /// 20 ms of decoded s16 audio when it is played out (after the playout volume).
    fn on_playout_audio_frame(&self, player: &V2TXLivePlayer, frame: &AudioFrame) {
        let _ = (player, frame);
    }
    /// An SEI message of the type chosen by `enable_receive_sei_message`.
    fn on_receive_sei_message(&self, player: &V2TXLivePlayer, payload_type: u32, data: &[u8]) {
        let _ = (player, payload_type, data);
    }
    /// `start_local_recording` began (code 0) or was refused (-1 failed, -2 not `.mp4`, -6
    /// already recording, -7 the file exists, -8 no permission).
    fn on_local_record_begin(&self, player: &V2TXLivePlayer, code: i32, storage_path: &str) {
        let _ = (player, code, storage_path);
    }
    /// Milliseconds of media in the recording so far, every `interval_ms`.
    fn on_local_recording(&self, player: &V2TXLivePlayer, duration_ms: u64, storage_path: &str) {
        let _ = (player, duration_ms, storage_path);
    }
    /// The recording ended (`stop_local_recording`, or `stop_play`, before it returns): 0 a
    /// complete file, -1 failed, -2 the resolution changed (the file holds what came before),
    /// -3 shorter than a second (no file is left).
    fn on_local_record_complete(&self, player: &V2TXLivePlayer, code: i32, storage_path: &str) {
        let _ = (player, code, storage_path);
    }
    /// `switch_stream(url)` ended: 0 the new stream plays, -1 it had no keyframe within
    /// 10 s, -2 the server refused it, -3 another failure (the old stream plays on).
    fn on_stream_switched(&self, player: &V2TXLivePlayer, url: &str, code: i32) {
        let _ = (player, url, code);
    }
}

/// The event queue between the player's threads and its callback thread.
#[derive(Debug, Clone)]
pub(crate) enum PlayerEvent {
    Error(V2TXLiveCode, String),
    Warning(V2TXLiveCode, String),
    Resolution(u32, u32),
    Connected,
    VideoPlaying(bool),
    AudioPlaying(bool),
    VideoLoading,
    AudioLoading,
    Volume(u32),
    Statistics(PlayerStatistics),
    Snapshot(Option<VideoFrame>),
    Sei(u32, bytes::Bytes),
    Record(crate::local_record::RecordEvent),
    /// `switch_stream`'s outcome: the URL and LiteAV's code.
    Switched(String, i32),
}

impl crate::session::Event for PlayerEvent {
    fn lane(&self) -> crate::session::Lane {
        match self {
            Self::Statistics(_) | Self::Volume(_) => crate::session::Lane::Lossy,
            _ => crate::session::Lane::Lossless,
        }
    }
}

impl PlayerEvent {
    pub(crate) fn deliver(&self, p: &V2TXLivePlayer, o: &dyn V2TXLivePlayerObserver) {
        match self {
            Self::Error(c, m) => o.on_error(p, *c, m, ""),
            Self::Warning(c, m) => o.on_warning(p, *c, m, ""),
            Self::Resolution(w, h) => o.on_video_resolution_changed(p, *w, *h),
            Self::Switched(url, code) => o.on_stream_switched(p, url, *code),
            Self::Connected => o.on_connected(p, ""),
            Self::VideoPlaying(first) => o.on_video_playing(p, *first, ""),
            Self::AudioPlaying(first) => o.on_audio_playing(p, *first, ""),
            Self::VideoLoading => o.on_video_loading(p, ""),
            Self::AudioLoading => o.on_audio_loading(p, ""),
            Self::Volume(v) => o.on_playout_volume_update(p, *v),
            Self::Statistics(s) => o.on_statistics_update(p, s),
            Self::Snapshot(f) => o.on_snapshot_complete(p, f.as_ref()),
            Self::Sei(t, d) => o.on_receive_sei_message(p, *t, d),
            Self::Record(r) => {
                use crate::local_record::RecordEvent as R;
                match r {
                    R::Begin(c, path) => o.on_local_record_begin(p, *c, path),
                    R::Progress(ms, path) => o.on_local_recording(p, *ms, path),
                    R::Complete(c, path) => o.on_local_record_complete(p, *c, path),
                    R::Warning(m) => o.on_warning(p, V2TXLiveCode::ErrorFailed, m, ""),
                }
            }
        }
    }
}
