//! The moderation hook, onair's counterpart of the seeds' porn-detection callback: every
//! screenshot (JPEG) is POSTed to `moderation_url` (`?stream_id=<stream>&t=..&sign=..`, signed
//! like the callbacks). A reply `{"ban": true}` bans the stream as `Live_Channel_SetStatus` 0
//! does (the push is cut, new pushes refused until unbanned) and raises callback event
//! [`event::MODERATION_BAN`](crate::callback::event::MODERATION_BAN) with the picture's URL
//! and the reply's `reason`. Any other reply, or no reply within 5 s, leaves the stream alone
//! (logged): moderation failing open keeps streams up, as a failed callback does.

use serde_json::Value;
use std::time::Duration;

/// Asks the moderation service about screenshots.
#[derive(Debug, Clone)]
pub struct Moderator {
    url: String,
    key: String,
    client: reqwest::Client,
}

/// What the service said about one picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Leave the stream alone.
    Pass,
    /// Ban the stream, with the service's reason (may be empty).
    Ban(String),
}

impl Moderator {
    /// A moderator posting to `url`, signing with `key`.
    pub fn new(url: &str, key: &str) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("moderation client: {e}"))?;
        Ok(Self {
            url: url.to_string(),
            key: key.to_string(),
            client,
        })
    }

    /// Posts one screenshot of `stream`; the verdict, or why there is none.
    pub async fn check(
        &self,
        stream: &str,
        jpeg: Vec<u8>,
        now_unix: i64,
    ) -> Result<Verdict, String> {
        let t = (now_unix + crate::callback::CALLBACK_VALIDITY_S).to_string();
        let sign = onair_rtmp::sign::api_sign(&self.key, &t);
        let reply = self
            .client
            .post(&self.url)
            .query(&[("stream_id", stream), ("t", &t), ("sign", &sign)])
            .header(reqwest::header::CONTENT_TYPE, "image/jpeg")
            .body(jpeg)
            .send()
            .await
            .map_err(|e| format!("moderation request: {e}"))?;
        if !reply.status().is_success() {
            return Err(format!("moderation service answered {}", reply.status()));
        }
        let body = reply
            .bytes()
            .await
            .map_err(|e| format!("moderation reply: {e}"))?;
        Ok(verdict(&body))
    }
}

/// Reads a reply: `{"ban": true, "reason": "..."}` bans; anything else passes.
pub fn verdict(body: &[u8]) -> Verdict {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v["ban"] == true => Verdict::Ban(
            v["reason"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect(),
        ),
        _ => Verdict::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_ban_bans() {
        assert_eq!(
            verdict(br#"{"ban": true, "reason": "nudity"}"#),
            Verdict::Ban("nudity".into())
        );
        assert_eq!(verdict(br#"{"ban": true}"#), Verdict::Ban(String::new()));
        for pass in [
            &br#"{"ban": false}"#[..],
            br#"{"ban": "true"}"#,
            b"yes",
            b"",
            br#"[true]"#,
        ] {
            assert_eq!(
                verdict(pass),
                Verdict::Pass,
                "{:?}",
                String::from_utf8_lossy(pass)
            );
        }
    }
}
