//! Safe decoding: the format is sniffed from the bytes, limits are checked
//! from the header before any pixel buffer is allocated, EXIF orientation is
//! applied, and every failure is a typed [`Error`] naming what was decoded.

use std::fmt;
use std::path::Path;

use image::DynamicImage;
use image::metadata::Orientation;
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
    let format = msgflux_core::kit::sniff_format(bytes, what)?;
    let (image, orientation) = msgflux_core::kit::decode_oriented(bytes, format, limits, what)?;
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
