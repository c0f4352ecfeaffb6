//! A PipeWire video consumer: the Wayland half of screen capture.
//!
//! The xdg-desktop-portal hands out a PipeWire remote (a file descriptor) and the node id of the
//! shared screen or window ([`super::portal`]). [`PipeWireVideo`] connects an input stream to
//! that node on its own thread (PipeWire's objects live on their loop's thread), offers the
//! packed RGB formats compositors share (BGRx, BGRA, RGBx, RGBA), maps the buffers and keeps
//! the newest picture as a BGRA [`VideoFrame`]; the capture thread reads it at its own frame
//! rate. A stream that errors, is disconnected, or whose node the compositor removes (the
//! user stopped sharing, the window closed) is reported as ended.
//!
//! PipeWire pushes frames when the picture changes; the capture thread repeats the newest, so
//! a still desktop still gives a steady frame rate.

use super::GrabError;
use crate::error::{CaptureError, CaptureResult};
use bytes::Bytes;
use onair_core::{PixelFormat, VideoFrame};
use pipewire as pw;
use pw::spa;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The packed formats offered to the producer, in order of preference.
const OFFERED: [spa::param::video::VideoFormat; 4] = [
    spa::param::video::VideoFormat::BGRx,
    spa::param::video::VideoFormat::BGRA,
    spa::param::video::VideoFormat::RGBx,
    spa::param::video::VideoFormat::RGBA,
];

/// Where the PipeWire daemon is.
#[derive(Debug)]
pub enum Remote {
    /// A remote the portal opened for this session (`OpenPipeWireRemote`).
    Fd(OwnedFd),
    /// The user's daemon (`PIPEWIRE_REMOTE` or the default socket).
    Default,
}

/// The byte order of a negotiated 4-byte-per-pixel format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackedOrder {
    /// Blue, green, red, then alpha or padding (BGRx, BGRA): the frames' own order.
    Bgr,
    /// Red, green, blue, then alpha or padding (RGBx, RGBA): red and blue swap.
    Rgb,
}

/// Copies a mapped picture of `width` x `height` pixels, rows `stride` bytes apart, into a
/// tightly packed BGRA buffer with opaque alpha. `None` when the mapping is too short for the
/// size (a truncated or corrupt buffer).
pub fn packed_to_bgra(
    order: PackedOrder,
    width: u32,
    height: u32,
    stride: usize,
    src: &[u8],
) -> Option<Vec<u8>> {
    let row = width as usize * 4;
    if width == 0 || height == 0 || stride < row {
        return None;
    }
    let needed = stride.checked_mul(height as usize - 1)?.checked_add(row)?;
    if src.len() < needed {
        return None;
    }
    let mut out = vec![0u8; row * height as usize];
    for (dst, line) in out.chunks_exact_mut(row).zip(src.chunks(stride)) {
        match order {
            PackedOrder::Bgr => {
                dst.copy_from_slice(&line[..row]);
                for px in dst.chunks_exact_mut(4) {
                    px[3] = 255;
                }
            }
            PackedOrder::Rgb => {
                for (d, s) in dst.chunks_exact_mut(4).zip(line[..row].chunks_exact(4)) {
                    d.copy_from_slice(&[s[2], s[1], s[0], 255]);
                }
            }
        }
    }
    Some(out)
}

/// The order of a negotiated format, `None` for one onair did not offer.
fn order_of(format: spa::param::video::VideoFormat) -> Option<PackedOrder> {
    use spa::param::video::VideoFormat as F;
    match format {
        f if f == F::BGRx || f == F::BGRA => Some(PackedOrder::Bgr),
        f if f == F::RGBx || f == F::RGBA => Some(PackedOrder::Rgb),
        _ => None,
    }
}

/// What the stream thread shares with the capture thread.
#[derive(Default)]
struct Slot {
    latest: Option<VideoFrame>,
    /// Why the stream ended (the compositor stopped sharing, an error), once it has.
    ended: Option<String>,
}

type Shared = Arc<(Mutex<Slot>, Condvar)>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Slot> {
    s.0.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running PipeWire input stream keeping the newest picture.
pub struct PipeWireVideo {
    shared: Shared,
    quit: pw::channel::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for PipeWireVideo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipeWireVideo").finish_non_exhaustive()
    }
}

impl PipeWireVideo {
    /// Connects to `node` (any video source when `None`) on `remote`. Returns once the stream
    /// is connected (not yet playing); an unreachable daemon is an error here.
    pub fn start(remote: Remote, node: Option<u32>) -> CaptureResult<Self> {
        let shared: Shared = Arc::default();
        let (quit, quit_rx) = pw::channel::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let on_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("onair-pipewire".into())
            .spawn(move || {
                if let Err(e) = run_stream(remote, node, on_thread, quit_rx, &ready_tx) {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| CaptureError::StartFailed(format!("no PipeWire thread: {e}")))?;
        let ready = ready_rx
            .recv()
            .unwrap_or_else(|_| Err("the PipeWire thread ended".into()));
        let me = Self {
            shared,
            quit,
            thread: Some(thread),
        };
        match ready {
            Ok(()) => Ok(me),
            Err(e) => Err(CaptureError::StartFailed(format!(
                "screen capture: PipeWire: {e}"
            ))),
        }
    }

    /// The newest picture, waiting up to `wait` for the first one.
    pub fn latest(&self, wait: Duration) -> Result<VideoFrame, GrabError> {
        let deadline = Instant::now() + wait;
        let mut slot = lock(&self.shared);
        loop {
            if let Some(why) = &slot.ended {
                tracing::info!("screen capture: {why}");
                return Err(GrabError::Gone(super::StopReason::DisplayChanged));
            }
            if let Some(f) = &slot.latest {
                return Ok(f.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(GrabError::Failed(
                    "PipeWire: no picture yet from the shared screen".into(),
                ));
            }
            slot = self
                .shared
                .1
                .wait_timeout(slot, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Why the stream ended, once it has.
    pub fn ended(&self) -> Option<String> {
        lock(&self.shared).ended.clone()
    }

    /// Waits up to `limit` for the stream to end: why it did, or `None` if it still runs.
    pub fn wait_ended(&self, limit: Duration) -> Option<String> {
        let slot = lock(&self.shared);
        let (slot, _) = self
            .shared
            .1
            .wait_timeout_while(slot, limit, |s| s.ended.is_none())
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.ended.clone()
    }
}

impl Drop for PipeWireVideo {
    fn drop(&mut self) {
        let _ = self.quit.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The formats onair accepts, as the `EnumFormat` parameter of the stream.
fn format_param() -> Result<Vec<u8>, String> {
    use spa::param::format::{FormatProperties, MediaSubtype, MediaType};
    use spa::pod::{ChoiceValue, Property, PropertyFlags, Value};
    use spa::utils::{Choice, ChoiceEnum, ChoiceFlags, Fraction, Id, Rectangle};
    let id = |v: u32| Value::Id(Id(v));
    let formats = Value::Choice(ChoiceValue::Id(Choice(
        ChoiceFlags::empty(),
        ChoiceEnum::Enum {
            default: Id(OFFERED[0].as_raw()),
            alternatives: OFFERED.iter().map(|f| Id(f.as_raw())).collect(),
        },
    )));
    let size = Value::Choice(ChoiceValue::Rectangle(Choice(
        ChoiceFlags::empty(),
        ChoiceEnum::Range {
            default: Rectangle {
                width: 1920,
                height: 1080,
            },
            min: Rectangle {
                width: 1,
                height: 1,
            },
            max: Rectangle {
                width: 8192,
                height: 8192,
            },
        },
    )));
    let rate = Value::Choice(ChoiceValue::Fraction(Choice(
        ChoiceFlags::empty(),
        ChoiceEnum::Range {
            default: Fraction { num: 30, denom: 1 },
            min: Fraction { num: 0, denom: 1 },
            max: Fraction { num: 240, denom: 1 },
        },
    )));
    let prop = |key: FormatProperties, value| Property {
        key: key.as_raw(),
        flags: PropertyFlags::empty(),
        value,
    };
    let object = spa::pod::Object {
        type_: spa::utils::SpaTypes::ObjectParamFormat.as_raw(),
        id: spa::param::ParamType::EnumFormat.as_raw(),
        properties: vec![
            prop(FormatProperties::MediaType, id(MediaType::Video.as_raw())),
            prop(
                FormatProperties::MediaSubtype,
                id(MediaSubtype::Raw.as_raw()),
            ),
            prop(FormatProperties::VideoFormat, formats),
            prop(FormatProperties::VideoSize, size),
            prop(FormatProperties::VideoFramerate, rate),
        ],
    };
    spa::pod::serialize::PodSerializer::serialize(
        std::io::Cursor::new(Vec::new()),
        &Value::Object(object),
    )
    .map(|(c, _)| c.into_inner())
    .map_err(|e| format!("cannot build the format parameter: {e:?}"))
}

/// The stream thread: connects, reports readiness, runs the loop until told to quit.
fn run_stream(
    remote: Remote,
    node: Option<u32>,
    shared: Shared,
    quit_rx: pw::channel::Receiver<()>,
    ready: &std::sync::mpsc::Sender<Result<(), String>>,
) -> Result<(), String> {
    crate::audio_libs::ensure_loaded(crate::audio_libs::AudioLibrary::PipeWire)?;
    pw::init();
    let main_loop = pw::main_loop::MainLoopRc::new(None).map_err(|e| format!("main loop: {e}"))?;
    let context = pw::context::ContextRc::new(&main_loop, None).map_err(|e| {
        format!("cannot create a PipeWire context ({e}): is PipeWire installed (its client.conf)?")
    })?;
    let core = match remote {
        Remote::Fd(fd) => context.connect_fd_rc(fd, None),
        Remote::Default => context.connect_rc(None),
    }
    .map_err(|e| format!("cannot connect to the PipeWire daemon: {e}"))?;
    // The shared node going away (the user stopped sharing, the window closed) leaves the
    // stream linked to nothing, with no state change: watch the registry for its removal.
    let registry = core
        .get_registry_rc()
        .map_err(|e| format!("cannot read the PipeWire registry: {e}"))?;
    let on_remove = Arc::clone(&shared);
    let _registry_listener = registry
        .add_listener_local()
        .global_remove(move |id| {
            if Some(id) == node {
                lock(&on_remove).ended = Some("the shared screen or window went away".into());
                on_remove.1.notify_all();
            }
        })
        .register();
    let stream = pw::stream::StreamRc::new(
        core,
        "onair-screen",
        pw::properties::properties! {
            *pw::keys::MEDIA_TYPE => "Video",
            *pw::keys::MEDIA_CATEGORY => "Capture",
            *pw::keys::MEDIA_ROLE => "Screen",
            *pw::keys::NODE_NAME => "onair-screen",
            *pw::keys::APP_NAME => "onair",
        },
    )
    .map_err(|e| format!("cannot create a stream: {e}"))?;

    let on_state = Arc::clone(&shared);
    let on_frame = Arc::clone(&shared);
    let _listener = stream
        .add_local_listener_with_user_data(spa::param::video::VideoInfoRaw::default())
        .state_changed(move |_, _, _, new| {
            let why = match new {
                pw::stream::StreamState::Error(e) => format!("the PipeWire stream failed: {e}"),
                pw::stream::StreamState::Unconnected => {
                    "the compositor stopped sharing (stream disconnected)".to_string()
                }
                _ => return,
            };
            lock(&on_state).ended = Some(why);
            on_state.1.notify_all();
        })
        .param_changed(|_, info, id, param| {
            let Some(param) = param else { return };
            if id != spa::param::ParamType::Format.as_raw() {
                return;
            }
            if let Err(e) = info.parse(param) {
                tracing::warn!("screen capture: PipeWire format not understood: {e:?}");
            }
        })
        .process(move |stream, info| {
            let Some(mut buffer) = stream.dequeue_buffer() else {
                return;
            };
            let Some(order) = order_of(info.format()) else {
                return;
            };
            let size = info.size();
            let datas = buffer.datas_mut();
            let Some(data) = datas.first_mut() else {
                return;
            };
            let (offset, len, stride) = {
                let c = data.chunk();
                (c.offset() as usize, c.size() as usize, c.stride())
            };
            if len == 0 {
                return; // a cursor-only or empty update: keep the last picture
            }
            let stride = if stride > 0 {
                stride as usize
            } else {
                size.width as usize * 4
            };
            let Some(mapped) = data.data() else { return };
            let Some(picture) = mapped.get(offset..offset.saturating_add(len).min(mapped.len()))
            else {
                return;
            };
            let Some(bgra) = packed_to_bgra(order, size.width, size.height, stride, picture) else {
                return;
            };
            if let Ok(frame) = VideoFrame::new(
                PixelFormat::Bgra32,
                size.width,
                size.height,
                Bytes::from(bgra),
            ) {
                lock(&on_frame).latest = Some(frame);
                on_frame.1.notify_all();
            }
        })
        .register()
        .map_err(|e| format!("cannot listen to the stream: {e}"))?;

    let param = format_param()?;
    let pod = spa::pod::Pod::from_bytes(&param).ok_or("bad format parameter")?;
    stream
        .connect(
            spa::utils::Direction::Input,
            node,
            pw::stream::StreamFlags::AUTOCONNECT | pw::stream::StreamFlags::MAP_BUFFERS,
            &mut [pod],
        )
        .map_err(|e| format!("cannot connect to node {node:?}: {e}"))?;

    let weak = main_loop.downgrade();
    let _quit = quit_rx.attach(main_loop.loop_(), move |()| {
        if let Some(l) = weak.upgrade() {
            l.quit();
        }
    });
    let _ = ready.send(Ok(()));
    main_loop.run();
    let _ = stream.disconnect();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgrx_rows_are_packed_and_made_opaque() {
        // 2x2, stride 12 (4 bytes of row padding).
        let src = [
            1, 2, 3, 0, 4, 5, 6, 0, 9, 9, 9, 9, //
            7, 8, 9, 0, 10, 11, 12, 0, 9, 9, 9, 9,
        ];
        let out = packed_to_bgra(PackedOrder::Bgr, 2, 2, 12, &src).unwrap();
        assert_eq!(
            out,
            [1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 10, 11, 12, 255]
        );
    }

    #[test]
    fn rgb_orders_swap_red_and_blue() {
        let out = packed_to_bgra(PackedOrder::Rgb, 1, 1, 4, &[200, 100, 50, 7]).unwrap();
        assert_eq!(out, [50, 100, 200, 255]);
    }

    #[test]
    fn short_or_odd_mappings_are_refused() {
        // The last row may end without its padding, but not short of its pixels.
        assert!(packed_to_bgra(PackedOrder::Bgr, 2, 2, 12, &[0; 12 + 8]).is_some());
        assert!(packed_to_bgra(PackedOrder::Bgr, 2, 2, 12, &[0; 12 + 7]).is_none());
        assert!(packed_to_bgra(PackedOrder::Bgr, 2, 2, 4, &[0; 64]).is_none());
        assert!(packed_to_bgra(PackedOrder::Bgr, 0, 2, 8, &[0; 64]).is_none());
        assert!(packed_to_bgra(PackedOrder::Bgr, u32::MAX, 2, usize::MAX, &[0; 64]).is_none());
    }

    #[test]
    fn only_offered_formats_are_read() {
        use spa::param::video::VideoFormat as F;
        assert_eq!(order_of(F::BGRx), Some(PackedOrder::Bgr));
        assert_eq!(order_of(F::RGBA), Some(PackedOrder::Rgb));
        assert_eq!(order_of(F::I420), None);
        assert_eq!(order_of(F::Unknown), None);
    }

    #[test]
    fn the_format_parameter_is_a_valid_pod() {
        let bytes = format_param().unwrap();
        let pod = spa::pod::Pod::from_bytes(&bytes).expect("a pod");
        assert!(pod.is_object());
    }

    #[test]
    fn an_unreachable_daemon_is_a_start_error() {
        // A socket path nobody serves: the connection fails and says so.
        let dir = std::env::temp_dir().join(format!("onair-pw-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        std::env::set_var("PIPEWIRE_RUNTIME_DIR", &dir);
        std::env::set_var("PIPEWIRE_REMOTE", "onair-no-daemon");
        let err = PipeWireVideo::start(Remote::Default, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot connect to the PipeWire daemon"),
            "{err}"
        );
    }
}
