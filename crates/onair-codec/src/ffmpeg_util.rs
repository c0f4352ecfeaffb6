//! One-time FFmpeg set-up shared by the decoders, the AAC encoder and the scaler.

use std::sync::Once;

/// Initialises FFmpeg once and keeps its logging to errors (garbage input must not flood
/// stderr; onair reports decode errors itself).
pub fn ffmpeg_init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = ffmpeg_next::init();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    });
}
