#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

use std::fmt;

use fast_image_resize::images::{TypedImage, TypedImageRef};
use fast_image_resize::pixels::{U8, U8x3, U8x4};
use fast_image_resize::{FilterType, PixelTrait, ResizeAlg, ResizeOptions, Resizer};

/// A resampling filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Lanczos with three lobes: the sharpest, what Pillow's `LANCZOS` is.
    Lanczos3,
    /// Bilinear: no ringing, what masks are scaled with.
    Bilinear,
}

/// How the bytes of one pixel are laid out (8 bits per channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One byte per pixel.
    Gray,
    /// Red, green, blue.
    Rgb,
    /// Red, green, blue, alpha (straight, not premultiplied).
    Rgba,
}

impl Layout {
    /// Bytes per pixel.
    ///
    /// ```
    /// assert_eq!(msgflux_resample::Layout::Rgba.channels(), 4);
    /// ```
    pub fn channels(self) -> usize {
        match self {
            Layout::Gray => 1,
            Layout::Rgb => 3,
            Layout::Rgba => 4,
        }
    }
}

/// A rectangle of the source image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Region {
    /// The whole of a `width` x `height` image.
    ///
    /// ```
    /// let r = msgflux_resample::Region::whole(640, 480);
    /// assert_eq!((r.x, r.y, r.width, r.height), (0, 0, 640, 480));
    /// ```
    pub fn whole(width: u32, height: u32) -> Self {
        Self {
            x: 0,
            y: 0,
            width,
            height,
        }
    }
}

/// Why a buffer could not be resampled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResampleError(String);

impl fmt::Display for ResampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ResampleError {}

/// Scales `region` of a `size` (width, height) image in `layout` to `dst`
/// (width, height), returning the new pixels in the same layout.
///
/// Refuses, without panicking, a buffer whose length is not
/// width x height x channels, a region outside the image, and a zero side.
///
/// ```
/// use msgflux_resample::{Filter, Layout, Region, resample};
/// let grey = vec![0u8, 255, 0, 255];
/// let err = resample(&grey, Layout::Gray, (2, 2), Region::whole(3, 2), (1, 1), Filter::Bilinear).unwrap_err();
/// assert!(err.to_string().contains("outside"));
/// ```
pub fn resample(
    pixels: &[u8],
    layout: Layout,
    size: (u32, u32),
    region: Region,
    dst: (u32, u32),
    filter: Filter,
) -> Result<Vec<u8>, ResampleError> {
    let mut out = vec![0u8; dst.0 as usize * dst.1 as usize * layout.channels()];
    resample_rows_into(pixels, layout, size, region, dst, 0..dst.1, &mut out, filter)?;
    Ok(out)
}

/// Writes rows `rows` of the image [`resample`] would return into `out`
/// (`rows.len()` x `dst.0` pixels in `layout`), so that a caller can scale
/// an image a band at a time and hand finished rows on while the next band
/// is scaled (prepare encodes its PNG that way). Each band row equals the
/// whole image's row (the filter reads source pixels beyond the band);
/// when enlarging, within one level, because the band's own crop rounds
/// the filter weights differently in their last bit.
///
/// Refuses what [`resample`] refuses, an empty or out-of-range `rows`, and
/// an `out` of the wrong length.
///
/// ```
/// use msgflux_resample::{Filter, Layout, Region, resample, resample_rows_into};
/// let px: Vec<u8> = (0..64u8).collect();
/// let whole = resample(&px, Layout::Gray, (8, 8), Region::whole(8, 8), (4, 4), Filter::Lanczos3).unwrap();
/// let mut bottom = vec![0u8; 2 * 4];
/// resample_rows_into(&px, Layout::Gray, (8, 8), Region::whole(8, 8), (4, 4), 2..4, &mut bottom, Filter::Lanczos3).unwrap();
/// assert_eq!(bottom, whole[8..]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn resample_rows_into(
    pixels: &[u8],
    layout: Layout,
    size: (u32, u32),
    region: Region,
    dst: (u32, u32),
    rows: std::ops::Range<u32>,
    out: &mut [u8],
    filter: Filter,
) -> Result<(), ResampleError> {
    let (sw, sh) = size;
    let expected = sw as usize * sh as usize * layout.channels();
    if pixels.len() != expected {
        return Err(ResampleError(format!(
            "the buffer has {} bytes but a {sw}x{sh} {layout:?} image has {expected}",
            pixels.len()
        )));
    }
    band(pixels, 0, layout, size, sh, region, dst, rows, out, filter)
}

/// Which rows of a `source_height`-row source rows `rows` of the result
/// read (the filter reads past `region`, up to the source's edge): a
/// caller decoding an image from the top can scale a band as soon as the
/// range's end is decoded, and forget the rows before its start once the
/// bands above are done ([`resample_rows_from_window`]).
///
/// ```
/// use msgflux_resample::{Filter, Region, source_rows_read};
/// // The top quarter of a halving reads a little past the top half.
/// let rows = source_rows_read(400, Region::whole(100, 400), 200, 0..50, Filter::Lanczos3);
/// assert_eq!(rows.start, 0);
/// assert!(rows.end > 100 && rows.end < 110);
/// // The bottom quarter reads a little above it, to the source's end.
/// let rows = source_rows_read(400, Region::whole(100, 400), 200, 150..200, Filter::Lanczos3);
/// assert!(rows.start > 290 && rows.start < 300);
/// assert_eq!(rows.end, 400);
/// ```
pub fn source_rows_read(
    source_height: u32,
    region: Region,
    dst_height: u32,
    rows: std::ops::Range<u32>,
    filter: Filter,
) -> std::ops::Range<u32> {
    if dst_height == 0 || rows.is_empty() {
        let at = region.y.min(source_height);
        return at..at;
    }
    // fast_image_resize's window for an output row: the source centre
    // plus or minus the filter's support, scaled when shrinking, rounded out.
    let scale = f64::from(region.height) / f64::from(dst_height);
    let support = match filter {
        Filter::Lanczos3 => 3.0,
        Filter::Bilinear => 1.0,
    } * scale.max(1.0);
    let first_centre = f64::from(region.y) + (f64::from(rows.start) + 0.5) * scale;
    let last_centre = f64::from(region.y) + (f64::from(rows.end) - 0.5) * scale;
    // One row more than the window on each side, against rounding at the boundary.
    let clamp = |row: f64| (row.max(0.0) as u64).min(u64::from(source_height)) as u32;
    clamp((first_centre - support).floor() - 1.0)..clamp((last_centre + support).ceil() + 1.0)
}

/// [`resample_rows_into`] for a source of which only some rows are held:
/// `window` holds whole rows of the `size` image from row `window_start`
/// on, at least the rows [`source_rows_read`] names, and the band is the
/// one [`resample_rows_into`] gives from the whole image. A caller decoding
/// from the top keeps a window of rows, not the whole image.
///
/// ```
/// use msgflux_resample::{Filter, Layout, Region, resample_rows_from_window, resample_rows_into, source_rows_read};
/// let px: Vec<u8> = (0..64 * 64).map(|i| (i * 7 % 251) as u8).collect();
/// let (whole, size) = (Region::whole(64, 64), (64, 64));
/// let mut from_all = vec![0u8; 4 * 16];
/// resample_rows_into(&px, Layout::Gray, size, whole, (16, 16), 8..12, &mut from_all, Filter::Lanczos3).unwrap();
/// let read = source_rows_read(64, whole, 16, 8..12, Filter::Lanczos3);
/// let window = &px[read.start as usize * 64..read.end as usize * 64];
/// let mut band = vec![0u8; 4 * 16];
/// resample_rows_from_window(window, read.start, Layout::Gray, size, whole, (16, 16), 8..12, &mut band, Filter::Lanczos3).unwrap();
/// assert_eq!(band, from_all);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn resample_rows_from_window(
    window: &[u8],
    window_start: u32,
    layout: Layout,
    size: (u32, u32),
    region: Region,
    dst: (u32, u32),
    rows: std::ops::Range<u32>,
    out: &mut [u8],
    filter: Filter,
) -> Result<(), ResampleError> {
    let (sw, sh) = size;
    let row_bytes = sw as usize * layout.channels();
    let held = window.len().checked_div(row_bytes).unwrap_or(0) as u64;
    if row_bytes == 0 || window.len() % row_bytes != 0 || u64::from(window_start) + held > u64::from(sh) {
        return Err(ResampleError(format!(
            "the buffer has {} bytes, not whole rows {window_start}.. of a {sw}x{sh} {layout:?} image",
            window.len()
        )));
    }
    let held = window_start..window_start + held as u32;
    let read = source_rows_read(sh, region, dst.1, rows.clone(), filter);
    if read.start < held.start || read.end > held.end {
        return Err(ResampleError(format!(
            "rows {}..{} of the result read source rows {}..{} but only {}..{} are there",
            rows.start, rows.end, read.start, read.end, held.start, held.end
        )));
    }
    band(
        window,
        window_start,
        layout,
        size,
        held.len() as u32,
        region,
        dst,
        rows,
        out,
        filter,
    )
}

/// One band of the result from `available` rows of a `size` image, the
/// first of them row `first`.
#[allow(clippy::too_many_arguments)]
fn band(
    pixels: &[u8],
    first: u32,
    layout: Layout,
    size: (u32, u32),
    available: u32,
    region: Region,
    dst: (u32, u32),
    rows: std::ops::Range<u32>,
    out: &mut [u8],
    filter: Filter,
) -> Result<(), ResampleError> {
    let (sw, sh) = size;
    if dst.0 == 0 || dst.1 == 0 || region.width == 0 || region.height == 0 {
        return Err(ResampleError(format!(
            "cannot resample a {}x{} region to {}x{}: a side is zero",
            region.width, region.height, dst.0, dst.1
        )));
    }
    let inside = u64::from(region.x) + u64::from(region.width) <= u64::from(sw)
        && u64::from(region.y) + u64::from(region.height) <= u64::from(sh);
    if !inside {
        return Err(ResampleError(format!(
            "region {}x{} at ({}, {}) lies outside the {sw}x{sh} image",
            region.width, region.height, region.x, region.y
        )));
    }
    if rows.is_empty() || rows.end > dst.1 {
        return Err(ResampleError(format!(
            "rows {}..{} are not a band of the {} rows of a {}x{} result",
            rows.start, rows.end, dst.1, dst.0, dst.1
        )));
    }
    let band_bytes = dst.0 as usize * rows.len() * layout.channels();
    if out.len() != band_bytes {
        return Err(ResampleError(format!(
            "the output has {} bytes but {} rows of {} {layout:?} pixels need {band_bytes}",
            out.len(),
            rows.len(),
            dst.0
        )));
    }
    // The band's source rows, fractional: the filter centres each output row
    // where the whole image's scaling would, so a band row is the whole
    // image's row.
    // (Multiplied before dividing, so the whole image's crop is exact.)
    let source_rows = |r: u32| f64::from(region.height) * f64::from(r) / f64::from(dst.1);
    // Shifting by the whole rows not held is exact in f64.
    let top = f64::from(region.y) + source_rows(rows.start) - f64::from(first);
    let crop = Crop {
        left: f64::from(region.x),
        top,
        width: f64::from(region.width),
        // A band that ends at the last row held must not pass it by rounding.
        height: source_rows(rows.end - rows.start).min(f64::from(available) - top),
    };
    let band_size = (dst.0, rows.end - rows.start);
    // Only the three layouts msgflux uses are instantiated: each is about a
    // third of this crate's compile time.
    match layout {
        Layout::Gray => run::<U8>(pixels, (sw, available), crop, band_size, out, filter),
        Layout::Rgb => run::<U8x3>(pixels, (sw, available), crop, band_size, out, filter),
        Layout::Rgba => run::<U8x4>(pixels, (sw, available), crop, band_size, out, filter),
    }
}

/// The part of the source one call scales, in (fractional) pixels.
struct Crop {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

fn run<P: PixelTrait>(
    pixels: &[u8],
    (sw, sh): (u32, u32),
    crop: Crop,
    (dw, dh): (u32, u32),
    out: &mut [u8],
    filter: Filter,
) -> Result<(), ResampleError> {
    let filter = match filter {
        Filter::Lanczos3 => FilterType::Lanczos3,
        Filter::Bilinear => FilterType::Bilinear,
    };
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter)).crop(
        crop.left,
        crop.top,
        crop.width,
        crop.height,
    );
    let failed = |e: &dyn fmt::Display| ResampleError(format!("cannot resample {sw}x{sh} to {dw}x{dh}: {e}"));
    let src = TypedImageRef::<P>::from_buffer(sw, sh, pixels).map_err(|e| failed(&e))?;
    let mut dst = TypedImage::<P>::from_buffer(dw, dh, out).map_err(|e| failed(&e))?;
    Resizer::new()
        .resize_typed(&src, &mut dst, &options)
        .map_err(|e| failed(&e))
}
