//! Recording (seeds 002 and 004): one thread per recorded stream writes FLV segments from a
//! hub tap. A segment starts on a keyframe with our onMetaData (its duration patched on close)
//! and the sequence headers, timestamps rebased to 0. It closes at the first keyframe past the
//! maximum duration, when the push ends or is interrupted (a killed publisher included), and
//! when the recording is stopped. Closing flushes and syncs the file, patches the duration,
//! remuxes to each format asked for (MP4, AAC; the FLV is kept when FLV is one of them),
//! stores a row and sends the event-100 callback per file. HLS recording is
//! [`crate::record_hls`]. The file is
//! flushed every second, so a server crash loses at most a second; [`repair_open`] finalises
//! such segments at the next start.

use crate::callback::{event, Notifier};
use crate::config::RecordFormat;
use crate::db::{Db, RecordingRow};
use crate::error::{ServerError, ServerResult};
use crate::hub::Tag;
use crate::media::{patch_duration, recording_script, scan_flv};
use crate::mp4::{remux_to_aac, remux_to_mp4};
use crate::unix_now;
use onair_flv::OnMetaData;
use onair_flv::{FlvHeader, FlvTag, TagType};
use serde_json::json;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What every recorder shares.
#[derive(Debug)]
pub struct RecordContext {
    /// State.
    pub db: Arc<Db>,
    /// Callbacks.
    pub notifier: Notifier,
    /// `<data>/record`.
    pub dir: PathBuf,
    /// Segment length limit.
    pub segment_max: Duration,
    /// Base URL recordings are served under (`http://host:port/record/`).
    pub url_base: String,
}

/// A running recorder; it ends when its hub tap closes.
#[derive(Debug)]
pub struct Recorder {
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    /// Starts recording `channel` from `rx` in `formats` (FLV, MP4, AAC), files named
    /// `<channel>_<ms>.flv`.
    pub fn start(
        ctx: Arc<RecordContext>,
        channel: &str,
        formats: Vec<RecordFormat>,
        rx: crossbeam_channel::Receiver<Tag>,
    ) -> ServerResult<Self> {
        Self::start_named(ctx, channel, channel, formats, rx)
    }

    /// As [`Recorder::start`], files named `<prefix>_<ms>.flv` (a tape task's recording beside
    /// the automatic one: `<channel>_tape`).
    pub fn start_named(
        ctx: Arc<RecordContext>,
        channel: &str,
        prefix: &str,
        formats: Vec<RecordFormat>,
        rx: crossbeam_channel::Receiver<Tag>,
    ) -> ServerResult<Self> {
        if formats.is_empty() {
            // HLS alone: nothing segmented to write; the value only marks the stream as
            // recording.
            return Ok(Self { thread: None });
        }
        let (channel, prefix) = (channel.to_string(), prefix.to_string());
        let thread = std::thread::Builder::new()
            .name(format!("onair-record-{prefix}"))
            .spawn(move || run(&ctx, &channel, &prefix, &formats, &rx))
            .map_err(|e| ServerError::io("recorder thread", e))?;
        Ok(Self {
            thread: Some(thread),
        })
    }

    /// Waits for the last segment to be finalised (call after closing the tap).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Segment {
    file: BufWriter<std::fs::File>,
    path: PathBuf,
    row_id: i64,
    base_ts: u32,
    last_ts: u32,
    start_unix: i64,
    duration_offset: Option<u64>,
}

fn run(
    ctx: &RecordContext,
    channel: &str,
    prefix: &str,
    format: &[RecordFormat],
    rx: &crossbeam_channel::Receiver<Tag>,
) {
    let mut seg: Option<Segment> = None;
    let mut meta: Option<Arc<OnMetaData>> = None;
    let (mut vseq, mut aseq): (Option<Tag>, Option<Tag>) = (None, None);
    let mut last_flush = Instant::now();
    loop {
        let tag = match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(t) => t,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                if let Some(s) = seg.as_mut() {
                    let _ = s.file.flush();
                }
                continue;
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
        match (tag.tag_type, tag.sequence_header) {
            (TagType::Script, _) => {
                meta = tag.metadata.clone();
                continue;
            }
            (TagType::Video, true) => vseq = Some(tag.clone()),
            (TagType::Audio, true) => aseq = Some(tag.clone()),
            _ => {}
        }
        let start_point = if vseq.is_some() {
            tag.keyframe
        } else {
            tag.tag_type == TagType::Audio
        };
        let due = seg.as_ref().is_some_and(|s| {
            start_point
                && Duration::from_millis(u64::from(tag.timestamp.saturating_sub(s.base_ts)))
                    >= ctx.segment_max
        });
        if due {
            if let Some(s) = seg.take() {
                close(ctx, channel, format, s);
            }
        }
        if seg.is_none() && start_point && !tag.sequence_header {
            match open(
                ctx,
                channel,
                prefix,
                tag.timestamp,
                meta.as_deref(),
                [&vseq, &aseq],
            ) {
                Ok(s) => seg = Some(s),
                Err(e) => tracing::error!(channel, "recording not started: {e}"),
            }
        }
        if let Some(s) = seg.as_mut() {
            let ts = tag.timestamp.saturating_sub(s.base_ts);
            if let Err(e) = s.file.write_all(&tag.to_flv_tag(ts).encode()) {
                tracing::error!(channel, "recording write failed: {e}");
                let s = seg.take();
                if let Some(s) = s {
                    close(ctx, channel, format, s);
                }
                continue;
            }
            s.last_ts = s.last_ts.max(tag.timestamp);
            if last_flush.elapsed() >= Duration::from_secs(1) {
                let _ = s.file.flush();
                last_flush = Instant::now();
            }
        }
    }
    if let Some(s) = seg.take() {
        close(ctx, channel, format, s);
    }
}

fn open(
    ctx: &RecordContext,
    channel: &str,
    prefix: &str,
    base_ts: u32,
    meta: Option<&OnMetaData>,
    seqs: [&Option<Tag>; 2],
) -> ServerResult<Segment> {
    let now = unix_now();
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let name = format!("{prefix}_{ms}.flv");
    let path = ctx.dir.join(&name);
    let file = std::fs::File::create(&path).map_err(|e| ServerError::io(&path, e))?;
    let mut file = BufWriter::with_capacity(256 << 10, file);
    let (script, at) = recording_script(meta);
    let mut head = FlvHeader {
        has_audio: true,
        has_video: true,
    }
    .encode()
    .to_vec();
    let duration_offset = at.map(|a| (head.len() + 11 + a) as u64);
    head.extend_from_slice(&FlvTag::new(TagType::Script, 0, script).encode());
    for t in seqs.into_iter().flatten() {
        head.extend_from_slice(&t.to_flv_tag(0).encode());
    }
    file.write_all(&head)
        .map_err(|e| ServerError::io(&path, e))?;
    let row_id = ctx.db.recording_opened(channel, &name, "flv", now)?;
    tracing::info!(channel, file = %name, "recording segment opened");
    Ok(Segment {
        file,
        path,
        row_id,
        base_ts,
        last_ts: base_ts,
        start_unix: now,
        duration_offset,
    })
}

fn close(ctx: &RecordContext, channel: &str, format: &[RecordFormat], seg: Segment) {
    let duration_ms = u64::from(seg.last_ts.saturating_sub(seg.base_ts));
    let result = seg
        .file
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|mut f| {
            if let Some(off) = seg.duration_offset {
                patch_duration(&mut f, off, duration_ms as f64 / 1000.0)?;
            }
            f.sync_data()
        });
    if let Err(e) = result {
        tracing::error!(channel, "recording close failed: {e}");
    }
    let row = RecordingRow {
        id: seg.row_id,
        channel_id: channel.to_string(),
        file_name: String::new(),
        format: String::new(),
        start_time: seg.start_unix,
        end_time: unix_now(),
        duration_ms: duration_ms as i64,
        size: 0,
        complete: true,
    };
    finish(ctx, format, seg.path, row);
}

/// Remuxes to each format asked for, stores a row per file, sends the callbacks. The FLV is
/// removed unless FLV is one of the formats or a remux failed (then it is announced instead).
fn finish(ctx: &RecordContext, formats: &[RecordFormat], flv: PathBuf, row: RecordingRow) {
    let mut files = Vec::new();
    let mut keep_flv = formats.contains(&RecordFormat::Flv) || formats.is_empty();
    for f in formats {
        let (out, result) = match f {
            RecordFormat::Mp4 => {
                let p = flv.with_extension("mp4");
                let r = remux_to_mp4(&flv, &p);
                (p, r)
            }
            RecordFormat::Aac => {
                let p = flv.with_extension("aac");
                let r = remux_to_aac(&flv, &p);
                (p, r)
            }
            _ => continue,
        };
        match result {
            Ok(()) => files.push((out, f.name())),
            Err(e) => {
                tracing::error!(channel = %row.channel_id, "{} remux failed, FLV kept: {e}", f.name());
                keep_flv = true;
            }
        }
    }
    if keep_flv {
        files.insert(0, (flv.clone(), "flv"));
    } else {
        let _ = std::fs::remove_file(&flv);
    }
    for (i, (path, format)) in files.into_iter().enumerate() {
        let mut r = row.clone();
        if i > 0 {
            match ctx
                .db
                .recording_opened(&r.channel_id, &r.file_name, format, r.start_time)
            {
                Ok(id) => r.id = id,
                Err(e) => {
                    tracing::error!(channel = %r.channel_id, "recording row not stored: {e}");
                    continue;
                }
            }
        }
        announce(ctx, &path, r, format);
    }
}

/// Stores a finished recording's row and sends its event-100 callback.
pub(crate) fn announce(ctx: &RecordContext, path: &Path, mut row: RecordingRow, format: &str) {
    row.file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    row.format = format.to_string();
    if row.size == 0 {
        row.size = std::fs::metadata(path).map(|m| m.len() as i64).unwrap_or(0);
    }
    if let Err(e) = ctx.db.recording_closed(&row) {
        tracing::error!(channel = %row.channel_id, "recording row not stored: {e}");
    }
    tracing::info!(channel = %row.channel_id, file = %row.file_name, duration_ms = row.duration_ms, "recording closed");
    let video_id = row
        .file_name
        .rsplit_once('.')
        .map_or(row.file_name.clone(), |(s, _)| s.to_string());
    let fields = json!({
        "channel_id": row.channel_id,
        "stream_id": row.channel_id,
        "start_time": row.start_time,
        "end_time": row.end_time,
        "file_format": row.format,
        "file_id": row.id.to_string(),
        "file_size": row.size,
        "duration": row.duration_ms / 1000,
        "video_id": video_id,
        "video_url": format!("{}{}", ctx.url_base, row.file_name),
    });
    if let serde_json::Value::Object(m) = fields {
        ctx.notifier.send(event::RECORD, m, unix_now());
    }
}

/// Finalises segments a crash left open: truncates to the last complete tag, patches the
/// duration, remuxes when the format asks, stores the row.
pub fn repair_open(ctx: &RecordContext, formats: &[RecordFormat]) -> ServerResult<usize> {
    let open = ctx.db.open_recordings()?;
    let n = open.len();
    for mut row in open {
        let path = ctx.dir.join(&row.file_name);
        if row.format == "hls" {
            crate::record_hls::repair(ctx, &path, row);
            continue;
        }
        let scan = match scan_flv(&path) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(file = %row.file_name, "unreadable open segment: {e}");
                continue;
            }
        };
        let fixed = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|mut f| {
                f.set_len(scan.valid_len)?;
                if let Some(off) = scan.duration_offset {
                    patch_duration(&mut f, off, scan.duration_ms as f64 / 1000.0)?;
                }
                f.sync_data()
            });
        if let Err(e) = fixed {
            tracing::warn!(file = %row.file_name, "repair failed: {e}");
            continue;
        }
        row.duration_ms = scan.duration_ms as i64;
        row.end_time = row.start_time + (scan.duration_ms / 1000) as i64;
        tracing::info!(file = %row.file_name, "segment left open by a crash finalised");
        finish(ctx, formats, path, row);
    }
    Ok(n)
}
