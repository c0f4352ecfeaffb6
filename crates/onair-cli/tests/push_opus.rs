//! `onair push --audio-codec opus`: Opus (libopus, 10 ms frames) over Enhanced RTMP v2 into
//! `onair serve`, judged by FFmpeg 9 (PyPI imageio-ffmpeg; Debian's FFmpeg 5.1 reads no
//! Enhanced RTMP audio) over RTMP and HTTP-FLV: codec, rate, 10 ms packets, the pattern's
//! 1 kHz tone in the decoded sound; `onair play` plays the sound and the pictures; the server's
//! MP4 recording carries Opus that Debian's FFmpeg decodes. To nginx-rtmp (a legacy server:
//! no `fourCcList`) the same push falls back to AAC with a warning; and `onair play` joining
//! FFmpeg 9's Opus stream late on nginx-rtmp (which keeps no OpusHead for it) plays the sound.

use onair_testkit::peers::{ffmpeg9, ffprobe, num, onair_serve, stream, wait_live_flv, Nginx};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const READ_SECONDS: u32 = 5;

fn onair() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_onair"))
}

/// FFmpeg 9 reads `url` for READ_SECONDS and copies the audio, as sent, into a NUT file.
fn copy_audio_with_ffmpeg9(ff: &Path, url: &str, to: PathBuf) -> std::thread::JoinHandle<PathBuf> {
    let (ff, url) = (ff.to_path_buf(), url.to_string());
    std::thread::spawn(move || {
        let out = Command::new(&ff)
            .args(["-v", "error", "-rw_timeout", "5000000", "-i", &url])
            .args(["-map", "0:a", "-c:a", "copy", "-y"])
            .args(["-t", &READ_SECONDS.to_string()])
            .arg(&to)
            .stdin(Stdio::null())
            .output()
            .expect("run FFmpeg 9");
        assert!(
            out.status.success(),
            "FFmpeg 9 read {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        to
    })
}

/// `onair play URL --seconds S --json --last-frame PATH`: its JSON summary (printed) and its
/// stderr, or what went wrong.
fn play_json(url: &str, seconds: f64, last_frame: &Path) -> Result<(Value, String), String> {
    let out = Command::new(onair())
        .args(["play", url, "--seconds", &seconds.to_string(), "--json"])
        .arg("--last-frame")
        .arg(last_frame)
        .output()
        .map_err(|e| format!("run onair play: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let summary: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("onair play: no JSON ({e}): {stderr}"))?;
    println!("onair play: {summary}");
    Ok((summary, stderr))
}

/// The file's first audio stream decoded by Debian's FFmpeg to 48 kHz mono s16.
fn decode_mono(path: &Path) -> Vec<i16> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", "48000", "-",
        ])
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "decoding {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// The dominant frequency of a steady tone, from its zero crossings (the middle half).
fn tone_hz(pcm: &[i16]) -> f64 {
    let mid = &pcm[pcm.len() / 4..pcm.len() * 3 / 4];
    let crossings = mid.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (mid.len() as f64 / 48_000.0)
}

#[test]
fn opus_push_into_onair_serve_is_opus_for_ffmpeg9_and_onair_play() {
    let ff = ffmpeg9();
    let dir = tempfile::tempdir().unwrap();
    let serve = onair_serve(onair(), dir.path(), &["--record", "mp4"]);
    let url = format!("rtmp://127.0.0.1:{}/live/opus", serve.rtmp);
    let flv = format!("http://127.0.0.1:{}/live/opus.flv", serve.http);
    let push = Command::new(onair())
        .args(["push", &url, "--preset", "640x360", "--audio", "default"])
        .args(["--audio-codec", "opus", "--opus-frame-ms", "10"])
        .args(["--seconds", "16"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start onair push");
    wait_live_flv(serve.http, "opus", Duration::from_secs(20));

    let readers = [
        (
            "RTMP",
            copy_audio_with_ffmpeg9(&ff, &url, dir.path().join("rtmp.nut")),
        ),
        (
            "HTTP-FLV",
            copy_audio_with_ffmpeg9(&ff, &flv, dir.path().join("flv.nut")),
        ),
    ];
    for (how, reader) in readers {
        let copy = reader.join().unwrap();
        let probe = ffprobe(&copy.to_string_lossy(), true);
        let a = stream(&probe, "audio");
        assert_eq!(a["codec_name"], "opus", "{how}: {probe}");
        assert_eq!(a["sample_rate"], "48000", "{how}: {a}");
        assert_eq!(a["channels"].as_u64(), Some(1), "{how}: {a}");
        // 10 ms packets: about 100 per second read, each 10 ms long.
        let packets: Vec<&Value> = probe["packets"]
            .as_array()
            .map(|p| p.iter().filter(|p| p["codec_type"] == "audio").collect())
            .unwrap_or_default();
        let expected = f64::from(READ_SECONDS) * 100.0;
        assert!(
            packets.len() as f64 >= expected * 0.9,
            "{how}: {} audio packets in {READ_SECONDS} s",
            packets.len()
        );
        let long = packets
            .iter()
            .filter(|p| (num(&p["duration_time"]) - 0.010).abs() > 0.0005)
            .count();
        assert_eq!(long, 0, "{how}: packets that are not 10 ms long");
        let pcm = decode_mono(&copy);
        let hz = tone_hz(&pcm);
        println!("{how}: opus, {} packets, tone {hz:.1} Hz", packets.len());
        assert!(
            (hz - 1000.0).abs() < 20.0,
            "{how}: decoded tone at {hz:.1} Hz"
        );
    }

    // onair's own player: sound played in 20 ms frames, and the stamped pictures in order.
    let seconds = 6.0;
    let (summary, stderr) =
        play_json(&url, seconds, &dir.path().join("last.png")).unwrap_or_else(|e| panic!("{e}"));
    let audio_frames = num(&summary["audio_frames"]);
    assert!(
        audio_frames >= seconds * 50.0 * 0.9,
        "onair play played {audio_frames} 20 ms audio frames in {seconds} s: {summary}"
    );
    let c = &summary["counter"];
    let (rendered, expected) = (num(&c["rendered"]), num(&c["expected"]));
    assert!(
        expected >= 150.0 && rendered >= expected * 0.95,
        "onair play rendered {rendered} of {expected} stamped frames: {summary}"
    );
    assert!(!stderr.contains("not supported"), "{stderr}");

    let push = push.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&push.stderr);
    assert!(
        push.status.success(),
        "onair push --audio-codec opus: {stderr}"
    );
    assert!(!stderr.contains("does not accept Opus"), "{stderr}");

    // The recording closes with the push: an MP4 whose Opus track decodes to the tone.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mp4 = loop {
        if let Some(p) = onair_testkit::files_with_ext(dir.path(), "mp4").pop() {
            break p;
        }
        assert!(Instant::now() < deadline, "no MP4 recording");
        std::thread::sleep(Duration::from_millis(200));
    };
    let probe = ffprobe(&mp4.to_string_lossy(), false);
    assert_eq!(stream(&probe, "audio")["codec_name"], "opus", "{probe}");
    let hz = tone_hz(&decode_mono(&mp4));
    assert!(
        (hz - 1000.0).abs() < 20.0,
        "MP4: decoded tone at {hz:.1} Hz"
    );
}

#[test]
fn opus_to_a_legacy_server_falls_back_to_aac_with_a_warning() {
    let nginx = Nginx::start();
    let url = nginx.url("opus-fallback");
    let push = Command::new(onair())
        .args(["push", &url, "--preset", "640x360", "--audio-codec", "opus"])
        .args(["--seconds", "8"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start onair push");
    onair_testkit::peers::wait_until_live(&url, Duration::from_secs(20));
    let probe = ffprobe(&url, false);
    let push = push.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&push.stderr);
    assert!(push.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning ERROR_NOT_SUPPORTED")
            && stderr.contains("does not accept Opus")
            && stderr.contains("pushing AAC instead"),
        "{stderr}"
    );
    let a = stream(&probe, "audio");
    assert_eq!(a["codec_name"], "aac", "{probe}");
    // onMetaData says AAC too (FLV's sound format 10).
    if let Some(id) = probe["format"]["tags"].get("audiocodecid") {
        assert_eq!(num(id), 10.0, "{probe}");
    }
}

/// nginx-rtmp relays Enhanced RTMP audio but keeps only AAC's sequence header for players
/// that join later, so a late joiner of an Opus stream never sees the OpusHead: `onair play`
/// still plays the sound, opening the decoder from the first packet's TOC byte.
#[test]
fn onair_play_joining_an_opus_stream_late_on_nginx_plays_the_sound() {
    let nginx = Nginx::start();
    let url = nginx.url("opus-late");
    let mut publisher = Command::new(ffmpeg9())
        .args(["-v", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000"])
        .args(["-t", "20", "-c:v", "libx264", "-preset", "ultrafast"])
        .args([
            "-tune",
            "zerolatency",
            "-g",
            "25",
            "-c:a",
            "libopus",
            "-b:a",
            "64k",
        ])
        .args(["-f", "flv", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start FFmpeg 9");
    // Live (FFmpeg 9 reads a sound packet back; Debian's ffprobe reads no Enhanced RTMP audio)
    // means the OpusHead has gone by: every player from now on joins late.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Command::new(ffmpeg9())
        .args(["-v", "quiet", "-rw_timeout", "2000000", "-i", &url])
        .args(["-map", "0:a", "-frames:a", "1", "-f", "null", "-"])
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(Instant::now() < deadline, "{url} did not go live in 20 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    let seconds = 5.0;
    let dir = tempfile::tempdir().unwrap();
    let played = play_json(&url, seconds, &dir.path().join("last.png"));
    let _ = publisher.kill();
    let ff_err = publisher
        .wait_with_output()
        .map(|o| o.stderr)
        .unwrap_or_default();
    let (summary, stderr) =
        played.unwrap_or_else(|e| panic!("{e}\nFFmpeg 9: {}", String::from_utf8_lossy(&ff_err)));
    let audio_frames = num(&summary["audio_frames"]);
    assert!(
        audio_frames >= (seconds - 1.0) * 50.0,
        "onair play played {audio_frames} 20 ms audio frames in {seconds} s of a late-joined \
         Opus stream: {summary}\n{stderr}"
    );
}

#[test]
fn bad_opus_frame_durations_are_usage_errors() {
    let out = Command::new(onair())
        .args(["push", "rtmp://127.0.0.1:9/live/x", "--audio-codec", "opus"])
        .args(["--opus-frame-ms", "15"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("10 or 20"), "{stderr}");
}
