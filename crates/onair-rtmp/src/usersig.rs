//! UserSig (the seeds' "assign UserSig" job): Tencent's TLSSigAPIv2 signature, so a backend
//! built on onair hands out the same UserSig its LiteAV and TRTC clients expect, and a server
//! can check one. Facts (in `docs/server-rules.md`):
//! - The signed content is the lines `TLS.identifier:<user>`, `TLS.sdkappid:<n>`,
//!   `TLS.time:<unix s>`, `TLS.expire:<s>` (and `TLS.userbuf:<base64>` when a user buffer is
//!   carried), each ended by `\n`; `TLS.sig` is base64(HMAC-SHA256(key, content)).
//! - The UserSig is a JSON object with `TLS.ver` "2.0", those fields and `TLS.sig`,
//!   zlib-compressed, in base64 with `+` `/` `=` written as `*` `-` `_` (URL-safe as is).
//!
//! Time is an input: generation and verification take `now` (Unix seconds). Verification
//! treats the UserSig as hostile: its size, the decompressed size and every field are checked,
//! and the signature is compared in constant time.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::io::Read;

/// TLSSigAPIv2's default validity: 180 days.
pub const DEFAULT_EXPIRE_SECONDS: u64 = 180 * 86_400;

/// The longest UserSig accepted, and the most JSON one may inflate to.
const MAX_USERSIG_LEN: usize = 8 * 1024;
const MAX_JSON_LEN: usize = 16 * 1024;

/// Why a UserSig does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserSigError {
    /// Not base64, not zlib, not JSON, too long, or a field missing or of the wrong type.
    #[error("malformed UserSig: {0}")]
    Malformed(String),
    /// Signed for another SDKAppID or user.
    #[error("UserSig is for {field} {found:?}, not {expected:?}")]
    Mismatch {
        /// `TLS.sdkappid` or `TLS.identifier`.
        field: &'static str,
        /// What the UserSig says.
        found: String,
        /// What was asked for.
        expected: String,
    },
    /// `TLS.sig` is not the HMAC of the fields under this key.
    #[error("UserSig signature does not match the key")]
    BadSignature,
    /// `TLS.time + TLS.expire` has passed.
    #[error("UserSig expired at {expired_at} (now {now})")]
    Expired {
        /// Unix seconds it expired at.
        expired_at: u64,
        /// Unix seconds now.
        now: u64,
    },
}

/// What a valid UserSig says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSig {
    /// The application.
    pub sdkappid: u64,
    /// The user.
    pub identifier: String,
    /// Signing time, Unix seconds.
    pub time: u64,
    /// Validity, seconds from `time`.
    pub expire: u64,
    /// The user buffer, when one is carried (TRTC's privilege map).
    pub userbuf: Option<Vec<u8>>,
}

fn content(
    sdkappid: u64,
    identifier: &str,
    time: u64,
    expire: u64,
    userbuf: Option<&str>,
) -> String {
    let mut s = format!(
        "TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{time}\nTLS.expire:{expire}\n"
    );
    if let Some(b) = userbuf {
        s.push_str(&format!("TLS.userbuf:{b}\n"));
    }
    s
}

fn mac(key: &str, content: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    m.update(content.as_bytes());
    m
}

/// Tencent's base64 variant: standard base64 with `+` `/` `=` replaced by `*` `-` `_`.
fn encode_url(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(data)
        .chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            c => c,
        })
        .collect()
}

fn decode_url(text: &str) -> Result<Vec<u8>, UserSigError> {
    let standard: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '*' => '+',
            '-' => '/',
            '_' => '=',
            c => c,
        })
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(standard)
        .map_err(|e| UserSigError::Malformed(format!("not base64: {e}")))
}

/// A UserSig for `identifier` of `sdkappid`, signed with `key` at `now`, valid `expire`
/// seconds (TLSSigAPIv2 `genUserSig`).
pub fn gen_usersig(sdkappid: u64, key: &str, identifier: &str, expire: u64, now: u64) -> String {
    gen_usersig_with_userbuf(sdkappid, key, identifier, expire, now, None)
}

/// [`gen_usersig`] carrying a user buffer (TLSSigAPIv2 `genSigWithUserbuf`, TRTC's
/// privilege map).
pub fn gen_usersig_with_userbuf(
    sdkappid: u64,
    key: &str,
    identifier: &str,
    expire: u64,
    now: u64,
    userbuf: Option<&[u8]>,
) -> String {
    let userbuf = userbuf.map(|b| base64::engine::general_purpose::STANDARD.encode(b));
    let sig = base64::engine::general_purpose::STANDARD.encode(
        mac(
            key,
            &content(sdkappid, identifier, now, expire, userbuf.as_deref()),
        )
        .finalize()
        .into_bytes(),
    );
    let mut doc = json!({
        "TLS.ver": "2.0",
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire,
        "TLS.time": now,
        "TLS.sig": sig,
    });
    if let Some(b) = userbuf {
        doc["TLS.userbuf"] = Value::String(b);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = std::io::Write::write_all(&mut z, doc.to_string().as_bytes());
    encode_url(&z.finish().unwrap_or_default())
}

fn field<'a>(doc: &'a Value, name: &str) -> Result<&'a Value, UserSigError> {
    doc.get(name)
        .ok_or_else(|| UserSigError::Malformed(format!("no {name}")))
}

fn number(doc: &Value, name: &str) -> Result<u64, UserSigError> {
    let v = field(doc, name)?;
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| UserSigError::Malformed(format!("{name} is not a whole number: {v}")))
}

fn text<'a>(doc: &'a Value, name: &str) -> Result<&'a str, UserSigError> {
    let v = field(doc, name)?;
    v.as_str()
        .ok_or_else(|| UserSigError::Malformed(format!("{name} is not a string: {v}")))
}

/// Checks a UserSig for `identifier` of `sdkappid` against `key` at `now`.
pub fn verify_usersig(
    sdkappid: u64,
    key: &str,
    identifier: &str,
    usersig: &str,
    now: u64,
) -> Result<UserSig, UserSigError> {
    if usersig.len() > MAX_USERSIG_LEN {
        return Err(UserSigError::Malformed(format!(
            "{} bytes, more than {MAX_USERSIG_LEN}",
            usersig.len()
        )));
    }
    let compressed = decode_url(usersig)?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice())
        .take(MAX_JSON_LEN as u64 + 1)
        .read_to_end(&mut json)
        .map_err(|e| UserSigError::Malformed(format!("not zlib: {e}")))?;
    if json.len() > MAX_JSON_LEN {
        return Err(UserSigError::Malformed(format!(
            "inflates past {MAX_JSON_LEN} bytes"
        )));
    }
    let doc: Value = serde_json::from_slice(&json)
        .map_err(|e| UserSigError::Malformed(format!("not JSON: {e}")))?;
    let ver = text(&doc, "TLS.ver")?;
    if ver != "2.0" {
        return Err(UserSigError::Malformed(format!(
            "TLS.ver {ver:?}; only 2.0 is read"
        )));
    }
    let found_app = number(&doc, "TLS.sdkappid")?;
    if found_app != sdkappid {
        return Err(UserSigError::Mismatch {
            field: "TLS.sdkappid",
            found: found_app.to_string(),
            expected: sdkappid.to_string(),
        });
    }
    let found_user = text(&doc, "TLS.identifier")?;
    if found_user != identifier {
        return Err(UserSigError::Mismatch {
            field: "TLS.identifier",
            found: found_user.to_string(),
            expected: identifier.to_string(),
        });
    }
    let time = number(&doc, "TLS.time")?;
    let expire = number(&doc, "TLS.expire")?;
    let userbuf = match doc.get("TLS.userbuf") {
        None => None,
        Some(_) => Some(text(&doc, "TLS.userbuf")?),
    };
    let sig = base64::engine::general_purpose::STANDARD
        .decode(text(&doc, "TLS.sig")?)
        .map_err(|e| UserSigError::Malformed(format!("TLS.sig is not base64: {e}")))?;
    mac(key, &content(sdkappid, identifier, time, expire, userbuf))
        .verify_slice(&sig)
        .map_err(|_| UserSigError::BadSignature)?;
    let expired_at = time.saturating_add(expire);
    if now > expired_at {
        return Err(UserSigError::Expired { expired_at, now });
    }
    let userbuf = match userbuf {
        Some(b) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|e| UserSigError::Malformed(format!("TLS.userbuf: {e}")))?,
        ),
        None => None,
    };
    Ok(UserSig {
        sdkappid,
        identifier: identifier.to_string(),
        time,
        expire,
        userbuf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const NOW: u64 = 1_796_000_000;

    #[test]
    fn signs_the_tlssigapiv2_content_and_verifies_it_back() {
        let sig = gen_usersig(1_400_000_000, KEY, "xiaojun", 86_400, NOW);
        assert!(sig
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "*-_".contains(c)));
        let ok = verify_usersig(1_400_000_000, KEY, "xiaojun", &sig, NOW + 86_400).unwrap();
        assert_eq!((ok.time, ok.expire, ok.userbuf), (NOW, 86_400, None));
        // The HMAC is the one over Tencent's content lines (computed independently here).
        let json = {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(decode_url(&sig).unwrap().as_slice())
                .read_to_end(&mut out)
                .unwrap();
            serde_json::from_slice::<Value>(&out).unwrap()
        };
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(KEY.as_bytes()).unwrap();
        m.update(
            format!("TLS.identifier:xiaojun\nTLS.sdkappid:1400000000\nTLS.time:{NOW}\nTLS.expire:86400\n")
                .as_bytes(),
        );
        let expected = base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes());
        assert_eq!(json["TLS.sig"], expected);
        assert_eq!(json["TLS.ver"], "2.0");
    }

    #[test]
    fn refuses_what_does_not_hold() {
        let sig = gen_usersig(1_400_000_000, KEY, "alice", 60, NOW);
        assert_eq!(
            verify_usersig(1_400_000_000, "another key", "alice", &sig, NOW),
            Err(UserSigError::BadSignature)
        );
        assert!(matches!(
            verify_usersig(1_400_000_000, KEY, "bob", &sig, NOW),
            Err(UserSigError::Mismatch {
                field: "TLS.identifier",
                ..
            })
        ));
        assert!(matches!(
            verify_usersig(1_400_000_001, KEY, "alice", &sig, NOW),
            Err(UserSigError::Mismatch {
                field: "TLS.sdkappid",
                ..
            })
        ));
        assert_eq!(
            verify_usersig(1_400_000_000, KEY, "alice", &sig, NOW + 61),
            Err(UserSigError::Expired {
                expired_at: NOW + 60,
                now: NOW + 61
            })
        );
        for garbage in ["", "!!!", "eJw_", &"A".repeat(MAX_USERSIG_LEN + 1)] {
            assert!(matches!(
                verify_usersig(1, KEY, "alice", garbage, NOW),
                Err(UserSigError::Malformed(_))
            ));
        }
        // A zlib bomb stops at the cap.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut z, &vec![b' '; 1 << 20]).unwrap();
        let bomb = encode_url(&z.finish().unwrap());
        assert!(matches!(
            verify_usersig(1, KEY, "alice", &bomb, NOW),
            Err(UserSigError::Malformed(m)) if m.contains("inflates")
        ));
    }

    #[test]
    fn a_user_buffer_is_signed_and_returned() {
        let sig = gen_usersig_with_userbuf(1_400_000_000, KEY, "u", 600, NOW, Some(b"abc"));
        let ok = verify_usersig(1_400_000_000, KEY, "u", &sig, NOW).unwrap();
        assert_eq!(ok.userbuf.as_deref(), Some(&b"abc"[..]));
    }
}
