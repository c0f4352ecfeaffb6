//! AMF0 command messages (RTMP 1.0 §7.2, see `docs/rtmp.md`): a name, a transaction id, a
//! command object and optional arguments. Decoding first runs onair-flv's bounded AMF0 scan
//! (nesting capped at `onair_flv::metadata::MAX_AMF_DEPTH`, unknown markers refused), then
//! rml_amf0, so hostile nesting cannot exhaust the stack.

use bytes::Bytes;
use rml_amf0::Amf0Value;
use std::collections::HashMap;

/// One command.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// Command name (`connect`, `createStream`, `publish`, `_result`, `onStatus`...).
    pub name: String,
    /// Transaction id (0 for commands that expect no answer).
    pub transaction_id: f64,
    /// The command object (`Null` when absent).
    pub object: Amf0Value,
    /// Further arguments.
    pub args: Vec<Amf0Value>,
}

impl Command {
    /// A command with the given parts.
    pub fn new(name: &str, transaction_id: f64, object: Amf0Value, args: Vec<Amf0Value>) -> Self {
        Self {
            name: name.to_string(),
            transaction_id,
            object,
            args,
        }
    }

    /// Decodes an AMF0 command body; the error says why.
    pub fn decode(body: &[u8]) -> Result<Self, String> {
        onair_flv::metadata::check_amf0(body).map_err(|e| e.to_string())?;
        let mut values = rml_amf0::deserialize(&mut std::io::Cursor::new(body))
            .map_err(|e| e.to_string())?
            .into_iter();
        let name = match values.next() {
            Some(Amf0Value::Utf8String(s)) => s,
            Some(v) => return Err(format!("command name is {v:?}, expected a string")),
            None => return Err("empty command".into()),
        };
        let transaction_id = match values.next() {
            Some(Amf0Value::Number(n)) => n,
            None => 0.0,
            Some(v) => {
                return Err(format!(
                    "transaction id of {name} is {v:?}, expected a number"
                ))
            }
        };
        let object = values.next().unwrap_or(Amf0Value::Null);
        Ok(Self {
            name,
            transaction_id,
            object,
            args: values.collect(),
        })
    }

    /// The AMF0 body.
    pub fn encode(&self) -> Bytes {
        let mut values = Vec::with_capacity(3 + self.args.len());
        values.push(Amf0Value::Utf8String(self.name.clone()));
        values.push(Amf0Value::Number(self.transaction_id));
        values.push(self.object.clone());
        values.extend(self.args.iter().cloned());
        // rml_amf0 fails only on strings longer than 65535 bytes, which onair never builds
        // from peer data; an empty body would be refused by the peer, never a panic here.
        Bytes::from(rml_amf0::serialize(&values).unwrap_or_default())
    }

    /// The string argument at `i` (e.g. the stream name of `publish` / `play`).
    pub fn arg_str(&self, i: usize) -> Option<&str> {
        match self.args.get(i) {
            Some(Amf0Value::Utf8String(s)) => Some(s),
            _ => None,
        }
    }

    /// The first object among the arguments (the info object of `onStatus` / `_result`).
    pub fn info(&self) -> Option<&HashMap<String, Amf0Value>> {
        self.args.iter().find_map(|a| match a {
            Amf0Value::Object(m) => Some(m),
            _ => None,
        })
    }

    /// A string property of the info object (`code`, `level`, `description`).
    pub fn info_str(&self, key: &str) -> Option<&str> {
        match self.info()?.get(key) {
            Some(Amf0Value::Utf8String(s)) => Some(s),
            _ => None,
        }
    }
}

/// A string property of an AMF0 object value.
pub fn prop_str<'a>(object: &'a Amf0Value, key: &str) -> Option<&'a str> {
    match object {
        Amf0Value::Object(m) => match m.get(key) {
            Some(Amf0Value::Utf8String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// Builds an AMF0 object from pairs.
pub fn object<I, K>(pairs: I) -> Amf0Value
where
    I: IntoIterator<Item = (K, Amf0Value)>,
    K: Into<String>,
{
    Amf0Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// An AMF0 string value.
pub fn string(s: &str) -> Amf0Value {
    Amf0Value::Utf8String(s.to_string())
}

/// The `fourCcList` of a connect command object (Enhanced RTMP v1): the strings of its strict
/// array (an ECMA array or object of strings is also read, as some encoders send one).
pub fn fourcc_list(object: &Amf0Value) -> Vec<String> {
    let Amf0Value::Object(m) = object else {
        return Vec::new();
    };
    match m.get("fourCcList") {
        Some(Amf0Value::StrictArray(v)) => v
            .iter()
            .filter_map(|x| match x {
                Amf0Value::Utf8String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        Some(Amf0Value::Object(o)) => o
            .values()
            .filter_map(|x| match x {
                Amf0Value::Utf8String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_accessors() {
        let c = Command::new(
            "onStatus",
            0.0,
            Amf0Value::Null,
            vec![object([
                ("code", string("NetStream.Publish.Start")),
                ("level", string("status")),
            ])],
        );
        let d = Command::decode(&c.encode()).unwrap();
        assert_eq!(d, c);
        assert_eq!(d.info_str("code"), Some("NetStream.Publish.Start"));
    }

    #[test]
    fn hostile_bodies_are_errors() {
        assert!(Command::decode(&[]).is_err());
        assert!(Command::decode(&[0x00, 0, 0, 0, 0, 0, 0, 0, 0]).is_err()); // a number first
        let mut deep = Vec::new();
        for _ in 0..1000 {
            deep.extend_from_slice(&[0x0a, 0, 0, 0, 1]);
        }
        assert!(Command::decode(&deep).is_err());
        // Two values only: accepted, object defaults to null.
        let c = Command::decode(b"\x02\x00\x01a\x00\x3f\xf0\x00\x00\x00\x00\x00\x00").unwrap();
        assert_eq!(c.object, Amf0Value::Null);
    }

    #[test]
    fn fourcc_list_is_read() {
        let o = object([(
            "fourCcList",
            Amf0Value::StrictArray(vec![string("hvc1"), string("av01")]),
        )]);
        assert_eq!(fourcc_list(&o), ["hvc1", "av01"]);
    }
}
