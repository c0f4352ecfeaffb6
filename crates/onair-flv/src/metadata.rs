//! Script-data tags (FLV 10.1 annex E.4.4): a name (`onMetaData`, `@setDataFrame`...) and an
//! AMF0 value, through rml_amf0. Before decoding, a bounded scan rejects nesting deeper than
//! [`MAX_AMF_DEPTH`] and unknown markers, so hostile input cannot exhaust the stack.

use crate::error::{malformed, FlvError, Reader, TagKind};
use bytes::Bytes;
use rml_amf0::Amf0Value;
use std::collections::HashMap;

/// Deepest object/array nesting accepted.
pub const MAX_AMF_DEPTH: usize = 32;

/// A script-data tag body.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptData {
    /// The handler name, e.g. `onMetaData`.
    pub name: String,
    /// The values after the name (usually one ECMA array).
    pub values: Vec<Amf0Value>,
}

fn scan_value(r: &mut Reader<'_>, depth: usize) -> Result<(), FlvError> {
    let marker = r.u8("AMF0 marker")?;
    match marker {
        0x00 => drop(r.bytes(8, "AMF0 number")?),
        0x01 => drop(r.u8("AMF0 boolean")?),
        0x02 => {
            let n = r.u16("AMF0 string length")? as usize;
            r.bytes(n, "AMF0 string")?;
        }
        0x03 | 0x08 => {
            if depth >= MAX_AMF_DEPTH {
                return Err(r.error(format!("AMF0 nesting deeper than {MAX_AMF_DEPTH}")));
            }
            if marker == 0x08 {
                r.bytes(4, "AMF0 ECMA array count")?;
            }
            loop {
                let n = r.u16("AMF0 property name length")? as usize;
                if n == 0 {
                    let end = r.u8("AMF0 object end")?;
                    if end != 0x09 {
                        return Err(r.error(format!("object end marker {end:#04x}, expected 0x09")));
                    }
                    break;
                }
                r.bytes(n, "AMF0 property name")?;
                scan_value(r, depth + 1)?;
            }
        }
        0x05 | 0x06 => {}
        0x0a => {
            if depth >= MAX_AMF_DEPTH {
                return Err(r.error(format!("AMF0 nesting deeper than {MAX_AMF_DEPTH}")));
            }
            let n = u32::from_be_bytes(
                r.bytes(4, "AMF0 strict array count")?
                    .try_into()
                    .unwrap_or([0; 4]),
            );
            for _ in 0..n {
                scan_value(r, depth + 1)?;
            }
        }
        m => return Err(r.error(format!("unsupported AMF0 marker {m:#04x}"))),
    }
    Ok(())
}

/// Checks `data` is a sequence of well-formed AMF0 values within the depth cap.
pub fn check_amf0(data: &[u8]) -> Result<(), FlvError> {
    count_amf0_values(data).map(drop)
}

/// Checks `data` like [`check_amf0`] and returns how many top-level values it holds.
pub fn count_amf0_values(data: &[u8]) -> Result<usize, FlvError> {
    let mut r = Reader::new(data, "AMF0", TagKind::Script);
    let mut n = 0;
    while r.remaining() > 0 {
        scan_value(&mut r, 0)?;
        n += 1;
    }
    Ok(n)
}

impl ScriptData {
    /// Parses a script tag body.
    pub fn parse(data: &[u8]) -> Result<Self, FlvError> {
        check_amf0(data)?;
        let mut cursor = std::io::Cursor::new(data);
        let mut values = rml_amf0::deserialize(&mut cursor).map_err(|e| {
            malformed(
                "AMF0",
                TagKind::Script,
                data,
                cursor.position() as usize,
                e.to_string(),
            )
        })?;
        if values.is_empty() {
            return Err(malformed(
                "script tag",
                TagKind::Script,
                data,
                0,
                "no values",
            ));
        }
        let name = match values.remove(0) {
            Amf0Value::Utf8String(s) => s,
            other => {
                return Err(malformed(
                    "script tag",
                    TagKind::Script,
                    data,
                    0,
                    format!("the first value must be a string name, found {other:?}"),
                ))
            }
        };
        Ok(Self { name, values })
    }

    /// Serialises the body. Objects at the top level are written as ECMA arrays, as FLV
    /// players expect for onMetaData.
    pub fn encode(&self) -> Result<Bytes, FlvError> {
        let mut out = serialize(&Amf0Value::Utf8String(self.name.clone()))?;
        for v in &self.values {
            let bytes = serialize(v)?;
            match v {
                Amf0Value::Object(map) if bytes.first() == Some(&0x03) => {
                    out.push(0x08);
                    out.extend_from_slice(&(map.len() as u32).to_be_bytes());
                    out.extend_from_slice(&bytes[1..]);
                }
                _ => out.extend(bytes),
            }
        }
        Ok(Bytes::from(out))
    }

    /// The first value's properties when it is an object or ECMA array.
    pub fn properties(&self) -> Option<&HashMap<String, Amf0Value>> {
        match self.values.first()? {
            Amf0Value::Object(m) => Some(m),
            _ => None,
        }
    }
}

fn serialize(v: &Amf0Value) -> Result<Vec<u8>, FlvError> {
    rml_amf0::serialize(&vec![v.clone()]).map_err(|e| {
        malformed(
            "AMF0",
            TagKind::Script,
            &[],
            0,
            format!("cannot serialise: {e}"),
        )
    })
}

/// The onMetaData fields onair writes and reads. Absent fields are `None`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OnMetaData {
    /// Video width in pixels.
    pub width: Option<f64>,
    /// Video height in pixels.
    pub height: Option<f64>,
    /// Frames per second.
    pub framerate: Option<f64>,
    /// Video bitrate, kbps.
    pub videodatarate: Option<f64>,
    /// FLV video codec id (7 = AVC).
    pub videocodecid: Option<f64>,
    /// Audio bitrate, kbps.
    pub audiodatarate: Option<f64>,
    /// Audio sample rate, Hz.
    pub audiosamplerate: Option<f64>,
    /// Audio sample size, bits.
    pub audiosamplesize: Option<f64>,
    /// Two channels.
    pub stereo: Option<bool>,
    /// FLV sound format (10 = AAC).
    pub audiocodecid: Option<f64>,
    /// Duration in seconds (0 for live).
    pub duration: Option<f64>,
    /// Writing software.
    pub encoder: Option<String>,
}

impl OnMetaData {
    /// As a script tag body (`onMetaData` + ECMA array).
    pub fn to_script(&self) -> Result<Bytes, FlvError> {
        let mut m = HashMap::new();
        let nums = [
            ("width", self.width),
            ("height", self.height),
            ("framerate", self.framerate),
            ("videodatarate", self.videodatarate),
            ("videocodecid", self.videocodecid),
            ("audiodatarate", self.audiodatarate),
            ("audiosamplerate", self.audiosamplerate),
            ("audiosamplesize", self.audiosamplesize),
            ("audiocodecid", self.audiocodecid),
            ("duration", self.duration),
        ];
        for (k, v) in nums {
            if let Some(v) = v {
                m.insert(k.to_string(), Amf0Value::Number(v));
            }
        }
        if let Some(s) = self.stereo {
            m.insert("stereo".into(), Amf0Value::Boolean(s));
        }
        if let Some(e) = &self.encoder {
            m.insert("encoder".into(), Amf0Value::Utf8String(e.clone()));
        }
        ScriptData {
            name: "onMetaData".into(),
            values: vec![Amf0Value::Object(m)],
        }
        .encode()
    }

    /// Reads the known fields of an `onMetaData` (or `@setDataFrame` + `onMetaData`) tag.
    pub fn from_script(s: &ScriptData) -> Option<Self> {
        let props = match s.name.as_str() {
            "onMetaData" => s.properties()?,
            "@setDataFrame" => match (s.values.first(), s.values.get(1)) {
                (Some(Amf0Value::Utf8String(n)), Some(Amf0Value::Object(m)))
                    if n == "onMetaData" =>
                {
                    m
                }
                _ => return None,
            },
            _ => return None,
        };
        let num = |k: &str| match props.get(k) {
            Some(Amf0Value::Number(n)) => Some(*n),
            _ => None,
        };
        Some(Self {
            width: num("width"),
            height: num("height"),
            framerate: num("framerate"),
            videodatarate: num("videodatarate"),
            videocodecid: num("videocodecid"),
            audiodatarate: num("audiodatarate"),
            audiosamplerate: num("audiosamplerate"),
            audiosamplesize: num("audiosamplesize"),
            stereo: match props.get("stereo") {
                Some(Amf0Value::Boolean(b)) => Some(*b),
                _ => None,
            },
            audiocodecid: num("audiocodecid"),
            duration: num("duration"),
            encoder: match props.get("encoder") {
                Some(Amf0Value::Utf8String(s)) => Some(s.clone()),
                _ => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_metadata_round_trip_as_ecma_array() {
        let md = OnMetaData {
            width: Some(1280.0),
            height: Some(720.0),
            framerate: Some(30.0),
            videocodecid: Some(7.0),
            stereo: Some(false),
            encoder: Some("onair".into()),
            ..Default::default()
        };
        let body = md.to_script().unwrap();
        assert_eq!(&body[..13], b"\x02\x00\x0aonMetaData");
        assert_eq!(body[13], 0x08, "ECMA array marker");
        let parsed = ScriptData::parse(&body).unwrap();
        assert_eq!(OnMetaData::from_script(&parsed).unwrap(), md);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut data = b"\x02\x00\x01x".to_vec();
        for _ in 0..10_000 {
            data.extend_from_slice(b"\x03\x00\x01k");
        }
        let e = ScriptData::parse(&data).unwrap_err();
        assert!(e.to_string().contains("nesting deeper than 32"), "{e}");
    }

    #[test]
    fn malformed_scripts() {
        for data in [
            &b""[..],
            b"\x00\x00",
            b"\x02\x00\x05ab",
            b"\x0b",
            b"\x00\x3f\xf0\x00\x00\x00\x00\x00\x00",
            b"\x02\x00\x01x\x03\x00\x01k\x00\x00\x00\x07",
        ] {
            assert!(ScriptData::parse(data).is_err(), "{data:02x?}");
        }
    }
}
