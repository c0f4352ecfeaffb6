//! Transport settings with sane defaults: timeouts per stage, the outbound chunk size, and an
//! optional extra CA for RTMPS / HTTPS (a self-signed server in tests, a private CA in a company).

use std::time::Duration;

/// Connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    /// Limit for the TCP (and TLS) connect.
    pub connect_timeout: Duration,
    /// Limit for the RTMP handshake plus connect and publish/play commands.
    pub handshake_timeout: Duration,
    /// A read that brings nothing for this long ends a play session.
    pub idle_timeout: Duration,
    /// Outbound RTMP chunk size.
    pub chunk_size: u32,
    /// Kernel send buffer of the socket (SO_SNDBUF). Kept small so that a slow uplink shows up
    /// in onair's send queue (where the drop policy and bitrate adaptation act) instead of
    /// hiding seconds of video in an autotuned multi-megabyte kernel buffer. 0 = OS default.
    pub send_buffer_bytes: u32,
    /// Extra trusted CA certificates (PEM), added to the system roots.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Extra HTTP headers for HTTP-FLV (the player's setHeaders).
    pub http_headers: Vec<(String, String)>,
    /// Most HTTP redirects followed.
    pub max_redirects: usize,
    /// Enhanced RTMP FourCCs announced in connect's `fourCcList` (empty: connect like a
    /// legacy client). The default lists what onair-flv parses and passes through.
    pub fourcc_list: Vec<String>,
}

/// The FourCCs onair announces by default: the video and audio codecs onair-flv parses.
pub const DEFAULT_FOURCC_LIST: &[&str] = &["avc1", "hvc1", "av01", "vp09", "mp4a", "Opus"];

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(10),
            chunk_size: 4096,
            send_buffer_bytes: 64 * 1024,
            extra_ca_pem: None,
            http_headers: Vec::new(),
            max_redirects: 5,
            fourcc_list: DEFAULT_FOURCC_LIST.iter().map(|s| s.to_string()).collect(),
        }
    }
}
