//! JPEG decoding at a reduced scale ("shrink on load", as libvips and
//! libjpeg's `scale_denom` do): the inverse DCT of each 8x8 block produces
//! 4x4, 2x2 or 1x1 pixels directly, so a 12-megapixel photo headed for
//! 1024x1024 never exists at full size. Entropy decoding is the same; the
//! inverse DCT, colour conversion and the memory for pixels shrink by the
//! square of the factor, and the resize after it has a quarter of the input.
//!
//! The same safety rules as [`decode`](crate::decode()): limits are checked
//! against the full-size header before anything is allocated, the EXIF
//! orientation is applied, and a panic in the decoder becomes an error.
//! Pixel formats this path does not convert itself (CMYK, 16-bit), and
//! files this decoder cannot read, return `None`: the caller decodes at
//! full size as before.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};
use jpeg_decoder::{Decoder, PixelFormat};
use msgflux_core::kit::swaps_sides;
use msgflux_core::{DecodeLimits, Error, ImageFormat, Result, Size};

use crate::decode::Decoded;

/// A JPEG decoded at a reduced scale, and the size it has in full.
pub(crate) struct Reduced {
    /// The reduced pixels, upright.
    pub(crate) decoded: Decoded,
    /// The full size, upright.
    pub(crate) full: Size,
}

/// How a JPEG is to be decoded at a reduced scale, from its header.
pub(crate) struct ReducedPlan<'a> {
    decoder: Decoder<Cursor<&'a [u8]>>,
    pixel_format: PixelFormat,
    orientation: Orientation,
    /// The full size, upright.
    full: Size,
    stored: (u32, u32),
    /// The wanted size, as stored (not upright).
    wanted: (u32, u32),
    /// 2, 4 or 8.
    divisor: u32,
}

/// Reads a JPEG's header and chooses how to decode it at a reduced scale
/// (1/8, 1/4 or 1/2 of each side, dividing both sides exactly): the
/// smallest that still gives twice the size `at_least` returns for the
/// full upright size, else 1/2 when that gives at least that size, or
/// `None` when no reduction applies (the full size is needed, no such
/// scale exists, or the pixel format is one the full decoder converts:
/// CMYK, 16-bit). Refuses, as the full decoder would, a size over `limits`.
pub(crate) fn plan_reduced<'a>(
    bytes: &'a [u8],
    limits: &DecodeLimits,
    what: &str,
    at_least: impl FnOnce(Size) -> Size,
) -> Result<Option<ReducedPlan<'a>>> {
    // The header is read by the decoder that decodes the pixels, from the
    // caller's bytes: the image crate's JPEG header reader copies the whole
    // file first (6.4 MB on the 12 MP job, about 5 ms with its page
    // faults). A header this decoder cannot read goes to the full decoder,
    // which reads it its own way and reports its own error.
    let header = msgflux_core::kit::guarded_decode(ImageFormat::Jpeg, what, || {
        let mut decoder = Decoder::new(Cursor::new(bytes));
        decoder.set_max_decoding_buffer_size(usize::try_from(limits.max_alloc).unwrap_or(usize::MAX));
        decoder.read_info().map_err(|e| Error::decode(what, e))?;
        let info = decoder
            .info()
            .ok_or_else(|| Error::decode(what, "the JPEG header has no frame"))?;
        // A broken EXIF block must not make a readable image unreadable.
        let orientation = decoder
            .exif_data()
            .and_then(Orientation::from_exif_chunk)
            .unwrap_or(Orientation::NoTransforms);
        Ok((decoder, info, orientation))
    });
    let Ok((decoder, info, orientation)) = header else {
        return Ok(None);
    };
    let (stored_w, stored_h) = (u32::from(info.width), u32::from(info.height));
    let full = if swaps_sides(orientation) {
        Size::new(stored_h, stored_w)
    } else {
        Size::new(stored_w, stored_h)
    };
    // The full decoder's limits, checked against the full size before
    // anything is allocated.
    check_limits(full, limits, what)?;
    if full.width == 0 || full.height == 0 || !matches!(info.pixel_format, PixelFormat::L8 | PixelFormat::RGB24) {
        return Ok(None);
    }
    let wanted = at_least(full);
    // At least half of a side must go, or the full decoder is as good.
    if wanted.width * 2 > full.width || wanted.height * 2 > full.height {
        return Ok(None);
    }
    // The decoder scales the stored (not upright) image.
    let (want_w, want_h) = if swaps_sides(orientation) {
        (wanted.height, wanted.width)
    } else {
        (wanted.width, wanted.height)
    };
    // A scale that divides both sides (a partial last block would add
    // padding pixels to the reduced image and shift everything resampled
    // from it: 1001 pixels at 1/4 came out 251 wide, 32 dB from the full
    // decode) and keeps both at least `margin` times the wanted ones (the
    // decoder's own choice only promises the wanted size for one side).
    let leaves = |d: u32, margin: u32| {
        stored_w % d == 0
            && stored_h % d == 0
            && stored_w / d >= want_w.saturating_mul(margin)
            && stored_h / d >= want_h.saturating_mul(margin)
    };
    // 1/4 and 1/8 (2x2 and 1x1 of each 8x8 block) filter coarsely, so
    // they leave Lanczos at least half of the reduction: 48 MP to
    // 1024x1024 at 1/4 came out 45.9 dB from the full-resolution
    // Lanczos, 3.7 dB worse than libvips's 1/2; at 1/2 (4x4 of 8x8)
    // the wanted size is enough (12 MP: 46.3 dB, libvips 45.5).
    let Some(divisor) = [8u32, 4, 2]
        .into_iter()
        .find(|&d| leaves(d, 2))
        .or_else(|| leaves(2, 1).then_some(2))
    else {
        return Ok(None);
    };
    Ok(Some(ReducedPlan {
        decoder,
        pixel_format: info.pixel_format,
        orientation,
        full,
        stored: (stored_w, stored_h),
        wanted: (want_w, want_h),
        divisor,
    }))
}

impl ReducedPlan<'_> {
    /// The full size, upright.
    pub(crate) fn full(&self) -> Size {
        self.full
    }

    /// The full size as stored (before the EXIF orientation), as checked against the limits.
    pub(crate) fn stored(&self) -> (u32, u32) {
        self.stored
    }

    /// Whether the plan is half scale of an upright RGB file: what
    /// [`crate::jpeg::decode_half_with`] can hand on row by row, with no
    /// orientation to apply to the whole image first.
    pub(crate) fn is_upright_rgb_at_half(&self) -> bool {
        self.divisor == 2 && self.orientation == Orientation::NoTransforms && self.pixel_format == PixelFormat::RGB24
    }

    /// Decodes as planned: half scale through our own decoder when it
    /// reads the file (and `ours_refused` does not say it already
    /// refused it), jpeg-decoder otherwise. `None` when jpeg-decoder
    /// cannot give the planned size or fails: the caller then decodes in
    /// full, which is more tolerant of damaged files and reports its own error.
    pub(crate) fn decode(mut self, bytes: &[u8], what: &str, ours_refused: bool) -> Result<Option<Reduced>> {
        let reduced = msgflux_core::kit::guarded_decode(ImageFormat::Jpeg, what, || {
            let ours = (self.divisor == 2 && !ours_refused)
                .then(|| crate::jpeg::decode_half(bytes, self.stored).ok())
                .flatten();
            let (w, h, pixels) = match ours {
                Some(half) if half.channels == self.pixel_format.pixel_bytes() => {
                    (half.width, half.height, half.pixels)
                }
                _ => match decode_scaled(&mut self.decoder, self.stored, self.wanted, self.divisor, what)? {
                    Some(scaled) => scaled,
                    None => return Ok(None),
                },
            };
            let short = || Error::decode(what, format!("the reduced JPEG decode gave fewer pixels than {w}x{h}"));
            let mut image = match self.pixel_format {
                PixelFormat::L8 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels).ok_or_else(short)?),
                _ => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels).ok_or_else(short)?),
            };
            if self.orientation != Orientation::NoTransforms {
                image.apply_orientation(self.orientation);
            }
            Ok(Some(Reduced {
                decoded: Decoded {
                    image,
                    format: ImageFormat::Jpeg,
                    orientation: self.orientation,
                    file_bytes: bytes.len() as u64,
                },
                full: self.full,
            }))
        });
        Ok(reduced.unwrap_or(None))
    }
}

/// jpeg-decoder's scaled decode: `None` when it would not reduce to at
/// least the wanted size.
fn decode_scaled(
    decoder: &mut Decoder<Cursor<&[u8]>>,
    (stored_w, stored_h): (u32, u32),
    (want_w, want_h): (u32, u32),
    divisor: u32,
    what: &str,
) -> Result<Option<(u32, u32, Vec<u8>)>> {
    let side = |v: u32| u16::try_from(v / divisor).unwrap_or(u16::MAX);
    let (w, h) = decoder
        .scale(side(stored_w), side(stored_h))
        .map_err(|e| Error::decode(what, e))?;
    let (w, h) = (u32::from(w), u32::from(h));
    if (w, h) == (stored_w, stored_h) || w < want_w || h < want_h {
        return Ok(None);
    }
    let pixels = decoder.decode().map_err(|e| Error::decode(what, e))?;
    Ok(Some((w, h, pixels)))
}

/// The rule of the full decoder, applied to the full size: a file is
/// accepted or refused the same way whichever path decodes it.
fn check_limits(full: Size, limits: &DecodeLimits, what: &str) -> Result<()> {
    let pixel_bytes = u64::from(full.width) * u64::from(full.height) * 3;
    if !limits.admits(full.width, full.height, pixel_bytes) {
        return Err(Error::invalid(
            what,
            format!(
                "exceeds the decoding limits ({full} needs {pixel_bytes} bytes of pixel memory; at most {0}x{0} \
                 pixels and {1} MB of pixel memory)",
                limits.max_side,
                limits.max_alloc / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}
