//! A session's named threads, joined at stop. When the stop runs on one of them (from inside a
//! callback), that one cannot join itself: it is handed to a reaper thread that joins it once
//! the callback has returned and the thread has ended.

use crate::error::LiveResult;
use std::thread::JoinHandle;

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Threads {
    handles: Vec<JoinHandle<()>>,
}

impl Threads {
    /// Starts a named thread.
    pub(crate) fn spawn(&mut self, name: &str, f: impl FnOnce() + Send + 'static) -> LiveResult {
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(f)
            .map_err(|e| crate::pusher::failed(format!("cannot start thread {name}: {e}")))?;
        self.handles.push(handle);
        Ok(())
    }

    /// Joins every thread, in the order they were started, except the caller's own.
    pub(crate) fn join(self) {
        let me = std::thread::current().id();
        for h in self.handles {
            if h.thread().id() == me {
                // Ends once the callback on this thread returns; nothing waits for it.
                let _ = std::thread::Builder::new()
                    .name("onair-reaper".into())
                    .spawn(move || {
                        let _ = h.join();
                    });
            } else {
                let _ = h.join();
            }
        }
    }
}
