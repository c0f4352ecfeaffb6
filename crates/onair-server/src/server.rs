//! What the RTMP, HTTP and API sides share, and the publish lifecycle: authorisation
//! (signature, ban, channel_manager disable, one publisher per stream), then on begin and end
//! the database, the callbacks, the recorder, the relay and the screenshot schedule. A
//! housekeeping task applies tape tasks and takes screenshots on the absolute-time cadence.

use crate::callback::{event, Notifier};
use crate::config::{RecordFormat, RecordFormats, ServerConfig};
use crate::db::{Db, ScreenshotRow};
use crate::hls::HlsLive;
use crate::hub::TapKind;
use crate::hub::{lock, Hub, PublishHandle, PublishRefusal};
use crate::record::{RecordContext, Recorder};
use crate::record_hls::HlsRecordings;
use crate::unix_now;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Recorder tap capacity (tags) beyond the start burst.
const RECORD_TAP_TAGS: usize = 8192;
/// Screenshot width (seed 004).
pub const SCREENSHOT_WIDTH: u32 = 300;

/// A refused publish: the onStatus code and a description.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// NetStream status code.
    pub code: &'static str,
    /// Why.
    pub description: String,
}

fn refuse(code: &'static str, description: impl Into<String>) -> Refusal {
    Refusal {
        code,
        description: description.into(),
    }
}

/// Splits `name?query` into the name and its query pairs.
pub fn split_stream_key(key: &str) -> (String, HashMap<String, String>) {
    let (name, query) = key.split_once('?').unwrap_or((key, ""));
    let pairs = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    (name.to_string(), pairs)
}

/// Stream names: 1-128 characters of `A-Z a-z 0-9 _ - .`.
pub fn valid_stream_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && name != "."
        && name != ".."
}

fn check_signature(
    key: Option<&str>,
    name: &str,
    q: &HashMap<String, String>,
) -> Result<(), String> {
    let Some(key) = key else { return Ok(()) };
    let (Some(secret), Some(time)) = (q.get("txSecret"), q.get("txTime")) else {
        return Err("txSecret and txTime required".into());
    };
    onair_rtmp::sign::verify_push(key, name, secret, time, unix_now().max(0) as u64)
        .map_err(str::to_string)
}

#[derive(Debug)]
struct ShotSchedule {
    push_time: i64,
    next_ms: i64,
    busy: bool,
}

/// Shared server state.
#[derive(Debug)]
pub struct Shared {
    /// The configuration.
    pub config: ServerConfig,
    /// Streams.
    pub hub: Hub,
    /// State.
    pub db: Arc<Db>,
    /// Callbacks.
    pub notifier: Notifier,
    /// Recording context.
    pub record: Arc<RecordContext>,
    /// `<data>/screenshot`.
    pub shot_dir: PathBuf,
    /// Bound RTMP address.
    pub rtmp_addr: SocketAddr,
    /// Bound HTTP address.
    pub http_addr: SocketAddr,
    recorders: Mutex<HashMap<String, Recorder>>,
    /// Tape-task recorders beside automatic recording (their own files, `<stream>_tape_*`).
    tapes: Mutex<HashMap<String, Recorder>>,
    /// HLS recordings, live and parked (waiting for the push to resume).
    pub hls_records: Arc<HlsRecordings>,
    /// Live HLS windows by stream name (ended ones until the stream is published again).
    hls: Mutex<HashMap<String, Arc<HlsLive>>>,
    shots: Mutex<HashMap<String, ShotSchedule>>,
    rt: tokio::runtime::Handle,
    /// The connection caps of both listeners.
    pub conns: Arc<crate::conn_limit::ConnLimits>,
    /// The management API's per-client rate limit, when `api_rate` is set.
    pub api_rate: Option<crate::rate_limit::RateLimiter>,
    history: Mutex<crate::history::Sampler>,
    moderator: Option<crate::moderation::Moderator>,
    /// Cloud mixes (`Mix_StreamV2`).
    pub mixer: crate::mix::Mixer,
}

impl Shared {
    /// Builds the shared state.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: ServerConfig,
        db: Arc<Db>,
        notifier: Notifier,
        record: Arc<RecordContext>,
        shot_dir: PathBuf,
        rtmp_addr: SocketAddr,
        http_addr: SocketAddr,
        rt: tokio::runtime::Handle,
    ) -> Self {
        let hub = Hub::new(config.player_queue_tags, config.player_drop_after)
            .with_merge_window(config.merge_window_ms);
        let hls_records =
            HlsRecordings::new(record.clone(), config.hls_fragment, config.resume_timeout);
        let conns = crate::conn_limit::ConnLimits::new(
            config.max_connections,
            config.max_connections_per_ip,
        );
        let api_rate = config.api_rate.map(crate::rate_limit::RateLimiter::new);
        let history = Mutex::new(crate::history::Sampler::new(
            config.stats_interval.as_secs(),
        ));
        let moderator = config.moderation_url.as_deref().and_then(|u| {
            crate::moderation::Moderator::new(u, config.effective_callback_key())
                .map_err(|e| tracing::error!("moderation off: {e}"))
                .ok()
        });
        Self {
            mixer: crate::mix::Mixer::default(),
            moderator,
            history,
            conns,
            api_rate,
            hls_records,
            hls: Mutex::new(HashMap::new()),
            config,
            hub,
            db,
            notifier,
            record,
            shot_dir,
            rtmp_addr,
            http_addr,
            recorders: Mutex::new(HashMap::new()),
            tapes: Mutex::new(HashMap::new()),
            shots: Mutex::new(HashMap::new()),
            rt,
        }
    }

    /// Authorises and starts a publish of `stream_key` (`name?txSecret=..&txTime=..`).
    pub fn begin_publish(
        self: &Arc<Self>,
        app: &str,
        stream_key: &str,
        client: &str,
    ) -> Result<PublishHandle, Refusal> {
        let (name, query) = split_stream_key(stream_key);
        if !valid_stream_name(&name) {
            return Err(refuse(
                "NetStream.Publish.BadName",
                format!("invalid stream name {name:?}"),
            ));
        }
        check_signature(self.config.push_key.as_deref(), &name, &query)
            .map_err(|e| refuse("NetStream.Publish.Rejected", format!("push signature: {e}")))?;
        self.begin_local_publish(app, &name, client)
    }

    /// Starts a publish from inside the server (a cloud mix's output): the ban, disable and
    /// one-publisher checks of [`Shared::begin_publish`], no signature.
    pub fn begin_local_publish(
        self: &Arc<Self>,
        app: &str,
        name: &str,
        client: &str,
    ) -> Result<PublishHandle, Refusal> {
        let name = name.to_string();
        let now = unix_now();
        match self.db.channel(&name) {
            Ok(Some(c)) if c.banned => {
                return Err(refuse("NetStream.Publish.Rejected", "stream banned"));
            }
            Ok(Some(c)) if c.disabled_until > now => {
                return Err(refuse(
                    "NetStream.Publish.Rejected",
                    format!("push disabled until {}", c.disabled_until),
                ));
            }
            Ok(_) => {}
            Err(e) => {
                return Err(refuse(
                    "NetStream.Publish.Failed",
                    format!("state database: {e}"),
                ))
            }
        }
        let handle = self
            .hub
            .publish(&name, app, client, now)
            .map_err(|r| match r {
                PublishRefusal::Busy => refuse(
                    "NetStream.Publish.BadName",
                    format!("stream {name} is already being published"),
                ),
            })?;
        if let Err(e) = self.db.push_started(&name, app, now) {
            tracing::error!(stream = %name, "push not stored: {e}");
        }
        tracing::info!(stream = %name, %app, %client, "push started");
        self.notify_push(event::PUSH_BEGIN, &name, app, client, 0, "");
        let interval_ms = self
            .config
            .screenshot_interval
            .map_or(0, |d| d.as_millis() as i64);
        if interval_ms > 0 {
            let now_ms = unix_now_ms();
            lock(&self.shots).insert(
                name.clone(),
                ShotSchedule {
                    push_time: now,
                    next_ms: (now_ms / interval_ms + 1) * interval_ms,
                    busy: false,
                },
            );
        }
        self.sync_recording(&name);
        self.start_hls(&name);
        if let Some(base) = &self.config.forward {
            crate::forward::spawn(&self.rt, self.clone(), base.clone(), name.clone());
        }
        Ok(handle)
    }

    /// Ends a publish: releases the stream, finalises the recording, stores the end, sends
    /// the interruption callback.
    pub async fn end_publish(self: &Arc<Self>, handle: PublishHandle, reason: &str) {
        let name = handle.name.clone();
        self.hub.unpublish(&handle);
        lock(&self.shots).remove(&name);
        self.stop_recording(&name).await;
        self.hub.close_taps(&name, TapKind::HlsLive);
        let now = unix_now();
        if let Err(e) = off_worker(|| self.db.push_ended(&name, now)) {
            tracing::error!(stream = %name, "push end not stored: {e}");
        }
        tracing::info!(stream = %name, "push ended: {reason}");
        let errcode = i64::from(reason != "push ended");
        self.notify_push(
            event::PUSH_END,
            &name,
            &handle.info.app,
            &handle.info.client_addr,
            errcode,
            reason,
        );
    }

    fn notify_push(
        &self,
        ev: i64,
        name: &str,
        app: &str,
        client: &str,
        errcode: i64,
        errmsg: &str,
    ) {
        let fields = json!({
            "app": self.http_addr.ip().to_string(),
            "appname": app,
            "stream_id": name,
            "channel_id": name,
            "user_ip": crate::hub::ip_of(client),
            "errcode": errcode,
            "errmsg": errmsg,
            "event_time": unix_now(),
        });
        if let serde_json::Value::Object(m) = fields {
            self.notifier.send(ev, m, unix_now());
        }
    }

    /// The server's async runtime (threads outside it wait on it with `block_on`).
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.rt
    }

    /// Authorises a play of `stream_key`; returns the stream name.
    pub fn authorize_play(&self, stream_key: &str) -> Result<String, String> {
        let (name, query) = split_stream_key(stream_key);
        if !valid_stream_name(&name) {
            return Err(format!("invalid stream name {name:?}"));
        }
        check_signature(self.config.play_key.as_deref(), &name, &query)
            .map_err(|e| format!("play signature: {e}"))?;
        Ok(name)
    }

    /// The formats `name` should be recording in now (automatic recording or a tape task).
    fn should_record(&self, name: &str) -> Option<RecordFormats> {
        if !self.config.record.is_empty() {
            return Some(self.config.record.clone());
        }
        match self.db.tape_active(name, unix_now()) {
            Ok(true) => Some(RecordFormat::Flv.into()),
            _ => None,
        }
    }

    /// With automatic recording on, starts or stops the tape recorder of a live stream to
    /// match its tape tasks: a separate FLV file, `<stream>_tape_<ms>.flv`.
    fn sync_tape(&self, name: &str) {
        if self.config.record.is_empty() {
            return;
        }
        let want = matches!(self.db.tape_active(name, unix_now()), Ok(true));
        let running = lock(&self.tapes).contains_key(name);
        if want && !running {
            let Some(rx) = self.hub.tap(name, RECORD_TAP_TAGS, TapKind::Tape) else {
                return;
            };
            let prefix = format!("{name}_tape");
            match Recorder::start_named(
                self.record.clone(),
                name,
                &prefix,
                vec![RecordFormat::Flv],
                rx,
            ) {
                Ok(r) => {
                    lock(&self.tapes).insert(name.to_string(), r);
                }
                Err(e) => tracing::error!(stream = %name, "tape recorder not started: {e}"),
            }
        } else if !want && running {
            self.hub.close_taps(name, TapKind::Tape);
            if let Some(r) = lock(&self.tapes).remove(name) {
                self.rt.spawn_blocking(move || r.join());
            }
        }
    }

    /// Starts or stops the recorders of a live stream to match configuration and tape tasks.
    pub fn sync_recording(&self, name: &str) {
        self.sync_tape(name);
        let want = self.should_record(name);
        let running = lock(&self.recorders).contains_key(name);
        match (want, running) {
            (Some(formats), false) => {
                if formats.contains(RecordFormat::Hls) {
                    if let Some(rx) = self.hub.tap(name, RECORD_TAP_TAGS, TapKind::Record) {
                        self.hls_records.record(name, rx);
                    }
                }
                let Some(rx) = self.hub.tap(name, RECORD_TAP_TAGS, TapKind::Record) else {
                    return;
                };
                // Segmented formats share one FLV recorder (with HLS alone it starts no thread
                // and only marks the stream as recording).
                match Recorder::start(self.record.clone(), name, formats.segmented(), rx) {
                    Ok(r) => {
                        lock(&self.recorders).insert(name.to_string(), r);
                    }
                    Err(e) => tracing::error!(stream = %name, "recorder not started: {e}"),
                }
            }
            (None, true) => {
                self.hub.close_taps(name, TapKind::Record);
                if let Some(r) = lock(&self.recorders).remove(name) {
                    self.rt.spawn_blocking(move || r.join());
                }
            }
            _ => {}
        }
    }

    /// Stops the recorders of `name` and waits for the FLV segment to be finalised (an HLS
    /// recording parks, waiting for the push to resume).
    pub async fn stop_recording(&self, name: &str) {
        self.hub.close_taps(name, TapKind::Record);
        self.hub.close_taps(name, TapKind::Tape);
        let r = lock(&self.recorders).remove(name);
        let tape = lock(&self.tapes).remove(name);
        if r.is_some() || tape.is_some() {
            let _ = tokio::task::spawn_blocking(move || {
                if let Some(r) = r {
                    r.join();
                }
                if let Some(t) = tape {
                    t.join();
                }
            })
            .await;
        }
    }

    /// Stops every recorder and closes every HLS recording (shutdown).
    pub async fn stop_all_recordings(&self) {
        let mut names: Vec<String> = lock(&self.recorders).keys().cloned().collect();
        names.extend(lock(&self.tapes).keys().cloned());
        for n in names {
            self.stop_recording(&n).await;
        }
        let live: Vec<Arc<HlsLive>> = lock(&self.hls).drain().map(|(_, h)| h).collect();
        let hls = self.hls_records.clone();
        let _ = tokio::task::spawn_blocking(move || {
            hls.shutdown();
            for h in live {
                h.join();
            }
        })
        .await;
    }

    /// Starts the live HLS window of a stream just published (when HLS is on).
    fn start_hls(&self, name: &str) {
        if !self.config.hls {
            return;
        }
        let Some(rx) = self.hub.tap(name, RECORD_TAP_TAGS, TapKind::HlsLive) else {
            return;
        };
        match HlsLive::start(name, rx, self.config.hls_fragment, self.config.hls_window) {
            Ok(h) => {
                let mut map = lock(&self.hls);
                // Ended windows of other streams are forgotten here, so the map holds the
                // live streams and the last publish of each name at most once.
                map.retain(|_, h| !h.ended());
                if let Some(old) = map.insert(name.to_string(), h) {
                    self.rt.spawn_blocking(move || old.join());
                }
            }
            Err(e) => tracing::error!(stream = %name, "HLS not started: {e}"),
        }
    }

    /// The live HLS window of `name`, if it was published since the start.
    pub fn hls_live(&self, name: &str) -> Option<Arc<HlsLive>> {
        lock(&self.hls).get(name).cloned()
    }

    /// `http://host:port` of the HTTP side.
    pub fn http_base(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// A push URL for `app/stream`, signed until `expiry_unix` when a push key is set.
    pub fn push_url(&self, app: &str, stream: &str, expiry_unix: u64) -> String {
        let base = self.rtmp_base();
        match &self.config.push_key {
            Some(k) => onair_rtmp::sign::signed_push_url(&base, app, stream, k, expiry_unix),
            None => format!("{base}/{app}/{stream}"),
        }
    }

    /// `rtmp://host:port` of the RTMP side.
    pub fn rtmp_base(&self) -> String {
        format!("rtmp://{}", self.rtmp_addr)
    }

    fn take_due_shots(&self) -> Vec<(String, i64, i64)> {
        let now_ms = unix_now_ms();
        let Some(interval) = self.config.screenshot_interval else {
            return Vec::new();
        };
        let interval_ms = interval.as_millis() as i64;
        let mut due = Vec::new();
        for (name, s) in lock(&self.shots).iter_mut() {
            if now_ms >= s.next_ms && !s.busy {
                s.busy = true;
                due.push((name.clone(), s.push_time, s.next_ms / 1000));
                s.next_ms = (now_ms / interval_ms + 1) * interval_ms;
            }
        }
        due
    }

    fn shot_done(&self, name: &str) {
        if let Some(s) = lock(&self.shots).get_mut(name) {
            s.busy = false;
        }
    }

    fn take_screenshot(self: &Arc<Self>, name: String, push_time: i64, shot_time: i64) {
        let Some((Some(vseq), gop)) = self.hub.gop_snapshot(&name) else {
            self.shot_done(&name);
            return;
        };
        let me = self.clone();
        self.rt.spawn_blocking(move || {
            match crate::media::screenshot(&vseq, &gop, SCREENSHOT_WIDTH) {
                Ok(shot) => {
                    // <stream>_<push time>_<task time>_<offset>_<w>_<h>.jpg (seed 004); the task
                    // starts with the push.
                    let offset = shot_time - push_time;
                    let file = format!(
                        "{name}_{push_time}_{push_time}_{offset}_{}_{}.jpg",
                        shot.width, shot.height
                    );
                    let path = me.shot_dir.join(&file);
                    if let Err(e) = std::fs::write(&path, &shot.jpeg) {
                        tracing::error!(stream = %name, "screenshot not written: {e}");
                    } else {
                        let row = ScreenshotRow {
                            id: 0,
                            channel_id: name.clone(),
                            file_name: file.clone(),
                            create_time: shot_time,
                            width: i64::from(shot.width),
                            height: i64::from(shot.height),
                        };
                        if let Err(e) = me.db.screenshot_taken(&row) {
                            tracing::error!(stream = %name, "screenshot not stored: {e}");
                        }
                        let fields = json!({
                            "stream_id": name,
                            "channel_id": name,
                            "create_time": shot_time,
                            "file_size": shot.jpeg.len(),
                            "width": shot.width,
                            "height": shot.height,
                            "pic_url": format!("/screenshot/{file}"),
                            "pic_full_url": format!("{}/screenshot/{file}", me.http_base()),
                        });
                        if let serde_json::Value::Object(m) = fields {
                            me.notifier.send(event::SCREENSHOT, m, unix_now());
                        }
                        me.moderate(&name, &file, shot.jpeg.clone());
                    }
                }
                Err(e) => tracing::debug!(stream = %name, "no screenshot this time: {e}"),
            }
            me.shot_done(&name);
        });
    }
}

/// Accepts connections on `listener` and runs `conn` for each as a task until shutdown; returns
/// the tasks still running so the caller decides how long to wait for them.
pub(crate) async fn accept_until_shutdown<F, Fut>(
    listener: tokio::net::TcpListener,
    mut shutdown: watch::Receiver<bool>,
    what: &'static str,
    limits: Arc<crate::conn_limit::ConnLimits>,
    refusal: &'static [u8],
    mut conn: F,
) -> tokio::task::JoinSet<()>
where
    F: FnMut(tokio::net::TcpStream, SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Some(permit) = limits.try_acquire(peer.ip()) else {
                        // Over a cap: say so if the socket takes it at once, then close.
                        let _ = stream.try_write(refusal);
                        tracing::debug!(%peer, "{what} connection refused: connection cap");
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let task = conn(stream, peer);
                    conns.spawn(async move {
                        task.await;
                        drop(permit);
                    });
                }
                Err(e) => {
                    tracing::warn!("{what} accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    conns
}

impl Shared {
    /// Hands a screenshot to the moderation hook, if one is set; bans on its word.
    fn moderate(self: &Arc<Self>, name: &str, file: &str, jpeg: Vec<u8>) {
        let Some(m) = self.moderator.clone() else {
            return;
        };
        let (me, name, file) = (self.clone(), name.to_string(), file.to_string());
        self.rt.spawn(async move {
            match m.check(&name, jpeg, unix_now()).await {
                Ok(crate::moderation::Verdict::Pass) => {}
                Ok(crate::moderation::Verdict::Ban(reason)) => {
                    let now = unix_now();
                    if let Err(e) = off_worker(|| me.db.set_banned(&name, true, now)) {
                        tracing::error!(stream = %name, "moderation ban not stored: {e}");
                        return;
                    }
                    me.hub.kick(&name);
                    tracing::warn!(stream = %name, "banned by the moderation hook: {reason}");
                    let fields = json!({
                        "stream_id": name,
                        "channel_id": name,
                        "pic_url": format!("/screenshot/{file}"),
                        "pic_full_url": format!("{}/screenshot/{file}", me.http_base()),
                        "reason": reason,
                    });
                    if let serde_json::Value::Object(f) = fields {
                        me.notifier.send(event::MODERATION_BAN, f, now);
                    }
                }
                Err(e) => tracing::warn!(stream = %name, "moderation: {e}"),
            }
        });
    }

    /// Takes the statistics samples due now into the history (SQLite, off the async workers).
    fn sample_statistics(&self) {
        let now_unix = unix_now();
        let samples = lock(&self.history).tick(&self.hub.live(), now_unix, Instant::now());
        if samples.is_empty() {
            return;
        }
        let keep_from = now_unix - i64::from(self.config.stats_history_days) * 86_400;
        if let Err(e) = off_worker(|| self.db.stat_samples_taken(&samples, keep_from)) {
            tracing::error!("statistics history not stored: {e}");
        }
    }
}

/// Runs blocking work (SQLite) from async code without stalling the async workers: on the
/// server's multi-thread runtime the worker hands its other tasks over first
/// (`block_in_place`); elsewhere (a test calling in directly) it just runs.
pub(crate) fn off_worker<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Takes due screenshots (every 100 ms check) and applies tape tasks (every second) until
/// shutdown.
pub async fn housekeeping(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut n = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        for (name, push_time, shot_time) in shared.take_due_shots() {
            shared.take_screenshot(name, push_time, shot_time);
        }
        n += 1;
        if n % 10 == 0 {
            shared.hub.forget_unused();
            shared.sample_statistics();
        }
        if n % 10 == 0 {
            off_worker(|| {
                for live in shared.hub.live() {
                    shared.sync_recording(&live.name);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_keys_and_names() {
        let (n, q) = split_stream_key("test?txSecret=ab&txTime=5C271099");
        assert_eq!(n, "test");
        assert_eq!(q["txTime"], "5C271099");
        assert!(valid_stream_name("a_b-1.x"));
        assert!(!valid_stream_name("../etc"));
        assert!(!valid_stream_name(""));
        assert!(!valid_stream_name(&"x".repeat(129)));
    }

    #[test]
    fn signature_rules() {
        let q = |s: &str| split_stream_key(s).1;
        assert!(check_signature(None, "a", &q("a")).is_ok());
        assert!(check_signature(Some("k"), "a", &q("a"))
            .unwrap_err()
            .contains("required"));
        let far = onair_rtmp::sign::push_query("k", "a", 4_000_000_000);
        assert!(check_signature(Some("k"), "a", &q(&format!("a?{far}"))).is_ok());
        assert!(check_signature(Some("other"), "a", &q(&format!("a?{far}"))).is_err());
        let old = onair_rtmp::sign::push_query("k", "a", 1_000);
        assert!(check_signature(Some("k"), "a", &q(&format!("a?{old}")))
            .unwrap_err()
            .contains("expired"));
    }
}
