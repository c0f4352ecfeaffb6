//! AAC AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): audio object type, sampling frequency
//! (index or explicit 24-bit value) and channel configuration. Extension fields that follow
//! are kept verbatim.

use crate::error::{malformed, FlvError, TagKind};
use bytes::Bytes;

/// The sampling-frequency table indexed by samplingFrequencyIndex.
pub const SAMPLE_RATES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

/// AAC-LC, the object type onair encodes.
pub const AOT_AAC_LC: u8 = 2;

/// AudioSpecificConfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    /// audioObjectType (2 = AAC-LC).
    pub object_type: u8,
    /// Sampling rate in Hz.
    pub sample_rate: u32,
    /// channelConfiguration (1 mono, 2 stereo, 0 = in the program config element).
    pub channels: u8,
    /// The config's bytes as parsed or encoded.
    pub raw: Bytes,
}

struct Bits<'a> {
    data: &'a [u8],
    bit: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self.data.get(self.bit / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.bit % 8)) & 1);
            self.bit += 1;
        }
        Some(v)
    }
}

impl AudioSpecificConfig {
    /// An AAC-LC config for `sample_rate` Hz and `channels` (1..=7).
    pub fn aac_lc(sample_rate: u32, channels: u8) -> Result<Self, FlvError> {
        if !(1..=7).contains(&channels) {
            return Err(malformed(
                "AudioSpecificConfig",
                TagKind::Audio,
                &[],
                0,
                format!("{channels} channels, expected 1..=7"),
            ));
        }
        let mut bits: Vec<(u32, usize)> = vec![(u32::from(AOT_AAC_LC), 5)];
        match SAMPLE_RATES.iter().position(|&r| r == sample_rate) {
            Some(i) => bits.push((i as u32, 4)),
            None => bits.extend([(15, 4), (sample_rate & 0x00ff_ffff, 24)]),
        }
        bits.push((u32::from(channels), 4));
        // frameLengthFlag, dependsOnCoreCoder, extensionFlag: all 0.
        bits.push((0, 3));
        let mut out = Vec::new();
        let (mut acc, mut n) = (0u64, 0usize);
        for (v, w) in bits {
            acc = (acc << w) | u64::from(v);
            n += w;
            while n >= 8 {
                out.push((acc >> (n - 8)) as u8);
                n -= 8;
            }
        }
        if n > 0 {
            out.push((acc << (8 - n)) as u8);
        }
        Ok(Self {
            object_type: AOT_AAC_LC,
            sample_rate,
            channels,
            raw: Bytes::from(out),
        })
    }

    /// Parses a config.
    pub fn parse(data: &[u8]) -> Result<Self, FlvError> {
        let err = |bit: usize, reason: &str| {
            malformed("AudioSpecificConfig", TagKind::Audio, data, bit / 8, reason)
        };
        let mut b = Bits { data, bit: 0 };
        let mut object_type = b
            .read(5)
            .ok_or_else(|| err(0, "truncated audioObjectType"))?;
        if object_type == 31 {
            object_type = 32
                + b.read(6)
                    .ok_or_else(|| err(b.bit, "truncated audioObjectTypeExt"))?;
        }
        if object_type == 0 {
            return Err(err(0, "audioObjectType 0 is not a codec"));
        }
        let index = b
            .read(4)
            .ok_or_else(|| err(b.bit, "truncated samplingFrequencyIndex"))?;
        let sample_rate = match index {
            15 => b
                .read(24)
                .ok_or_else(|| err(b.bit, "truncated samplingFrequency"))?,
            i => *SAMPLE_RATES
                .get(i as usize)
                .ok_or_else(|| err(b.bit, &format!("reserved samplingFrequencyIndex {i}")))?,
        };
        if sample_rate == 0 {
            return Err(err(b.bit, "samplingFrequency 0"));
        }
        let channels = b
            .read(4)
            .ok_or_else(|| err(b.bit, "truncated channelConfiguration"))?;
        Ok(Self {
            object_type: object_type as u8,
            sample_rate,
            channels: channels as u8,
            raw: Bytes::copy_from_slice(data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_configs() {
        // 44.1 kHz stereo AAC-LC is the classic 12 10.
        let c = AudioSpecificConfig::aac_lc(44_100, 2).unwrap();
        assert_eq!(&c.raw[..], &[0x12, 0x10]);
        let c = AudioSpecificConfig::aac_lc(48_000, 1).unwrap();
        assert_eq!(&c.raw[..], &[0x11, 0x88]);
        let c = AudioSpecificConfig::aac_lc(16_000, 1).unwrap();
        assert_eq!(&c.raw[..], &[0x14, 0x08]);
        assert_eq!(AudioSpecificConfig::parse(&c.raw).unwrap(), c);
    }

    #[test]
    fn explicit_frequency_round_trip() {
        let c = AudioSpecificConfig::aac_lc(37_800, 2).unwrap();
        let p = AudioSpecificConfig::parse(&c.raw).unwrap();
        assert_eq!((p.sample_rate, p.channels, p.object_type), (37_800, 2, 2));
    }

    #[test]
    fn malformed_configs() {
        assert!(AudioSpecificConfig::parse(&[]).is_err());
        assert!(AudioSpecificConfig::parse(&[0x12]).is_err());
        assert!(AudioSpecificConfig::parse(&[0x16, 0x90]).is_err()); // index 13: reserved
        assert!(AudioSpecificConfig::parse(&[0x00, 0x10]).is_err()); // object type 0
        assert!(AudioSpecificConfig::parse(&[0xf8, 0x00]).is_err()); // escape, truncated
        assert!(AudioSpecificConfig::aac_lc(48_000, 0).is_err());
    }
}
