//! Audio quality (`V2TXLiveAudioQuality`): sample rate, channels and AAC bitrate of each level,
//! as in the spec's "Audio quality" section.

use crate::error::CoreError;
use std::fmt;
use std::str::FromStr;

/// The three audio qualities of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum AudioQuality {
    /// 16 kHz mono, 16 kbps.
    Speech = 0,
    /// 48 kHz mono, 50 kbps.
    #[default]
    Default = 1,
    /// 48 kHz stereo, 128 kbps.
    Music = 2,
}

impl AudioQuality {
    /// All qualities.
    pub const ALL: [AudioQuality; 3] = [Self::Speech, Self::Default, Self::Music];

    /// Sample rate in Hz.
    pub const fn sample_rate(self) -> u32 {
        match self {
            Self::Speech => 16_000,
            Self::Default | Self::Music => 48_000,
        }
    }

    /// Number of channels.
    pub const fn channels(self) -> u16 {
        match self {
            Self::Speech | Self::Default => 1,
            Self::Music => 2,
        }
    }

    /// AAC bitrate in kbps.
    pub const fn bitrate_kbps(self) -> u32 {
        match self {
            Self::Speech => 16,
            Self::Default => 50,
            Self::Music => 128,
        }
    }

    /// Samples per channel in one 20 ms processing frame.
    pub const fn samples_per_20ms(self) -> usize {
        (self.sample_rate() / 50) as usize
    }
}

impl fmt::Display for AudioQuality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Speech => "speech",
            Self::Default => "default",
            Self::Music => "music",
        })
    }
}

impl FromStr for AudioQuality {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "speech" => Ok(Self::Speech),
            "default" => Ok(Self::Default),
            "music" => Ok(Self::Music),
            _ => Err(CoreError::invalid(
                "audio quality",
                format!("{s:?}; expected speech, default or music"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualities_match_spec() {
        let expected = [(16_000, 1, 16), (48_000, 1, 50), (48_000, 2, 128)];
        for (q, (rate, ch, kbps)) in AudioQuality::ALL.into_iter().zip(expected) {
            assert_eq!(
                (q.sample_rate(), q.channels(), q.bitrate_kbps()),
                (rate, ch, kbps)
            );
            assert_eq!(q.to_string().parse::<AudioQuality>().unwrap(), q);
        }
        assert_eq!(AudioQuality::Speech.samples_per_20ms(), 320);
        assert_eq!(AudioQuality::Music.samples_per_20ms(), 960);
        assert!("loud".parse::<AudioQuality>().is_err());
    }
}
