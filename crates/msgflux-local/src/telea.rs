//! Inpainting by the fast marching method (A. Telea, "An Image Inpainting
//! Technique Based on the Fast Marching Method", 2004).
//!
//! The hole is filled from its border inwards, in order of distance to the
//! border: each pixel becomes a weighted mean of the known pixels within
//! `radius`, weighted towards pixels that are close, on the same level line
//! and in the direction of the border's normal. It is fast and smooth: right for thin scratches, text and
//! small spots, and blurry on large holes (use [`patchmatch`](crate::patchmatch) there).
//!
//! Memory: 5 bytes per image pixel (state and distance) plus the heap of the
//! narrow band, on top of the input and output images.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use image::{ImageBuffer, Pixel};
use msgflux_core::{Error, Result};

use crate::cancel::CancelFlag;
use crate::hole::HoleMask;
use crate::raster::Raster;

/// Settings of a Telea fill.
///
/// ```
/// let settings = msgflux_local::TeleaSettings::default().with_radius(3);
/// assert_eq!(settings.radius, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TeleaSettings {
    /// Radius, in pixels, of the known neighbourhood each filled pixel is taken from (default 5).
    pub radius: u32,
}

impl Default for TeleaSettings {
    fn default() -> Self {
        Self { radius: 5 }
    }
}

impl TeleaSettings {
    /// Largest accepted radius.
    pub const MAX_RADIUS: u32 = 32;

    /// Sets [`TeleaSettings::radius`].
    pub fn with_radius(mut self, radius: u32) -> Self {
        self.radius = radius;
        self
    }

    pub(crate) fn check(&self) -> Result<()> {
        if !(1..=Self::MAX_RADIUS).contains(&self.radius) {
            return Err(Error::invalid(
                "option radius",
                format!("must be between 1 and {}, got {}", Self::MAX_RADIUS, self.radius),
            ));
        }
        Ok(())
    }
}

/// Fills the hole of `image` by fast marching. Pixels outside the hole are
/// copied unchanged; partially transparent mask pixels blend the fill over
/// the original.
///
/// Deterministic: the same input gives the same output.
///
/// ```
/// use image::{GrayImage, Luma};
/// use msgflux_local::{CancelFlag, HoleMask, TeleaSettings, telea};
/// let image = GrayImage::from_fn(32, 32, |x, _| Luma([(x * 8) as u8]));
/// let hole = HoleMask::from_fn(32, 32, |x, y| (12..20).contains(&x) && (12..20).contains(&y));
/// let filled = telea::inpaint(&image, &hole, &TeleaSettings::default(), &CancelFlag::new())?;
/// // A horizontal ramp is continued smoothly across the hole.
/// let v = filled.get_pixel(16, 16)[0] as i32;
/// assert!((v - 128).abs() <= 12, "{v}");
/// # Ok::<(), msgflux_core::Error>(())
/// ```
pub fn inpaint<P>(
    image: &ImageBuffer<P, Vec<u8>>,
    hole: &HoleMask,
    settings: &TeleaSettings,
    cancel: &CancelFlag,
) -> Result<ImageBuffer<P, Vec<u8>>>
where
    P: Pixel<Subpixel = u8>,
{
    hole.check_fits(image.width(), image.height())?;
    settings.check()?;
    let mut raster = Raster::from_buffer(image);
    fill(&mut raster, &hole.to_bools(), settings.radius as usize, cancel)?;
    Ok(hole.composite(image, &raster.into_buffer()))
}

const KNOWN: u8 = 0;
const BAND: u8 = 1;
const INSIDE: u8 = 2;
/// Distance of pixels not reached yet.
const FAR: f32 = 1.0e6;
/// How many pixels are filled between two looks at the cancel flag.
const CANCEL_CHECK_EVERY: usize = 4096;

/// Fills the `hole` pixels of `raster` in place. The hole must leave at least
/// one known pixel; pixels the march cannot reach keep their value.
pub(crate) fn fill(raster: &mut Raster, hole: &[bool], radius: usize, cancel: &CancelFlag) -> Result<()> {
    let (w, h) = (raster.width, raster.height);
    let mut march = March {
        w,
        h,
        state: hole.iter().map(|&inside| if inside { INSIDE } else { KNOWN }).collect(),
        dist: hole.iter().map(|&inside| if inside { FAR } else { 0.0 }).collect(),
    };
    // Distances are non-negative, so their bit patterns order like the numbers;
    // the sequence number makes ties break the same way on every run.
    let mut heap: BinaryHeap<Reverse<(u32, u64, usize)>> = BinaryHeap::new();
    let mut seq = 0u64;
    for i in 0..w * h {
        if march.state[i] == KNOWN && march.neighbours(i).any(|n| march.state[n] == INSIDE) {
            march.state[i] = BAND;
            heap.push(Reverse((0f32.to_bits(), seq, i)));
            seq += 1;
        }
    }
    let mut value = vec![0f32; raster.channels];
    let mut filled = 0usize;
    while let Some(Reverse((_, _, i))) = heap.pop() {
        march.state[i] = KNOWN;
        for n in march.neighbours_array(i).into_iter().flatten() {
            if march.state[n] != INSIDE {
                continue;
            }
            march.dist[n] = march.arrival_time(n);
            march.extrapolate(raster, n, radius, &mut value);
            for (dst, v) in raster.pixel_mut(n).iter_mut().zip(&value) {
                *dst = v.round().clamp(0.0, 255.0) as u8;
            }
            // Reached only now that it holds its fill, never its old content.
            march.state[n] = BAND;
            heap.push(Reverse((march.dist[n].to_bits(), seq, n)));
            seq += 1;
            filled += 1;
            if filled % CANCEL_CHECK_EVERY == 0 {
                cancel.check()?;
            }
        }
    }
    cancel.check()
}

struct March {
    w: usize,
    h: usize,
    state: Vec<u8>,
    dist: Vec<f32>,
}

impl March {
    /// Left, right, up, down, where inside the image.
    fn neighbours_array(&self, i: usize) -> [Option<usize>; 4] {
        let (x, y) = (i % self.w, i / self.w);
        [
            (x > 0).then(|| i - 1),
            (x + 1 < self.w).then(|| i + 1),
            (y > 0).then(|| i - self.w),
            (y + 1 < self.h).then(|| i + self.w),
        ]
    }

    fn neighbours(&self, i: usize) -> impl Iterator<Item = usize> {
        self.neighbours_array(i).into_iter().flatten()
    }

    fn reached(&self, i: Option<usize>) -> Option<f32> {
        i.filter(|&i| self.state[i] != INSIDE).map(|i| self.dist[i])
    }

    /// The distance of `i` from the border: the eikonal equation |∇T| = 1
    /// solved from the reached neighbours, the smallest of the four quadrants.
    fn arrival_time(&self, i: usize) -> f32 {
        let [left, right, up, down] = self.neighbours_array(i);
        let mut best = FAR;
        for horizontal in [left, right] {
            for vertical in [up, down] {
                best = best.min(solve(self.reached(horizontal), self.reached(vertical)));
            }
        }
        best
    }

    /// Gradient of the distance at `i`, from reached neighbours.
    fn distance_gradient(&self, i: usize) -> (f32, f32) {
        let [left, right, up, down] = self.neighbours_array(i);
        let d = self.dist[i];
        let axis = |before: Option<f32>, after: Option<f32>| match (before, after) {
            (Some(b), Some(a)) => (a - b) / 2.0,
            (None, Some(a)) => a - d,
            (Some(b), None) => d - b,
            (None, None) => 0.0,
        };
        (
            axis(self.reached(left), self.reached(right)),
            axis(self.reached(up), self.reached(down)),
        )
    }

    /// Telea's estimate for pixel `p`: the known pixels `q` within `radius`,
    /// weighted towards the border's normal direction, closeness and the same
    /// level line. The paper's first-order term (each `q` extrapolated along
    /// its image gradient) is left out: it compounds over the filled pixels
    /// into streaks, and the plain weighted mean is smooth and stable.
    fn extrapolate(&self, raster: &Raster, p: usize, radius: usize, out: &mut [f32]) {
        let (w, h) = (self.w, self.h);
        let (px, py) = ((p % w) as isize, (p / w) as isize);
        let (gx, gy) = self.distance_gradient(p);
        let r = radius as isize;
        let mut weight_sum = 0f32;
        out.fill(0.0);
        for qy in (py - r).max(0)..=(py + r).min(h as isize - 1) {
            for qx in (px - r).max(0)..=(px + r).min(w as isize - 1) {
                let (rx, ry) = ((px - qx) as f32, (py - qy) as f32);
                let len2 = rx * rx + ry * ry;
                if len2 == 0.0 || len2 > (radius * radius) as f32 {
                    continue;
                }
                let q = qy as usize * w + qx as usize;
                if self.state[q] == INSIDE {
                    continue;
                }
                let direction = ((rx * gx + ry * gy) / len2.sqrt()).abs().max(1.0e-6);
                let level = 1.0 / (1.0 + (self.dist[q] - self.dist[p]).abs());
                let weight = direction * level / len2;
                for (o, &v) in out.iter_mut().zip(raster.pixel(q)) {
                    *o += weight * f32::from(v);
                }
                weight_sum += weight;
            }
        }
        if weight_sum > 0.0 {
            for v in out.iter_mut() {
                *v /= weight_sum;
            }
        }
    }
}

/// One quadrant of the eikonal update: the arrival time from a horizontal
/// and a vertical neighbour's times (either may be unreached).
fn solve(a: Option<f32>, b: Option<f32>) -> f32 {
    match (a, b) {
        (Some(a), Some(b)) => {
            let diff = a - b;
            if diff.abs() >= 1.0 {
                1.0 + a.min(b)
            } else {
                let root = (2.0 - diff * diff).sqrt();
                (a + b + root) / 2.0
            }
        }
        (Some(a), None) | (None, Some(a)) => 1.0 + a,
        (None, None) => FAR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    #[test]
    fn a_flat_image_is_filled_with_its_colour_whatever_the_hole_held() {
        let inside = |x: u32, y: u32| (5..19).contains(&x) && (8..14).contains(&y);
        let image = RgbImage::from_fn(24, 24, |x, y| {
            if inside(x, y) {
                Rgb([255, 0, 255])
            } else {
                Rgb([40, 120, 200])
            }
        });
        let hole = HoleMask::from_fn(24, 24, inside);
        let out = inpaint(&image, &hole, &TeleaSettings::default(), &CancelFlag::new()).expect("fill");
        assert!(out.pixels().all(|p| *p == Rgb([40, 120, 200])));
    }

    #[test]
    fn a_hole_touching_the_image_corner_is_filled() {
        let image = GrayImage::from_pixel(16, 16, Luma([90]));
        let hole = HoleMask::from_fn(16, 16, |x, y| x < 6 && y < 6);
        let out = inpaint(&image, &hole, &TeleaSettings::default(), &CancelFlag::new()).expect("fill");
        assert_eq!(out.get_pixel(0, 0)[0], 90);
    }

    #[test]
    fn a_cancelled_flag_stops_the_fill() {
        let image = GrayImage::from_pixel(16, 16, Luma([90]));
        let hole = HoleMask::from_fn(16, 16, |x, _| x < 6);
        let flag = CancelFlag::new();
        flag.cancel();
        let err = inpaint(&image, &hole, &TeleaSettings::default(), &flag).expect_err("cancelled");
        assert!(matches!(err, Error::Cancelled(_)), "{err}");
    }

    #[test]
    fn a_radius_of_zero_is_refused_naming_the_option() {
        let image = GrayImage::new(8, 8);
        let hole = HoleMask::from_fn(8, 8, |x, _| x == 3);
        let err = inpaint(
            &image,
            &hole,
            &TeleaSettings::default().with_radius(0),
            &CancelFlag::new(),
        )
        .expect_err("radius 0");
        assert!(err.to_string().contains("option radius"), "{err}");
    }

    #[test]
    fn the_eikonal_update_is_one_step_from_a_single_neighbour() {
        assert_eq!(solve(Some(2.0), None), 3.0);
        let both = solve(Some(0.0), Some(0.0));
        assert!((both - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6, "{both}");
    }
}
