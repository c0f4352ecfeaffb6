//! The management API (seeds 002-004): HTTP GET with `interface`, `Param.s.*` / `Param.n.*`
//! parameters, `t` (expiry, Unix seconds) and `sign = MD5(key + t)`. A bad sign answers HTTP
//! 403 "sign invalid"; a good sign whose `t` has passed answers 403 "time expired". Replies are
//! JSON `{ret, message, output}` with the seeds' codes: 0 success, 1204 invalid input param,
//! 1301 has not live stream, 10003 query data is empty. `Live_Channel_GetUrls` is onair's
//! own: it mints signed push URLs and play URLs; so is `Onair_Overview`, the console's read
//! ([`crate::overview`]).

use crate::db::status;
use crate::server::{valid_stream_name, Shared};
use crate::unix_now;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Success.
pub const OK: i64 = 0;
/// Invalid input parameter.
pub const INVALID_PARAM: i64 = 1204;
/// The stream is not live.
pub const NO_LIVE_STREAM: i64 = 1301;
/// The query matched nothing.
pub const EMPTY_RESULT: i64 = 10003;
/// Internal error (the database failed).
pub const INTERNAL: i64 = 1201;
/// Statistics are not enabled (`--stats unregistered`).
pub const STATS_NOT_REGISTERED: i64 = 1000;
/// Statistics were stopped (`--stats stopped`).
pub const STATS_STOPPED: i64 = 1001;
/// Too many requests from this client (`--api-rate`).
pub const RATE_LIMITED: i64 = 1202;

/// An API reply: HTTP status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `{ret, message, output}`.
    pub body: Value,
}

fn ok(output: Value) -> Reply {
    Reply {
        status: 200,
        body: json!({"ret": OK, "message": "query data successfully", "output": output}),
    }
}

fn fail(ret: i64, message: impl Into<String>) -> Reply {
    Reply {
        status: 200,
        body: json!({"ret": ret, "message": message.into(), "output": null}),
    }
}

fn forbidden(message: &str) -> Reply {
    Reply {
        status: 403,
        body: json!({"ret": 403, "message": message, "output": null}),
    }
}

struct Params(HashMap<String, String>);

impl Params {
    /// A top-level query field (`interface`, `cmd`, `t`, `sign`...).
    fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `Param.s.<name>` or `Param.n.<name>` (the seeds use both spellings).
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(&format!("Param.s.{name}"))
            .or_else(|| self.0.get(&format!("Param.n.{name}")))
            .map(String::as_str)
    }

    fn channel(&self) -> Result<String, Reply> {
        match self.get("channel_id").or_else(|| self.get("stream_id")) {
            Some(c) if valid_stream_name(c) => Ok(c.to_string()),
            Some(c) => Err(fail(
                INVALID_PARAM,
                format!("invalid input param: channel_id {c:?}"),
            )),
            None => Err(fail(
                INVALID_PARAM,
                "invalid input param: channel_id is required",
            )),
        }
    }

    fn int(
        &self,
        name: &str,
        default: Option<i64>,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, Reply> {
        let bad = |v: &str| {
            fail(
                INVALID_PARAM,
                format!(
                    "invalid input param: {name}={v:?}, expected {}..={}",
                    range.start(),
                    range.end()
                ),
            )
        };
        match self.get(name) {
            Some(v) => match v.parse::<i64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(bad(v)),
            },
            None => default.ok_or_else(|| {
                fail(
                    INVALID_PARAM,
                    format!("invalid input param: {name} is required"),
                )
            }),
        }
    }
}

/// Formats a Unix time as `YYYY-MM-DD HH:MM:SS` (UTC), the seeds' date format.
pub fn format_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Checks `t` and `sign` when an API key is set.
pub fn check_sign(
    key: Option<&str>,
    t: Option<&str>,
    sign: Option<&str>,
    now: i64,
) -> Result<(), &'static str> {
    let Some(key) = key else { return Ok(()) };
    let (Some(t), Some(sign)) = (t, sign) else {
        return Err("sign invalid");
    };
    if onair_rtmp::sign::api_sign(key, t) != sign.to_ascii_lowercase() {
        return Err("sign invalid");
    }
    match t.parse::<i64>() {
        Ok(t) if t >= now => Ok(()),
        Ok(_) => Err("time expired"),
        Err(_) => Err("sign invalid"),
    }
}

/// Answers one API request from `client` at `now`: the rate limit first (1202), then
/// [`handle`].
pub fn handle_from(
    shared: &Shared,
    query: &str,
    client: std::net::IpAddr,
    now: std::time::Instant,
) -> Reply {
    if let Some(limit) = &shared.api_rate {
        if !limit.allow(client, now) {
            return fail(
                RATE_LIMITED,
                "invalid request/request frequency exceeds limit",
            );
        }
    }
    handle(shared, query)
}

/// Answers one API request (`query` is the URL's query string).
pub fn handle(shared: &Shared, query: &str) -> Reply {
    let params = parse(query);
    if let Err(r) = admit(shared, &params) {
        return r;
    }
    dispatch(shared, &params)
}

/// The application and sign checks every call passes.
fn admit(shared: &Shared, params: &Params) -> Result<(), Reply> {
    if let Some(appid) = shared.config.appid.as_deref() {
        // Seed 002's front-end errors: the call names another application. Tencent's
        // Mix_StreamV2 URL carries `appid` instead of `cmd`.
        let mix_by_appid = params.raw("interface") == Some(MIX_INTERFACE)
            && params.raw("cmd").is_none()
            && params.raw("appid") == Some(appid);
        if !mix_by_appid && params.raw("cmd") != Some(appid) {
            return Err(forbidden("cmd is invalid"));
        }
        if params.raw("appid").is_some_and(|a| a != appid) {
            return Err(forbidden("appid is invalid"));
        }
    }
    check_sign(
        shared.config.api_key.as_deref(),
        params.raw("t"),
        params.raw("sign"),
        unix_now(),
    )
    .map_err(forbidden)
}

/// The cloud-mixing interface, whose request is a JSON body ([`crate::mix`]).
pub const MIX_INTERFACE: &str = "Mix_StreamV2";

/// Largest POST body the API reads.
pub const MAX_BODY_BYTES: usize = 64 << 10;

/// Answers a POSTed call from `client`: `Mix_StreamV2` reads its JSON `body` and answers in
/// Tencent's `{code, message, timestamp}` shape; any other interface reads the query as a GET.
pub fn handle_post(
    shared: &std::sync::Arc<Shared>,
    query: &str,
    body: &[u8],
    client: std::net::IpAddr,
    now: std::time::Instant,
) -> Reply {
    let params = parse(query);
    if params.raw("interface") != Some(MIX_INTERFACE) {
        return handle_from(shared, query, client, now);
    }
    if let Some(limit) = &shared.api_rate {
        if !limit.allow(client, now) {
            return fail(
                RATE_LIMITED,
                "invalid request/request frequency exceeds limit",
            );
        }
    }
    if let Err(r) = admit(shared, &params) {
        return r;
    }
    Reply {
        status: 200,
        body: shared.mixer.handle(shared, body, unix_now()),
    }
}

/// Answers a request from inside the process (no sign check).
pub fn handle_trusted(shared: &Shared, query: &str) -> Reply {
    dispatch(shared, &parse(query))
}

fn parse(query: &str) -> Params {
    Params(
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
    )
}

fn dispatch(shared: &Shared, params: &Params) -> Reply {
    let now = unix_now();
    let interface = params.0.get("interface").cloned().unwrap_or_default();
    let r = match interface.as_str() {
        "Live_Channel_GetStatus" => get_status(shared, params),
        "Live_Channel_SetStatus" => set_status(shared, params, now),
        "channel_manager" => channel_manager(shared, params, now),
        "Live_Channel_GetChannelList" => channel_list(shared, params),
        "Live_Channel_GetLiveChannelList" => live_channel_list(shared, params),
        "Get_LiveStat"
        | "Get_LivePushStat"
        | "Get_LivePlayStat"
        | "Get_LivePushStatHistory"
        | "Get_LivePlayStatHistory"
            if shared.config.stats != crate::config::StatsAccess::On =>
        {
            Err(stats_refused(shared.config.stats))
        }
        "Get_LiveStat" => live_stat(shared, params, true, true),
        "Get_LivePushStat" => live_stat(shared, params, true, false),
        "Get_LivePlayStat" => live_stat(shared, params, false, true),
        "Get_LivePushStatHistory" => push_history(shared, params, now),
        "Get_LivePlayStatHistory" => play_history(shared, params, now),
        "Live_Tape_Start" => tape_start(shared, params, now),
        "Live_Tape_Stop" => tape_stop(shared, params),
        "Live_Tape_GetFilelist" => tape_filelist(shared, params),
        "Live_Queue_Get" => queue_get(shared, params),
        "Live_Channel_GetUrls" => get_urls(shared, params, now),
        "Onair_Overview" => db(crate::overview::overview(shared, now)).map(ok),
        MIX_INTERFACE => Ok(Reply {
            status: 200,
            body: crate::mix::reply(
                crate::mix::request::code::BAD_REQUEST,
                "Mix_StreamV2 takes its request as a JSON body: POST it",
                now,
            ),
        }),
        "" => Err(fail(
            INVALID_PARAM,
            "invalid input param: interface is required",
        )),
        other => Err(fail(
            INVALID_PARAM,
            format!("invalid input param: unknown interface {other:?}"),
        )),
    };
    r.unwrap_or_else(|e| e)
}

type ApiResult = Result<Reply, Reply>;

/// Statistics are not served: seed 002's 1000 or 1001.
fn stats_refused(access: crate::config::StatsAccess) -> Reply {
    match access {
        crate::config::StatsAccess::Stopped => {
            fail(STATS_STOPPED, "user service for statapi was stopped")
        }
        _ => fail(STATS_NOT_REGISTERED, "user is not registered for statapi"),
    }
}

fn db<T>(r: crate::error::ServerResult<T>) -> Result<T, Reply> {
    r.map_err(|e| fail(INTERNAL, format!("internal/system error: {e}")))
}

fn channel_status(shared: &Shared, name: &str) -> Result<i64, Reply> {
    let banned = db(shared.db.channel(name))?.is_some_and(|c| c.banned);
    Ok(if banned {
        status::BANNED
    } else if shared.hub.live_one(name).is_some() {
        status::LIVE
    } else {
        status::IDLE
    })
}

fn get_status(shared: &Shared, p: &Params) -> ApiResult {
    let name = p.channel()?;
    let st = channel_status(shared, &name)?;
    Ok(ok(
        json!([{"channel_id": name, "rate_type": 0, "recv_type": if shared.config.hls { 3 } else { 1 }, "status": st}]),
    ))
}

fn set_status(shared: &Shared, p: &Params, now: i64) -> ApiResult {
    let name = p.channel()?;
    let st = p.int("status", None, 0..=2)?;
    match st {
        0 => {
            db(shared.db.set_banned(&name, true, now))?;
            shared.hub.kick(&name);
        }
        1 => db(shared.db.set_banned(&name, false, now))?,
        _ => {
            db(shared.db.ensure_channel(&name, "live", now))?;
            shared.hub.kick(&name);
        }
    }
    Ok(ok(
        json!({"channel_id": name, "status": channel_status(shared, &name)?}),
    ))
}

fn channel_manager(shared: &Shared, p: &Params, now: i64) -> ApiResult {
    let name = p.channel()?;
    match p.get("action") {
        Some("forbid") => {
            let until = p.int("abstime_end", None, now + 1..=now + 90 * 86_400)?;
            db(shared.db.set_disabled_until(&name, until, now))?;
            shared.hub.kick(&name);
            Ok(ok(json!({"channel_id": name, "abstime_end": until})))
        }
        Some("resume") => {
            db(shared.db.set_disabled_until(&name, 0, now))?;
            Ok(ok(json!({"channel_id": name})))
        }
        other => Err(fail(
            INVALID_PARAM,
            format!("invalid input param: action={other:?}, expected forbid or resume"),
        )),
    }
}

fn page(p: &Params) -> Result<(i64, i64), Reply> {
    Ok((
        p.int("page_no", Some(1), 1..=1_000_000)?,
        p.int("page_size", Some(10), 1..=100)?,
    ))
}

fn paged<T: Clone>(all: &[T], page_no: i64, page_size: i64) -> Vec<T> {
    all.iter()
        .skip(((page_no - 1) * page_size) as usize)
        .take(page_size as usize)
        .cloned()
        .collect()
}

fn channel_list(shared: &Shared, p: &Params) -> ApiResult {
    let filter = match p.get("status") {
        Some(_) => Some(p.int("status", None, 0..=3)?),
        None => None,
    };
    let (page_no, page_size) = page(p)?;
    let mut all = Vec::new();
    for c in db(shared.db.channels())? {
        let st = channel_status(shared, &c.channel_id)?;
        if filter.is_none_or(|f| f == st) {
            all.push(json!({"channel_id": c.channel_id, "status": st, "app": c.app}));
        }
    }
    if all.is_empty() {
        return Err(fail(EMPTY_RESULT, "query data is empty"));
    }
    Ok(ok(
        json!({"all_count": all.len(), "channel_list": paged(&all, page_no, page_size)}),
    ))
}

fn live_channel_list(shared: &Shared, p: &Params) -> ApiResult {
    let (page_no, page_size) = page(p)?;
    let all: Vec<Value> = shared
        .hub
        .live()
        .into_iter()
        .map(|l| json!({"channel_id": l.name, "app": l.publisher.app, "start_time": format_time(l.publisher.started_unix)}))
        .collect();
    if all.is_empty() {
        return Err(fail(EMPTY_RESULT, "query data is empty"));
    }
    Ok(ok(
        json!({"all_count": all.len(), "channel_list": paged(&all, page_no, page_size)}),
    ))
}

fn live_stat(shared: &Shared, p: &Params, push: bool, play: bool) -> ApiResult {
    let filter = match p.get("stream_id").or_else(|| p.get("channel_id")) {
        Some(_) => Some(p.channel()?),
        None => None,
    };
    let lives: Vec<_> = shared
        .hub
        .live()
        .into_iter()
        .filter(|l| filter.as_ref().is_none_or(|f| *f == l.name))
        .collect();
    if lives.is_empty() {
        return Err(fail(NO_LIVE_STREAM, "has not live stream"));
    }
    let server_ip = shared.rtmp_addr.ip().to_string();
    let info: Vec<Value> = lives
        .iter()
        .map(|l| {
            let mut v = json!({"stream_name": l.name, "time": format_time(unix_now())});
            if push {
                v["client_ip"] = json!(l.publisher.client_ip());
                v["server_ip"] = json!(server_ip);
                v["fps"] = json!((l.rates.fps * 10.0).round() / 10.0);
                v["speed"] = json!(l.rates.kbps.round());
                v["start_time"] = json!(format_time(l.publisher.started_unix));
                if let Some((w, h)) = l.size {
                    v["width"] = json!(w);
                    v["height"] = json!(h);
                }
            }
            if play {
                v["online"] = json!(l.players);
                v["flux"] = json!((l.bytes_out as f64 / 1e6 * 100.0).round() / 100.0);
                v["dropped_players"] = json!(l.dropped_players);
            }
            v
        })
        .collect();
    Ok(ok(json!({
        "stream_info": info,
        "connections": shared.conns.open_now(),
        "refused_connections": shared.conns.refused(),
    })))
}

/// The history's time range: `start_time` and `end_time` (Unix seconds, Tencent's
/// `Param.n.*`), within the kept days, end after start.
fn history_range(shared: &Shared, p: &Params, now: i64) -> Result<(i64, i64), Reply> {
    let oldest = now - i64::from(shared.config.stats_history_days) * 86_400;
    let start = p.int("start_time", None, 0..=now)?;
    let end = p.int("end_time", None, start..=now + 86_400)?;
    Ok((start.max(oldest), end))
}

fn push_history(shared: &Shared, p: &Params, now: i64) -> ApiResult {
    let name = p.channel()?;
    let (from, to) = history_range(shared, p, now)?;
    let rows = db(shared.db.stat_samples(Some(&name), from, to))?;
    if rows.is_empty() {
        return Err(fail(EMPTY_RESULT, "query data is empty"));
    }
    let stat_info: Vec<Value> = rows
        .iter()
        .map(|x| {
            json!({
                "time": format_time(x.time),
                "client_ip": x.client_ip,
                "fps": (x.fps * 10.0).round() / 10.0,
                "speed": x.kbps.round(),
            })
        })
        .collect();
    Ok(ok(json!({"stream_id": name, "stat_info": stat_info})))
}

/// Per mark: players, bandwidth (Mbps) and flux (MB), of one stream or summed over all.
fn play_history(shared: &Shared, p: &Params, now: i64) -> ApiResult {
    let name = match p.get("stream_id").or_else(|| p.get("channel_id")) {
        Some(_) => Some(p.channel()?),
        None => None,
    };
    let (from, to) = history_range(shared, p, now)?;
    let rows = db(shared.db.stat_samples(name.as_deref(), from, to))?;
    if rows.is_empty() {
        return Err(fail(EMPTY_RESULT, "query data is empty"));
    }
    let mut by_time: std::collections::BTreeMap<i64, (i64, f64, f64)> = Default::default();
    for x in &rows {
        let e = by_time.entry(x.time).or_default();
        e.0 += x.players;
        e.1 += x.bandwidth_kbps;
        e.2 += x.flux_mb;
    }
    let stat_info: Vec<Value> = by_time
        .iter()
        .map(|(t, (online, kbps, mb))| {
            json!({
                "time": format_time(*t),
                "online": online,
                "bandwidth": kbps.round() / 1000.0,
                "flux": (mb * 1000.0).round() / 1000.0,
            })
        })
        .collect();
    let total: f64 = by_time.values().map(|v| v.2).sum();
    let peak = by_time.values().map(|v| v.1).fold(0.0, f64::max) / 1000.0;
    Ok(ok(json!({
        "stream_id": name.unwrap_or_default(),
        "stat_info": stat_info,
        "sum_info": {"flux": (total * 1000.0).round() / 1000.0, "peak_bandwidth": (peak * 1000.0).round() / 1000.0},
    })))
}

fn tape_start(shared: &Shared, p: &Params, now: i64) -> ApiResult {
    let name = p.channel()?;
    let start = p.int("start_time", Some(now), 0..=now + 7 * 86_400)?;
    let end = p.int(
        "end_time",
        Some(start.max(now) + 1800),
        start + 1..=start.max(now) + 86_400,
    )?;
    let task = db(shared.db.tape_started(&name, start, end))?;
    shared.sync_recording(&name);
    Ok(ok(
        json!({"task_id": task.to_string(), "channel_id": name, "start_time": format_time(start), "end_time": format_time(end)}),
    ))
}

fn tape_stop(shared: &Shared, p: &Params) -> ApiResult {
    let name = p.channel()?;
    let task = p.int("task_id", None, 1..=i64::MAX)?;
    if !db(shared.db.tape_stopped(&name, task))? {
        return Err(fail(
            INVALID_PARAM,
            format!("invalid input param: no running task {task} on {name}"),
        ));
    }
    shared.sync_recording(&name);
    Ok(ok(json!({"task_id": task.to_string()})))
}

fn tape_filelist(shared: &Shared, p: &Params) -> ApiResult {
    let name = p.channel()?;
    let (page_no, page_size) = page(p)?;
    let (rows, total) = db(shared.db.recordings(&name, page_no, page_size))?;
    if total == 0 {
        return Err(fail(EMPTY_RESULT, "query data is empty"));
    }
    let base = shared.http_base();
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "vid": r.id.to_string(),
                "file_name": r.file_name,
                "file_format": r.format,
                "start_time": format_time(r.start_time),
                "end_time": format_time(r.end_time),
                "duration": r.duration_ms as f64 / 1000.0,
                "file_size": r.size,
                "url": format!("{base}/record/{}", r.file_name),
            })
        })
        .collect();
    Ok(ok(json!({"all_count": total, "file_list": list})))
}

fn queue_get(shared: &Shared, p: &Params) -> ApiResult {
    let bid = p.int("bid", None, 0..=i64::from(u32::MAX))?;
    if bid != 100 {
        return Err(fail(
            INVALID_PARAM,
            format!("invalid input param: bid={bid}, only 100 (screenshots) exists"),
        ));
    }
    let count = p.int("count", Some(1), 1..=100)?;
    let rows = db(shared.db.take_screenshots(count))?;
    if rows.is_empty() {
        return Err(fail(EMPTY_RESULT, "query data is empty"));
    }
    let base = shared.http_base();
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "stream_id": r.channel_id,
                "pic_url": r.file_name,
                "pic_full_url": format!("{base}/screenshot/{}", r.file_name),
                "create_time": r.create_time,
                "width": r.width,
                "height": r.height,
            })
        })
        .collect();
    Ok(ok(json!({"count": data.len().to_string(), "data": data})))
}

fn get_urls(shared: &Shared, p: &Params, now: i64) -> ApiResult {
    let name = p.channel()?;
    let app = p.get("app").unwrap_or("live");
    if !valid_stream_name(app) {
        return Err(fail(
            INVALID_PARAM,
            format!("invalid input param: app {app:?}"),
        ));
    }
    let valid = p.int("valid_seconds", Some(86_400), 1..=365 * 86_400)?;
    let expiry = (now + valid) as u64;
    let rtmp = shared.rtmp_base();
    let push = shared.push_url(app, &name, expiry);
    let play_q = shared
        .config
        .play_key
        .as_ref()
        .map(|k| format!("?{}", onair_rtmp::sign::push_query(k, &name, expiry)))
        .unwrap_or_default();
    Ok(ok(json!({
        "channel_id": name,
        "push_url": push,
        "play_url_rtmp": format!("{rtmp}/{app}/{name}{play_q}"),
        "play_url_flv": format!("{}/{app}/{name}.flv{play_q}", shared.http_base()),
        "expire_time": expiry,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_check_follows_the_seeds() {
        let key = "5d41402abc4b2a76b9719d911017c592";
        let sign = "b17971b51ba0fe5916ddcd96692e9fb3";
        assert_eq!(
            check_sign(Some(key), Some("1471850187"), Some(sign), 1_471_850_000),
            Ok(())
        );
        assert_eq!(
            check_sign(Some(key), Some("1471850187"), Some(sign), 1_471_850_188),
            Err("time expired")
        );
        assert_eq!(
            check_sign(Some(key), Some("1471850188"), Some(sign), 0),
            Err("sign invalid")
        );
        assert_eq!(check_sign(Some(key), None, None, 0), Err("sign invalid"));
        assert_eq!(check_sign(None, None, None, 0), Ok(()));
        assert_eq!(
            onair_rtmp::sign::api_sign(key, "1626839220"),
            "5ee8ca6c28cbe415b40352969cdf8249"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(format_time(1_626_839_220), "2021-07-21 03:47:00");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00");
    }
}
