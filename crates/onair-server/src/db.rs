//! The state database (SQLite, bundled): channels with their ban and disable state, recording
//! segments, screenshots (with their queue-delivery flag) and tape (recording) tasks. Every
//! state change is written here first, so a restart loses nothing. Calls are short and happen
//! on events (publish, segment close, screenshot, API), never per media tag.

use crate::error::ServerResult;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Channel status values stored and reported (Live_Channel_GetStatus).
pub mod status {
    /// No stream is being pushed.
    pub const IDLE: i64 = 0;
    /// A stream is being pushed.
    pub const LIVE: i64 = 1;
    /// Banned (Live_Channel_SetStatus 0).
    pub const BANNED: i64 = 3;
}

/// One channel (stream name) the server has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    /// The stream name.
    pub channel_id: String,
    /// The RTMP app it was last pushed to.
    pub app: String,
    /// Banned by Live_Channel_SetStatus.
    pub banned: bool,
    /// Push disabled until this Unix time (channel_manager), 0 when not.
    pub disabled_until: i64,
    /// Unix time of the last push start, 0 when never.
    pub last_push_start: i64,
    /// Unix time of the last push end, 0 when never or live.
    pub last_push_end: i64,
}

/// One recording segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRow {
    /// Row id (the callback's file_id).
    pub id: i64,
    /// The stream.
    pub channel_id: String,
    /// File name under `<data>/record/`.
    pub file_name: String,
    /// "flv" or "mp4".
    pub format: String,
    /// Unix start time.
    pub start_time: i64,
    /// Unix end time.
    pub end_time: i64,
    /// Media duration, ms.
    pub duration_ms: i64,
    /// Bytes.
    pub size: i64,
    /// Closed and finalised.
    pub complete: bool,
}

/// One screenshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenshotRow {
    /// Row id.
    pub id: i64,
    /// The stream.
    pub channel_id: String,
    /// File name under `<data>/screenshot/`.
    pub file_name: String,
    /// Unix time taken.
    pub create_time: i64,
    /// Width, px.
    pub width: i64,
    /// Height, px.
    pub height: i64,
}

/// One tape (recording) task from Live_Tape_Start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapeTask {
    /// Task id.
    pub task_id: i64,
    /// The stream.
    pub channel_id: String,
    /// Unix start.
    pub start_time: i64,
    /// Unix end.
    pub end_time: i64,
    /// Stopped by Live_Tape_Stop.
    pub stopped: bool,
}

/// The database handle (one connection behind a mutex).
#[derive(Debug)]
pub struct Db {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS channels (
    channel_id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    created INTEGER NOT NULL,
    banned INTEGER NOT NULL DEFAULT 0,
    disabled_until INTEGER NOT NULL DEFAULT 0,
    last_push_start INTEGER NOT NULL DEFAULT 0,
    last_push_end INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS recordings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    format TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    end_time INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS screenshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stat_samples (
    channel_id TEXT NOT NULL,
    time INTEGER NOT NULL,
    client_ip TEXT NOT NULL,
    fps REAL NOT NULL,
    kbps REAL NOT NULL,
    players INTEGER NOT NULL,
    bandwidth_kbps REAL NOT NULL,
    flux_mb REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS stat_samples_time ON stat_samples (time, channel_id);
CREATE TABLE IF NOT EXISTS tape_tasks (
    task_id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    end_time INTEGER NOT NULL,
    stopped INTEGER NOT NULL DEFAULT 0
);
";

fn channel_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChannelRow> {
    Ok(ChannelRow {
        channel_id: r.get(0)?,
        app: r.get(1)?,
        banned: r.get::<_, i64>(2)? != 0,
        disabled_until: r.get(3)?,
        last_push_start: r.get(4)?,
        last_push_end: r.get(5)?,
    })
}

fn recording_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordingRow> {
    Ok(RecordingRow {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        file_name: r.get(2)?,
        format: r.get(3)?,
        start_time: r.get(4)?,
        end_time: r.get(5)?,
        duration_ms: r.get(6)?,
        size: r.get(7)?,
        complete: r.get::<_, i64>(8)? != 0,
    })
}

fn screenshot_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScreenshotRow> {
    Ok(ScreenshotRow {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        file_name: r.get(2)?,
        create_time: r.get(3)?,
        width: r.get(4)?,
        height: r.get(5)?,
    })
}

const CHANNEL_COLS: &str =
    "channel_id, app, banned, disabled_until, last_push_start, last_push_end";
const RECORDING_COLS: &str =
    "id, channel_id, file_name, format, start_time, end_time, duration_ms, size, complete";

impl Db {
    /// Opens (creating if needed) `<dir>/onair.sqlite3`.
    pub fn open(dir: &Path) -> ServerResult<Self> {
        let conn = Connection::open(dir.join("onair.sqlite3"))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The channel, if the server has seen it.
    pub fn channel(&self, id: &str) -> ServerResult<Option<ChannelRow>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {CHANNEL_COLS} FROM channels WHERE channel_id = ?1"),
                [id],
                channel_from,
            )
            .optional()?)
    }

    /// Creates the channel if new (API calls may name a channel before its first push).
    pub fn ensure_channel(&self, id: &str, app: &str, now: i64) -> ServerResult<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO channels (channel_id, app, created) VALUES (?1, ?2, ?3)",
            params![id, app, now],
        )?;
        Ok(())
    }

    /// Records a push start.
    pub fn push_started(&self, id: &str, app: &str, now: i64) -> ServerResult<()> {
        self.ensure_channel(id, app, now)?;
        self.conn().execute(
            "UPDATE channels SET app = ?2, last_push_start = ?3, last_push_end = 0 WHERE channel_id = ?1",
            params![id, app, now],
        )?;
        Ok(())
    }

    /// Records a push end.
    pub fn push_ended(&self, id: &str, now: i64) -> ServerResult<()> {
        self.conn().execute(
            "UPDATE channels SET last_push_end = ?2 WHERE channel_id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    /// Bans or unbans.
    pub fn set_banned(&self, id: &str, banned: bool, now: i64) -> ServerResult<()> {
        self.ensure_channel(id, "live", now)?;
        self.conn().execute(
            "UPDATE channels SET banned = ?2 WHERE channel_id = ?1",
            params![id, i64::from(banned)],
        )?;
        Ok(())
    }

    /// Disables pushing until `until` (0 re-enables).
    pub fn set_disabled_until(&self, id: &str, until: i64, now: i64) -> ServerResult<()> {
        self.ensure_channel(id, "live", now)?;
        self.conn().execute(
            "UPDATE channels SET disabled_until = ?2 WHERE channel_id = ?1",
            params![id, until],
        )?;
        Ok(())
    }

    /// All channels, sorted by id.
    pub fn channels(&self) -> ServerResult<Vec<ChannelRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {CHANNEL_COLS} FROM channels ORDER BY channel_id"
        ))?;
        let rows = st.query_map([], channel_from)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Opens a recording row (complete = 0) and returns its id.
    pub fn recording_opened(
        &self,
        channel: &str,
        file: &str,
        format: &str,
        start: i64,
    ) -> ServerResult<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO recordings (channel_id, file_name, format, start_time) VALUES (?1, ?2, ?3, ?4)",
            params![channel, file, format, start],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Closes a recording row.
    pub fn recording_closed(&self, row: &RecordingRow) -> ServerResult<()> {
        self.conn().execute(
            "UPDATE recordings SET file_name = ?2, format = ?3, end_time = ?4, duration_ms = ?5, size = ?6, complete = 1 WHERE id = ?1",
            params![row.id, row.file_name, row.format, row.end_time, row.duration_ms, row.size],
        )?;
        Ok(())
    }

    /// Recording rows left open by a crash.
    pub fn open_recordings(&self) -> ServerResult<Vec<RecordingRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {RECORDING_COLS} FROM recordings WHERE complete = 0 ORDER BY id"
        ))?;
        let rows = st
            .query_map([], recording_from)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Complete recordings of a channel, oldest first: (page, total count).
    pub fn recordings(
        &self,
        channel: &str,
        page_no: i64,
        page_size: i64,
    ) -> ServerResult<(Vec<RecordingRow>, i64)> {
        let conn = self.conn();
        let total: i64 = conn.query_row(
            "SELECT COUNT(*) FROM recordings WHERE channel_id = ?1 AND complete = 1",
            [channel],
            |r| r.get(0),
        )?;
        let mut st = conn.prepare(&format!(
            "SELECT {RECORDING_COLS} FROM recordings WHERE channel_id = ?1 AND complete = 1 ORDER BY id LIMIT ?2 OFFSET ?3"
        ))?;
        let rows = st
            .query_map(
                params![channel, page_size, (page_no - 1) * page_size],
                recording_from,
            )?
            .collect::<Result<_, _>>()?;
        Ok((rows, total))
    }

    /// Stores a screenshot.
    pub fn screenshot_taken(&self, s: &ScreenshotRow) -> ServerResult<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO screenshots (channel_id, file_name, create_time, width, height) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![s.channel_id, s.file_name, s.create_time, s.width, s.height],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Live_Queue_Get: takes up to `count` undelivered screenshots, oldest first, and marks
    /// them delivered (a queue hands each message out once).
    pub fn take_screenshots(&self, count: i64) -> ServerResult<Vec<ScreenshotRow>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let rows: Vec<ScreenshotRow> = {
            let mut st = tx.prepare(
                "SELECT id, channel_id, file_name, create_time, width, height FROM screenshots WHERE delivered = 0 ORDER BY id LIMIT ?1",
            )?;
            let rows = st
                .query_map([count], screenshot_from)?
                .collect::<Result<_, _>>()?;
            rows
        };
        for r in &rows {
            tx.execute("UPDATE screenshots SET delivered = 1 WHERE id = ?1", [r.id])?;
        }
        tx.commit()?;
        Ok(rows)
    }

    /// All screenshots of a channel, oldest first.
    pub fn screenshots(&self, channel: &str) -> ServerResult<Vec<ScreenshotRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT id, channel_id, file_name, create_time, width, height FROM screenshots WHERE channel_id = ?1 ORDER BY id",
        )?;
        let rows = st
            .query_map([channel], screenshot_from)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Stores statistics samples and forgets those older than `keep_from` (Unix seconds).
    pub fn stat_samples_taken(
        &self,
        samples: &[crate::history::Sample],
        keep_from: i64,
    ) -> ServerResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for x in samples {
            tx.execute(
                "INSERT INTO stat_samples (channel_id, time, client_ip, fps, kbps, players, bandwidth_kbps, flux_mb) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![x.channel_id, x.time, x.client_ip, x.fps, x.kbps, x.players, x.bandwidth_kbps, x.flux_mb],
            )?;
        }
        tx.execute("DELETE FROM stat_samples WHERE time < ?1", [keep_from])?;
        tx.commit()?;
        Ok(())
    }

    /// Statistics samples with `from <= time <= to`, of one channel or of all (`None`), by
    /// time then channel.
    pub fn stat_samples(
        &self,
        channel: Option<&str>,
        from: i64,
        to: i64,
    ) -> ServerResult<Vec<crate::history::Sample>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT channel_id, time, client_ip, fps, kbps, players, bandwidth_kbps, flux_mb FROM stat_samples WHERE time >= ?1 AND time <= ?2 AND (?3 IS NULL OR channel_id = ?3) ORDER BY time, channel_id",
        )?;
        let rows = st
            .query_map(params![from, to, channel], |r| {
                Ok(crate::history::Sample {
                    channel_id: r.get(0)?,
                    time: r.get(1)?,
                    client_ip: r.get(2)?,
                    fps: r.get(3)?,
                    kbps: r.get(4)?,
                    players: r.get(5)?,
                    bandwidth_kbps: r.get(6)?,
                    flux_mb: r.get(7)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The newest screenshot of a channel.
    pub fn latest_screenshot(&self, channel: &str) -> ServerResult<Option<ScreenshotRow>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn()
            .query_row(
                "SELECT id, channel_id, file_name, create_time, width, height FROM screenshots WHERE channel_id = ?1 ORDER BY id DESC LIMIT 1",
                [channel],
                screenshot_from,
            )
            .optional()?)
    }

    /// The newest `count` complete recordings of a channel, newest first.
    pub fn recent_recordings(&self, channel: &str, count: i64) -> ServerResult<Vec<RecordingRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {RECORDING_COLS} FROM recordings WHERE channel_id = ?1 AND complete = 1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = st
            .query_map(params![channel, count], recording_from)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The id of the newest tape task covering `channel` at `now`.
    pub fn active_tape_task(&self, channel: &str, now: i64) -> ServerResult<Option<i64>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn()
            .query_row(
                "SELECT task_id FROM tape_tasks WHERE channel_id = ?1 AND stopped = 0 AND start_time <= ?2 AND end_time > ?2 ORDER BY task_id DESC LIMIT 1",
                params![channel, now],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Creates a tape task.
    pub fn tape_started(&self, channel: &str, start: i64, end: i64) -> ServerResult<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO tape_tasks (channel_id, start_time, end_time) VALUES (?1, ?2, ?3)",
            params![channel, start, end],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Stops a tape task; false when there is no such running task.
    pub fn tape_stopped(&self, channel: &str, task_id: i64) -> ServerResult<bool> {
        let n = self.conn().execute(
            "UPDATE tape_tasks SET stopped = 1 WHERE task_id = ?1 AND channel_id = ?2 AND stopped = 0",
            params![task_id, channel],
        )?;
        Ok(n > 0)
    }

    /// Whether a tape task covers `channel` at `now`.
    pub fn tape_active(&self, channel: &str, now: i64) -> ServerResult<bool> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM tape_tasks WHERE channel_id = ?1 AND stopped = 0 AND start_time <= ?2 AND end_time > ?2",
            params![channel, now],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Db::open(dir.path()).unwrap();
            db.push_started("a", "live", 10).unwrap();
            db.set_banned("b", true, 11).unwrap();
            let id = db.recording_opened("a", "a_1.flv", "flv", 10).unwrap();
            db.recording_closed(&RecordingRow {
                id,
                channel_id: "a".into(),
                file_name: "a_1.flv".into(),
                format: "flv".into(),
                start_time: 10,
                end_time: 20,
                duration_ms: 10_000,
                size: 5,
                complete: true,
            })
            .unwrap();
            let task = db.tape_started("a", 0, 100).unwrap();
            assert!(db.tape_active("a", 50).unwrap());
            assert!(db.tape_stopped("a", task).unwrap());
            assert!(!db.tape_stopped("a", task).unwrap());
        }
        let db = Db::open(dir.path()).unwrap();
        assert_eq!(db.channels().unwrap().len(), 2);
        assert!(db.channel("b").unwrap().unwrap().banned);
        let (rows, total) = db.recordings("a", 1, 10).unwrap();
        assert_eq!((rows.len(), total), (1, 1));
        assert_eq!(rows[0].duration_ms, 10_000);
        assert!(!db.tape_active("a", 50).unwrap());
    }

    #[test]
    fn queue_hands_each_screenshot_out_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        for i in 0..3 {
            db.screenshot_taken(&ScreenshotRow {
                id: 0,
                channel_id: "a".into(),
                file_name: format!("{i}.jpg"),
                create_time: i,
                width: 300,
                height: 168,
            })
            .unwrap();
        }
        assert_eq!(db.take_screenshots(2).unwrap().len(), 2);
        assert_eq!(db.take_screenshots(2).unwrap().len(), 1);
        assert!(db.take_screenshots(2).unwrap().is_empty());
        assert_eq!(db.screenshots("a").unwrap().len(), 3);
    }
}
