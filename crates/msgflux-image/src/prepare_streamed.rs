//! Prepare's fastest path, for the usual job (a large photo to an RGBA PNG
//! it fills): each band of the output is scaled as soon as the decoder has
//! finished the rows it reads, and compressed while the next band is
//! scaled, holding a window of source rows rather than the decoded image.
//! Three threads overlap: a camera JPEG's entropy decoding (our own
//! half-scale decoder) or a PNG's inflating; the rest of the decoding and
//! the scaling; the PNG encoding. On the 12 MP benchmarks that hides the
//! scaling and encoding behind the entropy decoding or the inflating
//! (docs/benchmarks/image.md).

use image::RgbaImage;
use msgflux_core::{DecodeLimits, Error, ImageFormat, Result, Size};

use crate::encode::build_and_encode_png_fast;
use crate::jpeg::{HalfRows, Rows};
use crate::png_rows::{PngFile, PngRows};
use crate::prepare::rgb_into_opaque_rgba;
use crate::resize::{Filter, Layout, resize_rows_from_window, rows_read};

/// The first encoding of a prepare, made while decoding.
pub(crate) struct FirstRung {
    /// The scaled pixels.
    pub(crate) pixels: RgbaImage,
    /// Them as a PNG at the fast level.
    pub(crate) png: Vec<u8>,
    /// The size the file was decoded at (for a JPEG, half of each side, rounded up).
    pub(crate) decoded_size: Size,
    /// The file's format.
    pub(crate) format: ImageFormat,
    /// Whether the file had alpha.
    pub(crate) has_alpha: bool,
}

/// A decoder that finishes an image's rows from the top on demand and lets
/// go of those above a row once they are used.
trait RowWindow: Send {
    /// The size of the image the rows make.
    fn size(&self) -> Size;
    /// RGB or RGBA.
    fn layout(&self) -> Layout;
    /// Finishes rows until at least `rows` (at most the height) are done,
    /// and gives the first row still held and the rows from it on.
    fn decode_until(&mut self, rows: u32) -> std::result::Result<(u32, &[u8]), &'static str>;
    /// Lets go of the finished rows above `row`.
    fn forget_before(&mut self, row: u32);
}

impl RowWindow for HalfRows<'_> {
    fn size(&self) -> Size {
        Size::new(self.width(), self.height())
    }
    fn layout(&self) -> Layout {
        // Only RGB JPEGs are streamed.
        Layout::Rgb
    }
    fn decode_until(&mut self, rows: u32) -> std::result::Result<(u32, &[u8]), &'static str> {
        HalfRows::decode_until(self, rows).map_err(|e| e.0)
    }
    fn forget_before(&mut self, row: u32) {
        HalfRows::forget_before(self, row);
    }
}

impl RowWindow for PngRows {
    fn size(&self) -> Size {
        PngRows::size(self)
    }
    fn layout(&self) -> Layout {
        PngRows::layout(self)
    }
    fn decode_until(&mut self, rows: u32) -> std::result::Result<(u32, &[u8]), &'static str> {
        PngRows::decode_until(self, rows)
    }
    fn forget_before(&mut self, row: u32) {
        PngRows::forget_before(self, row);
    }
}

/// Scales `rows`' image to `size` band by band as its rows are decoded,
/// and encodes it as a fast-level PNG on the way.
fn scaled_to_fast_png(rows: &mut impl RowWindow, size: Size, what: &str) -> Result<(RgbaImage, Vec<u8>)> {
    let (source, layout) = (rows.size(), rows.layout());
    let mut rgb_band = Vec::new();
    let fill = |band_rows: std::ops::Range<u32>, band: &mut [u8]| {
        let read = rows_read(source, size, band_rows.clone(), Filter::Lanczos3);
        // Bands come from the top: the rows above this one's are done with.
        rows.forget_before(read.start);
        let (window_start, window) = rows
            .decode_until(read.end)
            .map_err(|e| Error::decode(what, format!("the streamed decode failed: {e}")))?;
        let scale = |out: &mut [u8]| {
            resize_rows_from_window(
                window,
                window_start,
                layout,
                source,
                size,
                band_rows,
                out,
                Filter::Lanczos3,
            )
        };
        if layout == Layout::Rgba {
            return scale(band);
        }
        rgb_band.resize(band.len() / 4 * 3, 0);
        scale(&mut rgb_band)?;
        rgb_into_opaque_rgba(&rgb_band, band);
        Ok(())
    };
    build_and_encode_png_fast(size.width, size.height, fill, what)
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
            let half = RowWindow::size(rows);
            scaled_to_fast_png(rows, size, what).map(|encoded| Some((encoded, half)))
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
        format: ImageFormat::Jpeg,
        has_alpha: false,
    }))
}

/// Decodes a PNG row by row and scales it to the size `size_for` gives for
/// its size, as a fast-level PNG on the way; `None` when `size_for` gives
/// none, or the file is not a plain 8-bit PNG within `limits`
/// ([`PngFile::open`]), or a row cannot be read: the caller decodes it
/// whole, which reports any error.
pub(crate) fn decode_png_scaled_to_png(
    bytes: &[u8],
    limits: &DecodeLimits,
    size_for: impl FnOnce(Size) -> Option<Size>,
    what: &str,
) -> Result<Option<FirstRung>> {
    msgflux_core::kit::guarded_decode(ImageFormat::Png, what, || {
        let Some(file) = PngFile::open(bytes, limits) else {
            return Ok(None);
        };
        let (decoded_size, layout) = (file.size(), file.layout());
        let Some(size) = size_for(decoded_size) else {
            return Ok(None);
        };
        let (encoded, failed) = file.decode_with(|rows| (scaled_to_fast_png(rows, size, what), rows.failed()));
        if failed {
            return Ok(None);
        }
        let (pixels, png) = encoded?;
        Ok(Some(FirstRung {
            pixels,
            png,
            decoded_size,
            format: ImageFormat::Png,
            has_alpha: layout == Layout::Rgba,
        }))
    })
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

    /// A noisy `width` x `height` PNG of `colour` at `depth`, its header as `info` leaves it.
    fn noisy_png(
        width: u32,
        height: u32,
        colour: png::ColorType,
        depth: png::BitDepth,
        info: impl FnOnce(&mut png::Info<'static>),
    ) -> Vec<u8> {
        let mut header = png::Info::with_size(width, height);
        header.color_type = colour;
        header.bit_depth = depth;
        if colour == png::ColorType::Indexed {
            header.palette = Some(
                (0..=255u8)
                    .flat_map(|i| [i, 255 - i, i / 2])
                    .collect::<Vec<u8>>()
                    .into(),
            );
            header.trns = Some((0..=255u8).rev().take(40).collect::<Vec<u8>>().into());
        }
        info(&mut header);
        let row_bytes = (width as usize * colour.samples() * depth as usize).div_ceil(8);
        let mut seed = 7u32;
        let pixels: Vec<u8> = (0..row_bytes * height as usize)
            .map(|i| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                ((i % row_bytes) as u8 / 3).wrapping_add((seed >> 27) as u8)
            })
            .collect();
        let mut out = Vec::new();
        let mut writer = png::Encoder::with_info(&mut out, header)
            .unwrap()
            .write_header()
            .unwrap();
        writer.write_image_data(&pixels).unwrap();
        writer.finish().unwrap();
        out
    }

    fn plain_png(colour: png::ColorType, depth: png::BitDepth) -> Vec<u8> {
        noisy_png(300, 200, colour, depth, |_| {})
    }

    #[test]
    fn a_streamed_png_holds_the_pixels_of_the_whole_image_path_for_every_colour_type() {
        use png::{BitDepth, ColorType};
        let size = Size::new(120, 70);
        let limits = DecodeLimits::default();
        for (colour, depth) in [
            (ColorType::Rgb, BitDepth::Eight),
            (ColorType::Rgba, BitDepth::Eight),
            (ColorType::Grayscale, BitDepth::Eight),
            (ColorType::GrayscaleAlpha, BitDepth::Eight),
            (ColorType::Grayscale, BitDepth::Four),
            (ColorType::Indexed, BitDepth::Eight),
        ] {
            let bytes = plain_png(colour, depth);
            let first = decode_png_scaled_to_png(&bytes, &limits, |_| Some(size), "image")
                .unwrap()
                .unwrap_or_else(|| panic!("{colour:?} {depth:?} streamed"));
            let decoded = crate::decode(&bytes, &limits, "image").unwrap();
            let whole = crate::prepare(&decoded.image, None, &crate::PrepareTarget::new().with_size(size)).unwrap();
            assert!(first.pixels == whole.image, "{colour:?} {depth:?}: the pixels differ");
            assert!(first.png == whole.image_bytes, "{colour:?} {depth:?}: the files differ");
            assert_eq!(first.has_alpha, decoded.has_alpha(), "{colour:?} {depth:?}");
            assert_eq!(first.decoded_size, Size::new(300, 200));
        }
    }

    #[test]
    fn a_png_not_read_row_by_row_as_the_whole_decode_reads_it_is_left_to_the_caller() {
        use png::{BitDepth, ColorType};
        let streams = |bytes: &[u8], limits: &DecodeLimits| {
            decode_png_scaled_to_png(bytes, limits, |_| Some(Size::new(64, 64)), "image")
                .unwrap()
                .is_some()
        };
        let limits = DecodeLimits::default();
        assert!(streams(&plain_png(ColorType::Rgb, BitDepth::Eight), &limits));
        let sixteen_bit = plain_png(ColorType::Rgb, BitDepth::Sixteen);
        assert!(!streams(&sixteen_bit, &limits), "16-bit");
        let interlaced = noisy_png(300, 200, ColorType::Rgb, BitDepth::Eight, |info| info.interlaced = true);
        assert!(!streams(&interlaced, &limits), "interlaced");
        let exif = noisy_png(300, 200, ColorType::Rgb, BitDepth::Eight, |info| {
            info.exif_metadata = Some(b"II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec().into());
        });
        assert!(!streams(&exif, &limits), "EXIF (an orientation to apply)");
        let mut truncated = plain_png(ColorType::Rgb, BitDepth::Eight);
        truncated.truncate(truncated.len() / 2);
        assert!(!streams(&truncated, &limits), "truncated");
        let plain = plain_png(ColorType::Rgb, BitDepth::Eight);
        assert!(
            !streams(&plain, &DecodeLimits::new(299, u64::MAX)),
            "a side over the limit"
        );
        assert!(
            !streams(&plain, &DecodeLimits::new(4096, 300 * 200 * 3 - 1)),
            "pixels over the limit"
        );
        let not_resized = decode_png_scaled_to_png(&plain, &limits, |_| None, "image").unwrap();
        assert!(not_resized.is_none(), "a size the caller does not stream");
    }

    #[test]
    fn a_streamed_png_holds_a_window_of_rows_not_the_image() {
        let bytes = plain_png(png::ColorType::Rgb, png::BitDepth::Eight);
        let file = PngFile::open(&bytes, &DecodeLimits::default()).unwrap();
        let (first, window) = file.decode_with(|rows| {
            rows.decode_until(120).unwrap();
            rows.forget_before(100);
            let (first, window) = rows.decode_until(130).unwrap();
            (first, window.to_vec())
        });
        // Rows 100 up to the end of the chunk holding row 130.
        assert_eq!(first, 100);
        assert!(
            (30..=30 + 16).contains(&(window.len() / 900)),
            "{} rows held",
            window.len() / 900
        );
        let whole = crate::decode(&bytes, &DecodeLimits::default(), "image")
            .unwrap()
            .image
            .into_rgb8();
        assert_eq!(window, &whole.as_raw()[100 * 900..100 * 900 + window.len()]);
    }
}
