//! The answer every emulator gives to an edit: the input kept outside the
//! area the mask marks (read in the provider's own convention) and that area
//! painted, so a test can tell whether the mask reached the model the right
//! way round. A leak setting also changes every pixel outside the area, as
//! models that treat the mask as a hint do.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, Luma, Rgba, RgbaImage};

/// How a provider's API reads a mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaskReading {
    /// Alpha 0 = edit (OpenAI).
    TransparentIsEdit,
    /// White = edit (Stable Diffusion inpainting, FLUX fill).
    WhiteIsEdit,
    /// Black = edit.
    BlackIsEdit,
}

/// 255 where the model edits, 0 where it keeps.
pub fn edit_area(mask: &[u8], reading: MaskReading) -> Result<GrayImage, String> {
    let mask = image::load_from_memory(mask).map_err(|e| format!("the mask does not decode: {e}"))?;
    let rgba = mask.to_rgba8();
    Ok(GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
        let Rgba([r, g, b, a]) = *rgba.get_pixel(x, y);
        let luma = ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000) as u8;
        let edit = match reading {
            MaskReading::WhiteIsEdit => luma > 127,
            MaskReading::BlackIsEdit => luma <= 127,
            MaskReading::TransparentIsEdit => a < 128,
        };
        Luma([if edit { 255 } else { 0 }])
    }))
}

/// The edited image: `image` (decoded) with `area` painted `colour` (the
/// whole image when there is no area), every other pixel moved by `leak`
/// levels per colour channel, and the result resized to `size` when given.
pub fn paint(
    image: &[u8],
    area: Option<&GrayImage>,
    colour: [u8; 3],
    leak: u8,
    size: Option<(u32, u32)>,
) -> Result<RgbaImage, String> {
    let mut out = image::load_from_memory(image)
        .map_err(|e| format!("the input image does not decode: {e}"))?
        .to_rgba8();
    if let Some(area) = area
        && area.dimensions() != out.dimensions()
    {
        return Err(format!(
            "mask is {}x{} but image is {}x{}",
            area.width(),
            area.height(),
            out.width(),
            out.height()
        ));
    }
    for (x, y, px) in out.enumerate_pixels_mut() {
        if area.is_none_or(|a| a.get_pixel(x, y)[0] > 127) {
            *px = Rgba([colour[0], colour[1], colour[2], 255]);
        } else if leak > 0 {
            // Away from the nearer end, so that every channel moves by exactly `leak`.
            for c in 0..3 {
                px[c] = if px[c] > 127 {
                    px[c] - leak.min(px[c])
                } else {
                    px[c] + leak.min(255 - px[c])
                };
            }
        }
    }
    Ok(match size {
        Some((w, h)) if (w, h) != out.dimensions() => {
            image::imageops::resize(&out, w, h, image::imageops::FilterType::Nearest)
        }
        _ => out,
    })
}

/// The bytes of a `data:` URI input, `None` when `value` is not a data URI.
///
/// ```
/// use msgflux_emulators::engine::data_uri_bytes;
/// assert_eq!(data_uri_bytes("data:image/png;base64,aGk="), Some(Ok(b"hi".to_vec())));
/// assert_eq!(data_uri_bytes("https://example.com/a.png"), None);
/// ```
pub fn data_uri_bytes(value: &str) -> Option<Result<Vec<u8>, String>> {
    use base64::Engine as _;
    let rest = value.strip_prefix("data:")?;
    let payload = rest.split_once(',').map(|(_, p)| p).unwrap_or_default();
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(payload)
            .map_err(|e| format!("a data URI input is not base64: {e}")),
    )
}

/// Encodes an image as `png`, `jpeg` or `webp` (lossless).
pub fn encode(image: RgbaImage, format: &str) -> Vec<u8> {
    let image = DynamicImage::ImageRgba8(image);
    let (image, format) = match format {
        "jpeg" | "jpg" => (DynamicImage::ImageRgb8(image.to_rgb8()), image::ImageFormat::Jpeg),
        "webp" => (image, image::ImageFormat::WebP),
        _ => (image, image::ImageFormat::Png),
    };
    let mut out = Vec::new();
    // Encoding an in-memory image into a Vec does not fail.
    let _ = image.write_to(&mut Cursor::new(&mut out), format);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(image: RgbaImage) -> Vec<u8> {
        encode(image, "png")
    }

    #[test]
    fn only_the_marked_area_is_painted_and_leaks_move_the_rest_by_exactly_the_leak() {
        let input = png(RgbaImage::from_pixel(4, 1, Rgba([10, 200, 128, 255])));
        let mask = png(RgbaImage::from_fn(4, 1, |x, _| {
            Rgba([0, 0, 0, if x < 2 { 0 } else { 255 }])
        }));
        let area = edit_area(&mask, MaskReading::TransparentIsEdit).expect("mask");
        let out = paint(&input, Some(&area), [1, 2, 3], 0, None).expect("paint");
        assert_eq!(out.get_pixel(0, 0).0, [1, 2, 3, 255]);
        assert_eq!(out.get_pixel(3, 0).0, [10, 200, 128, 255]);
        let leaked = paint(&input, Some(&area), [1, 2, 3], 20, None).expect("paint");
        assert_eq!(leaked.get_pixel(3, 0).0, [30, 180, 108, 255]);
    }

    #[test]
    fn white_is_edit_reads_the_luminance() {
        let mask = png(RgbaImage::from_fn(2, 1, |x, _| {
            if x == 0 { Rgba([255; 4]) } else { Rgba([0, 0, 0, 255]) }
        }));
        let area = edit_area(&mask, MaskReading::WhiteIsEdit).expect("mask");
        assert_eq!((area.get_pixel(0, 0)[0], area.get_pixel(1, 0)[0]), (255, 0));
    }
}
