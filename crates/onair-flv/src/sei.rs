//! H.264 SEI NAL units (ITU-T H.264 §7.3.2.3 and annex D) carrying app messages: payload type 5
//! (user_data_unregistered, 16-byte UUID then data) and 242 (onair/LiteAVSDK custom data).
//! Builds and parses the RBSP with emulation-prevention bytes.

use crate::avcc::{nal_type, nal_unit_type};
use crate::error::{malformed, FlvError, Reader, TagKind};
use bytes::Bytes;

/// The UUID onair puts before type-5 payloads.
pub const ONAIR_SEI_UUID: [u8; 16] = *b"onair-sei-msg-v1";

/// One SEI message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeiMessage {
    /// payloadType (5 or 242 for app data; others pass through).
    pub payload_type: u32,
    /// The payload as carried (for type 5 this starts with the 16-byte UUID).
    pub payload: Bytes,
}

impl SeiMessage {
    /// A message as `send_sei_message(payload_type, data)` sends it: type 5 gets onair's UUID.
    pub fn app(payload_type: u32, data: &[u8]) -> Self {
        let payload = if payload_type == 5 {
            [&ONAIR_SEI_UUID[..], data].concat()
        } else {
            data.to_vec()
        };
        Self {
            payload_type,
            payload: Bytes::from(payload),
        }
    }

    /// The app data: type-5 payloads without their UUID, others as carried.
    pub fn app_data(&self) -> Bytes {
        if self.payload_type == 5 && self.payload.len() >= 16 {
            self.payload.slice(16..)
        } else {
            self.payload.clone()
        }
    }
}

/// Inserts emulation-prevention bytes (00 00 0x with x <= 3 becomes 00 00 03 0x).
pub fn add_emulation_prevention(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + rbsp.len() / 64 + 4);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

/// Removes emulation-prevention bytes.
pub fn remove_emulation_prevention(ebsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ebsp.len());
    let mut zeros = 0;
    for &b in ebsp {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

fn put_ff_coded(out: &mut Vec<u8>, mut v: usize) {
    while v >= 255 {
        out.push(0xff);
        v -= 255;
    }
    out.push(v as u8);
}

/// An SEI NAL unit (header byte included) holding `messages`.
pub fn build_sei_nal(messages: &[SeiMessage]) -> Bytes {
    let mut nal = vec![nal_type::SEI];
    nal.extend(add_emulation_prevention(&sei_rbsp(messages)));
    Bytes::from(nal)
}

/// An HEVC prefix SEI NAL unit (type 39, its 2-byte header included) holding `messages`: the
/// same sei_message syntax as H.264's.
pub fn build_hevc_sei_nal(messages: &[SeiMessage]) -> Bytes {
    let mut nal = vec![crate::hvcc::hevc_nal::SEI_PREFIX << 1, 0x01];
    nal.extend(add_emulation_prevention(&sei_rbsp(messages)));
    Bytes::from(nal)
}

/// The messages of an HEVC prefix SEI NAL unit (2-byte header included).
pub fn parse_hevc_sei_nal(nal: &[u8]) -> Result<Vec<SeiMessage>, FlvError> {
    if crate::hvcc::hevc_nal_type(nal) != crate::hvcc::hevc_nal::SEI_PREFIX || nal.len() < 2 {
        return Err(malformed(
            "SEI",
            TagKind::None,
            nal,
            0,
            "not an HEVC prefix SEI NAL unit (type 39)",
        ));
    }
    parse_sei_rbsp(&remove_emulation_prevention(&nal[2..]))
}

fn sei_rbsp(messages: &[SeiMessage]) -> Vec<u8> {
    let mut rbsp = Vec::new();
    for m in messages {
        put_ff_coded(&mut rbsp, m.payload_type as usize);
        put_ff_coded(&mut rbsp, m.payload.len());
        rbsp.extend_from_slice(&m.payload);
    }
    rbsp.push(0x80); // rbsp_trailing_bits
    rbsp
}

/// The messages of an SEI NAL unit (header byte included).
pub fn parse_sei_nal(nal: &[u8]) -> Result<Vec<SeiMessage>, FlvError> {
    if nal_unit_type(nal) != nal_type::SEI {
        return Err(malformed(
            "SEI",
            TagKind::None,
            nal,
            0,
            "not an SEI NAL unit (type 6)",
        ));
    }
    parse_sei_rbsp(&remove_emulation_prevention(&nal[1..]))
}

fn parse_sei_rbsp(rbsp: &[u8]) -> Result<Vec<SeiMessage>, FlvError> {
    let mut r = Reader::new(rbsp, "SEI message", TagKind::None);
    let mut out = Vec::new();
    // Stop at the trailing-bits byte (0x80) or the end.
    while r.remaining() > 0 && !(r.remaining() == 1 && rbsp[r.pos()] == 0x80) {
        let payload_type = ff_coded(&mut r, "payloadType")?;
        let size = ff_coded(&mut r, "payloadSize")?;
        let payload = Bytes::copy_from_slice(r.bytes(size, "SEI payload")?);
        out.push(SeiMessage {
            payload_type: payload_type as u32,
            payload,
        });
    }
    Ok(out)
}

fn ff_coded(r: &mut Reader<'_>, field: &str) -> Result<usize, FlvError> {
    let mut v = 0usize;
    loop {
        let b = r.u8(field)?;
        v += b as usize;
        if b != 0xff {
            return Ok(v);
        }
        if v > 1 << 24 {
            return Err(r.error(format!("{field} over 16 MiB")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_types_5_and_242() {
        let msgs = vec![
            SeiMessage::app(5, b"hello"),
            SeiMessage::app(242, &[0, 0, 1, 0, 0, 3, 9]),
        ];
        let nal = build_sei_nal(&msgs);
        // The 00 00 01 inside the payload must not appear as a start code.
        assert!(!nal.windows(3).any(|w| w == [0, 0, 1]));
        let parsed = parse_sei_nal(&nal).unwrap();
        assert_eq!(parsed, msgs);
        assert_eq!(&parsed[0].app_data()[..], b"hello");
        assert_eq!(&parsed[1].app_data()[..], &[0, 0, 1, 0, 0, 3, 9]);
    }

    #[test]
    fn hevc_prefix_sei_round_trip() {
        let msgs = vec![SeiMessage::app(242, b"cue")];
        let nal = build_hevc_sei_nal(&msgs);
        assert_eq!(&nal[..2], &[0x4e, 0x01]);
        assert_eq!(parse_hevc_sei_nal(&nal).unwrap(), msgs);
        assert!(parse_hevc_sei_nal(&build_sei_nal(&msgs)).is_err());
    }

    #[test]
    fn long_payloads_use_ff_coding() {
        let data = vec![7u8; 700];
        let nal = build_sei_nal(&[SeiMessage::app(242, &data)]);
        assert_eq!(&nal[..5], &[6, 242, 0xff, 0xff, (700 - 510) as u8]);
        assert_eq!(parse_sei_nal(&nal).unwrap()[0].payload.len(), 700);
    }

    #[test]
    fn emulation_prevention_round_trip() {
        let raw = [0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0];
        let e = add_emulation_prevention(&raw);
        assert_eq!(remove_emulation_prevention(&e), raw);
    }

    #[test]
    fn malformed_sei() {
        assert!(parse_sei_nal(&[0x65, 1]).is_err());
        assert!(parse_sei_nal(&[6, 5, 10, 1, 2]).is_err());
        assert!(parse_sei_nal(&[6, 0xff, 0xff]).is_err());
        assert!(parse_sei_nal(&[6]).unwrap().is_empty());
    }
}
