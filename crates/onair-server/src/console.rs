//! The web pages `onair serve` shows a person: the console at `/` (channels, live figures,
//! screenshots, recordings, actions through the management API) and the watch page at
//! `/watch/<app>/<stream>` (HTTP-FLV through WebCodecs, HLS where WebCodecs is missing). Their
//! HTML, JavaScript and CSS are compiled into the binary from `crates/onair-server/web/`:
//! nothing is fetched from elsewhere at run time, and a strict Content-Security-Policy says so
//! to the browser. `/console/config` tells the console whether requests must be signed (an API
//! key is set) and whether it may act (a key is set, or `console_admin`).

use crate::config::ServerConfig;
use serde_json::json;

/// One page or asset: content type and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The Content-Type header.
    pub content_type: &'static str,
    /// The body.
    pub body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The Content-Security-Policy of the pages: only this origin (scripts, styles, images,
/// fetches) and blob/data images.
pub const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The page or asset at `path`, `None` when `path` is not one of them.
pub fn page(path: &str) -> Option<Page> {
    let (content_type, body) = match path {
        "/" | "/console" => (HTML, include_str!("../web/console.html")),
        "/assets/console.js" => (JS, include_str!("../web/console.js")),
        "/assets/watch.js" => (JS, include_str!("../web/watch.js")),
        "/assets/md5.js" => (JS, include_str!("../web/md5.js")),
        "/assets/onair.css" => (CSS, include_str!("../web/onair.css")),
        p if is_watch_path(p) => (HTML, include_str!("../web/watch.html")),
        _ => return None,
    };
    Some(Page { content_type, body })
}

/// `/watch/<app>/<stream>`.
fn is_watch_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/watch/") else {
        return false;
    };
    let mut parts = rest.split('/');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(app), Some(stream), None) if !app.is_empty() && !stream.is_empty()
    )
}

/// `/console/config`: `{"signed": bool, "admin": bool, "hls": bool, "appid": string|null}`
/// (the console sends `cmd` = appid when the server checks it).
pub fn config_json(config: &ServerConfig) -> serde_json::Value {
    json!({
        "signed": config.api_key.is_some(),
        "admin": config.api_key.is_some() || config.console_admin,
        "hls": config.hls,
        "appid": config.appid,
    })
}

/// The watch page of a stream, as a path on the HTTP origin.
pub fn watch_path(app: &str, stream: &str) -> String {
    format!("/watch/{app}/{stream}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_assets_are_found_and_nothing_else() {
        assert_eq!(page("/").unwrap().content_type, HTML);
        assert!(page("/").unwrap().body.contains("/assets/console.js"));
        assert!(page("/watch/live/a")
            .unwrap()
            .body
            .contains("/assets/watch.js"));
        assert_eq!(page("/assets/watch.js").unwrap().content_type, JS);
        for missing in [
            "/watch/live",
            "/watch/live/",
            "/watch//a",
            "/watch/a/b/c",
            "/assets/x.js",
            "/assets/../src/lib.rs",
        ] {
            assert!(page(missing).is_none(), "{missing}");
        }
    }

    #[test]
    fn the_pages_load_nothing_from_elsewhere() {
        for p in [
            "/",
            "/watch/live/a",
            "/assets/console.js",
            "/assets/watch.js",
            "/assets/onair.css",
        ] {
            let body = page(p).unwrap().body;
            assert!(
                !body.contains("http://") && !body.contains("https://"),
                "{p} links outside"
            );
        }
    }

    #[test]
    fn admin_follows_the_key_or_the_flag() {
        let mut c = ServerConfig::new("/tmp/x");
        assert_eq!(config_json(&c)["admin"], false);
        c.console_admin = true;
        assert_eq!(config_json(&c)["admin"], true);
        c.console_admin = false;
        c.api_key = Some("k".into());
        assert_eq!(config_json(&c)["signed"], true);
        assert_eq!(config_json(&c)["admin"], true);
    }
}
