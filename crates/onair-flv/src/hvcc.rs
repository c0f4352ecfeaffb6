//! HEVC in FLV and MP4 (ISO/IEC 14496-15 §8.3.3): the HEVCDecoderConfigurationRecord (`hvcC`,
//! the sequence header of an Enhanced RTMP `hvc1` stream and the MP4 `hvcC` box), built from an
//! encoder's VPS/SPS/PPS or parsed from the wire, and the few SPS fields the record repeats
//! (profile-tier-level, chroma format, bit depths) plus the picture size. NAL units here keep
//! their 2-byte header; the record holds them with 16-bit lengths. `docs/rtmp.md` lists the
//! fields onair relies on.

use crate::error::{malformed, FlvError, Reader, TagKind};
use crate::sei::remove_emulation_prevention;
use bytes::{BufMut, Bytes, BytesMut};

/// HEVC NAL unit types used by onair (H.265 table 7-1).
pub mod hevc_nal {
    /// The first IRAP type (BLA_W_LP); IRAP pictures are 16..=23.
    pub const IRAP_FIRST: u8 = 16;
    /// The last reserved IRAP type.
    pub const IRAP_LAST: u8 = 23;
    /// Video parameter set.
    pub const VPS: u8 = 32;
    /// Sequence parameter set.
    pub const SPS: u8 = 33;
    /// Picture parameter set.
    pub const PPS: u8 = 34;
    /// Access unit delimiter.
    pub const AUD: u8 = 35;
    /// Prefix SEI.
    pub const SEI_PREFIX: u8 = 39;
}

/// The type of an HEVC NAL unit (bits 1..7 of its first byte), 0 for an empty unit.
pub fn hevc_nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| (b >> 1) & 0x3f)
}

/// An IRAP picture (IDR, CRA, BLA): where a decoder can start.
pub fn is_irap(nal_type: u8) -> bool {
    (hevc_nal::IRAP_FIRST..=hevc_nal::IRAP_LAST).contains(&nal_type)
}

/// What the record repeats from the SPS, plus the picture size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HevcSpsInfo {
    /// general_profile_space (2 bits).
    pub profile_space: u8,
    /// general_tier_flag.
    pub tier: bool,
    /// general_profile_idc (1 Main, 2 Main 10, 4 range extensions).
    pub profile_idc: u8,
    /// general_profile_compatibility_flags.
    pub compatibility_flags: u32,
    /// general_constraint_indicator_flags (48 bits).
    pub constraint_flags: u64,
    /// general_level_idc (30 x level: 93 = 3.1).
    pub level_idc: u8,
    /// sps_max_sub_layers_minus1 + 1.
    pub temporal_layers: u8,
    /// sps_temporal_id_nesting_flag.
    pub temporal_id_nested: bool,
    /// chroma_format_idc (1 = 4:2:0).
    pub chroma_format_idc: u8,
    /// bit_depth_luma_minus8.
    pub bit_depth_luma_minus8: u8,
    /// bit_depth_chroma_minus8.
    pub bit_depth_chroma_minus8: u8,
    /// The displayed width (conformance window applied).
    pub width: u32,
    /// The displayed height.
    pub height: u32,
}

/// A big-endian bit reader over an RBSP with exp-Golomb codes, failing (never panicking) at
/// the end of the data.
struct Bits<'a> {
    data: &'a [u8],
    bit: usize,
}

impl Bits<'_> {
    fn u(&mut self, n: u32) -> Option<u64> {
        let mut v = 0u64;
        for _ in 0..n {
            let byte = *self.data.get(self.bit / 8)?;
            v = v << 1 | u64::from(byte >> (7 - self.bit % 8) & 1);
            self.bit += 1;
        }
        Some(v)
    }

    fn flag(&mut self) -> Option<bool> {
        self.u(1).map(|b| b == 1)
    }

    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while !self.flag()? {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some(((1u64 << zeros) - 1 + self.u(zeros)?) as u32)
    }
}

impl HevcSpsInfo {
    /// Reads an SPS NAL unit (2-byte header included, emulation prevention in place).
    pub fn parse(sps: &[u8]) -> Result<Self, FlvError> {
        let bad = |reason: &str| malformed("HEVC SPS", TagKind::Video, sps, 0, reason);
        if sps.len() < 15 || hevc_nal_type(sps) != hevc_nal::SPS {
            return Err(bad(
                "expected an SPS NAL unit (type 33) of at least 15 bytes",
            ));
        }
        let rbsp = remove_emulation_prevention(&sps[2..]);
        Self::read(&rbsp).ok_or_else(|| bad("the SPS ends inside its header fields"))
    }

    fn read(rbsp: &[u8]) -> Option<Self> {
        let mut b = Bits { data: rbsp, bit: 0 };
        let mut s = Self::default();
        b.u(4)?; // sps_video_parameter_set_id
        let sub_layers_minus1 = b.u(3)? as usize;
        s.temporal_layers = sub_layers_minus1 as u8 + 1;
        s.temporal_id_nested = b.flag()?;
        s.profile_space = b.u(2)? as u8;
        s.tier = b.flag()?;
        s.profile_idc = b.u(5)? as u8;
        s.compatibility_flags = b.u(32)? as u32;
        s.constraint_flags = b.u(48)?;
        s.level_idc = b.u(8)? as u8;
        let mut present = [(false, false); 8];
        for p in present.iter_mut().take(sub_layers_minus1) {
            *p = (b.flag()?, b.flag()?);
        }
        if sub_layers_minus1 > 0 {
            for _ in sub_layers_minus1..8 {
                b.u(2)?; // reserved_zero_2bits
            }
        }
        for &(profile, level) in present.iter().take(sub_layers_minus1) {
            if profile {
                b.u(88)?;
            }
            if level {
                b.u(8)?;
            }
        }
        b.ue()?; // sps_seq_parameter_set_id
        s.chroma_format_idc = b.ue()?.min(3) as u8;
        if s.chroma_format_idc == 3 {
            b.flag()?; // separate_colour_plane_flag
        }
        let (mut width, mut height) = (b.ue()?, b.ue()?);
        if b.flag()? {
            // Conformance window offsets in chroma units.
            let (sub_w, sub_h) = match s.chroma_format_idc {
                1 => (2, 2),
                2 => (2, 1),
                _ => (1, 1),
            };
            let (l, r, t, bo) = (b.ue()?, b.ue()?, b.ue()?, b.ue()?);
            width = width.checked_sub(sub_w * (l.checked_add(r)?))?;
            height = height.checked_sub(sub_h * (t.checked_add(bo)?))?;
        }
        s.width = width;
        s.height = height;
        s.bit_depth_luma_minus8 = b.ue()?.min(7) as u8;
        s.bit_depth_chroma_minus8 = b.ue()?.min(7) as u8;
        Some(s)
    }
}

/// HEVCDecoderConfigurationRecord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcDecoderConfig {
    /// The SPS fields the record repeats.
    pub info: HevcSpsInfo,
    /// Bytes in each NAL length prefix: 1, 2 or 4.
    pub nal_length_size: u8,
    /// The NAL arrays: (type, units) in record order (VPS, SPS, PPS, then any SEI).
    pub arrays: Vec<(u8, Vec<Bytes>)>,
}

impl HevcDecoderConfig {
    /// A record for one VPS, SPS and PPS with 4-byte lengths; the header fields come from the
    /// SPS.
    pub fn from_parameter_sets(vps: Bytes, sps: Bytes, pps: Bytes) -> Result<Self, FlvError> {
        for (nal, ty, name) in [(&vps, hevc_nal::VPS, "VPS"), (&pps, hevc_nal::PPS, "PPS")] {
            if nal.len() < 3 || hevc_nal_type(nal) != ty {
                return Err(malformed(
                    name,
                    TagKind::Video,
                    nal,
                    0,
                    format!("expected an HEVC {name} NAL unit (type {ty})"),
                ));
            }
        }
        let info = HevcSpsInfo::parse(&sps)?;
        Ok(Self {
            info,
            nal_length_size: 4,
            arrays: vec![
                (hevc_nal::VPS, vec![vps]),
                (hevc_nal::SPS, vec![sps]),
                (hevc_nal::PPS, vec![pps]),
            ],
        })
    }

    /// The record's bytes.
    pub fn encode(&self) -> Bytes {
        let s = &self.info;
        let mut out = BytesMut::with_capacity(
            23 + self
                .arrays
                .iter()
                .map(|(_, u)| 3 + u.iter().map(|n| 2 + n.len()).sum::<usize>())
                .sum::<usize>(),
        );
        out.put_u8(1); // configurationVersion
        out.put_u8(s.profile_space << 6 | u8::from(s.tier) << 5 | (s.profile_idc & 0x1f));
        out.put_u32(s.compatibility_flags);
        out.put_uint(s.constraint_flags & 0xffff_ffff_ffff, 6);
        out.put_u8(s.level_idc);
        out.put_u16(0xf000); // reserved + min_spatial_segmentation_idc 0
        out.put_u8(0xfc); // reserved + parallelismType 0 (unknown)
        out.put_u8(0xfc | (s.chroma_format_idc & 3));
        out.put_u8(0xf8 | (s.bit_depth_luma_minus8 & 7));
        out.put_u8(0xf8 | (s.bit_depth_chroma_minus8 & 7));
        out.put_u16(0); // avgFrameRate: unspecified
                        // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne.
        out.put_u8(
            (s.temporal_layers & 7) << 3
                | u8::from(s.temporal_id_nested) << 2
                | (self.nal_length_size.saturating_sub(1) & 3),
        );
        out.put_u8(self.arrays.len() as u8);
        for (ty, units) in &self.arrays {
            // array_completeness: every parameter set is here, none in-band.
            out.put_u8(0x80 | (ty & 0x3f));
            out.put_u16(units.len() as u16);
            for u in units {
                out.put_u16(u.len() as u16);
                out.put_slice(u);
            }
        }
        out.freeze()
    }

    /// Parses a record. The header fields are read as written; when the record holds an SPS the
    /// picture size comes from it (0 x 0 otherwise).
    pub fn parse(data: &[u8]) -> Result<Self, FlvError> {
        let mut r = Reader::new(data, "HEVCDecoderConfigurationRecord", TagKind::Video);
        let version = r.u8("configurationVersion")?;
        if version != 1 {
            return Err(r.error(format!("configurationVersion {version}, expected 1")));
        }
        let b = r.u8("general_profile_space/tier/profile_idc")?;
        let compat = r.bytes(4, "general_profile_compatibility_flags")?;
        let constraint = r.bytes(6, "general_constraint_indicator_flags")?;
        let level_idc = r.u8("general_level_idc")?;
        r.bytes(3, "min_spatial_segmentation_idc/parallelismType")?;
        let chroma = r.u8("chromaFormat")? & 3;
        let luma = r.u8("bitDepthLumaMinus8")? & 7;
        let chroma_depth = r.u8("bitDepthChromaMinus8")? & 7;
        r.u16("avgFrameRate")?;
        let b21 = r.u8("numTemporalLayers/lengthSizeMinusOne")?;
        let nal_length_size = (b21 & 3) + 1;
        if nal_length_size == 3 {
            return Err(r.error("NAL length size 3 is not allowed (1, 2 or 4)"));
        }
        let num_arrays = r.u8("numOfArrays")?;
        let mut arrays = Vec::with_capacity(usize::from(num_arrays).min(8));
        for _ in 0..num_arrays {
            let ty = r.u8("NAL_unit_type")? & 0x3f;
            let n = r.u16("numNalus")?;
            let mut units = Vec::with_capacity(usize::from(n).min(16));
            for _ in 0..n {
                let len = r.u16("nalUnitLength")? as usize;
                units.push(Bytes::copy_from_slice(r.bytes(len, "nalUnit")?));
            }
            arrays.push((ty, units));
        }
        let mut info = HevcSpsInfo {
            profile_space: b >> 6,
            tier: b & 0x20 != 0,
            profile_idc: b & 0x1f,
            compatibility_flags: u32::from_be_bytes([compat[0], compat[1], compat[2], compat[3]]),
            constraint_flags: constraint
                .iter()
                .fold(0u64, |acc, &x| acc << 8 | u64::from(x)),
            level_idc,
            temporal_layers: (b21 >> 3) & 7,
            temporal_id_nested: b21 & 4 != 0,
            chroma_format_idc: chroma,
            bit_depth_luma_minus8: luma,
            bit_depth_chroma_minus8: chroma_depth,
            width: 0,
            height: 0,
        };
        if let Some(sps) = arrays
            .iter()
            .find(|(t, _)| *t == hevc_nal::SPS)
            .and_then(|(_, u)| u.first())
        {
            if let Ok(parsed) = HevcSpsInfo::parse(sps) {
                info.width = parsed.width;
                info.height = parsed.height;
            }
        }
        Ok(Self {
            info,
            nal_length_size,
            arrays,
        })
    }

    /// The units of one NAL type.
    pub fn units(&self, nal_type: u8) -> &[Bytes] {
        self.arrays
            .iter()
            .find(|(t, _)| *t == nal_type)
            .map_or(&[], |(_, u)| u.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parameter sets FFmpeg 5.1's libx265 writes for one 320x180 Main frame of testsrc2
    /// (`-f hevc`).
    const VPS: &[u8] = &[
        0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00,
        0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x95, 0x98, 0x09,
    ];
    const SPS: &[u8] = &[
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0b, 0x9f, 0x79, 0x65, 0x66, 0x92, 0x4c, 0xaf, 0x01,
        0x68, 0x08, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x00, 0xc8, 0x40,
    ];
    const PPS: &[u8] = &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40];

    #[test]
    fn sps_fields_and_size() {
        let s = HevcSpsInfo::parse(SPS).unwrap();
        assert_eq!((s.profile_idc, s.level_idc, s.tier), (1, 60, false));
        assert_eq!(s.compatibility_flags, 0x6000_0000);
        assert_eq!(s.constraint_flags, 0x9000_0000_0000);
        assert_eq!((s.chroma_format_idc, s.bit_depth_luma_minus8), (1, 0));
        assert_eq!((s.width, s.height), (320, 180));
        assert_eq!((s.temporal_layers, s.temporal_id_nested), (1, true));
    }

    #[test]
    fn record_round_trips() {
        let c = HevcDecoderConfig::from_parameter_sets(
            Bytes::from_static(VPS),
            Bytes::from_static(SPS),
            Bytes::from_static(PPS),
        )
        .unwrap();
        let bytes = c.encode();
        assert_eq!(bytes[0], 1);
        assert_eq!(bytes[1], 0x01, "Main profile, main tier");
        assert_eq!(bytes[12], 60, "level 2");
        assert_eq!(bytes[21] & 3, 3, "4-byte lengths");
        assert_eq!(bytes[22], 3, "three arrays");
        let back = HevcDecoderConfig::parse(&bytes).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.units(hevc_nal::PPS), &[Bytes::from_static(PPS)]);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(HevcSpsInfo::parse(&SPS[..12]).is_err());
        assert!(
            HevcSpsInfo::parse(&SPS[..18]).is_err(),
            "ends in the fields"
        );
        assert!(HevcDecoderConfig::from_parameter_sets(
            Bytes::from_static(PPS),
            Bytes::from_static(SPS),
            Bytes::from_static(PPS)
        )
        .is_err());
        let bytes = HevcDecoderConfig::from_parameter_sets(
            Bytes::from_static(VPS),
            Bytes::from_static(SPS),
            Bytes::from_static(PPS),
        )
        .unwrap()
        .encode();
        for n in 0..bytes.len() {
            assert!(HevcDecoderConfig::parse(&bytes[..n]).is_err(), "cut at {n}");
        }
        assert_eq!(hevc_nal_type(&[0x26, 0x01]), 19);
        assert!(is_irap(19) && is_irap(21) && !is_irap(1));
    }
}
