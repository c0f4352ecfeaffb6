//! `V2TXLivePusher`: the push engine (spec "Pusher").
//!
//! ```text
//! source (test pattern | still image | custom frames) -> [latest-wins video channel]
//!   -> video thread: mirror, convert/scale/pad to the encode size, H.264, FLV tags ----\
//! tone | custom PCM -> [SPSC audio ring] -> audio thread: 20 ms frames, AAC, FLV tags --> Net
//! Net -> send queue (drop policy) -> RTMP socket, on a tokio runtime (supervisor: connect,
//!   reconnect, statistics every 2 s, bitrate adaptation)
//! ```
//! One owner per stage, every thread joined by `stop_push`; callbacks run on their own thread,
//! which is joined last, so none arrives after `stop_push` returns.

mod audio_mix;
mod desktop;
mod devices;
mod net;
mod observer;
mod pipeline;
mod preview;
mod process;
mod watermark;

pub use desktop::{
    CaptureTarget, Rect, RgbaImage, ScreenCaptureProperty, ScreenCaptureSourceInfo, SourceId,
    StopReason,
};
pub use net::ReconnectPolicy;
pub use observer::V2TXLivePusherObserver;
pub use process::ProcessVideoFrame;

use crate::error::{LiveError, LiveResult};
use crate::frame::{V2TXLiveAudioFrame, V2TXLiveVideoFrame};
use crate::local_record::LocalRecordingParams;
use crate::session::{CallbackGate, Threads};
use observer::PusherEvent;
pub use onair_capture::{list_cameras, list_microphones, CameraInfo, MicrophoneInfo};
use onair_core::channel::{AudioRingProducer, VideoSender};
use onair_core::{Alignment, AudioQuality, MirrorType, V2TXLiveCode, VideoEncoderParam};
use onair_flv::SeiMessage;
use onair_rtmp::{SendQueueConfig, StreamUrl, TransportConfig};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Where the pushed video comes from when custom capture is off.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum VideoSource {
    /// The counter-stamped test pattern with a 1 kHz tone.
    #[default]
    TestPattern,
    /// A still image (PNG or JPEG), the virtual camera.
    Image(PathBuf),
}

/// The events of one push, on their lanes (see `session`).
pub(crate) type Events = crate::session::EventLanes<PusherEvent>;

/// Switches the running pipeline reads.
#[derive(Debug, Default)]
pub(crate) struct Controls {
    pub(crate) stop: crate::session::StopSignal,
    /// The bitrate the app asked for (`set_video_quality`), kbit/s.
    pub(crate) requested_kbps: AtomicU32,
    /// The bitrate the encoder runs at (the request, adapted to the uplink), kbit/s.
    pub(crate) audio_paused: AtomicBool,
    pub(crate) video_paused: AtomicBool,
    pub(crate) mirror: AtomicBool,
    pub(crate) target_kbps: AtomicU32,
    pub(crate) force_keyframe: AtomicBool,
    pub(crate) sei: Mutex<Vec<SeiMessage>>,
    pub(crate) snapshot: AtomicBool,
    pub(crate) watermark: Mutex<Option<Arc<watermark::Watermark>>>,
    pub(crate) volume_interval_ms: AtomicU32,
    /// The local preview's format (`enable_custom_video_render`), `None` when off.
    pub(crate) render_format: Mutex<Option<onair_core::PixelFormat>>,
    /// A connection's server took no HEVC (no `hvc1` in its connect reply): the video stage
    /// switches to H.264 and stays there for the rest of the push.
    pub(crate) hevc_refused: AtomicBool,
    /// A connection's server took no Opus (no `Opus` in its connect reply): the audio stage
    /// switches to AAC and stays there for the rest of the push.
    pub(crate) opus_refused: AtomicBool,
    /// The audio codec running now (after any fallback); `None` without audio.
    pub(crate) audio_in_use: Mutex<Option<onair_core::AudioCodec>>,
    /// The encoder backend and codec running now (`Auto` resolved, after any fallback).
    pub(crate) in_use: Mutex<(onair_codec::VideoEncoderBackend, onair_core::VideoCodec)>,
}

impl Controls {
    pub(crate) fn stopped(&self) -> bool {
        self.stop.is_stopped()
    }
}

#[derive(Debug, Clone)]
struct Settings {
    video: VideoEncoderParam,
    audio: AudioQuality,
    audio_enabled: bool,
    source: VideoSource,
    custom_video: bool,
    custom_audio: bool,
    mirror: MirrorType,
    alignment: Alignment,
    reconnect: ReconnectPolicy,
    transport: TransportConfig,
    queue: SendQueueConfig,
    watermark: Option<watermark::WatermarkSpec>,
    volume_interval_ms: u32,
    extra_metadata: Vec<(String, onair_flv::Amf0Value)>,
    process: Option<process::ProcessMode>,
    render_format: Option<onair_core::PixelFormat>,
    encoder_backend: onair_codec::VideoEncoderBackend,
    video_codec: onair_core::VideoCodec,
    audio_codec: onair_core::AudioCodec,
    opus_frame_ms: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            video: VideoEncoderParam::default(),
            audio: AudioQuality::Default,
            audio_enabled: true,
            source: VideoSource::TestPattern,
            custom_video: false,
            custom_audio: false,
            mirror: MirrorType::Auto,
            alignment: Alignment::SOFTWARE,
            reconnect: ReconnectPolicy::default(),
            transport: TransportConfig::default(),
            queue: SendQueueConfig::default(),
            watermark: None,
            volume_interval_ms: 0,
            extra_metadata: Vec::new(),
            process: None,
            render_format: None,
            encoder_backend: onair_codec::VideoEncoderBackend::OpenH264,
            video_codec: onair_core::VideoCodec::H264,
            audio_codec: onair_core::AudioCodec::Aac,
            opus_frame_ms: 20,
        }
    }
}

/// One running push: its threads, channels and runtime.
struct Session {
    controls: Arc<Controls>,
    net: Arc<net::Net>,
    picture: onair_core::Size,
    metadata: onair_flv::OnMetaData,
    gate: Arc<CallbackGate>,
    /// Sources and encoders, joined first.
    threads: Threads,
    /// The callback thread, joined last; dropping `callbacks_stop` ends it.
    callbacks: Threads,
    callbacks_stop: crossbeam_channel::Sender<()>,
    events: Events,
    video_in: Option<Arc<VideoSender>>,
    audio_in: Option<Mutex<AudioRingProducer>>,
    runtime: tokio::runtime::Runtime,
    supervisor: tokio::task::JoinHandle<()>,
}

/// The push engine. Cheap to share across threads (`&self` everywhere).
pub struct V2TXLivePusher {
    settings: Mutex<Settings>,
    /// Shared with the device callback threads (screen capture), which read it per event.
    observer: Arc<Mutex<Option<Arc<dyn V2TXLivePusherObserver>>>>,
    session: Mutex<Option<Session>>,
    /// The gate of the latest session, for a stop that finds another stop under way.
    gate: Mutex<Option<Arc<CallbackGate>>>,
    devices: Mutex<devices::Devices>,
    routes: Arc<devices::Routes>,
    /// The render view and its settings.
    preview_shared: Arc<preview::PreviewShared>,
    /// The preview session, while previewing without a push.
    preview: Mutex<Option<preview::Preview>>,
    /// Held while the preview session starts or stops (or a push replaces it).
    preview_ops: Mutex<()>,
}

impl std::fmt::Debug for V2TXLivePusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V2TXLivePusher")
            .field("pushing", &self.is_pushing())
            .finish_non_exhaustive()
    }
}

impl Default for V2TXLivePusher {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl V2TXLivePusher {
    /// A pusher with default settings (960x540 at 15 fps, default audio, test pattern source).
    pub fn new() -> Self {
        Self {
            settings: Mutex::new(Settings::default()),
            observer: Arc::new(Mutex::new(None)),
            session: Mutex::new(None),
            gate: Mutex::new(None),
            devices: Mutex::new(devices::Devices::default()),
            routes: Arc::new(devices::Routes::default()),
            preview_shared: Arc::default(),
            preview: Mutex::new(None),
            preview_ops: Mutex::new(()),
        }
    }

    /// Sets (or clears) the observer. Takes effect at the next `start_push` (and at once for the
    /// preview before a push).
    pub fn set_observer(&self, observer: Option<Arc<dyn V2TXLivePusherObserver>>) {
        *lock(&self.observer) = observer;
        // A running preview delivers to the new observer from now on.
        if let Err(e) = self.preview_settings_changed() {
            tracing::warn!("the preview did not restart with the new observer: {e}");
        }
    }

    /// `true` between `start_push` and `stop_push`.
    pub fn is_pushing(&self) -> bool {
        lock(&self.session).is_some()
    }

    fn refuse_while_pushing(&self, what: &str) -> LiveResult {
        if self.is_pushing() {
            Err(LiveError::refused(format!(
                "{what} is not allowed while pushing; call it before start_push"
            )))
        } else {
            Ok(())
        }
    }

    /// Sets the video encoder parameters (preset, mode, fps, bitrates). While pushing, the new
    /// bitrate applies at once; size and fps apply at the next `start_push`.
    pub fn set_video_quality(&self, param: VideoEncoderParam) -> LiveResult {
        lock(&self.settings).video = param;
        if let Some(s) = lock(&self.session).as_ref() {
            let t = param.resolve(Alignment::SOFTWARE);
            s.controls
                .requested_kbps
                .store(t.bitrate_kbps, Ordering::Release);
            s.controls
                .target_kbps
                .store(t.bitrate_kbps, Ordering::Release);
        }
        self.preview_settings_changed()
    }

    /// Sets the audio quality. REFUSED while pushing.
    pub fn set_audio_quality(&self, quality: AudioQuality) -> LiveResult {
        self.refuse_while_pushing("set_audio_quality")?;
        lock(&self.settings).audio = quality;
        Ok(())
    }

    /// onair extension: push no audio track at all (default: on). REFUSED while pushing.
    pub fn set_audio_enabled(&self, enabled: bool) -> LiveResult {
        self.refuse_while_pushing("set_audio_enabled")?;
        lock(&self.settings).audio_enabled = enabled;
        Ok(())
    }

    /// The built-in video source used when custom capture is off. REFUSED while pushing.
    pub fn set_video_source(&self, source: VideoSource) -> LiveResult {
        self.refuse_while_pushing("set_video_source")?;
        lock(&self.settings).source = source;
        self.preview_settings_changed()
    }

    /// The virtual camera: push a still image (PNG or JPEG). REFUSED while pushing.
    pub fn start_virtual_camera(&self, image: impl Into<PathBuf>) -> LiveResult {
        let path = image.into();
        image::ImageReader::open(&path)
            .map_err(|e| LiveError::invalid(format!("cannot open {}: {e}", path.display())))?
            .with_guessed_format()
            .map_err(|e| LiveError::invalid(format!("{}: {e}", path.display())))?
            .decode()
            .map_err(|e| {
                LiveError::invalid(format!(
                    "{} is not a readable PNG/JPEG: {e}",
                    path.display()
                ))
            })?;
        self.set_video_source(VideoSource::Image(path))
    }

    /// The encoder backend's size alignment: 2 for software (default), 16 for hardware-style
    /// encoders (540x960 goes out as 544x960). REFUSED while pushing.
    pub fn set_encoder_alignment(&self, alignment: Alignment) -> LiveResult {
        self.refuse_while_pushing("set_encoder_alignment")?;
        lock(&self.settings).alignment = alignment;
        self.preview_settings_changed()
    }

    /// Reconnect attempts and pause (maxNumberOfReconnection, secondsBetweenReconnection).
    pub fn set_reconnect_policy(&self, policy: ReconnectPolicy) -> LiveResult {
        self.refuse_while_pushing("set_reconnect_policy")?;
        lock(&self.settings).reconnect = policy;
        Ok(())
    }

    /// Transport settings (timeouts, extra CA for rtmps). REFUSED while pushing.
    pub fn set_transport_config(&self, config: TransportConfig) -> LiveResult {
        self.refuse_while_pushing("set_transport_config")?;
        lock(&self.settings).transport = config;
        Ok(())
    }

    /// Starts camera `id` (an id from [`list_cameras`]; `""` for the first) at the video
    /// quality's size and rate. Its frames replace the test pattern or still image, in this push
    /// and the next ones, until [`stop_camera`](Self::stop_camera). A missing camera is
    /// WARNING_CAMERA_START_FAILED and a busy one WARNING_CAMERA_OCCUPIED, both as this call's
    /// error and, while pushing, through `on_warning`; a running push goes on with its other
    /// sources. REFUSED while custom video capture is on.
    pub fn start_camera(&self, id: &str) -> LiveResult {
        let (size, fps) = {
            let s = lock(&self.settings);
            if s.custom_video {
                return Err(LiveError::refused(
                    "start_camera: custom video capture is on; only one video source at a time",
                ));
            }
            let t = s.video.resolve(s.alignment);
            (t.picture, t.fps)
        };
        let mut devices = lock(&self.devices);
        if let Some(old) = devices.camera.take() {
            old.stop();
        }
        if let Some(screen) = devices.screen.take() {
            tracing::info!("the camera replaces the screen capture");
            screen.stop(&self.routes);
        }
        let routes = Arc::clone(&self.routes);
        match onair_capture::Camera::start(id, size.width, size.height, fps, move |f| {
            routes.send_video(f)
        }) {
            Ok(camera) => {
                tracing::info!("camera {id:?} started: {:?}", camera.format());
                devices.camera = Some(camera);
                self.routes.camera_on.store(true, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                self.routes.camera_on.store(false, Ordering::Release);
                let err = devices::camera_error(&e);
                self.routes.warn(err.code, &err.message);
                Err(err)
            }
        }
    }

    /// Stops the camera; the configured source (test pattern or still image) takes over again.
    pub fn stop_camera(&self) -> LiveResult {
        self.routes.camera_on.store(false, Ordering::Release);
        if let Some(c) = lock(&self.devices).camera.take() {
            c.stop();
        }
        Ok(())
    }

    /// Starts microphone `id` (`None`: the system default; ids from [`list_microphones`]). Its
    /// audio, resampled to the audio quality's rate and channels, replaces the tone or silence
    /// of the built-in source. Failures are WARNING_MICROPHONE_START_FAILED / _OCCUPIED, as this
    /// call's error and, while pushing, through `on_warning`. REFUSED while custom audio
    /// capture is on.
    pub fn start_microphone(&self, id: Option<&str>) -> LiveResult {
        let quality = {
            let s = lock(&self.settings);
            if s.custom_audio {
                return Err(LiveError::refused(
                    "start_microphone: custom audio capture is on",
                ));
            }
            s.audio
        };
        let mut devices = lock(&self.devices);
        if let Some(old) = devices.microphone.take() {
            old.stop();
        }
        let routes = Arc::clone(&self.routes);
        match onair_capture::Microphone::start(
            id,
            quality.sample_rate(),
            quality.channels(),
            move |pcm| routes.send_audio(pcm),
        ) {
            Ok(mic) => {
                tracing::info!(
                    "microphone {:?} started ({:?} Hz x channels)",
                    mic.device(),
                    mic.device_format()
                );
                devices.microphone = Some(mic);
                self.routes.microphone_on.store(true, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                self.routes.microphone_on.store(false, Ordering::Release);
                let err = devices::microphone_error(&e);
                self.routes.warn(err.code, &err.message);
                Err(err)
            }
        }
    }

    /// Stops the microphone; the built-in audio (tone or silence) takes over again.
    pub fn stop_microphone(&self) -> LiveResult {
        self.routes.microphone_on.store(false, Ordering::Release);
        if let Some(m) = lock(&self.devices).microphone.take() {
            m.stop();
        }
        Ok(())
    }

    /// The custom-process hook: every frame goes through `on_process_video_frame` before it is
    /// encoded. `Texture2D` + `Texture` runs on the GPU (wgpu; NOT_SUPPORTED when there is no
    /// adapter), `I420` or `BGRA32` + `ByteBuffer` on the CPU; other combinations are
    /// NOT_SUPPORTED. `enable = false` turns it off. REFUSED while pushing.
    pub fn enable_custom_video_process(
        &self,
        enable: bool,
        pixel_format: onair_core::PixelFormat,
        buffer_type: onair_core::BufferType,
    ) -> LiveResult {
        self.refuse_while_pushing("enable_custom_video_process")?;
        let mode = if enable {
            Some(
                process::ProcessMode::choose(pixel_format, buffer_type)
                    .map_err(|m| LiveError::new(V2TXLiveCode::ErrorNotSupported, m))?,
            )
        } else {
            None
        };
        lock(&self.settings).process = mode;
        Ok(())
    }

    /// The local preview: every frame the encoder gets goes to `on_render_video_frame` as a
    /// byte buffer of `pixel_format` (I420, NV12, BGRA32 or RGBA32; other combinations are
    /// NOT_SUPPORTED). Frames flow before a push too (the running source, nothing sent; see
    /// `set_render_view`) and go on after `stop_push`; `enable = false` ends them.
    pub fn enable_custom_video_render(
        &self,
        enable: bool,
        pixel_format: onair_core::PixelFormat,
        buffer_type: onair_core::BufferType,
    ) -> LiveResult {
        use onair_core::{BufferType, PixelFormat};
        let format = match (enable, pixel_format, buffer_type) {
            (false, _, _) => None,
            (
                true,
                f @ (PixelFormat::I420 | PixelFormat::Nv12 | PixelFormat::Bgra32 | PixelFormat::Rgba32),
                BufferType::ByteBuffer,
            ) => Some(f),
            (true, f, b) => {
                return Err(LiveError::new(
                    V2TXLiveCode::ErrorNotSupported,
                    format!("local preview as {f} in a {b:?} buffer; byte buffers of I420, NV12, BGRA32 or RGBA32 are supported"),
                ))
            }
        };
        lock(&self.settings).render_format = format;
        if let Some(s) = lock(&self.session).as_ref() {
            *lock(&s.controls.render_format) = format;
        }
        self.restart_preview()
    }

    /// Shows the local preview in the app's window (LiteAV `setRenderView`): the frames the
    /// encoder gets while pushing, and before `start_push` the running source (camera, screen,
    /// test pattern or still image) with nothing sent; with the render mirror, rotation and
    /// fill mode set here. `None` stops drawing.
    pub fn set_render_view(&self, view: Option<onair_gpu::RenderView>) -> LiveResult {
        self.preview_shared.view.set_view(view);
        self.restart_preview()
    }

    /// Mirror of the local preview (LiteAV `setRenderMirror`): Auto mirrors cameras (as a
    /// front camera) and not screens or built-in sources; Enable and Disable always and never.
    /// What viewers get is [`set_encoder_mirror`](Self::set_encoder_mirror)'s.
    pub fn set_render_mirror(&self, mirror: MirrorType) -> LiveResult {
        *lock(&self.preview_shared.render_mirror) = mirror;
        Ok(())
    }

    /// Clockwise rotation of the local preview (LiteAV `setRenderRotation`).
    pub fn set_render_rotation(&self, rotation: onair_core::Rotation) -> LiveResult {
        self.preview_shared.view.set_rotation(rotation);
        Ok(())
    }

    /// How the local preview fills its view (LiteAV `setRenderFillMode`): Fill (default) crops,
    /// Fit letterboxes, ScaleFill stretches.
    pub fn set_render_fill_mode(&self, mode: onair_core::FillMode) -> LiveResult {
        self.preview_shared.view.set_fill_mode(mode);
        Ok(())
    }

    /// The statistics overlay in the preview (LiteAV `showDebugView`): resolution, fps,
    /// bitrates, RTT and dropped frames, refreshed with every statistics report while pushing.
    pub fn show_debug_view(&self, show: bool) {
        self.preview_shared.view.show_debug(show);
    }

    /// (Re)starts the preview session when one is wanted (a view or custom render, no push,
    /// no custom capture), or stops it. Settings changes restart it.
    fn restart_preview(&self) -> LiveResult {
        let _ops = lock(&self.preview_ops);
        self.restart_preview_locked()
    }

    /// [`restart_preview`](Self::restart_preview) with `preview_ops` held. No other lock is
    /// held while the old preview stops: its callbacks may call into this pusher.
    fn restart_preview_locked(&self) -> LiveResult {
        let old = lock(&self.preview).take();
        if let Some(p) = old {
            p.stop(&self.routes);
        }
        let settings = lock(&self.settings).clone();
        let wanted = !self.is_pushing()
            && !settings.custom_video
            && (self.preview_shared.view.has_view() || settings.render_format.is_some());
        if wanted {
            let observer = lock(&self.observer).clone();
            let p =
                preview::Preview::start(&settings, observer, &self.routes, &self.preview_shared)?;
            *lock(&self.preview) = Some(p);
        }
        Ok(())
    }

    /// A setting the preview uses changed: a running preview restarts with it.
    fn preview_settings_changed(&self) -> LiveResult {
        if lock(&self.preview).is_some() {
            self.restart_preview()
        } else {
            Ok(())
        }
    }

    /// onair extension: the video encoder backend (default openh264 for H.264 and x265 for
    /// HEVC; `X264` is FFmpeg's libx264, high profile; `X265` FFmpeg's libx265; `Nvenc` /
    /// `Vaapi` / `Qsv` the hardware encoders of both codecs, at 16-pixel alignment; `Auto` the
    /// first that opens in that order of hardware, then the software encoders, with a warning
    /// naming the one used when it fell back). A software backend of the other codec stands
    /// for its counterpart (x264 <-> x265), with a warning. Opened by `start_push`: a backend
    /// that cannot open there fails it with NOT_SUPPORTED naming what is missing. REFUSED
    /// while pushing. [`list_video_encoders`](crate::list_video_encoders) says which open
    /// here.
    pub fn set_video_encoder_backend(
        &self,
        backend: onair_codec::VideoEncoderBackend,
    ) -> LiveResult {
        self.refuse_while_pushing("set_video_encoder_backend")?;
        lock(&self.settings).encoder_backend = backend;
        Ok(())
    }

    /// onair extension: the encoder backend the running push uses (`Auto` resolved), `None`
    /// when not pushing.
    pub fn video_encoder_backend_in_use(&self) -> Option<onair_codec::VideoEncoderBackend> {
        lock(&self.session)
            .as_ref()
            .map(|s| lock(&s.controls.in_use).0)
    }

    /// onair extension: the video codec (default H.264). HEVC goes out over Enhanced RTMP
    /// (FourCC `hvc1`) to a server whose connect reply announces `hvc1` in its `fourCcList`;
    /// to a server that does not (a legacy RTMP server such as nginx-rtmp), the push switches
    /// to H.264 at once and says so through `on_warning(ERROR_NOT_SUPPORTED, ..)`.
    /// `set_property("enableHevcEncode", "true")` is LiteAV's name for the same switch.
    /// REFUSED while pushing.
    pub fn set_video_codec(&self, codec: onair_core::VideoCodec) -> LiveResult {
        self.refuse_while_pushing("set_video_codec")?;
        lock(&self.settings).video_codec = codec;
        Ok(())
    }

    /// onair extension: the audio codec (default AAC). Opus (libopus in low-delay mode) goes
    /// out over Enhanced RTMP v2 (FourCC `Opus`) to a server whose connect reply announces
    /// `Opus` in its `fourCcList` (`onair serve` does); to a server that does not (nginx-rtmp,
    /// most CDNs) the push switches to AAC at once and says so through
    /// `on_warning(ERROR_NOT_SUPPORTED, ..)`. REFUSED while pushing.
    pub fn set_audio_codec(&self, codec: onair_core::AudioCodec) -> LiveResult {
        self.refuse_while_pushing("set_audio_codec")?;
        lock(&self.settings).audio_codec = codec;
        Ok(())
    }

    /// onair extension: Opus frame duration, 10 or 20 ms (default 20). 10 ms halves the
    /// wait for a full frame (lower latency) for a few kbit/s more framing overhead.
    /// INVALID_PARAMETER for other values; REFUSED while pushing.
    pub fn set_opus_frame_duration(&self, ms: u32) -> LiveResult {
        self.refuse_while_pushing("set_opus_frame_duration")?;
        if !onair_core::OPUS_FRAME_MS.contains(&ms) {
            return Err(crate::error::LiveError::new(
                V2TXLiveCode::ErrorInvalidParameter,
                format!("Opus frames of {ms} ms; 10 or 20 are offered"),
            ));
        }
        lock(&self.settings).opus_frame_ms = ms;
        Ok(())
    }

    /// onair extension: the audio codec the running push encodes now (AAC after a
    /// fallback), `None` when not pushing or pushing without audio.
    pub fn audio_codec_in_use(&self) -> Option<onair_core::AudioCodec> {
        lock(&self.session)
            .as_ref()
            .and_then(|s| *lock(&s.controls.audio_in_use))
    }

    /// onair extension: the codec the running push encodes now (H.264 after a fallback),
    /// `None` when not pushing.
    pub fn video_codec_in_use(&self) -> Option<onair_core::VideoCodec> {
        lock(&self.session)
            .as_ref()
            .map(|s| lock(&s.controls.in_use).1)
    }

    /// Custom video capture on or off (only before `start_push`).
    pub fn enable_custom_video_capture(&self, enable: bool) -> LiveResult {
        self.refuse_while_pushing("enable_custom_video_capture")?;
        lock(&self.settings).custom_video = enable;
        self.restart_preview()
    }

    /// Custom audio capture on or off (only before `start_push`).
    pub fn enable_custom_audio_capture(&self, enable: bool) -> LiveResult {
        self.refuse_while_pushing("enable_custom_audio_capture")?;
        lock(&self.settings).custom_audio = enable;
        Ok(())
    }

    /// Mirrors what viewers see (Enable) or not (Disable, Auto).
    pub fn set_encoder_mirror(&self, mirror: MirrorType) -> LiveResult {
        lock(&self.settings).mirror = mirror;
        if let Some(s) = lock(&self.session).as_ref() {
            s.controls
                .mirror
                .store(mirror == MirrorType::Enable, Ordering::Release);
        }
        Ok(())
    }

    /// Sends a custom video frame. REFUSED unless custom video capture is enabled and pushing;
    /// INVALID_PARAMETER for a frame whose length does not match its format and size.
    pub fn send_custom_video_frame(&self, frame: &V2TXLiveVideoFrame) -> LiveResult {
        if !lock(&self.settings).custom_video {
            return Err(LiveError::refused(
                "send_custom_video_frame needs enable_custom_video_capture(true) before start_push",
            ));
        }
        let frame = frame.validate()?;
        let session = lock(&self.session);
        let Some(tx) = session.as_ref().and_then(|s| s.video_in.as_ref()) else {
            return Err(LiveError::refused("not pushing: call start_push first"));
        };
        let _ = tx.send(frame);
        Ok(())
    }

    /// Sends custom PCM (s16le at the audio quality's rate and channels). REFUSED unless custom
    /// audio capture is enabled and pushing.
    pub fn send_custom_audio_frame(&self, frame: &V2TXLiveAudioFrame) -> LiveResult {
        let quality = {
            let s = lock(&self.settings);
            if !s.custom_audio {
                return Err(LiveError::refused("send_custom_audio_frame needs enable_custom_audio_capture(true) before start_push"));
            }
            s.audio
        };
        let pcm = frame.validate()?;
        if pcm.sample_rate() != quality.sample_rate() || pcm.channels() != quality.channels() {
            return Err(LiveError::invalid(format!(
                "audio is {} Hz x {}; the {quality} quality needs {} Hz x {}",
                pcm.sample_rate(),
                pcm.channels(),
                quality.sample_rate(),
                quality.channels()
            )));
        }
        let session = lock(&self.session);
        let Some(ring) = session.as_ref().and_then(|s| s.audio_in.as_ref()) else {
            return Err(LiveError::refused("not pushing: call start_push first"));
        };
        let samples: Vec<i16> = pcm.samples().collect();
        lock(ring).push(&samples);
        Ok(())
    }

    /// Sends silence instead of the captured audio, keeping timestamps continuous.
    pub fn pause_audio(&self) -> LiveResult {
        self.set_paused(true, true)
    }
    /// Resumes the captured audio.
    pub fn resume_audio(&self) -> LiveResult {
        self.set_paused(true, false)
    }
    /// Stops sending video frames (viewers keep the last picture).
    pub fn pause_video(&self) -> LiveResult {
        self.set_paused(false, true)
    }
    /// Resumes video (starting on a keyframe).
    pub fn resume_video(&self) -> LiveResult {
        self.set_paused(false, false)
    }

    fn set_paused(&self, audio: bool, paused: bool) -> LiveResult {
        let session = lock(&self.session);
        let s = session
            .as_ref()
            .ok_or_else(|| LiveError::refused("not pushing"))?;
        if audio {
            s.controls.audio_paused.store(paused, Ordering::Release);
        } else {
            s.controls.video_paused.store(paused, Ordering::Release);
            if !paused {
                s.controls.force_keyframe.store(true, Ordering::Release);
            }
        }
        Ok(())
    }

    /// Puts an SEI message (payload type 5 or 242) into the next video frame.
    pub fn send_sei_message(&self, payload_type: u32, data: &[u8]) -> LiveResult {
        if payload_type != 5 && payload_type != 242 {
            return Err(LiveError::invalid(format!(
                "SEI payload type {payload_type}; expected 5 or 242"
            )));
        }
        if data.is_empty() || data.len() > 64 * 1024 {
            return Err(LiveError::invalid(format!(
                "SEI payload of {} bytes; expected 1..=65536",
                data.len()
            )));
        }
        let session = lock(&self.session);
        let s = session
            .as_ref()
            .ok_or_else(|| LiveError::refused("send_sei_message while not pushing"))?;
        let mut q = lock(&s.controls.sei);
        if q.len() >= 64 {
            return Err(LiveError::refused(
                "too many SEI messages waiting for a video frame",
            ));
        }
        q.push(SeiMessage::app(payload_type, data));
        Ok(())
    }

    /// Places a watermark (PNG/JPEG with alpha) at `x`, `y` with a width of `scale` times the
    /// video width, all in 0..=1; `None` removes it. Works before and during a push.
    pub fn set_watermark(
        &self,
        image: Option<&std::path::Path>,
        x: f32,
        y: f32,
        scale: f32,
    ) -> LiveResult {
        let spec = image
            .map(|p| watermark::WatermarkSpec::load(p, x, y, scale))
            .transpose()?;
        if let Some(s) = lock(&self.session).as_ref() {
            let rendered = spec
                .as_ref()
                .and_then(|w| w.render(s.picture))
                .map(Arc::new);
            *lock(&s.controls.watermark) = rendered;
        }
        lock(&self.settings).watermark = spec;
        self.preview_settings_changed()
    }

    /// Reports the captured audio's volume (0..=100) every `interval_ms` through
    /// `on_microphone_volume_update`; `interval_ms <= 0` turns it off. INVALID_PARAMETER for
    /// 1..=99.
    pub fn enable_volume_evaluation(&self, interval_ms: i32) -> LiveResult {
        let ms = crate::error::volume_interval_ms(interval_ms)?;
        lock(&self.settings).volume_interval_ms = ms;
        if let Some(s) = lock(&self.session).as_ref() {
            s.controls.volume_interval_ms.store(ms, Ordering::Release);
        }
        Ok(())
    }

    /// Advanced settings by key (spec "set_property"): `setVideoQualityEx` (JSON `width`,
    /// `height`, `fps`, `bitrate`, `minBitrate`), `setMetaData` (a JSON object of extra
    /// onMetaData fields), `maxNumberOfReconnection`, `secondsBetweenReconnection`,
    /// `enableHevcEncode` (`true` / `1`: HEVC, see [`set_video_codec`](Self::set_video_codec)).
    /// NOT_SUPPORTED for other keys, INVALID_PARAMETER for bad values.
    pub fn set_property(&self, key: &str, value: &str) -> LiveResult {
        let json = || {
            serde_json::from_str::<serde_json::Value>(value)
                .map_err(|e| LiveError::invalid(format!("{key}: {e}")))
        };
        match key {
            "setVideoQualityEx" => {
                let v = json()?;
                let num = |k: &str, alt: &str| {
                    v.get(k)
                        .or_else(|| v.get(alt))
                        .and_then(serde_json::Value::as_u64)
                        .map(|n| n.min(u64::from(u32::MAX)) as u32)
                };
                let (Some(w), Some(h)) = (num("width", "width"), num("height", "height")) else {
                    return Err(LiveError::invalid(
                        "setVideoQualityEx needs width and height",
                    ));
                };
                let param = VideoEncoderParam::custom(
                    onair_core::Size::new(w, h),
                    num("fps", "fps").unwrap_or(15),
                    num("bitrate", "videoBitrate").unwrap_or(0),
                    num("minBitrate", "min_bitrate").unwrap_or(0),
                )?;
                self.set_video_quality(param)
            }
            "setMetaData" => {
                let serde_json::Value::Object(map) = json()? else {
                    return Err(LiveError::invalid("setMetaData takes a JSON object"));
                };
                let mut extra = Vec::new();
                for (k, v) in map {
                    let amf = match v {
                        serde_json::Value::String(s) => onair_flv::Amf0Value::Utf8String(s),
                        serde_json::Value::Bool(b) => onair_flv::Amf0Value::Boolean(b),
                        serde_json::Value::Number(n) => {
                            onair_flv::Amf0Value::Number(n.as_f64().unwrap_or(0.0))
                        }
                        other => {
                            return Err(LiveError::invalid(format!(
                                "setMetaData {k}: {other} is not a string, number or boolean"
                            )))
                        }
                    };
                    extra.push((k, amf));
                }
                lock(&self.settings).extra_metadata = extra;
                if let Some(s) = lock(&self.session).as_ref() {
                    pipeline::send_metadata(
                        &s.net,
                        &s.metadata,
                        &lock(&self.settings).extra_metadata,
                    );
                }
                Ok(())
            }
            "maxNumberOfReconnection" | "secondsBetweenReconnection" => {
                let n: u32 = value.trim().parse().map_err(|_| {
                    LiveError::invalid(format!("{key}: {value:?} is not a whole number"))
                })?;
                let mut policy = lock(&self.settings).reconnect;
                if key == "maxNumberOfReconnection" {
                    policy.attempts = n;
                } else {
                    policy.interval = std::time::Duration::from_secs(u64::from(n));
                }
                self.set_reconnect_policy(policy)
            }
            "enableHevcEncode" => {
                let on = match value.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => {
                        return Err(LiveError::invalid(format!(
                            "enableHevcEncode: {value:?} is not true / false / 1 / 0"
                        )))
                    }
                };
                self.set_video_codec(if on {
                    onair_core::VideoCodec::H265
                } else {
                    onair_core::VideoCodec::H264
                })
            }
            other => Err(LiveError::new(
                V2TXLiveCode::ErrorNotSupported,
                format!("unknown property {other:?}"),
            )),
        }
    }

    /// onair extension: the send queue's counters on the live connection (queued media,
    /// inter frames dropped under congestion, send rate), `None` when not connected.
    pub fn send_queue_stats(&self) -> Option<onair_rtmp::SendQueueStats> {
        lock(&self.session)
            .as_ref()
            .and_then(|s| s.net.queue_stats())
    }

    /// Takes a snapshot of the pushed picture; delivered through `on_snapshot_complete`.
    /// REFUSED unless pushing.
    pub fn snapshot(&self) -> LiveResult {
        let session = lock(&self.session);
        let s = session
            .as_ref()
            .ok_or_else(|| LiveError::refused("snapshot needs an active push"))?;
        s.controls.snapshot.store(true, Ordering::Release);
        Ok(())
    }

    /// Starts pushing to `url` (rtmp:// or rtmps://). Returns once connecting has started;
    /// progress arrives through the observer. INVALID_PARAMETER for a bad URL, REFUSED when
    /// already pushing.
    pub fn start_push(&self, url: &str) -> LiveResult {
        let parsed = StreamUrl::parse(url)?;
        if !parsed.is_rtmp() {
            return Err(LiveError::invalid(format!(
                "{url}: push URLs are rtmp:// or rtmps://"
            )));
        }
        let _ops = lock(&self.preview_ops);
        if self.is_pushing() {
            return Err(LiveError::refused("already pushing; call stop_push first"));
        }
        // The push's video thread shows the preview from now on.
        let preview = lock(&self.preview).take();
        if let Some(p) = preview {
            p.stop(&self.routes);
        }
        let mut slot = lock(&self.session);
        if slot.is_some() {
            return Err(LiveError::refused("already pushing; call stop_push first"));
        }
        let settings = lock(&self.settings).clone();
        let observer = lock(&self.observer).clone();
        let session =
            match pipeline::start(url, settings, observer, &self.routes, &self.preview_shared) {
                Ok(s) => s,
                Err(e) => {
                    drop(slot);
                    let _ = self.restart_preview_locked();
                    return Err(e);
                }
            };
        *lock(&self.gate) = Some(Arc::clone(&session.gate));
        *slot = Some(session);
        Ok(())
    }

    /// Records what this push sends into an MP4 (LiteAV `startLocalRecording`): no second
    /// encode, the encoded stream remuxed, fragmented so that a crash leaves a playable file,
    /// whether the server is reachable or not. Reports `on_local_record_begin` (its code also
    /// when refused), `on_local_recording` every `interval_ms`, `on_local_record_complete`.
    /// REFUSED unless pushing (and -6 while recording); INVALID_PARAMETER for a name without
    /// `.mp4` (-2) or an existing file (-7); FAILED otherwise (-8 no permission, -1).
    pub fn start_local_recording(&self, params: &LocalRecordingParams) -> LiveResult {
        crate::local_record::check_params(params)?;
        let session = lock(&self.session);
        let s = session
            .as_ref()
            .ok_or_else(|| LiveError::refused("start_local_recording needs an active push"))?;
        let path = params.file_path.display().to_string();
        let begin = |code| {
            s.events.emit(PusherEvent::Record(
                crate::local_record::RecordEvent::Begin(code, path.clone()),
            ))
        };
        if s.net.tap.is_recording() {
            let (code, e) = crate::local_record::refusal(
                crate::local_record::record_code::ALREADY_RECORDING,
                "a local recording is already running".into(),
            );
            begin(code);
            return Err(e);
        }
        let events = s.events.clone();
        match crate::local_record::LocalRecorder::start(params, move |e| {
            events.emit(PusherEvent::Record(e))
        }) {
            Ok(r) => {
                s.net.tap.install(r);
                begin(crate::local_record::record_code::OK);
                Ok(())
            }
            Err((code, e)) => {
                begin(code);
                Err(e)
            }
        }
    }

    /// Ends the local recording (`on_local_record_complete` follows); nothing to do when none
    /// runs. `stop_push` ends it too.
    pub fn stop_local_recording(&self) -> LiveResult {
        let session = lock(&self.session);
        let Some(s) = session.as_ref() else {
            return Ok(());
        };
        if let Some(r) = s.net.tap.take_recorder() {
            let path = r.path().display().to_string();
            if let Some(code) = r.stop() {
                s.events.emit(PusherEvent::Record(
                    crate::local_record::RecordEvent::Complete(code, path),
                ));
            }
        }
        Ok(())
    }

    /// Stops pushing: every thread is joined and the socket closed before this returns, and no
    /// callback arrives afterwards. Callable from any thread, inside any callback of this
    /// pusher included (the calling thread then ends on its own once its callback returns). A
    /// local recording ends first, its `on_local_record_complete` delivered on this thread.
    /// The local preview (a render view or custom render) is not the push: it goes on, with
    /// its own stop (`set_render_view(None)`, `enable_custom_video_render(false)`, drop).
    pub fn stop_push(&self) -> LiveResult {
        let gate = lock(&self.gate).clone();
        let session = lock(&self.session).take();
        match (session, gate) {
            (Some(s), _) => {
                if let Some(r) = s.net.tap.take_recorder() {
                    let path = r.path().display().to_string();
                    let observer = lock(&self.observer).clone();
                    if let (Some(code), Some(o)) = (r.stop(), observer) {
                        s.gate.deliver(|| o.on_local_record_complete(code, &path));
                    }
                }
                pipeline::stop(s, &self.routes);
                // The preview goes on without the push.
                if let Err(e) = self.restart_preview() {
                    tracing::warn!("the preview did not restart after the push: {e}");
                }
            }
            // Another thread is stopping this push: wait for the callbacks it waits for.
            (None, Some(gate)) => {
                gate.close();
                gate.finish(false);
            }
            (None, None) => {}
        }
        Ok(())
    }
}

impl Drop for V2TXLivePusher {
    fn drop(&mut self) {
        let _ = self.stop_push();
        if let Some(p) = lock(&self.preview).take() {
            p.stop(&self.routes);
        }
        let _ = self.stop_camera();
        let _ = self.stop_screen_capture();
        let _ = self.stop_microphone();
        let _ = self.stop_system_audio_loopback();
    }
}

/// An error of the facade for internal failures that have no better code.
pub(crate) fn failed(message: impl Into<String>) -> LiveError {
    LiveError::new(V2TXLiveCode::ErrorFailed, message)
}
