//! A test client window on an X display (Xvfb): a titled top-level window (with a 16x16 green
//! `_NET_WM_ICON`) at a position that draws either the counter-stamped test pattern (a new counter each frame, at a frame rate) or
//! fixed vertical colour bars, from its own thread and X connection. It can be moved and
//! destroyed, as a user would, to test window capture.

use onair_codec::convert::from_i420;
use onair_codec::TestPattern;
use onair_core::{PixelFormat, Timestamp};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::xproto::{
    AtomEnum, ConfigureWindowAux, ConnectionExt as _, CreateGCAux, CreateWindowAux, ImageFormat,
    PropMode, WindowClass,
};
use x11rb::wrapper::ConnectionExt as _;

/// What the window shows.
#[derive(Debug, Clone)]
pub enum Content {
    /// The stamped test pattern, frame counter from 0, at `fps`.
    Stamped {
        /// Frames per second.
        fps: u32,
    },
    /// Equal-width vertical bars of these RGB colours, left to right.
    Bars(Vec<[u8; 3]>),
}

enum Command {
    Move(i16, i16, Sender<()>),
    Close,
}

/// A window drawn by its own thread. Closed (destroyed) on drop.
#[derive(Debug)]
pub struct PatternWindow {
    /// The X window id.
    pub id: u32,
    commands: Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

fn bgrx_of(content: &Content, width: u16, height: u16, counter: u32) -> Vec<u8> {
    let (w, h) = (u32::from(width), u32::from(height));
    match content {
        Content::Stamped { .. } => {
            let ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let i420 = TestPattern::new(w, h).frame(counter, ms, Timestamp::ZERO, false);
            let bgra = from_i420(&i420, PixelFormat::Bgra32).expect("pattern to BGRA");
            bgra.data().to_vec()
        }
        Content::Bars(colours) => {
            let n = colours.len().max(1) as u32;
            let mut out = Vec::with_capacity((w * h * 4) as usize);
            for _ in 0..h {
                for x in 0..w {
                    let [r, g, b] = colours[((x * n) / w) as usize];
                    out.extend_from_slice(&[b, g, r, 0]);
                }
            }
            out
        }
    }
}

impl PatternWindow {
    /// Opens a `width` x `height` window titled `title` at (`x`, `y`) on `display` and starts
    /// drawing; returns once the first picture is drawn.
    pub fn open(
        display: &str,
        title: &str,
        (x, y): (i16, i16),
        (width, height): (u16, u16),
        content: Content,
    ) -> Self {
        let (conn, screen_num) = x11rb::connect(Some(display)).expect("connect to the X display");
        let screen = conn.setup().roots[screen_num].clone();
        let win = conn.generate_id().expect("window id");
        conn.create_window(
            screen.root_depth,
            win,
            screen.root,
            x,
            y,
            width,
            height,
            0,
            WindowClass::INPUT_OUTPUT,
            screen.root_visual,
            &CreateWindowAux::new().background_pixel(screen.black_pixel),
        )
        .expect("create window");
        let utf8 = conn
            .intern_atom(false, b"UTF8_STRING")
            .unwrap()
            .reply()
            .unwrap()
            .atom;
        let net_wm_name = conn
            .intern_atom(false, b"_NET_WM_NAME")
            .unwrap()
            .reply()
            .unwrap()
            .atom;
        conn.change_property8(
            PropMode::REPLACE,
            win,
            AtomEnum::WM_NAME,
            AtomEnum::STRING,
            title.as_bytes(),
        )
        .unwrap();
        conn.change_property8(PropMode::REPLACE, win, net_wm_name, utf8, title.as_bytes())
            .unwrap();
        // A 16x16 opaque green icon (ARGB 0xff00c800), as `_NET_WM_ICON`.
        let net_wm_icon = conn
            .intern_atom(false, b"_NET_WM_ICON")
            .unwrap()
            .reply()
            .unwrap()
            .atom;
        let mut icon = vec![16u32, 16];
        icon.extend(std::iter::repeat_n(0xff00_c800u32, 16 * 16));
        conn.change_property32(
            PropMode::REPLACE,
            win,
            net_wm_icon,
            AtomEnum::CARDINAL,
            &icon,
        )
        .unwrap();
        let gc = conn.generate_id().unwrap();
        conn.create_gc(gc, win, &CreateGCAux::new()).unwrap();
        conn.map_window(win).unwrap();
        conn.flush().unwrap();
        let (tx, rx): (Sender<Command>, Receiver<Command>) = std::sync::mpsc::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            // PutImage requests are limited in size: draw in bands of rows.
            let max = conn.maximum_request_bytes().saturating_sub(64).max(4096);
            let rows_per = (max / (usize::from(width) * 4)).max(1) as u16;
            let draw = |counter: u32| {
                let bgrx = bgrx_of(&content, width, height, counter);
                let mut row = 0u16;
                while row < height {
                    let n = rows_per.min(height - row);
                    let start = usize::from(row) * usize::from(width) * 4;
                    let end = start + usize::from(n) * usize::from(width) * 4;
                    let _ = conn.put_image(
                        ImageFormat::Z_PIXMAP,
                        win,
                        gc,
                        width,
                        n,
                        0,
                        row as i16,
                        0,
                        screen.root_depth,
                        &bgrx[start..end],
                    );
                    row += n;
                }
                let _ = conn.sync();
            };
            draw(0);
            let _ = ready_tx.send(());
            let interval = match &content {
                Content::Stamped { fps } => Duration::from_secs(1) / (*fps).max(1),
                Content::Bars(_) => Duration::from_millis(200),
            };
            let start = Instant::now();
            let mut counter = 1u32;
            loop {
                let due = start + interval * counter;
                match rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
                    Ok(Command::Move(x, y, done)) => {
                        let aux = ConfigureWindowAux::new().x(i32::from(x)).y(i32::from(y));
                        let _ = conn.configure_window(win, &aux);
                        let _ = conn.sync();
                        let _ = done.send(());
                    }
                    Ok(Command::Close) | Err(RecvTimeoutError::Disconnected) => {
                        let _ = conn.destroy_window(win);
                        let _ = conn.sync();
                        return;
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        draw(counter);
                        counter += 1;
                    }
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the window drew its first picture");
        Self {
            id: win,
            commands: tx,
            thread: Some(thread),
        }
    }

    /// Moves the window's top-left corner to (`x`, `y`); returns once the server has done it.
    pub fn move_to(&self, x: i16, y: i16) {
        let (done, moved) = std::sync::mpsc::channel();
        if self.commands.send(Command::Move(x, y, done)).is_ok() {
            let _ = moved.recv_timeout(Duration::from_secs(10));
        }
    }

    /// Destroys the window (and returns once it is gone).
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.commands.send(Command::Close);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for PatternWindow {
    fn drop(&mut self) {
        self.shutdown();
    }
}
