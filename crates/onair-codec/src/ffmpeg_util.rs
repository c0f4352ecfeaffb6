//! One-time FFmpeg set-up shared by the decoders, the FFmpeg encoders, the muxers and the
//! scaler: loads FFmpeg ([`crate::ffmpeg_lazy`]) and quiets its logging.

use crate::error::{CodecError, CodecResult};
use std::sync::Once;

/// Loads FFmpeg if it is not yet (an error naming the missing library where it cannot be),
/// then, once, initialises it and keeps its logging to fatal errors (garbage input must not
/// flood stderr; onair reports decode errors itself). Every FFmpeg user calls this before its
/// first FFmpeg call.
pub fn ffmpeg_init() -> CodecResult<()> {
    crate::ffmpeg_lazy::ensure_loaded().map_err(CodecError::Unsupported)?;
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = ffmpeg_next::init();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    });
    Ok(())
}
