//! How a filled image leaves the provider: PNG bytes as base64, a `data:`
//! URL, or a file written atomically into the output directory and named by
//! a `file://` URL.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use image::DynamicImage;
use msgflux_core::{Error, ImageData, ResponseFormat, Result, write_atomic};

/// Where results go, from the response format and the configured output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// `response_format = base64`: base64 of the PNG file.
    Base64,
    /// `response_format = url` without an output directory: a `data:image/png;base64,` URL.
    DataUrl,
    /// `response_format = url` with an output directory: a PNG file there, as a `file://` URL.
    File(PathBuf),
}

impl Delivery {
    pub(crate) fn new(format: ResponseFormat, output_dir: Option<&Path>) -> Self {
        match (format, output_dir) {
            (ResponseFormat::Base64, _) => Self::Base64,
            (ResponseFormat::Url, None) => Self::DataUrl,
            (ResponseFormat::Url, Some(dir)) => Self::File(dir.to_path_buf()),
        }
    }

    /// The word the response metadata uses for this delivery.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::Base64 => "base64",
            Self::DataUrl => "data_url",
            Self::File(_) => "file",
        }
    }

    /// Hands over one PNG; `stem` names the file when one is written.
    pub(crate) fn deliver(&self, png: &[u8], stem: &str) -> Result<ImageData> {
        Ok(match self {
            Self::Base64 => ImageData::Base64(BASE64.encode(png)),
            Self::DataUrl => ImageData::Url(format!("data:image/png;base64,{}", BASE64.encode(png))),
            Self::File(dir) => {
                let dir = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
                let path = dir.join(format!("{stem}-{:016x}.png", fnv1a(png)));
                write_atomic(&path, png)?;
                ImageData::Url(format!("file://{}", path.display()))
            }
        })
    }
}

/// Encodes an image as PNG at zlib's default level (smaller files than the
/// fast level, for results that are kept), through msgflux-image, whose
/// keep-unmasked step is thereby linked wherever this provider is.
pub(crate) fn encode_png(image: &DynamicImage) -> Result<Vec<u8>> {
    msgflux_image::encode(
        image,
        msgflux_image::EncodeSetting::Png(msgflux_image::PngLevel::Default),
        "result",
    )
}

/// A stable 64-bit FNV-1a hash, so a file's name follows from its content.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_format_without_a_directory_gives_a_data_url() {
        let data = Delivery::new(ResponseFormat::Url, None)
            .deliver(b"png", "x")
            .expect("deliver");
        assert_eq!(data, ImageData::Url("data:image/png;base64,cG5n".into()));
    }

    #[test]
    fn base64_format_wins_over_an_output_directory() {
        let delivery = Delivery::new(ResponseFormat::Base64, Some(Path::new("out")));
        assert_eq!(delivery, Delivery::Base64);
    }

    #[test]
    fn url_format_with_a_directory_writes_the_file_and_names_it_by_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let delivery = Delivery::new(ResponseFormat::Url, Some(dir.path()));
        let ImageData::Url(url) = delivery.deliver(b"png bytes", "local-telea").expect("deliver") else {
            panic!("expected a URL");
        };
        let path = url.strip_prefix("file://").expect("file URL");
        assert_eq!(std::fs::read(path).expect("written"), b"png bytes");
        assert!(path.contains("local-telea-"), "{path}");
        let again = delivery.deliver(b"png bytes", "local-telea").expect("deliver");
        assert_eq!(again, ImageData::Url(url));
    }
}
