//! Image file formats, sniffed from their bytes rather than trusted from a name.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An image file format msgflux can carry to a provider.
///
/// ```
/// use msgflux_core::ImageFormat;
/// let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
/// assert_eq!(ImageFormat::sniff(png), Some(ImageFormat::Png));
/// assert_eq!(ImageFormat::Png.mime(), "image/png");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ImageFormat {
    /// Portable Network Graphics.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    Webp,
    /// GIF (providers see the first frame).
    Gif,
    /// Windows bitmap.
    Bmp,
    /// TIFF.
    Tiff,
}

impl ImageFormat {
    /// Every format, in a stable order.
    pub const ALL: [ImageFormat; 6] = [Self::Png, Self::Jpeg, Self::Webp, Self::Gif, Self::Bmp, Self::Tiff];

    /// Reads the format from the magic bytes at the start of a file.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match image::guess_format(bytes).ok()? {
            image::ImageFormat::Png => Some(Self::Png),
            image::ImageFormat::Jpeg => Some(Self::Jpeg),
            image::ImageFormat::WebP => Some(Self::Webp),
            image::ImageFormat::Gif => Some(Self::Gif),
            image::ImageFormat::Bmp => Some(Self::Bmp),
            image::ImageFormat::Tiff => Some(Self::Tiff),
            _ => None,
        }
    }

    /// The IANA media type (`image/png`).
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Bmp => "image/bmp",
            Self::Tiff => "image/tiff",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
            Self::Gif => "gif",
            Self::Bmp => "bmp",
            Self::Tiff => "tiff",
        }
    }

    /// Parses a media type (`image/jpeg`) or a name (`jpg`, `png`).
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase();
        let name = name.strip_prefix("image/").unwrap_or(&name);
        match name {
            "png" => Some(Self::Png),
            "jpeg" | "jpg" => Some(Self::Jpeg),
            "webp" => Some(Self::Webp),
            "gif" => Some(Self::Gif),
            "bmp" => Some(Self::Bmp),
            "tiff" | "tif" => Some(Self::Tiff),
            _ => None,
        }
    }

    /// The matching `image` crate format.
    pub fn to_image_format(self) -> image::ImageFormat {
        match self {
            Self::Png => image::ImageFormat::Png,
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Webp => image::ImageFormat::WebP,
            Self::Gif => image::ImageFormat::Gif,
            Self::Bmp => image::ImageFormat::Bmp,
            Self::Tiff => image::ImageFormat::Tiff,
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
            Self::Webp => "WebP",
            Self::Gif => "GIF",
            Self::Bmp => "BMP",
            Self::Tiff => "TIFF",
        })
    }
}

/// A byte count for people: `4 MB` for whole mebibytes, `3.98 MB`, `1.5 KB`, `300 B`.
///
/// ```
/// use msgflux_core::kit::human_bytes;
/// assert_eq!(human_bytes(4 * 1024 * 1024), "4 MB");
/// assert_eq!(human_bytes(1536 * 1024), "1.5 MB");
/// assert_eq!(human_bytes(2048), "2 KB");
/// assert_eq!(human_bytes(300), "300 B");
/// ```
pub fn human_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    let (unit, name) = if bytes >= MIB {
        (MIB, "MB")
    } else if bytes >= KIB {
        (KIB, "KB")
    } else {
        return format!("{bytes} B");
    };
    if bytes % unit == 0 {
        format!("{} {name}", bytes / unit)
    } else {
        let value = format!("{:.2}", bytes as f64 / unit as f64);
        format!("{} {name}", value.trim_end_matches('0').trim_end_matches('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_not_an_image_format() {
        assert_eq!(ImageFormat::sniff(b"hello, I am a text file"), None);
    }

    #[test]
    fn names_and_media_types_parse_to_the_same_format() {
        assert_eq!(ImageFormat::from_name("image/jpeg"), Some(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::from_name("JPG"), Some(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::from_name("heic"), None);
    }
}
