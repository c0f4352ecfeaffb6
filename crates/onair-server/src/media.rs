//! Media work the server does off the network path: the onMetaData script for HTTP-FLV and
//! recordings, screenshots (decode the GOP cache up to its newest picture, scale to 300 px wide,
//! JPEG), the FLV duration patch, and the scan that repairs a segment left open by a crash. The
//! FLV -> MP4 remux is `crate::mp4`.

use crate::error::{ServerError, ServerResult};
use crate::hub::Tag;
use bytes::Bytes;
use onair_codec::convert::{from_i420, to_encoder_i420};
use onair_codec::StillDecoder;
use onair_core::{PixelFormat, Size};
use onair_flv::{video_payload, FlvDemuxer, OnMetaData, TagType, VideoPayload};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The onMetaData script of a recording: the publisher's fields plus a `duration` placeholder.
/// Returns the body and the offset of the duration's 8-byte number within it.
pub fn recording_script(m: Option<&OnMetaData>) -> (Bytes, Option<usize>) {
    let mut md = OnMetaData {
        duration: Some(0.0),
        encoder: Some("onair-server".into()),
        ..Default::default()
    };
    if let Some(m) = m {
        md.width = m.width;
        md.height = m.height;
        md.framerate = m.framerate;
        md.videocodecid = m.videocodecid;
        md.audiocodecid = m.audiocodecid;
        md.audiosamplerate = m.audiosamplerate;
        md.stereo = m.stereo;
    }
    let body = md.to_script().unwrap_or_default();
    let needle = b"\x00\x08duration\x00";
    let at = body
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + needle.len());
    (body, at)
}

/// Writes `seconds` as the AMF0 number at byte `offset` of the file.
pub fn patch_duration(file: &mut std::fs::File, offset: u64, seconds: f64) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(&seconds.to_be_bytes())?;
    file.seek(SeekFrom::End(0))?;
    Ok(())
}

/// What a scan of an FLV file found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlvScan {
    /// First to last media timestamp, ms.
    pub duration_ms: u64,
    /// Bytes up to the end of the last complete tag.
    pub valid_len: u64,
    /// File offset of the onMetaData duration number, if the file has one.
    pub duration_offset: Option<u64>,
}

/// Scans an FLV file (a segment left open by a crash): its media duration and where the last
/// complete tag ends.
pub fn scan_flv(path: &Path) -> ServerResult<FlvScan> {
    let mut f = std::fs::File::open(path).map_err(|e| ServerError::io(path, e))?;
    let mut demux = FlvDemuxer::new();
    let mut buf = vec![0u8; 1 << 16];
    let (mut first, mut last) = (None, 0u32);
    let mut duration_offset = None;
    let mut valid_len = 0;
    loop {
        let n = f.read(&mut buf).map_err(|e| ServerError::io(path, e))?;
        if n == 0 {
            break;
        }
        demux.push(&buf[..n]);
        loop {
            match demux.next_tag() {
                Ok(Some(tag)) => {
                    valid_len = demux.offset();
                    match tag.tag_type {
                        TagType::Script if duration_offset.is_none() => {
                            let needle = b"\x00\x08duration\x00";
                            if let Some(p) =
                                tag.data.windows(needle.len()).position(|w| w == needle)
                            {
                                // header 9 + PreviousTagSize0 4 + tag header 11
                                duration_offset = Some(9 + 4 + 11 + (p + needle.len()) as u64);
                            }
                        }
                        TagType::Script => {}
                        _ => {
                            first.get_or_insert(tag.timestamp_ms);
                            last = last.max(tag.timestamp_ms);
                        }
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    return Ok(FlvScan {
                        duration_ms: u64::from(last.saturating_sub(first.unwrap_or(0))),
                        valid_len,
                        duration_offset,
                    })
                }
            }
        }
    }
    Ok(FlvScan {
        duration_ms: u64::from(last.saturating_sub(first.unwrap_or(0))),
        valid_len,
        duration_offset,
    })
}

/// A decoded, scaled screenshot.
#[derive(Debug, Clone)]
pub struct Screenshot {
    /// JPEG bytes.
    pub jpeg: Vec<u8>,
    /// Width (300 unless the source is narrower).
    pub width: u32,
    /// Height by aspect (even).
    pub height: u32,
}

/// Decodes the GOP up to its newest picture and returns it `target_width` wide as JPEG.
pub fn screenshot(video_seq: &Tag, gop: &[Tag], target_width: u32) -> ServerResult<Screenshot> {
    let merr = |e: onair_codec::CodecError| ServerError::Media(e.to_string());
    let Some(VideoPayload::Config { codec, record }) = video_payload(&video_seq.data) else {
        return Err(ServerError::Media("no video sequence header".into()));
    };
    let mut dec = StillDecoder::new(codec, &record).map_err(merr)?;
    let mut last = None;
    for t in gop.iter().filter(|t| t.tag_type == TagType::Video) {
        let Some(VideoPayload::Coded {
            codec: c,
            keyframe,
            composition_time_ms,
            data,
        }) = video_payload(&t.data)
        else {
            continue;
        };
        if c != codec {
            continue;
        }
        let (dts, pts) = t.decode_times(composition_time_ms);
        if let Ok(frames) = dec.decode(&data, keyframe, dts, pts) {
            if let Some(f) = frames.into_iter().last() {
                last = Some(f);
            }
        }
    }
    if let Ok(frames) = dec.flush() {
        if let Some(f) = frames.into_iter().last() {
            last = Some(f);
        }
    }
    let frame = last.ok_or_else(|| ServerError::Media("no picture decoded from the GOP".into()))?;
    let width = target_width.min(frame.width()) & !1;
    let height = ((u64::from(frame.height()) * u64::from(width) / u64::from(frame.width().max(1)))
        as u32
        & !1)
        .max(2);
    let size = Size { width, height };
    let scaled = to_encoder_i420(&frame, size, size, false).map_err(merr)?;
    let rgba = from_i420(&scaled, PixelFormat::Rgba32).map_err(merr)?;
    let rgb: Vec<u8> = rgba
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let img = image::RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| ServerError::Media("picture size mismatch".into()))?;
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&img)
        .map_err(|e| ServerError::Media(e.to_string()))?;
    Ok(Screenshot {
        jpeg,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_script_locates_its_duration() {
        let (body, at) = recording_script(None);
        let at = at.unwrap();
        assert_eq!(&body[at..at + 8], &0f64.to_be_bytes());
        let s = onair_flv::ScriptData::parse(&body).unwrap();
        assert_eq!(OnMetaData::from_script(&s).unwrap().duration, Some(0.0));
    }
}
