//! Decoding untrusted image bytes: the format is sniffed, limits are checked
//! from the header before any pixel buffer is allocated, the EXIF orientation
//! is applied, and a panicking third-party decoder becomes an error.
//!
//! `msgflux-image` builds its richer `decode` on these functions, so every
//! crate decodes hostile files the same way.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder as _};

use crate::error::{Error, Result};
use crate::format::ImageFormat;

/// Limits that keep hostile files from exhausting memory.
///
/// ```
/// let limits = msgflux_core::DecodeLimits::new(8192, 256 * 1024 * 1024);
/// assert_eq!(limits.max_side, 8192);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeLimits {
    /// Largest width or height accepted.
    pub max_side: u32,
    /// Largest decoded pixel buffer, in bytes.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_side: 16_384,
            max_alloc: 1024 * 1024 * 1024,
        }
    }
}

impl DecodeLimits {
    /// Limits with a largest side and a largest decoded buffer.
    pub fn new(max_side: u32, max_alloc: u64) -> Self {
        Self { max_side, max_alloc }
    }

    /// Whether an image of `width` x `height` whose decoded pixels take
    /// `pixel_bytes` is within these limits: the rule every decode path
    /// applies to the header before it allocates.
    ///
    /// ```
    /// let limits = msgflux_core::DecodeLimits::new(4096, 48 * 1024 * 1024);
    /// assert!(limits.admits(4000, 3000, 4000 * 3000 * 3));
    /// assert!(!limits.admits(5000, 100, 5000 * 100 * 3), "a side over 4096");
    /// assert!(!limits.admits(4000, 4000, 4000 * 4000 * 4), "64 MB of pixels");
    /// ```
    pub fn admits(&self, width: u32, height: u32, pixel_bytes: u64) -> bool {
        width.max(height) <= self.max_side && pixel_bytes <= self.max_alloc
    }
}

/// What the header of an image file says, read without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageHeader {
    /// Width, upright (after the EXIF orientation).
    pub width: u32,
    /// Height, upright (after the EXIF orientation).
    pub height: u32,
    /// Whether the pixel format carries an alpha channel.
    pub has_alpha: bool,
    /// The EXIF orientation (no transform when absent or unreadable).
    pub orientation: Orientation,
}

/// The format of untrusted bytes, or an error naming `what` that shows how the bytes start.
///
/// ```
/// let err = msgflux_core::kit::sniff_format(b"hello", "mask").unwrap_err();
/// assert!(err.to_string().starts_with("invalid mask: is not a supported image"));
/// ```
pub fn sniff_format(bytes: &[u8], what: &str) -> Result<ImageFormat> {
    if bytes.is_empty() {
        return Err(Error::invalid(what, "is empty (0 bytes)"));
    }
    ImageFormat::sniff(bytes).ok_or_else(|| {
        let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Error::invalid(
            what,
            format!(
                "is not a supported image (starts with bytes {}); expected PNG, JPEG, WebP, GIF, BMP or TIFF",
                head.join(" ")
            ),
        )
    })
}

/// Reads the header: upright size, alpha, orientation.
pub fn read_header(bytes: &[u8], format: ImageFormat, what: &str) -> Result<ImageHeader> {
    guarded(format, what, || {
        let reader = image::ImageReader::with_format(Cursor::new(bytes), format.to_image_format());
        let mut decoder = reader.into_decoder().map_err(|e| Error::decode(what, e))?;
        let (width, height) = decoder.dimensions();
        if width == 0 || height == 0 {
            return Err(Error::invalid(what, format!("has zero size ({width}x{height})")));
        }
        let has_alpha = decoder.color_type().has_alpha();
        // A broken EXIF block must not make a readable image unreadable.
        let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
        let (width, height) = if swaps_sides(orientation) {
            (height, width)
        } else {
            (width, height)
        };
        Ok(ImageHeader {
            width,
            height,
            has_alpha,
            orientation,
        })
    })
}

/// Decodes untrusted bytes, upright, within `limits`; `what` names the input in errors.
pub fn decode_with_limits(
    bytes: &[u8],
    format: ImageFormat,
    limits: &DecodeLimits,
    what: &str,
) -> Result<DynamicImage> {
    decode_oriented(bytes, format, limits, what).map(|(image, _)| image)
}

/// Like [`decode_with_limits`], also returning the EXIF orientation that was applied.
pub fn decode_oriented(
    bytes: &[u8],
    format: ImageFormat,
    limits: &DecodeLimits,
    what: &str,
) -> Result<(DynamicImage, Orientation)> {
    guarded(format, what, || {
        let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format.to_image_format());
        let mut image_limits = image::Limits::default();
        image_limits.max_image_width = Some(limits.max_side);
        image_limits.max_image_height = Some(limits.max_side);
        image_limits.max_alloc = Some(limits.max_alloc);
        reader.limits(image_limits);
        let over_limits = |e| map_image_error(e, limits, what);
        let mut decoder = reader.into_decoder().map_err(over_limits)?;
        let (width, height) = decoder.dimensions();
        if width == 0 || height == 0 {
            return Err(Error::invalid(what, format!("has zero size ({width}x{height})")));
        }
        // Not every decoder checks `max_alloc` before allocating its output
        // (PNG does not), so check the pixel buffer's size from the header here.
        let pixel_bytes = decoder.total_bytes();
        if !limits.admits(width, height, pixel_bytes) {
            return Err(Error::invalid(
                what,
                format!(
                    "exceeds the decoding limits ({width}x{height} {:?} needs {pixel_bytes} bytes of pixel memory; \
                     at most {} MB)",
                    decoder.color_type(),
                    limits.max_alloc / (1024 * 1024)
                ),
            ));
        }
        let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
        let mut image = DynamicImage::from_decoder(decoder).map_err(over_limits)?;
        image.apply_orientation(orientation);
        Ok((image, orientation))
    })
}

/// Runs `work`, a decode of untrusted `format` bytes by third-party code,
/// turning a panic inside it into a decode error naming `what`: the guard
/// every decode here runs under, for decoders called from other crates
/// (msgflux-image's reduced-scale JPEG decode).
///
/// ```
/// use msgflux_core::{ImageFormat, kit::guarded_decode};
/// let err = guarded_decode::<()>(ImageFormat::Jpeg, "image", || panic!("bad huffman table")).unwrap_err();
/// assert!(err.to_string().contains("the JPEG decoder failed on malformed data"), "{err}");
/// ```
pub fn guarded_decode<T>(format: ImageFormat, what: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    guarded(format, what, work)
}

/// The decoders are third-party code fed with hostile bytes; a panic in one of
/// them must become an error for this input, not bring the caller down.
fn guarded<T>(format: ImageFormat, what: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
        Err(Error::decode(
            what,
            format!("the {format} decoder failed on malformed data"),
        ))
    })
}

/// Whether an EXIF orientation turns the image a quarter turn, so that its
/// upright width is its stored height.
///
/// ```
/// use image::metadata::Orientation;
/// assert!(msgflux_core::kit::swaps_sides(Orientation::Rotate90));
/// assert!(!msgflux_core::kit::swaps_sides(Orientation::FlipHorizontal));
/// ```
pub fn swaps_sides(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    )
}

fn map_image_error(err: image::ImageError, limits: &DecodeLimits, what: &str) -> Error {
    match err {
        image::ImageError::Limits(l) => Error::invalid(
            what,
            format!(
                "exceeds the decoding limits ({l}; at most {0}x{0} pixels and {1} MB of pixel memory)",
                limits.max_side,
                limits.max_alloc / (1024 * 1024)
            ),
        ),
        other => Error::decode(what, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG whose header claims `side`x`side` RGBA pixels, with almost no data.
    fn png_header_claiming(side: u32) -> Vec<u8> {
        let mut png = Vec::new();
        image::RgbaImage::new(1, 1)
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("encode");
        // IHDR data starts at byte 16: width, height (big endian); fix its CRC.
        png[16..20].copy_from_slice(&side.to_be_bytes());
        png[20..24].copy_from_slice(&side.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_header_over_the_pixel_budget_is_refused_before_decoding() {
        let bomb = png_header_claiming(16_000);
        let limits = DecodeLimits::new(16_384, 64 * 1024 * 1024);
        let err = decode_with_limits(&bomb, ImageFormat::Png, &limits, "image").expect_err("over budget");
        assert!(err.to_string().contains("exceeds the decoding limits"), "{err}");
    }

    #[test]
    fn a_header_over_the_side_limit_is_refused() {
        let bomb = png_header_claiming(100_000);
        let err = decode_with_limits(&bomb, ImageFormat::Png, &DecodeLimits::default(), "mask").expect_err("too wide");
        assert!(
            matches!(&err, Error::InvalidInput { param, .. } if param == "mask"),
            "{err}"
        );
    }

    #[test]
    fn the_header_reports_the_claimed_size_without_decoding() {
        let header = read_header(&png_header_claiming(100_000), ImageFormat::Png, "image").expect("header");
        assert_eq!((header.width, header.height), (100_000, 100_000));
    }
}
