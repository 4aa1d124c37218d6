//! Label text for comparisons.
//!
//! Labels are short ASCII words ("before", "after", a model name), so an 8x8
//! bitmap font scaled by whole pixels is enough and keeps the crate lean: no
//! font file to ship or parse, no rasteriser. The glyphs come from the
//! `font8x8` crate (public-domain data from Daniel Hepper's font8x8). Characters
//! it lacks are drawn as `?`.

use font8x8::UnicodeFonts as _;
use image::{Rgba, RgbaImage};

/// Glyph side in font pixels.
pub(crate) const GLYPH: u32 = 8;

/// The width `text` takes at `scale`.
pub(crate) fn text_width(text: &str, scale: u32) -> u32 {
    text.chars().count() as u32 * GLYPH * scale
}

/// Draws `text` with its top-left corner at `(x, y)`; pixels off the image are skipped.
pub(crate) fn draw_text(img: &mut RgbaImage, x: u32, y: u32, text: &str, scale: u32, color: [u8; 4]) {
    let (w, h) = img.dimensions();
    for (i, ch) in text.chars().enumerate() {
        let glyph = font8x8::BASIC_FONTS
            .get(ch)
            .or_else(|| font8x8::BASIC_FONTS.get('?'))
            .unwrap_or([0; 8]);
        let gx = x + i as u32 * GLYPH * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..GLYPH {
                // Bit 0 is the leftmost pixel of the row.
                if bits >> col & 1 == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (gx + col * scale + dx, y + row as u32 * scale + dy);
                        if px < w && py < h {
                            img.put_pixel(px, py, Rgba(color));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letter_puts_ink_inside_its_cell_only() {
        let mut img = RgbaImage::new(20, 10);
        draw_text(&mut img, 1, 1, "A", 1, [255, 0, 0, 255]);
        let inked: Vec<(u32, u32)> = img
            .enumerate_pixels()
            .filter(|(_, _, p)| p[3] > 0)
            .map(|(x, y, _)| (x, y))
            .collect();
        assert!(!inked.is_empty());
        assert!(inked.iter().all(|&(x, y)| (1..9).contains(&x) && (1..9).contains(&y)));
    }
}
