//! Headless Chromium for the browser tests (Debian's `chromium` driven by `playwright-core`
//! from npm, both installed by `cargo xtask setup`): [`Browser`] starts
//! `tests/peers/browser/driver.mjs` and sends it one command at a time (navigate, evaluate
//! JavaScript, click, fill, wait for a selector, screenshot), reading one JSON reply each.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// A headless Chromium page. Dropping it closes the browser.
#[derive(Debug)]
pub struct Browser {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Browser {
    /// Starts Chromium with one page (1280x800). Panics with the install command when
    /// Chromium or playwright-core is missing.
    pub fn start() -> Self {
        let root = crate::workspace_root();
        let chromium =
            std::env::var("ONAIR_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        assert!(
            Path::new(&chromium).is_file(),
            "Chromium is not installed ({chromium}): run `cargo xtask setup` (Debian package chromium)"
        );
        assert!(
            root.join("tests/peers/node_modules/playwright-core").is_dir(),
            "playwright-core is not installed: run `cargo xtask setup` (npm install in tests/peers)"
        );
        let mut child = Command::new("node")
            .arg(root.join("tests/peers/browser/driver.mjs"))
            .env("ONAIR_CHROMIUM", &chromium)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start node (the browser driver)");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut b = Self {
            child,
            stdin,
            stdout,
        };
        let ready = b.reply().expect("the browser driver did not start");
        assert_eq!(ready, json!("ready"));
        b
    }

    fn reply(&mut self) -> Result<Value, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) | Err(_) => return Err("the browser driver exited".into()),
            Ok(_) => {}
        }
        let v: Value =
            serde_json::from_str(&line).map_err(|e| format!("driver said {line:?}: {e}"))?;
        match v.get("error") {
            Some(e) => Err(e.as_str().unwrap_or_default().to_string()),
            None => Ok(v["ok"].clone()),
        }
    }

    /// Sends one command and returns its value, or the browser's error.
    pub fn command(&mut self, cmd: Value) -> Result<Value, String> {
        writeln!(self.stdin, "{cmd}").map_err(|e| format!("browser driver: {e}"))?;
        self.stdin
            .flush()
            .map_err(|e| format!("browser driver: {e}"))?;
        self.reply()
    }

    /// Opens `url`; returns the HTTP status.
    pub fn goto(&mut self, url: &str) -> Result<Value, String> {
        self.command(json!({"cmd": "goto", "url": url}))
    }

    /// Evaluates a JavaScript expression (a promise is awaited) in the page.
    pub fn eval(&mut self, js: &str) -> Result<Value, String> {
        self.command(json!({"cmd": "eval", "js": js}))
    }

    /// Clicks the first element matching `selector`.
    pub fn click(&mut self, selector: &str) -> Result<Value, String> {
        self.command(json!({"cmd": "click", "selector": selector}))
    }

    /// Types `text` into the input matching `selector`.
    pub fn fill(&mut self, selector: &str, text: &str) -> Result<Value, String> {
        self.command(json!({"cmd": "fill", "selector": selector, "text": text}))
    }

    /// Waits until the JavaScript expression `js` is truthy in the page (checked every
    /// animation frame); returns its value, or an error after `timeout_ms`.
    pub fn until(&mut self, js: &str, timeout_ms: u64) -> Result<Value, String> {
        self.command(json!({"cmd": "until", "js": js, "timeout_ms": timeout_ms}))
    }

    /// Waits until `selector` matches (an error after `timeout_ms`).
    pub fn wait(&mut self, selector: &str, timeout_ms: u64) -> Result<Value, String> {
        self.command(json!({"cmd": "wait", "selector": selector, "timeout_ms": timeout_ms}))
    }

    /// Writes a PNG of the page's viewport.
    pub fn screenshot(&mut self, path: &Path) -> Result<Value, String> {
        self.command(json!({"cmd": "screenshot", "path": path}))
    }

    /// The page's console messages and errors since the last call.
    pub fn log(&mut self) -> Vec<String> {
        self.command(json!({"cmd": "log"}))
            .ok()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"cmd": "close"}));
        let _ = self.stdin.flush();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
