//! The Wayland screen backend: xdg-desktop-portal's ScreenCast interface (through ashpd) and
//! PipeWire (through [`super::pipewire`]).
//!
//! Wayland gives programs no window ids and no screen reads; the portal asks the user which
//! screen or window to share in the system's dialog and answers with a PipeWire node. So this
//! backend lists two sources, "a screen" and "a window" (each picked in the dialog), and opens a
//! portal session at the first grab of a target: `SelectSources` with the kind asked for and the
//! cursor embedded or hidden, `Start` (the dialog; the user has [`DIALOG_TIMEOUT`] to answer),
//! `OpenPipeWireRemote`, then a [`PipeWireVideo`] on the node. A region is cut from the shared
//! picture. Switching between a screen and a window, or turning the cursor on or off, opens a
//! new session (a new dialog); a region change does not.
//!
//! The D-Bus connection lives on a one-worker tokio runtime for as long as the backend: the
//! portal ends a session when its caller's connection closes. When no portal answers on the
//! session bus, [`PortalScreen::connect`] fails with a message naming what to install.

use super::pipewire::{PipeWireVideo, Remote};
use super::{CaptureTarget, GrabError, Rect, ScreenBackend, ScreenSource, SourceId, StopReason};
use crate::error::{CaptureError, CaptureResult};
use ashpd::desktop::screencast::{CursorMode, Screencast, SelectSourcesOptions, SourceType};
use ashpd::desktop::{PersistMode, Session};
use bytes::Bytes;
use onair_core::{PixelFormat, VideoFrame};
use std::future::Future;
use std::time::Duration;

/// How long a portal call that needs no user may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the user has to answer the sharing dialog.
pub const DIALOG_TIMEOUT: Duration = Duration::from_secs(300);
/// How long the first picture of a new session may take to arrive.
const FIRST_PICTURE: Duration = Duration::from_secs(5);

/// A portal session that is sharing.
struct Active {
    window: bool,
    cursor: bool,
    size: Option<(i32, i32)>,
    session: Session<Screencast>,
    video: PipeWireVideo,
    /// The end of sharing was reported (once).
    end_reported: bool,
}

/// Screen capture through xdg-desktop-portal and PipeWire.
///
/// zbus objects must be dropped inside their runtime (dropping spawns tasks on it): every
/// method that makes or drops one enters the runtime first, and `Drop` drops them there.
pub struct PortalScreen {
    runtime: tokio::runtime::Runtime,
    proxy: Option<Screencast>,
    active: Option<Active>,
}

impl std::fmt::Debug for PortalScreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalScreen").finish_non_exhaustive()
    }
}

/// What an ashpd failure means to a user.
fn explain(e: &ashpd::Error) -> String {
    let text = e.to_string();
    let debug = format!("{e:?}");
    if debug.contains("ServiceUnknown") || debug.contains("NameHasNoOwner") {
        "no xdg-desktop-portal answers on the D-Bus session bus: install xdg-desktop-portal and \
         the backend for your desktop (xdg-desktop-portal-gnome, -kde or -wlr) and log in again"
            .into()
    } else if debug.contains("UnknownInterface") || debug.contains("UnknownMethod") {
        "the xdg-desktop-portal of this session has no ScreenCast interface: install the \
         portal backend for your desktop (xdg-desktop-portal-gnome, -kde or -wlr)"
            .into()
    } else if matches!(e, ashpd::Error::Zbus(zbus::Error::InputOutput(_)))
        || matches!(e, ashpd::Error::Zbus(zbus::Error::Address(_)))
    {
        format!("cannot reach the D-Bus session bus (DBUS_SESSION_BUS_ADDRESS): {text}")
    } else if matches!(
        e,
        ashpd::Error::Response(ashpd::desktop::ResponseError::Cancelled)
    ) {
        "the sharing dialog was cancelled".into()
    } else {
        format!("the screen-cast portal failed: {text}")
    }
}

impl PortalScreen {
    /// Connects to the session bus and the portal's ScreenCast interface. No dialog yet.
    pub fn connect() -> CaptureResult<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("onair-portal")
            .enable_all()
            .build()
            .map_err(|e| CaptureError::StartFailed(format!("no portal runtime: {e}")))?;
        let no_portal = |m| CaptureError::NotFound(format!("screen capture (Wayland): {m}"));
        let _inside = runtime.enter();
        // A connection of this backend's own, on its runtime: ashpd's shared one would be tied
        // to the runtime of the first backend of the process and die with it.
        let proxy = block(&runtime, CALL_TIMEOUT, "connecting", async {
            let conn = zbus::Connection::session().await?;
            Screencast::with_connection(conn).await
        })
        .map_err(no_portal)?;
        // Creating the proxy sends nothing; asking a property finds out whether a portal answers.
        let kinds = block(
            &runtime,
            CALL_TIMEOUT,
            "asking the source types",
            proxy.available_source_types(),
        )
        .map_err(no_portal)?;
        if kinds.is_empty() {
            return Err(no_portal(
                "the screen-cast portal offers no source types".into(),
            ));
        }
        tracing::info!(
            "screen capture: xdg-desktop-portal ScreenCast version {}",
            proxy.version()
        );
        Ok(Self {
            proxy: Some(proxy),
            active: None,
            runtime,
        })
    }

    /// Opens a sharing session for a screen or a window (the dialog).
    fn open(&mut self, window: bool, cursor: bool) -> Result<Active, String> {
        let rt = &self.runtime;
        let _inside = rt.enter();
        let proxy = self
            .proxy
            .as_ref()
            .ok_or("the portal connection is closed")?;
        let modes = block(
            rt,
            CALL_TIMEOUT,
            "asking the cursor modes",
            proxy.available_cursor_modes(),
        )
        .unwrap_or_default();
        let mode = if cursor && modes.contains(CursorMode::Embedded) {
            CursorMode::Embedded
        } else {
            if cursor {
                tracing::warn!(
                    "screen capture: this portal cannot draw the cursor into the picture"
                );
            }
            CursorMode::Hidden
        };
        let kind = if window {
            SourceType::Window
        } else {
            SourceType::Monitor
        };
        let session = block(
            rt,
            CALL_TIMEOUT,
            "creating a session",
            proxy.create_session(Default::default()),
        )?;
        let options = SelectSourcesOptions::default()
            .set_cursor_mode(mode)
            .set_sources(ashpd::enumflags2::BitFlags::from(kind))
            .set_multiple(false)
            .set_persist_mode(PersistMode::DoNot);
        block(
            rt,
            CALL_TIMEOUT,
            "selecting sources",
            proxy.select_sources(&session, options),
        )?;
        let streams = block(
            rt,
            DIALOG_TIMEOUT,
            "waiting for the sharing dialog",
            async {
                proxy
                    .start(&session, None, Default::default())
                    .await?
                    .response()
            },
        )?;
        let Some(stream) = streams.streams().first().cloned() else {
            return Err("the portal shared nothing".into());
        };
        let fd = block(
            rt,
            CALL_TIMEOUT,
            "opening the PipeWire remote",
            proxy.open_pipe_wire_remote(&session, Default::default()),
        )?;
        let video = PipeWireVideo::start(Remote::Fd(fd), Some(stream.pipe_wire_node_id()))
            .map_err(|e| e.to_string())?;
        Ok(Active {
            window,
            cursor,
            size: stream.size(),
            session,
            video,
            end_reported: false,
        })
    }

    fn close_active(&mut self) {
        let _inside = self.runtime.enter();
        if let Some(a) = self.active.take() {
            drop(a.video);
            let _ = block(&self.runtime, CALL_TIMEOUT, "closing", a.session.close());
        }
    }
}

impl Drop for PortalScreen {
    fn drop(&mut self) {
        self.close_active();
        let _inside = self.runtime.enter();
        drop(self.proxy.take());
    }
}

/// Runs a portal call on the runtime with a time limit; failures as user-facing text.
fn block<T>(
    rt: &tokio::runtime::Runtime,
    limit: Duration,
    what: &str,
    call: impl Future<Output = Result<T, ashpd::Error>>,
) -> Result<T, String> {
    match rt.block_on(async { tokio::time::timeout(limit, call).await }) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(explain(&e)),
        Err(_) => Err(format!(
            "the screen-cast portal did not answer within {} s ({what})",
            limit.as_secs()
        )),
    }
}

/// The part `region` of a BGRA frame (clamped to the frame); `None` when nothing is left.
pub fn crop_bgra(frame: &VideoFrame, region: Rect) -> Option<VideoFrame> {
    let bounds = Rect {
        x: 0,
        y: 0,
        width: frame.width(),
        height: frame.height(),
    };
    let r = region.intersect(&bounds);
    if r.is_empty() {
        return None;
    }
    if r == bounds {
        return Some(frame.clone());
    }
    let (stride, row) = (frame.width() as usize * 4, r.width as usize * 4);
    let mut out = Vec::with_capacity(row * r.height as usize);
    for y in r.y as usize..r.y as usize + r.height as usize {
        let at = y * stride + r.x as usize * 4;
        out.extend_from_slice(frame.data().get(at..at + row)?);
    }
    VideoFrame::new(PixelFormat::Bgra32, r.width, r.height, Bytes::from(out)).ok()
}

impl ScreenBackend for PortalScreen {
    fn sources(
        &mut self,
        _thumbnail: Option<(u32, u32)>,
        _icon: Option<(u32, u32)>,
    ) -> CaptureResult<Vec<ScreenSource>> {
        let size = |window: bool| {
            self.active
                .as_ref()
                .filter(|a| a.window == window)
                .and_then(|a| a.size)
                .map(|(w, h)| Rect {
                    x: 0,
                    y: 0,
                    width: w.max(0) as u32,
                    height: h.max(0) as u32,
                })
                .unwrap_or_default()
        };
        let entry = |id, name: &str, window| ScreenSource {
            id,
            name: name.to_string(),
            rect: size(window),
            thumbnail: None,
            icon: None,
            minimized: false,
            is_main_screen: !window,
        };
        Ok(vec![
            entry(
                SourceId::Screen(0),
                "A screen (picked in the system's sharing dialog)",
                false,
            ),
            entry(
                SourceId::Window(0),
                "A window (picked in the system's sharing dialog)",
                true,
            ),
        ])
    }

    fn grab(&mut self, target: &CaptureTarget) -> Result<VideoFrame, GrabError> {
        let window = matches!(target.source, SourceId::Window(_));
        // A session whose end was already reported is only grabbed again for a new target
        // (the capture thread stops grabbing a gone source): that opens a new one.
        let reuse = self
            .active
            .as_ref()
            .is_some_and(|a| a.window == window && a.cursor == target.cursor && !a.end_reported);
        let mut wait = Duration::ZERO;
        if !reuse {
            self.close_active();
            self.active = Some(
                self.open(window, target.cursor)
                    .map_err(GrabError::Failed)?,
            );
            wait = FIRST_PICTURE;
        }
        let active = self.active.as_mut().expect("opened above");
        let frame = active.video.latest(wait).map_err(|e| match e {
            GrabError::Gone(r) => {
                active.end_reported = true;
                GrabError::Gone(if window { StopReason::WindowClosed } else { r })
            }
            other => other,
        })?;
        if target.region.is_empty() {
            return Ok(frame);
        }
        crop_bgra(&frame, target.region).ok_or_else(|| {
            GrabError::Failed(format!(
                "the region {:?} is outside the shared picture ({}x{})",
                target.region,
                frame.width(),
                frame.height()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(w: u32, h: u32) -> VideoFrame {
        let data: Vec<u8> = (0..w * h).flat_map(|i| [i as u8, 0, 0, 255]).collect();
        VideoFrame::new(PixelFormat::Bgra32, w, h, Bytes::from(data)).unwrap()
    }

    #[test]
    fn a_region_is_cut_from_the_shared_picture() {
        let f = numbered(4, 3);
        let r = Rect {
            x: 1,
            y: 1,
            width: 2,
            height: 2,
        };
        let c = crop_bgra(&f, r).unwrap();
        assert_eq!((c.width(), c.height()), (2, 2));
        let blues: Vec<u8> = c.data().chunks(4).map(|p| p[0]).collect();
        assert_eq!(blues, [5, 6, 9, 10]);
    }

    #[test]
    fn a_region_past_the_edge_is_clamped_and_one_outside_is_none() {
        let f = numbered(4, 3);
        let half = Rect {
            x: 3,
            y: 2,
            width: 10,
            height: 10,
        };
        let c = crop_bgra(&f, half).unwrap();
        assert_eq!((c.width(), c.height()), (1, 1));
        assert_eq!(c.data()[0], 11);
        let outside = Rect {
            x: 9,
            y: 0,
            width: 2,
            height: 2,
        };
        assert!(crop_bgra(&f, outside).is_none());
        let whole = Rect {
            x: 0,
            y: 0,
            width: 4,
            height: 3,
        };
        assert_eq!(crop_bgra(&f, whole).unwrap().data(), f.data());
    }
}
