//! The render-view settings a pusher or player keeps for the app's [`RenderView`] (fill mode,
//! rotation, mirror, debug overlay), applied when a view is set and whenever they change, and
//! the debug overlay's text made from the statistics both report every 2 s.

use onair_core::{FillMode, PlayerStatistics, PusherStatistics, Rotation};
use onair_gpu::RenderView;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// A view and the settings it is shown with.
#[derive(Debug, Default)]
pub(crate) struct ViewSlot {
    state: Mutex<SlotState>,
    debug: AtomicBool,
}

#[derive(Debug, Default)]
struct SlotState {
    view: Option<RenderView>,
    fill: FillMode,
    rotation: Rotation,
    mirror: bool,
    /// The overlay's text while debug is on (kept so a new view shows it at once).
    text: Option<String>,
}

impl ViewSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sets (or clears) the view; the slot's settings apply to it.
    pub(crate) fn set_view(&self, view: Option<RenderView>) {
        let mut s = self.lock();
        if let Some(v) = &view {
            v.set_fill_mode(s.fill);
            v.set_rotation(s.rotation);
            v.set_mirror(s.mirror);
            v.set_debug_text(s.text.clone().filter(|_| self.debug_on()));
        }
        let old = std::mem::replace(&mut s.view, view);
        drop(s);
        // The last clone of the old view joins its thread: not while frames wait for the lock.
        drop(old);
    }

    pub(crate) fn set_fill_mode(&self, fill: FillMode) {
        let mut s = self.lock();
        s.fill = fill;
        if let Some(v) = &s.view {
            v.set_fill_mode(fill);
        }
    }

    pub(crate) fn set_rotation(&self, rotation: Rotation) {
        let mut s = self.lock();
        s.rotation = rotation;
        if let Some(v) = &s.view {
            v.set_rotation(rotation);
        }
    }

    pub(crate) fn set_mirror(&self, mirror: bool) {
        let mut s = self.lock();
        if s.mirror == mirror {
            return;
        }
        s.mirror = mirror;
        if let Some(v) = &s.view {
            v.set_mirror(mirror);
        }
    }

    /// Turns the overlay on or off.
    pub(crate) fn show_debug(&self, on: bool) {
        self.debug.store(on, Ordering::Release);
        let mut s = self.lock();
        if !on {
            s.text = None;
        }
        if let Some(v) = &s.view {
            v.set_debug_text(s.text.clone().filter(|_| on));
        }
    }

    pub(crate) fn debug_on(&self) -> bool {
        self.debug.load(Ordering::Acquire)
    }

    /// New overlay text (ignored while debug is off).
    pub(crate) fn set_debug_text(&self, text: String) {
        if !self.debug_on() {
            return;
        }
        let mut s = self.lock();
        if s.text.as_deref() == Some(&text) {
            return;
        }
        if let Some(v) = &s.view {
            v.set_debug_text(Some(text.clone()));
        }
        s.text = Some(text);
    }

    /// `true` while the overlay is on and shows nothing yet.
    pub(crate) fn debug_needs_text(&self) -> bool {
        self.debug_on() && self.lock().text.is_none()
    }

    /// Hands a frame to the view, if one is set.
    pub(crate) fn show(&self, frame: &onair_core::VideoFrame) {
        if let Some(v) = &self.lock().view {
            v.show(frame);
        }
    }

    /// `true` when a view is set.
    pub(crate) fn has_view(&self) -> bool {
        self.lock().view.is_some()
    }
}

/// The overlay's first text, before the first statistics (`note` says what comes).
pub(crate) fn first_text(width: u32, height: u32, note: &str) -> String {
    format!("{width}x{height}\n{note}")
}

/// The player's overlay: resolution, fps, bitrates, buffer, stalls, dropped pictures.
pub(crate) fn player_text(s: &PlayerStatistics, dropped: u64) -> String {
    format!(
        "{}x{} {:.1} fps\nvideo {} kbps audio {} kbps\nbuffer {} ms\nstalls v {}% a {}%\ndropped {}\ncpu {:.0}%",
        s.width,
        s.height,
        s.fps,
        s.video_bitrate,
        s.audio_bitrate,
        s.jitter_buffer_delay,
        s.video_block_rate,
        s.audio_block_rate,
        dropped,
        s.app_cpu
    )
}

/// The pusher's overlay: resolution, fps, bitrates, RTT, dropped pictures.
pub(crate) fn pusher_text(s: &PusherStatistics, dropped: u64) -> String {
    format!(
        "{}x{} {:.1} fps\nvideo {} kbps audio {} kbps\nRTT {} ms\nsend {} kbps\ndropped {}\ncpu {:.0}%",
        s.width, s.height, s.fps, s.video_bitrate, s.audio_bitrate, s.rtt, s.net_speed, dropped, s.app_cpu
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_texts_carry_the_figures() {
        let s = PlayerStatistics {
            width: 1280,
            height: 720,
            fps: 29.97,
            video_bitrate: 1800,
            audio_bitrate: 64,
            jitter_buffer_delay: 320,
            ..Default::default()
        };
        let t = player_text(&s, 3);
        assert!(t.starts_with("1280x720 30.0 fps\n"), "{t}");
        assert!(t.contains("video 1800 kbps audio 64 kbps"), "{t}");
        assert!(
            t.contains("buffer 320 ms") && t.contains("dropped 3"),
            "{t}"
        );
        let p = PusherStatistics {
            width: 960,
            height: 540,
            rtt: 12,
            ..Default::default()
        };
        assert!(pusher_text(&p, 0).contains("RTT 12 ms"));
    }

    #[test]
    fn text_waits_for_debug_on() {
        let slot = ViewSlot::default();
        slot.set_debug_text("x".into());
        assert!(!slot.debug_needs_text());
        slot.show_debug(true);
        assert!(slot.debug_needs_text());
        slot.set_debug_text("x".into());
        assert!(!slot.debug_needs_text());
        slot.show_debug(false);
        slot.show_debug(true);
        assert!(slot.debug_needs_text(), "turning it off forgets the text");
    }
}
