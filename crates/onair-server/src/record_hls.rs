//! HLS recording (seed 002): one playlist `<channel>_<ms>.m3u8` with its MPEG-TS segments
//! `<channel>_<ms>_<seq>.ts` under `<data>/record/`, with no length limit. When the push
//! ends, the recorder parks: a new push of the same channel within the resumption timeout
//! (`--resume-timeout-seconds`, 0-1800 s, the seed's 续录等待时长) continues the same playlist
//! after an `#EXT-X-DISCONTINUITY`; past it the playlist is closed (`#EXT-X-ENDLIST`), its row
//! stored and the event-100 callback sent with `file_format` "hls". The playlist on disk is
//! rewritten (write + rename) after every segment, so a crash leaves a playable `EVENT`
//! playlist that [`repair`] closes at the next start.
//!
//! The wait is a channel receive with the timeout as its deadline: the new push's tap arrives
//! through it, or the time runs out; a shutdown closes the channel and the playlist is closed
//! at once.

use crate::db::RecordingRow;
use crate::hls::{render_playlist, PlaylistKind, Segment, Segmenter};
use crate::hub::{lock, Tag};
use crate::record::{announce, RecordContext};
use crate::unix_now;
use crossbeam_channel::{Receiver, Sender};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A parked recorder: its id and where the next push's tap goes.
type Parked = (u64, Sender<Receiver<Tag>>);

/// Every HLS recording of the server, live or parked.
#[derive(Debug)]
pub struct HlsRecordings {
    ctx: Arc<RecordContext>,
    fragment: Duration,
    resume: Duration,
    parked: Mutex<HashMap<String, Parked>>,
    next_park: std::sync::atomic::AtomicU64,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl HlsRecordings {
    /// Recordings into `ctx.dir`, segments of at least `fragment`, resumed within `resume`.
    pub fn new(ctx: Arc<RecordContext>, fragment: Duration, resume: Duration) -> Arc<Self> {
        Arc::new(Self {
            ctx,
            fragment,
            resume,
            parked: Mutex::new(HashMap::new()),
            next_park: std::sync::atomic::AtomicU64::new(0),
            threads: Mutex::new(Vec::new()),
        })
    }

    /// Records `channel` from `rx` (a hub tap): into the parked playlist of the channel when
    /// one waits, else into a new one.
    pub fn record(self: &Arc<Self>, channel: &str, rx: Receiver<Tag>) {
        let rx = {
            let mut parked = lock(&self.parked);
            match parked.remove(channel) {
                Some((_, tx)) => match tx.send(rx) {
                    Ok(()) => {
                        tracing::info!(channel, "HLS recording resumed");
                        return;
                    }
                    Err(e) => e.into_inner(),
                },
                None => rx,
            }
        };
        let me = self.clone();
        let name = channel.to_string();
        match std::thread::Builder::new()
            .name(format!("onair-hls-rec-{channel}"))
            .spawn(move || me.run(&name, rx))
        {
            Ok(t) => {
                let mut threads = lock(&self.threads);
                threads.retain(|t| !t.is_finished());
                threads.push(t);
            }
            Err(e) => tracing::error!(channel, "HLS recorder not started: {e}"),
        }
    }

    /// Closes every parked playlist now and waits for every recorder (call after the taps
    /// were closed).
    pub fn shutdown(&self) {
        lock(&self.parked).clear();
        let threads = std::mem::take(&mut *lock(&self.threads));
        for t in threads {
            let _ = t.join();
        }
    }

    fn run(self: Arc<Self>, channel: &str, first: Receiver<Tag>) {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let base = format!("{channel}_{ms}");
        let mut rec = match Playlist::open(&self.ctx, channel, &base) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(channel, "HLS recording not started: {e}");
                return;
            }
        };
        let mut rx = first;
        loop {
            let mut seg = Segmenter::new(self.fragment, rec.next_seq(), !rec.segments.is_empty());
            for tag in rx.iter() {
                match seg.push(&tag) {
                    Ok(Some(s)) => rec.add(s),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(channel, "HLS recording: {e}");
                        break;
                    }
                }
            }
            if let Ok(Some(s)) = seg.close() {
                rec.add(s);
            }
            match self.park(channel) {
                Some(next) => rx = next,
                None => break,
            }
        }
        rec.close(&self.ctx);
    }

    /// Waits for the channel's next push up to the resumption timeout.
    fn park(&self, channel: &str) -> Option<Receiver<Tag>> {
        let (tx, resume) = crossbeam_channel::bounded(1);
        let id = self
            .next_park
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The map holds the only sender: a shutdown that clears it ends the wait at once.
        lock(&self.parked).insert(channel.to_string(), (id, tx));
        tracing::info!(channel, timeout = ?self.resume, "HLS recording waits for the push to resume");
        if let Ok(next) = resume.recv_timeout(self.resume) {
            return Some(next);
        }
        // Under the lock: a push that found us before we left is still taken.
        let mut parked = lock(&self.parked);
        if parked.get(channel).is_some_and(|(i, _)| *i == id) {
            parked.remove(channel);
        }
        resume.try_recv().ok()
    }
}

/// A playlist being recorded.
struct Playlist {
    path: PathBuf,
    base: String,
    segments: Vec<Segment>,
    bytes: u64,
    row: RecordingRow,
}

impl Playlist {
    fn open(ctx: &RecordContext, channel: &str, base: &str) -> crate::error::ServerResult<Self> {
        let file = format!("{base}.m3u8");
        let now = unix_now();
        let id = ctx.db.recording_opened(channel, &file, "hls", now)?;
        tracing::info!(channel, %file, "HLS recording opened");
        Ok(Self {
            path: ctx.dir.join(&file),
            base: base.to_string(),
            segments: Vec::new(),
            bytes: 0,
            row: RecordingRow {
                id,
                channel_id: channel.to_string(),
                file_name: file,
                format: "hls".into(),
                start_time: now,
                end_time: now,
                duration_ms: 0,
                size: 0,
                complete: false,
            },
        })
    }

    fn next_seq(&self) -> u64 {
        self.segments.last().map_or(0, |s| s.seq + 1)
    }

    fn add(&mut self, mut s: Segment) {
        let name = format!("{}_{}.ts", self.base, s.seq);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        if let Err(e) = std::fs::write(dir.join(&name), &s.data) {
            tracing::error!(file = %name, "HLS segment not written: {e}");
            return;
        }
        self.bytes += s.data.len() as u64;
        s.data = bytes::Bytes::new();
        self.segments.push(s);
        self.write(PlaylistKind::Event);
    }

    fn write(&self, kind: PlaylistKind) {
        let text = render_playlist(
            self.segments
                .iter()
                .map(|s| (s, format!("{}_{}.ts", self.base, s.seq))),
            kind,
            kind == PlaylistKind::Vod,
        );
        let tmp = self.path.with_extension("m3u8.tmp");
        let r = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = r {
            tracing::error!(file = %self.path.display(), "HLS playlist not written: {e}");
        }
    }

    fn close(mut self, ctx: &RecordContext) {
        if self.segments.is_empty() {
            tracing::info!(file = %self.path.display(), "HLS recording had no media: removed");
            let _ = ctx.db.recording_closed(&self.row);
            let _ = std::fs::remove_file(&self.path);
            return;
        }
        self.write(PlaylistKind::Vod);
        self.row.end_time = unix_now();
        self.row.duration_ms = self.segments.iter().map(|s| s.duration_ms as i64).sum();
        self.row.size = self.bytes as i64;
        announce(ctx, &self.path.clone(), self.row, "hls");
    }
}

/// Closes a playlist a crash left open: `#EXT-X-ENDLIST` appended when missing, the row stored
/// and announced.
pub fn repair(ctx: &RecordContext, path: &Path, mut row: RecordingRow) {
    let Ok(text) = std::fs::read_to_string(path) else {
        tracing::warn!(file = %row.file_name, "open HLS recording has no playlist");
        let _ = ctx.db.recording_closed(&row);
        return;
    };
    if !text.contains("#EXT-X-ENDLIST") {
        let fixed = format!("{}#EXT-X-ENDLIST\n", text);
        if let Err(e) = std::fs::write(path, fixed) {
            tracing::warn!(file = %row.file_name, "repair failed: {e}");
            return;
        }
    }
    row.duration_ms = text
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .filter_map(|l| l.trim_end_matches(',').parse::<f64>().ok())
        .map(|s| (s * 1000.0) as i64)
        .sum();
    row.end_time = row.start_time + row.duration_ms / 1000;
    tracing::info!(file = %row.file_name, "HLS recording left open by a crash closed");
    announce(ctx, path, row, "hls");
}
