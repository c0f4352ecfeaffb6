//! The highlight border around a captured window (LiteAV's `enableHighLight`), on X11: four
//! override-redirect windows just outside the window's edges, in the border colour, raised and
//! moved with the window at each grab. They lie outside the window's rectangle, so a window
//! capture never contains them; a screen capture does, as on LiteAV. Override-redirect and
//! untitled, they are not listed as sources.

use super::Rect;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ConfigureWindowAux, ConnectionExt as _, CreateWindowAux, StackMode, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;

/// How the border looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Highlight {
    /// Colour, `0xRRGGBB`.
    pub rgb: u32,
    /// Thickness in pixels (1..=50).
    pub width: u32,
}

impl Default for Highlight {
    /// LiteAV's defaults: green `0x8CBF26`, 5 pixels.
    fn default() -> Self {
        Self {
            rgb: 0x8C_BF_26,
            width: 5,
        }
    }
}

/// The four strips (top, bottom, left, right) of a `width`-pixel frame around `r`, outside it.
pub fn border_strips(r: Rect, width: u32) -> [Rect; 4] {
    let w = width as i32;
    [
        Rect {
            x: r.x - w,
            y: r.y - w,
            width: r.width + 2 * width,
            height: width,
        },
        Rect {
            x: r.x - w,
            y: r.y + r.height as i32,
            width: r.width + 2 * width,
            height: width,
        },
        Rect {
            x: r.x - w,
            y: r.y,
            width,
            height: r.height,
        },
        Rect {
            x: r.x + r.width as i32,
            y: r.y,
            width,
            height: r.height,
        },
    ]
}

/// The border's windows on the display.
pub(super) struct BorderFrame {
    windows: [Window; 4],
    style: Highlight,
    around: Option<Rect>,
}

impl BorderFrame {
    /// Creates the (unmapped) strips as children of `root`.
    pub(super) fn create(conn: &RustConnection, root: Window, style: Highlight) -> Option<Self> {
        let style = Highlight {
            width: style.width.clamp(1, 50),
            ..style
        };
        let mut windows = [0; 4];
        for w in &mut windows {
            *w = conn.generate_id().ok()?;
            conn.create_window(
                x11rb::COPY_DEPTH_FROM_PARENT,
                *w,
                root,
                0,
                0,
                1,
                1,
                0,
                WindowClass::INPUT_OUTPUT,
                x11rb::COPY_FROM_PARENT,
                &CreateWindowAux::new()
                    .background_pixel(style.rgb & 0xFF_FF_FF)
                    .override_redirect(1),
            )
            .ok()?;
        }
        conn.flush().ok()?;
        Some(Self {
            windows,
            style,
            around: None,
        })
    }

    /// The style it was made with.
    pub(super) fn style(&self) -> Highlight {
        self.style
    }

    /// Frames `r` (root coordinates): moves, maps and raises the strips when `r` changed.
    pub(super) fn place(&mut self, conn: &RustConnection, r: Rect) {
        if self.around == Some(r) {
            return;
        }
        self.around = Some(r);
        for (w, s) in self.windows.iter().zip(border_strips(r, self.style.width)) {
            let _ = conn.configure_window(
                *w,
                &ConfigureWindowAux::new()
                    .x(s.x)
                    .y(s.y)
                    .width(s.width.max(1))
                    .height(s.height.max(1))
                    .stack_mode(StackMode::ABOVE),
            );
            let _ = conn.map_window(*w);
        }
        let _ = conn.flush();
    }

    /// Removes the strips from the display.
    pub(super) fn destroy(self, conn: &RustConnection) {
        for w in self.windows {
            let _ = conn.destroy_window(w);
        }
        let _ = conn.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strips_surround_the_window_without_covering_it() {
        let win = Rect {
            x: 100,
            y: 50,
            width: 40,
            height: 30,
        };
        let strips = border_strips(win, 5);
        for s in strips {
            assert!(s.intersect(&win).is_empty(), "{s:?} covers the window");
        }
        let [top, bottom, left, right] = strips;
        assert_eq!((top.x, top.y, top.width, top.height), (95, 45, 50, 5));
        assert_eq!((bottom.x, bottom.y), (95, 80));
        assert_eq!((left.x, left.y, left.width, left.height), (95, 50, 5, 30));
        assert_eq!((right.x, right.y), (140, 50));
        // Together with the window they fill the outer rectangle exactly.
        let area: u32 = strips.iter().map(|s| s.width * s.height).sum();
        assert_eq!(area + 40 * 30, 50 * 40);
    }
}
