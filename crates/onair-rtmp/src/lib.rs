//! # onair-rtmp
//!
//! Transport: onair's own sans-I/O RTMP engine ([`engine`], RTMP 1.0 §5-7 and Enhanced RTMP,
//! see `docs/rtmp.md`), RTMP publish and play on tokio around its client session ([`session`]), RTMPS through rustls ([`io`]), HTTP-FLV play over reqwest
//! ([`player`]), the send queue with its drop policy ([`send_queue`]), URL parsing ([`url`]) and
//! the tx / API signatures ([`sign`]) and Tencent's UserSig ([`usersig`]). Every failure is a typed [`RtmpError`] with its V2TXLive
//! code.

pub mod config;
pub mod engine;
pub mod error;
pub mod io;
pub mod player;
pub mod publisher;
pub mod send_queue;
pub mod session;
pub mod sign;
pub mod url;
pub mod usersig;

pub use config::TransportConfig;
pub use error::RtmpError;
pub use player::{HttpFlvPlayer, PlaySession, RtmpPlayer};
pub use publisher::{PublisherStats, RtmpPublisher};
pub use send_queue::{PushOutcome, SendQueue, SendQueueConfig, SendQueueStats};
pub use session::write_queue;
pub use url::{Scheme, StreamUrl};
