//! H.264 in FLV (ISO/IEC 14496-15 §5.2.4): the AVCDecoderConfigurationRecord (the AVC sequence
//! header), length-prefixed "AVCC" NAL units, and conversion from and to Annex B start codes.

use crate::error::{FlvError, Reader, TagKind};
use bytes::{BufMut, Bytes, BytesMut};

/// NAL unit types used by onair.
pub mod nal_type {
    /// Coded slice of a non-IDR picture.
    pub const SLICE: u8 = 1;
    /// Coded slice of an IDR picture (keyframe).
    pub const IDR: u8 = 5;
    /// Supplemental enhancement information.
    pub const SEI: u8 = 6;
    /// Sequence parameter set.
    pub const SPS: u8 = 7;
    /// Picture parameter set.
    pub const PPS: u8 = 8;
    /// Access unit delimiter.
    pub const AUD: u8 = 9;
}

/// The type of a NAL unit (low 5 bits of its first byte), 0 for an empty unit.
pub fn nal_unit_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| b & 0x1f)
}

/// AVCDecoderConfigurationRecord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcDecoderConfig {
    /// profile_idc (66 baseline, 77 main, 100 high).
    pub profile: u8,
    /// profile_compatibility flags.
    pub compatibility: u8,
    /// level_idc.
    pub level: u8,
    /// Bytes in each NAL length prefix: 1, 2 or 4.
    pub nal_length_size: u8,
    /// Sequence parameter sets (without length prefixes).
    pub sps: Vec<Bytes>,
    /// Picture parameter sets.
    pub pps: Vec<Bytes>,
    /// Bytes after the PPS list (high-profile chroma/bit-depth fields), kept verbatim.
    pub trailing: Bytes,
}

impl AvcDecoderConfig {
    /// A record for one SPS and one PPS with 4-byte lengths; profile and level come from the SPS.
    pub fn from_parameter_sets(sps: Bytes, pps: Bytes) -> Result<Self, FlvError> {
        if sps.len() < 4 || nal_unit_type(&sps) != nal_type::SPS {
            return Err(crate::error::malformed(
                "SPS",
                TagKind::None,
                &sps,
                0,
                "expected an SPS NAL unit (type 7) of at least 4 bytes",
            ));
        }
        if pps.is_empty() || nal_unit_type(&pps) != nal_type::PPS {
            return Err(crate::error::malformed(
                "PPS",
                TagKind::None,
                &pps,
                0,
                "expected a PPS NAL unit (type 8)",
            ));
        }
        Ok(Self {
            profile: sps[1],
            compatibility: sps[2],
            level: sps[3],
            nal_length_size: 4,
            sps: vec![sps],
            pps: vec![pps],
            trailing: Bytes::new(),
        })
    }

    /// Parses a record.
    pub fn parse(data: &[u8]) -> Result<Self, FlvError> {
        let mut r = Reader::new(data, "AVCDecoderConfigurationRecord", TagKind::Video);
        let version = r.u8("configurationVersion")?;
        if version != 1 {
            return Err(r.error(format!("configurationVersion {version}, expected 1")));
        }
        let profile = r.u8("AVCProfileIndication")?;
        let compatibility = r.u8("profile_compatibility")?;
        let level = r.u8("AVCLevelIndication")?;
        let nal_length_size = (r.u8("lengthSizeMinusOne")? & 0x03) + 1;
        if nal_length_size == 3 {
            return Err(r.error("NAL length size 3 is not allowed (1, 2 or 4)"));
        }
        let num_sps = r.u8("numOfSequenceParameterSets")? & 0x1f;
        let mut sps = Vec::with_capacity(num_sps as usize);
        for _ in 0..num_sps {
            let len = r.u16("sequenceParameterSetLength")? as usize;
            sps.push(Bytes::copy_from_slice(
                r.bytes(len, "sequenceParameterSetNALUnit")?,
            ));
        }
        let num_pps = r.u8("numOfPictureParameterSets")?;
        let mut pps = Vec::with_capacity(num_pps as usize);
        for _ in 0..num_pps {
            let len = r.u16("pictureParameterSetLength")? as usize;
            pps.push(Bytes::copy_from_slice(
                r.bytes(len, "pictureParameterSetNALUnit")?,
            ));
        }
        if sps.is_empty() {
            return Err(r.error("the record holds no SPS"));
        }
        let trailing = Bytes::copy_from_slice(r.rest());
        Ok(Self {
            profile,
            compatibility,
            level,
            nal_length_size,
            sps,
            pps,
            trailing,
        })
    }

    /// Serialises the record.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::new();
        b.put_u8(1);
        b.put_u8(self.profile);
        b.put_u8(self.compatibility);
        b.put_u8(self.level);
        b.put_u8(0xfc | (self.nal_length_size.clamp(1, 4) - 1));
        let sps = &self.sps[..self.sps.len().min(31)];
        b.put_u8(0xe0 | sps.len() as u8);
        for s in sps {
            let s = &s[..s.len().min(u16::MAX as usize)];
            b.put_u16(s.len() as u16);
            b.put_slice(s);
        }
        let pps = &self.pps[..self.pps.len().min(255)];
        b.put_u8(pps.len() as u8);
        for p in pps {
            let p = &p[..p.len().min(u16::MAX as usize)];
            b.put_u16(p.len() as u16);
            b.put_slice(p);
        }
        b.put_slice(&self.trailing);
        b.freeze()
    }

    /// The parameter sets as Annex B (start code before each), for decoder extradata.
    pub fn to_annexb(&self) -> Bytes {
        let mut b = BytesMut::new();
        for nal in self.sps.iter().chain(&self.pps) {
            b.put_slice(&[0, 0, 0, 1]);
            b.put_slice(nal);
        }
        b.freeze()
    }
}

/// Splits Annex B data into NAL units (start codes 00 00 01 or 00 00 00 01 removed; empty
/// units skipped). Never fails: bytes before the first start code are ignored.
pub fn split_annexb(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push((i, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, &(_, body)) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(data.len(), |&(sc, _)| sc);
        // A 4-byte start code's leading zero (and trailing_zero_8bits) belong to no unit.
        while end > body && data[end - 1] == 0 {
            end -= 1;
        }
        if end > body {
            out.push(&data[body..end]);
        }
    }
    out
}

/// Splits AVCC data (each unit prefixed by a `length_size`-byte big-endian length).
pub fn split_avcc(data: &[u8], length_size: u8) -> Result<Vec<&[u8]>, FlvError> {
    if !matches!(length_size, 1 | 2 | 4) {
        return Err(crate::error::malformed(
            "AVCC NAL units",
            TagKind::Video,
            data,
            0,
            format!("NAL length size {length_size}, expected 1, 2 or 4"),
        ));
    }
    let mut r = Reader::new(data, "AVCC NAL units", TagKind::Video);
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let len_bytes = r.bytes(length_size as usize, "NAL length")?;
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        out.push(r.bytes(len, "NAL unit")?);
    }
    Ok(out)
}

/// Joins NAL units with 4-byte big-endian length prefixes.
pub fn join_avcc<'a>(nals: impl IntoIterator<Item = &'a [u8]>) -> Bytes {
    let mut b = BytesMut::new();
    for nal in nals {
        b.put_u32(nal.len() as u32);
        b.put_slice(nal);
    }
    b.freeze()
}

/// Joins NAL units with 4-byte start codes.
pub fn join_annexb<'a>(nals: impl IntoIterator<Item = &'a [u8]>) -> Bytes {
    let mut b = BytesMut::new();
    for nal in nals {
        b.put_slice(&[0, 0, 0, 1]);
        b.put_slice(nal);
    }
    b.freeze()
}

/// Annex B -> AVCC with 4-byte lengths.
pub fn annexb_to_avcc(data: &[u8]) -> Bytes {
    join_avcc(split_annexb(data))
}

/// AVCC -> Annex B with 4-byte start codes.
pub fn avcc_to_annexb(data: &[u8], length_size: u8) -> Result<Bytes, FlvError> {
    Ok(join_annexb(split_avcc(data, length_size)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPS: &[u8] = &[0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40];
    const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb];

    #[test]
    fn record_round_trip() {
        let c =
            AvcDecoderConfig::from_parameter_sets(Bytes::from_static(SPS), Bytes::from_static(PPS))
                .unwrap();
        assert_eq!((c.profile, c.level), (100, 0x1f));
        let enc = c.encode();
        assert_eq!(&enc[..6], &[1, 0x64, 0x00, 0x1f, 0xff, 0xe1]);
        assert_eq!(AvcDecoderConfig::parse(&enc).unwrap(), c);
        assert_eq!(&c.to_annexb()[..5], &[0, 0, 0, 1, 0x67]);
    }

    #[test]
    fn truncated_record_names_the_field() {
        let enc =
            AvcDecoderConfig::from_parameter_sets(Bytes::from_static(SPS), Bytes::from_static(PPS))
                .unwrap()
                .encode();
        for cut in 0..enc.len() - PPS.len() {
            let e = AvcDecoderConfig::parse(&enc[..cut]).unwrap_err();
            assert!(e.to_string().contains("truncated"), "cut {cut}: {e}");
        }
        let mut bad = enc.to_vec();
        bad[0] = 2;
        assert!(AvcDecoderConfig::parse(&bad)
            .unwrap_err()
            .to_string()
            .contains("configurationVersion"));
        assert!(AvcDecoderConfig::from_parameter_sets(
            Bytes::from_static(PPS),
            Bytes::from_static(PPS)
        )
        .is_err());
    }

    #[test]
    fn annexb_avcc_round_trip() {
        let annexb = [
            &[0u8, 0, 0, 1][..],
            SPS,
            &[0, 0, 1],
            PPS,
            &[0, 0, 0, 1, 0x65, 0x88, 0x00, 0x00, 0x03, 0x01],
        ]
        .concat();
        let nals = split_annexb(&annexb);
        assert_eq!(nals.len(), 3);
        assert_eq!(nals[0], SPS);
        assert_eq!(nals[2], &[0x65, 0x88, 0x00, 0x00, 0x03, 0x01]);
        let avcc = annexb_to_avcc(&annexb);
        assert_eq!(split_avcc(&avcc, 4).unwrap(), nals);
        let back = avcc_to_annexb(&avcc, 4).unwrap();
        assert_eq!(split_annexb(&back), nals);
    }

    #[test]
    fn bad_avcc_lengths() {
        assert!(split_avcc(&[0, 0, 0, 9, 1, 2], 4).is_err());
        assert!(split_avcc(&[0, 0, 0], 4).is_err());
        assert!(split_avcc(&[1, 2], 3).is_err());
        assert_eq!(
            split_avcc(&[2, 0x41, 0x42, 1, 0x43], 1).unwrap(),
            vec![&[0x41, 0x42][..], &[0x43][..]]
        );
    }
}
