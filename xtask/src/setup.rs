//! Installs the system packages and npm peers the build and the tests need, when missing.
//!
//! Debian/Ubuntu: apt-get (through sudo when not root). Elsewhere: a clear list of what to
//! install by hand. npm peers go to `tests/peers/node_modules`.

use std::path::Path;
use std::process::{Command, Stdio};

/// Debian packages: build dependencies and the real peers the tests start.
pub const APT_PACKAGES: &[&str] = &[
    // build
    "pkg-config",
    "clang",
    "libclang-dev",
    "nasm",
    "libavcodec-dev",
    "libavformat-dev",
    "libavutil-dev",
    "libavfilter-dev",
    "libavdevice-dev",
    "libswscale-dev",
    "libswresample-dev",
    "libasound2-dev",
    // system audio loopback (libpulse-simple)
    "libpulse-dev",
    // Wayland screen capture: PipeWire streams (pipewire-rs builds against it)
    "libpipewire-0.3-dev",
    "libudev-dev",
    "libv4l-dev",
    "libyuv-dev",
    // the C API's tests: C and C++ compilers, leak checking; Xlib for the render view example
    "libx11-dev",
    "gcc",
    "g++",
    "valgrind",
    // peers and judges
    "mesa-vulkan-drivers",
    "ffmpeg",
    "nginx",
    "libnginx-mod-rtmp",
    "flvmeta",
    "pulseaudio",
    "pulseaudio-utils",
    "libasound2-plugins",
    "xvfb",
    // GNU time: CPU seconds and peak RSS of whole commands for the push bench
    "time",
    // GStreamer 1.22: rtmp2sink / rtmp2src (plugins-bad), x264enc (ugly), voaacenc/avdec (libav)
    "gstreamer1.0-tools",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-bad",
    "gstreamer1.0-plugins-ugly",
    "gstreamer1.0-libav",
    // the browser tests: the console and the watch page in headless Chromium (playwright-core)
    "chromium",
    // the venv for FFmpeg 9 (imageio-ffmpeg's static build: Enhanced RTMP, x265, SVT-AV1)
    "python3-venv",
    // the Wayland screen backend's peers: a PipeWire daemon and its tools, GStreamer's
    // pipewiresink as the shared screen, a private D-Bus session bus, the portal frontend
    "pipewire-bin",
    "gstreamer1.0-pipewire",
    "dbus-daemon",
    "xdg-desktop-portal",
];

fn dpkg_installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn have_command(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    println!("==> {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn apt(args: &[&str]) -> Command {
    let mut cmd = if is_root() {
        Command::new("apt-get")
    } else {
        let mut c = Command::new("sudo");
        c.arg("apt-get");
        c
    };
    cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
    cmd
}

/// The packages of [`APT_PACKAGES`] (plus nodejs/npm when `npm` is missing) not yet installed.
pub fn missing_packages() -> Vec<&'static str> {
    let mut missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|p| !dpkg_installed(p))
        .collect();
    // A nodesource nodejs ships npm itself and conflicts with Debian's npm package.
    if !have_command("npm") {
        missing.extend(["nodejs", "npm"]);
    }
    missing
}

fn install_apt() -> Result<(), String> {
    let missing = missing_packages();
    if missing.is_empty() {
        println!("==> system packages: all present");
        return Ok(());
    }
    if !have_command("apt-get") || !have_command("dpkg-query") {
        return Err(format!(
            "these packages are missing and this is not a Debian/Ubuntu system: {}\n\
             install their equivalents by hand, then run again with ONAIR_SKIP_SETUP=1",
            missing.join(" ")
        ));
    }
    if !is_root() && !have_command("sudo") {
        return Err(format!(
            "missing packages need root: sudo apt-get install {}",
            missing.join(" ")
        ));
    }
    println!("==> installing system packages: {}", missing.join(" "));
    run(&mut apt(&["update", "-qq"]))?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(missing.iter().copied());
    run(&mut apt(&args))
}

fn install_npm_peers(root: &Path) -> Result<(), String> {
    let peers = root.join("tests").join("peers");
    let modules = peers.join("node_modules");
    if ["node-media-server", "playwright-core"]
        .iter()
        .all(|m| modules.join(m).is_dir())
    {
        println!("==> npm peers: present");
        return Ok(());
    }
    println!("==> installing npm peers into tests/peers");
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&peers))
}

/// The PyPI peers, in `tests/peers/venv`: FFmpeg 9's static build from imageio-ffmpeg
/// (Debian's FFmpeg 5.1 has no Enhanced RTMP: HEVC, AV1 and Opus over RTMP) and Tencent's
/// `tls-sig-api-v2` (the UserSig reference).
fn install_pypi_peers(root: &Path) -> Result<(), String> {
    let venv = root.join("tests").join("peers").join("venv");
    let python = venv.join("bin").join("python");
    let present = Command::new(&python)
        .args(["-c", "import imageio_ffmpeg, os, sys, TLSSigAPIv2; sys.exit(0 if os.path.exists(imageio_ffmpeg.get_ffmpeg_exe()) else 1)"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        println!("==> FFmpeg 9 (imageio-ffmpeg) and tls-sig-api-v2: present");
        return Ok(());
    }
    println!(
        "==> installing FFmpeg 9 (PyPI imageio-ffmpeg) and tls-sig-api-v2 into tests/peers/venv"
    );
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "imageio-ffmpeg",
        "tls-sig-api-v2",
    ]))
}

/// Installs whatever is missing; does nothing when everything is present.
pub fn install_missing(root: &Path) -> Result<(), String> {
    install_apt()?;
    install_npm_peers(root)?;
    install_pypi_peers(root)
}
