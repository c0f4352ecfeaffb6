//! `onair serve [--rtmp ADDR] [--http ADDR] [--data-dir DIR] [--push-key K] [--api-key K]
//! [--callback URL] [--record flv|mp4|hls|aac|none[,...]] [--segment-minutes N] [--resume-timeout-seconds S] [--no-hls]
//! [--console-admin] [--api-rate N] [--max-connections N] [--max-connections-per-ip N]
//! [--idle-seconds S] [--open-api] [--appid ID] [--stats on|unregistered|stopped]
//! [--stats-history-days N] [--stats-interval-seconds S] [--moderation-url URL]`: runs the embedded live server (with its web console at `/` and watch
//! pages at `/watch/<app>/<stream>`) until Ctrl-C, then stops it cleanly (recordings finalised).

use clap::Args;
use onair_server::{LiveServer, RecordFormats, ServerConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Serve arguments.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// RTMP listen address (ingest and play).
    #[arg(long, default_value = "127.0.0.1:1935")]
    pub rtmp: String,
    /// HTTP listen address (HTTP-FLV, the management API, recordings, screenshots).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http: String,
    /// Where the state database, recordings and screenshots are kept.
    #[arg(long, default_value = "onair-data")]
    pub data_dir: PathBuf,
    /// Push signing key: pushes need txSecret/txTime (mint them with `onair sign`).
    #[arg(long)]
    pub push_key: Option<String>,
    /// Play signing key: play URLs need txSecret/txTime too.
    #[arg(long)]
    pub play_key: Option<String>,
    /// Management API key: requests need t and sign = MD5(key + t).
    #[arg(long)]
    pub api_key: Option<String>,
    /// POST event callbacks (push begin/end, recording, screenshot) to this URL.
    #[arg(long)]
    pub callback: Option<String>,
    /// Key signing the callbacks (default: the API key, else the push key).
    #[arg(long)]
    pub callback_key: Option<String>,
    /// Record every push: flv, mp4, hls, aac or none, or a comma list (`flv,hls`);
    /// Live_Tape_Start still records on demand.
    #[arg(long, default_value = "flv")]
    pub record: String,
    /// HLS recording: an interruption shorter than this continues the same playlist, a longer
    /// one starts a new playlist (0-1800 s).
    #[arg(long, default_value_t = 30)]
    pub resume_timeout_seconds: u64,
    /// Turn HLS live (`/<app>/<stream>.m3u8`) off.
    #[arg(long)]
    pub no_hls: bool,
    /// Shortest HLS segment in seconds: segments are cut at the first keyframe past it.
    #[arg(long, default_value_t = 2.0)]
    pub hls_fragment_seconds: f64,
    /// Longest recording segment, minutes (1-120).
    #[arg(long, default_value_t = 30)]
    pub segment_minutes: u64,
    /// Seconds between screenshots of each live stream (0 turns them off).
    #[arg(long, default_value_t = 10)]
    pub screenshot_seconds: u64,
    /// Merge window in ms (0-500): audio waits up to this long for the next video frame, so
    /// each player is written to once per frame: less server CPU per player, that much more
    /// audio delay (as SRS's mw_latency). 0 sends every message at once.
    #[arg(long, default_value_t = 0)]
    pub merge_ms: u32,
    /// Relay every published stream to `URL/<stream>` (an RTMP CDN or another server).
    #[arg(long)]
    pub forward: Option<String>,
    /// Let the web console act (ban, cut, record) without an API key. With `--api-key` the
    /// console asks for the key and can act; without either it is read-only.
    #[arg(long)]
    pub console_admin: bool,
    /// Management API requests a second per client IP; more are answered 1202 (default: no
    /// limit).
    #[arg(long)]
    pub api_rate: Option<u32>,
    /// Open connections (RTMP and HTTP together) before new ones are refused.
    #[arg(long, default_value_t = 10_000)]
    pub max_connections: usize,
    /// Open connections from one IP address before its new ones are refused.
    #[arg(long, default_value_t = 1_000)]
    pub max_connections_per_ip: usize,
    /// Close an RTMP connection that neither publishes nor plays, or an HTTP connection that
    /// sends no request, after this many silent seconds (1-3600).
    #[arg(long, default_value_t = 30)]
    pub idle_seconds: u64,
    /// Serve HTTP on a network-reachable address without an API key (the management API,
    /// bans included, is then open to anyone who reaches it).
    #[arg(long)]
    pub open_api: bool,
    /// API calls must carry `cmd=<this>` (Tencent's application id): others get "cmd is
    /// invalid" (and a differing `appid` "appid is invalid").
    #[arg(long)]
    pub appid: Option<String>,
    /// Statistics interfaces: on, unregistered (answer 1000) or stopped (answer 1001).
    #[arg(long, default_value = "on")]
    pub stats: onair_server::StatsAccess,
    /// Days the per-minute statistics history (Get_LivePushStatHistory /
    /// Get_LivePlayStatHistory) is kept (1-365).
    #[arg(long, default_value_t = 30)]
    pub stats_history_days: u32,
    /// Seconds between statistics history samples (1-3600; Tencent's is a minute).
    #[arg(long, default_value_t = 60)]
    pub stats_interval_seconds: u64,
    /// POST every screenshot (JPEG) to this URL; a reply `{"ban": true}` bans the stream and
    /// raises callback event 317.
    #[arg(long)]
    pub moderation_url: Option<String>,
}

/// Runs `onair serve`.
pub fn run(args: &ServeArgs) -> ExitCode {
    tune_malloc();
    let record: RecordFormats = match args.record.parse() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if !(1..=120).contains(&args.segment_minutes) {
        eprintln!(
            "--segment-minutes {}: expected 1 to 120",
            args.segment_minutes
        );
        return ExitCode::from(2);
    }
    let mut config = ServerConfig::new(&args.data_dir);
    config.rtmp_addr = args.rtmp.clone();
    config.http_addr = args.http.clone();
    config.push_key = args.push_key.clone();
    config.play_key = args.play_key.clone();
    config.api_key = args.api_key.clone();
    config.callback_url = args.callback.clone();
    config.callback_key = args.callback_key.clone();
    config.record = record;
    config.segment_max = Duration::from_secs(args.segment_minutes * 60);
    if args.resume_timeout_seconds > 1800 {
        eprintln!(
            "--resume-timeout-seconds {}: expected 0 to 1800",
            args.resume_timeout_seconds
        );
        return ExitCode::from(2);
    }
    config.resume_timeout = Duration::from_secs(args.resume_timeout_seconds);
    config.hls = !args.no_hls;
    if !(0.5..=60.0).contains(&args.hls_fragment_seconds) {
        eprintln!(
            "--hls-fragment-seconds {}: expected 0.5 to 60",
            args.hls_fragment_seconds
        );
        return ExitCode::from(2);
    }
    config.hls_fragment = Duration::from_secs_f64(args.hls_fragment_seconds);
    config.merge_window_ms = args.merge_ms;
    config.screenshot_interval =
        (args.screenshot_seconds > 0).then(|| Duration::from_secs(args.screenshot_seconds));
    config.forward = args.forward.clone();
    config.console_admin = args.console_admin;
    config.api_rate = args.api_rate;
    config.max_connections = args.max_connections;
    config.max_connections_per_ip = args.max_connections_per_ip;
    config.idle_timeout = Duration::from_secs(args.idle_seconds);
    config.open_api = args.open_api;
    config.appid = args.appid.clone();
    config.stats = args.stats;
    config.stats_history_days = args.stats_history_days;
    config.stats_interval = Duration::from_secs(args.stats_interval_seconds);
    config.moderation_url = args.moderation_url.clone();
    if let Err(e) = config.validate() {
        eprintln!("{e}");
        return ExitCode::from(2);
    }
    let server = match LiveServer::start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("onair serve: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (tx, rx) = crossbeam_channel::bounded::<()>(1);
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = tx.try_send(());
    }) {
        eprintln!("cannot catch Ctrl-C: {e}");
    }
    println!("onair server");
    println!("  RTMP     {}", server.rtmp_base());
    println!("  HTTP     {}", server.http_base());
    println!("  data     {}", server.data_dir().display());
    println!(
        "  push to  {}",
        server.push_url("live", "test", Duration::from_secs(86_400))
    );
    println!(
        "  play     {}/live/test   {}/live/test.flv",
        server.rtmp_base(),
        server.http_base()
    );
    println!("  console  {}/", server.http_base());
    println!(
        "  watch    {}{}",
        server.http_base(),
        onair_server::console::watch_path("live", "test")
    );
    println!(
        "  API      {}",
        server.api_url("Live_Channel_GetChannelList", &[])
    );
    println!("Ctrl-C stops the server.");
    let _ = rx.recv();
    eprintln!("stopping: finalising recordings");
    server.stop();
    ExitCode::SUCCESS
}

/// Tunes glibc's malloc for a long-running server; must run before the first thread starts.
///
/// - One arena (`M_ARENA_MAX` 1). A media buffer is allocated on one thread (the connection
///   that read it) and freed on another (the last subscriber's writer); with glibc's default
///   of 8 arenas per core, memory freed that way stays cached in the arena it came from.
/// - A fixed mmap threshold of 256 KiB (`M_MMAP_THRESHOLD`). By default glibc raises the
///   threshold to the size of each large block freed, so after the first HLS segment (~0.5 MiB)
///   is dropped the next ones come from the heap, whose holes then hold RSS between segments.
///   Fixed, blocks that large are mapped and given back whole when freed: a few a second here.
///
/// Measured with a 720p push and a player stalled 1.5 s a minute (`docs/threads.md`): RSS after
/// warm-up crept +2.4 MiB in 6 minutes with the defaults and HLS off, stayed flat with one
/// arena; with HLS on it swung by 2-3 MiB with one arena and stayed within 0.9 MiB with both
/// settings. The fan-out bench shows no CPU cost (the per-thread caches still serve most
/// allocations without the arena's lock). Set here, not in the `onair-server` library: an app
/// embedding the server keeps its own allocator settings.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
    }
}
