//! onMetaData between onair's [`OnMetaData`] and rml_rtmp's `StreamMetadata`.

use onair_flv::OnMetaData;
use rml_rtmp::sessions::StreamMetadata;

/// onair -> rml_rtmp (for publishing).
pub(crate) fn to_rtmp(m: &OnMetaData) -> StreamMetadata {
    let mut s = StreamMetadata::new();
    s.video_width = m.width.map(|v| v as u32);
    s.video_height = m.height.map(|v| v as u32);
    s.video_codec_id = m.videocodecid.map(|v| v as u32);
    s.video_frame_rate = m.framerate.map(|v| v as f32);
    s.video_bitrate_kbps = m.videodatarate.map(|v| v as u32);
    s.audio_codec_id = m.audiocodecid.map(|v| v as u32);
    s.audio_bitrate_kbps = m.audiodatarate.map(|v| v as u32);
    s.audio_sample_rate = m.audiosamplerate.map(|v| v as u32);
    s.audio_is_stereo = m.stereo;
    s.audio_channels = m.stereo.map(|st| if st { 2 } else { 1 });
    s.encoder = m.encoder.clone();
    s
}

/// rml_rtmp -> onair (for playing).
pub(crate) fn from_rtmp(s: &StreamMetadata) -> OnMetaData {
    OnMetaData {
        width: s.video_width.map(f64::from),
        height: s.video_height.map(f64::from),
        framerate: s.video_frame_rate.map(f64::from),
        videodatarate: s.video_bitrate_kbps.map(f64::from),
        videocodecid: s.video_codec_id.map(f64::from),
        audiodatarate: s.audio_bitrate_kbps.map(f64::from),
        audiosamplerate: s.audio_sample_rate.map(f64::from),
        audiosamplesize: None,
        stereo: s.audio_is_stereo,
        audiocodecid: s.audio_codec_id.map(f64::from),
        duration: None,
        encoder: s.encoder.clone(),
    }
}
