//! Safe decoding: the format is sniffed from the bytes, limits are checked
//! from the header before any pixel buffer is allocated, EXIF orientation is
//! applied, and every failure is a typed [`Error`] naming what was decoded.

use std::fmt;
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder as _};
use msgflux_core::{DecodeLimits, Error, ImageFormat, Result, Size};

/// A decoded image, upright, with what was learnt while decoding it.
///
/// ```
/// # fn main() -> msgflux_core::Result<()> {
/// let mut png = Vec::new();
/// image::RgbaImage::new(4, 2).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
/// let decoded = msgflux_image::decode(&png, &msgflux_core::DecodeLimits::default(), "image")?;
/// assert_eq!(decoded.size(), msgflux_core::Size::new(4, 2));
/// assert_eq!(decoded.format, msgflux_core::ImageFormat::Png);
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Decoded {
    /// The pixels, with the EXIF orientation already applied.
    pub image: DynamicImage,
    /// The format sniffed from the bytes.
    pub format: ImageFormat,
    /// The orientation the file asked for (and that was applied).
    pub orientation: Orientation,
    /// Length of the encoded file.
    pub file_bytes: u64,
}

impl fmt::Debug for Decoded {
    // Never dump the pixels.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoded")
            .field("size", &format_args!("{}x{}", self.image.width(), self.image.height()))
            .field("color", &self.image.color())
            .field("format", &self.format)
            .field("orientation", &self.orientation)
            .field("file_bytes", &self.file_bytes)
            .finish()
    }
}

impl Decoded {
    /// Width and height after orientation.
    pub fn size(&self) -> Size {
        Size::new(self.image.width(), self.image.height())
    }

    /// Whether the pixel format carries an alpha channel.
    pub fn has_alpha(&self) -> bool {
        self.image.color().has_alpha()
    }
}

/// Decodes image bytes (PNG, JPEG, WebP, GIF's first frame, BMP, TIFF) within `limits`.
///
/// `what` names the input in errors (`image`, `mask`, a file name). Header
/// dimensions are checked against the limits before pixels are allocated, so a
/// 100000x100000 header or a decompression bomb is refused at once.
///
/// ```
/// let err = msgflux_image::decode(b"not an image", &msgflux_core::DecodeLimits::default(), "image").unwrap_err();
/// assert!(err.to_string().contains("not a supported image"));
/// ```
pub fn decode(bytes: &[u8], limits: &DecodeLimits, what: &str) -> Result<Decoded> {
    if bytes.is_empty() {
        return Err(Error::invalid(what, "is empty (0 bytes)"));
    }
    let format = ImageFormat::sniff(bytes).ok_or_else(|| {
        Error::invalid(
            what,
            format!(
                "is not a supported image (starts with {}); expected PNG, JPEG, WebP, GIF, BMP or TIFF",
                hex_prefix(bytes)
            ),
        )
    })?;
    // The decoders are third-party code fed with hostile bytes; a panic in one
    // of them must become an error for this input, not bring the caller down.
    let decoded =
        catch_unwind(AssertUnwindSafe(|| decode_sniffed(bytes, format, limits, what))).unwrap_or_else(|_| {
            Err(Error::decode(
                what,
                format!("the {format} decoder failed on malformed data"),
            ))
        })?;
    let (image, orientation) = decoded;
    Ok(Decoded {
        image,
        format,
        orientation,
        file_bytes: bytes.len() as u64,
    })
}

/// Reads and decodes a file; errors name the path.
pub fn decode_file(path: impl AsRef<Path>, limits: &DecodeLimits) -> Result<Decoded> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::invalid(path.display().to_string(), "file not found")
        } else {
            Error::io(path, e)
        }
    })?;
    decode(&bytes, limits, &path.display().to_string())
}

fn decode_sniffed(
    bytes: &[u8],
    format: ImageFormat,
    limits: &DecodeLimits,
    what: &str,
) -> Result<(DynamicImage, Orientation)> {
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format.to_image_format());
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_side);
    image_limits.max_image_height = Some(limits.max_side);
    image_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(image_limits);
    let map = |e| map_image_error(e, limits, what);
    let mut decoder = reader.into_decoder().map_err(map)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(Error::invalid(what, format!("has zero size ({width}x{height})")));
    }
    // Not every decoder checks `max_alloc` itself before allocating its output
    // (PNG does not), so check the size of the pixel buffer here, from the header.
    let pixel_bytes = decoder.total_bytes();
    if pixel_bytes > limits.max_alloc {
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
    // A broken EXIF block must not make a readable image unreadable.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(map)?;
    image.apply_orientation(orientation);
    Ok((image, orientation))
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

fn hex_prefix(bytes: &[u8]) -> String {
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("bytes {}", head.join(" "))
}
