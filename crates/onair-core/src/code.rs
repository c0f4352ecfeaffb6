//! `V2TXLiveCode`: the return, error and warning codes of the V2TXLive API.
//!
//! Follows the code table of `docs/v2txlive.md`. The numeric values are part of the
//! contract. Warnings can be negative (`-1301` is a camera warning), so a code is classified as
//! an error or a warning by *name*, never by sign.

use std::fmt;

/// Every code of the spec's `V2TXLiveCode` table, with its exact number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum V2TXLiveCode {
    /// Success.
    Ok,
    /// Unclassified failure.
    ErrorFailed,
    /// Bad URL, bad frame or bad argument.
    ErrorInvalidParameter,
    /// Call not allowed in this state.
    ErrorRefused,
    /// Unsupported pixel-format / buffer-type combination.
    ErrorNotSupported,
    /// Reserved: onair does not use licences.
    ErrorInvalidLicense,
    /// A request timed out.
    ErrorRequestTimeout,
    /// The server refused (bad txSecret, banned stream...).
    ErrorServerProcessFailed,
    /// Connection lost and reconnects exhausted.
    ErrorDisconnected,
    /// The uplink cannot keep up (send queue growing).
    WarningNetworkBusy,
    /// The player stalled (> 800 ms without a frame while playing).
    WarningVideoBlock,
    /// The camera could not be started.
    WarningCameraStartFailed,
    /// The camera is used by another process.
    WarningCameraOccupied,
    /// The camera is not authorised.
    WarningCameraNoPermission,
    /// The microphone could not be started.
    WarningMicrophoneStartFailed,
    /// The microphone is used by another process.
    WarningMicrophoneOccupied,
    /// The microphone is not authorised.
    WarningMicrophoneNoPermission,
    /// Screen capture is not supported on this system.
    WarningScreenCaptureNotSupported,
    /// Screen capture could not be started.
    WarningScreenCaptureStartFailed,
    /// Screen capture was interrupted.
    WarningScreenCaptureInterrupted,
}

impl V2TXLiveCode {
    /// All codes, in table order.
    pub const ALL: [V2TXLiveCode; 20] = [
        Self::Ok,
        Self::ErrorFailed,
        Self::ErrorInvalidParameter,
        Self::ErrorRefused,
        Self::ErrorNotSupported,
        Self::ErrorInvalidLicense,
        Self::ErrorRequestTimeout,
        Self::ErrorServerProcessFailed,
        Self::ErrorDisconnected,
        Self::WarningNetworkBusy,
        Self::WarningVideoBlock,
        Self::WarningCameraStartFailed,
        Self::WarningCameraOccupied,
        Self::WarningCameraNoPermission,
        Self::WarningMicrophoneStartFailed,
        Self::WarningMicrophoneOccupied,
        Self::WarningMicrophoneNoPermission,
        Self::WarningScreenCaptureNotSupported,
        Self::WarningScreenCaptureStartFailed,
        Self::WarningScreenCaptureInterrupted,
    ];

    /// The code's number as the API returns it.
    pub const fn value(self) -> i32 {
        match self {
            Self::Ok => 0,
            Self::ErrorFailed => -1,
            Self::ErrorInvalidParameter => -2,
            Self::ErrorRefused => -3,
            Self::ErrorNotSupported => -4,
            Self::ErrorInvalidLicense => -5,
            Self::ErrorRequestTimeout => -6,
            Self::ErrorServerProcessFailed => -7,
            Self::ErrorDisconnected => -8,
            Self::WarningNetworkBusy => 1101,
            Self::WarningVideoBlock => 2105,
            Self::WarningCameraStartFailed => -1301,
            Self::WarningCameraOccupied => -1316,
            Self::WarningCameraNoPermission => -1314,
            Self::WarningMicrophoneStartFailed => -1302,
            Self::WarningMicrophoneOccupied => -1319,
            Self::WarningMicrophoneNoPermission => -1317,
            Self::WarningScreenCaptureNotSupported => -1309,
            Self::WarningScreenCaptureStartFailed => -1308,
            Self::WarningScreenCaptureInterrupted => -7001,
        }
    }

    /// The code with this number, if the table has one.
    pub fn from_value(value: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.value() == value)
    }

    /// The spec's upper-snake name, e.g. `ERROR_INVALID_PARAMETER`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::ErrorFailed => "ERROR_FAILED",
            Self::ErrorInvalidParameter => "ERROR_INVALID_PARAMETER",
            Self::ErrorRefused => "ERROR_REFUSED",
            Self::ErrorNotSupported => "ERROR_NOT_SUPPORTED",
            Self::ErrorInvalidLicense => "ERROR_INVALID_LICENSE",
            Self::ErrorRequestTimeout => "ERROR_REQUEST_TIMEOUT",
            Self::ErrorServerProcessFailed => "ERROR_SERVER_PROCESS_FAILED",
            Self::ErrorDisconnected => "ERROR_DISCONNECTED",
            Self::WarningNetworkBusy => "WARNING_NETWORK_BUSY",
            Self::WarningVideoBlock => "WARNING_VIDEO_BLOCK",
            Self::WarningCameraStartFailed => "WARNING_CAMERA_START_FAILED",
            Self::WarningCameraOccupied => "WARNING_CAMERA_OCCUPIED",
            Self::WarningCameraNoPermission => "WARNING_CAMERA_NO_PERMISSION",
            Self::WarningMicrophoneStartFailed => "WARNING_MICROPHONE_START_FAILED",
            Self::WarningMicrophoneOccupied => "WARNING_MICROPHONE_OCCUPIED",
            Self::WarningMicrophoneNoPermission => "WARNING_MICROPHONE_NO_PERMISSION",
            Self::WarningScreenCaptureNotSupported => "WARNING_SCREEN_CAPTURE_NOT_SUPPORTED",
            Self::WarningScreenCaptureStartFailed => "WARNING_SCREEN_CAPTURE_START_FAILED",
            Self::WarningScreenCaptureInterrupted => "WARNING_SCREEN_CAPTURE_INTERRUPTED",
        }
    }

    /// What the code means, in a sentence fragment.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Ok => "success",
            Self::ErrorFailed => "unclassified failure",
            Self::ErrorInvalidParameter => "bad URL, bad frame or bad argument",
            Self::ErrorRefused => "call not allowed in this state",
            Self::ErrorNotSupported => "unsupported pixel-format / buffer-type combination",
            Self::ErrorInvalidLicense => "invalid licence (reserved, not used by onair)",
            Self::ErrorRequestTimeout => "request timed out",
            Self::ErrorServerProcessFailed => "the server refused the request",
            Self::ErrorDisconnected => "connection lost and reconnects exhausted",
            Self::WarningNetworkBusy => "uplink cannot keep up, the send queue is growing",
            Self::WarningVideoBlock => "playback stalled for more than 800 ms",
            Self::WarningCameraStartFailed => "the camera could not be started",
            Self::WarningCameraOccupied => "the camera is in use by another process",
            Self::WarningCameraNoPermission => "no permission to use the camera",
            Self::WarningMicrophoneStartFailed => "the microphone could not be started",
            Self::WarningMicrophoneOccupied => "the microphone is in use by another process",
            Self::WarningMicrophoneNoPermission => "no permission to use the microphone",
            Self::WarningScreenCaptureNotSupported => "screen capture is not supported",
            Self::WarningScreenCaptureStartFailed => "screen capture could not be started",
            Self::WarningScreenCaptureInterrupted => "screen capture was interrupted",
        }
    }

    /// `true` for `OK`.
    pub const fn is_ok(self) -> bool {
        matches!(self, Self::Ok)
    }

    /// `true` for the `ERROR_*` codes (classified by name, not by sign).
    pub const fn is_error(self) -> bool {
        matches!(
            self,
            Self::ErrorFailed
                | Self::ErrorInvalidParameter
                | Self::ErrorRefused
                | Self::ErrorNotSupported
                | Self::ErrorInvalidLicense
                | Self::ErrorRequestTimeout
                | Self::ErrorServerProcessFailed
                | Self::ErrorDisconnected
        )
    }

    /// `true` for the `WARNING_*` codes (several of which are negative numbers).
    pub const fn is_warning(self) -> bool {
        !self.is_ok() && !self.is_error()
    }
}

impl fmt::Display for V2TXLiveCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.name(),
            self.value(),
            self.description()
        )
    }
}

impl From<V2TXLiveCode> for i32 {
    fn from(code: V2TXLiveCode) -> i32 {
        code.value()
    }
}

/// Legacy RTMP event numbers that onair reports in an event's `extra_info`.
pub mod legacy_event {
    /// The pusher is reconnecting.
    pub const RECONNECTING: i32 = 1102;
    /// Connecting to the server failed.
    pub const SERVER_CONNECT_FAIL: i32 = 3002;
    /// The RTMP handshake failed.
    pub const HANDSHAKE_FAIL: i32 = 3003;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_the_spec_number() {
        let expected = [
            ("OK", 0),
            ("ERROR_FAILED", -1),
            ("ERROR_INVALID_PARAMETER", -2),
            ("ERROR_REFUSED", -3),
            ("ERROR_NOT_SUPPORTED", -4),
            ("ERROR_INVALID_LICENSE", -5),
            ("ERROR_REQUEST_TIMEOUT", -6),
            ("ERROR_SERVER_PROCESS_FAILED", -7),
            ("ERROR_DISCONNECTED", -8),
            ("WARNING_NETWORK_BUSY", 1101),
            ("WARNING_VIDEO_BLOCK", 2105),
            ("WARNING_CAMERA_START_FAILED", -1301),
            ("WARNING_CAMERA_OCCUPIED", -1316),
            ("WARNING_CAMERA_NO_PERMISSION", -1314),
            ("WARNING_MICROPHONE_START_FAILED", -1302),
            ("WARNING_MICROPHONE_OCCUPIED", -1319),
            ("WARNING_MICROPHONE_NO_PERMISSION", -1317),
            ("WARNING_SCREEN_CAPTURE_NOT_SUPPORTED", -1309),
            ("WARNING_SCREEN_CAPTURE_START_FAILED", -1308),
            ("WARNING_SCREEN_CAPTURE_INTERRUPTED", -7001),
        ];
        assert_eq!(expected.len(), V2TXLiveCode::ALL.len());
        for (code, (name, value)) in V2TXLiveCode::ALL.into_iter().zip(expected) {
            assert_eq!(code.name(), name);
            assert_eq!(code.value(), value, "{name}");
            assert_eq!(V2TXLiveCode::from_value(value), Some(code));
        }
        assert_eq!(V2TXLiveCode::from_value(12345), None);
    }

    #[test]
    fn classification_is_by_name_not_sign() {
        for code in V2TXLiveCode::ALL {
            let by_name = code.name().starts_with("ERROR_");
            assert_eq!(code.is_error(), by_name, "{code}");
            assert_eq!(
                code.is_warning(),
                code.name().starts_with("WARNING_"),
                "{code}"
            );
        }
        // Negative warnings stay warnings.
        assert!(V2TXLiveCode::WarningCameraStartFailed.is_warning());
        assert!(V2TXLiveCode::WarningCameraStartFailed.value() < 0);
        assert!(!V2TXLiveCode::WarningScreenCaptureInterrupted.is_error());
        assert!(V2TXLiveCode::Ok.is_ok() && !V2TXLiveCode::Ok.is_warning());
    }

    #[test]
    fn display_names_number_and_meaning() {
        let s = V2TXLiveCode::ErrorRefused.to_string();
        assert!(s.starts_with("ERROR_REFUSED (-3)"), "{s}");
        assert_eq!(i32::from(V2TXLiveCode::WarningVideoBlock), 2105);
    }
}
