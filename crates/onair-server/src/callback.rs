//! Event callbacks (seed 002 "消息通知"): JSON POSTed to the configured URL, signed with
//! `t` (expiry, Unix seconds) and `sign = MD5(key + t)`. Events: 1 push began, 0 push ended
//! (interruption), 100 recording file ready, 200 screenshot, 317 banned by the moderation hook. Sending never blocks media: events
//! go through a bounded queue (dropped with a warning when full) to a task that POSTs each with
//! a 5 s timeout and retries failures with backoff (1, 2, 4, 8, 16 s).

use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// Callback event types.
pub mod event {
    /// The push ended (断流).
    pub const PUSH_END: i64 = 0;
    /// A push began (推流).
    pub const PUSH_BEGIN: i64 = 1;
    /// A recording file is ready.
    pub const RECORD: i64 = 100;
    /// A screenshot was taken.
    pub const SCREENSHOT: i64 = 200;
    /// The moderation hook banned a stream (the seeds' porn-detection callback; the seeds give
    /// it no number, this one is onair's).
    pub const MODERATION_BAN: i64 = 317;
}

/// How long a callback's `t` stays valid.
pub const CALLBACK_VALIDITY_S: i64 = 600;
const BACKOFF_S: [u64; 5] = [1, 2, 4, 8, 16];

/// Sends event callbacks.
#[derive(Debug, Clone)]
pub struct Notifier {
    tx: Option<mpsc::Sender<Value>>,
    key: Arc<str>,
    sequence: Arc<AtomicU64>,
}

impl Notifier {
    /// A notifier posting to `url` (none: events are only logged), run on `rt`.
    pub fn start(url: Option<String>, key: &str, rt: &tokio::runtime::Handle) -> Self {
        let tx = url.map(|url| {
            let (tx, rx) = mpsc::channel(1024);
            rt.spawn(run(url, rx));
            tx
        });
        Self {
            tx,
            key: key.into(),
            sequence: Arc::new(AtomicU64::new(1)),
        }
    }

    /// Queues an event: adds event_type, t, sign and sequence to `fields`.
    pub fn send(&self, event_type: i64, fields: Map<String, Value>, now_unix: i64) {
        let t = now_unix + CALLBACK_VALIDITY_S;
        let mut body = fields;
        body.insert("event_type".into(), json!(event_type));
        body.insert("t".into(), json!(t));
        body.insert(
            "sign".into(),
            json!(onair_rtmp::sign::api_sign(&self.key, &t.to_string())),
        );
        body.insert(
            "sequence".into(),
            json!(self.sequence.fetch_add(1, Ordering::Relaxed).to_string()),
        );
        tracing::debug!(event_type, "callback {body:?}");
        if let Some(tx) = &self.tx {
            if tx.try_send(Value::Object(body)).is_err() {
                tracing::warn!(event_type, "callback queue full: event dropped");
            }
        }
    }
}

async fn run(url: String, mut rx: mpsc::Receiver<Value>) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("callbacks disabled: {e}");
            return;
        }
    };
    let in_flight = Arc::new(Semaphore::new(16));
    while let Some(body) = rx.recv().await {
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            let _permit = permit;
            for (attempt, wait) in std::iter::once(0).chain(BACKOFF_S).enumerate() {
                if wait > 0 {
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
                match client.post(&url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => return,
                    Ok(r) => {
                        tracing::warn!(attempt, status = %r.status(), "callback refused by {url}")
                    }
                    Err(e) => tracing::warn!(attempt, "callback to {url} failed: {e}"),
                }
            }
            tracing::error!(
                "callback to {url} given up after {} attempts",
                BACKOFF_S.len() + 1
            );
        });
    }
}
