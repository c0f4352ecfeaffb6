//! MP4 from FLV tags, for the server's recordings and the engines' local recordings:
//! [`Mp4Writer`] feeds FFmpeg's MP4 muxer stream copies with the configuration record as the
//! track's `avcC` / `hvcC` (`hvc1`, what Apple's players need) / `av1C` box (VP9's vpcC the
//! muxer builds itself), AAC's AudioSpecificConfig or Opus's OpusHead; [`Mp4TagWriter`] takes
//! FLV tags (legacy or Enhanced RTMP, through `onair_flv::payload`), holds them until it knows
//! every track (the picture size by decoding the first keyframe), then writes.
//!
//! Two layouts: [`Mp4Layout::Faststart`] (the index in front, written when the file is
//! finished) and [`Mp4Layout::Fragmented`] (an empty `moov`, then a `moof`/`mdat` fragment at
//! every keyframe and at least every 500 ms, each flushed to the file: a crash or `kill -9`
//! leaves a file that plays up to the last fragment). Timestamps are the FLV's milliseconds,
//! made strictly increasing per track; pts = dts + composition time, never below dts.

use crate::any_decoder::FfmpegVideoDecoder;
use crate::error::{CodecError, CodecResult};
use crate::muxer::OutputContext;
use bytes::Bytes;
use ffmpeg_next as ff;
use onair_core::Timestamp;
use onair_flv::enhanced::{FourCc, FOURCC_AAC, FOURCC_OPUS};
use onair_flv::{
    audio_payload, video_payload, AudioPayload, AudioSpecificConfig, FlvTag, TagType, VideoPayload,
};
use std::path::{Path, PathBuf};

/// A video track: codec, record and picture size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoTrack {
    /// `avc1`, `hvc1`, `av01` or `vp09`.
    pub codec: FourCc,
    /// The configuration record from the sequence header.
    pub record: Bytes,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
}

/// An audio track: codec and record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioTrack {
    /// `mp4a` or `Opus`.
    pub codec: FourCc,
    /// AudioSpecificConfig or OpusHead.
    pub record: Bytes,
}

/// How the MP4 is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mp4Layout {
    /// The index first, written on [`Mp4Writer::finish`] (recordings of closed segments).
    Faststart,
    /// Fragments flushed as they are cut (live recordings: a crash loses at most the last).
    Fragmented,
}

/// Strictly increasing DTS per track, PTS never before DTS.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    last: Option<i64>,
}

impl Clock {
    pub(crate) fn stamp(&mut self, dts: i64, cts: i64) -> (i64, i64) {
        let dts = match self.last {
            Some(l) if dts <= l => l + 1,
            _ => dts,
        };
        self.last = Some(dts);
        (dts, dts + cts.max(0))
    }
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

fn fourcc_name(c: &FourCc) -> String {
    String::from_utf8_lossy(c).into_owned()
}

/// Sets a new stream's codec parameters.
fn set_params(
    ost: *mut ff::ffi::AVStream,
    medium: ff::ffi::AVMediaType,
    id: ff::codec::Id,
    extradata: &[u8],
    fill: impl FnOnce(&mut ff::ffi::AVCodecParameters),
) -> CodecResult<()> {
    // SAFETY: `ost` is a stream just added to a live output context, and its codecpar is
    // valid and owned by it; the extradata buffer is allocated with av_mallocz (padding
    // included) and handed over to it. The time base is a plain field.
    unsafe {
        (*ost).time_base = ff::ffi::AVRational { num: 1, den: 1000 };
        let par = &mut *(*ost).codecpar;
        par.codec_type = medium;
        par.codec_id = id.into();
        par.codec_tag = 0;
        if !extradata.is_empty() {
            let pad = ff::ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
            let p = ff::ffi::av_mallocz(extradata.len() + pad).cast::<u8>();
            if p.is_null() {
                return Err(CodecError::ffmpeg("out of memory for extradata"));
            }
            std::ptr::copy_nonoverlapping(extradata.as_ptr(), p, extradata.len());
            par.extradata = p;
            par.extradata_size = extradata.len() as i32;
        }
        fill(par);
    }
    Ok(())
}

/// Adds the video and audio streams (stream copies, 1/1000 time base) to `output`; returns
/// their indices. Shared by the MP4 and MPEG-TS writers.
pub(crate) fn add_tracks(
    output: &mut OutputContext,
    video: Option<&VideoTrack>,
    audio: Option<&AudioTrack>,
) -> CodecResult<(Option<usize>, Option<usize>)> {
    let (mut video_index, mut audio_index) = (None, None);
    if let Some(v) = video {
        let id = video_codec_id(v.codec).ok_or_else(|| {
            CodecError::Unsupported(format!(
                "video {} has no MP4 mapping",
                fourcc_name(&v.codec)
            ))
        })?;
        // VP9's vpcC is built by the muxer from the parameters, not from extradata.
        let extradata = if &v.codec == b"vp09" {
            &[][..]
        } else {
            &v.record[..]
        };
        let (index, ost) = output.add_stream()?;
        set_params(
            ost,
            ff::ffi::AVMediaType::AVMEDIA_TYPE_VIDEO,
            id,
            extradata,
            |p| {
                p.width = v.width as i32;
                p.height = v.height as i32;
                if id == ff::codec::Id::HEVC {
                    // `hvc1` (parameter sets in the hvcC), not the muxer's default `hev1`.
                    p.codec_tag = u32::from_le_bytes(*b"hvc1");
                }
            },
        )?;
        video_index = Some(index);
    }
    if let Some(a) = audio {
        let (id, rate, channels) = match a.codec {
            FOURCC_AAC => {
                let asc = AudioSpecificConfig::parse(&a.record)
                    .map_err(|e| CodecError::InvalidInput(e.to_string()))?;
                (ff::codec::Id::AAC, asc.sample_rate, asc.channels.max(1))
            }
            // OpusHead: channel count at byte 9.
            FOURCC_OPUS => (
                ff::codec::Id::OPUS,
                48_000,
                a.record.get(9).copied().unwrap_or(2),
            ),
            other => {
                return Err(CodecError::Unsupported(format!(
                    "audio {} has no MP4 mapping",
                    fourcc_name(&other)
                )))
            }
        };
        let (index, ost) = output.add_stream()?;
        set_params(
            ost,
            ff::ffi::AVMediaType::AVMEDIA_TYPE_AUDIO,
            id,
            &a.record,
            |p| {
                p.sample_rate = rate as i32;
                // SAFETY: `ch_layout` belongs to these parameters; a default layout for a
                // channel count needs no allocation.
                unsafe {
                    ff::ffi::av_channel_layout_default(&mut p.ch_layout, i32::from(channels))
                };
            },
        )?;
        audio_index = Some(index);
    }
    Ok((video_index, audio_index))
}

/// An MP4 file being written.
pub struct Mp4Writer {
    path: PathBuf,
    output: OutputContext,
    video: Option<(usize, ff::Rational)>,
    audio: Option<(usize, ff::Rational)>,
    vclock: Clock,
    aclock: Clock,
    span: Option<(i64, i64)>,
}

impl std::fmt::Debug for Mp4Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mp4Writer")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Mp4Writer {
    /// Creates `path` (replacing it) with the tracks given and writes the header.
    pub fn create(
        path: &Path,
        video: Option<&VideoTrack>,
        audio: Option<&AudioTrack>,
        layout: Mp4Layout,
    ) -> CodecResult<Self> {
        crate::ffmpeg_init()?;
        if video.is_none() && audio.is_none() {
            return Err(CodecError::InvalidInput(format!(
                "MP4 {}: no audio or video track",
                path.display()
            )));
        }
        let label = format!("MP4 {}", path.display());
        let mut output = OutputContext::new("mp4", Some(path), label)?;
        let (video_index, audio_index) = add_tracks(&mut output, video, audio)?;
        let options: &[(&str, &str)] = match layout {
            Mp4Layout::Faststart => &[("movflags", "faststart")],
            Mp4Layout::Fragmented => &[
                ("movflags", "frag_keyframe+empty_moov+default_base_moof"),
                ("frag_duration", "500000"),
                ("flush_packets", "1"),
            ],
        };
        output.write_header(options)?;
        let tb = |i: Option<usize>| i.map(|i| (i, output.time_base(i)));
        let (video, audio) = (tb(video_index), tb(audio_index));
        Ok(Self {
            path: path.to_path_buf(),
            output,
            video,
            audio,
            vclock: Clock::default(),
            aclock: Clock::default(),
            span: None,
        })
    }

    fn write(
        &mut self,
        track: Option<(usize, ff::Rational)>,
        (dts, pts): (i64, i64),
        key: bool,
        data: &[u8],
    ) -> CodecResult<()> {
        let Some((index, tb)) = track else {
            return Ok(());
        };
        if data.is_empty() {
            return Ok(());
        }
        let mut packet = ff::Packet::copy(data);
        packet.set_stream(index);
        packet.set_dts(Some(dts));
        packet.set_pts(Some(pts));
        if key {
            packet.set_flags(ff::packet::Flags::KEY);
        }
        packet.rescale_ts(ff::Rational(1, 1000), tb);
        self.output.write(Some(&mut packet), true)?;
        self.span = Some(match self.span {
            None => (dts, dts),
            Some((first, last)) => (first, last.max(dts)),
        });
        Ok(())
    }

    /// Writes one video sample at `dts_ms` (+ `cts_ms` for its pts).
    pub fn write_video(
        &mut self,
        dts_ms: i64,
        cts_ms: i64,
        keyframe: bool,
        data: &[u8],
    ) -> CodecResult<()> {
        let t = self.vclock.stamp(dts_ms, cts_ms);
        self.write(self.video, t, keyframe, data)
    }

    /// Writes one audio frame at `dts_ms`.
    pub fn write_audio(&mut self, dts_ms: i64, data: &[u8]) -> CodecResult<()> {
        let t = self.aclock.stamp(dts_ms, 0);
        self.write(self.audio, t, true, data)
    }

    /// Milliseconds from the first sample written to the last.
    pub fn duration_ms(&self) -> u64 {
        self.span.map_or(0, |(a, b)| (b - a).max(0) as u64)
    }

    /// Writes the index (and for faststart moves it in front): the file is complete.
    pub fn finish(mut self) -> CodecResult<()> {
        self.output.write_trailer()
    }
}

/// Tags held before the header at most (about 10 s of 30 fps video with audio): past that the
/// file starts with the tracks known so far.
const MAX_PENDING: usize = 1000;

/// Which tracks a [`Mp4TagWriter`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mp4Tracks {
    /// Keep video.
    pub video: bool,
    /// Keep audio.
    pub audio: bool,
}

impl Mp4Tracks {
    /// Audio and video.
    pub const BOTH: Self = Self {
        video: true,
        audio: true,
    };
}

/// What [`Mp4TagWriter::push`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOutcome {
    /// Written or held.
    Taken,
    /// A video configuration with another picture size than the file's (or another codec):
    /// the file cannot take it (LiteAV's recording ends with -2 there).
    VideoChanged,
}

/// FLV tags in, an MP4 out (see the module docs).
pub struct Mp4TagWriter {
    path: PathBuf,
    layout: Mp4Layout,
    keep: Mp4Tracks,
    video: Option<VideoTrack>,
    audio: Option<AudioTrack>,
    /// The first video record, until the size is known.
    sizing: Option<(FourCc, Bytes, Option<FfmpegVideoDecoder>)>,
    pending: Vec<FlvTag>,
    writer: Option<Mp4Writer>,
    /// A video keyframe was written: pictures before the first one cannot be decoded.
    keyed: bool,
}

impl std::fmt::Debug for Mp4TagWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mp4TagWriter")
            .field("path", &self.path)
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl Mp4TagWriter {
    /// A writer to `path`; nothing is created before the first track is known.
    pub fn new(path: &Path, layout: Mp4Layout, keep: Mp4Tracks) -> Self {
        Self {
            path: path.to_path_buf(),
            layout,
            keep,
            video: None,
            audio: None,
            sizing: None,
            pending: Vec::new(),
            writer: None,
            keyed: false,
        }
    }

    /// The file has its header (samples are going in).
    pub fn started(&self) -> bool {
        self.writer.is_some()
    }

    /// Milliseconds of media written.
    pub fn duration_ms(&self) -> u64 {
        self.writer.as_ref().map_or(0, Mp4Writer::duration_ms)
    }

    /// The picture size of the file's video track.
    pub fn video_size(&self) -> Option<(u32, u32)> {
        self.video.as_ref().map(|v| (v.width, v.height))
    }

    /// Takes one tag.
    pub fn push(&mut self, tag: FlvTag) -> CodecResult<TagOutcome> {
        match tag.tag_type {
            TagType::Video if self.keep.video => match video_payload(&tag.data) {
                Some(VideoPayload::Config { codec, record }) => {
                    match &self.video {
                        Some(v) if v.codec != codec => return Ok(TagOutcome::VideoChanged),
                        Some(v) if v.record == record => {}
                        // New parameter sets: the next keyframe says whether the size moved.
                        _ => {
                            let decoder = FfmpegVideoDecoder::new(codec, &record).ok();
                            self.sizing = Some((codec, record, decoder));
                        }
                    }
                    return Ok(TagOutcome::Taken);
                }
                Some(VideoPayload::Coded {
                    codec,
                    keyframe,
                    ref data,
                    ..
                }) if self.sizing.is_some() => {
                    if let Some(size) =
                        self.size_from_frame(codec, keyframe, data, tag.timestamp_ms)
                    {
                        let (codec, record, _) = self.sizing.take().expect("sizing");
                        match &self.video {
                            Some(v) if (v.width, v.height) != size => {
                                return Ok(TagOutcome::VideoChanged)
                            }
                            Some(_) => {}
                            None => {
                                self.video = Some(VideoTrack {
                                    codec,
                                    record,
                                    width: size.0,
                                    height: size.1,
                                })
                            }
                        }
                    }
                }
                _ => {}
            },
            TagType::Audio if self.keep.audio && self.audio.is_none() => {
                if let Some(AudioPayload::Config { codec, record }) = audio_payload(&tag.data) {
                    self.audio = Some(AudioTrack { codec, record });
                    return Ok(TagOutcome::Taken);
                }
            }
            _ => {}
        }
        if self.writer.is_some() {
            self.write(&tag)?;
            return Ok(TagOutcome::Taken);
        }
        self.pending.push(tag);
        let complete = (!self.keep.video || self.video.is_some())
            && (!self.keep.audio || self.audio.is_some());
        if complete || self.pending.len() >= MAX_PENDING {
            self.start()?;
        }
        Ok(TagOutcome::Taken)
    }

    /// Decodes a keyframe (and what follows it) with the pending record's decoder until a
    /// picture gives the size.
    fn size_from_frame(
        &mut self,
        codec: FourCc,
        keyframe: bool,
        data: &[u8],
        ts: u32,
    ) -> Option<(u32, u32)> {
        let (c, _, decoder) = self.sizing.as_mut()?;
        if *c != codec {
            return None;
        }
        let d = decoder.as_mut()?;
        let t = Timestamp::from_millis(u64::from(ts));
        let mut frames = d.decode(data, keyframe, t, t).unwrap_or_default();
        if frames.is_empty() && keyframe {
            frames = d.flush().unwrap_or_default();
        }
        frames.first().map(|f| (f.width(), f.height()))
    }

    fn start(&mut self) -> CodecResult<()> {
        if self.video.is_none() && self.audio.is_none() {
            // Nothing to write yet; keep the newest tags only.
            let drop = self.pending.len().saturating_sub(MAX_PENDING / 2);
            self.pending.drain(..drop);
            return Ok(());
        }
        let w = Mp4Writer::create(
            &self.path,
            self.video.as_ref(),
            self.audio.as_ref(),
            self.layout,
        )?;
        self.writer = Some(w);
        for tag in std::mem::take(&mut self.pending) {
            self.write(&tag)?;
        }
        Ok(())
    }

    fn write(&mut self, tag: &FlvTag) -> CodecResult<()> {
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        let ms = i64::from(tag.timestamp_ms);
        match tag.tag_type {
            TagType::Video => {
                if let (
                    Some(VideoPayload::Coded {
                        codec,
                        keyframe,
                        composition_time_ms,
                        data,
                    }),
                    Some(v),
                ) = (video_payload(&tag.data), &self.video)
                {
                    self.keyed |= keyframe && codec == v.codec;
                    if codec == v.codec && self.keyed {
                        w.write_video(ms, i64::from(composition_time_ms), keyframe, &data)?;
                    }
                }
            }
            TagType::Audio => {
                if let (Some(AudioPayload::Coded { codec, data }), Some(a)) =
                    (audio_payload(&tag.data), &self.audio)
                {
                    if codec == a.codec {
                        w.write_audio(ms, &data)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Writes what is held (tags still waiting for a second track's configuration included)
    /// and the index. Returns the milliseconds of media in the file, `None` when no track ever
    /// became known (no file was written).
    pub fn finish(mut self) -> CodecResult<Option<u64>> {
        if self.writer.is_none() {
            self.start()?;
        }
        match self.writer.take() {
            Some(w) => {
                let ms = w.duration_ms();
                w.finish().map(|()| Some(ms))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_finish() {
        let asc = AudioSpecificConfig::aac_lc(48_000, 1).unwrap();
        let a = AudioTrack {
            codec: FOURCC_AAC,
            record: asc.raw.clone(),
        };
        for layout in [Mp4Layout::Faststart, Mp4Layout::Fragmented] {
            let p = std::env::temp_dir()
                .join(format!("onair-mp4-{}-{layout:?}.mp4", std::process::id()));
            let mut w = Mp4Writer::create(&p, None, Some(&a), layout).unwrap();
            for i in 0..10 {
                w.write_audio(i * 21, &[0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c])
                    .unwrap();
            }
            assert_eq!(w.duration_ms(), 189);
            w.finish().unwrap();
            assert!(std::fs::metadata(&p).unwrap().len() > 100);
            let _ = std::fs::remove_file(&p);
        }
    }

    /// A video configuration that never comes: the audio held for it is written at `finish`,
    /// whose duration counts it (a 5 s audio-only push is not "too short").
    #[test]
    fn held_tags_count_at_finish() {
        let asc = AudioSpecificConfig::aac_lc(48_000, 1).unwrap();
        let p = std::env::temp_dir().join(format!("onair-held-{}.mp4", std::process::id()));
        let mut w = Mp4TagWriter::new(
            &p,
            Mp4Layout::Fragmented,
            Mp4Tracks {
                video: true,
                audio: true,
            },
        );
        let audio = |ts: u32, body: &[u8]| FlvTag {
            tag_type: TagType::Audio,
            timestamp_ms: ts,
            data: Bytes::from([&[0xAF], body].concat()),
        };
        w.push(audio(0, &[&[0x00], &asc.raw[..]].concat())).unwrap();
        for i in 0..240 {
            w.push(audio(i * 21, &[0x01, 0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c]))
                .unwrap();
        }
        assert!(!w.started(), "still waiting for the video configuration");
        assert_eq!(w.finish().unwrap(), Some(239 * 21));
        assert!(std::fs::metadata(&p).unwrap().len() > 1000);
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn timestamps_only_move_forward() {
        let mut c = Clock::default();
        assert_eq!(c.stamp(0, 0), (0, 0));
        assert_eq!(c.stamp(33, 33), (33, 66));
        assert_eq!(c.stamp(20, -5), (34, 34), "a step back after a reconnect");
        assert_eq!(c.stamp(67, 0), (67, 67));
    }
}
