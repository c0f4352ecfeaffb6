//! onMetaData from onair's [`OnMetaData`] to rml_rtmp's `StreamMetadata` for publishing (players
//! receive the script data raw, through the media tap).

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
