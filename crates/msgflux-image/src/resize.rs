//! Resampling, in one place. msgflux-resample does the work with
//! fast_image_resize: SIMD convolution (AVX2/SSE4.1/NEON) spread over rayon
//! threads, with alpha premultiplied while filtering as Pillow does. Measured
//! on the 12-megapixel prepare benchmark it is several times faster than
//! `image::imageops::resize` (see docs/benchmarks/image.md). The kernels live
//! in that crate so that they are compiled once, not with every change of
//! this crate's dependencies (docs/build-time.md).

use image::{GrayImage, ImageBuffer, Pixel, RgbImage, RgbaImage};
use msgflux_core::{Error, Result, Size};
use msgflux_resample::{Layout, Region, resample};

pub(crate) use msgflux_resample::Filter;

use crate::geometry::Rect;

/// Resamples `crop` of `src` (whose pixels are laid out as `layout`) to `dst`.
fn resize_buffer<P>(
    src: &ImageBuffer<P, Vec<u8>>,
    layout: Layout,
    crop: Rect,
    dst: Size,
    filter: Filter,
) -> Result<ImageBuffer<P, Vec<u8>>>
where
    P: Pixel<Subpixel = u8>,
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
    let region = Region {
        x: crop.x,
        y: crop.y,
        width: crop.width,
        height: crop.height,
    };
    let pixels = resample(src.as_raw(), layout, (sw, sh), region, (dst.width, dst.height), filter)
        .map_err(|e| Error::invalid("image", e.to_string()))?;
    ImageBuffer::from_raw(dst.width, dst.height, pixels).ok_or_else(|| {
        Error::invalid(
            "image",
            format!("resampling to {dst} returned a buffer of the wrong size"),
        )
    })
}

/// Scales the `crop` part of an RGBA image to `dst`, alpha-aware.
pub(crate) fn resize_rgba(src: &RgbaImage, crop: Rect, dst: Size, filter: Filter) -> Result<RgbaImage> {
    resize_buffer(src, Layout::Rgba, crop, dst, filter)
}

/// Scales the `crop` part of an RGB image to `dst`.
pub(crate) fn resize_rgb(src: &RgbImage, crop: Rect, dst: Size, filter: Filter) -> Result<RgbImage> {
    resize_buffer(src, Layout::Rgb, crop, dst, filter)
}

/// Scales the `crop` part of a greyscale image to `dst`.
pub(crate) fn resize_gray(src: &GrayImage, crop: Rect, dst: Size, filter: Filter) -> Result<GrayImage> {
    resize_buffer(src, Layout::Gray, crop, dst, filter)
}
