//! Local recording, shared by the pusher and the player (LiteAV's `startLocalRecording`; facts
//! in `docs/v2txlive.md`): the FLV tags a session sends or receives go, without a second
//! encode, to a worker thread that writes a fragmented MP4 (`onair_codec::Mp4TagWriter`,
//! fragments at every keyframe and at least every 500 ms, each flushed: a crash or `kill -9`
//! leaves a file that plays up to its last fragment). The worker reports progress every
//! `interval_ms` of media and, when the recording ends, its code.
//!
//! A recording starts with the session's current GOP (the tags since the last keyframe, which
//! the [`Tap`] keeps), so its first picture is the one on screen.
//!
//! The tag channel holds [`QUEUE_TAGS`] tags (about 30 s of 30 fps video with audio): a disk
//! that stalls longer loses tags (counted, warned once) rather than stalling the session.

use crate::error::{LiveError, LiveResult};
use onair_codec::{Mp4Layout, Mp4TagWriter, Mp4Tracks, TagOutcome};
use onair_core::V2TXLiveCode;
use onair_flv::{FlvTag, TagType};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Tags the channel to the worker holds.
pub const QUEUE_TAGS: usize = 3000;

/// Media shorter than this completes with [`record_code::TOO_SHORT`] (LiteAV's -3).
pub const MIN_DURATION_MS: u64 = 1000;

/// What a local recording keeps (LiteAV's `V2TXLiveRecordMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RecordMode {
    /// Audio and video.
    #[default]
    Both,
    /// Audio only.
    AudioOnly,
    /// Video only.
    VideoOnly,
}

/// `start_local_recording`'s parameters (LiteAV's `V2TXLiveLocalRecordingParams`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRecordingParams {
    /// The MP4 file to write (must end in `.mp4` and must not exist).
    pub file_path: PathBuf,
    /// What to keep.
    pub record_mode: RecordMode,
    /// Milliseconds between `on_local_recording` progress reports (0: none).
    pub interval_ms: u32,
}

impl LocalRecordingParams {
    /// Audio and video into `path`, progress every second.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            file_path: path.into(),
            record_mode: RecordMode::Both,
            interval_ms: 1000,
        }
    }
}

/// LiteAV's local recording codes (`on_local_record_begin`, `on_local_record_complete`).
pub mod record_code {
    /// Recording (begin) / a complete file (complete).
    pub const OK: i32 = 0;
    /// Failed.
    pub const FAILED: i32 = -1;
    /// Begin: the file name does not end in `.mp4`.
    pub const BAD_EXTENSION: i32 = -2;
    /// Complete: the resolution (or orientation) changed; the file holds what came before.
    pub const RESOLUTION_CHANGED: i32 = -2;
    /// Complete: shorter than a second, or no media; no file is left.
    pub const TOO_SHORT: i32 = -3;
    /// Begin: a recording is already running.
    pub const ALREADY_RECORDING: i32 = -6;
    /// Begin: the file exists.
    pub const FILE_EXISTS: i32 = -7;
    /// Begin: no permission to write the file.
    pub const NO_PERMISSION: i32 = -8;
}

/// What a recording reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecordEvent {
    /// Begun (code 0) or refused (the code).
    Begin(i32, String),
    /// Milliseconds of media written so far.
    Progress(u64, String),
    /// Ended with a code.
    Complete(i32, String),
    /// A warning for the session's `on_warning`.
    Warning(String),
}

/// The refusal `start_local_recording` returns, with LiteAV's begin code.
pub(crate) fn refusal(code: i32, message: String) -> (i32, LiveError) {
    let live = match code {
        record_code::ALREADY_RECORDING => V2TXLiveCode::ErrorRefused,
        record_code::BAD_EXTENSION | record_code::FILE_EXISTS => {
            V2TXLiveCode::ErrorInvalidParameter
        }
        _ => V2TXLiveCode::ErrorFailed,
    };
    (code, LiveError::new(live, message))
}

/// Creates the file (so that the refusals LiteAV names come before any media).
fn create(path: &Path) -> Result<(), (i32, LiveError)> {
    let shown = path.display();
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mp4"))
    {
        return Err(refusal(
            record_code::BAD_EXTENSION,
            format!("{shown}: local recordings are MP4; the file name must end in .mp4"),
        ));
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(refusal(
            record_code::FILE_EXISTS,
            format!("{shown} exists; onair does not overwrite it"),
        )),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            Err(refusal(
                record_code::NO_PERMISSION,
                format!("{shown}: no permission to write it ({e})"),
            ))
        }
        Err(e) => Err(refusal(
            record_code::FAILED,
            format!("{shown}: cannot create it ({e})"),
        )),
    }
}

/// A running local recording.
pub(crate) struct LocalRecorder {
    path: PathBuf,
    tx: Option<crossbeam_channel::Sender<FlvTag>>,
    worker: Option<std::thread::JoinHandle<Option<i32>>>,
    dropped: Arc<AtomicU64>,
    keep: Mp4Tracks,
}

impl std::fmt::Debug for LocalRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalRecorder")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LocalRecorder {
    /// Creates the file and starts the worker. [`Tap::install`] hands it the session's cached
    /// onMetaData, sequence headers and current GOP first. `emit` gets the worker's events
    /// (Begin is the caller's to send). Refusals carry LiteAV's begin code.
    pub(crate) fn start(
        params: &LocalRecordingParams,
        emit: impl Fn(RecordEvent) + Send + 'static,
    ) -> Result<Self, (i32, LiveError)> {
        create(&params.file_path)?;
        let keep = Mp4Tracks {
            video: params.record_mode != RecordMode::AudioOnly,
            audio: params.record_mode != RecordMode::VideoOnly,
        };
        // Room for the headers and a whole GOP on top of the running queue.
        let (tx, rx) = crossbeam_channel::bounded::<FlvTag>(QUEUE_TAGS + GOP_TAGS + 3);
        let path = params.file_path.clone();
        let interval = u64::from(params.interval_ms);
        let worker = std::thread::Builder::new()
            .name("onair-record".into())
            .spawn({
                let path = path.clone();
                move || run(&path, keep, interval, &rx, &emit)
            })
            .map_err(|e| {
                let _ = std::fs::remove_file(&path);
                refusal(
                    record_code::FAILED,
                    format!("cannot start the recording thread: {e}"),
                )
            })?;
        Ok(Self {
            path,
            tx: Some(tx),
            worker: Some(worker),
            dropped: Arc::new(AtomicU64::new(0)),
            keep,
        })
    }

    /// The file being written.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Hands a tag to the worker; never blocks. `false` when the queue was full (the tag is
    /// lost and counted) for the first time.
    pub(crate) fn push(&self, tag: &FlvTag) -> bool {
        let wanted = match tag.tag_type {
            TagType::Video => self.keep.video,
            TagType::Audio => self.keep.audio,
            _ => true,
        };
        let Some(tx) = &self.tx else {
            return true;
        };
        if !wanted {
            return true;
        }
        match tx.try_send(tag.clone()) {
            Ok(()) | Err(crossbeam_channel::TrySendError::Disconnected(_)) => true,
            Err(crossbeam_channel::TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed) > 0
            }
        }
    }

    /// The worker ended on its own (the resolution changed, or writing failed) and has
    /// reported its complete code already.
    pub(crate) fn is_finished(&self) -> bool {
        self.worker.as_ref().is_none_or(|w| w.is_finished())
    }

    /// Ends the recording: the worker writes what is queued and the index. Returns the
    /// complete code for the caller to report (0, -1, -3 too short), or `None` when the worker
    /// ended on its own and reported it.
    pub(crate) fn stop(mut self) -> Option<i32> {
        self.tx.take();
        self.worker.take().map_or(Some(record_code::FAILED), |w| {
            w.join().unwrap_or(Some(record_code::FAILED))
        })
    }
}

impl Drop for LocalRecorder {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// The worker: tags in, the MP4 out, progress and the final code: returned when the session
/// ended the recording, reported here (and `None` returned) when it ends on its own.
fn run(
    path: &Path,
    keep: Mp4Tracks,
    interval_ms: u64,
    rx: &crossbeam_channel::Receiver<FlvTag>,
    emit: &dyn Fn(RecordEvent),
) -> Option<i32> {
    let shown = path.display().to_string();
    let mut writer = Mp4TagWriter::new(path, Mp4Layout::Fragmented, keep);
    let mut next_report = interval_ms;
    let mut code = record_code::OK;
    let mut on_its_own = false;
    for tag in rx.iter() {
        match writer.push(tag) {
            Ok(TagOutcome::Taken) => {}
            Ok(TagOutcome::VideoChanged) => {
                code = record_code::RESOLUTION_CHANGED;
                on_its_own = true;
                break;
            }
            Err(e) => {
                emit(RecordEvent::Warning(format!(
                    "local recording {shown}: {e}"
                )));
                code = record_code::FAILED;
                on_its_own = true;
                break;
            }
        }
        let done = writer.duration_ms();
        if interval_ms > 0 && done >= next_report {
            next_report = done - done % interval_ms + interval_ms;
            emit(RecordEvent::Progress(done, shown.clone()));
        }
    }
    // The duration is the file's, taken by `finish`: tags held while a track's configuration
    // never came are written there, not before.
    let code = match writer.finish() {
        Err(e) => {
            emit(RecordEvent::Warning(format!(
                "local recording {shown}: {e}"
            )));
            record_code::FAILED
        }
        Ok(None) => record_code::TOO_SHORT,
        Ok(Some(ms)) if ms < MIN_DURATION_MS && code == record_code::OK => record_code::TOO_SHORT,
        Ok(Some(_)) => code,
    };
    if code == record_code::TOO_SHORT {
        let _ = std::fs::remove_file(path);
    }
    if on_its_own {
        emit(RecordEvent::Complete(code, shown));
        return None;
    }
    Some(code)
}

/// The newest onMetaData and sequence headers of a session.
#[derive(Debug, Default, Clone)]
pub(crate) struct Headers {
    pub(crate) metadata: Option<FlvTag>,
    pub(crate) video: Option<FlvTag>,
    pub(crate) audio: Option<FlvTag>,
}

impl Headers {
    /// In the order a new reader needs them.
    pub(crate) fn tags(&self) -> Vec<FlvTag> {
        [&self.metadata, &self.video, &self.audio]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }
}

/// The newest GOP a [`Tap`] keeps at most (tags, bytes); a longer one is not kept.
const GOP_TAGS: usize = 2000;
const GOP_BYTES: usize = 16 << 20;

/// The tags since the last video keyframe, so that a recording starts with the picture on
/// screen instead of waiting for the next keyframe.
#[derive(Debug, Default)]
struct Gop {
    tags: Vec<FlvTag>,
    bytes: usize,
    /// The GOP outgrew the caps: nothing kept until the next keyframe.
    overflowed: bool,
}

impl Gop {
    fn add(&mut self, tag: &FlvTag) {
        if tag.tag_type == TagType::Video
            && onair_flv::video_info(&tag.data).is_some_and(|i| i.keyframe)
        {
            self.tags.clear();
            self.bytes = 0;
            self.overflowed = false;
        }
        if self.overflowed || tag.tag_type == TagType::Script {
            return;
        }
        if self.tags.len() >= GOP_TAGS || self.bytes + tag.data.len() > GOP_BYTES {
            self.tags.clear();
            self.bytes = 0;
            self.overflowed = true;
            return;
        }
        self.bytes += tag.data.len();
        self.tags.push(tag.clone());
    }
}

/// Where a session's tags pass: it keeps the newest headers (for the pusher's reconnects) and
/// GOP (both for a recording that starts mid-stream), and hands every tag to the local
/// recording, if one runs.
#[derive(Debug, Default)]
pub(crate) struct Tap {
    headers: std::sync::Mutex<Headers>,
    gop: std::sync::Mutex<Gop>,
    recorder: std::sync::Mutex<Option<LocalRecorder>>,
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Tap {
    /// One tag of the session. The recorder slot's lock is held throughout, so that a
    /// recording being installed gets each tag exactly once: in its start set or afterwards.
    pub(crate) fn tap(&self, tag: &FlvTag) {
        let recorder = lock(&self.recorder);
        if onair_rtmp::send_queue::classify(tag) == onair_rtmp::send_queue::TagClass::Header {
            let mut h = lock(&self.headers);
            match tag.tag_type {
                TagType::Video => h.video = Some(tag.clone()),
                TagType::Audio => h.audio = Some(tag.clone()),
                _ => h.metadata = Some(tag.clone()),
            }
        } else {
            lock(&self.gop).add(tag);
        }
        if let Some(r) = recorder.as_ref() {
            if !r.push(tag) {
                tracing::warn!(
                    "local recording {}: the disk falls behind, tags are lost",
                    r.path().display()
                );
            }
        }
    }

    /// A copy of the headers.
    pub(crate) fn headers(&self) -> Headers {
        lock(&self.headers).clone()
    }

    /// Installs a new recording: it first gets the headers, then the current GOP, then every
    /// tag tapped after them (none lost, none twice: [`Tap::tap`] holds the same lock).
    pub(crate) fn install(&self, r: LocalRecorder) {
        let mut slot = lock(&self.recorder);
        let headers = self.headers().tags();
        let gop = lock(&self.gop).tags.clone();
        for t in headers.iter().chain(&gop) {
            r.push(t);
        }
        *slot = Some(r);
    }

    /// Changes the cached headers.
    pub(crate) fn edit_headers(&self, f: impl FnOnce(&mut Headers)) {
        f(&mut lock(&self.headers));
    }

    /// Removes the local recording, if one runs.
    pub(crate) fn take_recorder(&self) -> Option<LocalRecorder> {
        lock(&self.recorder).take()
    }

    /// A local recording runs (one that ended on its own is cleared first).
    pub(crate) fn is_recording(&self) -> bool {
        let mut r = lock(&self.recorder);
        if r.as_ref().is_some_and(LocalRecorder::is_finished) {
            r.take();
        }
        r.is_some()
    }
}

/// Checks what start_local_recording gets before anything runs.
pub(crate) fn check_params(params: &LocalRecordingParams) -> LiveResult {
    if params.file_path.as_os_str().is_empty() {
        return Err(LiveError::invalid(
            "local recording: the file path is empty",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_refusals_carry_litav_codes() {
        let dir = tempfile::tempdir().unwrap();
        let (code, e) = create(&dir.path().join("a.flv")).unwrap_err();
        assert_eq!(
            (code, e.code),
            (
                record_code::BAD_EXTENSION,
                V2TXLiveCode::ErrorInvalidParameter
            )
        );
        let p = dir.path().join("a.mp4");
        create(&p).unwrap();
        assert_eq!(create(&p).unwrap_err().0, record_code::FILE_EXISTS);
        let (code, _) = create(&dir.path().join("missing/b.mp4")).unwrap_err();
        assert_eq!(code, record_code::FAILED);
    }

    /// A recording installed while the session taps its first tags gets the AAC configuration
    /// exactly once, whichever side wins: before the fix the snapshot and the install were two
    /// steps, and a header tapped between them was in neither (CI's -3 "too short" file).
    #[test]
    fn install_racing_the_first_header_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let asc = onair_flv::AudioSpecificConfig::aac_lc(48_000, 1).unwrap();
        let config = FlvTag {
            tag_type: TagType::Audio,
            timestamp_ms: 0,
            data: bytes::Bytes::from([&[0xAF, 0x00], &asc.raw[..]].concat()),
        };
        for round in 0..40 {
            let tap = Arc::new(Tap::default());
            let go = Arc::new(std::sync::Barrier::new(2));
            let feeder = std::thread::spawn({
                let (tap, go, config) = (tap.clone(), go.clone(), config.clone());
                move || {
                    go.wait();
                    tap.tap(&config);
                    for i in 0..60u32 {
                        tap.tap(&FlvTag {
                            tag_type: TagType::Audio,
                            timestamp_ms: i * 21,
                            data: bytes::Bytes::from_static(&[0xAF, 0x01, 0x21, 0x10, 0x04]),
                        });
                    }
                }
            });
            let mut params = LocalRecordingParams::new(dir.path().join(format!("{round}.mp4")));
            params.record_mode = RecordMode::AudioOnly;
            let r = LocalRecorder::start(&params, |_| {}).unwrap();
            go.wait();
            tap.install(r);
            feeder.join().unwrap();
            let code = tap.take_recorder().unwrap().stop();
            assert_eq!(code, Some(record_code::OK), "round {round}");
        }
    }

    #[test]
    fn no_media_is_too_short_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty.mp4");
        let r = LocalRecorder::start(&LocalRecordingParams::new(&p), |_| {}).unwrap();
        assert!(p.exists());
        assert_eq!(r.stop(), Some(record_code::TOO_SHORT));
        assert!(!p.exists());
    }
}
