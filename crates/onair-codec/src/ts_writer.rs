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
use ffmpeg_next as ff;

/// An MPEG-TS stream cut into segments held in memory.
pub struct TsMuxer {
    output: ff::format::context::Output,
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

// SAFETY: the muxer context is owned by this value alone and used from one thread at a time.
unsafe impl Send for TsMuxer {}

fn ts_err(e: ff::Error) -> CodecError {
    CodecError::ffmpeg(format!("MPEG-TS: {e}"))
}

impl TsMuxer {
    /// A muxer for the tracks given (at least one).
    pub fn new(video: Option<&VideoTrack>, audio: Option<&AudioTrack>) -> CodecResult<Self> {
        crate::ffmpeg_init();
        if video.is_none() && audio.is_none() {
            return Err(CodecError::InvalidInput(
                "MPEG-TS: no audio or video track".into(),
            ));
        }
        let name = std::ffi::CString::new("mpegts").expect("no NUL");
        let mut ctx = std::ptr::null_mut();
        // SAFETY: allocates a context for the named muxer; no file is opened (pb stays NULL).
        let rc = unsafe {
            ff::ffi::avformat_alloc_output_context2(
                &mut ctx,
                std::ptr::null_mut(),
                name.as_ptr(),
                std::ptr::null(),
            )
        };
        if rc < 0 || ctx.is_null() {
            return Err(ts_err(ff::Error::from(rc)));
        }
        // SAFETY: `ctx` is a valid, owned output context; `Output`'s destructor frees it (and
        // closes `pb` only when non-NULL; ours is closed by `Drop` below first).
        let mut output = unsafe { ff::format::context::Output::wrap(ctx) };
        let (v, a) = add_tracks(&mut output, video, audio, &ts_err)?;
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
        // SAFETY: the context pointer of an owned, valid output.
        let ctx = unsafe { self.output.as_mut_ptr() };
        // SAFETY: `ctx` is valid and has no pb (none open); the dynamic buffer becomes its pb
        // until `end_segment` closes it.
        let rc = unsafe { ff::ffi::avio_open_dyn_buf(&mut (*ctx).pb) };
        if rc < 0 {
            return Err(ts_err(ff::Error::from(rc)));
        }
        self.open = true;
        if !self.header_written {
            let mut opts = ff::Dictionary::new();
            // Tables with every keyframe as well as at segment starts.
            opts.set("mpegts_flags", "pat_pmt_at_frames");
            self.output.write_header_with(opts).map_err(ts_err)?;
            self.header_written = true;
            let tb = |i: usize| {
                self.output
                    .stream(i)
                    .map_or(ff::Rational(1, 90_000), |s| s.time_base())
            };
            self.video = self.video.map(|(i, _)| (i, tb(i)));
            self.audio = self.audio.map(|(i, _)| (i, tb(i)));
        } else {
            let key = std::ffi::CString::new("mpegts_flags").expect("no NUL");
            let val = std::ffi::CString::new("+resend_headers").expect("no NUL");
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
        // SAFETY: the context pointer of an owned, valid output.
        let ctx = unsafe { self.output.as_mut_ptr() };
        // SAFETY: a NULL packet asks the muxer (AVFMT_ALLOW_FLUSH) to write out the PES it
        // holds; then the dynamic buffer is closed, its bytes copied and freed, pb reset.
        unsafe {
            ff::ffi::av_write_frame(ctx, std::ptr::null_mut());
            Ok(self.take_buffer())
        }
    }

    /// Closes the dynamic buffer and returns its bytes.
    ///
    /// # Safety
    /// A segment must be open.
    unsafe fn take_buffer(&mut self) -> Vec<u8> {
        // SAFETY: per the contract, pb is the open dynamic buffer of a valid context; the
        // buffer it returns is ours to copy and free.
        unsafe {
            let ctx = self.output.as_mut_ptr();
            let mut buf: *mut u8 = std::ptr::null_mut();
            let len = ff::ffi::avio_close_dyn_buf((*ctx).pb, &mut buf);
            (*ctx).pb = std::ptr::null_mut();
            self.open = false;
            let out = if buf.is_null() || len <= 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(buf, len as usize).to_vec()
            };
            ff::ffi::av_free(buf.cast());
            out
        }
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
        packet.write(&mut self.output).map_err(ts_err)?;
        Ok(())
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
            // SAFETY: a segment is open; its buffer is freed before the context is.
            unsafe {
                self.take_buffer();
            }
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
