//! Stream URLs: `scheme://host[:port]/app[/...]/stream[?query]` for rtmp, rtmps, http and https
//! (HTTP-FLV). The last path segment is the stream name; everything before it is the app. The
//! query string is kept, so `?txSecret=..&txTime=..` reaches the server in both the tcUrl and the
//! publish/play name.

use crate::error::RtmpError;
use std::fmt;

/// The transport a URL asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    /// RTMP over TCP (default port 1935).
    Rtmp,
    /// RTMP over TLS (default port 443).
    Rtmps,
    /// HTTP-FLV (default port 80).
    Http,
    /// HTTP-FLV over TLS (default port 443).
    Https,
}

/// A parsed stream URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamUrl {
    /// The scheme.
    pub scheme: Scheme,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (the scheme's default when absent).
    pub port: u16,
    /// Application path, e.g. `live` or `live/sub`.
    pub app: String,
    /// Stream name without the query, e.g. `test`.
    pub stream: String,
    /// The query string without `?`, if any.
    pub query: Option<String>,
    original: String,
}

impl StreamUrl {
    /// Parses `url`; errors name what is wrong and what is expected.
    pub fn parse(url: &str) -> Result<Self, RtmpError> {
        let bad = |why: &str| {
            RtmpError::InvalidUrl(format!(
                "{url:?}: {why}; expected scheme://host[:port]/app/stream[?query]"
            ))
        };
        let parsed = url::Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
        let scheme = match parsed.scheme() {
            "rtmp" => Scheme::Rtmp,
            "rtmps" => Scheme::Rtmps,
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => {
                return Err(bad(&format!(
                    "unsupported scheme {other:?} (rtmp, rtmps, http, https)"
                )))
            }
        };
        let host = match parsed.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(h) => h.to_string(),
            None => return Err(bad("no host")),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let default_port = match scheme {
            Scheme::Rtmp => 1935,
            Scheme::Rtmps | Scheme::Https => 443,
            Scheme::Http => 80,
        };
        let port = parsed.port().unwrap_or(default_port);
        let segments: Vec<&str> = parsed.path().split('/').filter(|s| !s.is_empty()).collect();
        let http = matches!(scheme, Scheme::Http | Scheme::Https);
        // RTMP needs an app and a stream; an HTTP URL is fetched as given, so any path names
        // a stream (a CDN's `/a/b/c.flv?auth=..`, a bare `/live.flv`).
        if segments.len() < if http { 1 } else { 2 } {
            return Err(bad(if http {
                "the URL has no path"
            } else {
                "the path needs an app and a stream name"
            }));
        }
        let (stream, app) = segments
            .split_last()
            .map(|(s, a)| (s.to_string(), a.join("/")))
            .ok_or_else(|| bad("empty path"))?;
        let stream = if http {
            match stream.strip_suffix(".flv") {
                Some("") => return Err(bad("the stream name before .flv is empty")),
                Some(s) => s.to_string(),
                None => stream,
            }
        } else {
            stream
        };
        Ok(Self {
            scheme,
            host,
            port,
            app,
            stream,
            query: parsed.query().filter(|q| !q.is_empty()).map(str::to_string),
            original: url.trim().to_string(),
        })
    }

    /// `true` for rtmp:// and rtmps://.
    pub fn is_rtmp(&self) -> bool {
        matches!(self.scheme, Scheme::Rtmp | Scheme::Rtmps)
    }

    /// `true` for rtmps:// and https://.
    pub fn is_tls(&self) -> bool {
        matches!(self.scheme, Scheme::Rtmps | Scheme::Https)
    }

    fn host_for_url(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// The tcUrl of the RTMP connect command, with the query kept.
    pub fn tc_url(&self) -> String {
        let scheme = if self.scheme == Scheme::Rtmps {
            "rtmps"
        } else {
            "rtmp"
        };
        let mut s = format!(
            "{scheme}://{}:{}/{}",
            self.host_for_url(),
            self.port,
            self.app
        );
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        s
    }

    /// The name for publish/play: the stream with its query.
    pub fn stream_with_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.stream),
            None => self.stream.clone(),
        }
    }

    /// `host:port` to connect to.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host_for_url(), self.port)
    }
}

impl fmt::Display for StreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_url_with_signature() {
        let u =
            StreamUrl::parse("rtmp://example.com/live/test?txSecret=f85a&txTime=5C271099").unwrap();
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port),
            (Scheme::Rtmp, "example.com", 1935)
        );
        assert_eq!((u.app.as_str(), u.stream.as_str()), ("live", "test"));
        assert_eq!(
            u.tc_url(),
            "rtmp://example.com:1935/live?txSecret=f85a&txTime=5C271099"
        );
        assert_eq!(u.stream_with_query(), "test?txSecret=f85a&txTime=5C271099");
    }

    #[test]
    fn ports_apps_and_schemes() {
        let u = StreamUrl::parse("rtmps://127.0.0.1:4443/app/inst/s1").unwrap();
        assert_eq!(
            (u.port, u.app.as_str(), u.stream.as_str()),
            (4443, "app/inst", "s1")
        );
        assert!(u.is_tls() && u.is_rtmp());
        let u = StreamUrl::parse("http://h:8000/live/s.flv").unwrap();
        assert_eq!(
            (u.scheme, u.stream.as_str(), u.port),
            (Scheme::Http, "s", 8000)
        );
        let u = StreamUrl::parse("https://h/live/s.flv?a=1").unwrap();
        assert_eq!((u.port, u.query.as_deref()), (443, Some("a=1")));
        let u = StreamUrl::parse("rtmp://[::1]:1936/live/x").unwrap();
        assert_eq!(
            (u.host.as_str(), u.authority()),
            ("::1", "[::1]:1936".to_string())
        );
    }

    #[test]
    fn any_http_path_and_rtmp_instances_and_queries() {
        for (url, app, stream) in [
            ("http://host/live.flv", "", "live"),
            ("https://cdn/a/b/c.flv?auth=x", "a/b", "c"),
            ("http://host/live/s", "live", "s"),
            ("http://host/play?id=7", "", "play"),
            ("rtmp://host/app/inst/stream?k=v", "app/inst", "stream"),
        ] {
            let u = StreamUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!((u.app.as_str(), u.stream.as_str()), (app, stream), "{url}");
        }
        let u = StreamUrl::parse("rtmp://host/app/inst/stream?k=v").unwrap();
        assert_eq!(u.query.as_deref(), Some("k=v"));
        assert_eq!(u.to_string(), "rtmp://host/app/inst/stream?k=v");
    }

    #[test]
    fn malformed_urls_are_clear_errors() {
        for url in [
            "",
            "rtmp://",
            "rtmp://host",
            "rtmp://host/live",
            "rtmp://host/live/",
            "ftp://host/live/s",
            "http://host/live/.flv",
            "http://host/",
            "not a url",
            "rtmp://host:99999/live/s",
        ] {
            let e = StreamUrl::parse(url).unwrap_err();
            assert!(matches!(e, RtmpError::InvalidUrl(_)), "{url}: {e}");
            assert_eq!(e.code(), onair_core::V2TXLiveCode::ErrorInvalidParameter);
        }
    }
}
