//! Driving another process's window on an X display as a user or window manager would, for
//! the render view tests: find it by title, read its pixels (`GetImage` on the root, a few
//! milliseconds, fast enough to watch a layout change frame by frame), resize it, ask it to
//! close (`WM_DELETE_WINDOW`, what a window manager's close button sends) or destroy it.

use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConfigureWindowAux, ConnectionExt as _, EventMask, ImageFormat,
};
use x11rb::rust_connection::RustConnection;

/// A connection to a display, for looking at and poking other clients' windows.
#[derive(Debug)]
pub struct Desk {
    conn: RustConnection,
    root: u32,
}

/// An RGB picture read from the screen.
pub type Shot = Vec<[u8; 3]>;

impl Desk {
    /// Connects to `display` (e.g. `:5`).
    pub fn connect(display: &str) -> Self {
        let (conn, screen) = x11rb::connect(Some(display)).expect("connect to the X display");
        let root = conn.setup().roots[screen].root;
        Self { conn, root }
    }

    /// The top-level window titled exactly `title`, once it is mapped; panics after `limit`.
    pub fn wait_window(&self, title: &str, limit: Duration) -> u32 {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(w) = self.find(title) {
                return w;
            }
            assert!(
                Instant::now() < deadline,
                "no window titled {title:?} within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The window titled `title` (WM_NAME), if one exists and is viewable.
    pub fn find(&self, title: &str) -> Option<u32> {
        let tree = self.conn.query_tree(self.root).ok()?.reply().ok()?;
        tree.children.into_iter().find(|&w| {
            let viewable = self
                .conn
                .get_window_attributes(w)
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some_and(|a| a.map_state == x11rb::protocol::xproto::MapState::VIEWABLE);
            let name = self
                .conn
                .get_property(false, w, AtomEnum::WM_NAME, AtomEnum::STRING, 0, 256)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|p| p.value);
            viewable && name.as_deref() == Some(title.as_bytes())
        })
    }

    /// `true` while `window` exists.
    pub fn exists(&self, window: u32) -> bool {
        self.conn
            .get_geometry(window)
            .ok()
            .is_some_and(|c| c.reply().is_ok())
    }

    /// The RGB pixels of the screen rectangle at (`x`, `y`), `w` x `h`, row by row.
    pub fn grab(&self, x: i16, y: i16, w: u16, h: u16) -> Shot {
        let img = self
            .conn
            .get_image(ImageFormat::Z_PIXMAP, self.root, x, y, w, h, !0)
            .expect("GetImage request")
            .reply()
            .expect("GetImage reply");
        // 24-bit depth is 32 bits per pixel, BGRX, on Xvfb.
        img.data
            .chunks_exact(4)
            .map(|p| [p[2], p[1], p[0]])
            .collect()
    }

    /// Resizes `window`'s inside to `w` x `h` (as a user dragging its corner).
    pub fn resize(&self, window: u32, w: u32, h: u32) {
        self.conn
            .configure_window(window, &ConfigureWindowAux::new().width(w).height(h))
            .expect("ConfigureWindow");
        self.conn.flush().expect("flush");
    }

    /// Asks `window` to close, as a window manager's close button does (`WM_DELETE_WINDOW`).
    pub fn request_close(&self, window: u32) {
        let atom = |name: &str| {
            self.conn
                .intern_atom(false, name.as_bytes())
                .expect("InternAtom")
                .reply()
                .expect("InternAtom reply")
                .atom
        };
        let (protocols, delete) = (atom("WM_PROTOCOLS"), atom("WM_DELETE_WINDOW"));
        let event = ClientMessageEvent::new(32, window, protocols, [delete, 0, 0, 0, 0]);
        self.conn
            .send_event(false, window, EventMask::NO_EVENT, event)
            .expect("SendEvent");
        self.conn.flush().expect("flush");
    }

    /// Destroys `window` behind its owner's back (a crashed toolkit, `xkill`).
    pub fn destroy(&self, window: u32) {
        self.conn.destroy_window(window).expect("DestroyWindow");
        self.conn.flush().expect("flush");
    }
}
