//! `onair_set_log_callback`: the engine's `tracing` output, routed to the app.
//!
//! The first call installs a process-wide `tracing` subscriber whose one layer formats each
//! event (its message and fields) and hands it to the callback of the moment; later calls
//! only swap the callback or the level. An app that installed its own global subscriber
//! (a Rust host) gets ERROR_REFUSED and keeps it.

use crate::guard::call;
use crate::slot::UserData;
use crate::types::OnairCode;
use onair::LiveError;
use std::ffi::c_void;
use std::fmt::Write as _;
use std::os::raw::c_char;
use std::sync::{OnceLock, RwLock};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Receives one log line: `level` is `ONAIR_LOG_*`, `target` the module that logged, both
/// strings valid for the call. May run on any engine thread, concurrently.
pub type OnairLogCallback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        level: i32,
        target: *const c_char,
        message: *const c_char,
    ),
>;

/// Nothing is logged.
pub const ONAIR_LOG_OFF: i32 = 0;
/// Failures.
pub const ONAIR_LOG_ERROR: i32 = 1;
/// Recoverable trouble.
pub const ONAIR_LOG_WARN: i32 = 2;
/// Milestones (connected, camera started).
pub const ONAIR_LOG_INFO: i32 = 3;
/// Detail for debugging.
pub const ONAIR_LOG_DEBUG: i32 = 4;
/// Everything.
pub const ONAIR_LOG_TRACE: i32 = 5;

#[derive(Clone, Copy)]
struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, i32, *const c_char, *const c_char),
    user_data: UserData,
    max_level: i32,
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static INSTALLED: OnceLock<bool> = OnceLock::new();

fn level_value(l: &Level) -> i32 {
    match *l {
        Level::ERROR => ONAIR_LOG_ERROR,
        Level::WARN => ONAIR_LOG_WARN,
        Level::INFO => ONAIR_LOG_INFO,
        Level::DEBUG => ONAIR_LOG_DEBUG,
        _ => ONAIR_LOG_TRACE,
    }
}

fn sink() -> Option<Sink> {
    *SINK
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The event's message followed by its other fields as `name=value`.
#[derive(Default)]
struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let fields = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}{fields}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

struct CallbackLayer;

impl<S: Subscriber> Layer<S> for CallbackLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        sink().is_some_and(|s| level_value(metadata.level()) <= s.max_level)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let Some(s) = sink() else { return };
        let level = level_value(event.metadata().level());
        if level > s.max_level {
            return;
        }
        let mut line = Line::default();
        event.record(&mut line);
        let target = crate::types::c_string(event.metadata().target());
        let message = crate::types::c_string(&line.0);
        // SAFETY: the app's callback as declared; the strings live until it returns.
        unsafe { (s.callback)(s.user_data.0, level, target.as_ptr(), message.as_ptr()) }
    }
}

/// Routes the engine's log to `callback` for events up to `max_level` (`ONAIR_LOG_*`);
/// a NULL callback or `ONAIR_LOG_OFF` turns it off. ERROR_REFUSED when the process already
/// has a global `tracing` subscriber that is not onair's; INVALID_PARAMETER for a level
/// outside 0..=5.
///
/// # Safety
/// `callback` is NULL or a function of the declared signature, safe to call from any thread
/// with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn onair_set_log_callback(
    callback: OnairLogCallback,
    user_data: *mut c_void,
    max_level: i32,
) -> OnairCode {
    call("onair_set_log_callback", || {
        if !(ONAIR_LOG_OFF..=ONAIR_LOG_TRACE).contains(&max_level) {
            return Err(LiveError::invalid(format!(
                "log level {max_level}; expected ONAIR_LOG_OFF (0) ..= ONAIR_LOG_TRACE (5)"
            )));
        }
        let installed = *INSTALLED.get_or_init(|| {
            let subscriber = tracing_subscriber::registry().with(CallbackLayer);
            tracing::subscriber::set_global_default(subscriber).is_ok()
        });
        if !installed {
            return Err(LiveError::refused(
                "the process already has a global tracing subscriber",
            ));
        }
        let new = callback
            .filter(|_| max_level > ONAIR_LOG_OFF)
            .map(|callback| Sink {
                callback,
                user_data: UserData(user_data),
                max_level,
            });
        *SINK
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = new;
        tracing::callsite::rebuild_interest_cache();
        Ok(())
    })
}
