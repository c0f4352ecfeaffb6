//! The pusher's network side: the connect / reconnect supervisor on a tokio runtime, the
//! sequence-header cache that is re-sent after every reconnect, statistics every 2 s and
//! bitrate adaptation. The decisions are the pure machines of `control` (reconnect,
//! bitrate); this task only waits: for the stop signal, the publisher's own signal (failure,
//! congestion) and the next deadline (statistics, a step up, a reconnect), never on a poll tick.

use super::observer::PusherEvent;
use super::{Controls, Events};
use crate::control::bitrate::BitrateAdapter;
use crate::control::reconnect::{Failure, Next, Reconnect};
use crate::cpu::CpuSample;
use onair_core::{legacy_event, PushStatus, PusherStatistics, V2TXLiveCode};
use onair_flv::FlvTag;
use onair_rtmp::{RtmpError, RtmpPublisher, SendQueueConfig, TransportConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Reconnect policy (set_property maxNumberOfReconnection / secondsBetweenReconnection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// Attempts after a connection is lost or fails (default 3).
    pub attempts: u32,
    /// Pause between attempts (default 3 s).
    pub interval: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            interval: Duration::from_secs(3),
        }
    }
}

/// What the encoders hand to the network, and what it counts.
#[derive(Debug, Default)]
pub(crate) struct Net {
    publisher: Mutex<Option<RtmpPublisher>>,
    /// The header cache (re-sent after every reconnect) and the local recording.
    pub(crate) tap: crate::local_record::Tap,
    /// Tags that found no live connection (while connecting or reconnecting).
    pub(crate) dropped_while_offline: AtomicU64,
    /// The size of the frames the encoder got last (width << 32 | height).
    encoded_size: AtomicU64,
    /// HEVC was refused: its tags are dropped, onMetaData says H.264.
    hevc_refused: std::sync::atomic::AtomicBool,
    /// Opus was refused: its tags are dropped, onMetaData says AAC.
    opus_refused: std::sync::atomic::AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Net {
    /// Sends a tag (remembering sequence headers for reconnects). Never blocks.
    pub(crate) fn send(&self, mut tag: FlvTag) {
        if self.hevc_refused.load(Ordering::Acquire) {
            match tag.tag_type {
                onair_flv::TagType::Video
                    if onair_flv::video_info(&tag.data)
                        .is_some_and(|v| v.codec == onair_flv::enhanced::FOURCC_HEVC) =>
                {
                    return; // encoded before the switch to H.264
                }
                onair_flv::TagType::Script => {
                    tag.data = metadata_with(&tag.data, "videocodecid", 7.0)
                }
                _ => {}
            }
        }
        if self.opus_refused.load(Ordering::Acquire) {
            match tag.tag_type {
                onair_flv::TagType::Audio
                    if onair_flv::audio_info(&tag.data)
                        .is_some_and(|a| a.codec == onair_flv::enhanced::FOURCC_OPUS) =>
                {
                    return; // encoded before the switch to AAC
                }
                onair_flv::TagType::Script => {
                    tag.data = metadata_with(&tag.data, "audiocodecid", 10.0)
                }
                _ => {}
            }
        }
        // Recorded whether connected or not; headers kept for reconnects. The publisher slot
        // is locked first: a header taken here is either in the set `install` re-sends or
        // sent on the connection it installed, never lost between the two.
        let publisher = lock(&self.publisher);
        self.tap.tap(&tag);
        match publisher.as_ref() {
            Some(p) if p.send(tag).is_ok() => {}
            _ => {
                self.dropped_while_offline.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records the size of a frame handed to the encoder.
    pub(crate) fn note_encoded_size(&self, width: u32, height: u32) {
        self.encoded_size.store(
            u64::from(width) << 32 | u64::from(height),
            Ordering::Relaxed,
        );
    }

    fn encoded_size(&self) -> (u32, u32) {
        let v = self.encoded_size.load(Ordering::Relaxed);
        ((v >> 32) as u32, v as u32)
    }

    /// The server takes no HEVC: drop HEVC tags and the cached hvcC, and say H.264 in
    /// onMetaData from now on (the video stage switches encoders on its next frame).
    fn refuse_hevc(&self) {
        self.hevc_refused.store(true, Ordering::Release);
        self.tap.edit_headers(|h| {
            h.video = None;
            if let Some(m) = h.metadata.as_mut() {
                m.data = metadata_with(&m.data, "videocodecid", 7.0);
            }
        });
    }

    /// The server takes no Opus: drop Opus tags and the cached OpusHead, and say AAC in
    /// onMetaData from now on (the audio stage switches encoders on its next block).
    fn refuse_opus(&self) {
        self.opus_refused.store(true, Ordering::Release);
        self.tap.edit_headers(|h| {
            h.audio = None;
            if let Some(m) = h.metadata.as_mut() {
                m.data = metadata_with(&m.data, "audiocodecid", 10.0);
            }
        });
    }

    fn install(&self, p: RtmpPublisher) {
        // Under the slot's lock, so no header can be tapped between the re-send and the
        // connection taking over (see `send`).
        let mut slot = lock(&self.publisher);
        for t in self.tap.headers().tags() {
            let _ = p.send(t);
        }
        *slot = Some(p);
    }

    /// The live connection's send-queue statistics, if connected.
    pub(crate) fn queue_stats(&self) -> Option<onair_rtmp::SendQueueStats> {
        lock(&self.publisher).as_ref().map(|p| p.stats().queue)
    }

    fn take(&self) -> Option<RtmpPublisher> {
        lock(&self.publisher).take()
    }
}

/// An onMetaData body with `key` set to `value` (`videocodecid` 7 after an HEVC refusal,
/// `audiocodecid` 10 after an Opus one).
fn metadata_with(body: &bytes::Bytes, key: &str, value: f64) -> bytes::Bytes {
    let Ok(mut script) = onair_flv::ScriptData::parse(body) else {
        return body.clone();
    };
    let Some(onair_flv::Amf0Value::Object(map)) = script.values.first_mut() else {
        return body.clone();
    };
    map.insert(key.to_string(), onair_flv::Amf0Value::Number(value));
    script.encode().unwrap_or_else(|_| body.clone())
}

/// Everything the supervisor needs.
pub(crate) struct Supervisor {
    pub(crate) url: String,
    pub(crate) transport: TransportConfig,
    pub(crate) queue: SendQueueConfig,
    pub(crate) reconnect: ReconnectPolicy,
    pub(crate) net: Arc<Net>,
    pub(crate) controls: Arc<Controls>,
    pub(crate) events: Events,
    /// (target, floor) kbit/s.
    pub(crate) bitrate: (u32, u32),
    /// The codec the push started with.
    pub(crate) codec: onair_core::VideoCodec,
    /// The audio codec the push started with (`None`: no audio).
    pub(crate) audio_codec: Option<onair_core::AudioCodec>,
    /// The render view, whose debug overlay shows the statistics.
    pub(crate) preview: Arc<super::preview::PreviewShared>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How a connection ended, as seen by the supervisor.
enum Ended {
    Stopped,
    Lost(RtmpError),
}

impl Supervisor {
    fn emit(&self, e: PusherEvent) {
        self.events.emit(e);
    }

    fn status(&self, s: PushStatus, msg: &str, extra: &str) {
        self.emit(PusherEvent::Status(s, msg.into(), extra.into()));
    }

    fn error(&self, code: V2TXLiveCode, message: String) {
        self.emit(PusherEvent::Error(code, message, String::new()));
    }

    /// Connects, monitors, reconnects; returns when stopped or when the session gives up.
    pub(crate) async fn run(self) {
        let stop = &self.controls.stop;
        let mut plan = Reconnect::new(self.reconnect, &self.url);
        let mut adapter = BitrateAdapter::new(self.bitrate.0, self.bitrate.1);
        self.status(PushStatus::Connecting, "connecting", "");
        loop {
            let connect = tokio::select! {
                _ = stop.stopped() => return,
                r = RtmpPublisher::connect(&self.url, &self.transport, self.queue) => r,
            };
            let (error, was_up) = match connect {
                Ok(p) => {
                    plan.on_connected();
                    self.check_codec(&p);
                    self.net.install(p);
                    // A new connection starts on a keyframe.
                    self.controls.force_keyframe.store(true, Ordering::Release);
                    self.status(PushStatus::ConnectSuccess, "connected", "");
                    let ended = self.monitor(&mut plan, &mut adapter).await;
                    let old = self.net.take();
                    match ended {
                        Ended::Stopped => {
                            if let Some(p) = old {
                                let _ = p.close().await;
                            }
                            return;
                        }
                        Ended::Lost(e) => {
                            drop(old);
                            tracing::warn!("push connection lost: {e}");
                            (e, true)
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!("push connect failed: {e}");
                    (e, false)
                }
            };
            let failure = Failure {
                retryable: error.is_retryable(),
            };
            match plan.on_failure(failure, Instant::now(), unix_now()) {
                Next::Fatal => {
                    let code = match error.code() {
                        V2TXLiveCode::ErrorFailed if was_up => V2TXLiveCode::ErrorDisconnected,
                        V2TXLiveCode::ErrorFailed => V2TXLiveCode::ErrorServerProcessFailed,
                        c => c,
                    };
                    self.error(code, error.to_string());
                    self.status(
                        PushStatus::Disconnected,
                        &error.to_string(),
                        &legacy_event::SERVER_CONNECT_FAIL.to_string(),
                    );
                    return;
                }
                Next::GiveUp => {
                    self.error(
                        V2TXLiveCode::ErrorDisconnected,
                        format!(
                            "{error}; {} reconnect attempts failed",
                            self.reconnect.attempts
                        ),
                    );
                    self.status(PushStatus::Disconnected, "reconnect attempts exhausted", "");
                    return;
                }
                Next::Expired => {
                    self.error(
                        V2TXLiveCode::ErrorDisconnected,
                        format!("{error}; the URL's txTime has passed, so no reconnect"),
                    );
                    self.status(PushStatus::Disconnected, "push URL expired", "");
                    return;
                }
                Next::RetryAt(at) => {
                    self.status(
                        PushStatus::Reconnecting,
                        "reconnecting",
                        &legacy_event::RECONNECTING.to_string(),
                    );
                    tokio::select! {
                        _ = stop.stopped() => return,
                        _ = tokio::time::sleep_until(at.into()) => {}
                    }
                }
            }
        }
    }

    /// HEVC and Opus go only to a server that announced `hvc1` / `Opus` in its connect reply;
    /// to any other the push switches to H.264 / AAC (once: it stays so across reconnects)
    /// and says so.
    fn check_codec(&self, p: &RtmpPublisher) {
        if self.codec == onair_core::VideoCodec::H265
            && !p.server_accepts("hvc1")
            && !self.controls.hevc_refused.load(Ordering::Acquire)
        {
            self.refuse(p, "HEVC", "hvc1", "H.264");
            self.net.refuse_hevc();
            self.controls.hevc_refused.store(true, Ordering::Release);
        }
        if self.audio_codec == Some(onair_core::AudioCodec::Opus)
            && !p.server_accepts("Opus")
            && !self.controls.opus_refused.load(Ordering::Acquire)
        {
            self.refuse(p, "Opus", "Opus", "AAC");
            self.net.refuse_opus();
            self.controls.opus_refused.store(true, Ordering::Release);
        }
    }

    fn refuse(&self, p: &RtmpPublisher, codec: &str, fourcc: &str, instead: &str) {
        let announced = p.server_fourcc_list();
        let m = format!(
            "the server does not accept {codec}: its connect reply announces {} (no {fourcc}); \
             pushing {instead} instead",
            if announced.is_empty() {
                "no Enhanced RTMP fourCcList (a legacy RTMP server)".to_string()
            } else {
                format!("fourCcList [{}]", announced.join(", "))
            }
        );
        tracing::warn!("{m}");
        self.emit(PusherEvent::Warning(
            V2TXLiveCode::ErrorNotSupported,
            m,
            String::new(),
        ));
    }

    /// Watches the live connection until it breaks or the push stops: statistics every 2 s,
    /// bitrate adaptation on the publisher's congestion signal.
    async fn monitor(&self, plan: &mut Reconnect, adapter: &mut BitrateAdapter) -> Ended {
        let stop = &self.controls.stop;
        let mut window = StatsWindow::new(Instant::now());
        let mut dropped_before = 0;
        let mut last_requested = self.controls.requested_kbps.load(Ordering::Acquire);
        loop {
            let deadline = adapter
                .next_deadline()
                .map_or(window.due, |d| d.min(window.due));
            let signal = match lock(&self.net.publisher).as_ref() {
                Some(p) => p.signal(),
                None => return Ended::Lost(RtmpError::Stopped),
            };
            tokio::select! {
                _ = stop.stopped() => return Ended::Stopped,
                _ = signal.changed() => {}
                _ = tokio::time::sleep_until(deadline.into()) => {}
            }
            let now = Instant::now();
            let (failure, stats) = match lock(&self.net.publisher).as_ref() {
                Some(p) => (p.failure(), p.stats()),
                None => return Ended::Lost(RtmpError::Stopped),
            };
            if let Some(e) = failure {
                return Ended::Lost(e);
            }
            if stats.queue.sent_video_frames > 0 {
                plan.on_media();
            }
            let congested = stats.queue.congested || stats.queue.dropped_inter > dropped_before;
            dropped_before = stats.queue.dropped_inter;
            let requested = self.controls.requested_kbps.load(Ordering::Acquire);
            if requested != last_requested {
                // The app changed the quality while pushing: adapt from the new target.
                last_requested = requested;
                adapter.retarget(requested, self.bitrate.1.min(requested));
            }
            let d = adapter.observe(now, congested);
            if d.warn_busy {
                self.emit(PusherEvent::Warning(
                    V2TXLiveCode::WarningNetworkBusy,
                    "the uplink cannot keep up".into(),
                    String::new(),
                ));
            }
            if let Some(kbps) = d.set_kbps {
                self.controls.target_kbps.store(kbps, Ordering::Release);
            }
            if now >= window.due {
                let (w, h) = self.net.encoded_size();
                let report = window.report(now, &stats, (w, h));
                let dropped = stats.queue.dropped_inter + stats.queue.overflow_dropped;
                self.preview
                    .view
                    .set_debug_text(crate::render::pusher_text(&report, dropped));
                self.emit(PusherEvent::Statistics(report));
            }
        }
    }
}

/// The statistics window: counters at its start, its due time.
struct StatsWindow {
    start: Instant,
    due: Instant,
    cpu: CpuSample,
    frames: u64,
    video_bytes: u64,
    audio_bytes: u64,
}

impl StatsWindow {
    fn new(now: Instant) -> Self {
        Self {
            start: now,
            due: now + onair_core::STATISTICS_INTERVAL,
            cpu: CpuSample::now(),
            frames: 0,
            video_bytes: 0,
            audio_bytes: 0,
        }
    }

    /// The report for the window ending `now` (from what was written to the socket), and
    /// the next window.
    fn report(
        &mut self,
        now: Instant,
        stats: &onair_rtmp::PublisherStats,
        size: (u32, u32),
    ) -> PusherStatistics {
        let q = &stats.queue;
        let secs = now.duration_since(self.start).as_secs_f64().max(1e-3);
        let kbps = |bytes: u64| (bytes as f64 * 8.0 / secs / 1000.0) as u32;
        let now_cpu = CpuSample::now();
        let (app_cpu, system_cpu) = self.cpu.usage_until(&now_cpu);
        let s = PusherStatistics {
            app_cpu,
            system_cpu,
            width: size.0,
            height: size.1,
            fps: ((q.sent_video_frames - self.frames) as f64 / secs) as f32,
            video_bitrate: kbps(q.sent_video_bytes - self.video_bytes),
            audio_bitrate: kbps(q.sent_audio_bytes - self.audio_bytes),
            rtt: stats.rtt_ms,
            net_speed: q.send_kbps,
        };
        *self = Self {
            start: now,
            due: now + onair_core::STATISTICS_INTERVAL,
            cpu: now_cpu,
            frames: q.sent_video_frames,
            video_bytes: q.sent_video_bytes,
            audio_bytes: q.sent_audio_bytes,
        };
        s
    }
}
