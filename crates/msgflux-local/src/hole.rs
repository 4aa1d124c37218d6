//! The hole: which pixels to fill, and how strongly.

use std::fmt;

use image::{ImageBuffer, Pixel, RgbaImage};
use msgflux_core::{Error, Result};

/// Which pixels to fill, with a strength per pixel: 0 keeps the pixel, 255
/// replaces it with the fill, values in between blend the fill over the
/// original (feathered masks).
///
/// Build one from an OpenAI-convention mask ([`HoleMask::from_transparency`]:
/// alpha 0 = fill) or from a predicate ([`HoleMask::from_fn`]).
///
/// ```
/// use msgflux_local::HoleMask;
/// let hole = HoleMask::from_fn(8, 8, |x, y| (2..4).contains(&x) && (2..6).contains(&y));
/// assert_eq!(hole.hole_pixels(), 8);
/// assert!(hole.is_hole(3, 5));
/// assert!(!hole.is_hole(0, 0));
/// assert_eq!(hole.bounding_box(), Some((2, 2, 4, 6)));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HoleMask {
    width: u32,
    height: u32,
    strength: Vec<u8>,
}

impl fmt::Debug for HoleMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HoleMask")
            .field("size", &format_args!("{}x{}", self.width, self.height))
            .field("hole_pixels", &self.hole_pixels())
            .finish()
    }
}

impl HoleMask {
    /// A mask of this size with no hole.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            strength: vec![0; width as usize * height as usize],
        }
    }

    /// A mask whose hole is every pixel where `is_hole(x, y)` is true (filled at full strength).
    pub fn from_fn(width: u32, height: u32, is_hole: impl Fn(u32, u32) -> bool) -> Self {
        let mut mask = Self::new(width, height);
        for y in 0..height {
            for x in 0..width {
                if is_hole(x, y) {
                    mask.set(x, y, 255);
                }
            }
        }
        mask
    }

    /// Reads an OpenAI-convention mask, the one msgflux always uses: alpha 0
    /// marks pixels to fill, opaque pixels are kept, and partial transparency
    /// (a feathered edge) blends the fill over the original.
    ///
    /// ```
    /// use image::{Rgba, RgbaImage};
    /// use msgflux_local::HoleMask;
    /// let mut mask = RgbaImage::from_pixel(4, 4, Rgba([0, 0, 0, 255]));
    /// mask.put_pixel(1, 1, Rgba([0, 0, 0, 0]));
    /// mask.put_pixel(2, 1, Rgba([0, 0, 0, 128]));
    /// let hole = HoleMask::from_transparency(&mask);
    /// assert_eq!((hole.strength(1, 1), hole.strength(2, 1), hole.strength(0, 0)), (255, 127, 0));
    /// ```
    pub fn from_transparency(mask: &RgbaImage) -> Self {
        Self {
            width: mask.width(),
            height: mask.height(),
            strength: mask.pixels().map(|p| 255 - p[3]).collect(),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Fill strength at `(x, y)`: 0 keeps the pixel, 255 replaces it.
    ///
    /// # Panics
    ///
    /// When `(x, y)` is outside the mask.
    pub fn strength(&self, x: u32, y: u32) -> u8 {
        self.strength[self.index(x, y)]
    }

    /// True when `(x, y)` is filled at all (strength above 0).
    ///
    /// # Panics
    ///
    /// When `(x, y)` is outside the mask.
    pub fn is_hole(&self, x: u32, y: u32) -> bool {
        self.strength(x, y) > 0
    }

    /// Sets the fill strength at `(x, y)`.
    ///
    /// # Panics
    ///
    /// When `(x, y)` is outside the mask.
    pub fn set(&mut self, x: u32, y: u32, strength: u8) {
        let i = self.index(x, y);
        self.strength[i] = strength;
    }

    /// How many pixels are filled at all.
    pub fn hole_pixels(&self) -> usize {
        self.strength.iter().filter(|&&s| s > 0).count()
    }

    /// The smallest rectangle holding the hole, as `(x0, y0, x1, y1)` with
    /// exclusive ends; `None` when there is no hole.
    pub fn bounding_box(&self) -> Option<(u32, u32, u32, u32)> {
        let w = self.width as usize;
        let mut bbox: Option<(u32, u32, u32, u32)> = None;
        for (i, _) in self.strength.iter().enumerate().filter(|(_, s)| **s > 0) {
            let (x, y) = ((i % w) as u32, (i / w) as u32);
            bbox = Some(match bbox {
                None => (x, y, x + 1, y + 1),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)),
            });
        }
        bbox
    }

    /// Checks that the mask fits an image of this size and leaves something
    /// to fill and something to sample from.
    ///
    /// ```
    /// use msgflux_local::HoleMask;
    /// let err = HoleMask::new(4, 4).check_fits(4, 4).unwrap_err();
    /// assert!(err.to_string().contains("mask is empty: nothing to fill"));
    /// let err = HoleMask::from_fn(4, 4, |_, _| true).check_fits(4, 4).unwrap_err();
    /// assert!(err.to_string().contains("mask covers the whole image: nothing to sample from"));
    /// let err = HoleMask::new(2, 2).check_fits(4, 4).unwrap_err();
    /// assert!(err.to_string().contains("mask is 2x2 but image is 4x4"));
    /// ```
    pub fn check_fits(&self, width: u32, height: u32) -> Result<()> {
        if (self.width, self.height) != (width, height) {
            return Err(Error::invalid(
                "mask",
                format!(
                    "mask is {}x{} but image is {width}x{height}; they must be the same size",
                    self.width, self.height
                ),
            ));
        }
        let holes = self.hole_pixels();
        if holes == 0 {
            return Err(Error::invalid(
                "mask",
                "mask is empty: nothing to fill (no pixel is transparent; alpha 0 marks the area to fill)",
            ));
        }
        if holes == self.strength.len() {
            return Err(Error::invalid(
                "mask",
                "mask covers the whole image: nothing to sample from (keep the pixels to copy from opaque)",
            ));
        }
        Ok(())
    }

    /// Blends `filled` over `original` by the fill strength: pixels of
    /// strength 0 are copied from `original` exactly, pixels of strength 255
    /// from `filled`, and others mixed in proportion.
    ///
    /// # Panics
    ///
    /// When the three sizes differ.
    pub fn composite<P>(
        &self,
        original: &ImageBuffer<P, Vec<u8>>,
        filled: &ImageBuffer<P, Vec<u8>>,
    ) -> ImageBuffer<P, Vec<u8>>
    where
        P: Pixel<Subpixel = u8>,
    {
        assert_eq!(original.dimensions(), (self.width, self.height), "original size");
        assert_eq!(filled.dimensions(), (self.width, self.height), "filled size");
        let channels = usize::from(P::CHANNEL_COUNT);
        let mut out = original.clone();
        let pixels = out
            .as_mut()
            .chunks_exact_mut(channels)
            .zip(filled.as_raw().chunks_exact(channels));
        for ((dst, src), &strength) in pixels.zip(&self.strength) {
            match strength {
                0 => {}
                255 => dst.copy_from_slice(src),
                s => {
                    let s = u32::from(s);
                    for (d, &f) in dst.iter_mut().zip(src) {
                        *d = ((u32::from(*d) * (255 - s) + u32::from(f) * s + 127) / 255) as u8;
                    }
                }
            }
        }
        out
    }

    /// One boolean per pixel, row-major: true where the pixel is filled at all.
    pub(crate) fn to_bools(&self) -> Vec<bool> {
        self.strength.iter().map(|&s| s > 0).collect()
    }

    fn index(&self, x: u32, y: u32) -> usize {
        assert!(x < self.width && y < self.height, "({x}, {y}) is outside the mask");
        y as usize * self.width as usize + x as usize
    }
}

/// Whether pixel `p` of a `w`-wide, `h`-high mask is known (`false`) and
/// one of its four neighbours is in the hole (`true`): the hole's border.
pub(crate) fn on_border(hole: &[bool], w: usize, h: usize, p: usize) -> bool {
    let (x, y) = (p % w, p / w);
    !hole[p]
        && [
            (x > 0).then(|| p - 1),
            (x + 1 < w).then(|| p + 1),
            (y > 0).then(|| p - w),
            (y + 1 < h).then(|| p + w),
        ]
        .into_iter()
        .flatten()
        .any(|n| hole[n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    #[test]
    fn composite_copies_kept_pixels_exactly_and_blends_partial_ones() {
        let original = GrayImage::from_pixel(3, 1, Luma([200]));
        let filled = GrayImage::from_pixel(3, 1, Luma([0]));
        let mut hole = HoleMask::new(3, 1);
        hole.set(1, 0, 255);
        hole.set(2, 0, 51);
        let out = hole.composite(&original, &filled);
        assert_eq!(out.as_raw(), &vec![200, 0, 160]);
    }

    #[test]
    fn partial_transparency_counts_as_hole() {
        let mut mask = RgbaImage::from_pixel(2, 1, image::Rgba([0, 0, 0, 255]));
        mask.put_pixel(1, 0, image::Rgba([0, 0, 0, 254]));
        let hole = HoleMask::from_transparency(&mask);
        assert_eq!(hole.hole_pixels(), 1);
    }
}
