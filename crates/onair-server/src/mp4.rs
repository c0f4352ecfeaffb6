//! FLV -> MP4 remux of a recording, any codec onair carries: H.264 and legacy HEVC (codec id
//! 12), and the Enhanced RTMP `hvc1`, `av01`, `vp09` video; AAC (legacy or `mp4a`) and `Opus`
//! audio. The FLV is read with onair-flv's own parser (FFmpeg 5.1's FLV demuxer knows no
//! Enhanced RTMP), and the samples go to FFmpeg's MP4 muxer as stream copies with the
//! configuration record as the track's `avcC` / `hvcC` / `av1C` box and `faststart`.
//!
//! Two passes over the file: the first finds each track's configuration (and the picture size,
//! by decoding the first keyframe); the second writes the samples. Timestamps are the FLV's
//! milliseconds, made strictly increasing per track where a reconnect made them step back.
//! The first configuration of each track wins: a size change inside one segment is written
//! with the first record (players read it; strict ones may show the new size late).

use crate::error::{ServerError, ServerResult};
use crate::media::{video_payload, VideoPayload};
use bytes::Bytes;
use ffmpeg_next as ff;
use onair_codec::StillDecoder;
use onair_core::Timestamp;
use onair_flv::enhanced::{FourCc, FOURCC_AAC, FOURCC_OPUS, SOUND_FORMAT_EX_HEADER};
use onair_flv::{AudioSpecificConfig, FlvDemuxer, FlvTag, TagType};
use std::io::Read;
use std::path::Path;

/// An audio body, legacy AAC or Enhanced RTMP.
enum AudioPayload {
    Config { codec: FourCc, record: Bytes },
    Coded { codec: FourCc, data: Bytes },
}

fn audio_payload(body: &Bytes) -> Option<AudioPayload> {
    let first = *body.first()?;
    let format = first >> 4;
    if format == SOUND_FORMAT_EX_HEADER {
        let packet_type = first & 0x0f;
        let codec: FourCc = body.get(1..5)?.try_into().ok()?;
        let data = body.slice(5..);
        return match packet_type {
            0 => Some(AudioPayload::Config {
                codec,
                record: data,
            }),
            1 => Some(AudioPayload::Coded { codec, data }),
            _ => None,
        };
    }
    if format != onair_flv::audio::FORMAT_AAC || body.len() < 2 {
        return None;
    }
    let data = body.slice(2..);
    Some(match body[1] {
        0 => AudioPayload::Config {
            codec: FOURCC_AAC,
            record: data,
        },
        _ => AudioPayload::Coded {
            codec: FOURCC_AAC,
            data,
        },
    })
}

/// Calls `f` on every tag of an FLV file, in order, until it returns `false`.
fn for_each_tag(path: &Path, mut f: impl FnMut(FlvTag) -> bool) -> ServerResult<()> {
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
                // A segment cut by a crash ends in a torn tag: what came before stands.
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

/// What the first pass found.
#[derive(Default)]
struct Tracks {
    video: Option<(FourCc, Bytes)>,
    size: Option<(u32, u32)>,
    audio: Option<(FourCc, Bytes)>,
}

fn scan(flv: &Path) -> ServerResult<Tracks> {
    let mut t = Tracks::default();
    let mut decoder: Option<StillDecoder> = None;
    let mut tries = 0;
    for_each_tag(flv, |tag| {
        match tag.tag_type {
            TagType::Video => match video_payload(&tag.data) {
                Some(VideoPayload::Config { codec, record }) if t.video.is_none() => {
                    decoder = StillDecoder::new(codec, &record).ok();
                    t.video = Some((codec, record));
                }
                Some(VideoPayload::Coded {
                    codec,
                    data,
                    keyframe,
                    ..
                }) if t.size.is_none()
                    && (keyframe || tries > 0)
                    && t.video.as_ref().is_some_and(|v| v.0 == codec) =>
                {
                    if let Some(d) = decoder.as_mut() {
                        let ts = Timestamp::from_millis(u64::from(tag.timestamp_ms));
                        let mut frames = d.decode(&data, keyframe, ts, ts).unwrap_or_default();
                        tries += 1;
                        if frames.is_empty() && tries >= 8 {
                            frames = d.flush().unwrap_or_default();
                        }
                        if let Some(f) = frames.first() {
                            t.size = Some((f.width(), f.height()));
                        }
                    }
                }
                _ => {}
            },
            TagType::Audio => {
                if let (None, Some(AudioPayload::Config { codec, record })) =
                    (&t.audio, audio_payload(&tag.data))
                {
                    t.audio = Some((codec, record));
                }
            }
            _ => {}
        }
        !(t.video.is_some() && t.size.is_some() && t.audio.is_some())
    })?;
    Ok(t)
}

/// Sets a stream's codec parameters.
fn set_params(
    ost: &mut ff::format::stream::StreamMut<'_>,
    medium: ff::ffi::AVMediaType,
    id: ff::codec::Id,
    extradata: &[u8],
    fill: impl FnOnce(&mut ff::ffi::AVCodecParameters),
) -> ServerResult<()> {
    // SAFETY: the pointer is the stream's valid codecpar, owned by the output context; the
    // extradata buffer is allocated with av_mallocz (padding included) and handed over to it.
    unsafe {
        let par = &mut *ost.parameters().as_mut_ptr();
        par.codec_type = medium;
        par.codec_id = id.into();
        par.codec_tag = 0;
        if !extradata.is_empty() {
            let pad = ff::ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
            let p = ff::ffi::av_mallocz(extradata.len() + pad).cast::<u8>();
            if p.is_null() {
                return Err(ServerError::Media("out of memory for extradata".into()));
            }
            std::ptr::copy_nonoverlapping(extradata.as_ptr(), p, extradata.len());
            par.extradata = p;
            par.extradata_size = extradata.len() as i32;
        }
        fill(par);
    }
    Ok(())
}

fn video_codec_id(codec: FourCc) -> Option<ff::codec::Id> {
    Some(match &codec {
        b"avc1" => ff::codec::Id::H264,
        b"hvc1" => ff::codec::Id::HEVC,
        b"av01" => ff::codec::Id::AV1,
        b"vp09" => ff::codec::Id::VP9,
        _ => return None,
    })
}

/// Strictly increasing DTS per track, PTS never before DTS.
#[derive(Default)]
struct Clock {
    last: Option<i64>,
}

impl Clock {
    fn stamp(&mut self, dts: i64, cts: i64) -> (i64, i64) {
        let dts = match self.last {
            Some(l) if dts <= l => l + 1,
            _ => dts,
        };
        self.last = Some(dts);
        (dts, dts + cts.max(0))
    }
}

/// Remuxes an FLV recording to MP4 (stream copy, `faststart`).
pub fn remux_to_mp4(flv: &Path, mp4: &Path) -> ServerResult<()> {
    onair_codec::ffmpeg_init();
    let err = |e: ff::Error| ServerError::Media(format!("remux {}: {e}", flv.display()));
    let tracks = scan(flv)?;
    let mut output = ff::format::output_as(mp4, "mp4").map_err(err)?;
    let (mut video_index, mut audio_index) = (None, None);
    let mut n = 0;
    if let Some((codec, record)) = &tracks.video {
        let id = video_codec_id(*codec).ok_or_else(|| {
            ServerError::Media(format!(
                "remux {}: video FourCC {:?} has no MP4 mapping",
                flv.display(),
                String::from_utf8_lossy(codec)
            ))
        })?;
        let (w, h) = tracks.size.ok_or_else(|| {
            ServerError::Media(format!(
                "remux {}: no picture decodes, so the video size is unknown",
                flv.display()
            ))
        })?;
        // VP9's vpcC is built by the muxer from the parameters, not from extradata.
        let extradata = if codec == b"vp09" { &[][..] } else { record };
        let mut ost = output
            .add_stream(ff::encoder::find(ff::codec::Id::None))
            .map_err(err)?;
        set_params(
            &mut ost,
            ff::ffi::AVMediaType::AVMEDIA_TYPE_VIDEO,
            id,
            extradata,
            |p| {
                p.width = w as i32;
                p.height = h as i32;
                if id == ff::codec::Id::HEVC {
                    // `hvc1` (parameter sets in the hvcC), what Apple's players need, not the
                    // muxer's default `hev1`.
                    p.codec_tag = u32::from_le_bytes(*b"hvc1");
                }
            },
        )?;
        ost.set_time_base((1, 1000));
        video_index = Some(n);
        n += 1;
    }
    if let Some((codec, record)) = &tracks.audio {
        let (id, rate, channels) = match codec {
            &FOURCC_AAC => {
                let asc = AudioSpecificConfig::parse(record)
                    .map_err(|e| ServerError::Media(format!("remux {}: {e}", flv.display())))?;
                (ff::codec::Id::AAC, asc.sample_rate, asc.channels.max(1))
            }
            // OpusHead: channel count at byte 9.
            &FOURCC_OPUS => (
                ff::codec::Id::OPUS,
                48_000,
                record.get(9).copied().unwrap_or(2),
            ),
            other => {
                return Err(ServerError::Media(format!(
                    "remux {}: audio FourCC {:?} has no MP4 mapping",
                    flv.display(),
                    String::from_utf8_lossy(other)
                )))
            }
        };
        let mut ost = output
            .add_stream(ff::encoder::find(ff::codec::Id::None))
            .map_err(err)?;
        set_params(
            &mut ost,
            ff::ffi::AVMediaType::AVMEDIA_TYPE_AUDIO,
            id,
            record,
            |p| {
                p.sample_rate = rate as i32;
                // SAFETY: `ch_layout` belongs to these parameters; the default layout for a
                // channel count needs no allocation.
                unsafe {
                    ff::ffi::av_channel_layout_default(&mut p.ch_layout, i32::from(channels))
                };
            },
        )?;
        ost.set_time_base((1, 1000));
        audio_index = Some(n);
        n += 1;
    }
    if n == 0 {
        return Err(ServerError::Media(format!(
            "remux {}: no audio or video configuration in the file",
            flv.display()
        )));
    }
    let mut opts = ff::Dictionary::new();
    opts.set("movflags", "faststart");
    output.write_header_with(opts).map_err(err)?;
    let tb = |output: &ff::format::context::Output, i: usize| {
        output
            .stream(i)
            .map_or(ff::Rational(1, 1000), |s| s.time_base())
    };
    let (video_tb, audio_tb) = (
        video_index.map(|i| tb(&output, i)),
        audio_index.map(|i| tb(&output, i)),
    );
    let (video_codec, audio_codec) = (
        tracks.video.as_ref().map(|v| v.0),
        tracks.audio.as_ref().map(|a| a.0),
    );
    let (mut vclock, mut aclock) = (Clock::default(), Clock::default());
    let mut failure = None;
    for_each_tag(flv, |tag| {
        let ms = i64::from(tag.timestamp_ms);
        let (index, tb, data, key, (dts, pts)) = match tag.tag_type {
            TagType::Video => match video_payload(&tag.data) {
                Some(VideoPayload::Coded {
                    codec,
                    keyframe,
                    composition_time_ms,
                    data,
                }) if Some(codec) == video_codec => (
                    video_index,
                    video_tb,
                    data,
                    keyframe,
                    vclock.stamp(ms, i64::from(composition_time_ms)),
                ),
                _ => return true,
            },
            TagType::Audio => match audio_payload(&tag.data) {
                Some(AudioPayload::Coded { codec, data }) if Some(codec) == audio_codec => {
                    (audio_index, audio_tb, data, true, aclock.stamp(ms, 0))
                }
                _ => return true,
            },
            _ => return true,
        };
        let (Some(index), Some(tb)) = (index, tb) else {
            return true;
        };
        if data.is_empty() {
            return true;
        }
        let mut packet = ff::Packet::copy(&data);
        packet.set_stream(index);
        packet.set_dts(Some(dts));
        packet.set_pts(Some(pts));
        if key {
            packet.set_flags(ff::packet::Flags::KEY);
        }
        packet.rescale_ts(ff::Rational(1, 1000), tb);
        match packet.write_interleaved(&mut output) {
            Ok(()) => true,
            Err(e) => {
                failure = Some(err(e));
                false
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    output.write_trailer().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_only_move_forward() {
        let mut c = Clock::default();
        assert_eq!(c.stamp(0, 0), (0, 0));
        assert_eq!(c.stamp(33, 33), (33, 66));
        assert_eq!(c.stamp(20, -5), (34, 34), "a step back after a reconnect");
        assert_eq!(c.stamp(67, 0), (67, 67));
    }

    #[test]
    fn audio_bodies() {
        let aac = audio_payload(&Bytes::from_static(&[0xaf, 0, 0x11, 0x90])).unwrap();
        assert!(matches!(aac, AudioPayload::Config { codec, .. } if codec == FOURCC_AAC));
        let opus = audio_payload(&Bytes::from_static(b"\x91Opus\x01\x02")).unwrap();
        assert!(
            matches!(opus, AudioPayload::Coded { codec, data } if codec == FOURCC_OPUS && data[..] == [1, 2])
        );
        assert!(
            audio_payload(&Bytes::from_static(&[0x2f, 1])).is_none(),
            "MP3"
        );
        assert!(audio_payload(&Bytes::from_static(b"\x90Op")).is_none());
    }
}
