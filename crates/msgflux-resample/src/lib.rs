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
    let (sw, sh) = size;
    let expected = sw as usize * sh as usize * layout.channels();
    if pixels.len() != expected {
        return Err(ResampleError(format!(
            "the buffer has {} bytes but a {sw}x{sh} {layout:?} image has {expected}",
            pixels.len()
        )));
    }
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
    // Only the three layouts msgflux uses are instantiated: each is about a
    // third of this crate's compile time.
    match layout {
        Layout::Gray => run::<U8>(pixels, size, region, dst, filter),
        Layout::Rgb => run::<U8x3>(pixels, size, region, dst, filter),
        Layout::Rgba => run::<U8x4>(pixels, size, region, dst, filter),
    }
}

fn run<P: PixelTrait>(
    pixels: &[u8],
    (sw, sh): (u32, u32),
    region: Region,
    (dw, dh): (u32, u32),
    filter: Filter,
) -> Result<Vec<u8>, ResampleError> {
    let mut out = vec![0u8; dw as usize * dh as usize * P::size()];
    let filter = match filter {
        Filter::Lanczos3 => FilterType::Lanczos3,
        Filter::Bilinear => FilterType::Bilinear,
    };
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter)).crop(
        f64::from(region.x),
        f64::from(region.y),
        f64::from(region.width),
        f64::from(region.height),
    );
    let failed = |e: &dyn fmt::Display| ResampleError(format!("cannot resample {sw}x{sh} to {dw}x{dh}: {e}"));
    let src = TypedImageRef::<P>::from_buffer(sw, sh, pixels).map_err(|e| failed(&e))?;
    let mut dst = TypedImage::<P>::from_buffer(dw, dh, &mut out).map_err(|e| failed(&e))?;
    Resizer::new()
        .resize_typed(&src, &mut dst, &options)
        .map_err(|e| failed(&e))?;
    Ok(out)
}
