//! Plain-HTTP helpers for the server tests, bench and demo: a blocking GET (and a JSON POST)
//! that returns the status and body (the management API, files), and a callback sink that accepts the server's
//! signed event POSTs on a loopback port and lets a test wait for them.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// GETs `url` (`http://host:port/path?query`); returns the status code and the body.
pub fn http_get(url: &str) -> std::io::Result<(u16, Vec<u8>)> {
    http_get_with_head(url).map(|(status, _, body)| (status, body))
}

/// GETs `url`; returns the status code, the response head (status line and headers) and the
/// body.
pub fn http_get_with_head(url: &str) -> std::io::Result<(u16, String, Vec<u8>)> {
    exchange(url, "GET", None)
}

/// POSTs `body` (JSON) to `url`; returns the status code and the body.
pub fn http_post(url: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    exchange(url, "POST", Some(body)).map(|(status, _, reply)| (status, reply))
}

/// One HTTP/1.0 request (`Connection: close`) and its whole reply: status, head, body.
fn exchange(
    url: &str,
    method: &str,
    body: Option<&[u8]>,
) -> std::io::Result<(u16, String, Vec<u8>)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other(format!("not an http:// URL: {url}")))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = TcpStream::connect(authority)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n"
    )?;
    if let Some(b) = body {
        write!(
            s,
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        )?;
    }
    s.write_all(b"\r\n")?;
    if let Some(b) = body {
        s.write_all(b)?;
    }
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
    Ok((status, head.into_owned(), raw[split + 4..].to_vec()))
}

/// POSTs `body` to `url` and parses the reply as JSON.
pub fn http_post_json(url: &str, body: &Value) -> (u16, Value) {
    let (status, reply) =
        http_post(url, body.to_string().as_bytes()).unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let v = serde_json::from_slice(&reply)
        .unwrap_or_else(|e| panic!("POST {url}: {e}; body: {}", String::from_utf8_lossy(&reply)));
    (status, v)
}

/// GETs `url` and returns the status as soon as the response head arrives (for endless
/// bodies such as HTTP-FLV); the connection is then closed.
pub fn http_get_head(url: &str) -> std::io::Result<(u16, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other(format!("not an http:// URL: {url}")))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(authority)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {authority}\r\n\r\n")?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {line}")))?;
    Ok((status, line))
}

/// GETs `url` and parses the body as JSON.
pub fn http_json(url: &str) -> (u16, Value) {
    let (status, body) = http_get(url).unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let v = serde_json::from_slice(&body).unwrap_or_else(|e| {
        panic!(
            "GET {url}: body is not JSON ({e}): {}",
            String::from_utf8_lossy(&body)
        )
    });
    (status, v)
}

/// Received callbacks: when and what.
#[derive(Debug, Default)]
struct Received {
    events: Mutex<Vec<(Instant, Value)>>,
    changed: Condvar,
}

/// An HTTP listener on a loopback port collecting JSON POST bodies.
#[derive(Debug)]
pub struct CallbackSink {
    /// `http://127.0.0.1:port/callback`.
    pub url: String,
    received: Arc<Received>,
}

impl CallbackSink {
    /// Starts listening (the thread lives as long as the process; tests are short).
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!(
            "http://{}/callback",
            listener.local_addr().expect("local addr")
        );
        let received = Arc::new(Received::default());
        let r = received.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let r = r.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &r);
                });
            }
        });
        Self { url, received }
    }

    /// Every event received so far.
    pub fn events(&self) -> Vec<(Instant, Value)> {
        self.received
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until an event matching `pred` arrives (or `limit` passes); returns it.
    pub fn wait_for(
        &self,
        limit: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<(Instant, Value)> {
        let mut found = None;
        self.wait_until(limit, |events| {
            found = events.iter().find(|(_, v)| pred(v)).cloned();
            found.is_some()
        });
        found
    }

    /// Waits until `n` events match `pred` (or `limit` passes); returns them, oldest first.
    pub fn wait_count(
        &self,
        limit: Duration,
        n: usize,
        pred: impl Fn(&Value) -> bool,
    ) -> Vec<(Instant, Value)> {
        let mut found = Vec::new();
        self.wait_until(limit, |events| {
            found = events.iter().filter(|(_, v)| pred(v)).cloned().collect();
            found.len() >= n
        });
        found
    }

    /// Waits until `done` holds for the events received so far (or `limit` passes). `done`
    /// runs under the sink's lock: it must not call back into the sink.
    pub fn wait_until(
        &self,
        limit: Duration,
        mut done: impl FnMut(&[(Instant, Value)]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + limit;
        let mut events = self
            .received
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        loop {
            if done(&events) {
                return true;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            events = self
                .received
                .changed
                .wait_timeout(events, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

fn serve(conn: TcpStream, r: &Received) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; len.min(1 << 20)];
        reader.read_exact(&mut body)?;
        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
            r.events
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((Instant::now(), v));
            r.changed.notify_all();
        }
        (&conn).write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")?;
    }
}
