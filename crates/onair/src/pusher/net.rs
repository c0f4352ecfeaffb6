//! The pusher's network side: the connect / reconnect supervisor on a tokio runtime, the
//! sequence-header cache that is re-sent after every reconnect, statistics every 2 s and
//! bitrate adaptation (step toward the floor under congestion with WARNING_NETWORK_BUSY, step
//! back up once the queue has stayed clear).

use super::observer::PusherEvent;
use super::Controls;
use crate::cpu::CpuSample;
use onair_core::{legacy_event, PushStatus, PusherStatistics, V2TXLiveCode};
use onair_flv::FlvTag;
use onair_rtmp::send_queue::{classify, TagClass};
use onair_rtmp::{RtmpPublisher, SendQueueConfig, TransportConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    headers: Mutex<Headers>,
    pub(crate) video_frames: AtomicU64,
    pub(crate) video_bytes: AtomicU64,
    pub(crate) audio_bytes: AtomicU64,
    pub(crate) dropped_while_offline: AtomicU64,
}

#[derive(Debug, Default)]
struct Headers {
    metadata: Option<FlvTag>,
    video: Option<FlvTag>,
    audio: Option<FlvTag>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Net {
    /// Sends a tag (remembering sequence headers for reconnects). Never blocks.
    pub(crate) fn send(&self, tag: FlvTag) {
        if classify(&tag) == TagClass::Header {
            let mut h = lock(&self.headers);
            match tag.tag_type {
                onair_flv::TagType::Video => h.video = Some(tag.clone()),
                onair_flv::TagType::Audio => h.audio = Some(tag.clone()),
                _ => h.metadata = Some(tag.clone()),
            }
        }
        let len = tag.data.len() as u64;
        let is_video = tag.tag_type == onair_flv::TagType::Video;
        match lock(&self.publisher).as_ref() {
            Some(p) if p.send(tag).is_ok() => {
                if is_video {
                    self.video_bytes.fetch_add(len, Ordering::Relaxed);
                } else {
                    self.audio_bytes.fetch_add(len, Ordering::Relaxed);
                }
            }
            _ => {
                self.dropped_while_offline.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn install(&self, p: RtmpPublisher) {
        let h = lock(&self.headers);
        for t in [&h.metadata, &h.video, &h.audio].into_iter().flatten() {
            let _ = p.send(t.clone());
        }
        *lock(&self.publisher) = Some(p);
    }

    /// The live connection's send-queue statistics, if connected.
    pub(crate) fn queue_stats(&self) -> Option<onair_rtmp::SendQueueStats> {
        lock(&self.publisher).as_ref().map(|p| p.stats().queue)
    }

    fn take(&self) -> Option<RtmpPublisher> {
        lock(&self.publisher).take()
    }
}

/// Everything the supervisor needs.
pub(crate) struct Supervisor {
    pub(crate) url: String,
    pub(crate) transport: TransportConfig,
    pub(crate) queue: SendQueueConfig,
    pub(crate) reconnect: ReconnectPolicy,
    pub(crate) net: Arc<Net>,
    pub(crate) controls: Arc<Controls>,
    pub(crate) events: crossbeam_channel::Sender<PusherEvent>,
    pub(crate) size: (u32, u32),
    pub(crate) bitrate: (u32, u32),
}

impl Supervisor {
    fn emit(&self, e: PusherEvent) {
        let _ = self.events.try_send(e);
    }

    fn status(&self, s: PushStatus, msg: &str, extra: &str) {
        self.emit(PusherEvent::Status(s, msg.into(), extra.into()));
    }

    /// Sleeps `d` unless stopped first; `false` when stopped.
    async fn pause(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        while Instant::now() < end {
            if self.controls.stopped() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20).min(end - Instant::now())).await;
        }
        !self.controls.stopped()
    }

    /// Connects, monitors, reconnects; returns when stopped or when reconnects are exhausted.
    pub(crate) async fn run(self) {
        self.status(PushStatus::Connecting, "connecting", "");
        // Consecutive failed attempts since the start or since the last good connection.
        let mut failures = 0u32;
        loop {
            if self.controls.stopped() {
                return;
            }
            match RtmpPublisher::connect(&self.url, &self.transport, self.queue).await {
                Ok(p) => {
                    failures = 0;
                    self.net.install(p);
                    // A new connection starts on a keyframe.
                    self.controls.force_keyframe.store(true, Ordering::Release);
                    self.status(PushStatus::ConnectSuccess, "connected", "");
                    let lost = self.monitor().await;
                    let old = self.net.take();
                    match lost {
                        None => {
                            if let Some(p) = old {
                                let _ = p.close().await;
                            }
                            return;
                        }
                        Some(reason) => {
                            drop(old);
                            tracing::warn!("push connection lost: {reason}");
                        }
                    }
                }
                Err(e) if !e.is_retryable() => {
                    let code = if e.code() == V2TXLiveCode::ErrorFailed {
                        V2TXLiveCode::ErrorServerProcessFailed
                    } else {
                        e.code()
                    };
                    self.emit(PusherEvent::Error(code, e.to_string(), String::new()));
                    self.status(
                        PushStatus::Disconnected,
                        &e.to_string(),
                        &legacy_event::SERVER_CONNECT_FAIL.to_string(),
                    );
                    return;
                }
                Err(e) => {
                    tracing::warn!("push connect failed: {e}");
                    failures += 1;
                }
            }
            if failures > self.reconnect.attempts {
                self.emit(PusherEvent::Error(
                    V2TXLiveCode::ErrorDisconnected,
                    format!(
                        "connection lost; {} reconnect attempts failed",
                        self.reconnect.attempts
                    ),
                    String::new(),
                ));
                self.status(PushStatus::Disconnected, "reconnect attempts exhausted", "");
                return;
            }
            self.status(
                PushStatus::Reconnecting,
                "reconnecting",
                &legacy_event::RECONNECTING.to_string(),
            );
            if !self.pause(self.reconnect.interval).await {
                return;
            }
        }
    }

    /// Watches the live connection: statistics, adaptation, failures. `None` when stopped,
    /// `Some(reason)` when the connection broke.
    async fn monitor(&self) -> Option<String> {
        let mut cpu = CpuSample::now();
        let mut window_start = Instant::now();
        let (mut frames0, mut vbytes0, mut abytes0) = self.counters();
        let (target, floor) = self.bitrate;
        let adaptive = floor < target;
        let mut current = target;
        let mut clear_since = Instant::now();
        let mut busy_reported = false;
        let mut dropped_before = 0;
        loop {
            if !self.pause(Duration::from_millis(100)).await {
                return None;
            }
            let (failure, stats) = match lock(&self.net.publisher).as_ref() {
                Some(p) => (p.failure(), p.stats()),
                None => return Some("no publisher".into()),
            };
            if let Some(e) = failure {
                return Some(e.to_string());
            }
            // Bitrate adaptation.
            let congested = stats.queue.congested || stats.queue.dropped_inter > dropped_before;
            dropped_before = stats.queue.dropped_inter;
            if congested {
                clear_since = Instant::now();
                if !busy_reported {
                    self.emit(PusherEvent::Warning(
                        V2TXLiveCode::WarningNetworkBusy,
                        "the uplink cannot keep up".into(),
                        String::new(),
                    ));
                    busy_reported = true;
                }
                if adaptive && current > floor {
                    current = floor.max(current * 4 / 5);
                    self.controls.target_kbps.store(current, Ordering::Release);
                }
            } else if clear_since.elapsed() > Duration::from_secs(4) {
                busy_reported = false;
                if adaptive && current < target {
                    current = target.min(current * 11 / 10 + 1);
                    self.controls.target_kbps.store(current, Ordering::Release);
                    clear_since = Instant::now();
                }
            }
            // Statistics every 2 s.
            let elapsed = window_start.elapsed();
            if elapsed >= onair_core::STATISTICS_INTERVAL {
                let (frames, vbytes, abytes) = self.counters();
                let secs = elapsed.as_secs_f64();
                let now_cpu = CpuSample::now();
                let (app_cpu, system_cpu) = cpu.usage_until(&now_cpu);
                cpu = now_cpu;
                self.emit(PusherEvent::Statistics(PusherStatistics {
                    app_cpu,
                    system_cpu,
                    width: self.size.0,
                    height: self.size.1,
                    fps: ((frames - frames0) as f64 / secs) as f32,
                    video_bitrate: ((vbytes - vbytes0) as f64 * 8.0 / secs / 1000.0) as u32,
                    audio_bitrate: ((abytes - abytes0) as f64 * 8.0 / secs / 1000.0) as u32,
                    rtt: stats.rtt_ms,
                    net_speed: stats.queue.send_kbps,
                }));
                (frames0, vbytes0, abytes0) = (frames, vbytes, abytes);
                window_start = Instant::now();
            }
        }
    }

    fn counters(&self) -> (u64, u64, u64) {
        (
            self.net.video_frames.load(Ordering::Relaxed),
            self.net.video_bytes.load(Ordering::Relaxed),
            self.net.audio_bytes.load(Ordering::Relaxed),
        )
    }
}
