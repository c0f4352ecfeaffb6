//! Drawing the cursor (XFixes' ARGB image, premultiplied alpha) onto a BGRA frame.

/// A cursor image at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorImage {
    /// Top-left corner in frame coordinates (position minus hotspot minus the frame's origin).
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// `width * height` pixels, `0xAARRGGBB`, premultiplied.
    pub argb: Vec<u32>,
}

/// Blends `cursor` onto `bgra` (`width` x `height`, tightly packed), clipped to the frame.
pub fn draw_cursor(bgra: &mut [u8], width: u32, height: u32, cursor: &CursorImage) {
    let (fw, fh) = (width as i64, height as i64);
    for cy in 0..cursor.height as i64 {
        let y = i64::from(cursor.y) + cy;
        if y < 0 || y >= fh {
            continue;
        }
        for cx in 0..cursor.width as i64 {
            let x = i64::from(cursor.x) + cx;
            if x < 0 || x >= fw {
                continue;
            }
            let Some(&p) = cursor
                .argb
                .get((cy * i64::from(cursor.width) + cx) as usize)
            else {
                return;
            };
            let a = p >> 24;
            if a == 0 {
                continue;
            }
            let at = ((y * fw + x) * 4) as usize;
            let Some(dst) = bgra.get_mut(at..at + 3) else {
                return;
            };
            // Premultiplied "over": out = src + dst * (1 - a).
            let src = [p & 0xff, (p >> 8) & 0xff, (p >> 16) & 0xff];
            for (d, s) in dst.iter_mut().zip(src) {
                *d = (s + u32::from(*d) * (255 - a) / 255).min(255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_transparent_and_half_pixels_blend_and_clip() {
        let mut frame = vec![100u8; 4 * 4 * 4];
        let cursor = CursorImage {
            x: 3,
            y: -1,
            width: 2,
            height: 3,
            // Row 0 is above the frame; row 1: opaque red, clipped; row 2: half white, clipped.
            argb: vec![
                0xffff_ffff,
                0xffff_ffff,
                0xffff_0000,
                0xffff_0000,
                0x8080_8080,
                0,
            ],
        };
        draw_cursor(&mut frame, 4, 4, &cursor);
        let px = |x: usize, y: usize| &frame[(y * 4 + x) * 4..(y * 4 + x) * 4 + 3];
        assert_eq!(px(3, 0), &[0, 0, 255], "opaque red, BGR order");
        assert_eq!(px(3, 1), &[177, 177, 177], "half white over grey");
        assert_eq!(px(2, 0), &[100, 100, 100], "left of the cursor");
        assert_eq!(px(3, 2), &[100, 100, 100], "below it");
    }
}
