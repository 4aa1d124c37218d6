//! Resampling, in one place. fast_image_resize does the work: SIMD
//! convolution (AVX2/SSE4.1/NEON) spread over rayon threads, with alpha
//! premultiplied while filtering as Pillow does. Measured on the 12-megapixel
//! prepare benchmark it is several times faster than `image::imageops::resize`
//! (see docs/benchmarks/image.md).
//!
//! The typed API (`resize_typed`) is used with the three pixel types
//! msgflux resizes (grey, RGB, RGBA, 8 bits): the untyped `resize`
//! instantiates every kernel for all thirteen pixel types of the crate, which
//! made this crate take minutes to compile.

use fast_image_resize::images::{TypedImage, TypedImageRef};
use fast_image_resize::pixels::{U8, U8x3, U8x4};
use fast_image_resize::{FilterType, PixelTrait, ResizeAlg, ResizeOptions, Resizer};
use image::{GrayImage, ImageBuffer, Pixel, RgbImage, RgbaImage};
use msgflux_core::{Error, Result, Size};

use crate::geometry::Rect;

/// A resampling filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    /// Lanczos with three lobes: the sharpest, what Pillow's `LANCZOS` is.
    Lanczos3,
    /// Bilinear: no ringing, used for masks.
    Bilinear,
}

/// Resamples with `F`, the fast_image_resize pixel type laid out like `P`.
fn resize_buffer<P, F>(
    src: &ImageBuffer<P, Vec<u8>>,
    crop: Rect,
    dst: Size,
    filter: Filter,
) -> Result<ImageBuffer<P, Vec<u8>>>
where
    P: Pixel<Subpixel = u8>,
    F: PixelTrait,
{
    if dst.width == 0 || dst.height == 0 {
        return Err(Error::invalid("size", format!("{dst} has a zero side")));
    }
    let (sw, sh) = src.dimensions();
    if !crop.fits_in(Size::new(sw, sh)) {
        return Err(Error::invalid(
            "image",
            format!("region {crop} lies outside the {sw}x{sh} image"),
        ));
    }
    if crop == Rect::new(0, 0, sw, sh) && (sw, sh) == (dst.width, dst.height) {
        return Ok(src.clone());
    }
    let mut out = ImageBuffer::<P, Vec<u8>>::new(dst.width, dst.height);
    let filter = match filter {
        Filter::Lanczos3 => FilterType::Lanczos3,
        Filter::Bilinear => FilterType::Bilinear,
    };
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter)).crop(
        crop.x as f64,
        crop.y as f64,
        crop.width as f64,
        crop.height as f64,
    );
    let failed =
        |e: &dyn std::fmt::Display| Error::invalid("image", format!("cannot resample {sw}x{sh} to {dst}: {e}"));
    let src_view = TypedImageRef::<F>::from_buffer(sw, sh, src.as_raw()).map_err(|e| failed(&e))?;
    let mut dst_view = TypedImage::<F>::from_buffer(dst.width, dst.height, &mut out).map_err(|e| failed(&e))?;
    Resizer::new()
        .resize_typed(&src_view, &mut dst_view, &options)
        .map_err(|e| failed(&e))?;
    Ok(out)
}

/// Scales the `crop` part of an RGBA image to `dst`, alpha-aware.
pub(crate) fn resize_rgba(src: &RgbaImage, crop: Rect, dst: Size, filter: Filter) -> Result<RgbaImage> {
    resize_buffer::<_, U8x4>(src, crop, dst, filter)
}

/// Scales the `crop` part of an RGB image to `dst`.
pub(crate) fn resize_rgb(src: &RgbImage, crop: Rect, dst: Size, filter: Filter) -> Result<RgbImage> {
    resize_buffer::<_, U8x3>(src, crop, dst, filter)
}

/// Scales the `crop` part of a greyscale image to `dst`.
pub(crate) fn resize_gray(src: &GrayImage, crop: Rect, dst: Size, filter: Filter) -> Result<GrayImage> {
    resize_buffer::<_, U8>(src, crop, dst, filter)
}
