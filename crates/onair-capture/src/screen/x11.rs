//! The X11 backend (x11rb, pure-Rust connection).
//!
//! Grabs read the root window's pixels of the captured rectangle with MIT-SHM: the server
//! writes them into a System V shared-memory segment this process maps, and the frame is one
//! copy out of it. Without MIT-SHM (a remote display) `GetImage` sends them through the
//! socket instead. The cursor comes from XFixes (`GetCursorImage`) and is blended in
//! ([`super::cursor`]). A window is followed by its geometry at each grab
//! (`TranslateCoordinates`), so moving it keeps it captured; a destroyed window ends the grab
//! with [`StopReason::WindowClosed`], a resized screen with [`StopReason::DisplayChanged`].
//!
//! Windows are the window manager's client list (`_NET_CLIENT_LIST`) where there is one, else
//! the root's viewable children (a bare X server such as Xvfb), titled by `_NET_WM_NAME` or
//! `WM_NAME`, minimised when iconic (`WM_STATE`) or unmapped.

use super::cursor::{draw_cursor, CursorImage};
use super::highlight::BorderFrame;
use super::{
    CaptureTarget, GrabError, Rect, RgbaImage, ScreenBackend, ScreenSource, SourceId, StopReason,
};
use crate::error::{CaptureError, CaptureResult};
use onair_codec::convert::rgb_to_i420_into;
use onair_core::{BufferPool, PixelFormat, VideoFrame};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::errors::{ConnectionError, ReplyError};
use x11rb::protocol::shm::ConnectionExt as _;
use x11rb::protocol::xfixes::ConnectionExt as _;
use x11rb::protocol::xproto::{
    AtomEnum, ConnectionExt as _, ImageFormat, ImageOrder, MapState, Window, WindowClass,
};
use x11rb::protocol::ErrorKind;
use x11rb::rust_connection::RustConnection;

/// A System V shared-memory segment attached here and in the X server.
struct ShmSegment {
    seg: u32,
    addr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is owned by the segment (no other handle to it exists in this process)
// and only touched through `&mut self` after a grab's reply, so moving it to another thread is
// sound.
unsafe impl Send for ShmSegment {}

impl ShmSegment {
    fn new(conn: &RustConnection, len: usize) -> Option<Self> {
        // SAFETY: plain System V calls; the id is marked for removal at once, so the segment
        // disappears when both this process and the server have detached (or exited).
        unsafe {
            let id = libc::shmget(libc::IPC_PRIVATE, len, libc::IPC_CREAT | 0o600);
            if id < 0 {
                return None;
            }
            let addr = libc::shmat(id, std::ptr::null(), 0);
            if addr as isize == -1 {
                libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut());
                return None;
            }
            let seg = conn.generate_id().ok();
            let attached = seg.and_then(|seg| {
                conn.shm_attach(seg, id as u32, false)
                    .ok()?
                    .check()
                    .ok()
                    .map(|_| seg)
            });
            libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut());
            match attached {
                Some(seg) => Some(Self {
                    seg,
                    addr: addr.cast(),
                    len,
                }),
                None => {
                    libc::shmdt(addr);
                    None
                }
            }
        }
    }

    fn bytes_mut(&mut self, len: usize) -> &mut [u8] {
        // SAFETY: `addr` maps `self.len` bytes for the life of `self`; the server writes it
        // only while a grab request runs (before its reply), and `&mut self` is exclusive here.
        unsafe { std::slice::from_raw_parts_mut(self.addr, len.min(self.len)) }
    }

    fn release(self, conn: &RustConnection) {
        let _ = conn.shm_detach(self.seg);
        let _ = conn.flush();
        // SAFETY: detaching the mapping made in `new`.
        unsafe {
            libc::shmdt(self.addr.cast());
        }
    }
}

struct Atoms {
    net_client_list: u32,
    net_wm_name: u32,
    utf8_string: u32,
    net_wm_icon: u32,
    wm_state: u32,
}

/// An X11 display.
pub struct X11Screen {
    conn: RustConnection,
    screen_num: usize,
    root: Window,
    shm: Option<ShmSegment>,
    has_shm: bool,
    has_xfixes: bool,
    atoms: Atoms,
    /// The root size when capturing began (a change is [`StopReason::DisplayChanged`]).
    root_size: (u16, u16),
    /// The highlight border around the captured window, while one is asked.
    border: Option<BorderFrame>,
    /// I420 buffers for the frames: one comes back when the pipeline drops its frame, so a
    /// grab neither allocates nor makes the kernel zero 3 MiB (at 1080p) per picture.
    frames: Option<BufferPool>,
}

/// Idle I420 buffers kept: the next grab's (the frame being encoded holds the other).
const FRAME_BUFFERS_KEPT: usize = 1;

impl std::fmt::Debug for X11Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X11Screen")
            .field("screen", &self.screen_num)
            .field("shm", &self.has_shm)
            .field("xfixes", &self.has_xfixes)
            .finish_non_exhaustive()
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> CaptureError {
    CaptureError::StartFailed(format!("X11 {what}: {e}"))
}

fn is_bad_window(e: &ReplyError) -> bool {
    matches!(e, ReplyError::X11Error(x) if matches!(x.error_kind, ErrorKind::Window | ErrorKind::Drawable | ErrorKind::Match))
}

impl X11Screen {
    /// Connects to `display` (`None`: `$DISPLAY`) and checks the root visual is 24/32-bit
    /// true colour (the one X11 servers use).
    pub fn connect(display: Option<&str>) -> CaptureResult<Self> {
        let (conn, screen_num) = x11rb::connect(display)
            .map_err(|e| CaptureError::NotFound(format!("cannot connect to the X display: {e}")))?;
        let setup = conn.setup();
        let screen = &setup.roots[screen_num];
        let bpp = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == screen.root_depth)
            .map(|f| f.bits_per_pixel);
        if bpp != Some(32) || setup.image_byte_order != ImageOrder::LSB_FIRST {
            return Err(CaptureError::StartFailed(format!(
                "X11 root depth {} at {bpp:?} bits per pixel ({:?}): onair captures 32-bit \
                 little-endian pixels only",
                screen.root_depth, setup.image_byte_order
            )));
        }
        let (root, root_size) = (
            screen.root,
            (screen.width_in_pixels, screen.height_in_pixels),
        );
        let has_extension =
            |name: &'static str| conn.extension_information(name).ok().flatten().is_some();
        let has_shm = has_extension(x11rb::protocol::shm::X11_EXTENSION_NAME)
            && conn
                .shm_query_version()
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some();
        let has_xfixes = has_extension(x11rb::protocol::xfixes::X11_EXTENSION_NAME)
            && conn
                .xfixes_query_version(4, 0)
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some();
        let atom = |name: &[u8]| -> CaptureResult<u32> {
            Ok(conn
                .intern_atom(false, name)
                .map_err(|e| failed("intern_atom", e))?
                .reply()
                .map_err(|e| failed("intern_atom", e))?
                .atom)
        };
        let atoms = Atoms {
            net_client_list: atom(b"_NET_CLIENT_LIST")?,
            net_wm_name: atom(b"_NET_WM_NAME")?,
            utf8_string: atom(b"UTF8_STRING")?,
            net_wm_icon: atom(b"_NET_WM_ICON")?,
            wm_state: atom(b"WM_STATE")?,
        };
        if !has_shm {
            tracing::info!("X11 without MIT-SHM: screen grabs go through the socket");
        }
        Ok(Self {
            conn,
            screen_num,
            root,
            shm: None,
            has_shm,
            has_xfixes,
            atoms,
            root_size,
            border: None,
            frames: None,
        })
    }

    fn root_rect(&self) -> Rect {
        let s = &self.conn.setup().roots[self.screen_num];
        Rect {
            x: 0,
            y: 0,
            width: u32::from(s.width_in_pixels),
            height: u32::from(s.height_in_pixels),
        }
    }

    /// The current root size from the server (RandR resizes change it).
    fn live_root_size(&self) -> Option<(u16, u16)> {
        let g = self.conn.get_geometry(self.root).ok()?.reply().ok()?;
        Some((g.width, g.height))
    }

    /// A window's outer rectangle in root coordinates.
    fn window_rect(&self, w: Window) -> Result<Rect, ReplyError> {
        let g = self.conn.get_geometry(w)?.reply()?;
        let t = self
            .conn
            .translate_coordinates(w, self.root, 0, 0)?
            .reply()?;
        Ok(Rect {
            x: i32::from(t.dst_x),
            y: i32::from(t.dst_y),
            width: u32::from(g.width),
            height: u32::from(g.height),
        })
    }

    fn property(&self, w: Window, prop: u32, kind: u32) -> Option<Vec<u8>> {
        let r = self
            .conn
            .get_property(false, w, prop, kind, 0, 1 << 20)
            .ok()?
            .reply()
            .ok()?;
        (r.type_ != u32::from(AtomEnum::NONE)).then_some(r.value)
    }

    fn title(&self, w: Window) -> Option<String> {
        self.property(w, self.atoms.net_wm_name, self.atoms.utf8_string)
            .or_else(|| self.property(w, AtomEnum::WM_NAME.into(), AtomEnum::STRING.into()))
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .filter(|t| !t.is_empty())
    }

    fn windows(&self) -> Vec<Window> {
        let managed: Vec<Window> = self
            .property(
                self.root,
                self.atoms.net_client_list,
                AtomEnum::WINDOW.into(),
            )
            .map(|v| {
                v.chunks_exact(4)
                    .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            })
            .unwrap_or_default();
        if !managed.is_empty() {
            return managed;
        }
        let Some(tree) = self
            .conn
            .query_tree(self.root)
            .ok()
            .and_then(|c| c.reply().ok())
        else {
            return Vec::new();
        };
        tree.children
            .into_iter()
            .filter(|&w| {
                self.conn
                    .get_window_attributes(w)
                    .ok()
                    .and_then(|c| c.reply().ok())
                    .is_some_and(|a| {
                        a.map_state == MapState::VIEWABLE
                            && a.class == WindowClass::INPUT_OUTPUT
                            && !a.override_redirect
                    })
            })
            .collect()
    }

    fn minimized(&self, w: Window) -> bool {
        let iconic = self
            .property(w, self.atoms.wm_state, self.atoms.wm_state)
            .and_then(|v| {
                v.get(..4)
                    .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            })
            == Some(3);
        let mapped = self
            .conn
            .get_window_attributes(w)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|a| a.map_state == MapState::VIEWABLE);
        iconic || !mapped
    }

    fn icon(&self, w: Window, size: (u32, u32)) -> Option<RgbaImage> {
        let raw = self.property(w, self.atoms.net_wm_icon, AtomEnum::CARDINAL.into())?;
        let words: Vec<u32> = raw
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        // Several sizes one after another: width, height, pixels. Take the largest.
        let mut best: Option<(u32, u32, &[u32])> = None;
        let mut at = 0;
        while at + 2 <= words.len() {
            let (iw, ih) = (words[at], words[at + 1]);
            let n = (iw as usize).checked_mul(ih as usize)?;
            let pixels = words.get(at + 2..at + 2 + n)?;
            if best.is_none_or(|(bw, _, _)| iw > bw) {
                best = Some((iw, ih, pixels));
            }
            at += 2 + n;
        }
        let (iw, ih, px) = best?;
        let rgba: Vec<u8> = px
            .iter()
            .flat_map(|p| [(p >> 16) as u8, (p >> 8) as u8, *p as u8, (p >> 24) as u8])
            .collect();
        fit(iw, ih, rgba, size)
    }

    /// BGRX pixels of `r` (root coordinates, inside the root) through MIT-SHM or GetImage,
    /// copied out.
    fn read_root(&mut self, r: Rect) -> Result<Vec<u8>, GrabError> {
        self.with_root_pixels(r, |bgrx| bgrx.to_vec())
    }

    /// Grabs `r` (root coordinates, inside the root) and hands its BGRX pixels to `use_them`
    /// where they lie: in the shared-memory segment with MIT-SHM (no copy), else in the
    /// GetImage reply.
    fn with_root_pixels<T>(
        &mut self,
        r: Rect,
        use_them: impl FnOnce(&mut [u8]) -> T,
    ) -> Result<T, GrabError> {
        let len = r.width as usize * r.height as usize * 4;
        if self.has_shm {
            if self.shm.as_ref().is_none_or(|s| s.len < len) {
                if let Some(old) = self.shm.take() {
                    old.release(&self.conn);
                }
                // Room for the whole screen, so a moving or growing region needs no new one.
                let screen = self.root_rect();
                let want = len.max(screen.width as usize * screen.height as usize * 4);
                self.shm = ShmSegment::new(&self.conn, want);
                if self.shm.is_none() {
                    tracing::info!("MIT-SHM segment refused: screen grabs go through the socket");
                    self.has_shm = false;
                }
            }
            if let Some(seg) = &mut self.shm {
                self.conn
                    .shm_get_image(
                        self.root,
                        r.x as i16,
                        r.y as i16,
                        r.width as u16,
                        r.height as u16,
                        !0,
                        ImageFormat::Z_PIXMAP.into(),
                        seg.seg,
                        0,
                    )
                    .map_err(grab_failed)?
                    .reply()
                    .map_err(reply_failed)?;
                return Ok(use_them(seg.bytes_mut(len)));
            }
        }
        let mut reply = self
            .conn
            .get_image(
                ImageFormat::Z_PIXMAP,
                self.root,
                r.x as i16,
                r.y as i16,
                r.width as u16,
                r.height as u16,
                !0,
            )
            .map_err(grab_failed)?
            .reply()
            .map_err(reply_failed)?;
        let n = len.min(reply.data.len());
        Ok(use_them(&mut reply.data[..n]))
    }

    fn cursor(&self, origin: Rect) -> Option<CursorImage> {
        if !self.has_xfixes {
            return None;
        }
        let c = self.conn.xfixes_get_cursor_image().ok()?.reply().ok()?;
        Some(CursorImage {
            x: i32::from(c.x) - i32::from(c.xhot) - origin.x,
            y: i32::from(c.y) - i32::from(c.yhot) - origin.y,
            width: u32::from(c.width),
            height: u32::from(c.height),
            argb: c.cursor_image,
        })
    }

    /// The rectangle of `target` in root coordinates now, and the part of it on the screen.
    fn locate(&self, target: &CaptureTarget) -> Result<(Rect, Rect), GrabError> {
        let screen = self.root_rect();
        let whole = match target.source {
            SourceId::Screen(n) if n as usize == self.screen_num => screen,
            SourceId::Screen(n) => {
                return Err(GrabError::Failed(format!(
                    "no screen {n} on this display (it has screen {})",
                    self.screen_num
                )))
            }
            SourceId::Window(w) => self.window_rect(w).map_err(|e| {
                if is_bad_window(&e) {
                    GrabError::Gone(StopReason::WindowClosed)
                } else {
                    reply_failed(e)
                }
            })?,
        };
        let wanted = if target.region.is_empty() {
            whole
        } else {
            Rect {
                x: whole.x + target.region.x,
                y: whole.y + target.region.y,
                width: target.region.width,
                height: target.region.height,
            }
            .intersect(&whole)
        };
        if wanted.is_empty() {
            return Err(GrabError::Failed(format!(
                "the region {:?} is outside {}",
                target.region, target.source
            )));
        }
        Ok((wanted, wanted.intersect(&screen)))
    }
}

fn grab_failed(e: ConnectionError) -> GrabError {
    GrabError::Failed(format!("X11 connection: {e}"))
}

fn reply_failed(e: ReplyError) -> GrabError {
    GrabError::Failed(format!("X11 grab: {e}"))
}

/// Scales RGBA `w` x `h` to fit `size` (aspect kept, never up), box-filtered.
fn fit(w: u32, h: u32, rgba: Vec<u8>, size: (u32, u32)) -> Option<RgbaImage> {
    let img = image::RgbaImage::from_raw(w, h, rgba)?;
    let scale = f64::min(
        f64::from(size.0) / f64::from(w.max(1)),
        f64::from(size.1) / f64::from(h.max(1)),
    )
    .min(1.0);
    let (tw, th) = (
        ((f64::from(w) * scale).round() as u32).max(1),
        ((f64::from(h) * scale).round() as u32).max(1),
    );
    let out = if (tw, th) == (w, h) {
        img
    } else {
        image::imageops::thumbnail(&img, tw, th)
    };
    Some(RgbaImage {
        width: out.width(),
        height: out.height(),
        data: out.into_raw(),
    })
}

/// BGRX to RGBA (alpha opaque).
fn bgrx_to_rgba(bgrx: &[u8]) -> Vec<u8> {
    bgrx.chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0], 255])
        .collect()
}

impl ScreenBackend for X11Screen {
    fn sources(
        &mut self,
        thumbnail: Option<(u32, u32)>,
        icon: Option<(u32, u32)>,
    ) -> CaptureResult<Vec<ScreenSource>> {
        let screen = self.root_rect();
        let thumb_of = |this: &mut Self, r: Rect| -> Option<RgbaImage> {
            let size = thumbnail.filter(|s| s.0 > 0 && s.1 > 0)?;
            let on = r.intersect(&screen);
            if on.is_empty() {
                return None;
            }
            let bgrx = this.read_root(on).ok()?;
            fit(on.width, on.height, bgrx_to_rgba(&bgrx), size)
        };
        let mut out = vec![ScreenSource {
            id: SourceId::Screen(self.screen_num as u32),
            name: format!(
                "Screen {} ({}x{})",
                self.screen_num, screen.width, screen.height
            ),
            rect: screen,
            thumbnail: thumb_of(self, screen),
            icon: None,
            minimized: false,
            is_main_screen: true,
        }];
        for w in self.windows() {
            let Some(title) = self.title(w) else {
                continue;
            };
            let Ok(rect) = self.window_rect(w) else {
                continue; // gone since it was listed
            };
            let minimized = self.minimized(w);
            let thumbnail = if minimized {
                None
            } else {
                thumb_of(self, rect)
            };
            out.push(ScreenSource {
                id: SourceId::Window(w),
                name: title,
                rect,
                thumbnail,
                icon: icon
                    .filter(|s| s.0 > 0 && s.1 > 0)
                    .and_then(|s| self.icon(w, s)),
                minimized,
                is_main_screen: false,
            });
        }
        Ok(out)
    }

    fn grab(&mut self, target: &CaptureTarget) -> Result<VideoFrame, GrabError> {
        self.grab_reusing(target, &mut None)
    }

    fn grab_reusing(
        &mut self,
        target: &CaptureTarget,
        previous: &mut Option<VideoFrame>,
    ) -> Result<VideoFrame, GrabError> {
        if let Some(now) = self.live_root_size() {
            if now != self.root_size {
                self.root_size = now;
                return Err(GrabError::Gone(StopReason::DisplayChanged));
            }
        }
        let located = self.locate(target);
        self.update_border(target, located.is_ok());
        let (wanted, on_screen) = located?;
        let (w, h) = (wanted.width & !1, wanted.height & !1);
        if w < 2 || h < 2 {
            return Err(GrabError::Failed(format!(
                "{} is {}x{}: too small to capture",
                target.source, wanted.width, wanted.height
            )));
        }
        let whole = Rect {
            width: w,
            height: h,
            ..wanted
        };
        let cursor = if target.cursor {
            self.cursor(wanted)
        } else {
            None
        };
        // The frame leaves as I420 (3/8 of BGRA's bytes in the queues behind), converted from
        // where the pixels lie; the cursor is drawn into them first.
        let pool = self.frame_pool(w as usize * h as usize * 3 / 2);
        let mut convert = move |bgrx: &mut [u8]| -> Result<VideoFrame, GrabError> {
            if let Some(c) = &cursor {
                draw_cursor(bgrx, w, h, c);
            }
            // The picture is read: the previous frame's memory may take it (it returns to the
            // pool here if the encoder is done with it).
            drop(previous.take());
            let mut buffer = pool.take();
            rgb_to_i420_into(
                bgrx,
                w as usize * 4,
                w as usize,
                h as usize,
                true,
                buffer.as_mut_slice(),
            )
            .map_err(|e| GrabError::Failed(e.to_string()))?;
            VideoFrame::new(PixelFormat::I420, w, h, buffer.freeze())
                .map_err(|e| GrabError::Failed(e.to_string()))
        };
        if on_screen == whole {
            // All of it on screen (the usual case): converted straight from the grab.
            self.with_root_pixels(whole, convert)?
        } else {
            let mut frame = self.read_partly_on_screen(wanted, on_screen, w, h)?;
            convert(&mut frame)
        }
    }
}

impl X11Screen {
    /// The pool of I420 buffers of `len` bytes (a new one when the captured size changes).
    fn frame_pool(&mut self, len: usize) -> BufferPool {
        match &self.frames {
            Some(p) if p.buffer_len() == len => p.clone(),
            _ => self
                .frames
                .insert(BufferPool::new(len, FRAME_BUFFERS_KEPT))
                .clone(),
        }
    }

    /// Keeps the highlight border around the captured window when `target` asks for one and
    /// the window is there (`located`); removes it otherwise.
    fn update_border(&mut self, target: &CaptureTarget, located: bool) {
        let around = match (target.source, target.highlight, located) {
            (SourceId::Window(w), Some(style), true) => {
                self.window_rect(w).ok().map(|r| (r, style))
            }
            _ => None,
        };
        let Some((rect, style)) = around else {
            if let Some(b) = self.border.take() {
                b.destroy(&self.conn);
            }
            return;
        };
        if self.border.as_ref().is_some_and(|b| b.style() != style) {
            if let Some(b) = self.border.take() {
                b.destroy(&self.conn);
            }
        }
        if self.border.is_none() {
            self.border = BorderFrame::create(&self.conn, self.root, style);
        }
        if let Some(b) = &mut self.border {
            b.place(&self.conn, rect);
        }
    }

    /// A `w` x `h` frame of `wanted` of which only `on_screen` is on the screen: the rest black.
    fn read_partly_on_screen(
        &mut self,
        wanted: Rect,
        on_screen: Rect,
        w: u32,
        h: u32,
    ) -> Result<Vec<u8>, GrabError> {
        let mut frame = vec![0u8; w as usize * h as usize * 4];
        if !on_screen.is_empty() {
            let pixels = self.read_root(on_screen)?;
            // Copy the on-screen part into place; what is off screen stays black.
            let (dx, dy) = (
                (on_screen.x - wanted.x) as usize,
                (on_screen.y - wanted.y) as usize,
            );
            let row = on_screen.width as usize * 4;
            for y in 0..on_screen.height as usize {
                let ty = dy + y;
                if ty >= h as usize {
                    break;
                }
                let n = row.min((w as usize).saturating_sub(dx) * 4);
                let at = (ty * w as usize + dx) * 4;
                frame[at..at + n].copy_from_slice(&pixels[y * row..y * row + n]);
            }
        }
        Ok(frame)
    }
}

impl Drop for X11Screen {
    fn drop(&mut self) {
        if let Some(b) = self.border.take() {
            b.destroy(&self.conn);
        }
        if let Some(seg) = self.shm.take() {
            seg.release(&self.conn);
        }
    }
}
