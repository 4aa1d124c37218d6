//! Resampling, in one place. msgflux-resample does the work with
//! fast_image_resize: SIMD convolution (AVX2/SSE4.1/NEON) spread over rayon
//! threads, with alpha premultiplied while filtering as Pillow does. Measured
//! on the 12-megapixel prepare benchmark it is several times faster than
//! `image::imageops::resize` (see docs/benchmarks/image.md). The kernels live
//! in that crate so that they are compiled once, not with every change of
//! this crate's dependencies (docs/build-time.md).

use std::ops::Range;

use image::{GrayImage, ImageBuffer, Pixel, RgbImage, RgbaImage};
use msgflux_core::{Error, Result, Size};
use msgflux_resample::{Region, resample, resample_rows_from_window, resample_rows_into, source_rows_read};

pub(crate) use msgflux_resample::{Filter, Layout};

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
    let region = checked_region(src.dimensions(), crop, dst)?;
    if is_identity(src.dimensions(), crop, dst) {
        return Ok(src.clone());
    }
    let pixels = resample(
        src.as_raw(),
        layout,
        src.dimensions(),
        region,
        (dst.width, dst.height),
        filter,
    )
    .map_err(|e| Error::invalid("image", e.to_string()))?;
    ImageBuffer::from_raw(dst.width, dst.height, pixels).ok_or_else(|| {
        Error::invalid(
            "image",
            format!("resampling to {dst} returned a buffer of the wrong size"),
        )
    })
}

/// Writes rows `rows` of what [`resize_buffer`] would return into `out`:
/// one band of the result, for a caller that encodes bands as they come.
pub(crate) fn resize_rows_into<P>(
    src: &ImageBuffer<P, Vec<u8>>,
    layout: Layout,
    crop: Rect,
    dst: Size,
    rows: Range<u32>,
    out: &mut [u8],
    filter: Filter,
) -> Result<()>
where
    P: Pixel<Subpixel = u8>,
{
    let region = checked_region(src.dimensions(), crop, dst)?;
    let row_bytes = dst.width as usize * layout.channels();
    if is_identity(src.dimensions(), crop, dst) {
        let band = src
            .as_raw()
            .get(rows.start as usize * row_bytes..rows.end as usize * row_bytes)
            .filter(|band| band.len() == out.len())
            .ok_or_else(|| Error::invalid("image", format!("rows {rows:?} are not a band of the {dst} image")))?;
        out.copy_from_slice(band);
        return Ok(());
    }
    resample_rows_into(
        src.as_raw(),
        layout,
        src.dimensions(),
        region,
        (dst.width, dst.height),
        rows,
        out,
        filter,
    )
    .map_err(|e| Error::invalid("image", e.to_string()))
}

/// Rows `rows` of a whole `size` image scaled to `dst`, from `window`, the
/// rows of that image from `window_start` on (at least those
/// [`rows_read`] names): for a caller scaling an image while it is still
/// being decoded, holding a window of its rows rather than all of them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn resize_rows_from_window(
    window: &[u8],
    window_start: u32,
    layout: Layout,
    size: Size,
    dst: Size,
    rows: Range<u32>,
    out: &mut [u8],
    filter: Filter,
) -> Result<()> {
    let region = checked_region((size.width, size.height), Rect::full(size), dst)?;
    resample_rows_from_window(
        window,
        window_start,
        layout,
        (size.width, size.height),
        region,
        (dst.width, dst.height),
        rows,
        out,
        filter,
    )
    .map_err(|e| Error::invalid("image", e.to_string()))
}

/// Which rows of a whole `size` image scaled to `dst` rows `rows` of the result read.
pub(crate) fn rows_read(size: Size, dst: Size, rows: Range<u32>, filter: Filter) -> Range<u32> {
    let region = Region::whole(size.width, size.height);
    source_rows_read(size.height, region, dst.height, rows, filter)
}

/// The crop as msgflux-resample's region, once it is known to fit and `dst` has no zero side.
fn checked_region((sw, sh): (u32, u32), crop: Rect, dst: Size) -> Result<Region> {
    if dst.width == 0 || dst.height == 0 {
        return Err(Error::invalid("size", format!("{dst} has a zero side")));
    }
    if !crop.fits_in(Size::new(sw, sh)) {
        return Err(Error::invalid(
            "image",
            format!("region {crop} lies outside the {sw}x{sh} image"),
        ));
    }
    Ok(Region {
        x: crop.x,
        y: crop.y,
        width: crop.width,
        height: crop.height,
    })
}

/// Whether scaling is a copy: the whole image, at its own size.
fn is_identity((sw, sh): (u32, u32), crop: Rect, dst: Size) -> bool {
    crop == Rect::new(0, 0, sw, sh) && (sw, sh) == (dst.width, dst.height)
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
