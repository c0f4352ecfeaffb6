//! Starting and stopping a push: the threads of the pipeline, each owning one stage, and the
//! orderly stop (sources, then encoders, then the network supervisor and its runtime, then the
//! callback thread, which delivers what is queued and ends).

use super::devices::Routes;
use super::net::{Net, Supervisor};
use super::observer::{PusherEvent, V2TXLivePusherObserver};
use super::process::Processor;
use super::{failed, Controls, Events, Session, Settings, VideoSource};
use crate::error::LiveResult;
use crate::session::{CallbackGate, Threads};
use bytes::Bytes;
use onair_codec::convert::{
    from_i420, to_encoder_i420, to_encoder_i420_fitted, AspectFit, RenderBuffers,
};
use onair_codec::flv_tags::{audio_start_tag, audio_tag, video_tags};
use onair_codec::{
    AacEncoder, AudioEncoder, EncoderOptions, OpusEncoder, TestPattern, Tone, VideoEncoder,
    VideoEncoderBackend,
};
use onair_core::channel::{
    audio_ring, video_channel, AudioRingConsumer, ReadOutcome, VideoReceiver, VideoSender,
};
use onair_core::{
    AudioFrame, AudioQuality, EncodeTarget, MirrorType, PixelFormat, Timestamp, VideoFrame,
};
use onair_flv::avcc::join_avcc;
use onair_flv::sei::{build_hevc_sei_nal, build_sei_nal};
use onair_flv::{FlvTag, OnMetaData, TagType};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The observer as the video thread calls it: every callback through the session's gate, so
/// none runs once a stop has begun (`on_gpu_context_destroyed`, a teardown, until it ends).
struct GatedObserver {
    inner: Option<Arc<dyn V2TXLivePusherObserver>>,
    gate: Arc<CallbackGate>,
}

impl V2TXLivePusherObserver for GatedObserver {
    fn on_gpu_context_created(&self, context: &Arc<onair_gpu::GpuContext>) {
        if let Some(o) = &self.inner {
            self.gate.deliver(|| o.on_gpu_context_created(context));
        }
    }
    fn on_gpu_context_destroyed(&self) {
        if let Some(o) = &self.inner {
            self.gate.deliver_teardown(|| o.on_gpu_context_destroyed());
        }
    }
    fn on_process_video_frame(&self, frame: super::ProcessVideoFrame<'_>) {
        if let Some(o) = &self.inner {
            self.gate.deliver(|| o.on_process_video_frame(frame));
        }
    }
    fn on_render_video_frame(&self, frame: &VideoFrame) {
        if let Some(o) = &self.inner {
            self.gate.deliver(|| o.on_render_video_frame(frame));
        }
    }
}

/// Reports a failure that repeats (an encoder failing frame after frame) once per episode: on
/// the first failure after a success.
#[derive(Debug, Default)]
struct Episode {
    failing: bool,
}

impl Episode {
    /// A failure; `true` when it begins an episode (warn now).
    fn fail(&mut self) -> bool {
        !std::mem::replace(&mut self.failing, true)
    }
    fn ok(&mut self) {
        self.failing = false;
    }
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Sleeps until `due` unless the push stops first (woken at once); `false` when stopped.
fn sleep_until(due: Instant, controls: &Controls) -> bool {
    controls.stop.sleep_until(due)
}

/// The encoder of the chosen backend for the chosen codec at the larger of the configured
/// alignment and the backend's; for `Auto`, the first that opens (the reasons the others did
/// not are logged). With the warning to give when what runs is not what was asked for (`Auto`
/// fell back past a backend, or a software backend stood in for the other codec's).
#[allow(clippy::type_complexity)]
fn open_encoder(
    s: &Settings,
) -> LiveResult<(Box<dyn VideoEncoder>, VideoEncoderBackend, Option<String>)> {
    let codec = s.video_codec;
    let wider =
        |a: onair_core::Alignment, b: onair_core::Alignment| if a.get() >= b.get() { a } else { b };
    let asked = s.encoder_backend;
    let candidates: Vec<VideoEncoderBackend> = match asked {
        VideoEncoderBackend::Auto => VideoEncoderBackend::PROBE_ORDER
            .into_iter()
            .filter(|b| b.supports(codec))
            .collect(),
        b => vec![b.for_codec(codec)],
    };
    let mut reasons = Vec::new();
    for b in candidates {
        let target = s.video.resolve(wider(s.alignment, b.alignment()));
        match onair_codec::open_video_encoder(b, codec, target, EncoderOptions::default()) {
            Ok((e, used)) => {
                if asked != VideoEncoderBackend::Auto && used != asked {
                    // openh264, the default, has no HEVC: x265 is the default there, quietly.
                    let m = format!("video encoder {asked} has no {codec}: using {used}");
                    tracing::info!("{m}");
                    let note = (asked != VideoEncoderBackend::OpenH264).then_some(m);
                    return Ok((e, used, note));
                }
                if reasons.is_empty() {
                    tracing::info!("video encoder: {used} ({codec})");
                    return Ok((e, used, None));
                }
                let m = format!(
                    "video encoder auto: using {used} for {codec}; {} ({})",
                    if used.is_hardware() {
                        "the hardware encoders before it did not open"
                    } else {
                        "no hardware encoder opened"
                    },
                    reasons.join("; ")
                );
                tracing::warn!("{m}");
                return Ok((e, used, Some(m)));
            }
            Err(e) if asked == VideoEncoderBackend::Auto => reasons.push(format!("{b}: {e}")),
            Err(e) => return Err(e.into()),
        }
    }
    Err(crate::error::LiveError::new(
        onair_core::V2TXLiveCode::ErrorNotSupported,
        format!("no {codec} video encoder opened: {}", reasons.join("; ")),
    ))
}

/// The H.264 encoder that replaces an HEVC one when the server takes no HEVC: the same
/// backend family (x265 -> x264, a hardware encoder's H.264), else openh264.
fn h264_fallback(
    running: VideoEncoderBackend,
    target: EncodeTarget,
) -> Result<(Box<dyn VideoEncoder>, VideoEncoderBackend), String> {
    let codec = onair_core::VideoCodec::H264;
    let first = running.for_codec(codec);
    onair_codec::open_video_encoder(first, codec, target, EncoderOptions::default())
        .map(|(e, _)| (e, first))
        .or_else(|e| {
            tracing::warn!("H.264 fallback: {first}: {e}; trying openh264");
            onair_codec::open_video_encoder(
                VideoEncoderBackend::OpenH264,
                codec,
                target,
                EncoderOptions::default(),
            )
            .map(|(e, _)| (e, VideoEncoderBackend::OpenH264))
        })
        .map_err(|e| e.to_string())
}

pub(super) fn start(
    url: &str,
    s: Settings,
    observer: Option<Arc<dyn V2TXLivePusherObserver>>,
    routes: &Arc<Routes>,
    preview: &Arc<super::preview::PreviewShared>,
) -> LiveResult<Session> {
    let (encoder, encoder_backend, encoder_note) = open_encoder(&s)?;
    let target = encoder.target();
    let codec = encoder.codec();
    let audio_encoder = if s.audio_enabled {
        Some(open_audio_encoder(s.audio_codec, s.audio, s.opus_frame_ms)?)
    } else {
        None
    };
    let controls = Arc::new(Controls::default());
    controls
        .mirror
        .store(s.mirror == MirrorType::Enable, Ordering::Release);
    controls
        .volume_interval_ms
        .store(s.volume_interval_ms, Ordering::Release);
    *lock(&controls.render_format) = s.render_format;
    *lock(&controls.in_use) = (encoder_backend, codec);
    *lock(&controls.audio_in_use) = s.audio_enabled.then_some(s.audio_codec);
    *controls
        .watermark
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = s
        .watermark
        .as_ref()
        .and_then(|w| w.render(target.picture))
        .map(Arc::new);
    controls
        .target_kbps
        .store(target.bitrate_kbps, Ordering::Release);
    controls
        .requested_kbps
        .store(target.bitrate_kbps, Ordering::Release);

    let gate = Arc::new(CallbackGate::default());
    let hook = s.process.clone();
    let gated = Arc::new(GatedObserver {
        inner: observer.clone(),
        gate: Arc::clone(&gate),
    });
    let (events, callback_side, callbacks_stop) = crate::session::lanes::<PusherEvent>();
    if let Some(m) = encoder_note {
        // What was asked for (a hardware encoder, by `Auto`) is not what runs.
        events.emit(PusherEvent::Warning(
            onair_core::V2TXLiveCode::ErrorNotSupported,
            m,
            String::new(),
        ));
    }
    let mut callbacks = Threads::default();
    {
        let gate = Arc::clone(&gate);
        callbacks.spawn("onair-push-callbacks", move || {
            callback_side.run(&gate, |e| {
                if let Some(o) = &observer {
                    e.deliver(o.as_ref());
                }
            });
        })?;
    }

    let net = Arc::new(Net::default());
    let metadata = OnMetaData {
        width: Some(f64::from(target.size.width)),
        height: Some(f64::from(target.size.height)),
        framerate: Some(f64::from(target.fps)),
        videodatarate: Some(f64::from(target.bitrate_kbps)),
        videocodecid: Some(videocodecid(codec)),
        audiodatarate: s.audio_enabled.then(|| f64::from(s.audio.bitrate_kbps())),
        audiosamplerate: s.audio_enabled.then(|| f64::from(s.audio.sample_rate())),
        audiosamplesize: s.audio_enabled.then_some(16.0),
        stereo: s.audio_enabled.then(|| s.audio.channels() == 2),
        audiocodecid: s.audio_enabled.then(|| audiocodecid(s.audio_codec)),
        duration: Some(0.0),
        encoder: Some(format!("onair {}", env!("CARGO_PKG_VERSION"))),
    };
    send_metadata(&net, &metadata, &s.extra_metadata);
    // Both sequence headers go out before any frame: the audio one here, before the threads
    // start, the video one with the first keyframe. A server that opens a recording or an
    // HLS segment at the first keyframe then already knows the stream has sound.
    if let Some(a) = &audio_encoder {
        net.send(audio_start_tag(&a.decoder_config(), 0));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("onair-push-net")
        .enable_all()
        .build()
        .map_err(|e| failed(format!("cannot start the network runtime: {e}")))?;
    let supervisor = runtime.spawn(
        Supervisor {
            url: url.to_string(),
            transport: s.transport.clone(),
            queue: s.queue,
            reconnect: s.reconnect,
            net: Arc::clone(&net),
            controls: Arc::clone(&controls),
            events: events.clone(),
            bitrate: (target.bitrate_kbps, target.min_bitrate_kbps),
            codec,
            audio_codec: s.audio_enabled.then_some(s.audio_codec),
            preview: Arc::clone(preview),
        }
        .run(),
    );

    let clock = Instant::now();
    let mut threads = Threads::default();
    let (video_tx, video_rx) = video_channel(3);
    let video_tx = Arc::new(video_tx);
    *lock(&routes.events) = Some(events.clone());
    let video_in = if s.custom_video {
        Some(video_tx)
    } else {
        *lock(&routes.video) = Some(Arc::clone(&video_tx));
        let (c, e, r) = (Arc::clone(&controls), events.clone(), Arc::clone(routes));
        let source = s.source.clone();
        threads.spawn("onair-push-source", move || {
            video_source(source, target, &video_tx, &c, &e, &r, clock)
        })?;
        None
    };
    {
        let (c, e, n) = (Arc::clone(&controls), events.clone(), Arc::clone(&net));
        let r = Arc::clone(routes);
        let preview = Arc::clone(preview);
        threads.spawn("onair-push-video", move || {
            // The hook's GPU lifecycle callbacks run here, around the frames.
            let observer = gated.as_ref();
            let mut processor = hook.as_ref().map(|mode| Processor::start(mode, observer));
            video_encode(
                encoder,
                target,
                video_rx,
                &c,
                &e,
                &n,
                &r,
                clock,
                &mut processor,
                observer,
                &preview,
            );
            if let Some(p) = processor {
                p.end(observer);
            }
        })?;
    }
    let mut audio_in = None;
    if let Some(audio_encoder) = audio_encoder {
        // The sources hand over blocks of one Opus frame (10 or 20 ms) or of 20 ms for AAC,
        // so a frame is encoded as soon as its last sample is captured.
        let block_ms = match s.audio_codec {
            onair_core::AudioCodec::Opus => s.opus_frame_ms,
            _ => 20,
        };
        let capacity = (s.audio.sample_rate() as usize * s.audio.channels() as usize) / 2; // 500 ms
        let (producer, consumer) = audio_ring(capacity);
        if s.custom_audio {
            audio_in = Some(Mutex::new(producer));
        } else {
            *lock(&routes.audio) = Some(producer);
            let (c, r) = (Arc::clone(&controls), Arc::clone(routes));
            let tone = s.source == VideoSource::TestPattern;
            let quality = s.audio;
            threads.spawn("onair-push-tone", move || {
                audio_source(quality, block_ms, tone, &r, &c)
            })?;
        }
        let (c, e, n) = (Arc::clone(&controls), events.clone(), Arc::clone(&net));
        let quality = s.audio;
        threads.spawn("onair-push-audio", move || {
            audio_encode(
                audio_encoder,
                quality,
                block_ms,
                consumer,
                &c,
                &e,
                &n,
                clock,
            )
        })?;
    }
    Ok(Session {
        controls,
        net,
        picture: target.picture,
        metadata,
        gate,
        threads,
        callbacks,
        callbacks_stop,
        events,
        video_in,
        audio_in,
        runtime,
        supervisor,
    })
}

/// The audio encoder for `codec`.
fn open_audio_encoder(
    codec: onair_core::AudioCodec,
    quality: AudioQuality,
    opus_frame_ms: u32,
) -> LiveResult<Box<dyn AudioEncoder>> {
    Ok(match codec {
        onair_core::AudioCodec::Opus => Box::new(OpusEncoder::new(quality, opus_frame_ms)?),
        _ => Box::new(AacEncoder::new(quality)?),
    })
}

/// onMetaData's `audiocodecid`: FLV's 10 for AAC; Opus's FourCC as a number, as FFmpeg
/// writes it.
pub(super) fn audiocodecid(codec: onair_core::AudioCodec) -> f64 {
    match codec {
        onair_core::AudioCodec::Opus => f64::from(u32::from_be_bytes(codec.fourcc())),
        _ => 10.0,
    }
}

/// onMetaData's `videocodecid`: FLV's 7 for H.264; for the Enhanced RTMP codecs their FourCC as
/// a number, as FFmpeg and OBS write it.
pub(super) fn videocodecid(codec: onair_core::VideoCodec) -> f64 {
    match codec {
        onair_core::VideoCodec::H264 => 7.0,
        c => f64::from(u32::from_be_bytes(c.fourcc())),
    }
}

/// Sends onMetaData (the engine's fields plus the app's setMetaData fields); the network side
/// caches it and sends it again after a reconnect.
pub(super) fn send_metadata(
    net: &Net,
    metadata: &OnMetaData,
    extra: &[(String, onair_flv::Amf0Value)],
) {
    let Ok(body) = metadata.to_script() else {
        return;
    };
    let body = match onair_flv::ScriptData::parse(&body) {
        Ok(mut script) if !extra.is_empty() => {
            if let Some(onair_flv::Amf0Value::Object(map)) = script.values.first_mut() {
                for (k, v) in extra {
                    map.insert(k.clone(), v.clone());
                }
            }
            script.encode().unwrap_or(body)
        }
        _ => body,
    };
    net.send(FlvTag::new(TagType::Script, 0, body));
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Stops a push, from any thread: the gate closes first (no callback starts; those running on
/// other threads are waited for), then the stop signal wakes every thread, the threads are
/// joined (the caller's own, when stop runs inside one of its callbacks, ends by itself), the
/// network task closes the connection, and the callback thread ends last.
pub(super) fn stop(s: Session, routes: &Routes) {
    // Capture devices keep running; their frames stop reaching this push first.
    lock(&routes.video).take();
    lock(&routes.audio).take();
    lock(&routes.events).take();
    let Session {
        controls,
        net: _,
        picture: _,
        metadata: _,
        gate,
        threads,
        callbacks,
        callbacks_stop,
        events,
        video_in,
        audio_in,
        runtime,
        supervisor,
    } = s;
    controls.stop.stop();
    gate.close();
    drop(video_in);
    drop(audio_in);
    threads.join();
    // A stop during the encoder's first frame leaves no capture waiting for it.
    routes
        .video_encoder_starting
        .store(false, Ordering::Release);
    // The supervisor closes the connection (deleteStream, socket shutdown) and returns; the
    // runtime is shut down on a helper thread, so stop_push may be called from async code too.
    let _ = thread::spawn(move || {
        let _ = runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(3), supervisor).await });
        runtime.shutdown_timeout(Duration::from_secs(1));
    })
    .join();
    gate.finish(true);
    drop(events);
    drop(callbacks_stop);
    callbacks.join();
}

pub(super) fn video_source(
    source: VideoSource,
    target: EncodeTarget,
    tx: &VideoSender,
    controls: &Controls,
    events: &Events,
    routes: &Routes,
    clock: Instant,
) {
    let interval = Duration::from_micros(1_000_000 / u64::from(target.fps.max(1)));
    let still = match &source {
        VideoSource::Image(path) => match load_still(path, target) {
            Ok(f) => Some(f),
            Err(e) => {
                events.emit(PusherEvent::Warning(
                    onair_core::V2TXLiveCode::WarningCameraStartFailed,
                    e,
                    String::new(),
                ));
                return;
            }
        },
        _ => None,
    };
    // Made on the first picture it draws: a push from the screen or a camera never needs it
    // (its background is a whole I420 picture, 3 MiB at 1080p).
    let mut pattern: Option<TestPattern> = None;
    let mut n: u64 = 0;
    let start = Instant::now();
    loop {
        if !sleep_until(start + interval * n as u32, controls) {
            return;
        }
        n += 1;
        if routes.camera_on() {
            continue; // the camera is the video source now
        }
        let pts = Timestamp::from(clock.elapsed());
        let frame = match &still {
            Some(f) => f.clone().with_timestamp(pts),
            None => pattern
                .get_or_insert_with(|| {
                    TestPattern::new(target.picture.width, target.picture.height)
                })
                .frame((n - 1) as u32, wall_ms(), pts, false),
        };
        if tx.send(frame).is_err() {
            return;
        }
    }
}

fn load_still(path: &std::path::Path, target: EncodeTarget) -> Result<VideoFrame, String> {
    let img = image::open(path)
        .map_err(|e| format!("virtual camera: cannot read {}: {e}", path.display()))?
        .to_rgba8();
    let (w, h) = img.dimensions();
    let rgba = VideoFrame::new(PixelFormat::Rgba32, w, h, Bytes::from(img.into_raw()))
        .map_err(|e| e.to_string())?;
    // Convert once; every frame then shares these bytes.
    to_encoder_i420(&rgba, target.picture, target.picture, false).map_err(|e| e.to_string())
}

// The encoder stage owns many parts (encoder, channel, controls, events, network, clock, hook);
// bundling them into a struct would only rename the argument list.
#[allow(clippy::too_many_arguments)]
fn video_encode(
    mut encoder: Box<dyn VideoEncoder>,
    target: EncodeTarget,
    rx: VideoReceiver,
    controls: &Controls,
    events: &Events,
    net: &Net,
    routes: &Routes,
    clock: Instant,
    processor: &mut Option<Processor>,
    observer: &dyn V2TXLivePusherObserver,
    preview: &super::preview::PreviewShared,
) {
    let mut first = true;
    let mut process_warned = false;
    let mut bitrate = target.bitrate_kbps;
    let (mut convert_failing, mut encode_failing) = (Episode::default(), Episode::default());
    // Timestamps sit on the configured frame grid: the nearest slot to the arrival time. A
    // frame for a slot already used arrived faster than the frame rate and is skipped.
    let slot_us = 1_000_000 / u64::from(target.fps.max(1));
    let mut last_slot: Option<u64> = None;
    let mut render_buffers = RenderBuffers::default();
    loop {
        if !first {
            // Back for the next frame: done with the first (the encoder is open).
            routes
                .video_encoder_starting
                .store(false, Ordering::Release);
        }
        // Ends when every sender is gone: the stop drops them all.
        let Some(frame) = rx.recv() else {
            return;
        };
        if controls.stopped() {
            return;
        }
        if first {
            first = false;
            routes.video_encoder_starting.store(true, Ordering::Release);
            events.emit(PusherEvent::FirstVideoFrame);
        }
        if controls.video_paused.load(Ordering::Acquire) {
            continue;
        }
        let elapsed_us = clock.elapsed().as_micros() as u64;
        let slot = (elapsed_us + slot_us / 2) / slot_us;
        if last_slot.is_some_and(|l| slot <= l) {
            continue;
        }
        last_slot = Some(slot);
        let frame = frame.with_timestamp(Timestamp::from_micros(slot * slot_us));
        let mirror = controls.mirror.load(Ordering::Acquire);
        // Screen and window captures keep their aspect on black bars (LiteAV letterboxes
        // them); camera frames fill the picture.
        let screen = routes.screen_on.load(Ordering::Acquire);
        let fit = if screen {
            AspectFit::Letterbox
        } else {
            AspectFit::Stretch
        };
        let i420 = match to_encoder_i420_fitted(&frame, target.picture, target.size, mirror, fit) {
            Ok(f) => {
                convert_failing.ok();
                f
            }
            Err(e) => {
                if convert_failing.fail() {
                    events.emit(PusherEvent::Warning(
                        onair_core::V2TXLiveCode::ErrorInvalidParameter,
                        format!("frame dropped: {e}"),
                        String::new(),
                    ));
                }
                continue;
            }
        };
        let i420 = match processor.as_mut().map(|p| p.process(&i420, observer)) {
            None => i420,
            Some(Ok(processed)) => processed,
            Some(Err(e)) => {
                if !process_warned {
                    process_warned = true;
                    events.emit(PusherEvent::Warning(
                        onair_core::V2TXLiveCode::ErrorInvalidParameter,
                        format!("custom process: {e}; the frame went out unprocessed"),
                        String::new(),
                    ));
                }
                i420
            }
        };
        let watermark = controls
            .watermark
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let i420 = match watermark {
            Some(w) => w.apply(&i420),
            None => i420,
        };
        let camera = routes.camera_on.load(Ordering::Acquire) && !screen;
        preview.show(&i420, camera, mirror, true);
        let render_format = *controls
            .render_format
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(format) = render_format {
            let shown = render_buffers.convert(&i420, format);
            if let Ok(f) = shown {
                observer.on_render_video_frame(&f);
            }
        }
        if controls.snapshot.swap(false, Ordering::AcqRel) {
            events.emit(PusherEvent::Snapshot(
                from_i420(&i420, PixelFormat::Rgba32).ok(),
            ));
        }
        let want = controls.target_kbps.load(Ordering::Acquire);
        if want != bitrate && want > 0 && encoder.set_bitrate_kbps(want).is_ok() {
            bitrate = want;
        }
        if encoder.codec() == onair_core::VideoCodec::H265
            && controls.hevc_refused.load(Ordering::Acquire)
        {
            let running = lock(&controls.in_use).0;
            match h264_fallback(running, encoder.target()) {
                Ok((e, used)) => {
                    tracing::info!("HEVC refused by the server: encoding H.264 with {used}");
                    encoder = e; // its first frame is an IDR with its parameter sets
                    *lock(&controls.in_use) = (used, onair_core::VideoCodec::H264);
                }
                Err(e) => {
                    if encode_failing.fail() {
                        events.emit(PusherEvent::Warning(
                            onair_core::V2TXLiveCode::ErrorNotSupported,
                            format!("the server takes no HEVC and no H.264 encoder opened: {e}"),
                            String::new(),
                        ));
                    }
                    continue;
                }
            }
        }
        if controls.force_keyframe.swap(false, Ordering::AcqRel) {
            encoder.force_keyframe();
        }
        net.note_encoded_size(i420.width(), i420.height());
        let mut encoded = match encoder.encode(&i420) {
            Ok(Some(e)) => {
                encode_failing.ok();
                e
            }
            Ok(None) => continue, // skipped by the encoder's rate control
            Err(e) => {
                tracing::warn!("video encode: {e}");
                if encode_failing.fail() {
                    events.emit(PusherEvent::Warning(
                        onair_core::V2TXLiveCode::ErrorFailed,
                        format!("video encoder failed: {e}; frames are dropped until it recovers"),
                        String::new(),
                    ));
                }
                continue;
            }
        };
        let sei: Vec<_> = std::mem::take(
            &mut *controls
                .sei
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if !sei.is_empty() {
            let nal = match encoded.codec {
                onair_core::VideoCodec::H264 => build_sei_nal(&sei),
                _ => build_hevc_sei_nal(&sei),
            };
            let mut avcc = join_avcc([&nal[..]]).to_vec();
            avcc.extend_from_slice(&encoded.avcc);
            encoded.avcc = Bytes::from(avcc);
        }
        for t in video_tags(&encoded) {
            net.send(t);
        }
    }
}

fn audio_source(
    quality: AudioQuality,
    block_ms: u32,
    tone: bool,
    routes: &Routes,
    controls: &Controls,
) {
    let per = (quality.sample_rate() * block_ms / 1000) as usize;
    let mut gen = Tone::new(1000.0, quality.sample_rate(), quality.channels());
    let silence = vec![0i16; per * quality.channels() as usize];
    let start = Instant::now();
    let mut n: u32 = 0;
    let block = per * quality.channels() as usize;
    // Like a microphone, each block is handed over when its span has passed.
    while sleep_until(
        start + Duration::from_millis(u64::from(block_ms)) * (n + 1),
        controls,
    ) {
        n += 1;
        let loopback = routes.loopback_on.load(Ordering::Acquire);
        if routes.microphone_on() && !loopback {
            continue; // the microphone fills the ring now
        }
        let other = if routes.microphone_on() {
            lock(&routes.microphone_queue).take(block)
        } else if tone {
            gen.next_samples(per)
        } else {
            silence.clone()
        };
        let mixed = if loopback {
            let lb = lock(&routes.loopback_queue).take(block);
            super::audio_mix::mix(&lb, routes.loopback_volume.load(Ordering::Acquire), &other)
        } else {
            lock(&routes.microphone_queue).clear();
            lock(&routes.loopback_queue).clear();
            other
        };
        if let Some(p) = lock(&routes.audio).as_mut() {
            p.push(&mixed);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn audio_encode(
    mut encoder: Box<dyn AudioEncoder>,
    quality: AudioQuality,
    block_ms: u32,
    mut consumer: AudioRingConsumer,
    controls: &Controls,
    events: &Events,
    net: &Net,
    clock: Instant,
) {
    let (rate, ch) = (quality.sample_rate(), quality.channels());
    let mut buf = vec![0i16; (rate * block_ms / 1000) as usize * ch as usize];
    let mut opus = encoder.decoder_config().codec() == onair_core::AudioCodec::Opus;
    let mut origin: Option<Duration> = None;
    let mut samples: u64 = 0;
    // Volume evaluation: RMS of the captured audio over each interval.
    let (mut energy, mut counted, mut last_report) = (0f64, 0u64, Instant::now());
    let mut encode_failing = Episode::default();
    loop {
        match consumer.read_timeout(&mut buf, Duration::from_millis(100)) {
            ReadOutcome::Filled => {}
            ReadOutcome::Pending if !controls.stopped() => continue,
            _ => return,
        }
        if controls.stopped() {
            return;
        }
        // A block is handed over once its last sample is captured: its first sample was
        // captured one block earlier.
        let origin = *origin.get_or_insert_with(|| {
            events.emit(PusherEvent::FirstAudioFrame);
            clock
                .elapsed()
                .saturating_sub(Duration::from_millis(u64::from(block_ms)))
        });
        let interval = controls.volume_interval_ms.load(Ordering::Acquire);
        if interval > 0 {
            energy += buf
                .iter()
                .map(|&x| f64::from(x) * f64::from(x))
                .sum::<f64>();
            counted += buf.len() as u64;
            if last_report.elapsed() >= Duration::from_millis(u64::from(interval)) {
                let rms = (energy / counted.max(1) as f64).sqrt() / 32768.0;
                // -60 dBFS and below is 0, full scale is 100.
                let db = 20.0 * rms.max(1e-9).log10();
                let volume = ((db + 60.0) / 60.0 * 100.0).clamp(0.0, 100.0).round() as u32;
                events.emit(PusherEvent::Volume(volume));
                (energy, counted, last_report) = (0.0, 0, Instant::now());
            }
        }
        if controls.audio_paused.load(Ordering::Acquire) {
            buf.fill(0);
        }
        let pts = Timestamp::from(origin) + Timestamp::from_samples(samples, rate).as_duration();
        samples += (buf.len() / ch as usize) as u64;
        let Ok(frame) = AudioFrame::from_samples(&buf, rate, ch) else {
            continue;
        };
        if opus && controls.opus_refused.load(Ordering::Acquire) {
            match AacEncoder::new(quality) {
                Ok(aac) => {
                    tracing::info!("Opus refused by the server: encoding AAC");
                    net.send(audio_start_tag(&aac.decoder_config(), pts.as_flv_millis()));
                    encoder = Box::new(aac);
                    opus = false;
                    *lock(&controls.audio_in_use) = Some(onair_core::AudioCodec::Aac);
                }
                Err(e) => {
                    if encode_failing.fail() {
                        events.emit(PusherEvent::Warning(
                            onair_core::V2TXLiveCode::ErrorFailed,
                            format!("the server takes no Opus and no AAC encoder opened: {e}"),
                            String::new(),
                        ));
                    }
                    continue;
                }
            }
        }
        match encoder.encode(&frame.with_timestamp(pts)) {
            Ok(packets) => {
                encode_failing.ok();
                for p in &packets {
                    net.send(audio_tag(p));
                }
            }
            Err(e) => {
                tracing::warn!("audio encode: {e}");
                if encode_failing.fail() {
                    events.emit(PusherEvent::Warning(
                        onair_core::V2TXLiveCode::ErrorFailed,
                        format!("audio encoder failed: {e}; audio is dropped until it recovers"),
                        String::new(),
                    ));
                }
            }
        }
    }
}
