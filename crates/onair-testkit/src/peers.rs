//! Real peers for the interop tests: finding the tools (ffmpeg, ffprobe, flvmeta...) with a
//! clear "how to install" failure when one is missing, running them, and reading ffprobe's JSON.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The path of `tool` on PATH; panics with the install command when it is missing (a test that
/// needs a peer fails loudly, it never passes silently).
pub fn require(tool: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "the test peer `{tool}` is not installed: run `cargo xtask setup` \
             (Debian: sudo apt-get install {})",
            debian_package(tool)
        )
    })
}

fn debian_package(tool: &str) -> &str {
    match tool {
        "ffprobe" | "ffmpeg" => "ffmpeg",
        "nginx" => "nginx libnginx-mod-rtmp",
        "node" => "nodejs",
        "gst-launch-1.0" | "gst-inspect-1.0" => {
            "gstreamer1.0-tools gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav"
        }
        "cc" => "gcc",
        "pipewire" | "pw-cli" | "pw-dump" | "pw-link" => "pipewire-bin",
        "c++" => "g++",
        other => other,
    }
}

/// FFmpeg 9 (the static build of PyPI's imageio-ffmpeg, installed by `cargo xtask setup` into
/// `tests/peers/venv`): Enhanced RTMP, libx265, libsvtav1. Panics with the install command
/// when it is missing.
pub fn ffmpeg9() -> PathBuf {
    let python = crate::workspace_root().join("tests/peers/venv/bin/python");
    let out = Command::new(&python)
        .args([
            "-c",
            "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&o.stdout).trim().to_string())
        }
        _ => panic!(
            "FFmpeg 9 is not installed: run `cargo xtask setup` (it makes tests/peers/venv and \
             pip-installs imageio-ffmpeg there)"
        ),
    }
}

/// Runs `script` with the venv's Python, where `cargo xtask setup` installed PyPI's
/// `tls-sig-api-v2` (module `TLSSigAPIv2`); `args` become `sys.argv[1..]`. Returns stdout;
/// panics with stderr when it fails, and with the install command when the module is missing.
pub fn tls_sig_api_v2(script: &str, args: &[&str]) -> String {
    let python = crate::workspace_root().join("tests/peers/venv/bin/python");
    let present = Command::new(&python)
        .args(["-c", "import TLSSigAPIv2"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        present,
        "tls-sig-api-v2 is not installed: run `cargo xtask setup` (it pip-installs it into \
         tests/peers/venv)"
    );
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run the venv's python");
    assert!(
        out.status.success(),
        "python with tls-sig-api-v2 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `tool args`; panics with its stderr when it fails.
pub fn run(tool: &str, args: &[&str]) -> Output {
    let out = Command::new(require(tool))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {} failed ({}):\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `ffprobe -show_streams -show_format` (and packets when asked) of `input`, as JSON.
pub fn ffprobe(input: &str, packets: bool) -> Value {
    let mut args = vec![
        "-v",
        "error",
        "-of",
        "json",
        "-show_streams",
        "-show_format",
    ];
    if packets {
        args.push("-show_packets");
    }
    args.push(input);
    let out = run("ffprobe", &args);
    serde_json::from_slice(&out.stdout).expect("ffprobe prints JSON")
}

/// The first stream of `codec_type` ("video" or "audio") in ffprobe's JSON.
pub fn stream<'a>(probe: &'a Value, codec_type: &str) -> &'a Value {
    probe["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == codec_type))
        .unwrap_or_else(|| panic!("no {codec_type} stream in {probe}"))
}

/// A number ffprobe printed as a string or a number.
pub fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => s.parse().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

/// The directory holding this build's examples (`target/<profile>/examples`), from the
/// running test binary's path (`target/<profile>/deps/<test>`).
pub fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(Path::parent)
        .map(|p| p.join("examples"))
        .expect("target/<profile>/examples")
}

/// The path of example `name`, as built by the same `cargo test --workspace` invocation that
/// built the running test (cargo builds examples alongside the tests; nothing is built here).
pub fn example(name: &str) -> PathBuf {
    let path = examples_dir().join(name);
    assert!(
        path.is_file(),
        "example {name} is not built at {}: run the suite with `cargo test --workspace` or \
         `cargo xtask test` (both build the examples with the tests), or `cargo build --examples`",
        path.display()
    );
    path
}

/// A free TCP port on 127.0.0.1 (bound then released), for peers that must be told a port
/// (nginx, node-media-server); their start retries on another port when the port was taken in
/// between. Our own servers bind port 0 instead and report the port they got.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A loopback port this test owns where nothing listens: bound, never listening, so a
/// connection to it is refused at once and no other process can take the port meanwhile.
#[derive(Debug)]
pub struct DeadPort(socket2::Socket);

impl DeadPort {
    /// Binds a fresh port on 127.0.0.1.
    pub fn new() -> Self {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        let addr: std::net::SocketAddr = "127.0.0.1:0".parse().expect("addr");
        s.bind(&addr.into()).expect("bind");
        Self(s)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.0
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map_or(0, |a| a.port())
    }
}

impl Default for DeadPort {
    fn default() -> Self {
        Self::new()
    }
}

/// Waits until something accepts TCP connections on `port` (the peer's readiness event), or
/// panics after `limit` with `log` to explain.
pub fn wait_for_port(port: u16, limit: std::time::Duration, log: &Path) {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!(
        "peer did not open port {port} within {limit:?}; its log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// A child process killed (and reaped) when dropped.
#[derive(Debug)]
pub struct Child(pub std::process::Child);

impl Child {
    /// Kills the process now and waits for it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// Waits for the process to exit on its own within `limit` (a thread waits, no polling):
    /// its status, or `None` when it was still running (it is killed then).
    pub fn exits_within(mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let pid = self.0.id();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let status = self.0.wait();
            let _ = tx.send(status);
        });
        let status = rx.recv_timeout(limit).ok().and_then(Result::ok);
        if status.is_none() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        let _ = waiter.join();
        status
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}

/// nginx with the RTMP module, on a free loopback port, `application live`, stopped on drop.
#[derive(Debug)]
pub struct Nginx {
    /// The RTMP port.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Nginx {
    /// Starts nginx-rtmp on a free port (another one when the port was taken before nginx
    /// could bind it).
    pub fn start() -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            match Self::try_start_on(free_port()) {
                Ok(n) => return n,
                Err(e) => last = e,
            }
        }
        panic!("nginx-rtmp did not start: {last}");
    }

    /// Starts nginx-rtmp on `port` (to restart one on the same port).
    pub fn start_on(port: u16) -> Self {
        Self::try_start_on(port).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_start_on(port: u16) -> Result<Self, String> {
        let nginx = require("nginx");
        let module = ["/usr/lib/nginx/modules/ngx_rtmp_module.so", "/usr/lib64/nginx/modules/ngx_rtmp_module.so"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .unwrap_or_else(|| panic!("the nginx RTMP module is not installed: run `cargo xtask setup` (Debian: libnginx-mod-rtmp)"));
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
             load_module {module};\nevents {{ worker_connections 1024; }}\n\
             rtmp {{\n  server {{\n    listen 127.0.0.1:{port};\n    chunk_size 4096;\n    ping 30s;\n\
             application live {{ live on; record off; }}\n  }}\n}}\n"
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let log = dir.path().join("error.log");
        let child = std::process::Command::new(nginx)
            .args([
                "-p",
                &d.to_string(),
                "-e",
                &log.display().to_string(),
                "-c",
                &conf_path.display().to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut child = Child(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            // nginx exits when it cannot bind: then the port belongs to someone else.
            if let Ok(Some(status)) = child.0.try_wait() {
                return Err(format!(
                    "nginx exited ({status}) on port {port}:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ));
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Self { port, dir, child });
            }
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "nginx did not open port {port} within 10 s:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// `rtmp://127.0.0.1:<port>/live/<stream>`.
    pub fn url(&self, stream: &str) -> String {
        format!("rtmp://127.0.0.1:{}/live/{stream}", self.port)
    }

    /// The nginx process id (one process: `master_process off`), for CPU accounting.
    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// nginx's error log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// Kills nginx at once (simulates a server crash).
    pub fn kill(&mut self) {
        self.child.kill();
    }
}

/// node-media-server (npm peer in tests/peers) on free loopback ports: RTMP, HTTP-FLV and,
/// when given a certificate, RTMPS.
#[derive(Debug)]
pub struct NodeMediaServer {
    /// RTMP port.
    pub rtmp_port: u16,
    /// HTTP-FLV port.
    pub http_port: u16,
    /// RTMPS port (0 without TLS).
    pub rtmps_port: u16,
    dir: tempfile::TempDir,
    _child: Child,
}

impl NodeMediaServer {
    /// Starts node-media-server; with `tls = Some((cert_pem, key_pem))` it also serves RTMPS.
    pub fn start(tls: Option<(&str, &str)>) -> Self {
        let node = require("node");
        let app =
            crate::workspace_root().join("tests/peers/node_modules/node-media-server/bin/app.js");
        assert!(app.is_file(), "node-media-server is not installed: run `cargo xtask setup` (npm install in tests/peers)");
        let dir = tempfile::tempdir().expect("temp dir");
        let (rtmp_port, http_port) = (free_port(), free_port());
        let mut config = serde_json::json!({
            "bind": "127.0.0.1",
            "notify": {"url": ""},
            "store": {"path": dir.path().join("data"), "maxHistory": 100},
            "auth": {"play": false, "publish": false, "secret": ""},
            "rtmp": {"port": rtmp_port},
            "http": {"port": http_port},
            "webadmin": {"enable": false},
            "record": {"auto": false, "path": dir.path().join("record")}
        });
        let mut rtmps_port = 0;
        if let Some((cert, key)) = tls {
            rtmps_port = free_port();
            std::fs::write(dir.path().join("cert.pem"), cert).expect("write cert");
            std::fs::write(dir.path().join("key.pem"), key).expect("write key");
            config["rtmps"] = serde_json::json!({"port": rtmps_port, "key": dir.path().join("key.pem"), "cert": dir.path().join("cert.pem")});
        }
        let conf = dir.path().join("config.json");
        std::fs::write(&conf, config.to_string()).expect("write config");
        let log = dir.path().join("nms.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = std::process::Command::new(node)
            .arg(&app)
            .args(["-c", &conf.display().to_string()])
            .current_dir(dir.path())
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file)
            .spawn()
            .expect("start node-media-server");
        let child = Child(child);
        for port in [rtmp_port, http_port, rtmps_port]
            .into_iter()
            .filter(|p| *p != 0)
        {
            wait_for_port(port, std::time::Duration::from_secs(20), &log);
        }
        Self {
            rtmp_port,
            http_port,
            rtmps_port,
            dir,
            _child: child,
        }
    }

    /// node-media-server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nms.log")).unwrap_or_default()
    }
}

/// ffmpeg publishing a synthetic stream in real time (`-re`): libx264 high profile with
/// B-frames and AAC 44.1 kHz stereo, as the interop suites require. Killed on drop.
pub fn ffmpeg_publish(url: &str, seconds: u32, size: &str, gop: u32) -> Child {
    ffmpeg_publish_tone(url, seconds, size, gop, 1000)
}

/// [`ffmpeg_publish`] with a sine of `hz` instead of 1 kHz.
pub fn ffmpeg_publish_tone(url: &str, seconds: u32, size: &str, gop: u32, hz: u32) -> Child {
    let ffmpeg = require("ffmpeg");
    let child = std::process::Command::new(ffmpeg)
        .args([
            "-v",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size={size}:rate=25"),
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency={hz}:sample_rate=44100"),
        ])
        .args([
            "-t",
            &seconds.to_string(),
            "-c:v",
            "libx264",
            "-profile:v",
            "high",
            "-bf",
            "3",
            "-g",
            &gop.to_string(),
            "-pix_fmt",
            "yuv420p",
            "-preset",
            "veryfast",
        ])
        .args(["-c:a", "aac", "-ar", "44100", "-ac", "2", "-f", "flv", url])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start ffmpeg");
    Child(child)
}

/// FFmpeg decodes `seconds` of the audio of `url` to 48 kHz mono samples.
pub fn decode_audio_mono(url: &str, seconds: u32) -> Vec<f64> {
    let out = Command::new(require("ffmpeg"))
        .args(["-v", "error", "-rw_timeout", "10000000", "-i", url])
        .args([
            "-t",
            &seconds.to_string(),
            "-vn",
            "-ac",
            "1",
            "-ar",
            "48000",
        ])
        .args(["-f", "s16le", "-"])
        .output()
        .expect("run ffmpeg");
    out.stdout
        .chunks_exact(2)
        .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])))
        .collect()
}

/// The share of 48 kHz `samples`' power at `hz` (Goertzel), 0 to about 1.
pub fn tone_share(samples: &[f64], hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / 48_000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    let total: f64 = samples.iter().map(|x| x * x).sum::<f64>() * samples.len() as f64 / 2.0;
    power / total.max(1e-9)
}

/// Resident memory of this process in KiB (Linux), for bounded-memory checks.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system) and peak RSS (KiB) of running `cmd` to completion, measured
/// by GNU time (`time` package).
pub fn measure_command(cmd: &[&str]) -> (f64, u64) {
    let time = require("time");
    let out = Command::new(time)
        .args(["-f", "ONAIR_TIME %U %S %M"])
        .args(cmd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .output()
        .expect("run GNU time");
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .rev()
        .find(|l| l.starts_with("ONAIR_TIME"))
        .unwrap_or_else(|| panic!("no timing from {cmd:?}:\n{err}"));
    let f: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    assert!(out.status.success(), "{cmd:?} failed:\n{err}");
    (f[0] + f[1], f[2] as u64)
}

/// CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat` (Linux).
pub fn process_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    // Field 3 (state) is index 0 here; /proc reports in USER_HZ, 100 on Linux.
    (field(11) + field(12)) as f64 / 100.0
}

/// A running `onair serve`, killed on drop.
#[derive(Debug)]
pub struct OnairServe {
    /// The RTMP port it listens on.
    pub rtmp: u16,
    /// The HTTP port it listens on.
    pub http: u16,
    /// The process.
    pub child: Child,
}

/// Starts `onair serve` (`onair` is the binary: `env!("CARGO_BIN_EXE_onair")` in the CLI's
/// tests and benches) on loopback port 0 for RTMP and HTTP with `--data-dir data_dir` and
/// `extra` flags; returns once its banner says both listen, with the ports it got.
pub fn onair_serve(onair: &Path, data_dir: &Path, extra: &[&str]) -> OnairServe {
    use std::io::BufRead;
    let mut serve = Command::new(onair)
        .args(["serve", "--rtmp", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start onair serve");
    let stdout = serve.stdout.take().expect("piped stdout");
    let mut out = std::io::BufReader::new(stdout);
    let mut banner = String::new();
    while !banner.contains("Ctrl-C") {
        let mut line = String::new();
        let n = out.read_line(&mut line).unwrap_or(0);
        assert!(n > 0, "onair serve exited before listening: {banner}");
        banner.push_str(&line);
    }
    // Keep reading (and dropping) its output so the pipe never fills.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while out.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    let port = |label: &str| {
        banner
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.rsplit(':').next())
            .and_then(|p| p.trim().trim_end_matches('/').parse::<u16>().ok())
            .unwrap_or_else(|| panic!("no {label} port in the banner:\n{banner}"))
    };
    OnairServe {
        rtmp: port("RTMP"),
        http: port("HTTP"),
        child: Child(serve),
    }
}

/// The embedded live server on free loopback ports with `data_dir`, no recording and no
/// screenshots: the plain RTMP + HTTP-FLV peer most tests push to and play from.
pub fn embedded_server(data_dir: &Path) -> onair_server::LiveServer {
    let mut c = onair_server::ServerConfig::new(data_dir);
    c.rtmp_addr = "127.0.0.1:0".into();
    c.http_addr = "127.0.0.1:0".into();
    c.record = onair_server::RecordFormat::None.into();
    c.screenshot_interval = None;
    onair_server::LiveServer::start(c).expect("start the embedded server")
}

/// Waits until `http://127.0.0.1:<http>/live/<name>.flv` answers 200 (the push is live on
/// `onair serve`); panics after `limit`.
pub fn wait_live_flv(http: u16, name: &str, limit: std::time::Duration) {
    let url = format!("http://127.0.0.1:{http}/live/{name}.flv");
    let deadline = std::time::Instant::now() + limit;
    while !matches!(crate::http_probe::http_get_head(&url), Ok((200, _))) {
        assert!(
            std::time::Instant::now() < deadline,
            "{name} did not go live within {limit:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Waits until ffprobe can open `url` (a push is live); panics after `limit`.
pub fn wait_until_live(url: &str, limit: std::time::Duration) {
    let ffprobe = require("ffprobe");
    let deadline = std::time::Instant::now() + limit;
    while !Command::new(&ffprobe)
        .args(["-v", "quiet", url])
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{url} did not go live within {limit:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Reads `url` over RTMP for `secs` (onair's own player, raw tags): video kbit/s over the span
/// of the H.264 frames seen, how many, and the AAC frames' timestamps (ms).
pub fn watch_rtmp(url: &str, secs: u64) -> (f64, usize, Vec<u32>) {
    use onair_flv::{TagType, VideoData, VideoTag};
    use std::time::{Duration, Instant};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut p = onair_rtmp::RtmpPlayer::connect(url, &onair_rtmp::TransportConfig::default())
            .await
            .expect("play over RTMP");
        let (mut bytes, mut frames, mut audio) = (0usize, 0usize, Vec::new());
        let (mut first_ts, mut last_ts) = (None, 0u32);
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            let Ok(Ok(t)) = tokio::time::timeout(Duration::from_secs(5), p.next_tag()).await else {
                break;
            };
            match t.tag_type {
                TagType::Video => {
                    if let Ok(VideoTag {
                        data: VideoData::AvcNalus { .. },
                        ..
                    }) = VideoTag::parse(&t.data)
                    {
                        bytes += t.data.len();
                        frames += 1;
                        first_ts.get_or_insert(t.timestamp_ms);
                        last_ts = t.timestamp_ms;
                    }
                }
                TagType::Audio if t.data.get(1) == Some(&1) => audio.push(t.timestamp_ms),
                _ => {}
            }
        }
        let span = f64::from(last_ts.saturating_sub(first_ts.unwrap_or(0))).max(1.0) / 1000.0;
        (bytes as f64 * 8.0 / span / 1000.0, frames, audio)
    })
}

/// ffprobe's view of `input`: (video codec, video width, audio codec, duration s).
pub fn probe_av(input: &str) -> (String, f64, String, f64) {
    let p = ffprobe(input, false);
    let v = stream(&p, "video");
    let a = stream(&p, "audio");
    (
        v["codec_name"].as_str().unwrap_or("").into(),
        num(&v["width"]),
        a["codec_name"].as_str().unwrap_or("").into(),
        num(&p["format"]["duration"]),
    )
}
