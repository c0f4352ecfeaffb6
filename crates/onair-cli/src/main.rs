//! `onair`: the command-line front end. `onair push` publishes the test pattern, a still image
//! or a camera (and a microphone) to an RTMP URL with a live statistics line; `onair play`
//! plays an RTMP or HTTP-FLV stream and reports what it saw; `onair serve` runs the embedded
//! live server; `onair sign` mints signed push and play URLs; `onair demo` runs all of it end
//! to end on loopback. Logs go to stderr, filtered by `RUST_LOG` (e.g. `RUST_LOG=onair=debug`).
//!
//! Exit codes: 0 done, 1 the push or play failed (connection, server refusal, nothing played),
//! 2 bad arguments.

mod demo;
mod play;
mod plot;
mod push;
mod serve;
mod sign;
mod sources;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// onair: a live-streaming engine (V2TXLive API over RTMP and HTTP-FLV).
#[derive(Debug, Parser)]
#[command(name = "onair", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Push a source to an RTMP URL, printing a statistics line every 2 s.
    Push(push::PushArgs),
    /// Play an RTMP or HTTP-FLV URL: statistics every 2 s, last picture as PNG, a summary
    /// (frames, first-frame time, stalls, latency of stamped test-pattern streams).
    Play(play::PlayArgs),
    /// Run the embedded live server (RTMP, HTTP-FLV, management API, recording, screenshots,
    /// callbacks) until Ctrl-C.
    Serve(serve::ServeArgs),
    /// Mint a signed push URL and its play URLs (and an API t/sign with --api-key).
    Sign(sign::SignArgs),
    /// The end-to-end demo: the embedded server, the test pattern pushed and played back, a
    /// live statistics line, then a snapshot PNG, a plot PNG and a summary.
    Demo(demo::DemoArgs),
    /// List the screens, windows, cameras and microphones (the ids `push --source` and
    /// `--microphone` take).
    Sources(sources::SourcesArgs),
}

fn main() -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let cli = Cli::parse();
    match cli.command {
        Command::Push(args) => push::run(&args),
        Command::Play(args) => play::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Sign(args) => sign::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Sources(args) => sources::run(&args),
    }
}
