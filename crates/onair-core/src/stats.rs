//! Pusher and player statistics (`V2TXLivePusherStatistics`, `V2TXLivePlayerStatistics`),
//! with the fields and units of the spec's "Statistics" lines. Reported every 2 s.

use std::time::Duration;

/// How often statistics are reported.
pub const STATISTICS_INTERVAL: Duration = Duration::from_secs(2);

/// What `on_statistics_update` reports for a pusher.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PusherStatistics {
    /// CPU use of this process, percent of one machine (0..=100).
    pub app_cpu: f32,
    /// CPU use of the whole system, percent (0..=100).
    pub system_cpu: f32,
    /// Encoded width in pixels.
    pub width: u32,
    /// Encoded height in pixels.
    pub height: u32,
    /// Encoded frames per second over the last interval.
    pub fps: f32,
    /// Video bitrate sent, kbps.
    pub video_bitrate: u32,
    /// Audio bitrate sent, kbps.
    pub audio_bitrate: u32,
    /// Round-trip time to the server, ms.
    pub rtt: u32,
    /// Measured upload speed, kbps.
    pub net_speed: u32,
}

/// What `on_statistics_update` reports for a player.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PlayerStatistics {
    /// CPU use of this process, percent (0..=100).
    pub app_cpu: f32,
    /// CPU use of the whole system, percent (0..=100).
    pub system_cpu: f32,
    /// Decoded width in pixels.
    pub width: u32,
    /// Decoded height in pixels.
    pub height: u32,
    /// Rendered frames per second over the last interval.
    pub fps: f32,
    /// Video bitrate received, kbps.
    pub video_bitrate: u32,
    /// Audio bitrate received, kbps.
    pub audio_bitrate: u32,
    /// Media held in the jitter buffer, ms.
    pub jitter_buffer_delay: u32,
    /// Total time audio was stalled since play started, ms.
    pub audio_total_block_time: u32,
    /// Share of the last interval audio was stalled, percent.
    pub audio_block_rate: u32,
    /// Total time video was stalled since play started, ms.
    pub video_total_block_time: u32,
    /// Share of the last interval video was stalled, percent.
    pub video_block_rate: u32,
    /// Measured download speed, kbps.
    pub net_speed: u32,
}
