//! The sessions' decisions as pure state machines: each takes `now` (and what was observed)
//! and returns what to do, so the rules are unit-tested with a fake clock and the async code
//! only waits for the next event or deadline.
//!
//! - [`reconnect`]: connect / wait / give up, for the pusher and the player.
//! - [`bitrate`]: step the encoder's bitrate down once per congestion episode, back up after a
//!   clear period; WARNING_NETWORK_BUSY once per episode.
//! - [`stall`]: loading / playing / VIDEO_BLOCK from the times frames were presented.

pub(crate) mod bitrate;
pub(crate) mod reconnect;
pub(crate) mod stall;
