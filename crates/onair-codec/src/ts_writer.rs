//! MPEG-TS segments in memory, for HLS: [`TsMuxer`] feeds FFmpeg's MPEG-TS muxer stream copies
//! (the same track setup as the MP4 writer) and hands back each segment's bytes. One muxer
//! lives for a whole publish, so continuity counters and timestamps run on across segments
//! (players see no discontinuity); each segment starts with PAT and PMT. The muxer turns
//! `avcC`/`hvcC` samples into Annex B (with the parameter sets in front of each keyframe) and
//! raw AAC into ADTS itself.
//!
//! Timestamps are the FLV's milliseconds, made strictly increasing per track, as in MP4.

use crate::error::{CodecError, CodecResult};
use crate::mp4_writer::{add_tracks, AudioTrack, Clock, VideoTrack};
use crate::muxer::OutputContext;
use ffmpeg_next as ff;

/// An MPEG-TS stream cut into segments held in memory.
pub struct TsMuxer {
    output: OutputContext,
    video: Option<(usize, ff::Rational)>,
    audio: Option<(usize, ff::Rational)>,
    clocks: [Clock; 2],
    /// A segment is open (the context's `pb` is a dynamic buffer).
    open: bool,
    header_written: bool,
}

impl std::fmt::Debug for TsMuxer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsMuxer")
            .field("video", &self.video.is_some())
            .field("audio", &self.audio.is_some())
            .finish_non_exhaustive()
    }
}

impl TsMuxer {
    /// A muxer for the tracks given (at least one).
    pub fn new(video: Option<&VideoTrack>, audio: Option<&AudioTrack>) -> CodecResult<Self> {
        crate::ffmpeg_init()?;
        if video.is_none() && audio.is_none() {
            return Err(CodecError::InvalidInput(
                "MPEG-TS: no audio or video track".into(),
            ));
        }
        let mut output = OutputContext::new("mpegts", None, "MPEG-TS".into())?;
        let (v, a) = add_tracks(&mut output, video, audio)?;
        Ok(Self {
            output,
            video: v.map(|i| (i, ff::Rational(1, 1000))),
            audio: a.map(|i| (i, ff::Rational(1, 1000))),
            clocks: [Clock::default(), Clock::default()],
            open: false,
            header_written: false,
        })
    }

    /// Starts a segment: what is written next goes into it, PAT and PMT first.
    pub fn begin_segment(&mut self) -> CodecResult<()> {
        if self.open {
            return Ok(());
        }
        self.output.open_memory()?;
        self.open = true;
        if !self.header_written {
            // Tables with every keyframe as well as at segment starts.
            self.output
                .write_header(&[("mpegts_flags", "pat_pmt_at_frames")])?;
            self.header_written = true;
            let output = &self.output;
            self.video = self.video.map(|(i, _)| (i, output.time_base(i)));
            self.audio = self.audio.map(|(i, _)| (i, output.time_base(i)));
        } else {
            let key = std::ffi::CString::new("mpegts_flags").expect("no NUL");
            let val = std::ffi::CString::new("+resend_headers").expect("no NUL");
            let ctx = self.output.as_mut_ptr();
            // SAFETY: sets an option on the muxer's private context, which exists after the
            // header was written.
            unsafe {
                ff::ffi::av_opt_set((*ctx).priv_data, key.as_ptr(), val.as_ptr(), 0);
            }
        }
        Ok(())
    }

    /// Ends the open segment and returns its bytes (empty when none was open).
    pub fn end_segment(&mut self) -> CodecResult<Vec<u8>> {
        if !self.open {
            return Ok(Vec::new());
        }
        // A NULL packet asks the muxer (AVFMT_ALLOW_FLUSH) to write out the PES it holds.
        let flushed = self.output.write(None, false);
        self.open = false;
        let bytes = self.output.close_memory();
        flushed.map(|()| bytes)
    }

    fn write(
        &mut self,
        slot: usize,
        dts: i64,
        cts: i64,
        key: bool,
        data: &[u8],
    ) -> CodecResult<()> {
        let track = if slot == 0 { self.video } else { self.audio };
        let Some((index, tb)) = track else {
            return Ok(());
        };
        if data.is_empty() || !self.open {
            return Ok(());
        }
        let (dts, pts) = self.clocks[slot].stamp(dts, cts);
        let mut packet = ff::Packet::copy(data);
        packet.set_stream(index);
        packet.set_dts(Some(dts));
        packet.set_pts(Some(pts));
        if key {
            packet.set_flags(ff::packet::Flags::KEY);
        }
        packet.rescale_ts(ff::Rational(1, 1000), tb);
        self.output.write(Some(&mut packet), false)
    }

    /// Writes one video sample (`avcC`/`hvcC` length-prefixed) at `dts_ms`.
    pub fn write_video(
        &mut self,
        dts_ms: i64,
        cts_ms: i64,
        keyframe: bool,
        data: &[u8],
    ) -> CodecResult<()> {
        self.write(0, dts_ms, cts_ms, keyframe, data)
    }

    /// Writes one raw AAC (or Opus) frame at `dts_ms`.
    pub fn write_audio(&mut self, dts_ms: i64, data: &[u8]) -> CodecResult<()> {
        self.write(1, dts_ms, 0, true, data)
    }
}

impl Drop for TsMuxer {
    fn drop(&mut self) {
        if self.open {
            // The memory buffer is freed before the context is.
            self.output.close_memory();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use onair_flv::enhanced::FOURCC_AAC;
    use onair_flv::AudioSpecificConfig;

    #[test]
    fn segments_start_with_tables_and_are_whole_packets() {
        let asc = AudioSpecificConfig::aac_lc(48_000, 1).unwrap();
        let a = AudioTrack {
            codec: FOURCC_AAC,
            record: asc.raw.clone(),
        };
        let mut m = TsMuxer::new(None, Some(&a)).unwrap();
        assert!(m.end_segment().unwrap().is_empty(), "nothing open yet");
        let mut segments = Vec::new();
        for s in 0..3 {
            m.begin_segment().unwrap();
            for i in 0..20 {
                let t = (s * 20 + i) * 21;
                m.write_audio(t, &[0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c])
                    .unwrap();
            }
            segments.push(m.end_segment().unwrap());
        }
        for seg in &segments {
            assert!(!seg.is_empty() && seg.len() % 188 == 0, "{}", seg.len());
            assert_eq!(seg[0], 0x47, "sync byte");
            // The tables come first: SDT (PID 17), PAT (PID 0), PMT.
            let pids: Vec<u16> = seg
                .chunks(188)
                .take(3)
                .map(|p| u16::from_be_bytes([p[1], p[2]]) & 0x1fff)
                .collect();
            assert!(pids.contains(&0), "no PAT at the start: {pids:?}");
        }
    }
}
