//! HLS from the hub's tags: [`Segmenter`] turns a publish's tags into MPEG-TS segments
//! (through `onair_codec::TsMuxer`, one muxer per publish so continuity counters run on),
//! cut at the first keyframe past the fragment length, so a segment is a whole number of GOPs
//! (audio-only streams are cut on any frame). [`render_playlist`] writes the media playlist
//! (RFC 8216) for a live sliding window or for a recording. [`HlsLive`] is one stream's live
//! window, filled by a thread reading a hub tap and read by the HTTP side at
//! `/<app>/<stream>.m3u8` and `/<app>/<stream>-<seq>.ts`.
//!
//! Segment times come from the tags' timestamps, never from a clock: a segment's duration is
//! the next segment's first timestamp minus its own.

use crate::hub::{lock, Tag};
use bytes::Bytes;
use onair_codec::mp4_writer::{AudioTrack, VideoTrack};
use onair_codec::{CodecResult, TsMuxer};
use onair_flv::{audio_payload, video_payload, AudioPayload, TagType, VideoPayload};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A finished segment.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Media sequence number.
    pub seq: u64,
    /// Duration, ms.
    pub duration_ms: u64,
    /// A new publish (or new codec parameters) starts here: `#EXT-X-DISCONTINUITY`.
    pub discontinuity: bool,
    /// The MPEG-TS bytes.
    pub data: Bytes,
}

/// Tags in, MPEG-TS segments out.
#[derive(Debug)]
pub struct Segmenter {
    fragment_ms: u64,
    video: Option<VideoTrack>,
    audio: Option<AudioTrack>,
    muxer: Option<TsMuxer>,
    /// First timestamp of the open segment.
    start_ts: Option<u32>,
    last_ts: u32,
    next_seq: u64,
    /// The next segment follows a break (new publish or new parameters).
    discontinuity: bool,
    /// Audio's sequence header came after the muxer was opened without an audio track: the
    /// next cut opens a muxer with both.
    audio_arrived_late: bool,
}

impl Segmenter {
    /// Segments of at least `fragment`, numbered from `first_seq`.
    pub fn new(fragment: Duration, first_seq: u64, discontinuity: bool) -> Self {
        Self {
            fragment_ms: fragment.as_millis() as u64,
            video: None,
            audio: None,
            muxer: None,
            start_ts: None,
            last_ts: 0,
            next_seq: first_seq,
            discontinuity,
            audio_arrived_late: false,
        }
    }

    /// The sequence number the next segment gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Takes one tag; returns the segment it closed, if any.
    pub fn push(&mut self, tag: &Tag) -> CodecResult<Option<Segment>> {
        match tag.tag_type {
            TagType::Video => match video_payload(&tag.data) {
                Some(VideoPayload::Config { codec, record }) => {
                    let changed = self
                        .video
                        .as_ref()
                        .is_some_and(|v| v.codec != codec || v.record != record);
                    let out = if changed { self.close()? } else { None };
                    if changed || self.video.is_none() {
                        // New parameters: a new muxer from the next keyframe on.
                        self.muxer = None;
                        self.discontinuity |= changed;
                        self.video = Some(VideoTrack {
                            codec,
                            record,
                            width: 0,
                            height: 0,
                        });
                    }
                    Ok(out)
                }
                Some(VideoPayload::Coded {
                    codec,
                    keyframe,
                    composition_time_ms,
                    data,
                }) => {
                    if self.video.as_ref().map(|v| v.codec) != Some(codec) {
                        return Ok(None);
                    }
                    let out = if keyframe {
                        self.cut(tag.timestamp)?
                    } else {
                        None
                    };
                    if let Some(m) = self.muxer.as_mut() {
                        m.write_video(
                            i64::from(tag.timestamp),
                            i64::from(composition_time_ms),
                            keyframe,
                            &data,
                        )?;
                        self.last_ts = tag.timestamp;
                    }
                    Ok(out)
                }
                None => Ok(None),
            },
            TagType::Audio => match audio_payload(&tag.data) {
                Some(AudioPayload::Config { codec, record }) => {
                    if self.audio.is_none() {
                        self.audio = Some(AudioTrack { codec, record });
                        // A publisher may send it behind its first video frames; until the
                        // next cut the audio frames have no track and are left out.
                        self.audio_arrived_late = self.muxer.is_some();
                    }
                    Ok(None)
                }
                Some(AudioPayload::Coded { codec, data }) => {
                    if self.audio.as_ref().map(|a| a.codec) != Some(codec) {
                        return Ok(None);
                    }
                    let out = if self.video.is_none() {
                        self.cut(tag.timestamp)?
                    } else {
                        None
                    };
                    if let Some(m) = self.muxer.as_mut() {
                        m.write_audio(i64::from(tag.timestamp), &data)?;
                        self.last_ts = self.last_ts.max(tag.timestamp);
                    }
                    Ok(out)
                }
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// At a cut point: opens the first segment, or closes the open one when it is long enough.
    fn cut(&mut self, ts: u32) -> CodecResult<Option<Segment>> {
        let mut out = None;
        if let Some(start) = self.start_ts {
            if u64::from(ts.saturating_sub(start)) < self.fragment_ms {
                return Ok(None);
            }
            out = self.end(ts)?;
        }
        if std::mem::take(&mut self.audio_arrived_late) {
            // New tables (PMT) with the audio track: players are told of the break.
            self.muxer = None;
            self.discontinuity |= out.is_some();
        }
        if self.muxer.is_none() {
            self.muxer = Some(TsMuxer::new(self.video.as_ref(), self.audio.as_ref())?);
        }
        if let Some(m) = self.muxer.as_mut() {
            m.begin_segment()?;
            self.start_ts = Some(ts);
            self.last_ts = ts;
        }
        Ok(out)
    }

    fn end(&mut self, end_ts: u32) -> CodecResult<Option<Segment>> {
        let (Some(start), Some(m)) = (self.start_ts.take(), self.muxer.as_mut()) else {
            return Ok(None);
        };
        let data = m.end_segment()?;
        if data.is_empty() {
            return Ok(None);
        }
        let seg = Segment {
            seq: self.next_seq,
            duration_ms: u64::from(end_ts.saturating_sub(start)).max(1),
            discontinuity: std::mem::take(&mut self.discontinuity),
            data: Bytes::from(data),
        };
        self.next_seq += 1;
        Ok(Some(seg))
    }

    /// Closes the open segment (the publish ended or the parameters changed). Its duration is
    /// up to the last tag plus one frame's worth (40 ms).
    pub fn close(&mut self) -> CodecResult<Option<Segment>> {
        let end = self.last_ts.saturating_add(40);
        self.end(end)
    }
}

/// How a playlist is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaylistKind {
    /// A sliding window of a live stream.
    Live,
    /// A recording still being written (`EVENT`).
    Event,
    /// A finished recording (`VOD`, with `#EXT-X-ENDLIST`).
    Vod,
}

/// A media playlist for `segments` (oldest first, each with its URI).
pub fn render_playlist<'a>(
    segments: impl IntoIterator<Item = (&'a Segment, String)>,
    kind: PlaylistKind,
    ended: bool,
) -> String {
    let list: Vec<(&Segment, String)> = segments.into_iter().collect();
    let target = list
        .iter()
        .map(|(s, _)| s.duration_ms.div_ceil(1000))
        .max()
        .unwrap_or(2)
        .max(1);
    let first = list.first().map_or(0, |(s, _)| s.seq);
    let mut m = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
    let _ = writeln!(m, "#EXT-X-TARGETDURATION:{target}");
    let _ = writeln!(m, "#EXT-X-MEDIA-SEQUENCE:{first}");
    match kind {
        PlaylistKind::Live => {}
        PlaylistKind::Event => m.push_str("#EXT-X-PLAYLIST-TYPE:EVENT\n"),
        PlaylistKind::Vod => m.push_str("#EXT-X-PLAYLIST-TYPE:VOD\n"),
    }
    for (i, (s, uri)) in list.iter().enumerate() {
        if s.discontinuity && i > 0 {
            m.push_str("#EXT-X-DISCONTINUITY\n");
        }
        let _ = writeln!(m, "#EXTINF:{:.3},", s.duration_ms as f64 / 1000.0);
        m.push_str(uri);
        m.push('\n');
    }
    if ended || kind == PlaylistKind::Vod {
        m.push_str("#EXT-X-ENDLIST\n");
    }
    m
}

#[derive(Debug, Default)]
struct LiveWindow {
    segments: VecDeque<Segment>,
    ended: bool,
}

/// One stream's live HLS window.
#[derive(Debug)]
pub struct HlsLive {
    window: usize,
    state: Mutex<LiveWindow>,
    changed: Condvar,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Segments kept past the window, for players still fetching the oldest listed one.
const KEEP_EXTRA: usize = 3;

impl HlsLive {
    /// Starts segmenting `rx` (a hub tap) into a window of `window` segments.
    pub fn start(
        name: &str,
        rx: crossbeam_channel::Receiver<Tag>,
        fragment: Duration,
        window: usize,
    ) -> std::io::Result<Arc<Self>> {
        let live = Arc::new(Self {
            window,
            state: Mutex::new(LiveWindow::default()),
            changed: Condvar::new(),
            thread: Mutex::new(None),
        });
        let me = live.clone();
        let stream = name.to_string();
        let t = std::thread::Builder::new()
            .name(format!("onair-hls-{name}"))
            .spawn(move || {
                let mut seg = Segmenter::new(fragment, 0, false);
                for tag in rx.iter() {
                    match seg.push(&tag) {
                        Ok(Some(s)) => me.add(s),
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(%stream, "HLS segmenting stopped: {e}");
                            break;
                        }
                    }
                }
                if let Ok(Some(s)) = seg.close() {
                    me.add(s);
                }
                lock(&me.state).ended = true;
                me.changed.notify_all();
            })?;
        *lock(&live.thread) = Some(t);
        Ok(live)
    }

    fn add(&self, s: Segment) {
        let mut st = lock(&self.state);
        st.segments.push_back(s);
        while st.segments.len() > self.window + KEEP_EXTRA {
            st.segments.pop_front();
        }
        drop(st);
        self.changed.notify_all();
    }

    /// The playlist; segment URIs are `<stream>-<seq>.ts` plus `query` (the play signature).
    /// `None` before the first segment exists.
    pub fn playlist(&self, stream: &str, query: &str) -> Option<String> {
        let st = lock(&self.state);
        if st.segments.is_empty() {
            return None;
        }
        let skip = st.segments.len().saturating_sub(self.window);
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        Some(render_playlist(
            st.segments
                .iter()
                .skip(skip)
                .map(|s| (s, format!("{stream}-{}.ts{q}", s.seq))),
            PlaylistKind::Live,
            st.ended,
        ))
    }

    /// Waits (up to `timeout`) until the first segment exists; false when the stream ended
    /// without one or the time ran out.
    pub fn wait_first(&self, timeout: Duration) -> bool {
        let st = lock(&self.state);
        let (st, _) = self
            .changed
            .wait_timeout_while(st, timeout, |s| s.segments.is_empty() && !s.ended)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        !st.segments.is_empty()
    }

    /// The bytes of segment `seq`, while it is kept.
    pub fn segment(&self, seq: u64) -> Option<Bytes> {
        lock(&self.state)
            .segments
            .iter()
            .find(|s| s.seq == seq)
            .map(|s| s.data.clone())
    }

    /// The stream ended (its tap closed and the last segment is in).
    pub fn ended(&self) -> bool {
        lock(&self.state).ended
    }

    /// Waits for the segmenting thread (after the tap was closed).
    pub fn join(&self) {
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(seq: u64, ms: u64, disc: bool) -> Segment {
        Segment {
            seq,
            duration_ms: ms,
            discontinuity: disc,
            data: Bytes::new(),
        }
    }

    #[test]
    fn playlist_lists_the_window_with_a_rounded_up_target() {
        let s = [seg(7, 2000, false), seg(8, 2033, false)];
        let p = render_playlist(
            s.iter().map(|x| (x, format!("s-{}.ts", x.seq))),
            PlaylistKind::Live,
            false,
        );
        assert!(p.starts_with("#EXTM3U\n"));
        assert!(p.contains("#EXT-X-TARGETDURATION:3\n"), "{p}");
        assert!(p.contains("#EXT-X-MEDIA-SEQUENCE:7\n"));
        assert!(p.contains("#EXTINF:2.033,\ns-8.ts\n"));
        assert!(!p.contains("ENDLIST"));
        let ended = render_playlist(
            s.iter().map(|x| (x, String::new())),
            PlaylistKind::Live,
            true,
        );
        assert!(ended.ends_with("#EXT-X-ENDLIST\n"));
    }

    #[test]
    fn a_resumed_recording_marks_the_discontinuity() {
        let s = [seg(0, 2000, false), seg(1, 2000, true)];
        let p = render_playlist(
            s.iter().map(|x| (x, format!("{}.ts", x.seq))),
            PlaylistKind::Vod,
            true,
        );
        assert!(p.contains("#EXT-X-PLAYLIST-TYPE:VOD"));
        assert!(
            p.contains("0.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\n1.ts\n"),
            "{p}"
        );
        assert_eq!(p.matches("#EXT-X-ENDLIST").count(), 1);
    }

    fn aac_tags() -> (Tag, impl Fn(u32) -> Tag) {
        let asc = onair_flv::AudioSpecificConfig::aac_lc(48_000, 1).unwrap();
        let mut head = vec![0xaf, 0x00];
        head.extend_from_slice(&asc.raw);
        let config = crate::hub::MediaTag::audio(0, Bytes::from(head));
        (config, |ts| {
            crate::hub::MediaTag::audio(
                ts,
                Bytes::from_static(&[0xaf, 0x01, 0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c]),
            )
        })
    }

    /// `seconds` of the test pattern at 320x180 15 fps, one keyframe a second, as hub tags
    /// (sequence header first).
    fn h264_tags(seconds: u32) -> Vec<Tag> {
        use onair_codec::{EncoderOptions, OpenH264Encoder, TestPattern, VideoEncoder};
        use onair_core::{Alignment, ResolutionMode, Timestamp, VideoEncoderParam};
        let param = VideoEncoderParam::new(
            onair_core::VideoResolution::R320x180,
            ResolutionMode::Landscape,
            15,
            300,
            0,
        )
        .unwrap();
        let target = param.resolve(Alignment::SOFTWARE);
        let options = EncoderOptions { gop_seconds: 1.0 };
        let mut enc = OpenH264Encoder::new(target, options).unwrap();
        let pattern = TestPattern::new(target.size.width, target.size.height);
        let mut tags = Vec::new();
        for n in 0..u64::from(15 * seconds) {
            let pts = Timestamp::from_micros(n * 1_000_000 / 15);
            if let Some(e) = enc.encode(&pattern.frame(n as u32, n, pts, false)).unwrap() {
                for t in onair_codec::flv_tags::video_tags(&e) {
                    tags.push(crate::hub::MediaTag::video(t.timestamp_ms, t.data));
                }
            }
        }
        tags
    }

    /// The PIDs of a segment's TS packets.
    fn pids(seg: &Segment) -> std::collections::BTreeSet<u16> {
        seg.data
            .chunks(188)
            .map(|p| u16::from_be_bytes([p[1], p[2]]) & 0x1fff)
            .collect()
    }

    #[test]
    fn audio_whose_sequence_header_comes_after_the_first_keyframe_is_in_the_next_segments() {
        let (config, frame) = aac_tags();
        let video = h264_tags(5);
        let mut s = Segmenter::new(Duration::from_secs(1), 0, false);
        let mut out = Vec::new();
        // The video sequence header and the first keyframe, then audio's header, then both.
        for (i, v) in video.iter().enumerate() {
            if i == 2 {
                out.extend(s.push(&config).unwrap());
            }
            if i >= 2 {
                out.extend(s.push(&frame(v.timestamp)).unwrap());
            }
            out.extend(s.push(v).unwrap());
        }
        out.extend(s.close().unwrap());
        assert!(out.len() >= 4, "5 s in 1 s pieces: {}", out.len());
        let first = pids(&out[0]);
        let audio_pid = *pids(&out[1])
            .difference(&first)
            .next()
            .expect("a track the first segment lacks");
        assert!(!out[0].discontinuity);
        assert!(out[1].discontinuity, "new tables: players are told");
        for later in &out[1..] {
            assert!(pids(later).contains(&audio_pid), "{:?}", pids(later));
        }
        assert!(out[2..].iter().all(|x| !x.discontinuity));
    }

    #[test]
    fn audio_only_streams_are_cut_by_time_from_the_timestamps() {
        let (config, frame) = aac_tags();
        let mut s = Segmenter::new(Duration::from_secs(2), 5, false);
        assert!(s.push(&config).unwrap().is_none());
        let mut out = Vec::new();
        for i in 0..300u32 {
            if let Some(x) = s.push(&frame(i * 21)).unwrap() {
                out.push(x);
            }
        }
        out.extend(s.close().unwrap());
        assert_eq!(out.len(), 4, "6.3 s of audio in >= 2 s pieces");
        assert_eq!(out[0].seq, 5);
        assert_eq!(out[1].seq, 6);
        assert!(out[..3]
            .iter()
            .all(|x| (2000..2100).contains(&x.duration_ms)));
        assert!(out
            .iter()
            .all(|x| x.data.len() % 188 == 0 && !x.discontinuity));
    }
}
