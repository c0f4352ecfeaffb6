//! `onair sign --stream S [--key K] [--app A] [--rtmp URL] [--http URL] [--valid-seconds N]
//! [--api-key K]`: mints a signed push URL (txSecret = MD5(key + stream + txTime)) and the
//! matching play URLs; with `--api-key`, also the `t` and `sign` of a management API call.
//!
//! `onair sign --usersig --sdkappid N --key K --user U [--expire S]`: a UserSig
//! (TLSSigAPIv2), alone on its last line; with `--verify SIG` it checks one instead (exit 0
//! valid, 1 not, saying why).

use clap::Args;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// Sign arguments.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Stream name.
    #[arg(long, required_unless_present = "usersig")]
    pub stream: Option<String>,
    /// Push key (the server's --push-key); without it the URLs are unsigned. With
    /// `--usersig`, the application's secret key.
    #[arg(long)]
    pub key: Option<String>,
    /// Mint a UserSig (Tencent TLSSigAPIv2) instead of URLs: needs --sdkappid, --key, --user.
    #[arg(long)]
    pub usersig: bool,
    /// The application's SDKAppID (with --usersig).
    #[arg(long, requires = "usersig")]
    pub sdkappid: Option<u64>,
    /// The user the UserSig is for (with --usersig).
    #[arg(long, requires = "usersig")]
    pub user: Option<String>,
    /// UserSig validity in seconds (with --usersig; default 180 days as TLSSigAPIv2).
    #[arg(long, requires = "usersig", default_value_t = onair_rtmp::usersig::DEFAULT_EXPIRE_SECONDS)]
    pub expire: u64,
    /// Check this UserSig instead of minting one (with --usersig).
    #[arg(long, requires = "usersig")]
    pub verify: Option<String>,
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `--usersig`: mints (or with `--verify`, checks) a UserSig.
fn usersig(args: &SignArgs) -> ExitCode {
    let (Some(sdkappid), Some(key), Some(user)) = (args.sdkappid, &args.key, &args.user) else {
        eprintln!("--usersig needs --sdkappid N, --key K and --user U");
        return ExitCode::from(2);
    };
    if key.is_empty() || user.is_empty() {
        eprintln!("--usersig: --key and --user must not be empty");
        return ExitCode::from(2);
    }
    let now = unix_now();
    if let Some(sig) = &args.verify {
        return match onair_rtmp::usersig::verify_usersig(sdkappid, key, user, sig, now) {
            Ok(ok) => {
                println!(
                    "valid: user {} of {} until {}",
                    ok.identifier,
                    ok.sdkappid,
                    ok.time.saturating_add(ok.expire)
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("invalid: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let sig = onair_rtmp::usersig::gen_usersig(sdkappid, key, user, args.expire, now);
    if args.json {
        println!(
            "{}",
            serde_json::json!({"sdkappid": sdkappid, "user": user, "expire": args.expire, "time": now, "usersig": sig})
        );
    } else {
        eprintln!(
            "UserSig for {user} of {sdkappid}, valid {} s from {now}:",
            args.expire
        );
        println!("{sig}");
    }
    ExitCode::SUCCESS
}

/// Runs `onair sign`.
pub fn run(args: &SignArgs) -> ExitCode {
    if args.usersig {
        return usersig(args);
    }
    let stream = args.stream.as_deref().unwrap_or_default();
    if stream.is_empty() || stream.contains(['/', '?', '&', ' ']) {
        eprintln!("--stream {stream:?}: expected a plain stream name");
        return ExitCode::from(2);
    }
    let now = unix_now();
    let expiry = now + args.valid_seconds;
    let rtmp = args.rtmp.trim_end_matches('/');
    let http = args.http.trim_end_matches('/');
    let push = match &args.key {
        Some(k) => onair_rtmp::sign::signed_push_url(rtmp, &args.app, stream, k, expiry),
        None => format!("{rtmp}/{}/{stream}", args.app),
    };
    let play_rtmp = format!("{rtmp}/{}/{stream}", args.app);
    let play_flv = format!("{http}/{}/{stream}.flv", args.app);
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
