//! The player's media thread: takes due packets from the jitter buffer, decodes video (H.264,
//! HEVC, AV1, VP9) and audio (AAC, Opus), and plays both against the buffer's clock: a picture is shown when its pts is reached (when
//! several are due at once only the newest is shown, the rest count as dropped), audio goes
//! out in 20 ms frames when their time comes. It also watches for stalls (loading, VIDEO_BLOCK
//! after 800 ms without a picture), takes snapshots, delivers SEI and reports statistics every
//! 2 s.

use super::audio_out::AudioOut;
use super::jitter::{Packet, Payload};
use super::observer::{PlayerEvent, V2TXLivePlayerObserver};
use super::{lock, Shared, V2TXLivePlayer};
use crate::control::stall::{StallEvent, StallWatch};
use crate::cpu::CpuSample;
use onair_codec::{open_audio_decoder, AudioDecoder, FfmpegVideoDecoder};
use onair_core::{AudioFrame, PixelFormat, PlayerStatistics, Timestamp, V2TXLiveCode, VideoFrame};
use onair_flv::avcc::{nal_unit_type, split_avcc};
use onair_flv::sei::{parse_hevc_sei_nal, parse_sei_nal};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How far ahead of the clock video is decoded.
const VIDEO_LEAD_US: i64 = 100_000;
/// No sound for this long: audio loading.
const AUDIO_LOADING_AFTER: Duration = Duration::from_millis(300);
/// Decoded pictures held at most (a stream whose timestamps run ahead of its pictures).
const MAX_READY: usize = 16;

/// Counters the statistics read.
#[derive(Debug, Default)]
struct Counts {
    rendered: u64,
    stale: u64,
}

#[derive(Debug)]
struct VideoState {
    decoder: Option<FfmpegVideoDecoder>,
    config: Option<super::jitter::VideoConfig>,
    ready: VecDeque<VideoFrame>,
    size: Option<(u32, u32)>,
    watch: StallWatch,
    max_fed_dts: i64,
    lag_us: f64,
    interval_us: i64,
    last_pts: Option<i64>,
    /// A decode failure was reported and no decode has succeeded since (one warning per
    /// failure episode).
    errors_reported: bool,
}

#[derive(Debug)]
struct AudioState {
    decoder: Option<Box<dyn AudioDecoder>>,
    /// Decoded samples not yet played, interleaved, and the time of the first one.
    fifo: Vec<i16>,
    fifo_ts: i64,
    rate: u32,
    channels: u16,
    watch: StallWatch,
    out: Option<AudioOut>,
    out_failed: bool,
    energy: f64,
    counted: u64,
    last_volume: Instant,
    /// A decode failure was reported and no decode has succeeded since (one warning per
    /// failure episode).
    errors_reported: bool,
}

impl AudioState {
    /// Interleaved samples in one 20 ms playout frame (0 before the first decoded audio).
    fn frame_len(&self) -> usize {
        (self.rate / 50) as usize * self.channels as usize
    }
}

struct Media<'a> {
    shared: &'a Shared,
    observer: Option<&'a dyn V2TXLivePlayerObserver>,
    player: &'a V2TXLivePlayer,
    video: VideoState,
    audio: AudioState,
    counts: Counts,
    video_was_paused: bool,
    /// Texture delivery: the converter on the context chosen by `enable_observe_video_frame`.
    gpu: Option<onair_gpu::FrameConverter>,
    /// Buffers for pictures converted for the app's render callback, reused once it drops them.
    render_buffers: onair_codec::convert::RenderBuffers,
}

pub(crate) fn run(
    shared: &Shared,
    observer: Option<&dyn V2TXLivePlayerObserver>,
    player: &V2TXLivePlayer,
) {
    let mut m = Media {
        shared,
        observer,
        player,
        video: VideoState {
            decoder: None,
            config: None,
            ready: VecDeque::new(),
            size: None,
            watch: StallWatch::video(Duration::from_millis(300)),
            max_fed_dts: i64::MIN,
            lag_us: 0.0,
            interval_us: 40_000,
            last_pts: None,
            errors_reported: false,
        },
        audio: AudioState {
            decoder: None,
            fifo: Vec::new(),
            fifo_ts: 0,
            rate: 0,
            channels: 0,
            watch: StallWatch::audio(AUDIO_LOADING_AFTER),
            out: None,
            out_failed: false,
            energy: 0.0,
            counted: 0,
            last_volume: Instant::now(),
            errors_reported: false,
        },
        counts: Counts::default(),
        video_was_paused: false,
        gpu: None,
        render_buffers: onair_codec::convert::RenderBuffers::default(),
    };
    let mut stats = StatsWindow::new(shared);
    while !shared.stopped() {
        let now = Instant::now();
        let controls = &shared.controls;
        let video_paused = controls.video_paused.load(Ordering::Acquire);
        let audio_paused = controls.audio_paused.load(Ordering::Acquire);
        let (video, audio, pos) = {
            let mut b = shared.buffer();
            b.set_video_lag(m.video.lag_us as i64);
            if video_paused {
                b.keep_last_gop();
            }
            if audio_paused {
                b.drop_audio();
            }
            b.update(now);
            let video = if video_paused {
                Vec::new()
            } else {
                b.take_video(now, VIDEO_LEAD_US)
            };
            let audio = if audio_paused {
                Vec::new()
            } else {
                b.take_audio(now, 0)
            };
            (video, audio, b.position(now))
        };
        if video_paused != m.video_was_paused {
            // Resume: the picture restarts at the live edge; a pause is not a stall.
            m.video.ready.clear();
            m.video.watch.reset();
            m.video_was_paused = video_paused;
        }
        for p in video {
            m.feed_video(p);
        }
        for p in audio {
            m.feed_audio(p);
        }
        if audio_paused {
            m.audio.fifo.clear();
        }
        if let Some(pos) = pos {
            m.render_due(pos);
            m.play_audio_due(pos);
        }
        m.watch_stalls(video_paused, audio_paused);
        if let Some(s) = stats.tick(&m) {
            controls
                .view
                .set_debug_text(crate::render::player_text(&s, m.counts.stale));
            shared.emit(PlayerEvent::Statistics(s));
        }
        // Sleep until the next thing falls due (a picture, an audio frame, a packet's time, a
        // stall threshold, the statistics) or a packet or a control change wakes us.
        let b = shared.buffer();
        let now = Instant::now();
        let mut wake = stats.due();
        for t in [m.video.watch.next_deadline(), m.audio.watch.next_deadline()]
            .into_iter()
            .flatten()
        {
            wake = wake.min(t);
        }
        if let Some(pos) = b.position(now).filter(|_| !b.is_underrun()) {
            let at = |t: i64| now + Duration::from_micros((t - pos).max(0) as u64);
            if let Some(f) = m.video.ready.front() {
                wake = wake.min(at(f.timestamp().as_micros() as i64));
            }
            // A partial 20 ms frame waits for more audio, not for the clock.
            let per = m.audio.frame_len();
            if per > 0 && m.audio.fifo.len() >= per {
                wake = wake.min(at(m.audio.fifo_ts));
            }
        }
        let (video_lead, audio_lead) = (
            if video_paused {
                i64::MIN / 2
            } else {
                VIDEO_LEAD_US
            },
            0,
        );
        if let Some(t) = b.next_due(now, video_lead, audio_lead) {
            wake = wake.min(t);
        }
        let wait = wake.saturating_duration_since(now);
        if !wait.is_zero() && !shared.stopped() {
            let _ = shared.wake.wait_timeout(b, wait);
        }
    }
}

impl Media<'_> {
    fn emit(&self, e: PlayerEvent) {
        self.shared.emit(e);
    }

    fn feed_video(&mut self, p: Packet) {
        let (keyframe, cts, data) = match p.payload {
            Payload::VideoConfig(c) => {
                if self.video.config.as_ref() != Some(&c) {
                    // A new configuration (or codec, or stream after `switch_stream`): the
                    // pictures the old decoder still holds are shown first, and the next
                    // picture starts a new decoder.
                    if let Some(mut old) = self.video.decoder.take() {
                        match old.flush() {
                            Ok(frames) => frames.into_iter().for_each(|f| self.keep_ready(f)),
                            Err(e) => tracing::debug!("flushing the old video decoder: {e}"),
                        }
                    }
                    self.video.config = Some(c);
                }
                return;
            }
            Payload::Video {
                keyframe,
                cts,
                data,
            } => (keyframe, cts, data),
            _ => return,
        };
        let Some(config) = &self.video.config else {
            return; // no sequence header yet
        };
        let sei_type = self.shared.controls.sei_type.load(Ordering::Acquire);
        if let (Some(length_size), true) = (config.nal_length, sei_type != 0) {
            let hevc = config.fourcc == onair_flv::enhanced::FOURCC_HEVC;
            self.deliver_sei(&data, length_size, hevc, sei_type);
        }
        if self.video.decoder.is_none() {
            match FfmpegVideoDecoder::new(config.fourcc, &config.record) {
                Ok(d) => self.video.decoder = Some(d),
                Err(e) => {
                    self.report_video_error(e.to_string());
                    return;
                }
            }
        }
        let Some(decoder) = &mut self.video.decoder else {
            return;
        };
        let dts = p.dts.max(0) as u64;
        let pts = (p.dts + cts).max(0) as u64;
        self.video.max_fed_dts = self.video.max_fed_dts.max(p.dts);
        match decoder.decode(
            &data,
            keyframe,
            Timestamp::from_micros(dts),
            Timestamp::from_micros(pts),
        ) {
            Ok(frames) => {
                // A good decode ends a failure episode: the next failure warns again.
                self.video.errors_reported = false;
                for f in frames {
                    let out_pts = f.timestamp().as_micros() as i64;
                    let lag = (self.video.max_fed_dts - out_pts).max(0) as f64;
                    self.video.lag_us = lag.max(self.video.lag_us * 0.98);
                    if let Some(prev) = self.video.last_pts {
                        let d = out_pts - prev;
                        if (5_000..=500_000).contains(&d) {
                            self.video.interval_us = (self.video.interval_us * 7 + d) / 8;
                        }
                    }
                    self.video.last_pts = Some(out_pts);
                    self.keep_ready(f);
                }
            }
            Err(e) => self.report_video_error(e.to_string()),
        }
    }

    /// Queues a decoded picture for its presentation time (bounded: the oldest goes).
    fn keep_ready(&mut self, f: VideoFrame) {
        if self.video.ready.len() >= MAX_READY {
            self.video.ready.pop_front();
            self.counts.stale += 1;
        }
        self.video.ready.push_back(f);
    }

    fn report_video_error(&mut self, message: String) {
        tracing::warn!("video decode: {message}");
        if !self.video.errors_reported {
            self.video.errors_reported = true;
            self.emit(PlayerEvent::Warning(
                V2TXLiveCode::ErrorFailed,
                format!("video decode failed: {message}"),
            ));
        }
    }

    /// The SEI messages of type `wanted` in an access unit: H.264 SEI NAL units (type 6) or
    /// HEVC prefix SEI (type 39).
    fn deliver_sei(&self, avcc: &[u8], length_size: u8, hevc: bool, wanted: u32) {
        let Ok(nals) = split_avcc(avcc, length_size) else {
            return;
        };
        for nal in nals {
            let parsed = if hevc {
                if onair_flv::hvcc::hevc_nal_type(nal) != onair_flv::hvcc::hevc_nal::SEI_PREFIX {
                    continue;
                }
                parse_hevc_sei_nal(nal)
            } else {
                if nal_unit_type(nal) != 6 {
                    continue;
                }
                parse_sei_nal(nal)
            };
            if let Ok(messages) = parsed {
                for m in messages.into_iter().filter(|m| m.payload_type == wanted) {
                    self.emit(PlayerEvent::Sei(m.payload_type, m.app_data()));
                }
            }
        }
    }

    fn render_due(&mut self, pos: i64) {
        let due = |f: &VideoFrame| f.timestamp().as_micros() as i64 <= pos;
        let mut frame = None;
        while self.video.ready.front().is_some_and(due) {
            if frame.is_some() {
                self.counts.stale += 1;
            }
            frame = self.video.ready.pop_front();
        }
        let Some(frame) = frame else {
            return;
        };
        let now = Instant::now();
        let size = (frame.width(), frame.height());
        if self.video.size != Some(size) {
            self.video.size = Some(size);
            self.emit(PlayerEvent::Resolution(size.0, size.1));
        }
        let stall_after = self.stall_after();
        self.video.watch.set_loading_after(stall_after);
        if let Some(StallEvent::Playing(first)) = self.video.watch.on_frame(now) {
            self.emit(PlayerEvent::VideoPlaying(first));
        }
        self.counts.rendered += 1;
        let view = &self.shared.controls.view;
        view.show(&frame);
        if view.debug_needs_text() {
            view.set_debug_text(crate::render::first_text(
                size.0,
                size.1,
                "statistics every 2 s",
            ));
        }
        if self.shared.controls.snapshot.swap(false, Ordering::AcqRel) {
            let shot = onair_codec::convert::from_i420(&frame, PixelFormat::Rgba32).ok();
            self.emit(PlayerEvent::Snapshot(shot));
        }
        let format = *lock(&self.shared.controls.render_format);
        if let (Some(PixelFormat::Texture2D), Some(o)) = (format, self.observer) {
            self.render_texture(&frame, o);
        } else if let (Some(format), Some(o)) = (format, self.observer) {
            match self.render_buffers.convert(&frame, format) {
                Ok(f) => {
                    self.shared
                        .gate
                        .deliver(|| o.on_render_video_frame(self.player, &f));
                }
                Err(e) => tracing::warn!("render conversion: {e}"),
            }
        }
    }

    /// Uploads the frame to a new RGBA8 texture on the chosen context and hands it over.
    fn render_texture(&mut self, frame: &VideoFrame, o: &dyn V2TXLivePlayerObserver) {
        let Some(ctx) = lock(&self.shared.controls.render_gpu).clone() else {
            return;
        };
        if !self
            .gpu
            .as_ref()
            .is_some_and(|g| std::sync::Arc::ptr_eq(g.context(), &ctx))
        {
            self.gpu = Some(onair_gpu::FrameConverter::new(ctx));
        }
        let Some(gpu) = self.gpu.as_mut() else {
            return;
        };
        match gpu.to_texture(frame) {
            Ok(texture) => {
                self.shared.gate.deliver(|| {
                    o.on_render_video_texture(self.player, &texture, frame.timestamp())
                });
            }
            Err(e) => tracing::warn!("texture render: {e}"),
        }
    }

    /// A render gap longer than this is a stall.
    fn stall_after(&self) -> Duration {
        Duration::from_micros((self.video.interval_us * 4).max(300_000) as u64)
    }

    fn feed_audio(&mut self, p: Packet) {
        match p.payload {
            Payload::AudioConfig(c) => match open_audio_decoder(&c) {
                Ok(d) => self.audio.decoder = Some(d),
                Err(e) => self.report_audio_error(e.to_string()),
            },
            Payload::Audio { data, opus } => {
                if self.audio.decoder.is_none() && opus {
                    // No OpusHead came (the server did not keep it for a late joiner): the
                    // packet's TOC byte says mono or stereo, and Opus decodes at 48 kHz.
                    let head = onair_flv::OpusHead::for_packet(&data);
                    match open_audio_decoder(&onair_codec::AudioConfig::Opus(head)) {
                        Ok(d) => self.audio.decoder = Some(d),
                        Err(e) => return self.report_audio_error(e.to_string()),
                    }
                }
                let Some(d) = &mut self.audio.decoder else {
                    return;
                };
                match d.decode(&data, Timestamp::from_micros(p.dts.max(0) as u64)) {
                    Ok(Some(frame)) => {
                        self.audio.errors_reported = false;
                        self.queue_pcm(&frame, p.dts);
                    }
                    Ok(None) => {}
                    Err(e) => self.report_audio_error(e.to_string()),
                }
            }
            _ => {}
        }
    }

    fn report_audio_error(&mut self, message: String) {
        tracing::warn!("audio decode: {message}");
        if !self.audio.errors_reported {
            self.audio.errors_reported = true;
            self.emit(PlayerEvent::Warning(
                V2TXLiveCode::ErrorFailed,
                format!("audio decode failed: {message}"),
            ));
        }
    }

    fn queue_pcm(&mut self, frame: &AudioFrame, ts: i64) {
        let a = &mut self.audio;
        let (rate, ch) = (frame.sample_rate(), frame.channels());
        let queued_end = a.fifo_ts
            + (a.fifo.len() / a.channels.max(1) as usize) as i64 * 1_000_000
                / i64::from(a.rate.max(1));
        // A new format or a gap of more than 30 ms restarts the FIFO at this frame's time.
        if rate != a.rate || ch != a.channels || (ts - queued_end).abs() > 30_000 {
            a.fifo.clear();
            a.rate = rate;
            a.channels = ch;
        }
        if a.fifo.is_empty() {
            a.fifo_ts = ts;
        }
        a.fifo.extend(frame.samples());
    }

    fn play_audio_due(&mut self, pos: i64) {
        let (rate, ch) = (self.audio.rate, self.audio.channels);
        let per = self.audio.frame_len();
        if per == 0 {
            return;
        }
        let frame_us = 20_000;
        // Drop what is already too late to play (after a catch-up or a slow callback).
        while self.audio.fifo.len() >= per && self.audio.fifo_ts + 2 * frame_us < pos {
            self.audio.fifo.drain(..per);
            self.audio.fifo_ts += frame_us;
        }
        while self.audio.fifo.len() >= per && self.audio.fifo_ts <= pos {
            let mut samples: Vec<i16> = self.audio.fifo.drain(..per).collect();
            let ts = self.audio.fifo_ts;
            self.audio.fifo_ts += frame_us;
            let volume = self.shared.controls.volume.load(Ordering::Acquire);
            if volume < 100 {
                for s in &mut samples {
                    *s = (i32::from(*s) * volume as i32 / 100) as i16;
                }
            }
            self.output(&samples, rate, ch, ts);
        }
    }

    fn output(&mut self, samples: &[i16], rate: u32, ch: u16, ts: i64) {
        if let Some(StallEvent::Playing(first)) = self.audio.watch.on_frame(Instant::now()) {
            self.emit(PlayerEvent::AudioPlaying(first));
        }
        // The device.
        if self
            .audio
            .out
            .as_ref()
            .is_some_and(|o| !o.matches(rate, ch))
        {
            self.audio.out = None;
            self.audio.out_failed = false;
        }
        if self.audio.out.is_none() && !self.audio.out_failed {
            match AudioOut::open(rate, ch) {
                Ok(o) => self.audio.out = Some(o),
                Err(e) => {
                    self.audio.out_failed = true;
                    tracing::warn!("{e}; playing on without sound");
                }
            }
        }
        if let Some(o) = &mut self.audio.out {
            o.write(samples);
        }
        // Volume evaluation.
        let interval = self
            .shared
            .controls
            .volume_interval_ms
            .load(Ordering::Acquire);
        if interval > 0 {
            self.audio.energy += samples
                .iter()
                .map(|&x| f64::from(x) * f64::from(x))
                .sum::<f64>();
            self.audio.counted += samples.len() as u64;
            if self.audio.last_volume.elapsed() >= Duration::from_millis(u64::from(interval)) {
                let rms = (self.audio.energy / self.audio.counted.max(1) as f64).sqrt() / 32768.0;
                let db = 20.0 * rms.max(1e-9).log10();
                let volume = ((db + 60.0) / 60.0 * 100.0).clamp(0.0, 100.0).round() as u32;
                self.emit(PlayerEvent::Volume(volume));
                self.audio.energy = 0.0;
                self.audio.counted = 0;
                self.audio.last_volume = Instant::now();
            }
        }
        if self.shared.controls.observe_audio.load(Ordering::Acquire) {
            if let (Some(o), Ok(frame)) =
                (self.observer, AudioFrame::from_samples(samples, rate, ch))
            {
                let frame = frame.with_timestamp(Timestamp::from_micros(ts.max(0) as u64));
                self.shared
                    .gate
                    .deliver(|| o.on_playout_audio_frame(self.player, &frame));
            }
        }
    }

    fn watch_stalls(&mut self, video_paused: bool, audio_paused: bool) {
        let now = Instant::now();
        if video_paused {
            self.video.watch.reset();
        }
        for e in self.video.watch.check(now) {
            match e {
                StallEvent::Loading => self.emit(PlayerEvent::VideoLoading),
                StallEvent::Blocked(gap) => self.emit(PlayerEvent::Warning(
                    V2TXLiveCode::WarningVideoBlock,
                    format!("no picture for {} ms", gap.as_millis()),
                )),
                StallEvent::Playing(_) => {}
            }
        }
        if audio_paused {
            self.audio.watch.reset();
        }
        if self.audio.watch.check(now).contains(&StallEvent::Loading) {
            self.emit(PlayerEvent::AudioLoading);
        }
    }
}

/// Builds the statistics every 2 s from the counters' deltas.
struct StatsWindow {
    start: Instant,
    cpu: CpuSample,
    rendered: u64,
    video_bytes: u64,
    audio_bytes: u64,
    video_block_ms: u64,
    audio_block_ms: u64,
}

impl StatsWindow {
    fn new(shared: &Shared) -> Self {
        Self {
            start: Instant::now(),
            cpu: CpuSample::now(),
            rendered: 0,
            video_bytes: shared.rx_video_bytes.load(Ordering::Relaxed),
            audio_bytes: shared.rx_audio_bytes.load(Ordering::Relaxed),
            video_block_ms: 0,
            audio_block_ms: 0,
        }
    }

    /// When the next report is due.
    fn due(&self) -> Instant {
        self.start + onair_core::STATISTICS_INTERVAL
    }

    fn tick(&mut self, m: &Media<'_>) -> Option<PlayerStatistics> {
        let elapsed = self.start.elapsed();
        if elapsed < onair_core::STATISTICS_INTERVAL {
            return None;
        }
        let secs = elapsed.as_secs_f64();
        let now_cpu = CpuSample::now();
        let (app_cpu, system_cpu) = self.cpu.usage_until(&now_cpu);
        let vb = m.shared.rx_video_bytes.load(Ordering::Relaxed);
        let ab = m.shared.rx_audio_bytes.load(Ordering::Relaxed);
        let kbps = |bytes: u64| (bytes as f64 * 8.0 / secs / 1000.0) as u32;
        let window_ms = elapsed.as_millis().max(1) as u64;
        let rate = |ms: u64| (ms * 100 / window_ms).min(100) as u32;
        let (w, h) = m.video.size.unwrap_or((0, 0));
        let level_ms = (m.shared.buffer().level_us(Instant::now()) / 1000) as u32;
        let s = PlayerStatistics {
            app_cpu,
            system_cpu,
            width: w,
            height: h,
            fps: ((m.counts.rendered - self.rendered) as f64 / secs) as f32,
            video_bitrate: kbps(vb - self.video_bytes),
            audio_bitrate: kbps(ab - self.audio_bytes),
            jitter_buffer_delay: level_ms,
            audio_total_block_time: (m.audio.watch.block_total().as_millis() as u64) as u32,
            audio_block_rate: rate(
                (m.audio.watch.block_total().as_millis() as u64) - self.audio_block_ms,
            ),
            video_total_block_time: (m.video.watch.block_total().as_millis() as u64) as u32,
            video_block_rate: rate(
                (m.video.watch.block_total().as_millis() as u64) - self.video_block_ms,
            ),
            net_speed: kbps(vb + ab - self.video_bytes - self.audio_bytes),
        };
        *self = Self {
            start: Instant::now(),
            cpu: now_cpu,
            rendered: m.counts.rendered,
            video_bytes: vb,
            audio_bytes: ab,
            video_block_ms: (m.video.watch.block_total().as_millis() as u64),
            audio_block_ms: (m.audio.watch.block_total().as_millis() as u64),
        };
        Some(s)
    }
}
