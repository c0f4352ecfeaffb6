//! Where a picture goes in a view: the viewport rectangle in the window and the map from a
//! point of that rectangle to the frame's texture coordinates, for a fill mode, a rotation and a
//! mirror. Pure arithmetic, unit-tested here; the shader only applies the map.
//!
//! Order of operations, as LiteAV shows a picture: rotate the frame clockwise, mirror the
//! rotated picture left to right, then fit it into the window (Fit: letterbox on black; Fill:
//! cover and crop the overflow evenly on both sides; ScaleFill: stretch).

use onair_core::{FillMode, Rotation};

/// A rectangle of the window, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelRect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// How one picture is laid out in a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    /// Where the picture is drawn; the rest of the window is black.
    pub viewport: PixelRect,
    /// Texture coordinates `(u, v)` of the point `(x, y)` of the viewport (both in 0..1, `y`
    /// down): `u = m[0][0] x + m[0][1] y + m[0][2]`, `v = m[1][0] x + m[1][1] y + m[1][2]`.
    pub uv: [[f32; 3]; 2],
}

impl Layout {
    /// The layout of a `video` sized frame (before rotation) in a `window` sized view.
    /// Empty sizes give an empty viewport (nothing drawn).
    pub fn compute(
        video: (u32, u32),
        window: (u32, u32),
        fill: FillMode,
        rotation: Rotation,
        mirror: bool,
    ) -> Self {
        let (ww, wh) = window;
        let (rw, rh) = if rotation.swaps_dimensions() {
            (video.1, video.0)
        } else {
            video
        };
        let empty = Self {
            viewport: PixelRect {
                x: 0,
                y: 0,
                width: 0,
                height: 0,
            },
            uv: [[0.0; 3]; 2],
        };
        if rw == 0 || rh == 0 || ww == 0 || wh == 0 {
            return empty;
        }
        let (sx, sy) = (f64::from(ww) / f64::from(rw), f64::from(wh) / f64::from(rh));
        // The viewport, and the part of the rotated picture it shows (origin and size in 0..1).
        let (viewport, crop) = match fill {
            FillMode::Fit => {
                let s = sx.min(sy);
                let w = ((f64::from(rw) * s).round() as u32).clamp(1, ww);
                let h = ((f64::from(rh) * s).round() as u32).clamp(1, wh);
                let rect = PixelRect {
                    x: (ww - w) / 2,
                    y: (wh - h) / 2,
                    width: w,
                    height: h,
                };
                (rect, ((0.0, 0.0), (1.0, 1.0)))
            }
            FillMode::Fill => {
                let s = sx.max(sy);
                let fw = f64::from(ww) / (f64::from(rw) * s);
                let fh = f64::from(wh) / (f64::from(rh) * s);
                (
                    full(window),
                    (((1.0 - fw) / 2.0, (1.0 - fh) / 2.0), (fw, fh)),
                )
            }
            // ScaleFill and any later mode: stretch.
            _ => (full(window), ((0.0, 0.0), (1.0, 1.0))),
        };
        // Viewport point (x, y) -> rotated-picture point (p, q), mirrored left to right.
        let ((ox, oy), (cw, ch)) = crop;
        let (px, pc) = if mirror {
            (-cw, 1.0 - ox) // p = 1 - (ox + cw x)
        } else {
            (cw, ox)
        };
        let p = [px, 0.0, pc];
        let q = [0.0, ch, oy];
        // Rotated point (p, q) -> source texture (u, v): the frame was turned clockwise.
        let neg = |a: [f64; 3]| [-a[0], -a[1], 1.0 - a[2]];
        let (u, v) = match rotation {
            Rotation::R90 => (q, neg(p)),
            Rotation::R180 => (neg(p), neg(q)),
            Rotation::R270 => (neg(q), p),
            _ => (p, q),
        };
        let f = |a: [f64; 3]| [a[0] as f32, a[1] as f32, a[2] as f32];
        Self {
            viewport,
            uv: [f(u), f(v)],
        }
    }

    /// `true` when a `video` sized frame is drawn pixel for pixel: the viewport has the
    /// (rotated) frame's size and shows all of it.
    pub fn is_one_to_one(&self, video: (u32, u32)) -> bool {
        // Each texture axis follows one viewport axis, whole (no crop, no scale).
        let unit =
            |a: [f32; 3]| (a[0].abs() == 1.0 && a[1] == 0.0) || (a[0] == 0.0 && a[1].abs() == 1.0);
        let turned = self.uv[0][1] != 0.0;
        let shown = if turned { (video.1, video.0) } else { video };
        unit(self.uv[0]) && unit(self.uv[1]) && (self.viewport.width, self.viewport.height) == shown
    }

    /// The texture coordinates of viewport point `(x, y)` (both in 0..1).
    pub fn map(&self, x: f32, y: f32) -> (f32, f32) {
        let [a, b] = self.uv;
        (a[0] * x + a[1] * y + a[2], b[0] * x + b[1] * y + b[2])
    }
}

fn full((w, h): (u32, u32)) -> PixelRect {
    PixelRect {
        x: 0,
        y: 0,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f32, f32), b: (f32, f32)) -> bool {
        (a.0 - b.0).abs() < 1e-5 && (a.1 - b.1).abs() < 1e-5
    }

    #[test]
    fn fit_letterboxes_a_wide_picture_in_a_square_window() {
        let l = Layout::compute((1280, 720), (640, 640), FillMode::Fit, Rotation::R0, false);
        assert_eq!(
            l.viewport,
            PixelRect {
                x: 0,
                y: 140,
                width: 640,
                height: 360
            }
        );
        assert!(close(l.map(0.0, 0.0), (0.0, 0.0)));
        assert!(close(l.map(1.0, 1.0), (1.0, 1.0)));
    }

    #[test]
    fn fit_pillarboxes_a_tall_picture() {
        let l = Layout::compute((360, 640), (1280, 720), FillMode::Fit, Rotation::R0, false);
        assert_eq!(l.viewport.height, 720);
        assert_eq!(l.viewport.width, 405);
        assert_eq!(l.viewport.x, (1280 - 405) / 2);
    }

    #[test]
    fn fill_covers_and_crops_the_sides_evenly() {
        let l = Layout::compute((1280, 720), (640, 640), FillMode::Fill, Rotation::R0, false);
        assert_eq!(l.viewport, full((640, 640)));
        // 720 rows scale to 640: 1280 columns to 1137.8, of which 640 show, centred.
        let shown = 640.0 / (1280.0 * 640.0 / 720.0);
        assert!(close(l.map(0.0, 0.0), ((1.0 - shown) / 2.0, 0.0)));
        assert!(close(l.map(1.0, 1.0), ((1.0 + shown) / 2.0, 1.0)));
    }

    #[test]
    fn scale_fill_stretches() {
        let l = Layout::compute(
            (1280, 720),
            (640, 640),
            FillMode::ScaleFill,
            Rotation::R0,
            false,
        );
        assert_eq!(l.viewport, full((640, 640)));
        assert!(close(l.map(0.25, 0.75), (0.25, 0.75)));
    }

    #[test]
    fn rotation_turns_the_picture_clockwise() {
        // 90 clockwise: the source's top-left corner ends at the top right, its bottom left at
        // the top left.
        let l = Layout::compute(
            (1280, 720),
            (720, 1280),
            FillMode::Fit,
            Rotation::R90,
            false,
        );
        assert_eq!(l.viewport, full((720, 1280)));
        assert!(close(l.map(1.0, 0.0), (0.0, 0.0)));
        assert!(close(l.map(0.0, 0.0), (0.0, 1.0)));
        let l = Layout::compute((4, 2), (4, 2), FillMode::Fit, Rotation::R180, false);
        assert!(close(l.map(0.0, 0.0), (1.0, 1.0)));
        let l = Layout::compute((4, 2), (2, 4), FillMode::Fit, Rotation::R270, false);
        // 270 clockwise: the source's top-left corner ends at the bottom left.
        assert!(close(l.map(0.0, 1.0), (0.0, 0.0)));
        assert!(close(l.map(0.0, 0.0), (1.0, 0.0)));
    }

    #[test]
    fn mirror_flips_the_shown_picture_left_to_right() {
        let l = Layout::compute((4, 2), (4, 2), FillMode::Fit, Rotation::R0, true);
        assert!(close(l.map(0.0, 0.0), (1.0, 0.0)));
        assert!(close(l.map(1.0, 0.5), (0.0, 0.5)));
        // Mirror after rotation: 90 clockwise then mirrored is a transpose.
        let l = Layout::compute((4, 2), (2, 4), FillMode::Fit, Rotation::R90, true);
        assert!(close(l.map(0.0, 0.0), (0.0, 0.0)));
        assert!(close(l.map(1.0, 0.0), (0.0, 1.0)));
        // Mirror with a crop keeps the crop centred.
        let l = Layout::compute((1280, 720), (640, 640), FillMode::Fill, Rotation::R0, true);
        let shown = 640.0 / (1280.0 * 640.0 / 720.0);
        assert!(close(l.map(0.0, 0.0), ((1.0 + shown) / 2.0, 0.0)));
    }

    #[test]
    fn one_to_one_only_when_drawn_pixel_for_pixel() {
        let l = Layout::compute((1280, 720), (1280, 720), FillMode::Fit, Rotation::R0, false);
        assert!(l.is_one_to_one((1280, 720)));
        let l = Layout::compute((1280, 720), (1280, 720), FillMode::Fill, Rotation::R0, true);
        assert!(
            l.is_one_to_one((1280, 720)),
            "a mirror is still pixel for pixel"
        );
        let l = Layout::compute(
            (1280, 720),
            (720, 1280),
            FillMode::Fit,
            Rotation::R90,
            false,
        );
        assert!(l.is_one_to_one((1280, 720)));
        // Letterboxed in a bigger window, still unscaled? No: Fit scales up to the window.
        let l = Layout::compute(
            (1280, 720),
            (1280, 1280),
            FillMode::Fit,
            Rotation::R0,
            false,
        );
        assert!(
            l.is_one_to_one((1280, 720)),
            "fit at the same width: 1280x720 at y = 280"
        );
        for l in [
            Layout::compute((1280, 720), (640, 640), FillMode::Fit, Rotation::R0, false),
            Layout::compute(
                (1280, 720),
                (1280, 720),
                FillMode::Fit,
                Rotation::R90,
                false,
            ),
            Layout::compute(
                (1280, 720),
                (1280, 800),
                FillMode::Fill,
                Rotation::R0,
                false,
            ),
            Layout::compute(
                (1280, 720),
                (1280, 800),
                FillMode::ScaleFill,
                Rotation::R0,
                false,
            ),
        ] {
            assert!(!l.is_one_to_one((1280, 720)), "{l:?}");
        }
    }

    #[test]
    fn empty_sizes_draw_nothing() {
        for (v, w) in [((0, 0), (640, 480)), ((640, 480), (0, 10))] {
            let l = Layout::compute(v, w, FillMode::Fit, Rotation::R0, false);
            assert_eq!(l.viewport.width * l.viewport.height, 0);
        }
    }
}
