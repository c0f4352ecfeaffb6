//! `V2TXLivePlayer`: the play engine (spec "Player").
//!
//! ```text
//! receive thread (tokio): RTMP | HTTP-FLV -> FLV tags -> packets -> jitter buffer
//!     (connect, reconnect per maxNumberOfReconnection / secondsBetweenReconnection)
//! media thread: jitter buffer -> H.264 + AAC decode -> playout clock
//!     -> on_render_video_frame (I420 | NV12 | BGRA32 | RGBA32) + audio out (cpal, when a
//!        device exists) + on_playout_audio_frame; stalls, statistics every 2 s
//! callback thread: every other observer callback, in order
//! ```
//! The jitter buffer (`player/jitter.rs`, summarised in the README) documents the cache and
//! catch-up rules. `stop_play` joins
//! every thread and closes the socket before it returns; no callback arrives afterwards.

mod audio_out;
mod jitter;
mod media;
mod net;
mod observer;
mod switch;

pub use observer::V2TXLivePlayerObserver;

use crate::error::{LiveError, LiveResult};
use crate::pusher::ReconnectPolicy;
use crate::session::{CallbackGate, EventLanes, StopSignal, Threads};
use jitter::{CacheParams, JitterBuffer};
use observer::PlayerEvent;
use onair_core::{BufferType, PixelFormat, V2TXLiveCode};
use onair_rtmp::{StreamUrl, TransportConfig};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// The cache presets of the spec (`set_cache_params`): (min, max) seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CachePreset {
    /// (1, 5): adapts between a small cushion and 5 s (the default).
    #[default]
    Auto,
    /// (1, 1): lowest latency; catches up past 1 s.
    Speed,
    /// (5, 5): rides out long network stalls; catches up only past 5 s.
    Smooth,
}

impl CachePreset {
    /// The preset's (min, max) seconds.
    pub fn params(self) -> (f32, f32) {
        match self {
            Self::Auto => (1.0, 5.0),
            Self::Speed => (1.0, 1.0),
            Self::Smooth => (5.0, 5.0),
        }
    }
}

impl std::str::FromStr for CachePreset {
    type Err = LiveError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "speed" => Ok(Self::Speed),
            "smooth" => Ok(Self::Smooth),
            other => Err(LiveError::invalid(format!(
                "cache preset {other:?}; expected speed, auto or smooth"
            ))),
        }
    }
}

/// Settings the running session reads (they may change while playing).
#[derive(Debug)]
pub(crate) struct Controls {
    pub(crate) render_format: Mutex<Option<PixelFormat>>,
    pub(crate) render_gpu: Mutex<Option<std::sync::Arc<onair_gpu::GpuContext>>>,
    pub(crate) observe_audio: AtomicBool,
    pub(crate) volume: AtomicU32,
    pub(crate) volume_interval_ms: AtomicU32,
    /// 0 = SEI delivery off, else the payload type to deliver.
    pub(crate) sei_type: AtomicU32,
    pub(crate) video_paused: AtomicBool,
    pub(crate) audio_paused: AtomicBool,
    pub(crate) snapshot: AtomicBool,
    /// The app's render view and how it shows the picture.
    pub(crate) view: crate::render::ViewSlot,
}

impl Default for Controls {
    fn default() -> Self {
        Self {
            render_format: Mutex::new(None),
            render_gpu: Mutex::new(None),
            observe_audio: AtomicBool::new(false),
            volume: AtomicU32::new(100),
            volume_interval_ms: AtomicU32::new(0),
            sei_type: AtomicU32::new(0),
            video_paused: AtomicBool::new(false),
            audio_paused: AtomicBool::new(false),
            snapshot: AtomicBool::new(false),
            view: crate::render::ViewSlot::default(),
        }
    }
}

/// What one play session's threads share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) controls: Arc<Controls>,
    pub(crate) buffer: Mutex<JitterBuffer>,
    /// Signalled when packets arrive or a control changes.
    pub(crate) wake: Condvar,
    pub(crate) stop: StopSignal,
    /// Every observer callback passes through it (see `session`).
    pub(crate) gate: Arc<CallbackGate>,
    pub(crate) events: EventLanes<PlayerEvent>,
    pub(crate) rx_video_bytes: AtomicU64,
    pub(crate) rx_audio_bytes: AtomicU64,
    /// The receive side has given up (reconnects exhausted or a fatal error).
    pub(crate) ended: AtomicBool,
    /// The newest headers and the local recording: every tag received passes here.
    pub(crate) tap: crate::local_record::Tap,
    /// `switch_stream` requests for the receive task.
    pub(crate) switches: switch::SwitchRequests,
}

impl Shared {
    pub(crate) fn stopped(&self) -> bool {
        self.stop.is_stopped()
    }
    pub(crate) fn emit(&self, e: PlayerEvent) {
        self.events.emit(e);
    }
    pub(crate) fn buffer(&self) -> std::sync::MutexGuard<'_, JitterBuffer> {
        lock(&self.buffer)
    }
}

#[derive(Debug, Clone, Default)]
struct Settings {
    cache: CacheParams,
    reconnect: ReconnectPolicy,
    transport: TransportConfig,
}

struct Session {
    shared: Arc<Shared>,
    /// The receive and media threads, joined first.
    threads: Threads,
    /// The callback thread, joined last; dropping `callbacks_stop` ends it.
    callbacks: Threads,
    callbacks_stop: crossbeam_channel::Sender<()>,
}

struct Inner {
    settings: Mutex<Settings>,
    observer: Mutex<Option<Arc<dyn V2TXLivePlayerObserver>>>,
    controls: Arc<Controls>,
    session: Mutex<Option<Session>>,
    /// The gate of the latest session, for a stop that finds another stop under way.
    gate: Mutex<Option<Arc<CallbackGate>>>,
}

/// The play engine. Cheap to share across threads (`&self` everywhere). Observer callbacks
/// receive a `&V2TXLivePlayer` for the same player, on which every method may be called
/// (`stop_play` included).
pub struct V2TXLivePlayer {
    inner: Arc<Inner>,
    /// Only the app's own handle stops the player when dropped.
    owner: bool,
}

impl std::fmt::Debug for V2TXLivePlayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V2TXLivePlayer")
            .field("playing", &self.is_playing())
            .finish_non_exhaustive()
    }
}

impl Default for V2TXLivePlayer {
    fn default() -> Self {
        Self::new()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl V2TXLivePlayer {
    /// A player with default settings (cache 1..5 s, 3 reconnects 3 s apart).
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                settings: Mutex::new(Settings::default()),
                observer: Mutex::new(None),
                controls: Arc::new(Controls::default()),
                session: Mutex::new(None),
                gate: Mutex::new(None),
            }),
            owner: true,
        }
    }

    fn handle(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            owner: false,
        }
    }

    /// Sets (or clears) the observer. Takes effect at the next `start_play`.
    pub fn set_observer(&self, observer: Option<Arc<dyn V2TXLivePlayerObserver>>) {
        *lock(&self.inner.observer) = observer;
    }

    /// `true` between `start_play` and `stop_play`.
    pub fn is_playing(&self) -> bool {
        lock(&self.inner.session).is_some()
    }

    fn refuse_while_playing(&self, what: &str) -> LiveResult {
        if self.is_playing() {
            Err(LiveError::refused(format!(
                "{what} is not allowed while playing; call it before start_play"
            )))
        } else {
            Ok(())
        }
    }

    /// The jitter buffer's cache: `min_s` caps the cushion kept against network jitter,
    /// `max_s` is the level past which the player catches up (see the `jitter` module docs).
    /// Both must be > 0 and `min_s <= max_s` (INVALID_PARAMETER); REFUSED while playing.
    pub fn set_cache_params(&self, min_s: f32, max_s: f32) -> LiveResult {
        if !(min_s > 0.0 && max_s > 0.0 && min_s.is_finite() && max_s.is_finite()) {
            return Err(LiveError::invalid(format!(
                "cache params ({min_s}, {max_s}): both must be > 0 seconds"
            )));
        }
        if min_s > max_s {
            return Err(LiveError::invalid(format!(
                "cache params ({min_s}, {max_s}): min must not exceed max"
            )));
        }
        self.refuse_while_playing("set_cache_params")?;
        lock(&self.inner.settings).cache = CacheParams { min_s, max_s };
        Ok(())
    }

    /// One of the spec's presets: speed (1, 1), auto (1, 5), smooth (5, 5). REFUSED while
    /// playing.
    pub fn set_cache_preset(&self, preset: CachePreset) -> LiveResult {
        let (min, max) = preset.params();
        self.set_cache_params(min, max)
    }

    /// Reconnect attempts and pause. REFUSED while playing.
    pub fn set_reconnect_policy(&self, policy: ReconnectPolicy) -> LiveResult {
        self.refuse_while_playing("set_reconnect_policy")?;
        lock(&self.inner.settings).reconnect = policy;
        Ok(())
    }

    /// Transport settings (timeouts, extra CA, HTTP headers). REFUSED while playing.
    pub fn set_transport_config(&self, config: TransportConfig) -> LiveResult {
        self.refuse_while_playing("set_transport_config")?;
        lock(&self.inner.settings).transport = config;
        Ok(())
    }

    /// Advanced settings by key: `maxNumberOfReconnection`, `secondsBetweenReconnection`
    /// (whole numbers) and `setHeaders` (a JSON object of HTTP headers for HTTP-FLV).
    /// NOT_SUPPORTED for other keys, INVALID_PARAMETER for bad values, REFUSED while playing.
    pub fn set_property(&self, key: &str, value: &str) -> LiveResult {
        match key {
            "maxNumberOfReconnection" | "secondsBetweenReconnection" => {
                let n: u32 = value.trim().parse().map_err(|_| {
                    LiveError::invalid(format!("{key}: {value:?} is not a whole number"))
                })?;
                let mut policy = lock(&self.inner.settings).reconnect;
                if key == "maxNumberOfReconnection" {
                    policy.attempts = n;
                } else {
                    policy.interval = std::time::Duration::from_secs(u64::from(n));
                }
                self.set_reconnect_policy(policy)
            }
            "setHeaders" => {
                let v: serde_json::Value = serde_json::from_str(value)
                    .map_err(|e| LiveError::invalid(format!("setHeaders: {e}")))?;
                let serde_json::Value::Object(map) = v else {
                    return Err(LiveError::invalid("setHeaders takes a JSON object"));
                };
                let mut headers = Vec::new();
                for (k, v) in map {
                    let serde_json::Value::String(s) = v else {
                        return Err(LiveError::invalid(format!(
                            "setHeaders {k}: values are strings"
                        )));
                    };
                    headers.push((k, s));
                }
                self.refuse_while_playing("setHeaders")?;
                lock(&self.inner.settings).transport.http_headers = headers;
                Ok(())
            }
            other => Err(LiveError::new(
                V2TXLiveCode::ErrorNotSupported,
                format!("unknown property {other:?}"),
            )),
        }
    }

    /// Delivers decoded frames to `on_render_video_frame` in `pixel_format` (I420, NV12,
    /// BGRA32 or RGBA32 byte buffers), or, for `Texture2D` + `Texture`, as RGBA8 wgpu textures
    /// to `on_render_video_texture` on the context given to
    /// [`set_gpu_context`](Self::set_gpu_context) (or a headless one onair makes;
    /// NOT_SUPPORTED when there is no adapter). Works before and during play.
    pub fn enable_observe_video_frame(
        &self,
        enable: bool,
        pixel_format: PixelFormat,
        buffer_type: BufferType,
    ) -> LiveResult {
        if !enable {
            *lock(&self.inner.controls.render_format) = None;
            return Ok(());
        }
        match (pixel_format, buffer_type) {
            (
                PixelFormat::I420 | PixelFormat::Nv12 | PixelFormat::Bgra32 | PixelFormat::Rgba32,
                BufferType::ByteBuffer,
            ) => {
                *lock(&self.inner.controls.render_format) = Some(pixel_format);
                Ok(())
            }
            (PixelFormat::Texture2D, BufferType::Texture) => {
                let mut gpu = lock(&self.inner.controls.render_gpu);
                if gpu.is_none() {
                    *gpu = Some(onair_gpu::GpuContext::new().map_err(|e| {
                        LiveError::new(
                            V2TXLiveCode::ErrorNotSupported,
                            format!("texture rendering needs a wgpu adapter: {e}"),
                        )
                    })?);
                }
                *lock(&self.inner.controls.render_format) = Some(pixel_format);
                Ok(())
            }
            (f, b) => Err(LiveError::new(
                V2TXLiveCode::ErrorNotSupported,
                format!("render frames as {f} in a {b:?} buffer; byte buffers of I420, NV12, BGRA32 or RGBA32 are supported"),
            )),
        }
    }

    /// The wgpu device textures are delivered on: the app's own (e.g. the one its window
    /// renders with, [`GpuContext::from_device`](onair_gpu::GpuContext::from_device)), set
    /// before `enable_observe_video_frame(true, Texture2D, Texture)`.
    pub fn set_gpu_context(&self, context: std::sync::Arc<onair_gpu::GpuContext>) {
        *lock(&self.inner.controls.render_gpu) = Some(context);
    }

    /// The wgpu context textures are delivered on, once chosen.
    pub fn gpu_context(&self) -> Option<std::sync::Arc<onair_gpu::GpuContext>> {
        lock(&self.inner.controls.render_gpu).clone()
    }

    /// Draws the played picture into the app's window (LiteAV `setRenderView`), at its
    /// presentation time (the clock of `on_render_video_frame`), with the fill mode and rotation
    /// set here; `None` stops drawing (the window is the app's again once the view's last clone
    /// is dropped). Works before and during play; the view outlives `stop_play`, showing the
    /// last picture.
    pub fn set_render_view(&self, view: Option<onair_gpu::RenderView>) -> LiveResult {
        self.inner.controls.view.set_view(view);
        Ok(())
    }

    /// Clockwise rotation of the picture in the render view (LiteAV `setRenderRotation`).
    pub fn set_render_rotation(&self, rotation: onair_core::Rotation) -> LiveResult {
        self.inner.controls.view.set_rotation(rotation);
        Ok(())
    }

    /// How the picture fills the render view (LiteAV `setRenderFillMode`): Fill crops to
    /// cover it (the default), Fit letterboxes on black, ScaleFill stretches.
    pub fn set_render_fill_mode(&self, mode: onair_core::FillMode) -> LiveResult {
        self.inner.controls.view.set_fill_mode(mode);
        Ok(())
    }

    /// The statistics overlay in the render view (LiteAV `showDebugView`): resolution, fps,
    /// bitrates, buffer, stalls and dropped pictures, refreshed with every statistics report.
    pub fn show_debug_view(&self, show: bool) {
        self.inner.controls.view.show_debug(show);
    }

    /// The old name of [`enable_observe_video_frame`](Self::enable_observe_video_frame).
    pub fn enable_custom_rendering(
        &self,
        enable: bool,
        pixel_format: PixelFormat,
        buffer_type: BufferType,
    ) -> LiveResult {
        self.enable_observe_video_frame(enable, pixel_format, buffer_type)
    }

    /// Delivers played-out audio (20 ms s16 frames) to `on_playout_audio_frame`.
    pub fn enable_observe_audio_frame(&self, enable: bool) -> LiveResult {
        self.inner
            .controls
            .observe_audio
            .store(enable, Ordering::Release);
        Ok(())
    }

    /// Playout volume 0..=100 (default 100); INVALID_PARAMETER above 100.
    pub fn set_playout_volume(&self, volume: u32) -> LiveResult {
        if volume > 100 {
            return Err(LiveError::invalid(format!(
                "volume {volume}; expected 0..=100"
            )));
        }
        self.inner.controls.volume.store(volume, Ordering::Release);
        Ok(())
    }

    /// Reports the playout volume (0..=100) every `interval_ms` through
    /// `on_playout_volume_update`; `<= 0` turns it off, 1..=99 is INVALID_PARAMETER.
    pub fn enable_volume_evaluation(&self, interval_ms: i32) -> LiveResult {
        let ms = crate::error::volume_interval_ms(interval_ms)?;
        self.inner
            .controls
            .volume_interval_ms
            .store(ms, Ordering::Release);
        Ok(())
    }

    /// Delivers SEI messages of `payload_type` (5 or 242) to `on_receive_sei_message`.
    pub fn enable_receive_sei_message(&self, enable: bool, payload_type: u32) -> LiveResult {
        if enable && payload_type != 5 && payload_type != 242 {
            return Err(LiveError::invalid(format!(
                "SEI payload type {payload_type}; expected 5 or 242"
            )));
        }
        self.inner
            .controls
            .sei_type
            .store(if enable { payload_type } else { 0 }, Ordering::Release);
        Ok(())
    }

    /// Freezes the picture (the stream keeps arriving, trimmed to the live GOP).
    pub fn pause_video(&self) -> LiveResult {
        self.set_paused(false, true)
    }
    /// Resumes video at the live edge.
    pub fn resume_video(&self) -> LiveResult {
        self.set_paused(false, false)
    }
    /// Mutes playout (the stream keeps arriving and is dropped).
    pub fn pause_audio(&self) -> LiveResult {
        self.set_paused(true, true)
    }
    /// Resumes audio at the live edge.
    pub fn resume_audio(&self) -> LiveResult {
        self.set_paused(true, false)
    }

    fn set_paused(&self, audio: bool, paused: bool) -> LiveResult {
        let session = lock(&self.inner.session);
        let s = session
            .as_ref()
            .ok_or_else(|| LiveError::refused("not playing"))?;
        let flag = if audio {
            &self.inner.controls.audio_paused
        } else {
            &self.inner.controls.video_paused
        };
        flag.store(paused, Ordering::Release);
        s.shared.wake.notify_all();
        Ok(())
    }

    /// Takes a snapshot of the next picture shown; delivered (RGBA32) through
    /// `on_snapshot_complete`. REFUSED unless playing.
    pub fn snapshot(&self) -> LiveResult {
        let session = lock(&self.inner.session);
        if session.is_none() {
            return Err(LiveError::refused("snapshot needs an active play"));
        }
        self.inner.controls.snapshot.store(true, Ordering::Release);
        Ok(())
    }

    /// Records what this player receives into an MP4 (LiteAV `startLocalRecording`): the
    /// received stream remuxed, no second encode, fragmented so that a crash leaves a playable
    /// file; it starts with the current GOP (from the last keyframe received). Reports `on_local_record_begin` (its code also
    /// when refused), `on_local_recording` every `interval_ms`, `on_local_record_complete`.
    /// REFUSED unless playing (and -6 while recording); INVALID_PARAMETER for a name without
    /// `.mp4` (-2) or an existing file (-7); FAILED otherwise (-8 no permission, -1).
    pub fn start_local_recording(&self, params: &crate::LocalRecordingParams) -> LiveResult {
        use crate::local_record::{record_code, refusal, LocalRecorder, RecordEvent};
        crate::local_record::check_params(params)?;
        let session = lock(&self.inner.session);
        let s = session
            .as_ref()
            .ok_or_else(|| LiveError::refused("start_local_recording needs an active play"))?;
        let path = params.file_path.display().to_string();
        let begin = |code| {
            s.shared
                .emit(PlayerEvent::Record(RecordEvent::Begin(code, path.clone())))
        };
        if s.shared.tap.is_recording() {
            let (code, e) = refusal(
                record_code::ALREADY_RECORDING,
                "a local recording is already running".into(),
            );
            begin(code);
            return Err(e);
        }
        let events = s.shared.events.clone();
        match LocalRecorder::start(params, move |e| events.emit(PlayerEvent::Record(e))) {
            Ok(r) => {
                s.shared.tap.install(r);
                begin(record_code::OK);
                Ok(())
            }
            Err((code, e)) => {
                begin(code);
                Err(e)
            }
        }
    }

    /// Ends the local recording (`on_local_record_complete` follows); nothing to do when none
    /// runs. `stop_play` ends it too.
    pub fn stop_local_recording(&self) -> LiveResult {
        let session = lock(&self.inner.session);
        let Some(s) = session.as_ref() else {
            return Ok(());
        };
        if let Some(r) = s.shared.tap.take_recorder() {
            let path = r.path().display().to_string();
            if let Some(code) = r.stop() {
                s.shared.emit(PlayerEvent::Record(
                    crate::local_record::RecordEvent::Complete(code, path),
                ));
            }
        }
        Ok(())
    }

    /// Starts playing `url`: rtmp:// or rtmps:// (an app instance and a query in the stream
    /// name are kept: `rtmp://host/app/inst/stream?k=v`), or any http(s):// URL whose body is
    /// FLV, whatever its path and query. Returns once connecting has started; progress arrives
    /// through the observer. INVALID_PARAMETER for other schemes and for HLS playlists
    /// (`.m3u8`), REFUSED when already playing.
    pub fn start_play(&self, url: &str) -> LiveResult {
        check_play_url(url)?;
        let mut slot = lock(&self.inner.session);
        if slot.is_some() {
            return Err(LiveError::refused("already playing; call stop_play first"));
        }
        let settings = lock(&self.inner.settings).clone();
        let observer = lock(&self.inner.observer).clone();
        let controls = Arc::clone(&self.inner.controls);
        controls.video_paused.store(false, Ordering::Release);
        controls.audio_paused.store(false, Ordering::Release);
        controls.snapshot.store(false, Ordering::Release);
        let (events, callback_side, callbacks_stop) = crate::session::lanes::<PlayerEvent>();
        let gate = Arc::new(CallbackGate::default());
        let shared = Arc::new(Shared {
            controls,
            buffer: Mutex::new(JitterBuffer::new(settings.cache)),
            wake: Condvar::new(),
            stop: StopSignal::default(),
            gate: Arc::clone(&gate),
            events,
            rx_video_bytes: AtomicU64::new(0),
            rx_audio_bytes: AtomicU64::new(0),
            ended: AtomicBool::new(false),
            tap: crate::local_record::Tap::default(),
            switches: switch::SwitchRequests::default(),
        });
        let mut callbacks = Threads::default();
        {
            let (handle, obs, gate) = (self.handle(), observer.clone(), Arc::clone(&gate));
            callbacks.spawn("onair-play-callbacks", move || {
                callback_side.run(&gate, |e| {
                    if let Some(o) = &obs {
                        e.deliver(&handle, o.as_ref());
                    }
                });
            })?;
        }
        let receiver = net::Receiver {
            url: url.to_string(),
            transport: settings.transport,
            reconnect: settings.reconnect,
            shared: Arc::clone(&shared),
        };
        let mut threads = Threads::default();
        threads.spawn("onair-play-receive", move || receiver.run())?;
        let (sh, handle) = (Arc::clone(&shared), self.handle());
        threads.spawn("onair-play-media", move || {
            media::run(&sh, observer.as_deref(), &handle)
        })?;
        *lock(&self.inner.gate) = Some(gate);
        *slot = Some(Session {
            shared,
            threads,
            callbacks,
            callbacks_stop,
        });
        Ok(())
    }

    /// Switches to another stream without a black frame (LiteAV `switchStream`, e.g. another
    /// quality level or a co-host's stream; RTMP and HTTP-FLV in any mix). The new URL is
    /// connected beside the playing one, which keeps playing until the new stream's first
    /// keyframe; from there the new stream continues the same playout timeline (one
    /// `on_video_resolution_changed` when its size differs). `on_stream_switched(url, code)`
    /// reports the outcome: 0 switched, -1 no keyframe within 10 s, -2 the server refused
    /// the stream, -3 another failure (the old stream then plays on). A newer call replaces
    /// a switch still under way; reconnects after a switch go to the new URL. REFUSED unless
    /// playing, INVALID_PARAMETER for URLs `start_play` refuses.
    pub fn switch_stream(&self, url: &str) -> LiveResult {
        check_play_url(url)?;
        let session = lock(&self.inner.session);
        let s = session
            .as_ref()
            .ok_or_else(|| LiveError::refused("switch_stream needs an active play"))?;
        s.shared.switches.request(url.to_string());
        Ok(())
    }

    /// Stops playing: every thread is joined and the socket closed before this returns, and
    /// no callback arrives afterwards. Callable from any thread, inside any callback of this
    /// player included (the calling thread then ends on its own once its callback returns).
    pub fn stop_play(&self) -> LiveResult {
        let gate = lock(&self.inner.gate).clone();
        let session = lock(&self.inner.session).take();
        let Some(s) = session else {
            if let Some(gate) = gate {
                // Another thread is stopping this play: wait for the callbacks it waits for.
                gate.close();
                gate.finish(false);
            }
            return Ok(());
        };
        let Session {
            shared,
            threads,
            callbacks,
            callbacks_stop,
        } = s;
        if let Some(r) = shared.tap.take_recorder() {
            // Delivered here, before the stop returns.
            let path = r.path().display().to_string();
            let observer = lock(&self.inner.observer).clone();
            if let (Some(code), Some(o)) = (r.stop(), observer) {
                let me = self.handle();
                shared
                    .gate
                    .deliver(|| o.on_local_record_complete(&me, code, &path));
            }
        }
        shared.stop.stop();
        {
            // Under the buffer lock, so the media thread cannot miss the wake-up.
            let _b = shared.buffer();
            shared.wake.notify_all();
        }
        shared.gate.close();
        threads.join();
        shared.gate.finish(true);
        drop(callbacks_stop);
        drop(shared);
        callbacks.join();
        Ok(())
    }
}

/// A URL the player can play: RTMP(S) or HTTP(S)-FLV, not an HLS playlist.
fn check_play_url(url: &str) -> LiveResult {
    let parsed = StreamUrl::parse(url)?;
    if !parsed.is_rtmp() && parsed.stream.ends_with(".m3u8") {
        return Err(LiveError::invalid(format!(
            "{url}: HLS playlists are not played; use the stream's HTTP-FLV or RTMP URL"
        )));
    }
    Ok(())
}

impl Drop for V2TXLivePlayer {
    fn drop(&mut self) {
        if self.owner {
            let _ = self.stop_play();
        }
    }
}
