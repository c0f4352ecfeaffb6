//! The microphone through a real capture device without a sound card: a private PulseAudio
//! server's null sink plays a 1 kHz tone (ffmpeg), start_microphone captures the sink's monitor
//! through cpal (ALSA's pulse plugin), the pusher publishes it to the embedded server, and
//! ffmpeg decodes the audio back from HTTP-FLV: its spectral peak is at 1 kHz +/- 20 Hz.
//!
//! One test in its own binary: it points PULSE_SERVER at the private server before any other
//! thread runs.

use onair::*;
use onair_testkit::desktop::PulseAudio;
use onair_testkit::peers::run;
use rustfft::{num_complex::Complex, FftPlanner};
use std::time::Duration;

/// The frequency (Hz) of the largest bin of a Hann-windowed FFT of `pcm` at `rate`.
fn spectral_peak(pcm: &[i16], rate: u32) -> (f64, f64) {
    let n = pcm.len();
    let mut buf: Vec<Complex<f64>> = pcm
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
            Complex::new(f64::from(s) * w, 0.0)
        })
        .collect();
    FftPlanner::new().plan_fft_forward(n).process(&mut buf);
    let (bin, mag) = buf[1..n / 2]
        .iter()
        .enumerate()
        .map(|(i, c)| (i + 1, c.norm()))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    (bin as f64 * f64::from(rate) / n as f64, mag)
}

#[test]
fn a_tone_into_a_null_sink_comes_back_at_1khz() {
    let pulse = PulseAudio::start();
    // SAFETY-free in edition 2021, and sound here: no other thread of this binary runs yet.
    std::env::set_var("PULSE_SERVER", pulse.server());
    let _tone = pulse.play_tone(1000, 60);

    let dir = tempfile::tempdir().unwrap();
    let server = onair_testkit::peers::embedded_server(dir.path());

    let pusher = V2TXLivePusher::new();
    // A device that does not exist: MICROPHONE_START_FAILED, saying which.
    let e = pusher
        .start_microphone(Some("no-such-microphone"))
        .unwrap_err();
    assert_eq!(e.code, V2TXLiveCode::WarningMicrophoneStartFailed, "{e}");
    assert!(e.message.contains("no-such-microphone"), "{e}");
    // A still picture as the video source: its built-in audio is silence, so the only tone in
    // the stream is the one the microphone captured.
    let still = dir.path().join("still.png");
    image::RgbaImage::from_pixel(320, 240, image::Rgba([40, 90, 160, 255]))
        .save(&still)
        .unwrap();
    pusher.start_virtual_camera(&still).unwrap();
    let quality = AudioQuality::Default; // 48 kHz mono
    pusher.set_audio_quality(quality).unwrap();
    if let Err(e) = pusher.start_microphone(None) {
        panic!(
            "start_microphone through PulseAudio failed: {e}\n(needs the pulseaudio and \
             libasound2-plugins packages: cargo xtask setup)\npulseaudio log:\n{}",
            pulse.log()
        );
    }
    pusher
        .start_push(&server.push_url("live", "mic", Duration::from_secs(600)))
        .unwrap();
    let flv = format!("{}/live/mic.flv", server.http_base());
    onair_testkit::peers::wait_until_live(&flv, Duration::from_secs(20));
    let out = run(
        "ffmpeg",
        &[
            "-v", "error", "-i", &flv, "-t", "4", "-vn", "-ac", "1", "-ar", "48000", "-f", "s16le",
            "-",
        ],
    );
    pusher.stop_push().unwrap();
    pusher.stop_microphone().unwrap();
    server.stop();

    let pcm: Vec<i16> = out
        .stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert!(pcm.len() >= 48_000 * 3, "{} samples decoded", pcm.len());
    let tail = &pcm[pcm.len() - 48_000 * 2..];
    let rms = (tail.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / tail.len() as f64).sqrt();
    let (peak, _) = spectral_peak(tail, 48_000);
    eprintln!("decoded microphone audio: rms {rms:.0}, spectral peak {peak:.1} Hz");
    assert!(
        rms > 1000.0,
        "the captured tone is too quiet (rms {rms:.0}): nothing was captured"
    );
    assert!(
        (peak - 1000.0).abs() <= 20.0,
        "spectral peak at {peak:.1} Hz, expected 1 kHz +/- 20 Hz"
    );
}
