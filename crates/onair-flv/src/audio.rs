//! FLV audio tag bodies (FLV 10.1 annex E.4.2): SoundFormat/Rate/Size/Type, and for AAC
//! (format 10) the AACPacketType: 0 = AudioSpecificConfig, 1 = raw frame.

use crate::asc::AudioSpecificConfig;
use crate::error::{FlvError, Reader, TagKind};
use bytes::{BufMut, Bytes, BytesMut};

/// SoundFormat of AAC.
pub const FORMAT_AAC: u8 = 10;
/// The AAC tag header byte: AAC, "44 kHz", 16-bit, "stereo" (the spec's fixed values for AAC).
pub const AAC_HEADER: u8 = 0xaf;

/// The body of an audio tag.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudioTag {
    /// AAC sequence header.
    AacSequenceHeader(AudioSpecificConfig),
    /// One raw AAC frame.
    AacRaw(Bytes),
    /// Another sound format (the player warns).
    Unsupported {
        /// SoundFormat.
        format: u8,
        /// The raw body after the first byte.
        data: Bytes,
    },
}

impl AudioTag {
    /// Parses an audio tag body.
    pub fn parse(body: &Bytes) -> Result<Self, FlvError> {
        let mut r = Reader::new(body, "audio tag", TagKind::Audio);
        let first = r.u8("SoundFormat")?;
        let format = first >> 4;
        if format != FORMAT_AAC {
            return Ok(Self::Unsupported {
                format,
                data: body.slice(1..),
            });
        }
        match r.u8("AACPacketType")? {
            0 => Ok(Self::AacSequenceHeader(AudioSpecificConfig::parse(
                r.rest(),
            )?)),
            1 => Ok(Self::AacRaw(body.slice(2..))),
            t => Err(r.error(format!("AACPacketType {t}, expected 0 or 1"))),
        }
    }

    /// The 2 bytes in front of a raw AAC frame in an [`AudioTag::AacRaw`] body (SoundFormat
    /// 10, 44 kHz, 16-bit, stereo flags as FLV wants them for AAC; AACPacketType 1), for a
    /// caller that lays the frame out behind them itself (the encoder does, so the body
    /// needs no copy).
    pub const AAC_RAW_HEADER: [u8; 2] = [AAC_HEADER, 1];

    /// Serialises the body.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::new();
        match self {
            Self::AacSequenceHeader(c) => {
                b.put_slice(&[AAC_HEADER, 0]);
                b.put_slice(&c.raw);
            }
            Self::AacRaw(data) => {
                b.put_slice(&Self::AAC_RAW_HEADER);
                b.put_slice(data);
            }
            Self::Unsupported { format, data } => {
                b.put_u8(format << 4);
                b.put_slice(data);
            }
        }
        b.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let h = AudioTag::AacSequenceHeader(AudioSpecificConfig::aac_lc(48_000, 2).unwrap());
        assert_eq!(AudioTag::parse(&h.encode()).unwrap(), h);
        let raw = AudioTag::AacRaw(Bytes::from_static(&[0x21, 0x10, 0x05]));
        assert_eq!(&raw.encode()[..2], &[0xaf, 1]);
        assert_eq!(AudioTag::parse(&raw.encode()).unwrap(), raw);
        let mp3 = AudioTag::parse(&Bytes::from_static(&[0x2f, 0xff])).unwrap();
        assert!(matches!(mp3, AudioTag::Unsupported { format: 2, .. }));
    }

    #[test]
    fn malformed() {
        for body in [&[][..], &[0xaf], &[0xaf, 2], &[0xaf, 0]] {
            assert!(
                AudioTag::parse(&Bytes::copy_from_slice(body)).is_err(),
                "{body:02x?}"
            );
        }
    }
}
