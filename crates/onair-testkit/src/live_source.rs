//! A live source of real FLV tags for transport tests and benches: the stamped test pattern and
//! a tone, encoded with onair's encoders, then handed out at their timestamps (paced in real
//! time by the caller).

use onair_codec::flv_tags::{audio_config_tag, audio_tag, interleave, video_tags};
use onair_codec::{
    AacEncoder, AudioEncoder, EncoderOptions, OpenH264Encoder, TestPattern, Tone, VideoEncoder,
};
use onair_core::{
    Alignment, AudioFrame, AudioQuality, ResolutionMode, Timestamp, VideoEncoderParam,
    VideoResolution,
};
use onair_flv::{FlvTag, OnMetaData, TagType};

/// Encodes `seconds` of the pattern at `preset`/`fps`/`kbps` with `quality` audio and returns
/// every tag in timestamp order (metadata and sequence headers first). `gop_seconds` sets the
/// keyframe interval.
pub fn encoded_tags(
    preset: VideoResolution,
    fps: u32,
    kbps: u32,
    quality: AudioQuality,
    seconds: u32,
    gop_seconds: f32,
) -> Vec<FlvTag> {
    let param = VideoEncoderParam::new(preset, ResolutionMode::Landscape, fps, kbps, 0)
        .expect("valid parameters");
    let target = param.resolve(Alignment::SOFTWARE);
    let mut enc = OpenH264Encoder::new(target, EncoderOptions { gop_seconds }).expect("encoder");
    let pattern = TestPattern::new(target.size.width, target.size.height);
    let md = OnMetaData {
        width: Some(f64::from(target.size.width)),
        height: Some(f64::from(target.size.height)),
        framerate: Some(f64::from(fps)),
        videocodecid: Some(7.0),
        audiocodecid: Some(10.0),
        audiosamplerate: Some(f64::from(quality.sample_rate())),
        stereo: Some(quality.channels() == 2),
        ..Default::default()
    };
    let mut video = Vec::new();
    for n in 0..u64::from(fps * seconds) {
        let f = pattern.frame(
            n as u32,
            n,
            Timestamp::from_micros(n * 1_000_000 / u64::from(fps)),
            false,
        );
        if let Some(e) = enc.encode(&f).expect("encode") {
            video.extend(video_tags(&e));
        }
    }
    let mut aac = AacEncoder::new(quality).expect("aac");
    let mut audio = vec![audio_config_tag(&aac.config(), 0)];
    let mut tone = Tone::new(1000.0, quality.sample_rate(), quality.channels());
    let per = quality.samples_per_20ms();
    for k in 0..(seconds as usize * 50) {
        let pts = Timestamp::from_samples((k * per) as u64, quality.sample_rate());
        let f = AudioFrame::from_samples(
            &tone.next_samples(per),
            quality.sample_rate(),
            quality.channels(),
        )
        .expect("pcm")
        .with_timestamp(pts);
        audio.extend(aac.encode(&f).expect("aac").iter().map(audio_tag));
    }
    let mut tags = vec![FlvTag::new(
        TagType::Script,
        0,
        md.to_script().expect("metadata"),
    )];
    tags.extend(interleave(video, audio));
    tags
}
