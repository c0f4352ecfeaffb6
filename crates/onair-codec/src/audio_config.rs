//! [`AudioConfig`]: what an audio decoder needs to start, whichever codec: AAC's
//! AudioSpecificConfig or Opus's OpusHead. Encoders announce theirs (the sequence header a
//! publisher sends first); players build their decoder from the one they receive.

use onair_core::AudioCodec;
use onair_flv::{AudioSpecificConfig, OpusHead};

/// An audio decoder configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioConfig {
    /// AAC: the AudioSpecificConfig (legacy FLV AACPacketType 0).
    Aac(AudioSpecificConfig),
    /// Opus: the identification header (Enhanced RTMP SequenceStart, FourCC `Opus`).
    Opus(OpusHead),
}

impl AudioConfig {
    /// The codec.
    pub fn codec(&self) -> AudioCodec {
        match self {
            Self::Aac(_) => AudioCodec::Aac,
            Self::Opus(_) => AudioCodec::Opus,
        }
    }

    /// Channels of the decoded audio.
    pub fn channels(&self) -> u8 {
        match self {
            Self::Aac(c) => c.channels,
            Self::Opus(h) => h.channels,
        }
    }
}
