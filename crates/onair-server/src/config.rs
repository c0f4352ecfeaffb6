//! Server configuration, validated when built: listen addresses, data directory, keys,
//! callback URL, recording format and segment length, screenshot cadence, forwarding, and the
//! per-player queue bounds.

use crate::error::{ServerError, ServerResult};
use std::path::PathBuf;
use std::time::Duration;

/// A container recordings are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordFormat {
    /// No automatic recording (Live_Tape_Start still records, as FLV).
    None,
    /// FLV segments.
    Flv,
    /// MP4 segments (recorded as FLV, remuxed when the segment closes).
    Mp4,
    /// One HLS playlist (MPEG-TS segments) per push, resumed across interruptions shorter
    /// than the resumption timeout; no length limit (seed 002).
    Hls,
    /// Audio only: AAC in ADTS (`.aac`), segmented like FLV.
    Aac,
}

impl std::str::FromStr for RecordFormat {
    type Err = ServerError;
    fn from_str(s: &str) -> ServerResult<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "flv" => Ok(Self::Flv),
            "mp4" => Ok(Self::Mp4),
            "hls" => Ok(Self::Hls),
            "aac" => Ok(Self::Aac),
            _ => Err(ServerError::Config(format!(
                "record format {s:?}: expected flv, mp4, hls, aac or none (a comma list allowed)"
            ))),
        }
    }
}

impl RecordFormat {
    /// The file extension of finished recordings (`m3u8` for HLS's playlist).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Mp4 => "mp4",
            Self::Hls => "m3u8",
            Self::Aac => "aac",
            _ => "flv",
        }
    }

    /// The name the recording callback's `file_format` carries.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Flv => "flv",
            Self::Mp4 => "mp4",
            Self::Hls => "hls",
            Self::Aac => "aac",
        }
    }
}

/// The formats every push is recorded in (`--record flv,hls`); empty means none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFormats(Vec<RecordFormat>);

impl RecordFormats {
    /// No automatic recording.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `f` is among them.
    pub fn contains(&self, f: RecordFormat) -> bool {
        self.0.contains(&f)
    }

    /// The formats written from FLV segments (FLV, MP4, AAC), in order.
    pub fn segmented(&self) -> Vec<RecordFormat> {
        self.0
            .iter()
            .copied()
            .filter(|f| matches!(f, RecordFormat::Flv | RecordFormat::Mp4 | RecordFormat::Aac))
            .collect()
    }
}

impl From<RecordFormat> for RecordFormats {
    fn from(f: RecordFormat) -> Self {
        match f {
            RecordFormat::None => Self::none(),
            f => Self(vec![f]),
        }
    }
}

impl std::str::FromStr for RecordFormats {
    type Err = ServerError;
    /// `flv`, `mp4,hls`, `none`...: duplicates collapse; `none` with another format is an error.
    fn from_str(s: &str) -> ServerResult<Self> {
        let mut out = Vec::new();
        let mut none = false;
        for part in s.split(',') {
            match part.parse::<RecordFormat>()? {
                RecordFormat::None => none = true,
                f if !out.contains(&f) => out.push(f),
                _ => {}
            }
        }
        if none && !out.is_empty() {
            return Err(ServerError::Config(format!(
                "record formats {s:?}: none cannot be combined with a format"
            )));
        }
        Ok(Self(out))
    }
}

/// Longest HLS resumption timeout (seed 002: 0-1800 s).
pub const MAX_RESUME_TIMEOUT: Duration = Duration::from_secs(1800);

/// Everything the server needs to start. Build with [`ServerConfig::new`] and the setters,
/// then [`ServerConfig::validate`] (done by `LiveServer::start`).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// RTMP listen address (default 127.0.0.1:1935; port 0 picks a free one).
    pub rtmp_addr: String,
    /// HTTP listen address: HTTP-FLV, the API, files (default 127.0.0.1:8080).
    pub http_addr: String,
    /// Where the database, recordings and screenshots live.
    pub data_dir: PathBuf,
    /// Push signing key (txSecret/txTime required when set).
    pub push_key: Option<String>,
    /// Play signing key (txSecret/txTime required on play URLs when set).
    pub play_key: Option<String>,
    /// Management API key (`sign = MD5(key + t)`); the API is open when unset.
    pub api_key: Option<String>,
    /// Where event callbacks are POSTed.
    pub callback_url: Option<String>,
    /// Key that signs callbacks (defaults to the API key, then to the push key).
    pub callback_key: Option<String>,
    /// Automatic recording of every published stream, in each of these formats.
    pub record: RecordFormats,
    /// HLS recording: an interruption shorter than this continues the same playlist (seed
    /// 002's 续录等待时长, 0-1800 s); a longer one starts a new playlist.
    pub resume_timeout: Duration,
    /// HLS live at `/<app>/<stream>.m3u8` (Live_Channel_GetStatus reports `recv_type` 3).
    pub hls: bool,
    /// Shortest HLS segment: a segment is cut at the first keyframe past this.
    pub hls_fragment: Duration,
    /// Segments a live HLS playlist lists.
    pub hls_window: usize,
    /// Longest recording segment (the seeds allow 1-120 min; shorter values are for tests).
    pub segment_max: Duration,
    /// Screenshot cadence (the seeds' 10 s); `None` turns screenshots off.
    pub screenshot_interval: Option<Duration>,
    /// Relay every published stream to `<forward>/<stream>`.
    pub forward: Option<String>,
    /// Tags a player may have queued before it skips to the next keyframe.
    pub player_queue_tags: usize,
    /// How long a player may stay too slow to catch up before it is dropped.
    pub player_drop_after: Duration,
    /// Merge window, ms: audio waits up to this long (by timestamp) for the next video frame
    /// so each player is woken and written to once per frame (less server CPU per player, that
    /// much more audio delay for players). 0, the default, sends every message at once.
    pub merge_window_ms: u32,
    /// Without an API key the web console is read-only unless this is set (it then shows the
    /// ban, cut and recording actions). With a key, the console asks for it and can act.
    pub console_admin: bool,
    /// Management API requests a second per client IP; more are answered 1202. `None`: no
    /// limit.
    pub api_rate: Option<u32>,
    /// Open connections (RTMP and HTTP together) before new ones are refused.
    pub max_connections: usize,
    /// Open connections from one IP address before its new ones are refused.
    pub max_connections_per_ip: usize,
    /// Allow an HTTP listener reachable from the network without an API key (the management
    /// API, bans included, is then open to anyone who can reach it).
    pub open_api: bool,
    /// An RTMP connection that neither publishes nor plays, or an HTTP connection that sends
    /// no request, is closed after this long without a byte (default 30 s).
    pub idle_timeout: Duration,
    /// A publisher that sends no audio or video for this long is cut (default 10 s).
    pub publish_media_timeout: Duration,
    /// The application id API calls must name: a call whose `cmd` (or `appid`) differs is
    /// refused ("cmd is invalid" / "appid is invalid"). `None`: not checked.
    pub appid: Option<String>,
    /// Whether the statistics interfaces answer (seed 002's 1000 / 1001 when not).
    pub stats: StatsAccess,
    /// How often each live stream's statistics are sampled into the history (a minute).
    pub stats_interval: Duration,
    /// Days the statistics history is kept (1-365).
    pub stats_history_days: u32,
    /// Every screenshot is POSTed here; a reply `{"ban": true}` bans the stream
    /// ([`crate::moderation`]).
    pub moderation_url: Option<String>,
}

/// Whether `Get_LiveStat`, `Get_LivePushStat` and `Get_LivePlayStat` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatsAccess {
    /// They answer.
    #[default]
    On,
    /// 1000 "user is not registered for statapi".
    NotRegistered,
    /// 1001 "user service for statapi was stopped".
    Stopped,
}

impl std::str::FromStr for StatsAccess {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "on" => Ok(Self::On),
            "unregistered" => Ok(Self::NotRegistered),
            "stopped" => Ok(Self::Stopped),
            other => Err(format!(
                "--stats {other:?}: expected on, unregistered (1000) or stopped (1001)"
            )),
        }
    }
}

/// Whether an HTTP listen address only takes connections from this machine (every address it
/// names is a loopback one; a name that does not resolve counts as not loopback).
fn http_is_loopback(addr: &str) -> bool {
    use std::net::ToSocketAddrs;
    match addr.to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        }
        Err(_) => false,
    }
}

impl ServerConfig {
    /// Defaults: loopback ports 1935 and 8080, FLV recording in 30 min segments, screenshots
    /// every 10 s, no keys.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            rtmp_addr: "127.0.0.1:1935".into(),
            http_addr: "127.0.0.1:8080".into(),
            data_dir: data_dir.into(),
            push_key: None,
            play_key: None,
            api_key: None,
            callback_url: None,
            callback_key: None,
            record: RecordFormat::Flv.into(),
            resume_timeout: Duration::from_secs(30),
            hls: true,
            hls_fragment: Duration::from_secs(2),
            hls_window: 6,
            segment_max: Duration::from_secs(30 * 60),
            screenshot_interval: Some(Duration::from_secs(10)),
            forward: None,
            player_queue_tags: 512,
            player_drop_after: Duration::from_secs(10),
            merge_window_ms: 0,
            console_admin: false,
            api_rate: None,
            max_connections: 10_000,
            max_connections_per_ip: 1_000,
            open_api: false,
            idle_timeout: Duration::from_secs(30),
            publish_media_timeout: Duration::from_secs(10),
            appid: None,
            stats: StatsAccess::On,
            stats_interval: Duration::from_secs(60),
            stats_history_days: 30,
            moderation_url: None,
        }
    }

    /// The key callbacks are signed with.
    pub fn effective_callback_key(&self) -> &str {
        self.callback_key
            .as_deref()
            .or(self.api_key.as_deref())
            .or(self.push_key.as_deref())
            .unwrap_or("")
    }

    /// Checks ranges and formats; the message names the accepted range.
    pub fn validate(&self) -> ServerResult<()> {
        if self.segment_max < Duration::from_secs(1)
            || self.segment_max > Duration::from_secs(120 * 60)
        {
            return Err(ServerError::Config(format!(
                "segment length {:?}: expected 1 s to 120 min",
                self.segment_max
            )));
        }
        if self.resume_timeout > MAX_RESUME_TIMEOUT {
            return Err(ServerError::Config(format!(
                "resumption timeout {:?}: expected 0 to 1800 s",
                self.resume_timeout
            )));
        }
        if self.hls_fragment < Duration::from_millis(500)
            || self.hls_fragment > Duration::from_secs(60)
        {
            return Err(ServerError::Config(format!(
                "HLS fragment {:?}: expected 0.5 to 60 s",
                self.hls_fragment
            )));
        }
        if !(2..=100).contains(&self.hls_window) {
            return Err(ServerError::Config(format!(
                "HLS window {} segments: expected 2 to 100",
                self.hls_window
            )));
        }
        if let Some(i) = self.screenshot_interval {
            if i < Duration::from_secs(1) || i > Duration::from_secs(3600) {
                return Err(ServerError::Config(format!(
                    "screenshot interval {i:?}: expected 1 s to 1 h"
                )));
            }
        }
        if self.merge_window_ms > crate::hub::MAX_MERGE_WINDOW_MS {
            return Err(ServerError::Config(format!(
                "merge window {} ms: expected 0 to {} ms",
                self.merge_window_ms,
                crate::hub::MAX_MERGE_WINDOW_MS
            )));
        }
        if self.api_key.is_none() && !self.open_api && !http_is_loopback(&self.http_addr) {
            return Err(ServerError::Config(format!(
                "HTTP on {} is reachable from the network and there is no API key: anyone who \
                 reaches it could ban and cut streams. Set an API key (--api-key), bind to \
                 127.0.0.1, or pass --open-api to run it open on purpose",
                self.http_addr
            )));
        }
        if self.api_rate == Some(0) {
            return Err(ServerError::Config(
                "API rate 0 requests/s: expected at least 1 (or no limit)".into(),
            ));
        }
        if self.idle_timeout < Duration::from_secs(1)
            || self.idle_timeout > Duration::from_secs(3600)
        {
            return Err(ServerError::Config(format!(
                "idle timeout {:?}: expected 1 s to 1 h",
                self.idle_timeout
            )));
        }
        if !(1..=365).contains(&self.stats_history_days)
            || self.stats_interval < Duration::from_secs(1)
            || self.stats_interval > Duration::from_secs(3600)
        {
            return Err(ServerError::Config(format!(
                "statistics history: {} days every {:?}: expected 1-365 days, 1 s to 1 h",
                self.stats_history_days, self.stats_interval
            )));
        }
        if self.max_connections == 0 || self.max_connections_per_ip == 0 {
            return Err(ServerError::Config(
                "connection caps must be at least 1".into(),
            ));
        }
        if !(16..=65_536).contains(&self.player_queue_tags) {
            return Err(ServerError::Config(format!(
                "player queue {} tags: expected 16 to 65536",
                self.player_queue_tags
            )));
        }
        for (name, key) in [
            ("push key", &self.push_key),
            ("play key", &self.play_key),
            ("API key", &self.api_key),
            ("callback key", &self.callback_key),
        ] {
            if key.as_deref().is_some_and(str::is_empty) {
                return Err(ServerError::Config(format!("{name} is empty")));
            }
        }
        for (what, url) in [
            ("callback", &self.callback_url),
            ("moderation", &self.moderation_url),
        ] {
            if let Some(u) = url {
                let ok = url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
                if !ok {
                    return Err(ServerError::Config(format!(
                        "{what} URL {u:?}: expected an http:// or https:// URL"
                    )));
                }
            }
        }
        if let Some(f) = &self.forward {
            onair_rtmp::StreamUrl::parse(&format!("{}/x", f.trim_end_matches('/')))
                .map_err(|e| ServerError::Config(format!("forward URL {f:?}: {e}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_range() {
        let mut c = ServerConfig::new("/tmp/x");
        assert!(c.validate().is_ok());
        c.segment_max = Duration::from_secs(121 * 60);
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("1 s to 120 min"));
        c.segment_max = Duration::from_secs(60);
        c.callback_url = Some("ftp://x".into());
        assert!(c.validate().unwrap_err().to_string().contains("http://"));
        c.callback_url = None;
        c.api_key = Some(String::new());
        assert!(c.validate().is_err());
        assert_eq!("MP4".parse::<RecordFormat>().unwrap(), RecordFormat::Mp4);
        assert!("avi".parse::<RecordFormat>().is_err());
        let f: RecordFormats = "flv, hls,flv".parse().unwrap();
        assert!(f.contains(RecordFormat::Hls) && f.contains(RecordFormat::Flv));
        assert_eq!(f.segmented(), vec![RecordFormat::Flv]);
        assert!("none".parse::<RecordFormats>().unwrap().is_empty());
        assert!("none,mp4".parse::<RecordFormats>().is_err());
        c.resume_timeout = Duration::from_secs(1801);
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("0 to 1800 s"));
    }

    #[test]
    fn a_network_reachable_api_needs_a_key_or_open_api() {
        let mut c = ServerConfig::new("/tmp/x");
        for loopback in ["127.0.0.1:8080", "[::1]:0", "localhost:8080"] {
            c.http_addr = loopback.into();
            assert!(c.validate().is_ok(), "{loopback}");
        }
        c.http_addr = "0.0.0.0:8080".into();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("--api-key") && e.contains("--open-api"), "{e}");
        c.open_api = true;
        assert!(c.validate().is_ok());
        c.open_api = false;
        c.api_key = Some("k".into());
        assert!(c.validate().is_ok());
    }
}
