//! onair-server: the embedded live server, the cloud side of the seed documents on one
//! machine, so apps can be developed, tested and demoed with no cloud account.
//!
//! - RTMP ingest and play on onair-rtmp's sans-I/O server session ([`rtmp_server`]), push signing
//!   (txSecret/txTime), one publisher per stream, optional play signing.
//! - HTTP-FLV play, the management API, recordings and screenshots over HTTP ([`http`],
//!   [`api`]).
//! - A hub with a GOP cache and bounded per-player queues ([`hub`]).
//! - Event callbacks ([`callback`]), recording segments ([`record`]), screenshots ([`media`]),
//!   relaying to an upstream RTMP server ([`forward`]), state in SQLite ([`db`]).
//!
//! ```no_run
//! use onair_server::{LiveServer, ServerConfig};
//! let mut config = ServerConfig::new("/tmp/onair-data");
//! config.rtmp_addr = "127.0.0.1:0".into();
//! config.http_addr = "127.0.0.1:0".into();
//! let server = LiveServer::start(config).unwrap();
//! println!("push to {}/live/test", server.rtmp_base());
//! server.stop();
//! ```

pub mod api;
pub mod callback;
pub mod config;
pub mod conn_limit;
pub mod console;
pub mod db;
pub mod error;
pub mod forward;
pub mod history;
pub mod hls;
pub mod http;
pub mod hub;
pub mod media;
pub mod mix;
pub mod moderation;
pub mod mp4;
pub mod overview;
pub mod rate_limit;
pub mod record;
pub mod record_hls;
pub mod rtmp_server;
pub mod server;

pub use config::{RecordFormat, RecordFormats, ServerConfig, StatsAccess};
pub use error::{ServerError, ServerResult};

use callback::Notifier;
use db::Db;
use record::RecordContext;
use server::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A running server. [`LiveServer::stop`] (or drop) ends every connection, finalises the
/// recordings and joins every thread.
#[derive(Debug)]
pub struct LiveServer {
    runtime: Option<tokio::runtime::Runtime>,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn bind(addr: &str) -> ServerResult<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr).map_err(|source| ServerError::Bind {
        addr: addr.to_string(),
        source,
    })?;
    l.set_nonblocking(true)
        .map_err(|e| ServerError::io(addr, e))?;
    Ok(l)
}

impl LiveServer {
    /// Validates the configuration, opens the state, finalises segments a crash left open,
    /// binds both ports and starts serving.
    pub fn start(config: ServerConfig) -> ServerResult<Self> {
        config.validate()?;
        let record_dir = config.data_dir.join("record");
        let shot_dir = config.data_dir.join("screenshot");
        for d in [&config.data_dir, &record_dir, &shot_dir] {
            std::fs::create_dir_all(d).map_err(|e| ServerError::io(d, e))?;
        }
        let db = Arc::new(Db::open(&config.data_dir)?);
        let rtmp = bind(&config.rtmp_addr)?;
        let http = bind(&config.http_addr)?;
        let rtmp_addr = rtmp
            .local_addr()
            .map_err(|e| ServerError::io("rtmp socket", e))?;
        let http_addr = http
            .local_addr()
            .map_err(|e| ServerError::io("http socket", e))?;
        raise_open_file_limit(config.max_connections);
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("onair-server")
            .enable_all()
            .build()
            .map_err(|e| ServerError::io("tokio runtime", e))?;
        let rt = runtime.handle().clone();
        let notifier = {
            let _guard = rt.enter();
            Notifier::start(
                config.callback_url.clone(),
                config.effective_callback_key(),
                &rt,
            )
        };
        let record = Arc::new(RecordContext {
            db: db.clone(),
            notifier: notifier.clone(),
            dir: record_dir,
            segment_max: config.segment_max,
            url_base: format!("http://{http_addr}/record/"),
        });
        let repaired = record::repair_open(&record, &config.record.segmented())?;
        if repaired > 0 {
            tracing::info!(
                repaired,
                "segments left open by the last run were finalised"
            );
        }
        let shared = Arc::new(Shared::new(
            config,
            db,
            notifier,
            record,
            shot_dir,
            rtmp_addr,
            http_addr,
            rt.clone(),
        ));
        let (shutdown, rx) = watch::channel(false);
        let tasks = {
            let _guard = rt.enter();
            let rtmp = tokio::net::TcpListener::from_std(rtmp)
                .map_err(|e| ServerError::io("rtmp socket", e))?;
            let http = tokio::net::TcpListener::from_std(http)
                .map_err(|e| ServerError::io("http socket", e))?;
            vec![
                rt.spawn(rtmp_server::serve(rtmp, shared.clone(), rx.clone())),
                rt.spawn(http::serve(http, shared.clone(), rx.clone())),
                rt.spawn(server::housekeeping(shared.clone(), rx)),
            ]
        };
        tracing::info!(%rtmp_addr, %http_addr, "onair server listening");
        Ok(Self {
            runtime: Some(runtime),
            shared,
            shutdown,
            tasks,
        })
    }

    /// The bound RTMP address.
    pub fn rtmp_addr(&self) -> SocketAddr {
        self.shared.rtmp_addr
    }

    /// The bound HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.shared.http_addr
    }

    /// `rtmp://host:port`.
    pub fn rtmp_base(&self) -> String {
        self.shared.rtmp_base()
    }

    /// `http://host:port`.
    pub fn http_base(&self) -> String {
        self.shared.http_base()
    }

    /// A push URL for `app/stream`, signed when a push key is set, valid for `valid`.
    pub fn push_url(&self, app: &str, stream: &str, valid: Duration) -> String {
        self.shared
            .push_url(app, stream, (unix_now() as u64) + valid.as_secs())
    }

    /// A management API URL for `interface` with `params` (`("Param.s.channel_id", "x")`...),
    /// signed with the API key when one is set, valid for 60 s.
    pub fn api_url(&self, interface: &str, params: &[(&str, &str)]) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("cmd", "1")
            .append_pair("interface", interface);
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(key) = &self.shared.config.api_key {
            let t = (unix_now() + 60).to_string();
            q.append_pair("t", &t)
                .append_pair("sign", &onair_rtmp::sign::api_sign(key, &t));
        }
        format!("{}/common_access?{}", self.http_base(), q.finish())
    }

    /// Calls the management API in-process (no HTTP, no sign check): the same `{ret, message,
    /// output}` JSON the HTTP API returns. For apps embedding the server.
    pub fn api(&self, interface: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("interface", interface);
        for (k, v) in params {
            q.append_pair(k, v);
        }
        api::handle_trusted(&self.shared, &q.finish()).body
    }

    /// The data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.shared.config.data_dir
    }

    /// Stops: closes the listeners and every connection, finalises recordings, joins every
    /// task and thread.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        let _ = self.shutdown.send(true);
        let tasks = std::mem::take(&mut self.tasks);
        let shared = self.shared.clone();
        runtime.block_on(async move {
            // Mixes first: they are publishers whose ends finalise recordings.
            let mixes = shared.clone();
            let _ = tokio::task::spawn_blocking(move || mixes.mixer.stop_all()).await;
            for t in tasks {
                let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
            }
            shared.stop_all_recordings().await;
        });
        runtime.shutdown_timeout(Duration::from_secs(2));
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

/// Descriptors kept beside the connections: recordings, the database, listeners, clients.
const SPARE_FILES: u64 = 256;

/// Raises this process's soft open-file limit (up to the hard one) so the connection caps are
/// what limits connections, not a 1024 default. Returns the soft limit in force; warns when the
/// hard limit is below what the caps need.
pub fn raise_open_file_limit(max_connections: usize) -> u64 {
    use rlimit::Resource;
    let Ok((soft, hard)) = Resource::NOFILE.get() else {
        return 0;
    };
    let need = max_connections as u64 + SPARE_FILES;
    let want = need.min(hard).max(soft);
    let now = if want > soft && Resource::NOFILE.set(want, hard).is_ok() {
        want
    } else {
        soft
    };
    if now < need {
        tracing::warn!(
            "the open-file limit ({now}) is below the connection cap plus {SPARE_FILES} ({need}): \
             connections past it fail at accept; raise the hard limit (ulimit -Hn) or lower \
             --max-connections"
        );
    }
    now
}
