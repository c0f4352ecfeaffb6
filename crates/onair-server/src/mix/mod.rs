//! Cloud mixing (`Mix_StreamV2`, the seeds' `mix_streamv2.start_mix_stream_advanced` and
//! `mix_streamv2.cancel_mix_stream`): several live streams composed into one new live stream
//! by the server. POST `/common_access?interface=Mix_StreamV2&t=..&sign=..` with Tencent's
//! JSON body ([`request`]); the reply is Tencent's `{"code", "message", "timestamp"}`.
//!
//! - [`request`] parses and validates the body (Tencent's negative codes),
//! - [`layout`] places the layers on the canvas,
//! - [`session`] runs one mix on its own thread: [`input`] decodes, [`canvas`] composes,
//!   [`audio`] mixes, openh264 + AAC encode, the hub publishes.
//!
//! A start with a running session's id and output updates its layout in place (the output
//! goes on); cancelling ends the output stream like the end of a push. See `docs/mixing.md`.

pub mod audio;
pub mod canvas;
pub mod input;
pub mod layout;
pub mod request;
pub mod session;

use crate::hub::lock;
use crate::server::{valid_stream_name, Shared};
use request::{code, MixCommand, MixError, MixSpec};
use serde_json::{json, Value};
use session::{Control, OutputSettings, SessionHandle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a layout update waits for room in a busy session's control queue.
const UPDATE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The running mixes by session id.
#[derive(Debug, Default)]
pub struct Mixer {
    sessions: Mutex<HashMap<String, SessionHandle>>,
}

/// Tencent's reply body for `code` and `message`.
pub fn reply(code: i64, message: &str, now_unix: i64) -> Value {
    json!({"code": code, "message": message, "timestamp": now_unix})
}

impl Mixer {
    /// Answers one `Mix_StreamV2` body.
    pub fn handle(&self, shared: &Arc<Shared>, body: &[u8], now_unix: i64) -> Value {
        let result = request::parse(body, valid_stream_name).and_then(|cmd| match cmd {
            MixCommand::Start(spec) => self.start(shared, spec),
            MixCommand::Cancel {
                session_id,
                output_stream_id,
            } => self.cancel(&session_id, output_stream_id.as_deref()),
        });
        match result {
            Ok(()) => reply(code::OK, "Success!", now_unix),
            Err(e) => {
                tracing::info!("Mix_StreamV2 refused: {e}");
                reply(e.code, &e.message, now_unix)
            }
        }
    }

    /// Session ids and output streams of the running mixes.
    pub fn running(&self) -> Vec<(String, String)> {
        self.reap();
        let mut out: Vec<_> = lock(&self.sessions)
            .iter()
            .map(|(id, s)| (id.clone(), s.output.clone()))
            .collect();
        out.sort();
        out
    }

    /// Joins the sessions that ended on their own.
    fn reap(&self) {
        let done: Vec<SessionHandle> = {
            let mut sessions = lock(&self.sessions);
            let ids: Vec<String> = sessions
                .iter()
                .filter(|(_, s)| s.thread.is_finished())
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| sessions.remove(id)).collect()
        };
        for s in done {
            let _ = s.thread.join();
        }
    }

    fn start(&self, shared: &Arc<Shared>, spec: MixSpec) -> Result<(), MixError> {
        self.reap();
        for i in spec.inputs.iter().filter(|i| i.kind.is_stream()) {
            if shared.hub.live_one(&i.stream_id).is_none() {
                return Err(MixError::new(
                    code::INPUT_MISSING,
                    format!("input stream {:?} is not live: push it first", i.stream_id),
                ));
            }
        }
        let layout = layout::resolve(&spec, |name| shared.hub.live_one(name).and_then(|l| l.size))?;
        let settings = OutputSettings::with_defaults(spec.output, layout.canvas);
        let mut sessions = lock(&self.sessions);
        if let Some(s) = sessions.get(&spec.session_id) {
            if s.output != spec.output_stream_id {
                return Err(MixError::new(
                    code::SESSION_OUTPUT,
                    format!(
                        "session {:?} publishes {:?}, not {:?}: cancel it first",
                        spec.session_id, s.output, spec.output_stream_id
                    ),
                ));
            }
            tracing::info!(mix = %spec.session_id, "mix layout updated");
            return s
                .control
                .send_timeout(Control::Update(layout, settings), UPDATE_WAIT)
                .map_err(|e| match e {
                    crossbeam_channel::SendTimeoutError::Timeout(_) => MixError::new(
                        code::BAD_PARAM,
                        "the session is still applying earlier updates; try again",
                    ),
                    crossbeam_channel::SendTimeoutError::Disconnected(_) => {
                        MixError::new(code::BAD_PARAM, "the session is ending; try again")
                    }
                });
        }
        if let Some((id, _)) = sessions
            .iter()
            .find(|(_, s)| s.output == spec.output_stream_id)
        {
            return Err(MixError::new(
                code::OUTPUT_BUSY,
                format!(
                    "{:?} is already the output of mix session {id:?}",
                    spec.output_stream_id
                ),
            ));
        }
        let client = format!("mix:{}", spec.session_id);
        let publish = shared
            .begin_local_publish("live", &spec.output_stream_id, &client)
            .map_err(|r| MixError::new(code::OUTPUT_BUSY, r.description))?;
        tracing::info!(
            mix = %spec.session_id,
            output = %spec.output_stream_id,
            canvas = ?layout.canvas,
            fps = settings.fps,
            kbps = settings.bitrate_kbps,
            "mix started"
        );
        let handle = session::spawn(
            shared.clone(),
            spec.session_id.clone(),
            layout,
            settings,
            publish,
        )
        .map_err(|failed| {
            let (e, publish) = *failed;
            let why = format!("no mix thread: {e}");
            shared.runtime().block_on(shared.end_publish(publish, &why));
            MixError::new(code::BAD_PARAM, why)
        })?;
        sessions.insert(spec.session_id, handle);
        Ok(())
    }

    fn cancel(&self, session_id: &str, output: Option<&str>) -> Result<(), MixError> {
        self.reap();
        let handle = {
            let mut sessions = lock(&self.sessions);
            let Some(s) = sessions.get(session_id) else {
                return Err(MixError::new(
                    code::NO_SESSION,
                    format!("no mix session {session_id:?} is running"),
                ));
            };
            if let Some(o) = output.filter(|o| *o != s.output) {
                return Err(MixError::new(
                    code::CANCEL_OUTPUT,
                    format!("session {session_id:?} publishes {:?}, not {o:?}", s.output),
                ));
            }
            sessions.remove(session_id)
        };
        if let Some(s) = handle {
            let _ = s.control.send(Control::Stop);
            let _ = s.thread.join();
        }
        Ok(())
    }

    /// Ends every mix and joins its thread (server shutdown).
    pub fn stop_all(&self) {
        let all: Vec<SessionHandle> = lock(&self.sessions).drain().map(|(_, s)| s).collect();
        for s in &all {
            let _ = s.control.send(Control::Stop);
        }
        for s in all {
            let _ = s.thread.join();
        }
    }
}
