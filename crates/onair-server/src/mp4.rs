//! FLV -> MP4 and FLV -> AAC (ADTS) remux of a closed recording segment. MP4 takes any codec onair carries (H.264, legacy and
//! Enhanced RTMP HEVC, AV1, VP9; AAC, Opus): the FLV is read with onair-flv's own parser (FFmpeg
//! 5.1's FLV demuxer knows no Enhanced RTMP) and written by `onair_codec::Mp4TagWriter`
//! (FFmpeg's MP4 muxer, stream copies, `faststart`; facts in `docs/rtmp.md`). The first
//! configuration of each track wins: a size change inside one segment is written with the
//! first record (segments are cut at resolution changes, so that is rare). The AAC file is the
//! segment's AAC frames, each behind its 7-byte ADTS header (the `.aac` every player reads).

use crate::error::{ServerError, ServerResult};
use onair_codec::{Mp4Layout, Mp4TagWriter, Mp4Tracks};
use onair_flv::{audio_payload, AudioPayload, AudioSpecificConfig, FlvDemuxer, FlvTag, TagType};
use std::io::{Read, Write};
use std::path::Path;

/// Calls `f` on every tag of an FLV file, in order, until it returns `false`. A torn last tag
/// (a segment cut by a crash) ends the file.
pub fn for_each_tag(path: &Path, mut f: impl FnMut(FlvTag) -> bool) -> ServerResult<()> {
    let mut file = std::fs::File::open(path).map_err(|e| ServerError::io(path, e))?;
    let mut demux = FlvDemuxer::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        loop {
            match demux.next_tag() {
                Ok(Some(tag)) => {
                    if !f(tag) {
                        return Ok(());
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("remux {}: {e}; the rest is skipped", path.display());
                    return Ok(());
                }
            }
        }
        let n = file.read(&mut buf).map_err(|e| ServerError::io(path, e))?;
        if n == 0 {
            return Ok(());
        }
        demux.push(&buf[..n]);
    }
}

/// Remuxes an FLV recording to MP4 (stream copy, `faststart`).
pub fn remux_to_mp4(flv: &Path, mp4: &Path) -> ServerResult<()> {
    let err =
        |e: onair_codec::CodecError| ServerError::Media(format!("remux {}: {e}", flv.display()));
    let mut writer = Mp4TagWriter::new(mp4, Mp4Layout::Faststart, Mp4Tracks::BOTH);
    let mut failure = None;
    for_each_tag(flv, |tag| match writer.push(tag) {
        Ok(_) => true,
        Err(e) => {
            failure = Some(err(e));
            false
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if writer.finish().map_err(err)?.is_none() {
        return Err(ServerError::Media(format!(
            "remux {}: no audio or video configuration in the file",
            flv.display()
        )));
    }
    Ok(())
}

/// Writes the AAC frames of an FLV recording as ADTS. An error when the file has no AAC.
pub fn remux_to_aac(flv: &Path, aac: &Path) -> ServerResult<()> {
    let file = std::fs::File::create(aac).map_err(|e| ServerError::io(aac, e))?;
    let mut out = std::io::BufWriter::new(file);
    let mut config: Option<AudioSpecificConfig> = None;
    let mut frames = 0u64;
    let mut failure = None;
    for_each_tag(flv, |tag| {
        if tag.tag_type != TagType::Audio {
            return true;
        }
        let step = match audio_payload(&tag.data) {
            Some(AudioPayload::Config { codec, record }) if codec == *b"mp4a" => {
                AudioSpecificConfig::parse(&record)
                    .map(|c| config = Some(c))
                    .map_err(|e| e.to_string())
            }
            Some(AudioPayload::Coded { codec, data }) if codec == *b"mp4a" => match &config {
                Some(c) => onair_codec::audio_decoder::adts_header(c, data.len())
                    .map_err(|e| e.to_string())
                    .and_then(|h| {
                        out.write_all(&h)
                            .and_then(|()| out.write_all(&data))
                            .map_err(|e| e.to_string())
                    })
                    .map(|()| frames += 1),
                None => Ok(()),
            },
            _ => Ok(()),
        };
        match step {
            Ok(()) => true,
            Err(e) => {
                failure = Some(e);
                false
            }
        }
    })?;
    out.flush().map_err(|e| ServerError::io(aac, e))?;
    if let Some(e) = failure {
        return Err(ServerError::Media(format!(
            "AAC from {}: {e}",
            flv.display()
        )));
    }
    if frames == 0 {
        let _ = std::fs::remove_file(aac);
        return Err(ServerError::Media(format!(
            "AAC from {}: the segment has no AAC audio",
            flv.display()
        )));
    }
    Ok(())
}
