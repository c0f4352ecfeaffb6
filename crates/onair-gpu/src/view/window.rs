//! What a render view knows about its window besides the surface: its size, and whether it
//! still exists. On X11 (Xlib or XCB handles) the render thread asks the server with its own
//! connection (x11rb, to `$DISPLAY`): `GetGeometry` before each picture, so a resize is laid
//! out at the next frame and a destroyed window (`BadWindow`) ends the view with a warning. On
//! Wayland and elsewhere the app tells the size ([`RenderView::set_size`](super::RenderView::set_size)),
//! as a Wayland surface has no size of its own.

use wgpu::rwh::RawWindowHandle;
use x11rb::protocol::xproto::ConnectionExt;
use x11rb::rust_connection::RustConnection;

/// What the window said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WindowState {
    /// It exists; its inner size, when the window system tells it.
    Alive(Option<(u32, u32)>),
    /// It is gone (destroyed by its app, its user or the window manager).
    Gone,
}

/// Asks the window system about one window.
pub(crate) enum WindowWatch {
    X11 {
        conn: Box<RustConnection>,
        window: u32,
    },
    /// No way to ask: the app tells the size.
    Blind,
}

impl std::fmt::Debug for WindowWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::X11 { window, .. } => write!(f, "X11 window {window:#x}"),
            Self::Blind => f.write_str("window the app sizes"),
        }
    }
}

impl WindowWatch {
    /// A watch for `handle`: X11 windows are queried on a connection of our own.
    pub(crate) fn new(handle: &RawWindowHandle) -> Self {
        let window = match handle {
            RawWindowHandle::Xlib(h) => h.window as u32,
            RawWindowHandle::Xcb(h) => h.window.get(),
            _ => return Self::Blind,
        };
        match RustConnection::connect(None) {
            Ok((conn, _)) => Self::X11 {
                conn: Box::new(conn),
                window,
            },
            Err(e) => {
                tracing::warn!(
                    "render view: cannot reach the X server to follow window {window:#x} ({e}); \
                     size it with RenderView::set_size"
                );
                Self::Blind
            }
        }
    }

    /// The window's state now.
    pub(crate) fn state(&self) -> WindowState {
        match self {
            Self::X11 { conn, window } => {
                match conn.get_geometry(*window).map(|c| c.reply()) {
                    Ok(Ok(g)) => {
                        WindowState::Alive(Some((u32::from(g.width), u32::from(g.height))))
                    }
                    // BadWindow / BadDrawable: the window is gone.
                    Ok(Err(x11rb::errors::ReplyError::X11Error(_))) => WindowState::Gone,
                    // The connection broke: the display itself is gone.
                    Ok(Err(_)) | Err(_) => WindowState::Gone,
                }
            }
            Self::Blind => WindowState::Alive(None),
        }
    }
}
