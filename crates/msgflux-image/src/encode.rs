//! Encoding, and the settings that trade time and quality for bytes.

use std::fmt;
use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageEncoder as _};
use msgflux_core::{Error, ImageFormat, Result};
use serde::{Deserialize, Serialize};

/// How hard the PNG encoder works. Every level is lossless.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PngLevel {
    /// Fastest (fdeflate); a little larger.
    Fast,
    /// zlib's default balance.
    Default,
    /// Smallest, slowest.
    Best,
}

/// One way to encode an image: the steps [`prepare`](crate::prepare) walks
/// through to get under a byte budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodeSetting {
    /// PNG at a compression level (lossless, keeps alpha).
    Png(PngLevel),
    /// JPEG at a quality from 1 to 100 (no alpha).
    Jpeg {
        /// Quality, 1-100.
        quality: u8,
    },
    /// Lossless WebP (keeps alpha).
    WebpLossless,
}

impl EncodeSetting {
    /// The settings to try for a format, from the fastest or best-looking to
    /// the smallest. `None` for formats prepare does not write.
    ///
    /// ```
    /// use msgflux_image::{EncodeSetting, PngLevel};
    /// let steps = EncodeSetting::ladder(msgflux_core::ImageFormat::Png).unwrap();
    /// assert_eq!(steps[0], EncodeSetting::Png(PngLevel::Fast));
    /// ```
    pub fn ladder(format: ImageFormat) -> Option<Vec<EncodeSetting>> {
        match format {
            ImageFormat::Png => Some(vec![
                Self::Png(PngLevel::Fast),
                Self::Png(PngLevel::Default),
                Self::Png(PngLevel::Best),
            ]),
            ImageFormat::Jpeg => Some([92, 85, 75, 60].map(|quality| Self::Jpeg { quality }).to_vec()),
            ImageFormat::Webp => Some(vec![Self::WebpLossless]),
            _ => None,
        }
    }

    /// The file format this setting writes.
    pub fn format(&self) -> ImageFormat {
        match self {
            Self::Png(_) => ImageFormat::Png,
            Self::Jpeg { .. } => ImageFormat::Jpeg,
            Self::WebpLossless => ImageFormat::Webp,
        }
    }
}

impl fmt::Display for EncodeSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Png(PngLevel::Fast) => f.write_str("PNG, fast compression"),
            Self::Png(PngLevel::Default) => f.write_str("PNG, default compression"),
            Self::Png(PngLevel::Best) => f.write_str("PNG, best compression"),
            Self::Jpeg { quality } => write!(f, "JPEG, quality {quality}"),
            Self::WebpLossless => f.write_str("WebP, lossless"),
        }
    }
}

/// Encodes an image with one setting. JPEG drops alpha; `what` names the image in errors.
///
/// ```
/// use msgflux_image::{EncodeSetting, PngLevel, encode};
/// let img = image::DynamicImage::ImageRgba8(image::RgbaImage::new(8, 8));
/// let png = encode(&img, EncodeSetting::Png(PngLevel::Best), "image").unwrap();
/// assert!(png.starts_with(b"\x89PNG"));
/// ```
pub fn encode(image: &DynamicImage, setting: EncodeSetting, what: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let cursor = Cursor::new(&mut buf);
    let (w, h) = (image.width(), image.height());
    let result = match setting {
        EncodeSetting::Png(level) => {
            let compression = match level {
                PngLevel::Fast => CompressionType::Fast,
                PngLevel::Default => CompressionType::Default,
                PngLevel::Best => CompressionType::Best,
            };
            let encoder = PngEncoder::new_with_quality(cursor, compression, FilterType::Adaptive);
            match image {
                // PNG has no float formats; 16 bits keep what there is.
                DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_) => {
                    let rgba16 = image.to_rgba16();
                    encoder.write_image(
                        bytes_of_u16(rgba16.as_raw()).as_slice(),
                        w,
                        h,
                        image::ExtendedColorType::Rgba16,
                    )
                }
                _ => image.write_with_encoder(encoder),
            }
        }
        EncodeSetting::Jpeg { quality } => {
            let rgb = image.to_rgb8();
            JpegEncoder::new_with_quality(cursor, quality.clamp(1, 100)).write_image(
                rgb.as_raw(),
                w,
                h,
                image::ExtendedColorType::Rgb8,
            )
        }
        EncodeSetting::WebpLossless => {
            let rgba = image.to_rgba8();
            WebPEncoder::new_lossless(cursor).write_image(rgba.as_raw(), w, h, image::ExtendedColorType::Rgba8)
        }
    };
    result.map_err(|e| Error::decode(what, format!("cannot encode as {setting}: {e}")))?;
    Ok(buf)
}

/// Builds an RGBA image band by band and encodes it as PNG at the fast
/// level while it is being built: `fill(rows, band)` writes rows `rows` of
/// the image into `band` on a second thread, and each finished band is
/// filtered and compressed on this one while the next is filled, so the
/// two overlap and no whole intermediate image is allocated (what it saves
/// is measured in docs/benchmarks/image.md). Gives the pixels and the file; the
/// file decodes to the same pixels as [`encode`] with
/// [`PngLevel::Fast`] would write.
pub(crate) fn build_and_encode_png_fast(
    width: u32,
    height: u32,
    mut fill: impl FnMut(std::ops::Range<u32>, &mut [u8]) -> Result<()> + Send,
    what: &str,
) -> Result<(image::RgbaImage, Vec<u8>)> {
    // Eight bands: the first band's fill and the last band's encode are
    // the only work not overlapped, and more bands cost more hand-overs.
    let band_rows = height.div_ceil(8).max(1);
    let row_bytes = width as usize * 4;
    let mut pixels = vec![0u8; row_bytes * height as usize];
    let failed = |e: &dyn fmt::Display| Error::decode(what, format!("cannot encode as PNG: {e}"));
    let mut file = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        let (done, finished) = std::sync::mpsc::channel::<Result<&[u8]>>();
        let bands = pixels.chunks_mut(row_bytes * band_rows as usize);
        scope.spawn(move || {
            for (index, band) in (0u32..).zip(bands) {
                let start = index * band_rows;
                let rows = start..start + (band.len() / row_bytes) as u32;
                let filled = fill(rows, band).map(|()| &*band);
                let stop = filled.is_err();
                // The receiver is gone only when encoding failed: stop filling.
                if done.send(filled).is_err() || stop {
                    return;
                }
            }
        });
        let mut encoder = png::Encoder::new(&mut file, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        encoder.set_filter(png::Filter::Adaptive);
        let mut writer = encoder.write_header().map_err(|e| failed(&e))?;
        {
            // One IDAT chunk per band rather than png's default 4 KB.
            let mut stream = writer
                .stream_writer_with_size(row_bytes * band_rows as usize)
                .map_err(|e| failed(&e))?;
            for band in finished {
                std::io::Write::write_all(&mut stream, band?).map_err(|e| failed(&e))?;
            }
            stream.finish().map_err(|e| failed(&e))?;
        }
        writer.finish().map_err(|e| failed(&e))
    })?;
    let image = image::RgbaImage::from_raw(width, height, pixels)
        .ok_or_else(|| Error::decode(what, format!("the {width}x{height} image was not filled")))?;
    Ok((image, file))
}

/// PNG with the fastest setting.
pub(crate) fn encode_png_fast(image: &DynamicImage, what: &str) -> Result<Vec<u8>> {
    encode(image, EncodeSetting::Png(PngLevel::Fast), what)
}

/// Encodes as PNG (fast, lossless); the usual way to write a result or a mask.
///
/// ```
/// let png = msgflux_image::encode_png(&image::DynamicImage::ImageLuma8(image::GrayImage::new(2, 2))).unwrap();
/// assert!(png.starts_with(b"\x89PNG"));
/// ```
pub fn encode_png(image: &DynamicImage) -> Result<Vec<u8>> {
    encode_png_fast(image, "image")
}

fn bytes_of_u16(samples: &[u16]) -> Vec<u8> {
    // PNG stores 16-bit samples big-endian, and the image crate expects native order here.
    samples.iter().flat_map(|s| s.to_ne_bytes()).collect()
}
