//! URL and API signatures (spec "URLs and signatures"): the push URL's
//! `txSecret = md5(key + stream + txTime)` with txTime the expiry in upper-case hex, and the
//! server API's `sign = md5(key + t)` with t the expiry in decimal.

use md5::{Digest, Md5};

fn md5_hex(input: &str) -> String {
    Md5::digest(input.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// txTime for an expiry in Unix seconds: upper-case hex.
pub fn tx_time(expiry_unix: u64) -> String {
    format!("{expiry_unix:X}")
}

/// txSecret = lowercase hex md5(key + stream + txTime).
pub fn tx_secret(key: &str, stream: &str, tx_time: &str) -> String {
    md5_hex(&format!("{key}{stream}{tx_time}"))
}

/// The query `txSecret=..&txTime=..` for a push URL of `stream` expiring at `expiry_unix`.
pub fn push_query(key: &str, stream: &str, expiry_unix: u64) -> String {
    let t = tx_time(expiry_unix);
    format!("txSecret={}&txTime={t}", tx_secret(key, stream, &t))
}

/// A signed push URL: `rtmp://<domain>/<app>/<stream>?txSecret=..&txTime=..`.
pub fn signed_push_url(base: &str, app: &str, stream: &str, key: &str, expiry_unix: u64) -> String {
    format!(
        "{}/{app}/{stream}?{}",
        base.trim_end_matches('/'),
        push_query(key, stream, expiry_unix)
    )
}

/// Server API / callback sign = lowercase hex md5(key + t).
pub fn api_sign(key: &str, t: &str) -> String {
    md5_hex(&format!("{key}{t}"))
}

/// Whether `tx_secret` and `tx_time` authorise pushing `stream` at `now_unix` (constant-time
/// comparison is unnecessary for md5 hex of a shared secret over a LAN API, but expiry is checked).
pub fn verify_push(
    key: &str,
    stream: &str,
    tx_secret_given: &str,
    tx_time_given: &str,
    now_unix: u64,
) -> Result<(), &'static str> {
    let expiry = u64::from_str_radix(tx_time_given, 16).map_err(|_| "txTime is not hex")?;
    if tx_secret(key, stream, tx_time_given) != tx_secret_given.to_ascii_lowercase() {
        return Err("txSecret invalid");
    }
    if expiry < now_unix {
        return Err("txTime expired");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_push_vector() {
        assert_eq!(
            tx_secret("e12c46f2612d5106e2034781ab261ca3", "test", "5C271099"),
            "f85a2ab363fe4deaffef9754d79da6fe"
        );
        assert_eq!(tx_time(0x5C27_1099), "5C271099");
        assert_eq!(
            push_query("e12c46f2612d5106e2034781ab261ca3", "test", 0x5C27_1099),
            "txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099"
        );
    }

    #[test]
    fn spec_api_vectors() {
        let key = "5d41402abc4b2a76b9719d911017c592";
        assert_eq!(
            api_sign(key, "1471850187"),
            "b17971b51ba0fe5916ddcd96692e9fb3"
        );
        assert_eq!(
            api_sign(key, "1626839220"),
            "5ee8ca6c28cbe415b40352969cdf8249"
        );
    }

    #[test]
    fn verification() {
        let key = "e12c46f2612d5106e2034781ab261ca3";
        let s = "f85a2ab363fe4deaffef9754d79da6fe";
        assert_eq!(verify_push(key, "test", s, "5C271099", 0x5C27_1000), Ok(()));
        assert_eq!(
            verify_push(key, "test", s, "5C271099", 0x5C27_1100),
            Err("txTime expired")
        );
        assert_eq!(
            verify_push(key, "other", s, "5C271099", 0),
            Err("txSecret invalid")
        );
        assert_eq!(
            verify_push(key, "test", s, "zz", 0),
            Err("txTime is not hex")
        );
        assert_eq!(
            signed_push_url("rtmp://h/", "live", "test", key, 0x5C27_1099),
            "rtmp://h/live/test?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099"
        );
    }
}
