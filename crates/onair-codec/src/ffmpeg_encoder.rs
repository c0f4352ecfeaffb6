//! `FfmpegVideoEncoder`: H.264 and HEVC encoder backends through FFmpeg's libavcodec, behind the
//! same [`VideoEncoder`] trait as openh264: `libx264` (H.264 high profile, tune zerolatency, no
//! B-frames), `libx265` (HEVC Main, ultrafast, zerolatency) and the hardware encoders FFmpeg
//! offers (`h264_nvenc` / `hevc_nvenc`, `h264_vaapi` / `hevc_vaapi`, `h264_qsv` / `hevc_qsv`),
//! which use the 16-pixel alignment. [`VideoEncoderBackend`] names them; [`open_video_encoder`]
//! opens one for a [`VideoCodec`], or for `Auto` the first that opens in the order hardware
//! (nvenc, vaapi, qsv), then the software encoder of the codec (x264 or x265, then openh264);
//! [`list_video_encoders`] probes them all.
//!
//! Every backend gets the target bitrate as its average and ceiling (VBV buffer of one second),
//! a GOP of `gop_seconds` with no scene-cut keyframes, forced IDR frames on request and bitrate
//! changes while running: libx264 and NVENC reconfigure on the next frame; libx265 has no
//! reconfigure through FFmpeg 5.1, so a change reopens it and the next frame is an IDR.
//! Parameter sets come in-band before each IDR and are turned into an avcC / hvcC record
//! whenever they change, as for openh264.

use crate::error::{CodecError, CodecResult};
use crate::video_encoder::{
    AccessUnit, DecoderConfig, EncodedVideo, EncoderOptions, OpenH264Encoder, VideoEncoder,
};
use ffmpeg_next as ff;
use onair_core::{Alignment, EncodeTarget, PixelFormat, Timestamp, VideoCodec, VideoFrame};

/// A video encoder backend (`set_video_encoder_backend`, `onair push --encoder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum VideoEncoderBackend {
    /// openh264, built from source (the default for H.264: always present).
    #[default]
    OpenH264,
    /// FFmpeg's libx264: H.264 high profile.
    X264,
    /// FFmpeg's libx265: HEVC Main (the software HEVC encoder).
    X265,
    /// NVIDIA NVENC (`h264_nvenc`, `hevc_nvenc`).
    Nvenc,
    /// VA-API (`h264_vaapi`, `hevc_vaapi`: Intel and AMD on Linux).
    Vaapi,
    /// Intel Quick Sync (`h264_qsv`, `hevc_qsv`).
    Qsv,
    /// The first that opens: nvenc, vaapi, qsv, then x264 / x265, then openh264.
    Auto,
}

impl VideoEncoderBackend {
    /// Every concrete backend, in `Auto`'s order (each tried only for the codecs it has).
    pub const PROBE_ORDER: [Self; 6] = [
        Self::Nvenc,
        Self::Vaapi,
        Self::Qsv,
        Self::X264,
        Self::X265,
        Self::OpenH264,
    ];

    /// The name `--encoder` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::OpenH264 => "openh264",
            Self::X264 => "x264",
            Self::X265 => "x265",
            Self::Nvenc => "nvenc",
            Self::Vaapi => "vaapi",
            Self::Qsv => "qsv",
            Self::Auto => "auto",
        }
    }

    /// The backend called `name` (`openh264`, `x264`, `x265`, `nvenc`, `vaapi`, `qsv`, `auto`).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Auto]
            .into_iter()
            .chain(Self::PROBE_ORDER)
            .find(|b| b.name() == name)
    }

    /// The codecs the backend encodes.
    pub fn codecs(self) -> &'static [VideoCodec] {
        match self {
            Self::OpenH264 | Self::X264 => &[VideoCodec::H264],
            Self::X265 => &[VideoCodec::H265],
            Self::Nvenc | Self::Vaapi | Self::Qsv | Self::Auto => {
                &[VideoCodec::H264, VideoCodec::H265]
            }
        }
    }

    /// The backend encodes `codec`.
    pub fn supports(self, codec: VideoCodec) -> bool {
        self.codecs().contains(&codec)
    }

    /// The backend that stands for this one when `codec` is asked for: itself when it encodes
    /// it, else the software encoder of that codec (openh264 or x264 for H.264 -> x265 for
    /// HEVC; x265 -> x264 when the push falls back to H.264).
    pub fn for_codec(self, codec: VideoCodec) -> Self {
        match (self.supports(codec), codec) {
            (true, _) => self,
            (false, VideoCodec::H265) => Self::X265,
            (false, _) => Self::X264,
        }
    }

    /// FFmpeg's encoder name for `codec`, for the FFmpeg backends.
    pub fn ffmpeg_name(self, codec: VideoCodec) -> Option<&'static str> {
        let h265 = codec == VideoCodec::H265;
        Some(match self {
            Self::X264 if !h265 => "libx264",
            Self::X265 if h265 => "libx265",
            Self::Nvenc => ["h264_nvenc", "hevc_nvenc"][usize::from(h265)],
            Self::Vaapi => ["h264_vaapi", "hevc_vaapi"][usize::from(h265)],
            Self::Qsv => ["h264_qsv", "hevc_qsv"][usize::from(h265)],
            _ => return None,
        })
    }

    /// The size multiple the backend needs: 16 for hardware, 2 for software.
    pub fn alignment(self) -> Alignment {
        match self {
            Self::Nvenc | Self::Vaapi | Self::Qsv => Alignment::HARDWARE,
            _ => Alignment::SOFTWARE,
        }
    }

    /// A hardware encoder.
    pub fn is_hardware(self) -> bool {
        self.alignment() == Alignment::HARDWARE
    }
}

impl std::fmt::Display for VideoEncoderBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What [`list_video_encoders`] found for one backend and codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoEncoderInfo {
    /// The backend.
    pub backend: VideoEncoderBackend,
    /// The codec probed.
    pub codec: VideoCodec,
    /// It opened an encoder here.
    pub available: bool,
    /// Why not, when it is not.
    pub reason: Option<String>,
}

/// Opens `backend` for `codec` and `target` (whose size must already suit the backend's
/// alignment): the encoder and the backend actually used (`Auto` resolves to one). A backend
/// that cannot open, or does not encode `codec`, fails with NOT_SUPPORTED naming what is
/// missing; `Auto` tries the next, and its error lists every reason.
pub fn open_video_encoder(
    backend: VideoEncoderBackend,
    codec: VideoCodec,
    target: EncodeTarget,
    options: EncoderOptions,
) -> CodecResult<(Box<dyn VideoEncoder>, VideoEncoderBackend)> {
    if backend != VideoEncoderBackend::Auto {
        return open_one(backend, codec, target, options).map(|e| (e, backend));
    }
    let mut reasons = Vec::new();
    for b in VideoEncoderBackend::PROBE_ORDER
        .into_iter()
        .filter(|b| b.supports(codec))
    {
        let t = with_alignment(target, b.alignment());
        match open_one(b, codec, t, options) {
            Ok(e) => return Ok((e, b)),
            Err(e) => reasons.push(format!("{b}: {e}")),
        }
    }
    Err(CodecError::Unsupported(format!(
        "no {codec} encoder opened: {}",
        reasons.join("; ")
    )))
}

/// `target` with its encode size re-aligned for a backend.
pub fn with_alignment(target: EncodeTarget, alignment: Alignment) -> EncodeTarget {
    EncodeTarget {
        size: target.picture.aligned(alignment),
        ..target
    }
}

fn open_one(
    backend: VideoEncoderBackend,
    codec: VideoCodec,
    target: EncodeTarget,
    options: EncoderOptions,
) -> CodecResult<Box<dyn VideoEncoder>> {
    if !backend.supports(codec) {
        return Err(CodecError::Unsupported(format!(
            "{backend} does not encode {codec} (it encodes {})",
            backend
                .codecs()
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    match backend {
        VideoEncoderBackend::OpenH264 => Ok(Box::new(OpenH264Encoder::new(target, options)?)),
        VideoEncoderBackend::Auto => {
            open_video_encoder(backend, codec, target, options).map(|(e, _)| e)
        }
        b => Ok(Box::new(FfmpegVideoEncoder::new(
            b, codec, target, options,
        )?)),
    }
}

/// Probes every backend for every codec it has by opening a small encoder (320x180).
pub fn list_video_encoders() -> Vec<VideoEncoderInfo> {
    let target = EncodeTarget {
        size: onair_core::Size::new(320, 192),
        picture: onair_core::Size::new(320, 180),
        fps: 15,
        bitrate_kbps: 300,
        min_bitrate_kbps: 300,
    };
    let mut out = Vec::new();
    for backend in VideoEncoderBackend::PROBE_ORDER {
        for &codec in backend.codecs() {
            let t = with_alignment(target, backend.alignment());
            let result = open_one(backend, codec, t, EncoderOptions::default());
            out.push(VideoEncoderInfo {
                backend,
                codec,
                available: result.is_ok(),
                reason: result.err().map(|e| e.to_string()),
            });
        }
    }
    out
}

/// x264's VBV with tune zerolatency lands about 6% above its average (1888 kbps measured for
/// 1764 on 720p30 testsrc2), so it is asked for this much under the requested target, which
/// then behaves as the ceiling it is meant to be (as openh264's headroom does). The other
/// FFmpeg backends get the same margin.
pub const X264_RATE_HEADROOM: f64 = 0.94;

/// The rate handed to FFmpeg for a requested target.
fn rate_bps(kbps: u32) -> usize {
    (f64::from(kbps) * 1000.0 * X264_RATE_HEADROOM).round() as usize
}

/// The old name, from when the FFmpeg backends were H.264 only.
pub type FfmpegH264Encoder = FfmpegVideoEncoder;

/// An encoder of FFmpeg's (libx264, libx265 or a hardware one).
pub struct FfmpegVideoEncoder {
    backend: VideoEncoderBackend,
    codec: VideoCodec,
    options: EncoderOptions,
    encoder: ff::encoder::Video,
    target: EncodeTarget,
    frame: ff::frame::Video,
    packet: ff::Packet,
    config: Option<DecoderConfig>,
    keyframe_next: bool,
    frames_in: i64,
}

impl std::fmt::Debug for FfmpegVideoEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FfmpegVideoEncoder")
            .field("backend", &self.backend)
            .field("codec", &self.codec)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Opens FFmpeg's `backend` encoder for `codec` at `target`.
fn open_ffmpeg(
    backend: VideoEncoderBackend,
    codec: VideoCodec,
    target: EncodeTarget,
    options: EncoderOptions,
) -> CodecResult<ff::encoder::Video> {
    let name = backend.ffmpeg_name(codec).ok_or_else(|| {
        CodecError::InvalidInput(format!("{backend} has no FFmpeg encoder for {codec}"))
    })?;
    let found = ff::encoder::find_by_name(name).ok_or_else(|| {
        CodecError::Unsupported(format!(
            "{backend}: this FFmpeg build has no {name} encoder"
        ))
    })?;
    let mut enc = ff::codec::Context::new_with_codec(found)
        .encoder()
        .video()
        .map_err(CodecError::ffmpeg)?;
    let fps = target.fps.max(1) as i32;
    let bps = rate_bps(target.bitrate_kbps);
    let gop = ((fps as f32 * options.gop_seconds).round() as u32).max(1);
    enc.set_width(target.size.width);
    enc.set_height(target.size.height);
    enc.set_format(ff::format::Pixel::YUV420P);
    enc.set_time_base((1, fps));
    enc.set_frame_rate(Some((fps, 1)));
    enc.set_bit_rate(bps);
    enc.set_max_bit_rate(bps);
    enc.set_gop(gop);
    enc.set_max_b_frames(0);
    let mut opts = ff::Dictionary::new();
    let bufsize = format!("{}k", target.bitrate_kbps);
    opts.set("bufsize", &bufsize);
    opts.set("forced-idr", "1");
    let hevc = codec == VideoCodec::H265;
    let x265_params;
    match backend {
        VideoEncoderBackend::X264 => {
            opts.set("preset", "fast");
            opts.set("tune", "zerolatency");
            opts.set("profile", "high");
            // Keyframes on the GOP only, so a viewer joins within gop_seconds.
            opts.set("x264-params", "scenecut=0:repeat-headers=1");
        }
        VideoEncoderBackend::X265 => {
            // HEVC costs several times H.264's CPU: ultrafast keeps a 720p30 push real time in
            // 0.6-0.8 of a core here. Per bit it is then about x264 fast's equal, not better
            // (benches/RESULTS.md, `encode_backends`).
            opts.set("preset", "ultrafast");
            opts.set("tune", "zerolatency");
            opts.set("profile", "main");
            x265_params = format!(
                "log-level=error:keyint={gop}:min-keyint={gop}:scenecut=0:repeat-headers=1:\
                 bframes=0"
            );
            opts.set("x265-params", &x265_params);
        }
        VideoEncoderBackend::Nvenc => {
            opts.set("preset", "p4");
            opts.set("tune", "ll");
            opts.set("zerolatency", "1");
            opts.set("profile", if hevc { "main" } else { "high" });
        }
        _ => {}
    }
    enc.open_as_with(found, opts).map_err(|e| {
        CodecError::Unsupported(format!(
            "{backend}: cannot open {name} ({e}){}",
            if backend.is_hardware() {
                ": no usable device or driver for it on this machine"
            } else {
                ""
            }
        ))
    })
}

impl FfmpegVideoEncoder {
    /// Opens `backend` (x264, x265, nvenc, vaapi, qsv) for `codec` and `target`.
    pub fn new(
        backend: VideoEncoderBackend,
        codec: VideoCodec,
        target: EncodeTarget,
        options: EncoderOptions,
    ) -> CodecResult<Self> {
        crate::ffmpeg_init()?;
        let align = backend.alignment().get();
        if target.size.width % align != 0 || target.size.height % align != 0 {
            return Err(CodecError::InvalidInput(format!(
                "{backend} needs sizes in multiples of {align}; got {}",
                target.size
            )));
        }
        let encoder = open_ffmpeg(backend, codec, target, options)?;
        let mut frame = ff::frame::Video::new(
            ff::format::Pixel::YUV420P,
            target.size.width,
            target.size.height,
        );
        frame.set_kind(ff::picture::Type::None);
        Ok(Self {
            backend,
            codec,
            options,
            encoder,
            target,
            frame,
            packet: ff::Packet::empty(),
            config: None,
            keyframe_next: false,
            frames_in: 0,
        })
    }

    /// The backend this encoder runs on.
    pub fn backend(&self) -> VideoEncoderBackend {
        self.backend
    }

    fn fill(&mut self, src: &VideoFrame) -> CodecResult<()> {
        // An encoder that queues input (hardware ones do) still holds a reference to the last
        // picture's buffer: write into a fresh one then, never into what it holds.
        // SAFETY: `self.frame` is a valid, allocated AVFrame this encoder owns.
        let rc = unsafe { ff::ffi::av_frame_make_writable(self.frame.as_mut_ptr()) };
        if rc < 0 {
            return Err(CodecError::ffmpeg(ff::Error::from(rc)));
        }
        for i in 0..3 {
            let plane = src
                .plane(i)
                .ok_or_else(|| CodecError::InvalidInput("missing plane".into()))?;
            let stride = self.frame.stride(i);
            let dst = self.frame.data_mut(i);
            for r in 0..plane.rows {
                let from = &plane.data[r * plane.stride..r * plane.stride + plane.row_bytes];
                dst[r * stride..r * stride + plane.row_bytes].copy_from_slice(from);
            }
        }
        Ok(())
    }

    /// The next packet FFmpeg has ready, as an access unit stamped with `pts`.
    fn take_packet(&mut self, pts: Timestamp) -> CodecResult<Option<EncodedVideo>> {
        match self.encoder.receive_packet(&mut self.packet) {
            Ok(()) => {}
            Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => return Ok(None),
            Err(ff::Error::Eof) => return Ok(None),
            Err(e) => return Err(CodecError::ffmpeg(e)),
        }
        let Some(data) = self.packet.data() else {
            return Ok(None);
        };
        let mut unit = AccessUnit::new(self.codec);
        unit.reserve(data.len());
        unit.push_annexb(data);
        unit.finish(pts, &mut self.config).map_err(|e| {
            CodecError::Unsupported(format!("{}: bad parameter sets: {e}", self.backend))
        })
    }
}

impl VideoEncoder for FfmpegVideoEncoder {
    fn alignment(&self) -> Alignment {
        self.backend.alignment()
    }

    fn codec(&self) -> VideoCodec {
        self.codec
    }

    fn encode(&mut self, frame: &VideoFrame) -> CodecResult<Option<EncodedVideo>> {
        let size = self.target.size;
        if frame.format() != PixelFormat::I420
            || (frame.width(), frame.height()) != (size.width, size.height)
        {
            return Err(CodecError::InvalidInput(format!(
                "expected I420 {size}, got {} {}x{}",
                frame.format(),
                frame.width(),
                frame.height()
            )));
        }
        self.fill(frame)?;
        self.frame.set_pts(Some(self.frames_in));
        self.frames_in += 1;
        self.frame
            .set_kind(if std::mem::take(&mut self.keyframe_next) {
                ff::picture::Type::I
            } else {
                ff::picture::Type::None
            });
        self.encoder
            .send_frame(&self.frame)
            .map_err(CodecError::ffmpeg)?;
        // Zero latency, no B-frames: each frame in gives (at most) its own packet out.
        self.take_packet(frame.timestamp())
    }

    fn set_bitrate_kbps(&mut self, kbps: u32) -> CodecResult<()> {
        if self.backend == VideoEncoderBackend::X265 {
            // No reconfigure through FFmpeg's libx265: a new encoder at the new rate, whose
            // first frame is an IDR with the same parameter sets.
            let target = EncodeTarget {
                bitrate_kbps: kbps,
                ..self.target
            };
            self.encoder = open_ffmpeg(self.backend, self.codec, target, self.options)?;
            self.frames_in = 0;
            self.target = target;
            return Ok(());
        }
        let bps = rate_bps(kbps);
        self.encoder.set_bit_rate(bps);
        self.encoder.set_max_bit_rate(bps);
        self.target.bitrate_kbps = kbps;
        Ok(())
    }

    fn force_keyframe(&mut self) {
        self.keyframe_next = true;
    }

    fn target(&self) -> EncodeTarget {
        self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TestPattern;

    fn target(w: u32, h: u32) -> EncodeTarget {
        EncodeTarget {
            size: onair_core::Size::new(w, h),
            picture: onair_core::Size::new(w, h),
            fps: 15,
            bitrate_kbps: 500,
            min_bitrate_kbps: 500,
        }
    }

    #[test]
    fn names_round_trip_and_hardware_aligns_to_16() {
        for b in VideoEncoderBackend::PROBE_ORDER {
            assert_eq!(VideoEncoderBackend::from_name(b.name()), Some(b));
        }
        assert_eq!(
            VideoEncoderBackend::from_name("auto"),
            Some(VideoEncoderBackend::Auto)
        );
        assert_eq!(VideoEncoderBackend::from_name("x266"), None);
        assert_eq!(
            VideoEncoderBackend::OpenH264.for_codec(VideoCodec::H265),
            VideoEncoderBackend::X265
        );
        assert_eq!(
            VideoEncoderBackend::X265.for_codec(VideoCodec::H264),
            VideoEncoderBackend::X264
        );
        assert_eq!(
            VideoEncoderBackend::Nvenc.for_codec(VideoCodec::H265),
            VideoEncoderBackend::Nvenc
        );
        assert_eq!(
            VideoEncoderBackend::Vaapi.ffmpeg_name(VideoCodec::H265),
            Some("hevc_vaapi")
        );
        assert_eq!(
            VideoEncoderBackend::X264.ffmpeg_name(VideoCodec::H265),
            None
        );
        assert_eq!(VideoEncoderBackend::Nvenc.alignment(), Alignment::HARDWARE);
        assert_eq!(VideoEncoderBackend::X264.alignment(), Alignment::SOFTWARE);
        let t = with_alignment(target(360, 640), Alignment::HARDWARE);
        assert_eq!((t.size.width, t.size.height), (368, 640));
    }

    #[test]
    fn x264_encodes_keyframes_on_request_and_takes_bitrate_changes() {
        let mut enc = FfmpegVideoEncoder::new(
            VideoEncoderBackend::X264,
            VideoCodec::H264,
            target(320, 180),
            EncoderOptions::default(),
        )
        .expect("libx264 in this FFmpeg");
        let pattern = TestPattern::new(320, 180);
        let mut keyframes = Vec::new();
        let mut configs = 0;
        for i in 0..60u64 {
            if i == 40 {
                enc.force_keyframe();
                enc.set_bitrate_kbps(250).unwrap();
            }
            let pts = Timestamp::from_micros(i * 66_667);
            let f = pattern.frame(i as u32, 0, pts, false);
            if let Some(e) = enc.encode(&f).unwrap() {
                if e.keyframe {
                    keyframes.push(i);
                }
                configs += usize::from(e.config.is_some());
                assert!(e.avcc.len() > 4);
            }
        }
        assert_eq!(
            keyframes,
            vec![0, 30, 40],
            "GOP of 2 s at 15 fps, then the forced IDR"
        );
        assert_eq!(configs, 1, "SPS/PPS reported once while they stay the same");
        assert_eq!(enc.target().bitrate_kbps, 250);
    }

    #[test]
    fn x265_encodes_hevc_with_an_hvcc_record_keyframes_and_bitrate_changes() {
        let mut enc = FfmpegVideoEncoder::new(
            VideoEncoderBackend::X265,
            VideoCodec::H265,
            target(320, 180),
            EncoderOptions::default(),
        )
        .expect("libx265 in this FFmpeg");
        assert_eq!(enc.codec(), VideoCodec::H265);
        let pattern = TestPattern::new(320, 180);
        let (mut keyframes, mut records) = (Vec::new(), Vec::new());
        for i in 0..60u64 {
            if i == 40 {
                enc.set_bitrate_kbps(250).unwrap();
            }
            if i == 50 {
                enc.force_keyframe();
            }
            let pts = Timestamp::from_micros(i * 66_667);
            let f = pattern.frame(i as u32, 0, pts, false);
            if let Some(e) = enc.encode(&f).unwrap() {
                assert_eq!(e.codec, VideoCodec::H265);
                if e.keyframe {
                    keyframes.push(i);
                }
                if let Some(DecoderConfig::Hevc(c)) = &e.config {
                    records.push((c.info.width, c.info.height, c.info.profile_idc));
                }
            }
        }
        assert_eq!(
            keyframes,
            vec![0, 30, 40, 50],
            "GOP, reopen at the new rate, forced"
        );
        assert_eq!(
            records,
            vec![(320, 180, 1)],
            "one hvcC while the parameter sets stay"
        );
        assert_eq!(enc.target().bitrate_kbps, 250);
        let e = open_video_encoder(
            VideoEncoderBackend::X264,
            VideoCodec::H265,
            target(320, 180),
            EncoderOptions::default(),
        );
        assert!(e.is_err_and(|e| e.to_string().contains("does not encode h265")));
    }

    #[test]
    fn a_missing_hardware_encoder_fails_fast_naming_it() {
        // No NVIDIA device on the machines here: opening fails with the reason, quickly.
        let started = std::time::Instant::now();
        match FfmpegVideoEncoder::new(
            VideoEncoderBackend::Nvenc,
            VideoCodec::H264,
            target(320, 192),
            EncoderOptions::default(),
        ) {
            Ok(_) => eprintln!("an NVENC device is present; nothing to check"),
            Err(e) => {
                let m = e.to_string();
                assert!(m.contains("nvenc"), "{m}");
                assert!(started.elapsed() < std::time::Duration::from_secs(5));
            }
        }
        let (_, used) = open_video_encoder(
            VideoEncoderBackend::Auto,
            VideoCodec::H264,
            target(320, 180),
            EncoderOptions::default(),
        )
        .unwrap();
        assert!(
            !used.is_hardware()
                || list_video_encoders()
                    .iter()
                    .any(|i| i.backend == used && i.available),
            "auto picked {used}"
        );
    }
}
