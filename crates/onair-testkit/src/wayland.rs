//! Wayland-side peers without a desktop: a private PipeWire daemon with a GStreamer video
//! source on it (what a compositor shares through the screen-cast portal is such a node), and a
//! private D-Bus session bus with no services on it. Each lives in its own temporary runtime
//! directory and is killed on drop.

use crate::peers::{require, Child};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Polls `ready` until it holds or `limit` passes (a daemon coming up has no event to wait on
/// from outside it).
fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A PipeWire daemon on a private runtime directory (`PIPEWIRE_RUNTIME_DIR`).
#[derive(Debug)]
pub struct PipeWire {
    child: Child,
    dir: tempfile::TempDir,
}

impl PipeWire {
    /// Starts the daemon and waits until `pw-cli` reaches it.
    pub fn start() -> Self {
        let pipewire = require("pipewire");
        require("pw-cli");
        require("pw-dump");
        require("pw-link");
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("log")).expect("log file");
        let child = Command::new(pipewire)
            .env("XDG_RUNTIME_DIR", dir.path())
            .env("PIPEWIRE_RUNTIME_DIR", dir.path())
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start pipewire");
        let me = Self {
            child: Child(child),
            dir,
        };
        wait_for(Duration::from_secs(10), "pipewire did not come up", || {
            me.tool("pw-cli")
                .args(["info", "0"])
                .status()
                .is_ok_and(|s| s.success())
        });
        me
    }

    /// The runtime directory clients find the daemon in (`PIPEWIRE_RUNTIME_DIR`).
    pub fn runtime_dir(&self) -> &Path {
        self.dir.path()
    }

    fn tool(&self, name: &str) -> Command {
        let mut c = Command::new(name);
        c.env("PIPEWIRE_RUNTIME_DIR", self.dir.path())
            .env("XDG_RUNTIME_DIR", self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    /// The id of the node named `name`, once it exists.
    pub fn node_id(&self, name: &str) -> Option<u32> {
        let out = self.tool("pw-dump").stdout(Stdio::piped()).output().ok()?;
        let objects: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        objects.as_array()?.iter().find_map(|o| {
            let is_node = o["type"] == "PipeWire:Interface:Node";
            let named = o["info"]["props"]["node.name"] == name;
            (is_node && named)
                .then(|| o["id"].as_u64())?
                .map(|id| id as u32)
        })
    }

    /// Publishes a solid-colour BGRx video source node named `name` (GStreamer's
    /// `pipewiresink` in provide mode) and returns it with its node id.
    pub fn video_source(&self, name: &str, rgb: [u8; 3], size: (u32, u32)) -> (Child, u32) {
        let gst = require("gst-launch-1.0");
        let argb = u32::from_be_bytes([0xff, rgb[0], rgb[1], rgb[2]]);
        let child = self
            .tool(gst.to_str().expect("utf-8 path"))
            .args([
                "-q",
                "videotestsrc",
                "pattern=solid-color",
                &format!("foreground-color={argb}"),
                "is-live=true",
                "!",
                &format!(
                    "video/x-raw,format=BGRx,width={},height={},framerate=30/1",
                    size.0, size.1
                ),
                "!",
                "pipewiresink",
                "mode=provide",
                &format!("stream-properties=props,media.class=Video/Source,node.name={name}"),
            ])
            .spawn()
            .unwrap_or_else(|e| panic!("start gst-launch-1.0 (needs gstreamer1.0-pipewire): {e}"));
        let mut id = None;
        wait_for(
            Duration::from_secs(10),
            "the GStreamer pipewiresink node did not appear (is gstreamer1.0-pipewire installed?)",
            || {
                id = self.node_id(name);
                id.is_some()
            },
        );
        (Child(child), id.expect("waited above"))
    }

    /// Links the first output port of node `from` to the first input port of node `to` (what a
    /// session manager would do), waiting for both ports to exist.
    pub fn link(&self, from: &str, to: &str) {
        let port = |flag: &str, node: &str| -> Option<String> {
            let out = self
                .tool("pw-link")
                .arg(flag)
                .stdout(Stdio::piped())
                .output()
                .ok()?;
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with(&format!("{node}:")))
                .map(str::to_string)
        };
        let mut ports = None;
        wait_for(
            Duration::from_secs(10),
            &format!("no ports to link {from} -> {to}"),
            || {
                ports = port("-o", from).zip(port("-i", to));
                ports.is_some()
            },
        );
        let (out, input) = ports.expect("waited above");
        let ok = self
            .tool("pw-link")
            .args([&out, &input])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "pw-link {out} {input} failed");
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Stops the daemon now.
    pub fn stop(mut self) {
        self.child.kill();
    }
}

/// A D-Bus session bus of its own with no services (no portal, nothing activatable).
#[derive(Debug)]
pub struct SessionBus {
    _child: Child,
    _dir: tempfile::TempDir,
    address: String,
}

impl SessionBus {
    /// Starts `dbus-daemon` on a socket in a temporary directory.
    pub fn start() -> Self {
        let daemon = require("dbus-daemon");
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("bus");
        let config = dir.path().join("session.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:path={}</listen>\
                 <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
                socket.display()
            ),
        )
        .expect("bus config");
        let child = Command::new(daemon)
            .args(["--nofork", "--nopidfile"])
            .arg(format!("--config-file={}", config.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        wait_for(
            Duration::from_secs(10),
            "dbus-daemon did not come up",
            || socket.exists(),
        );
        Self {
            _child: Child(child),
            address: format!("unix:path={}", socket.display()),
            _dir: dir,
        }
    }

    /// The value for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }
}

/// What the screen-cast backend was asked, in order (`CreateSession`, `SelectSources types=T
/// cursor_mode=C`, `Start`).
pub type PortalCalls = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// The real xdg-desktop-portal frontend on a private session bus, whose ScreenCast backend is
/// served by this process and shares one PipeWire node: what a compositor's backend
/// (xdg-desktop-portal-gnome, -kde, -wlr) does once the user picked a source in its dialog.
/// Apps talk to the frontend exactly as on a desktop; the frontend opens the restricted
/// PipeWire remote itself.
pub struct Portal {
    frontend: Child,
    _backend: zbus::Connection,
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    calls: PortalCalls,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal").finish_non_exhaustive()
    }
}

/// `org.freedesktop.impl.portal.ScreenCast`, answering at once with one stream.
struct ScreenCastBackend {
    node: u32,
    size: (i32, i32),
    calls: PortalCalls,
}

type Vardict = std::collections::HashMap<String, zbus::zvariant::OwnedValue>;

fn record(calls: &PortalCalls, call: String) {
    calls.lock().unwrap_or_else(|e| e.into_inner()).push(call);
}

#[zbus::interface(name = "org.freedesktop.impl.portal.ScreenCast")]
impl ScreenCastBackend {
    async fn create_session(
        &self,
        _handle: zbus::zvariant::OwnedObjectPath,
        _session_handle: zbus::zvariant::OwnedObjectPath,
        _app_id: String,
        _options: Vardict,
    ) -> (u32, Vardict) {
        record(&self.calls, "CreateSession".into());
        (0, Vardict::new())
    }

    async fn select_sources(
        &self,
        _handle: zbus::zvariant::OwnedObjectPath,
        _session_handle: zbus::zvariant::OwnedObjectPath,
        _app_id: String,
        options: Vardict,
    ) -> (u32, Vardict) {
        let get = |k: &str| {
            options
                .get(k)
                .and_then(|v| u32::try_from(v).ok())
                .map_or("-".to_string(), |v| v.to_string())
        };
        record(
            &self.calls,
            format!(
                "SelectSources types={} cursor_mode={}",
                get("types"),
                get("cursor_mode")
            ),
        );
        (0, Vardict::new())
    }

    async fn start(
        &self,
        _handle: zbus::zvariant::OwnedObjectPath,
        _session_handle: zbus::zvariant::OwnedObjectPath,
        _app_id: String,
        _parent_window: String,
        _options: Vardict,
    ) -> (u32, Vardict) {
        record(&self.calls, "Start".into());
        let mut props = std::collections::HashMap::<String, zbus::zvariant::Value<'_>>::new();
        props.insert("size".into(), zbus::zvariant::Value::from(self.size));
        props.insert("source_type".into(), zbus::zvariant::Value::from(1u32));
        let streams = vec![(self.node, props)];
        let mut results = Vardict::new();
        results.insert(
            "streams".into(),
            zbus::zvariant::OwnedValue::try_from(zbus::zvariant::Value::from(streams))
                .expect("no file descriptors in the streams"),
        );
        (0, results)
    }

    #[zbus(property, name = "AvailableSourceTypes")]
    fn available_source_types(&self) -> u32 {
        1 | 2
    }

    #[zbus(property, name = "AvailableCursorModes")]
    fn available_cursor_modes(&self) -> u32 {
        1 | 2
    }

    #[zbus(property, name = "version")]
    fn version(&self) -> u32 {
        4
    }
}

const BACKEND_NAME: &str = "org.onair.test.ScreenCastBackend";
const FRONTEND: &str = "/usr/libexec/xdg-desktop-portal";

impl Portal {
    /// Serves the backend on `bus` sharing `node` of `size`, starts the frontend and waits
    /// until it owns `org.freedesktop.portal.Desktop`.
    pub fn start(bus: &SessionBus, pipewire: &PipeWire, node: u32, size: (u32, u32)) -> Self {
        assert!(
            Path::new(FRONTEND).exists(),
            "the test peer xdg-desktop-portal is not installed: run `cargo xtask setup` \
             (Debian: sudo apt-get install xdg-desktop-portal)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let portals = dir.path().join("portals");
        std::fs::create_dir_all(&portals).expect("portals dir");
        std::fs::write(
            portals.join("onair-test.portal"),
            format!(
                "[portal]\nDBusName={BACKEND_NAME}\n\
                 Interfaces=org.freedesktop.impl.portal.ScreenCast;\nUseIn=onair-test\n"
            ),
        )
        .expect("portal file");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let calls = PortalCalls::default();
        let backend = ScreenCastBackend {
            node,
            size: (size.0 as i32, size.1 as i32),
            calls: calls.clone(),
        };
        let address = bus.address().to_string();
        let backend = runtime
            .block_on(async {
                zbus::connection::Builder::address(address.as_str())?
                    .name(BACKEND_NAME)?
                    .serve_at("/org/freedesktop/portal/desktop", backend)?
                    .build()
                    .await
            })
            .expect("serve the screen-cast backend");
        let log = std::fs::File::create(dir.path().join("log")).expect("log file");
        let frontend = Command::new(FRONTEND)
            .arg("--replace")
            .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
            .env("XDG_DESKTOP_PORTAL_DIR", &portals)
            .env("XDG_CURRENT_DESKTOP", "onair-test")
            .env("XDG_RUNTIME_DIR", dir.path())
            .env("PIPEWIRE_RUNTIME_DIR", pipewire.runtime_dir())
            .env("G_MESSAGES_DEBUG", "all")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start xdg-desktop-portal");
        let me = Self {
            frontend: Child(frontend),
            _backend: backend,
            runtime,
            dir,
            calls,
        };
        let conn = me._backend.clone();
        wait_for(
            Duration::from_secs(15),
            "xdg-desktop-portal did not take its bus name",
            || {
                me.runtime.block_on(async {
                    let dbus = zbus::fdo::DBusProxy::new(&conn).await.ok()?;
                    let name = "org.freedesktop.portal.Desktop".try_into().ok()?;
                    dbus.name_has_owner(name).await.ok()
                }) == Some(true)
            },
        );
        me
    }

    /// What the backend was asked so far.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The frontend's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Stops the frontend now.
    pub fn stop(mut self) {
        self.frontend.kill();
    }
}
