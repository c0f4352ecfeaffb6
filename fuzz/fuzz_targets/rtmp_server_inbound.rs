//! Fuzzes the server side of onair's RTMP engine: what a hostile publisher or player sends
//! after the handshake, fed to the real `ServerSession` in pieces of varying size, accepting
//! every connect, publish and play as onair-server does (so the media paths are reached). The
//! property: no panic at all. Seeds: the `.c2s` captures of OBS, GStreamer and FFmpeg 9 (their
//! first 3073 handshake bytes removed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use onair_rtmp::engine::{ServerConfig, ServerEvent, ServerSession};
use std::collections::VecDeque;

fuzz_target!(|data: &[u8]| {
    let mut session = ServerSession::new(ServerConfig::default());
    let step = 1 + data.first().copied().unwrap_or(0) as usize * 7;
    let mut out = VecDeque::new();
    for piece in data.chunks(step) {
        if session.handle_input(piece).is_err() {
            return;
        }
        while let Some(e) = session.poll_event() {
            match e {
                ServerEvent::ConnectRequested { .. } => session.accept_connect(),
                ServerEvent::PublishRequested { stream_id, .. } => session.accept_publish(stream_id),
                ServerEvent::PlayRequested { stream_id, .. } => session.accept_play(stream_id),
                _ => {}
            }
        }
        session.take_output(&mut out);
        out.clear();
    }
});
