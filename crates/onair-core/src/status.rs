//! Push status (`V2TXLivePushStatus`), numbered as in the spec's "Status enums".

/// The pusher's connection status, reported through `on_push_status_update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum PushStatus {
    /// Not connected (idle, stopped, or reconnects exhausted).
    #[default]
    Disconnected = 0,
    /// Connecting to the server.
    Connecting = 1,
    /// Connected and publishing.
    ConnectSuccess = 2,
    /// The connection dropped and the pusher is reconnecting.
    Reconnecting = 3,
}

impl PushStatus {
    /// The spec's number for this status.
    pub const fn value(self) -> u8 {
        self as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_spec() {
        assert_eq!(PushStatus::Disconnected.value(), 0);
        assert_eq!(PushStatus::Connecting.value(), 1);
        assert_eq!(PushStatus::ConnectSuccess.value(), 2);
        assert_eq!(PushStatus::Reconnecting.value(), 3);
        assert_eq!(PushStatus::default(), PushStatus::Disconnected);
    }
}
