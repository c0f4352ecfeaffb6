//! `onair sign --stream S [--key K] [--app A] [--rtmp URL] [--http URL] [--valid-seconds N]
//! [--api-key K]`: mints a signed push URL (txSecret = MD5(key + stream + txTime)) and the
//! matching play URLs; with `--api-key`, also the `t` and `sign` of a management API call.

use clap::Args;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// Sign arguments.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Stream name.
    #[arg(long)]
    pub stream: String,
    /// Push key (the server's --push-key). Without it the URLs are unsigned.
    #[arg(long)]
    pub key: Option<String>,
    /// RTMP app.
    #[arg(long, default_value = "live")]
    pub app: String,
    /// RTMP base of the server.
    #[arg(long, default_value = "rtmp://127.0.0.1:1935")]
    pub rtmp: String,
    /// HTTP base of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub http: String,
    /// How long the URL stays valid, seconds.
    #[arg(long, default_value_t = 86_400)]
    pub valid_seconds: u64,
    /// API key: also print `t=...&sign=...` for a management API call valid as long.
    #[arg(long)]
    pub api_key: Option<String>,
    /// Print JSON instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// Runs `onair sign`.
pub fn run(args: &SignArgs) -> ExitCode {
    if args.stream.is_empty() || args.stream.contains(['/', '?', '&', ' ']) {
        eprintln!("--stream {:?}: expected a plain stream name", args.stream);
        return ExitCode::from(2);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let expiry = now + args.valid_seconds;
    let rtmp = args.rtmp.trim_end_matches('/');
    let http = args.http.trim_end_matches('/');
    let push = match &args.key {
        Some(k) => onair_rtmp::sign::signed_push_url(rtmp, &args.app, &args.stream, k, expiry),
        None => format!("{rtmp}/{}/{}", args.app, args.stream),
    };
    let play_rtmp = format!("{rtmp}/{}/{}", args.app, args.stream);
    let play_flv = format!("{http}/{}/{}.flv", args.app, args.stream);
    let api = args.api_key.as_ref().map(|k| {
        let t = expiry.to_string();
        format!("t={t}&sign={}", onair_rtmp::sign::api_sign(k, &t))
    });
    if args.json {
        println!(
            "{}",
            serde_json::json!({"push_url": push, "play_url_rtmp": play_rtmp, "play_url_flv": play_flv, "expire_time": expiry, "api_query": api})
        );
    } else {
        println!("push      {push}");
        println!("play      {play_rtmp}");
        println!("play flv  {play_flv}");
        if let Some(q) = api {
            println!("api       {q}");
        }
    }
    ExitCode::SUCCESS
}
