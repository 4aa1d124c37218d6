//! Prepare's fastest path, for the usual job (a camera JPEG to an RGBA PNG
//! a quarter of its size or less): the JPEG is decoded at half scale and
//! each band of the output is scaled as soon as the decoder has finished
//! the rows it reads, and compressed while the next band is scaled. Three
//! threads overlap: entropy decoding; inverse DCT, colour and scaling; PNG
//! encoding. On the 12 MP benchmark that hides the scaling and encoding
//! behind the entropy decoding (docs/benchmarks/image.md).

use image::RgbaImage;
use msgflux_core::{Error, ImageFormat, Result, Size};

use crate::encode::build_and_encode_png_fast;
use crate::jpeg::Rows;
use crate::prepare::rgb_into_opaque_rgba;
use crate::resize::{Filter, Layout, resize_rows_from_window, rows_read};

/// The first encoding of a prepare, made while decoding.
pub(crate) struct FirstRung {
    /// The scaled pixels.
    pub(crate) pixels: RgbaImage,
    /// Them as a PNG at the fast level.
    pub(crate) png: Vec<u8>,
    /// The size the JPEG was decoded at (half of each side, rounded up).
    pub(crate) decoded_size: Size,
}

/// Decodes an upright RGB JPEG of `stored` size (as its header says, and as
/// checked against the limits) at half scale and scales it to `size` as
/// a fast-level PNG on the way, or gives `None` when our decoder cannot
/// read the file: the caller decodes it another way, and nothing of this
/// attempt is kept.
///
/// Only the rows the next band reads are held, not the half-scale image
/// (36 MB for a 48-megapixel photo): a budget that the first PNG misses
/// decodes the file again.
pub(crate) fn decode_half_scaled_to_png(
    bytes: &[u8],
    stored: (u32, u32),
    size: Size,
    what: &str,
) -> Result<Option<FirstRung>> {
    // Our decoder is fed hostile bytes too: a panic is this input's error.
    let streamed = msgflux_core::kit::guarded_decode(ImageFormat::Jpeg, what, || {
        Ok(crate::jpeg::decode_half_with(bytes, stored, Rows::Window, |rows| {
            if rows.channels() != 3 {
                return Ok(None);
            }
            let half = Size::new(rows.width(), rows.height());
            let mut rgb_band = Vec::new();
            let fill = |band_rows: std::ops::Range<u32>, band: &mut [u8]| {
                let read = rows_read(half, size, band_rows.clone(), Filter::Lanczos3);
                // Bands come from the top: the rows above this one's are done with.
                rows.forget_before(read.start);
                let (window_start, window) = rows
                    .decode_until(read.end)
                    .map_err(|e| Error::decode(what, format!("the half-scale JPEG decode failed: {}", e.0)))?;
                rgb_band.resize(band.len() / 4 * 3, 0);
                resize_rows_from_window(
                    window,
                    window_start,
                    Layout::Rgb,
                    half,
                    size,
                    band_rows,
                    &mut rgb_band,
                    Filter::Lanczos3,
                )?;
                rgb_into_opaque_rgba(&rgb_band, band);
                Ok(())
            };
            build_and_encode_png_fast(size.width, size.height, fill, what).map(|encoded| Some((encoded, half)))
        }))
    })?;
    // A row our decoder could not read: the whole attempt is dropped.
    let Ok(encoded) = streamed else {
        return Ok(None);
    };
    Ok(encoded?.map(|((pixels, png), decoded_size)| FirstRung {
        pixels,
        png,
        decoded_size,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Rect;
    use crate::resize::resize_rgb;

    fn noisy_jpeg(width: u16, height: u16, progressive: bool) -> Vec<u8> {
        let mut seed = 3u32;
        let pixels: Vec<u8> = (0..u32::from(width) * u32::from(height) * 3)
            .map(|i| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                ((i / 3 % u32::from(width)) as u8 / 2).wrapping_add((seed >> 26) as u8)
            })
            .collect();
        let mut out = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
        encoder.set_progressive(progressive);
        encoder
            .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
            .expect("encode");
        out
    }

    #[test]
    fn the_streamed_png_holds_the_pixels_of_scaling_the_whole_half_scale_image() {
        let bytes = noisy_jpeg(800, 600, false);
        let size = Size::new(300, 250);
        let first = decode_half_scaled_to_png(&bytes, (800, 600), size, "image")
            .unwrap()
            .expect("streamed");
        assert_eq!(first.decoded_size, Size::new(400, 300));
        let half = crate::jpeg::decode_half(&bytes, (800, 600)).expect("half");
        let half = image::RgbImage::from_raw(half.width, half.height, half.pixels).unwrap();
        let whole = resize_rgb(&half, Rect::new(0, 0, 400, 300), size, Filter::Lanczos3).unwrap();
        let expected = image::DynamicImage::ImageRgb8(whole).into_rgba8();
        assert!(
            first.pixels == expected,
            "the bands differ from scaling the whole image"
        );
        let png = image::load_from_memory(&first.png).unwrap().into_rgba8();
        assert!(png == expected, "the PNG holds other pixels");
    }

    #[test]
    fn a_file_our_decoder_does_not_read_is_left_to_the_caller() {
        let progressive = noisy_jpeg(64, 64, true);
        assert!(
            decode_half_scaled_to_png(&progressive, (64, 64), Size::new(16, 16), "image")
                .unwrap()
                .is_none()
        );
        let mut truncated = noisy_jpeg(256, 256, false);
        truncated.truncate(truncated.len() / 2);
        assert!(
            decode_half_scaled_to_png(&truncated, (256, 256), Size::new(64, 64), "image")
                .unwrap()
                .is_none()
        );
    }
}
