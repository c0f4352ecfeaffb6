//! The session scaffold the pusher and the player share (thread map in `docs/threads.md`):
//!
//! - [`CallbackGate`]: every observer callback passes through it; `stop` closes it and waits
//!   for callbacks running on other threads, so none arrives after `stop` returns, whichever
//!   thread called it (a callback included).
//! - [`EventLanes`] and [`CallbackThread`]: events travel to the callback thread on two lanes,
//!   lossless (errors, warnings, status changes, snapshots: never dropped) and lossy
//!   (statistics, volume: the newest matter, a full lane drops and counts).
//! - [`StopSignal`]: one stop flag that async tasks await and threads sleep on, so nothing
//!   polls a flag to notice a stop.
//! - [`Threads`]: named threads joined at stop, except the caller's own when `stop` runs on
//!   one of them (that one is joined by a reaper once its callback returns).

mod gate;
mod lanes;
mod stop;
mod threads;

pub(crate) use gate::CallbackGate;
pub(crate) use lanes::{lanes, Event, EventLanes, Lane};
pub(crate) use stop::StopSignal;
pub(crate) use threads::Threads;
