//! The stream hub: one entry per stream name with its publisher, the last metadata and
//! sequence headers, the GOP cache (every tag since the last keyframe) and its subscribers.
//!
//! A publisher pushes each tag once; the hub shares it (`Arc`) with every subscriber through a
//! bounded queue with `try_send`, so nothing a subscriber does can slow the publisher or the
//! other subscribers. A subscriber whose queue is full skips to the next keyframe (it is sent
//! the sequence headers again, then the keyframe); one that stays too slow for
//! `player_drop_after` is dropped. A new subscriber gets metadata, sequence headers and the
//! GOP cache at once, so its first picture is a keyframe with no wait for the next one.

use bytes::{Bytes, BytesMut};
use onair_flv::OnMetaData;
use onair_flv::{FlvTag, TagType};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify};

/// Largest GOP cache; past it the cache is emptied until the next keyframe.
pub const MAX_GOP_BYTES: usize = 32 << 20;
/// Most tags in the GOP cache.
pub const MAX_GOP_TAGS: usize = 4096;
/// The onStatus RTMP players get when the publisher leaves (nginx-rtmp sends it too; FFmpeg
/// ends its play on it, onair's player waits for the next publisher).
pub const UNPUBLISH_NOTIFY: &str = "NetStream.Play.UnpublishNotify";
/// The onStatus RTMP players waiting on a stream get when a publisher starts it.
pub const PUBLISH_NOTIFY: &str = "NetStream.Play.PublishNotify";
/// Longest merge window accepted (ms of audio held back for the next video frame).
pub const MAX_MERGE_WINDOW_MS: u32 = 500;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One audio, video or script tag as published, shared by every consumer.
#[derive(Debug)]
pub struct MediaTag {
    /// Audio, video or script.
    pub tag_type: TagType,
    /// Timestamp, ms.
    pub timestamp: u32,
    /// The tag body (FLV audio/video data, or the encoded onMetaData script).
    pub data: Bytes,
    /// A keyframe of any codec (legacy or Enhanced RTMP; not a sequence header).
    pub keyframe: bool,
    /// A decoder configuration of any codec (avcC, hvcC, av1C, AudioSpecificConfig, OpusHead).
    pub sequence_header: bool,
    /// The video or audio codec's FourCC (`avc1`, `hvc1`, `av01`, `mp4a`, `Opus`...).
    pub codec: onair_flv::enhanced::FourCc,
    /// For onMetaData script tags: the fields onair reads.
    pub metadata: Option<Arc<OnMetaData>>,
    /// Not media: an onStatus code for RTMP players ([`UNPUBLISH_NOTIFY`] when the publisher
    /// left, [`PUBLISH_NOTIFY`] when one came back), queued behind the last tags it follows.
    /// Only RTMP subscribers are sent these.
    pub notice: Option<&'static str>,
    flv: OnceLock<Bytes>,
    rtmp: OnceLock<Bytes>,
}

/// A shared tag.
pub type Tag = Arc<MediaTag>;

/// Who holds a tap, so one kind can be closed without the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapKind {
    /// Recorders (FLV/MP4/AAC segments, HLS recording).
    Record,
    /// The live HLS segmenter.
    HlsLive,
    /// A tape task's recorder running beside automatic recording.
    Tape,
    /// A cloud mix reading the stream as one of its inputs.
    Mix,
}

impl MediaTag {
    fn new(tag_type: TagType, timestamp: u32, data: Bytes) -> Self {
        Self {
            tag_type,
            timestamp,
            data,
            keyframe: false,
            sequence_header: false,
            codec: [0; 4],
            metadata: None,
            notice: None,
            flv: OnceLock::new(),
            rtmp: OnceLock::new(),
        }
    }

    /// A video tag; keyframe, sequence header and codec come from its header, legacy
    /// (AVC, HEVC id 12) or Enhanced RTMP (any FourCC, multitrack included).
    pub fn video(timestamp: u32, data: Bytes) -> Tag {
        let mut t = Self::new(TagType::Video, timestamp, data);
        if let Some(info) = onair_flv::video_info(&t.data) {
            t.keyframe = info.keyframe;
            t.sequence_header = info.sequence_header;
            t.codec = info.codec;
        }
        Arc::new(t)
    }

    /// An audio tag; AAC and Enhanced RTMP (Opus...) sequence headers are recognised.
    pub fn audio(timestamp: u32, data: Bytes) -> Tag {
        let mut t = Self::new(TagType::Audio, timestamp, data);
        if let Some(info) = onair_flv::audio_info(&t.data) {
            t.sequence_header = info.sequence_header;
            t.codec = info.codec;
        }
        Arc::new(t)
    }

    /// A script tag (`onMetaData` + values, as the publisher sent it; `None` when it does not
    /// parse as AMF0 script data).
    pub fn script(timestamp: u32, data: Bytes) -> Option<Tag> {
        let script = onair_flv::ScriptData::parse(&data).ok()?;
        let mut t = Self::new(TagType::Script, timestamp, data);
        t.metadata = OnMetaData::from_script(&script).map(Arc::new);
        Some(Arc::new(t))
    }

    /// A notice for RTMP players (see [`MediaTag::notice`]).
    fn notice(code: &'static str) -> Tag {
        let mut t = Self::new(TagType::Script, 0, Bytes::new());
        t.notice = Some(code);
        Arc::new(t)
    }

    /// A metadata tag built from fields (tests, relays).
    pub fn metadata(timestamp: u32, metadata: OnMetaData) -> Tag {
        let mut t = Self::new(
            TagType::Script,
            timestamp,
            metadata.to_script().unwrap_or_default(),
        );
        t.metadata = Some(Arc::new(metadata));
        Arc::new(t)
    }

    /// A coded video frame's decode and presentation times from the tag's timestamp and
    /// its composition offset (a negative presentation time is clamped to 0).
    pub fn decode_times(
        &self,
        composition_time_ms: i32,
    ) -> (onair_core::Timestamp, onair_core::Timestamp) {
        let dts = onair_core::Timestamp::from_millis(u64::from(self.timestamp));
        let pts = onair_core::Timestamp::from_millis(
            (i64::from(self.timestamp) + i64::from(composition_time_ms)).max(0) as u64,
        );
        (dts, pts)
    }

    /// The tag as RTMP chunk bytes for a player (chunk size [`crate::rtmp_server::CHUNK_SIZE`],
    /// play stream id 1, type-0 first chunk): encoded once, written to every RTMP player.
    pub fn rtmp_chunks(&self) -> &Bytes {
        self.rtmp.get_or_init(|| {
            onair_rtmp::engine::encode_shared(
                crate::rtmp_server::CHUNK_SIZE,
                crate::rtmp_server::PLAY_STREAM_ID,
                &self.to_flv_tag(self.timestamp),
            )
        })
    }

    /// The tag as FLV bytes (header, body, PreviousTagSize), encoded once and shared.
    pub fn flv_bytes(&self) -> &Bytes {
        self.flv.get_or_init(|| {
            let mut b = BytesMut::with_capacity(self.data.len() + 15);
            FlvTag::new(self.tag_type, self.timestamp, self.data.clone()).encode_into(&mut b);
            b.freeze()
        })
    }

    /// As an FLV tag with another timestamp.
    pub fn to_flv_tag(&self, timestamp: u32) -> FlvTag {
        FlvTag::new(self.tag_type, timestamp, self.data.clone())
    }
}

/// What a subscriber is; HTTP-FLV players and relays end with their publisher, RTMP players
/// wait for the next one (as nginx-rtmp does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriberKind {
    /// An RTMP player.
    Rtmp,
    /// An HTTP-FLV player.
    HttpFlv,
    /// A relay to an upstream server.
    Forward,
}

#[derive(Debug)]
struct Subscriber {
    id: u64,
    kind: SubscriberKind,
    tx: mpsc::Sender<Tag>,
    waiting_key: bool,
    slow_since: Option<Instant>,
}

/// The current publisher of a stream.
#[derive(Debug, Clone)]
pub struct PublisherInfo {
    /// Unique id of this publish session.
    pub id: u64,
    /// RTMP app.
    pub app: String,
    /// Peer address.
    pub client_addr: String,
    /// Unix time the push started.
    pub started_unix: i64,
    /// Signalled to cut the publisher (ban).
    pub kick: Arc<Notify>,
}

impl PublisherInfo {
    /// The client's IP: [`PublisherInfo::client_addr`] without its port.
    pub fn client_ip(&self) -> &str {
        ip_of(&self.client_addr)
    }
}

/// An `ip:port` peer address without its port (as given when it has none).
pub fn ip_of(addr: &str) -> &str {
    addr.rsplit_once(':').map_or(addr, |(ip, _)| ip)
}

/// Input rates over the last full second.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rates {
    /// Video frames per second.
    pub fps: f64,
    /// Input bitrate, kbps.
    pub kbps: f64,
}

#[derive(Debug)]
struct RateMeter {
    window_start: Instant,
    bytes: u64,
    frames: u64,
    last: Rates,
    /// Since the publish began (the statistics history takes differences).
    total_bytes: u64,
    total_frames: u64,
}

impl RateMeter {
    fn new() -> Self {
        Self {
            window_start: Instant::now(),
            bytes: 0,
            frames: 0,
            last: Rates::default(),
            total_bytes: 0,
            total_frames: 0,
        }
    }

    fn add(&mut self, tag: &MediaTag, now: Instant) {
        self.bytes += tag.data.len() as u64;
        self.total_bytes += tag.data.len() as u64;
        if tag.tag_type == TagType::Video && !tag.sequence_header {
            self.frames += 1;
            self.total_frames += 1;
        }
        let dt = now.duration_since(self.window_start).as_secs_f64();
        if dt >= 1.0 {
            self.last = Rates {
                fps: self.frames as f64 / dt,
                kbps: self.bytes as f64 * 8.0 / dt / 1000.0,
            };
            self.window_start = now;
            self.bytes = 0;
            self.frames = 0;
        }
    }
}

/// One stream's state.
#[derive(Debug)]
pub struct Stream {
    name: String,
    publisher: Option<PublisherInfo>,
    metadata: Option<Tag>,
    video_seq: Option<Tag>,
    audio_seq: Option<Tag>,
    gop: Vec<Tag>,
    gop_bytes: usize,
    subscribers: Vec<Subscriber>,
    taps: Vec<(TapKind, crossbeam_channel::Sender<Tag>)>,
    rates: RateMeter,
    bytes_out: Arc<AtomicU64>,
    dropped_players: u64,
    /// Audio waiting for the next video frame (see `Stream::hold`).
    held: Vec<Tag>,
}

/// What a consumer needs to start mid-stream: metadata, sequence headers, then the GOP.
#[derive(Debug, Clone, Default)]
pub struct StartBurst {
    /// Metadata, sequence headers, GOP cache, in that order.
    pub tags: Vec<Tag>,
}

impl Stream {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            publisher: None,
            metadata: None,
            video_seq: None,
            audio_seq: None,
            gop: Vec::new(),
            gop_bytes: 0,
            subscribers: Vec::new(),
            taps: Vec::new(),
            rates: RateMeter::new(),
            bytes_out: Arc::new(AtomicU64::new(0)),
            dropped_players: 0,
            held: Vec::new(),
        }
    }

    fn burst(&self) -> StartBurst {
        let mut tags: Vec<Tag> = [&self.metadata, &self.video_seq, &self.audio_seq]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        tags.extend(self.gop.iter().cloned());
        StartBurst { tags }
    }

    fn cache(&mut self, tag: &Tag) {
        match (tag.tag_type, tag.sequence_header) {
            (TagType::Script, _) => self.metadata = Some(tag.clone()),
            (TagType::Video, true) => self.video_seq = Some(tag.clone()),
            (TagType::Audio, true) => self.audio_seq = Some(tag.clone()),
            _ => {
                if tag.keyframe {
                    self.gop.clear();
                    self.gop_bytes = 0;
                }
                let audio_only = self.video_seq.is_none();
                if tag.keyframe || !self.gop.is_empty() || audio_only {
                    self.gop.push(tag.clone());
                    self.gop_bytes += tag.data.len();
                }
                // Audio-only streams keep a short tail; oversized GOPs are dropped whole.
                if audio_only && self.gop.len() > 64 {
                    let excess = self.gop.len() - 64;
                    self.gop.drain(..excess);
                    self.gop_bytes = self.gop.iter().map(|t| t.data.len()).sum();
                }
                if self.gop_bytes > MAX_GOP_BYTES || self.gop.len() > MAX_GOP_TAGS {
                    self.gop.clear();
                    self.gop_bytes = 0;
                }
            }
        }
    }

    /// With a merge window (`window_ms` > 0), audio waits for the next video frame, so that
    /// each player's task wakes and writes once per video frame instead of once per message
    /// (SRS's merged writes), holding at most `window_ms` of audio: `true` when `tag` was
    /// held. It costs players that much audio delay, so it is off by default.
    fn hold(&mut self, tag: &Tag, window_ms: u32) -> bool {
        if window_ms == 0
            || tag.tag_type != TagType::Audio
            || tag.sequence_header
            || self.video_seq.is_none()
        {
            return false;
        }
        let span = self
            .held
            .first()
            .map_or(0, |first| tag.timestamp.wrapping_sub(first.timestamp));
        if span >= window_ms {
            return false;
        }
        self.held.push(tag.clone());
        true
    }

    /// Sends the held audio now (before a new subscriber's start burst, which already holds
    /// it, and when the publisher leaves).
    fn flush_held(&mut self, now: Instant, drop_after: Duration) {
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            self.deliver(&held, now, drop_after);
        }
    }

    /// Queues an onStatus `code` for every RTMP player, behind what was delivered to it. A
    /// player whose queue is full misses it (it is skipping to the next keyframe anyway).
    fn notify_rtmp_players(&mut self, code: &'static str) {
        for sub in &self.subscribers {
            if sub.kind == SubscriberKind::Rtmp {
                let _ = sub.tx.try_send(MediaTag::notice(code));
            }
        }
    }

    fn deliver(&mut self, tags: &[Tag], now: Instant, drop_after: Duration) {
        let has_video = self.video_seq.is_some();
        let (vseq, aseq) = (self.video_seq.clone(), self.audio_seq.clone());
        let name = &self.name;
        let mut dropped = 0;
        // Subscriber by subscriber, the whole batch at once: its task wakes once for it.
        self.subscribers.retain_mut(|s| {
            for tag in tags {
                if s.tx.is_closed() {
                    return false;
                }
                let resume_point = if has_video {
                    tag.keyframe
                } else {
                    tag.tag_type == TagType::Audio
                };
                if s.waiting_key {
                    if resume_point && s.tx.capacity() >= 3 + s.tx.max_capacity() / 4 {
                        for t in [&vseq, &aseq].into_iter().flatten() {
                            let _ = s.tx.try_send(t.clone());
                        }
                        if s.tx.try_send(tag.clone()).is_ok() {
                            s.waiting_key = false;
                            s.slow_since = None;
                            continue;
                        }
                    }
                } else {
                    match s.tx.try_send(tag.clone()) {
                        Ok(()) => continue,
                        Err(mpsc::error::TrySendError::Closed(_)) => return false,
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            tracing::debug!(stream = %name, id = s.id, "player too slow: skipping to the next keyframe");
                            s.waiting_key = true;
                        }
                    }
                }
                let since = *s.slow_since.get_or_insert(now);
                if now.duration_since(since) > drop_after {
                    tracing::info!(stream = %name, id = s.id, "player dropped: too slow for {drop_after:?}");
                    dropped += 1;
                    return false;
                }
            }
            true
        });
        self.dropped_players += dropped;
        for tag in tags {
            self.taps
                .retain(|(kind, tap)| match tap.try_send(tag.clone()) {
                    Ok(()) => true,
                    Err(crossbeam_channel::TrySendError::Full(_)) => {
                        tracing::warn!(stream = %self.name, tap = ?kind, "tap behind: a tag was dropped");
                        true
                    }
                    Err(crossbeam_channel::TrySendError::Disconnected(_)) => false,
                });
        }
    }
}

/// The publisher's side of a stream: pushes tags, learns when it is kicked.
#[derive(Debug)]
pub struct PublishHandle {
    stream: Arc<Mutex<Stream>>,
    /// The stream name.
    pub name: String,
    /// This publish session.
    pub info: PublisherInfo,
    drop_after: Duration,
    merge_ms: u32,
}

impl PublishHandle {
    /// Caches and fans out one tag.
    pub fn push(&self, tag: Tag) {
        let now = Instant::now();
        let mut s = lock(&self.stream);
        if s.publisher.as_ref().map(|p| p.id) != Some(self.info.id) {
            return;
        }
        s.rates.add(&tag, now);
        s.cache(&tag);
        if s.hold(&tag, self.merge_ms) {
            return;
        }
        let mut batch = std::mem::take(&mut s.held);
        batch.push(tag);
        s.deliver(&batch, now, self.drop_after);
        batch.clear();
        s.held = batch;
    }
}

/// A subscription: the tags to send, in order. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    /// Tags: the start burst first, then live tags.
    pub rx: mpsc::Receiver<Tag>,
    /// Count bytes written to this player here (Get_LivePlayStat bandwidth).
    pub bytes_out: Arc<AtomicU64>,
    /// Whether the stream has audio and video, as far as known when subscribing (its
    /// sequence headers and metadata; both when nothing is known yet): the HTTP-FLV header's
    /// flags, so a player does not wait for a track that never comes.
    pub has_audio: bool,
    /// See `has_audio`.
    pub has_video: bool,
}

/// Why a publish was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishRefusal {
    /// Another publisher holds the stream.
    Busy,
}

/// A live stream as the API reports it.
#[derive(Debug, Clone)]
pub struct LiveInfo {
    /// Stream name.
    pub name: String,
    /// The publisher.
    pub publisher: PublisherInfo,
    /// Input rates.
    pub rates: Rates,
    /// Players (RTMP and HTTP-FLV) connected.
    pub players: usize,
    /// Bytes sent to players so far.
    pub bytes_out: u64,
    /// Players dropped for being too slow.
    pub dropped_players: u64,
    /// Video size from the metadata, when announced.
    pub size: Option<(u32, u32)>,
    /// Media bytes received since the publish began.
    pub bytes_in: u64,
    /// Video frames received since the publish began.
    pub frames_in: u64,
}

/// All streams.
#[derive(Debug)]
pub struct Hub {
    streams: Mutex<HashMap<String, Arc<Mutex<Stream>>>>,
    next_id: AtomicU64,
    queue_tags: usize,
    drop_after: Duration,
    merge_ms: u32,
}

impl Hub {
    /// A hub whose players queue up to `queue_tags` tags and are dropped after `drop_after`
    /// of being too slow.
    pub fn new(queue_tags: usize, drop_after: Duration) -> Self {
        Self {
            streams: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            queue_tags,
            drop_after,
            merge_ms: 0,
        }
    }

    /// Sets the merge window: up to `ms` of audio (by timestamp, capped at
    /// [`MAX_MERGE_WINDOW_MS`]) waits for the next video frame, so each player is woken and
    /// written to once per frame. 0 (the default) sends every message at once.
    pub fn with_merge_window(mut self, ms: u32) -> Self {
        self.merge_ms = ms.min(MAX_MERGE_WINDOW_MS);
        self
    }

    fn entry(&self, name: &str) -> Arc<Mutex<Stream>> {
        lock(&self.streams)
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(Mutex::new(Stream::new(name))))
            .clone()
    }

    fn get(&self, name: &str) -> Option<Arc<Mutex<Stream>>> {
        lock(&self.streams).get(name).cloned()
    }

    /// Claims the stream for a publisher.
    pub fn publish(
        &self,
        name: &str,
        app: &str,
        client_addr: &str,
        now_unix: i64,
    ) -> Result<PublishHandle, PublishRefusal> {
        let stream = self.entry(name);
        let mut s = lock(&stream);
        if s.publisher.is_some() {
            return Err(PublishRefusal::Busy);
        }
        let info = PublisherInfo {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            app: app.to_string(),
            client_addr: client_addr.to_string(),
            started_unix: now_unix,
            kick: Arc::new(Notify::new()),
        };
        s.publisher = Some(info.clone());
        s.metadata = None;
        s.video_seq = None;
        s.audio_seq = None;
        s.gop.clear();
        s.gop_bytes = 0;
        s.rates = RateMeter::new();
        s.notify_rtmp_players(PUBLISH_NOTIFY);
        drop(s);
        Ok(PublishHandle {
            stream,
            name: name.to_string(),
            info,
            drop_after: self.drop_after,
            merge_ms: self.merge_ms,
        })
    }

    /// Releases the stream: HTTP-FLV players and relays end, RTMP players wait for the next
    /// publisher, recorder taps are closed.
    pub fn unpublish(&self, handle: &PublishHandle) {
        let mut s = lock(&handle.stream);
        if s.publisher.as_ref().map(|p| p.id) != Some(handle.info.id) {
            return;
        }
        s.flush_held(Instant::now(), handle.drop_after);
        s.publisher = None;
        s.gop.clear();
        s.gop_bytes = 0;
        s.subscribers.retain(|sub| sub.kind == SubscriberKind::Rtmp);
        s.notify_rtmp_players(UNPUBLISH_NOTIFY);
        s.taps.clear();
    }

    /// Subscribes. HTTP-FLV players and relays need a live stream (`None` otherwise); RTMP
    /// players may wait for one.
    pub fn subscribe(&self, name: &str, kind: SubscriberKind) -> Option<Subscription> {
        let stream = if kind == SubscriberKind::Rtmp {
            self.entry(name)
        } else {
            self.get(name)?
        };
        let mut s = lock(&stream);
        if kind != SubscriberKind::Rtmp && s.publisher.is_none() {
            return None;
        }
        s.flush_held(Instant::now(), self.drop_after);
        let md = s.metadata.as_ref().and_then(|m| m.metadata.clone());
        let audio_known =
            s.audio_seq.is_some() || md.as_ref().is_some_and(|m| m.audiocodecid.is_some());
        let video_known =
            s.video_seq.is_some() || md.as_ref().is_some_and(|m| m.videocodecid.is_some());
        let (has_audio, has_video) = if audio_known || video_known {
            (audio_known, video_known)
        } else {
            (true, true)
        };
        let burst = s.burst();
        let (tx, rx) = mpsc::channel(self.queue_tags + burst.tags.len());
        for t in burst.tags {
            let _ = tx.try_send(t);
        }
        s.subscribers.push(Subscriber {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            kind,
            tx,
            waiting_key: false,
            slow_since: None,
        });
        Some(Subscription {
            rx,
            bytes_out: s.bytes_out.clone(),
            has_audio,
            has_video,
        })
    }

    /// Adds a lossless-as-possible tap (a recorder, the HLS segmenter): it gets the start
    /// burst now, then every tag. Returns `None` when the stream is not live.
    pub fn tap(
        &self,
        name: &str,
        capacity: usize,
        kind: TapKind,
    ) -> Option<crossbeam_channel::Receiver<Tag>> {
        let stream = self.get(name)?;
        let mut s = lock(&stream);
        s.publisher.as_ref()?;
        s.flush_held(Instant::now(), self.drop_after);
        let burst = s.burst();
        let (tx, rx) = crossbeam_channel::bounded(capacity + burst.tags.len());
        for t in burst.tags {
            let _ = tx.try_send(t);
        }
        s.taps.push((kind, tx));
        Some(rx)
    }

    /// Closes a stream's taps of one kind (the recorders finish their segment).
    pub fn close_taps(&self, name: &str, kind: TapKind) {
        if let Some(stream) = self.get(name) {
            lock(&stream).taps.retain(|(k, _)| *k != kind);
        }
    }

    /// The sequence header and GOP cache of a live stream, for a screenshot.
    pub fn gop_snapshot(&self, name: &str) -> Option<(Option<Tag>, Vec<Tag>)> {
        let stream = self.get(name)?;
        let s = lock(&stream);
        s.publisher.as_ref()?;
        Some((s.video_seq.clone(), s.gop.clone()))
    }

    /// Cuts the publisher of `name`, if any. Returns whether there was one.
    pub fn kick(&self, name: &str) -> bool {
        let Some(stream) = self.get(name) else {
            return false;
        };
        let s = lock(&stream);
        match &s.publisher {
            Some(p) => {
                p.kick.notify_one();
                true
            }
            None => false,
        }
    }

    /// Forgets the streams nobody publishes, plays or taps (and nobody is about to: an entry
    /// someone just looked up is kept). Returns how many were forgotten. The housekeeping task
    /// calls it every second, so a server that saw a million stream names keeps none of them.
    pub fn forget_unused(&self) -> usize {
        let mut streams = lock(&self.streams);
        let before = streams.len();
        streams.retain(|_, st| {
            // Only the map holds it: no publisher handle, no lookup in flight.
            if Arc::strong_count(st) > 1 {
                return true;
            }
            let mut s = lock(st);
            s.subscribers.retain(|x| !x.tx.is_closed());
            s.publisher.is_some() || !s.subscribers.is_empty() || !s.taps.is_empty()
        });
        before - streams.len()
    }

    /// Streams the hub holds (live, or waited for by RTMP players).
    pub fn stream_count(&self) -> usize {
        lock(&self.streams).len()
    }

    /// Live streams, sorted by name.
    pub fn live(&self) -> Vec<LiveInfo> {
        let streams: Vec<_> = lock(&self.streams).values().cloned().collect();
        let mut out: Vec<LiveInfo> = streams
            .iter()
            .filter_map(|st| {
                let s = lock(st);
                let publisher = s.publisher.clone()?;
                let size = s.metadata.as_ref().and_then(|m| {
                    let md = m.metadata.as_ref()?;
                    Some((md.width? as u32, md.height? as u32))
                });
                Some(LiveInfo {
                    name: s.name.clone(),
                    publisher,
                    rates: s.rates.last,
                    players: s
                        .subscribers
                        .iter()
                        .filter(|x| x.kind != SubscriberKind::Forward && !x.tx.is_closed())
                        .count(),
                    bytes_out: s.bytes_out.load(Ordering::Relaxed),
                    dropped_players: s.dropped_players,
                    size,
                    bytes_in: s.rates.total_bytes,
                    frames_in: s.rates.total_frames,
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// One live stream.
    pub fn live_one(&self, name: &str) -> Option<LiveInfo> {
        self.live().into_iter().find(|l| l.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(ts: u32, key: bool) -> Tag {
        MediaTag::video(
            ts,
            Bytes::from(vec![if key { 0x17 } else { 0x27 }, 1, 0, 0, 0, 9]),
        )
    }

    fn audio(ts: u32) -> Tag {
        MediaTag::audio(ts, Bytes::from_static(&[0xaf, 1, 0x21]))
    }

    fn drain(sub: &mut Subscription) -> Vec<(TagType, u32)> {
        let mut out = Vec::new();
        while let Ok(t) = sub.rx.try_recv() {
            out.push((t.tag_type, t.timestamp));
        }
        out
    }

    #[test]
    fn audio_goes_out_with_the_next_video_frame_and_nothing_is_lost_or_repeated() {
        let hub = Hub::new(64, Duration::from_secs(10)).with_merge_window(50);
        let p = hub.publish("s", "live", "x", 0).unwrap();
        p.push(MediaTag::video(
            0,
            Bytes::from_static(&[0x17, 0, 0, 0, 0, 1]),
        ));
        let mut early = hub.subscribe("s", SubscriberKind::Rtmp).unwrap();
        let _ = drain(&mut early);
        p.push(video(0, true));
        p.push(audio(10));
        p.push(audio(31));
        assert_eq!(
            drain(&mut early),
            [(TagType::Video, 0)],
            "audio held for the next frame"
        );
        // A subscriber joining now gets the held audio in its burst, and only once.
        let mut late = hub.subscribe("s", SubscriberKind::HttpFlv).unwrap();
        p.push(video(40, false));
        assert_eq!(
            drain(&mut early),
            [
                (TagType::Audio, 10),
                (TagType::Audio, 31),
                (TagType::Video, 40)
            ]
        );
        let late_tags: Vec<_> = drain(&mut late)
            .into_iter()
            .filter(|t| t.0 != TagType::Video || t.1 > 0)
            .collect();
        assert_eq!(
            late_tags,
            [
                (TagType::Audio, 10),
                (TagType::Audio, 31),
                (TagType::Video, 40)
            ]
        );
        // Without video, audio goes out once it spans the merge window.
        for ts in (50..180).step_by(21) {
            p.push(audio(ts));
        }
        let got = drain(&mut early);
        assert_eq!(
            got.len(),
            4,
            "50, 71, 92 held until 113 spans 63 ms: {got:?}"
        );
        // The publisher leaving flushes what was held.
        hub.unpublish(&p);
        let rest = drain(&mut early);
        assert_eq!(
            rest,
            [
                (TagType::Audio, 134),
                (TagType::Audio, 155),
                (TagType::Audio, 176),
                (TagType::Script, 0), // the UnpublishNotify, after them
            ]
        );
    }

    #[test]
    fn rtmp_players_are_told_when_the_publisher_leaves_and_comes_back_after_its_last_tags() {
        let hub = Hub::new(64, Duration::from_secs(10));
        let mut waiting = hub.subscribe("s", SubscriberKind::Rtmp).unwrap();
        let p = hub.publish("s", "live", "x", 0).unwrap();
        let mut http = hub.subscribe("s", SubscriberKind::HttpFlv).unwrap();
        p.push(video(0, true));
        p.push(video(40, false));
        hub.unpublish(&p);
        let notices = |sub: &mut Subscription| {
            let mut out = Vec::new();
            while let Ok(t) = sub.rx.try_recv() {
                out.push(t.notice.unwrap_or(if t.keyframe { "key" } else { "inter" }));
            }
            out
        };
        assert_eq!(
            notices(&mut waiting),
            [PUBLISH_NOTIFY, "key", "inter", UNPUBLISH_NOTIFY]
        );
        assert_eq!(notices(&mut http), ["key", "inter"], "HTTP-FLV gets none");
        let p = hub.publish("s", "live", "x", 0).unwrap();
        p.push(video(0, true));
        assert_eq!(notices(&mut waiting), [PUBLISH_NOTIFY, "key"]);
    }

    #[test]
    fn the_flv_header_flags_follow_the_known_tracks() {
        let hub = Hub::new(16, Duration::from_secs(10));
        let p = hub.publish("s", "live", "x", 0).unwrap();
        let unknown = hub.subscribe("s", SubscriberKind::HttpFlv).unwrap();
        assert!(
            unknown.has_audio && unknown.has_video,
            "nothing known: both"
        );
        p.push(MediaTag::video(
            0,
            Bytes::from_static(&[0x17, 0, 0, 0, 0, 1]),
        ));
        let video_only = hub.subscribe("s", SubscriberKind::HttpFlv).unwrap();
        assert!(video_only.has_video && !video_only.has_audio);
        p.push(MediaTag::audio(
            0,
            Bytes::from_static(&[0xaf, 0, 0x12, 0x10]),
        ));
        let both = hub.subscribe("s", SubscriberKind::HttpFlv).unwrap();
        assert!(both.has_video && both.has_audio);
        let q = hub.publish("m", "live", "x", 0).unwrap();
        q.push(MediaTag::metadata(
            0,
            OnMetaData {
                audiocodecid: Some(10.0),
                ..Default::default()
            },
        ));
        let announced = hub.subscribe("m", SubscriberKind::HttpFlv).unwrap();
        assert!(
            announced.has_audio && !announced.has_video,
            "metadata says audio only"
        );
    }

    #[test]
    fn late_joiner_starts_on_the_cached_keyframe() {
        let hub = Hub::new(16, Duration::from_secs(10));
        let p = hub.publish("s", "live", "x", 0).unwrap();
        p.push(MediaTag::video(
            0,
            Bytes::from_static(&[0x17, 0, 0, 0, 0, 1]),
        ));
        for i in 0..5 {
            p.push(video(i * 40, i == 0 || i == 3));
        }
        let mut sub = hub.subscribe("s", SubscriberKind::HttpFlv).unwrap();
        let first = sub.rx.try_recv().unwrap();
        assert!(first.sequence_header);
        let key = sub.rx.try_recv().unwrap();
        assert!(key.keyframe);
        assert_eq!(key.timestamp, 120);
        assert_eq!(sub.rx.try_recv().unwrap().timestamp, 160);
        assert!(sub.rx.try_recv().is_err());
        assert_eq!(
            hub.publish("s", "live", "y", 0).unwrap_err(),
            PublishRefusal::Busy
        );
    }

    #[test]
    fn a_slow_player_skips_to_a_keyframe_and_does_not_hold_others() {
        let hub = Hub::new(16, Duration::from_secs(60));
        let p = hub.publish("s", "live", "x", 0).unwrap();
        p.push(MediaTag::video(
            0,
            Bytes::from_static(&[0x17, 0, 0, 0, 0, 1]),
        ));
        let mut slow = hub.subscribe("s", SubscriberKind::Rtmp).unwrap();
        let mut fast = hub.subscribe("s", SubscriberKind::Rtmp).unwrap();
        let mut fast_n = 0;
        for i in 0..100u32 {
            p.push(video(i * 40, i % 25 == 0));
            while fast.rx.try_recv().is_ok() {
                fast_n += 1;
            }
        }
        assert_eq!(fast_n, 101, "the fast player got every tag");
        // The slow one holds a full queue; after draining, the next tags it gets start at a keyframe.
        while slow.rx.try_recv().is_ok() {}
        for i in 100..130u32 {
            p.push(video(i * 40, i % 25 == 0));
        }
        let mut got = Vec::new();
        while let Ok(t) = slow.rx.try_recv() {
            got.push(t);
        }
        let first_media = got.iter().find(|t| !t.sequence_header).unwrap();
        assert!(first_media.keyframe, "resumed on a keyframe");
        assert_eq!(
            first_media.timestamp,
            100 * 40,
            "the first keyframe after it drained"
        );
    }

    #[test]
    fn a_player_too_slow_for_too_long_is_dropped_and_http_players_end_with_the_publisher() {
        let hub = Hub::new(16, Duration::ZERO);
        let p = hub.publish("s", "live", "x", 0).unwrap();
        let mut slow = hub.subscribe("s", SubscriberKind::Rtmp).unwrap();
        let mut http = hub.subscribe("s", SubscriberKind::HttpFlv).unwrap();
        for i in 0..40u32 {
            p.push(video(i * 40, false));
            while http.rx.try_recv().is_ok() {}
        }
        std::thread::sleep(Duration::from_millis(2));
        p.push(video(2000, false));
        assert_eq!(hub.live_one("s").unwrap().dropped_players, 1);
        while slow.rx.try_recv().is_ok() {}
        assert!(slow.rx.try_recv().is_err());
        hub.unpublish(&p);
        while http.rx.try_recv().is_ok() {}
        assert!(matches!(
            http.rx.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
        assert!(hub.live().is_empty());
    }

    #[test]
    fn streams_nobody_uses_are_forgotten() {
        let hub = Hub::new(16, Duration::from_secs(10));
        let p = hub.publish("a", "live", "x", 0).unwrap();
        let waiting = hub.subscribe("b", SubscriberKind::Rtmp).unwrap();
        for i in 0..1000 {
            // Names played once and left: RTMP players create an entry while they wait.
            drop(hub.subscribe(&format!("gone{i}"), SubscriberKind::Rtmp));
        }
        assert_eq!(hub.stream_count(), 1002);
        assert_eq!(hub.forget_unused(), 1000);
        assert_eq!(
            hub.stream_count(),
            2,
            "the live one and the waited-for one stay"
        );
        hub.unpublish(&p);
        assert_eq!(hub.forget_unused(), 0, "the publish handle still holds a");
        drop(p);
        drop(waiting);
        assert_eq!(hub.forget_unused(), 2);
        assert_eq!(hub.stream_count(), 0);
    }
}
