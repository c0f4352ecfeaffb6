//! Desktop peers without hardware: a private PulseAudio server with a null sink (its monitor
//! is a real capture device for cpal, through ALSA's pulse plugin) and an Xvfb display with a
//! screenshot through ffmpeg's x11grab. Each is started on its own socket or display number
//! and killed on drop.

use crate::peers::{require, Child};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A private PulseAudio server whose default sink is a null sink and whose default source is
/// that sink's monitor: what is played into the sink can be captured back.
#[derive(Debug)]
pub struct PulseAudio {
    child: Child,
    dir: tempfile::TempDir,
    server: String,
}

impl PulseAudio {
    /// Starts the server and waits until `pactl` reaches it.
    pub fn start() -> Self {
        let pulseaudio = require("pulseaudio");
        require("pactl");
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("native");
        let log = std::fs::File::create(dir.path().join("log")).expect("log file");
        let child = Command::new(pulseaudio)
            .args([
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--disable-shm=true",
                "-L",
                &format!(
                    "module-native-protocol-unix socket={} auth-anonymous=1",
                    socket.display()
                ),
                "-L",
                "module-null-sink sink_name=onair_null rate=48000",
            ])
            .env("HOME", dir.path())
            .env("PULSE_RUNTIME_PATH", dir.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start pulseaudio");
        let server = format!("unix:{}", socket.display());
        let me = Self {
            child: Child(child),
            dir,
            server,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !me.pactl(&["info"]) {
            assert!(
                Instant::now() < deadline,
                "pulseaudio did not come up: {}",
                std::fs::read_to_string(me.dir.path().join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(me.pactl(&["set-default-sink", "onair_null"]));
        assert!(me.pactl(&["set-default-source", "onair_null.monitor"]));
        me
    }

    fn pactl(&self, args: &[&str]) -> bool {
        Command::new("pactl")
            .args(args)
            .env("PULSE_SERVER", &self.server)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The `PULSE_SERVER` value that reaches this server.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Adds a second null sink, `onair_mic`, and makes its monitor the default source: what is
    /// played into it ([`PulseAudio::play_tone_into`]) is the microphone, while the default
    /// sink (`onair_null`, whose monitor is the system audio loopback) stays separate.
    pub fn add_microphone_sink(&self) {
        assert!(self.pactl(&[
            "load-module",
            "module-null-sink",
            "sink_name=onair_mic",
            "rate=48000"
        ]));
        assert!(self.pactl(&["set-default-source", "onair_mic.monitor"]));
        assert!(self.pactl(&["set-default-sink", "onair_null"]));
    }

    /// ffmpeg playing a sine of `hz` into the null sink for `seconds` (killed on drop).
    pub fn play_tone(&self, hz: u32, seconds: u32) -> Child {
        self.play_tone_into("onair_null", hz, seconds)
    }

    /// ffmpeg playing a sine of `hz` into `sink` for `seconds` (killed on drop).
    pub fn play_tone_into(&self, sink: &str, hz: u32, seconds: u32) -> Child {
        let child = Command::new(require("ffmpeg"))
            .args([
                "-v",
                "error",
                "-re",
                "-f",
                "lavfi",
                "-i",
                &format!("sine=frequency={hz}:sample_rate=48000:duration={seconds}"),
                "-ac",
                "2",
                "-f",
                "pulse",
                "-device",
                sink,
                "onair-test-tone",
            ])
            .env("PULSE_SERVER", &self.server)
            .spawn()
            .expect("start ffmpeg");
        Child(child)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

impl Drop for PulseAudio {
    fn drop(&mut self) {
        self.child.kill();
    }
}

/// An Xvfb display (`:N`), killed on drop.
#[derive(Debug)]
pub struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    /// Starts Xvfb on a free display number with a 24-bit `width` x `height` screen. Xvfb
    /// picks the number itself (`-displayfd`: it takes over lock files of servers that died
    /// without cleaning up) and writes it once it accepts connections.
    pub fn start(width: u32, height: u32) -> Self {
        let xvfb = require("Xvfb");
        let mut child = Command::new(xvfb)
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                &format!("{width}x{height}x24"),
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb");
        let stdout = child.stdout.take().expect("piped stdout");
        let child = Child(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
            let _ = tx.send(line);
        });
        let number = rx
            .recv_timeout(Duration::from_secs(10))
            .ok()
            .and_then(|l| l.trim().parse::<u32>().ok())
            .expect("Xvfb did not come up (no display number on -displayfd)");
        let display = format!(":{number}");
        Self { child, display }
    }

    /// The `DISPLAY` value.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// A PNG screenshot of the region `width` x `height` at the screen's top left.
    pub fn screenshot(&self, width: u32, height: u32, out: &Path) {
        crate::peers::run(
            "ffmpeg",
            &[
                "-v",
                "error",
                "-y",
                "-f",
                "x11grab",
                "-video_size",
                &format!("{width}x{height}"),
                "-i",
                &format!("{}+0,0", self.display),
                "-frames:v",
                "1",
                out.to_str().expect("utf-8 path"),
            ],
        );
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        self.child.kill();
    }
}
