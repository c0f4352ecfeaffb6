//! Frame channels between pipeline stages (design.md "Data flow"): every one bounded, every drop
//! counted.
//!
//! - [`latest`]: latest-wins channel on crossbeam-channel for video. When full, the *oldest*
//!   frame is dropped so a slow stage always works on the freshest picture.
//! - [`audio_ring()`]: lock-free single-producer single-consumer sample ring (rtrb) that a
//!   real-time audio callback writes without locking or allocating.
//!
//! Both keep `sent == delivered + dropped + depth` at every quiescent point: no frame disappears
//! uncounted, including frames still queued when the receiving side goes away.

pub mod audio_ring;
pub mod latest;

pub use audio_ring::{
    audio_ring, AudioRingConsumer, AudioRingProducer, AudioRingStats, ReadOutcome,
};
pub use latest::{
    latest_channel, video_channel, ChannelStats, LatestReceiver, LatestSender, ReceiverGone,
    SendOutcome, VideoReceiver, VideoSender,
};
