//! `Onair_Overview`, the console's one read: every channel the server knows with its status,
//! its live figures (publisher client, fps, kbps, players, start time, size), its newest
//! screenshot, its newest recordings and its running tape task. It is an API interface like
//! the seeds' ones (signed when an API key is set), so the console shows nothing without the
//! key. URLs are paths on the server's HTTP origin.

use crate::api::format_time;
use crate::db::status;
use crate::error::ServerResult;
use crate::server::Shared;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Recordings listed per channel.
const RECORDINGS_SHOWN: i64 = 5;

/// The overview at `now` (Unix seconds): `{"channels": [...]}`, live channels first, then by
/// name.
pub fn overview(shared: &Shared, now: i64) -> ServerResult<Value> {
    let live: BTreeMap<String, _> = shared
        .hub
        .live()
        .into_iter()
        .map(|l| (l.name.clone(), l))
        .collect();
    let mut rows = shared.db.channels()?;
    rows.sort_by(|a, b| {
        (!live.contains_key(&a.channel_id), &a.channel_id)
            .cmp(&(!live.contains_key(&b.channel_id), &b.channel_id))
    });
    let mut channels = Vec::with_capacity(rows.len());
    for c in rows {
        let l = live.get(&c.channel_id);
        let st = if c.banned {
            status::BANNED
        } else if l.is_some() {
            status::LIVE
        } else {
            status::IDLE
        };
        let app = l.map_or(c.app.as_str(), |l| l.publisher.app.as_str());
        let live_json = l.map(|l| {
            json!({
                "client_ip": l.publisher.client_ip(),
                "fps": (l.rates.fps * 10.0).round() / 10.0,
                "kbps": l.rates.kbps.round(),
                "players": l.players,
                "start_time": format_time(l.publisher.started_unix),
                "width": l.size.map(|s| s.0),
                "height": l.size.map(|s| s.1),
            })
        });
        let shot = shared.db.latest_screenshot(&c.channel_id)?.map(|s| {
            json!({"url": format!("/screenshot/{}", s.file_name), "time": format_time(s.create_time), "width": s.width, "height": s.height})
        });
        let recordings: Vec<Value> = shared
            .db
            .recent_recordings(&c.channel_id, RECORDINGS_SHOWN)?
            .into_iter()
            .map(|r| {
                json!({
                    "file_name": r.file_name,
                    "url": format!("/record/{}", r.file_name),
                    "format": r.format,
                    "start_time": format_time(r.start_time),
                    "duration_s": r.duration_ms / 1000,
                    "size": r.size,
                })
            })
            .collect();
        channels.push(json!({
            "channel_id": c.channel_id,
            "app": app,
            "status": st,
            "live": live_json,
            "last_push_end": (c.last_push_end > 0).then(|| format_time(c.last_push_end)),
            "screenshot": shot,
            "recordings": recordings,
            "tape_task_id": shared.db.active_tape_task(&c.channel_id, now)?,
            "watch": format!("/watch/{app}/{}", c.channel_id),
        }));
    }
    Ok(json!({ "channels": channels }))
}
