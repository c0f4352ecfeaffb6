//! The debug overlay's picture: lines of text drawn with an 8x8 bitmap font (the `font8x8`
//! crate's public-domain glyphs) at twice their size, white on a translucent black panel, as
//! RGBA ready to upload. The render thread blends it over the top-left corner of the picture.

use font8x8::UnicodeFonts;

/// Pixels per glyph cell edge (8x8 glyphs drawn at 2x).
pub const CELL: u32 = 16;
/// Panel padding around the text, pixels.
pub const PAD: u32 = 6;

/// RGBA text panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Premultiplied-free RGBA8, rows top to bottom.
    pub rgba: Vec<u8>,
}

/// Draws `text` (lines split on '\n'; characters without a glyph shown as '?'), at most
/// `max_cols` characters a line and `max_lines` lines. `None` for empty text.
pub fn render_text(text: &str, max_cols: usize, max_lines: usize) -> Option<TextImage> {
    let lines: Vec<Vec<char>> = text
        .lines()
        .take(max_lines)
        .map(|l| l.chars().take(max_cols).collect())
        .collect();
    let cols = lines.iter().map(Vec::len).max().unwrap_or(0) as u32;
    if cols == 0 {
        return None;
    }
    let width = cols * CELL + 2 * PAD;
    let height = lines.len() as u32 * CELL + 2 * PAD;
    // The panel: black at 60% opacity.
    let mut rgba = [0u8, 0, 0, 153].repeat((width * height) as usize);
    for (row, line) in lines.iter().enumerate() {
        for (col, c) in line.iter().enumerate() {
            let glyph = font8x8::BASIC_FONTS
                .get(*c)
                .or_else(|| font8x8::BASIC_FONTS.get('?'))
                .unwrap_or([0; 8]);
            for (gy, bits) in glyph.iter().enumerate() {
                for gx in 0..8 {
                    if bits & (1 << gx) == 0 {
                        continue;
                    }
                    for dy in 0..2 {
                        for dx in 0..2 {
                            let x = PAD + col as u32 * CELL + gx * 2 + dx;
                            let y = PAD + row as u32 * CELL + gy as u32 * 2 + dy;
                            let i = ((y * width + x) * 4) as usize;
                            rgba[i..i + 4].copy_from_slice(&[255, 255, 255, 255]);
                        }
                    }
                }
            }
        }
    }
    Some(TextImage {
        width,
        height,
        rgba,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_drawn_on_a_panel_sized_to_it() {
        let t = render_text("1280x720 30 fps\nRTT 12 ms", 64, 8).unwrap();
        assert_eq!(t.width, 15 * CELL + 2 * PAD);
        assert_eq!(t.height, 2 * CELL + 2 * PAD);
        let white = t
            .rgba
            .chunks(4)
            .filter(|p| p == &[255, 255, 255, 255])
            .count();
        let panel = t.rgba.chunks(4).filter(|p| p == &[0, 0, 0, 153]).count();
        assert!(white > 100, "{white} text pixels");
        assert_eq!(white + panel, (t.width * t.height) as usize);
    }

    #[test]
    fn limits_hold_and_empty_text_draws_nothing() {
        let t = render_text(&"x".repeat(500), 40, 8).unwrap();
        assert_eq!(t.width, 40 * CELL + 2 * PAD);
        assert_eq!(render_text("", 40, 8), None);
        // No glyph: drawn as '?', never a panic.
        assert!(render_text("\u{1F600}", 40, 8).is_some());
    }
}
