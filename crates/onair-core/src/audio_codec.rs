//! The pusher's audio codec (an onair extension; LiteAV pushes AAC only): AAC-LC, which every
//! server and player takes, or Opus over Enhanced RTMP v2 (FourCC `Opus`) with 10 or 20 ms
//! frames for low delay, to servers that announce it.

use crate::error::CoreError;
use std::fmt;
use std::str::FromStr;

/// An audio codec for pushing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AudioCodec {
    /// AAC-LC, legacy FLV sound format 10: 1024-sample frames.
    #[default]
    Aac,
    /// Opus (libopus, low-delay mode), Enhanced RTMP FourCC `Opus`.
    Opus,
}

/// Opus frame durations the pusher offers, ms.
pub const OPUS_FRAME_MS: [u32; 2] = [10, 20];

impl AudioCodec {
    /// `aac` or `opus` (what `onair push --audio-codec` takes).
    pub fn name(self) -> &'static str {
        match self {
            Self::Aac => "aac",
            Self::Opus => "opus",
        }
    }

    /// The Enhanced RTMP FourCC.
    pub fn fourcc(self) -> [u8; 4] {
        match self {
            Self::Aac => *b"mp4a",
            Self::Opus => *b"Opus",
        }
    }
}

impl fmt::Display for AudioCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AudioCodec {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "aac" => Ok(Self::Aac),
            "opus" => Ok(Self::Opus),
            _ => Err(CoreError::invalid(
                "audio codec",
                format!("{s:?}; expected aac or opus"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in [AudioCodec::Aac, AudioCodec::Opus] {
            assert_eq!(c.to_string().parse::<AudioCodec>().unwrap(), c);
        }
        assert_eq!("OPUS".parse::<AudioCodec>().unwrap(), AudioCodec::Opus);
        assert_eq!(&AudioCodec::Opus.fourcc(), b"Opus");
        let e = "mp3".parse::<AudioCodec>().unwrap_err().to_string();
        assert!(e.contains("aac or opus"), "{e}");
    }
}
