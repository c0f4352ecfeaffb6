//! The HTTP side (hyper): the console at `/` and the watch page at `/watch/<app>/<stream>`
//! ([`crate::console`]), HTTP-FLV play at `/<app>/<stream>.flv`, HLS live at
//! `/<app>/<stream>.m3u8` (segments `/<app>/<stream>-<seq>.ts`, see [`crate::hls`]), the
//! management API at
//! `/common_access` (the seeds' path) and `/api`, recordings at `/record/<file>` and screenshots
//! at `/screenshot/<file>`. HTTP-FLV bodies start with the FLV header and the hub's start burst
//! (metadata, sequence headers, GOP cache), then stream live tags, each encoded once and shared
//! by every player. Bodies end when the publisher leaves, when the player is dropped for being
//! too slow, or at shutdown.

use crate::hub::{SubscriberKind, Subscription};
use crate::server::{accept_until_shutdown, Shared};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use onair_flv::FlvHeader;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

type Body = BoxBody<Bytes, Infallible>;

/// The largest request head (request line and headers) read; a longer one is an error.
const MAX_HEADER_BYTES: usize = 16 << 10;

/// What a connection over the caps gets before it is closed.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 28\r\n\r\ntoo many connections, retry\n";

/// Serves HTTP until shutdown, then waits (up to 2 s) for open connections.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    let conn_shutdown = shutdown.clone();
    let limits = shared.conns.clone();
    let idle = shared.config.idle_timeout;
    let mut conns = accept_until_shutdown(
        listener,
        shutdown,
        "HTTP",
        limits,
        REFUSED,
        move |stream, peer| {
            let (shared, shutdown) = (shared.clone(), conn_shutdown.clone());
            async move {
                let svc = hyper::service::service_fn(move |req| {
                    let (shared, shutdown) = (shared.clone(), shutdown.clone());
                    async move { Ok::<_, Infallible>(route(&shared, req, peer, shutdown).await) }
                });
                // A client that sends no complete request header within the idle timeout (a silent
                // connection, or one idle between keep-alive requests) is closed; header size is
                // capped by max_buf_size. Bodies are read only for POSTs to the API (bounded, see
                // `api_post`).
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(idle)
                    .max_buf_size(MAX_HEADER_BYTES)
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            }
        },
    )
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
}

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn text(status: StatusCode, msg: &str) -> Response<Body> {
    full(status, "text/plain; charset=utf-8", format!("{msg}\n"))
}

async fn route(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    peer: std::net::SocketAddr,
    shutdown: watch::Receiver<bool>,
) -> Response<Body> {
    if req.method() == hyper::Method::POST {
        return api_post(shared, req, peer).await;
    }
    if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET, HEAD and POST are served",
        );
    }
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    if let Some(p) = crate::console::page(&path) {
        let mut r = full(StatusCode::OK, p.content_type, p.body);
        let h = r.headers_mut();
        h.insert(
            hyper::header::CONTENT_SECURITY_POLICY,
            hyper::header::HeaderValue::from_static(crate::console::CSP),
        );
        h.insert(
            hyper::header::CACHE_CONTROL,
            hyper::header::HeaderValue::from_static("no-cache"),
        );
        return r;
    }
    match path.as_str() {
        "/console/config" => full(
            StatusCode::OK,
            "application/json",
            crate::console::config_json(&shared.config).to_string(),
        ),
        "/common_access" | "/api" => {
            // SQLite work: on a blocking thread, not on the async workers.
            let (s, ip, now) = (shared.clone(), peer.ip(), std::time::Instant::now());
            let reply = match tokio::task::spawn_blocking(move || {
                crate::api::handle_from(&s, &query, ip, now)
            })
            .await
            {
                Ok(r) => r,
                Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, "the API call failed"),
            };
            let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
            full(status, "application/json", reply.body.to_string())
        }
        _ => {
            if let Some(file) = path.strip_prefix("/record/") {
                return serve_file(&shared.record.dir, file).await;
            }
            if let Some(file) = path.strip_prefix("/screenshot/") {
                return serve_file(&shared.shot_dir, file).await;
            }
            if let Some(stream) = path.strip_suffix(".m3u8") {
                if let Some(name) = app_stream(stream) {
                    return hls_playlist(shared, name, &query).await;
                }
            }
            if let Some(stream) = path.strip_suffix(".ts") {
                if let Some((name, seq)) = app_stream(stream).and_then(|s| s.rsplit_once('-')) {
                    return hls_segment(shared, name, seq, &query);
                }
            }
            if let Some(stream) = path.strip_suffix(".flv") {
                let mut parts = stream.trim_start_matches('/').split('/');
                if let (Some(_app), Some(name), None) = (parts.next(), parts.next(), parts.next()) {
                    let key = if query.is_empty() {
                        name.to_string()
                    } else {
                        format!("{name}?{query}")
                    };
                    return http_flv(shared, &key, shutdown);
                }
            }
            text(StatusCode::NOT_FOUND, "not found")
        }
    }
}

/// A POST to the management API (`Mix_StreamV2`'s JSON body): the body is read up to
/// [`crate::api::MAX_BODY_BYTES`] (413 past it) within the idle timeout (408 after it).
async fn api_post(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    peer: std::net::SocketAddr,
) -> Response<Body> {
    if !matches!(req.uri().path(), "/common_access" | "/api") {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST is served at /common_access and /api only",
        );
    }
    let query = req.uri().query().unwrap_or("").to_string();
    let limited = http_body_util::Limited::new(req.into_body(), crate::api::MAX_BODY_BYTES);
    let body = match tokio::time::timeout(shared.config.idle_timeout, limited.collect()).await {
        Err(_) => {
            return text(
                StatusCode::REQUEST_TIMEOUT,
                "the request body came too slowly",
            )
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the request body is over {} bytes",
                    crate::api::MAX_BODY_BYTES
                ),
            )
        }
        Ok(Err(e)) => return text(StatusCode::BAD_REQUEST, &format!("request body: {e}")),
        Ok(Ok(b)) => b.to_bytes(),
    };
    // Mixing starts threads and the database is SQLite: off the async workers.
    let (s, ip, now) = (shared.clone(), peer.ip(), std::time::Instant::now());
    let reply = match tokio::task::spawn_blocking(move || {
        crate::api::handle_post(&s, &query, &body, ip, now)
    })
    .await
    {
        Ok(r) => r,
        Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, "the API call failed"),
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    full(status, "application/json", reply.body.to_string())
}

/// `stream` of `/<app>/<stream>`.
fn app_stream(path: &str) -> Option<&str> {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(_app), Some(name), None) if !name.is_empty() => Some(name),
        _ => None,
    }
}

fn with_headers(mut r: Response<Body>, cache: &'static str) -> Response<Body> {
    let h = r.headers_mut();
    h.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static(cache),
    );
    h.insert(
        hyper::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        hyper::header::HeaderValue::from_static("*"),
    );
    r
}

fn play_key(name: &str, query: &str) -> String {
    if query.is_empty() {
        name.to_string()
    } else {
        format!("{name}?{query}")
    }
}

async fn hls_playlist(shared: &Arc<Shared>, stream: &str, query: &str) -> Response<Body> {
    let name = match shared.authorize_play(&play_key(stream, query)) {
        Ok(n) => n,
        Err(e) => return text(StatusCode::FORBIDDEN, &e),
    };
    let Some(live) = shared.hls_live(&name) else {
        return text(StatusCode::NOT_FOUND, &format!("stream {name} is not live"));
    };
    // A playlist asked for right after the push started waits for its first segment.
    let wait = shared.config.hls_fragment * 3;
    let l = live.clone();
    let ready = tokio::task::spawn_blocking(move || l.wait_first(wait))
        .await
        .unwrap_or(false);
    match live.playlist(stream, query).filter(|_| ready) {
        Some(p) => with_headers(
            full(StatusCode::OK, "application/vnd.apple.mpegurl", p),
            "no-cache",
        ),
        None => text(
            StatusCode::NOT_FOUND,
            &format!("stream {name} has no HLS segment yet"),
        ),
    }
}

fn hls_segment(shared: &Arc<Shared>, stream: &str, seq: &str, query: &str) -> Response<Body> {
    let name = match shared.authorize_play(&play_key(stream, query)) {
        Ok(n) => n,
        Err(e) => return text(StatusCode::FORBIDDEN, &e),
    };
    let data = seq
        .parse::<u64>()
        .ok()
        .and_then(|seq| shared.hls_live(&name)?.segment(seq));
    match data {
        // A segment never changes once listed.
        Some(d) => with_headers(full(StatusCode::OK, "video/mp2t", d), "max-age=60"),
        None => text(StatusCode::NOT_FOUND, "no such segment"),
    }
}

fn http_flv(shared: &Arc<Shared>, key: &str, shutdown: watch::Receiver<bool>) -> Response<Body> {
    let name = match shared.authorize_play(key) {
        Ok(n) => n,
        Err(e) => return text(StatusCode::FORBIDDEN, &e),
    };
    let Some(sub) = shared.hub.subscribe(&name, SubscriberKind::HttpFlv) else {
        return text(StatusCode::NOT_FOUND, &format!("stream {name} is not live"));
    };
    let header = FlvHeader {
        has_audio: sub.has_audio,
        has_video: sub.has_video,
    }
    .encode();
    let stream =
        futures_util::stream::once(async move { Ok::<_, Infallible>(Frame::data(header)) })
            .chain(tags(sub, shutdown));
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("video/x-flv"),
    );
    r.headers_mut().insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-cache"),
    );
    r.headers_mut().insert(
        hyper::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        hyper::header::HeaderValue::from_static("*"),
    );
    r
}

/// Most tags gathered into one HTTP-FLV body frame.
const BODY_BATCH: usize = 64;

fn tags(
    sub: Subscription,
    shutdown: watch::Receiver<bool>,
) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>> {
    futures_util::stream::unfold((sub, shutdown), |(mut sub, mut shutdown)| async move {
        let tag = tokio::select! {
            t = sub.rx.recv() => t?,
            _ = shutdown.changed() => return None,
        };
        // What else is ready goes into the same body frame: one chunk, one write (the hub
        // hands a player the audio of a frame together with the frame).
        let mut bytes = tag.flv_bytes().clone();
        if let Ok(next) = sub.rx.try_recv() {
            let mut batch = BytesMut::with_capacity(bytes.len() + next.flv_bytes().len() + 8192);
            batch.extend_from_slice(&bytes);
            batch.extend_from_slice(next.flv_bytes());
            for _ in 2..BODY_BATCH {
                let Ok(t) = sub.rx.try_recv() else { break };
                batch.extend_from_slice(t.flv_bytes());
            }
            bytes = batch.freeze();
        }
        sub.bytes_out
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Some((Ok(Frame::data(bytes)), (sub, shutdown)))
    })
}

/// A plain file name (no directories, no dot files).
fn safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

async fn serve_file(dir: &std::path::Path, name: &str) -> Response<Body> {
    if !safe_file_name(name) {
        return text(StatusCode::NOT_FOUND, "not found");
    }
    let path = dir.join(name);
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(_) => return text(StatusCode::NOT_FOUND, "not found"),
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let content_type = match path.extension().and_then(|e| e.to_str()) {
        Some("flv") => "video/x-flv",
        Some("mp4") => "video/mp4",
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("ts") => "video/mp2t",
        Some("aac") => "audio/aac",
        Some("jpg") => "image/jpeg",
        _ => "application/octet-stream",
    };
    // Files are read in 256 KiB pieces through a small channel so large recordings stream.
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 256 << 10];
        loop {
            match file.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.send(Bytes::copy_from_slice(&buf[..n])).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(body)));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    if let Ok(v) = len.to_string().parse() {
        r.headers_mut().insert(hyper::header::CONTENT_LENGTH, v);
    }
    r
}
