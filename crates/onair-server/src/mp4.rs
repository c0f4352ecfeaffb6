//! FLV -> MP4 remux of a closed recording segment, any codec onair carries (H.264, legacy and
//! Enhanced RTMP HEVC, AV1, VP9; AAC, Opus): the FLV is read with onair-flv's own parser (FFmpeg
//! 5.1's FLV demuxer knows no Enhanced RTMP) and written by `onair_codec::Mp4TagWriter`
//! (FFmpeg's MP4 muxer, stream copies, `faststart`; facts in `docs/rtmp.md`). The first
//! configuration of each track wins: a size change inside one segment is written with the
//! first record (segments are cut at resolution changes, so that is rare).

use crate::error::{ServerError, ServerResult};
use onair_codec::{Mp4Layout, Mp4TagWriter, Mp4Tracks};
use onair_flv::{FlvDemuxer, FlvTag};
use std::io::Read;
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
    if !writer.finish().map_err(err)? {
        return Err(ServerError::Media(format!(
            "remux {}: no audio or video configuration in the file",
            flv.display()
        )));
    }
    Ok(())
}
