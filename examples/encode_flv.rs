//! Writes the counter-stamped test pattern with a 1 kHz tone to an FLV file, through the same
//! encoders the pusher uses (openh264 H.264, FFmpeg AAC).
//!
//! ```sh
//! cargo run --release --example encode_flv -- --preset 1280x720 --fps 30 --seconds 5 --out out.flv
//! cargo run --release --example encode_flv -- --preset 960x540 --portrait --audio music --out p.flv
//! ```

use bytes::BytesMut;
use clap::Parser;
use onair_codec::flv_tags::{audio_config_tag, audio_tag, interleave, video_tags};
use onair_codec::{
    AacEncoder, AudioEncoder, EncoderOptions, OpenH264Encoder, TestPattern, Tone, VideoEncoder,
};
use onair_core::{
    Alignment, AudioFrame, AudioQuality, ResolutionMode, Timestamp, VideoEncoderParam,
    VideoResolution,
};
use onair_flv::{FlvHeader, FlvTag, OnMetaData, TagType};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// Encode the test pattern and a tone to an FLV file.
#[derive(Debug, Parser)]
struct Args {
    /// Resolution preset, e.g. 1280x720 (one of the 12 presets).
    #[arg(long, default_value = "1280x720")]
    preset: VideoResolution,
    /// Portrait mode: swap width and height.
    #[arg(long)]
    portrait: bool,
    /// Frames per second (1..=60).
    #[arg(long, default_value_t = 30)]
    fps: u32,
    /// Target video bitrate in kbps (0 = the preset's default).
    #[arg(long, default_value_t = 0)]
    bitrate: u32,
    /// Length in seconds.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Audio quality: speech, default or music.
    #[arg(long, default_value = "default")]
    audio: AudioQuality,
    /// Output FLV file.
    #[arg(long)]
    out: PathBuf,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn run(args: &Args) -> Result<String, String> {
    let mode = if args.portrait {
        ResolutionMode::Portrait
    } else {
        ResolutionMode::Landscape
    };
    let param = VideoEncoderParam::new(args.preset, mode, args.fps, args.bitrate, 0)
        .map_err(|e| e.to_string())?;
    if !(args.seconds > 0.0 && args.seconds <= 3600.0) {
        return Err(format!(
            "--seconds {}: expected a value in (0, 3600]",
            args.seconds
        ));
    }
    let mut encoder = OpenH264Encoder::new(
        param.resolve(Alignment::SOFTWARE),
        EncoderOptions::default(),
    )
    .map_err(|e| e.to_string())?;
    let target = encoder.target();
    let mut aac = AacEncoder::new(args.audio).map_err(|e| e.to_string())?;
    let pattern = TestPattern::new(target.size.width, target.size.height);
    let mut tone = Tone::new(1000.0, args.audio.sample_rate(), args.audio.channels());

    let metadata = OnMetaData {
        width: Some(f64::from(target.size.width)),
        height: Some(f64::from(target.size.height)),
        framerate: Some(f64::from(target.fps)),
        videodatarate: Some(f64::from(target.bitrate_kbps)),
        videocodecid: Some(7.0),
        audiodatarate: Some(f64::from(args.audio.bitrate_kbps())),
        audiosamplerate: Some(f64::from(args.audio.sample_rate())),
        audiosamplesize: Some(16.0),
        stereo: Some(args.audio.channels() == 2),
        audiocodecid: Some(10.0),
        duration: Some(args.seconds),
        encoder: Some(format!("onair {}", env!("CARGO_PKG_VERSION"))),
    };
    let mut video = Vec::new();
    let frames = (args.seconds * f64::from(target.fps)).round() as u64;
    for n in 0..frames {
        let pts = Timestamp::from_micros(n * 1_000_000 / u64::from(target.fps));
        let frame = pattern.frame(n as u32, now_ms(), pts, false);
        if let Some(encoded) = encoder.encode(&frame).map_err(|e| e.to_string())? {
            video.extend(video_tags(&encoded));
        }
    }
    let mut audio = vec![audio_config_tag(&aac.config(), 0)];
    let total = (args.seconds * f64::from(args.audio.sample_rate())).round() as u64;
    let per_frame = u64::from(args.audio.sample_rate() / 50);
    let mut done = 0;
    while done < total {
        let n = per_frame.min(total - done);
        let pts = Timestamp::from_samples(done, args.audio.sample_rate());
        let pcm = AudioFrame::from_samples(
            &tone.next_samples(n as usize),
            args.audio.sample_rate(),
            args.audio.channels(),
        )
        .map_err(|e| e.to_string())?
        .with_timestamp(pts);
        audio.extend(
            aac.encode(&pcm)
                .map_err(|e| e.to_string())?
                .iter()
                .map(audio_tag),
        );
        done += n;
    }
    audio.extend(
        aac.flush()
            .map_err(|e| e.to_string())?
            .iter()
            .map(audio_tag),
    );

    let mut tags = vec![FlvTag::new(
        TagType::Script,
        0,
        metadata.to_script().map_err(|e| e.to_string())?,
    )];
    tags.extend(interleave(video, audio));
    let mut out = BytesMut::from(
        &FlvHeader {
            has_audio: true,
            has_video: true,
        }
        .encode()[..],
    );
    for t in &tags {
        t.encode_into(&mut out);
    }
    std::fs::write(&args.out, &out)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    Ok(format!(
        "wrote {}: {} {} @ {} fps, {} frames, {} audio ({} Hz x {}), {} bytes",
        args.out.display(),
        target.size,
        if args.portrait {
            "portrait"
        } else {
            "landscape"
        },
        target.fps,
        frames,
        args.audio,
        args.audio.sample_rate(),
        args.audio.channels(),
        out.len()
    ))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("encode_flv: {e}");
            ExitCode::FAILURE
        }
    }
}
