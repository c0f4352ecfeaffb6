//! The 12 resolution presets (`V2TXLiveVideoResolution`), the landscape/portrait mode, and the
//! encoder-alignment rule of seed 002 FAQ 2 (hardware encoders need sizes divisible by 16).

use crate::error::CoreError;
use std::fmt;
use std::str::FromStr;

/// A width and height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Size {
    /// A size of `width` x `height`.
    pub const fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    /// The same size with width and height exchanged.
    pub const fn swapped(self) -> Self {
        Self::new(self.height, self.width)
    }

    /// Both dimensions rounded up to a multiple of `alignment`.
    pub const fn aligned(self, alignment: Alignment) -> Self {
        let a = alignment.0;
        Self::new(self.width.div_ceil(a) * a, self.height.div_ceil(a) * a)
    }

    /// Number of pixels.
    pub const fn area(self) -> u64 {
        self.width as u64 * self.height as u64
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// The size multiple an encoder backend requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Alignment(u32);

impl Alignment {
    /// Software encoders (openh264): even sizes for 4:2:0.
    pub const SOFTWARE: Alignment = Alignment(2);
    /// Hardware-style encoders: macroblock-aligned, multiples of 16.
    pub const HARDWARE: Alignment = Alignment(16);

    /// An alignment of `n` pixels; `n` must be a power of two from 1 to 64.
    pub fn new(n: u32) -> Result<Self, CoreError> {
        if n.is_power_of_two() && n <= 64 {
            Ok(Self(n))
        } else {
            Err(CoreError::invalid(
                "alignment",
                format!("{n}; expected a power of two from 1 to 64"),
            ))
        }
    }

    /// The multiple in pixels.
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// Landscape keeps the preset's size; portrait swaps width and height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum ResolutionMode {
    /// Wider than tall (the preset as named).
    #[default]
    Landscape = 0,
    /// Taller than wide: 640x360 becomes 360x640.
    Portrait = 1,
}

macro_rules! presets {
    ($( $variant:ident = ($w:literal, $h:literal, $min:literal, $max:literal) ),+ $(,)?) => {
        /// The 12 resolution presets of the spec, each with its size and bitrate range.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum VideoResolution {
            $(
                #[doc = concat!(stringify!($w), "x", stringify!($h), ", ", stringify!($min), "-", stringify!($max), " kbps")]
                $variant,
            )+
        }

        impl VideoResolution {
            /// Every preset, in the spec's table order.
            pub const ALL: [VideoResolution; 12] = [$(Self::$variant),+];

            /// The landscape size of the preset.
            pub const fn size(self) -> Size {
                match self { $(Self::$variant => Size::new($w, $h)),+ }
            }

            /// The bitrate range in kbps (min, max) from the spec's table.
            pub const fn bitrate_range_kbps(self) -> (u32, u32) {
                match self { $(Self::$variant => ($min, $max)),+ }
            }
        }
    };
}

presets! {
    R160x160 = (160, 160, 100, 150),
    R270x270 = (270, 270, 200, 300),
    R480x480 = (480, 480, 350, 525),
    R320x240 = (320, 240, 250, 375),
    R480x360 = (480, 360, 400, 600),
    R640x480 = (640, 480, 600, 900),
    R320x180 = (320, 180, 250, 400),
    R480x270 = (480, 270, 350, 550),
    R640x360 = (640, 360, 500, 900),
    R960x540 = (960, 540, 800, 1500),
    R1280x720 = (1280, 720, 1000, 1800),
    R1920x1080 = (1920, 1080, 2500, 3000),
}

impl VideoResolution {
    /// The size after applying `mode` (portrait swaps width and height).
    pub const fn size_for(self, mode: ResolutionMode) -> Size {
        match mode {
            ResolutionMode::Landscape => self.size(),
            ResolutionMode::Portrait => self.size().swapped(),
        }
    }

    /// The default target bitrate (the top of the range), used when the target is 0.
    pub const fn default_bitrate_kbps(self) -> u32 {
        self.bitrate_range_kbps().1
    }

    /// The default floor bitrate (the bottom of the range), used when the minimum is 0.
    pub const fn default_min_bitrate_kbps(self) -> u32 {
        self.bitrate_range_kbps().0
    }

    /// The preset whose pixel count is closest to `size` (for custom sizes' bitrate defaults).
    pub fn nearest(size: Size) -> Self {
        let area = size.area();
        Self::ALL
            .into_iter()
            .min_by_key(|p| p.size().area().abs_diff(area))
            .unwrap_or(Self::R640x360)
    }
}

impl fmt::Display for VideoResolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.size().fmt(f)
    }
}

impl FromStr for VideoResolution {
    type Err = CoreError;
    /// Parses the preset name `WxH`, e.g. `1280x720`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|p| p.to_string() == wanted)
            .ok_or_else(|| {
                let names: Vec<String> = Self::ALL.iter().map(|p| p.to_string()).collect();
                CoreError::invalid(
                    "resolution preset",
                    format!("{s:?}; expected one of {}", names.join(", ")),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_in_both_modes() {
        let table = [
            ("160x160", 160, 160, 100, 150),
            ("270x270", 270, 270, 200, 300),
            ("480x480", 480, 480, 350, 525),
            ("320x240", 320, 240, 250, 375),
            ("480x360", 480, 360, 400, 600),
            ("640x480", 640, 480, 600, 900),
            ("320x180", 320, 180, 250, 400),
            ("480x270", 480, 270, 350, 550),
            ("640x360", 640, 360, 500, 900),
            ("960x540", 960, 540, 800, 1500),
            ("1280x720", 1280, 720, 1000, 1800),
            ("1920x1080", 1920, 1080, 2500, 3000),
        ];
        assert_eq!(table.len(), VideoResolution::ALL.len());
        for (preset, (name, w, h, min, max)) in VideoResolution::ALL.into_iter().zip(table) {
            assert_eq!(preset.to_string(), name);
            assert_eq!(name.parse::<VideoResolution>().unwrap(), preset);
            assert_eq!(preset.size_for(ResolutionMode::Landscape), Size::new(w, h));
            assert_eq!(preset.size_for(ResolutionMode::Portrait), Size::new(h, w));
            assert_eq!(preset.bitrate_range_kbps(), (min, max));
            assert_eq!(preset.default_bitrate_kbps(), max);
            assert_eq!(preset.default_min_bitrate_kbps(), min);
        }
    }

    #[test]
    fn unknown_preset_names_the_choices() {
        let err = "1000x1000".parse::<VideoResolution>().unwrap_err();
        assert!(err.to_string().contains("1280x720"), "{err}");
    }

    #[test]
    fn alignment_rounds_up() {
        let hw = Alignment::HARDWARE;
        assert_eq!(Size::new(360, 640).aligned(hw), Size::new(368, 640));
        assert_eq!(Size::new(540, 960).aligned(hw), Size::new(544, 960));
        assert_eq!(Size::new(1920, 1080).aligned(hw), Size::new(1920, 1088));
        assert_eq!(Size::new(1280, 720).aligned(hw), Size::new(1280, 720));
        let sw = Alignment::SOFTWARE;
        assert_eq!(Size::new(270, 270).aligned(sw), Size::new(270, 270));
        assert_eq!(Size::new(271, 269).aligned(sw), Size::new(272, 270));
        assert!(Alignment::new(3).is_err());
        assert!(Alignment::new(128).is_err());
        assert_eq!(Alignment::new(16).unwrap(), Alignment::HARDWARE);
    }

    #[test]
    fn nearest_preset_by_area() {
        assert_eq!(
            VideoResolution::nearest(Size::new(1280, 720)),
            VideoResolution::R1280x720
        );
        assert_eq!(
            VideoResolution::nearest(Size::new(1000, 560)),
            VideoResolution::R960x540
        );
    }
}
