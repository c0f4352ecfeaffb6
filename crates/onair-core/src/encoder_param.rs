//! `VideoEncoderParam` (`V2TXLiveVideoEncoderParam`): what the app asks for, validated when it is
//! built, and [`EncodeTarget`]: what the encoder is configured with after the portrait swap,
//! backend alignment and bitrate defaults (spec: "Resolution presets", "16-pixel alignment").

use crate::error::{CoreError, CoreResult};
use crate::resolution::{Alignment, ResolutionMode, Size, VideoResolution};

/// Allowed frame rates.
pub const FPS_RANGE: std::ops::RangeInclusive<u32> = 1..=60;
/// Allowed explicit bitrates in kbps (0 means "preset default" and is always allowed).
pub const BITRATE_RANGE_KBPS: std::ops::RangeInclusive<u32> = 10..=50_000;
/// Allowed custom widths and heights (setVideoQualityEx).
pub const CUSTOM_DIMENSION_RANGE: std::ops::RangeInclusive<u32> = 16..=4096;

/// The picture size the app asked for: a preset, or a custom size (setVideoQualityEx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResolutionSpec {
    /// One of the 12 presets.
    Preset(VideoResolution),
    /// A custom landscape-or-portrait size as given (even dimensions).
    Custom(Size),
}

/// The video encoder settings of `set_video_quality`. Invalid values cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VideoEncoderParam {
    resolution: ResolutionSpec,
    mode: ResolutionMode,
    fps: u32,
    video_bitrate_kbps: u32,
    min_video_bitrate_kbps: u32,
}

/// The resolved encoder configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncodeTarget {
    /// The encoded picture size (mode applied, aligned for the backend).
    pub size: Size,
    /// The size before alignment; the difference is bars the player's fill mode hides.
    pub picture: Size,
    /// Frames per second.
    pub fps: u32,
    /// Target bitrate in kbps.
    pub bitrate_kbps: u32,
    /// Floor bitrate in kbps under congestion.
    pub min_bitrate_kbps: u32,
}

impl EncodeTarget {
    /// `false` when min == target: bitrate adaptation is disabled.
    pub fn adaptive(&self) -> bool {
        self.min_bitrate_kbps < self.bitrate_kbps
    }
}

impl Default for VideoEncoderParam {
    /// 960x540 landscape at 15 fps with the preset's bitrates, the SDK's default.
    fn default() -> Self {
        Self {
            resolution: ResolutionSpec::Preset(VideoResolution::R960x540),
            mode: ResolutionMode::Landscape,
            fps: 15,
            video_bitrate_kbps: 0,
            min_video_bitrate_kbps: 0,
        }
    }
}

fn check_bitrate(what: &'static str, kbps: u32) -> CoreResult<()> {
    if kbps == 0 || BITRATE_RANGE_KBPS.contains(&kbps) {
        Ok(())
    } else {
        Err(CoreError::invalid(
            what,
            format!(
                "{kbps} kbps; expected 0 (preset default) or {}..={} kbps",
                BITRATE_RANGE_KBPS.start(),
                BITRATE_RANGE_KBPS.end()
            ),
        ))
    }
}

impl VideoEncoderParam {
    /// Validated settings for a preset. `video_bitrate_kbps` and `min_video_bitrate_kbps` may be
    /// 0 for the preset's defaults.
    pub fn new(
        resolution: VideoResolution,
        mode: ResolutionMode,
        fps: u32,
        video_bitrate_kbps: u32,
        min_video_bitrate_kbps: u32,
    ) -> CoreResult<Self> {
        Self::build(
            ResolutionSpec::Preset(resolution),
            mode,
            fps,
            video_bitrate_kbps,
            min_video_bitrate_kbps,
        )
    }

    /// Validated settings for a custom size (setVideoQualityEx). The size is taken as given
    /// (mode Landscape); width and height must be even and within 16..=4096.
    pub fn custom(
        size: Size,
        fps: u32,
        video_bitrate_kbps: u32,
        min_video_bitrate_kbps: u32,
    ) -> CoreResult<Self> {
        for (what, v) in [("width", size.width), ("height", size.height)] {
            if !CUSTOM_DIMENSION_RANGE.contains(&v) || v % 2 != 0 {
                return Err(CoreError::invalid(
                    what,
                    format!("{v}; expected an even number in 16..=4096"),
                ));
            }
        }
        Self::build(
            ResolutionSpec::Custom(size),
            ResolutionMode::Landscape,
            fps,
            video_bitrate_kbps,
            min_video_bitrate_kbps,
        )
    }

    fn build(
        resolution: ResolutionSpec,
        mode: ResolutionMode,
        fps: u32,
        video_bitrate_kbps: u32,
        min_video_bitrate_kbps: u32,
    ) -> CoreResult<Self> {
        if !FPS_RANGE.contains(&fps) {
            return Err(CoreError::invalid(
                "fps",
                format!(
                    "{fps}; expected {}..={}",
                    FPS_RANGE.start(),
                    FPS_RANGE.end()
                ),
            ));
        }
        check_bitrate("video_bitrate", video_bitrate_kbps)?;
        check_bitrate("min_video_bitrate", min_video_bitrate_kbps)?;
        let param = Self {
            resolution,
            mode,
            fps,
            video_bitrate_kbps,
            min_video_bitrate_kbps,
        };
        let (target, floor) = param.bitrates();
        if floor > target {
            return Err(CoreError::invalid(
                "min_video_bitrate",
                format!(
                    "{floor} kbps is above video_bitrate {target} kbps; expected min <= target"
                ),
            ));
        }
        Ok(param)
    }

    /// The preset or custom size asked for.
    pub fn resolution(&self) -> ResolutionSpec {
        self.resolution
    }

    /// Landscape or portrait.
    pub fn mode(&self) -> ResolutionMode {
        self.mode
    }

    /// Frames per second.
    pub fn fps(&self) -> u32 {
        self.fps
    }

    /// Target bitrate as given (0 = preset default).
    pub fn video_bitrate_kbps(&self) -> u32 {
        self.video_bitrate_kbps
    }

    /// Floor bitrate as given (0 = preset minimum).
    pub fn min_video_bitrate_kbps(&self) -> u32 {
        self.min_video_bitrate_kbps
    }

    fn preset_for_defaults(&self) -> VideoResolution {
        match self.resolution {
            ResolutionSpec::Preset(p) => p,
            ResolutionSpec::Custom(size) => VideoResolution::nearest(size),
        }
    }

    /// (target, floor) in kbps with the zeros replaced by the preset's defaults. A default floor
    /// never exceeds an explicit target.
    fn bitrates(&self) -> (u32, u32) {
        let preset = self.preset_for_defaults();
        let target = match self.video_bitrate_kbps {
            0 => preset.default_bitrate_kbps(),
            v => v,
        };
        let floor = match self.min_video_bitrate_kbps {
            0 => preset.default_min_bitrate_kbps().min(target),
            v => v,
        };
        (target, floor)
    }

    /// The encoder configuration for a backend that needs sizes to be multiples of `alignment`.
    pub fn resolve(&self, alignment: Alignment) -> EncodeTarget {
        let picture = match self.resolution {
            ResolutionSpec::Preset(p) => p.size_for(self.mode),
            ResolutionSpec::Custom(size) => size,
        };
        let (bitrate_kbps, min_bitrate_kbps) = self.bitrates();
        EncodeTarget {
            size: picture.aligned(alignment),
            picture,
            fps: self.fps,
            bitrate_kbps,
            min_bitrate_kbps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ResolutionMode::{Landscape, Portrait};

    fn target(p: VideoResolution, mode: ResolutionMode, a: Alignment) -> EncodeTarget {
        VideoEncoderParam::new(p, mode, 15, 0, 0)
            .unwrap()
            .resolve(a)
    }

    #[test]
    fn alignment_cases_of_the_spec() {
        let hw = Alignment::HARDWARE;
        assert_eq!(
            target(VideoResolution::R640x360, Portrait, hw).size,
            Size::new(368, 640)
        );
        assert_eq!(
            target(VideoResolution::R960x540, Portrait, hw).size,
            Size::new(544, 960)
        );
        assert_eq!(
            target(VideoResolution::R1920x1080, Landscape, hw).size,
            Size::new(1920, 1088)
        );
        let t = target(VideoResolution::R960x540, Portrait, hw);
        assert_eq!(t.picture, Size::new(540, 960));
    }

    #[test]
    fn every_preset_resolves_in_both_modes_and_alignments() {
        for p in VideoResolution::ALL {
            for mode in [Landscape, Portrait] {
                let base = p.size_for(mode);
                let sw = target(p, mode, Alignment::SOFTWARE);
                assert_eq!(sw.size, base.aligned(Alignment::SOFTWARE), "{p} {mode:?}");
                assert_eq!(sw.size.width % 2, 0);
                let hw = target(p, mode, Alignment::HARDWARE);
                assert_eq!(hw.size.width % 16, 0, "{p} {mode:?}");
                assert_eq!(hw.size.height % 16, 0, "{p} {mode:?}");
                assert!(hw.size.width - base.width < 16 && hw.size.height - base.height < 16);
                let (min, max) = p.bitrate_range_kbps();
                assert_eq!((hw.min_bitrate_kbps, hw.bitrate_kbps), (min, max));
                assert!(hw.adaptive());
            }
        }
    }

    #[test]
    fn validation_names_the_range() {
        let p = VideoResolution::R1280x720;
        let e = VideoEncoderParam::new(p, Landscape, 0, 0, 0).unwrap_err();
        assert!(e.to_string().contains("1..=60"), "{e}");
        let e = VideoEncoderParam::new(p, Landscape, 61, 0, 0).unwrap_err();
        assert!(e.to_string().contains("1..=60"), "{e}");
        let e = VideoEncoderParam::new(p, Landscape, 30, 5, 0).unwrap_err();
        assert!(e.to_string().contains("10..=50000"), "{e}");
        let e = VideoEncoderParam::new(p, Landscape, 30, 0, 60_000).unwrap_err();
        assert!(e.to_string().contains("min_video_bitrate"), "{e}");
        let e = VideoEncoderParam::new(p, Landscape, 30, 1000, 1500).unwrap_err();
        assert!(e.to_string().contains("min <= target"), "{e}");
        assert_eq!(e.code(), crate::V2TXLiveCode::ErrorInvalidParameter);
    }

    #[test]
    fn bitrate_defaults_and_adaptation() {
        let p = VideoResolution::R1280x720;
        let t = VideoEncoderParam::new(p, Landscape, 30, 1500, 0)
            .unwrap()
            .resolve(Alignment::SOFTWARE);
        assert_eq!((t.bitrate_kbps, t.min_bitrate_kbps), (1500, 1000));
        // A low explicit target pulls the default floor down with it.
        let t = VideoEncoderParam::new(p, Landscape, 30, 600, 0)
            .unwrap()
            .resolve(Alignment::SOFTWARE);
        assert_eq!((t.bitrate_kbps, t.min_bitrate_kbps), (600, 600));
        assert!(!t.adaptive());
        let t = VideoEncoderParam::new(p, Landscape, 30, 1200, 1200)
            .unwrap()
            .resolve(Alignment::SOFTWARE);
        assert!(!t.adaptive());
    }

    #[test]
    fn custom_sizes() {
        let t = VideoEncoderParam::custom(Size::new(1000, 562), 24, 0, 0)
            .unwrap()
            .resolve(Alignment::HARDWARE);
        assert_eq!(t.picture, Size::new(1000, 562));
        assert_eq!(t.size, Size::new(1008, 576));
        assert_eq!(
            t.bitrate_kbps,
            VideoResolution::R960x540.default_bitrate_kbps()
        );
        assert!(VideoEncoderParam::custom(Size::new(1001, 562), 24, 0, 0).is_err());
        assert!(VideoEncoderParam::custom(Size::new(8, 8), 24, 0, 0).is_err());
        let e = VideoEncoderParam::custom(Size::new(5000, 500), 24, 0, 0).unwrap_err();
        assert!(e.to_string().contains("16..=4096"), "{e}");
    }

    #[test]
    fn default_is_960x540_at_15() {
        let t = VideoEncoderParam::default().resolve(Alignment::SOFTWARE);
        assert_eq!((t.size, t.fps), (Size::new(960, 540), 15));
    }
}
