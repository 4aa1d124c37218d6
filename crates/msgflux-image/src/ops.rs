//! Mask operations: invert, grow and shrink by a radius, feather, combine.
//! Each takes the mask by value and returns it, so they chain:
//! `Mask::ellipse(..).dilate(4).feather(5.0)`.

use image::GrayImage;
use msgflux_core::{Error, Result};
use rayon::prelude::*;

use crate::mask::Mask;

impl Mask {
    /// Swaps edit and keep (strength becomes 255 - strength).
    ///
    /// ```
    /// let mask = msgflux_image::Mask::keep_all(4, 4).invert();
    /// assert!(mask.is_full());
    /// ```
    pub fn invert(mut self) -> Self {
        self.strength_mut().par_iter_mut().for_each(|p| *p = 255 - *p);
        self
    }

    /// Grows the edit area by `radius` pixels in every direction (a disc, so
    /// corners round off). Works on partial strengths too (a greyscale dilation).
    ///
    /// ```
    /// use msgflux_image::{Mask, Rect};
    /// let mask = Mask::rectangle(20, 20, Rect::new(8, 8, 4, 4)).dilate(2);
    /// assert!(mask.is_edit(6, 10) && !mask.is_edit(5, 10));
    /// ```
    pub fn dilate(self, radius: u32) -> Self {
        if radius == 0 {
            return self;
        }
        Self::from_strength(max_filter_disc(self.strength(), radius))
    }

    /// Shrinks the edit area by `radius` pixels (the image border does not eat into it).
    ///
    /// ```
    /// use msgflux_image::{Mask, Rect};
    /// let mask = Mask::rectangle(20, 20, Rect::new(4, 4, 12, 12)).erode(3);
    /// assert!(mask.is_edit(7, 10) && !mask.is_edit(6, 10));
    /// ```
    pub fn erode(self, radius: u32) -> Self {
        if radius == 0 {
            return self;
        }
        self.invert().dilate(radius).invert()
    }

    /// Softens the edges with a Gaussian blur of standard deviation `sigma`
    /// pixels (Pillow's `GaussianBlur(sigma)`, computed the same way: three
    /// extended box passes per axis, edges clamped).
    ///
    /// ```
    /// use msgflux_image::{Mask, Rect};
    /// let mask = Mask::rectangle(64, 64, Rect::new(16, 16, 32, 32)).feather(5.0);
    /// assert_eq!(mask.get(32, 32), 255);
    /// assert!(mask.get(16, 32) > 64 && mask.get(16, 32) < 192);
    /// ```
    pub fn feather(self, sigma: f32) -> Self {
        if !sigma.is_finite() || sigma <= 0.0 {
            return self;
        }
        Self::from_strength(gaussian_blur(self.strength(), sigma))
    }

    /// Edits where either mask edits (the larger strength).
    ///
    /// ```
    /// use msgflux_image::{Mask, Rect};
    /// let a = Mask::rectangle(10, 10, Rect::new(0, 0, 5, 10));
    /// let b = Mask::rectangle(10, 10, Rect::new(5, 0, 5, 10));
    /// assert!(a.union(&b).unwrap().is_full());
    /// ```
    pub fn union(self, other: &Mask) -> Result<Self> {
        self.combine(other, u8::max, "union")
    }

    /// Edits where both masks edit (the smaller strength).
    pub fn intersection(self, other: &Mask) -> Result<Self> {
        self.combine(other, u8::min, "intersection")
    }

    fn combine(mut self, other: &Mask, f: fn(u8, u8) -> u8, op: &str) -> Result<Self> {
        if self.size() != other.size() {
            return Err(Error::invalid(
                "mask",
                format!(
                    "cannot take the {op} of a {} mask and a {} mask; they must be the same size",
                    self.size(),
                    other.size()
                ),
            ));
        }
        self.strength_mut()
            .par_iter_mut()
            .zip(other.strength().par_iter())
            .for_each(|(a, b)| *a = f(*a, *b));
        Ok(self)
    }
}

/// Greyscale dilation with a disc of `radius`: for each row offset `dy` the
/// disc is a horizontal chord, so the disc maximum is the maximum over rows of
/// a 1-D sliding-window maximum (van Herk / Gil-Werman, constant time per pixel
/// per chord). Outside the image counts as 0. Cost: O(pixels x (2 radius + 1)).
fn max_filter_disc(src: &GrayImage, radius: u32) -> GrayImage {
    let (w, h) = (src.width() as usize, src.height() as usize);
    let mut out = GrayImage::new(src.width(), src.height());
    if w == 0 || h == 0 {
        return out;
    }
    let r = radius as i64;
    let chords: Vec<(i64, usize)> = (-r..=r)
        .map(|dy| (dy, (((r * r - dy * dy) as f64).sqrt().floor()) as usize))
        .collect();
    let rows: &[u8] = src.as_raw();
    out.par_chunks_mut(w).enumerate().for_each(|(y, out_row)| {
        let mut window = vec![0u8; w];
        let mut scratch = Scratch::default();
        for &(dy, half) in &chords {
            let sy = y as i64 + dy;
            if sy < 0 || sy >= h as i64 {
                continue;
            }
            let row = &rows[sy as usize * w..(sy as usize + 1) * w];
            sliding_max(row, half, &mut window, &mut scratch);
            for (o, v) in out_row.iter_mut().zip(&window) {
                *o = (*o).max(*v);
            }
        }
    });
    out
}

#[derive(Default)]
struct Scratch {
    padded: Vec<u8>,
    forward: Vec<u8>,
    backward: Vec<u8>,
}

/// `out[x] = max(row[x - half ..= x + half])`, positions outside the row ignored.
fn sliding_max(row: &[u8], half: usize, out: &mut [u8], s: &mut Scratch) {
    if half == 0 {
        out.copy_from_slice(row);
        return;
    }
    let k = 2 * half + 1;
    let n = row.len();
    // Pad with zeros (the identity of max) so every window is whole.
    s.padded.clear();
    s.padded.resize(half, 0);
    s.padded.extend_from_slice(row);
    s.padded.resize(n + 2 * half, 0);
    let m = s.padded.len();
    s.forward.resize(m, 0);
    s.backward.resize(m, 0);
    for i in 0..m {
        s.forward[i] = if i % k == 0 {
            s.padded[i]
        } else {
            s.forward[i - 1].max(s.padded[i])
        };
    }
    for i in (0..m).rev() {
        s.backward[i] = if i == m - 1 || (i + 1) % k == 0 {
            s.padded[i]
        } else {
            s.backward[i + 1].max(s.padded[i])
        };
    }
    for (x, o) in out.iter_mut().enumerate() {
        // Window in padded coordinates: [x, x + k - 1].
        *o = s.backward[x].max(s.forward[x + k - 1]);
    }
}

/// Gaussian blur by extended box filtering (Gwosdek, Grewenig, Bruhn and
/// Weickert, "Theoretical foundations of Gaussian convolution by extended box
/// filtering", 2011), three passes per axis as Pillow does, edges clamped.
/// Each pass costs a constant per pixel whatever `sigma` is: rows run in
/// parallel, columns as whole-row vector operations.
pub(crate) fn gaussian_blur(src: &GrayImage, sigma: f32) -> GrayImage {
    let (w, h) = (src.width() as usize, src.height() as usize);
    if w == 0 || h == 0 {
        return src.clone();
    }
    const PASSES: usize = 3;
    let radius = extended_box_radius(sigma as f64, PASSES);
    let box_ = ExtendedBox::new(radius);
    let mut plane: Vec<f32> = src.as_raw().iter().map(|&v| v as f32).collect();
    plane.par_chunks_mut(w).for_each_init(
        || vec![0f32; w + 2 * (box_.l + 1)],
        |padded, row| {
            // A flat row stays flat (most of a mask's rows are all 0 or all 255).
            if row.iter().all(|&v| v == row[0]) {
                return;
            }
            for _ in 0..PASSES {
                box_.row(row, padded);
            }
        },
    );
    let mut other = vec![0f32; plane.len()];
    // Bands of output rows in parallel: each band reads the rows around it and
    // writes only its own, at the cost of priming its running sum once. The
    // band height is fixed, not taken from the thread count, so a mask
    // feathers to the same bytes on every machine.
    for _ in 0..PASSES {
        other
            .par_chunks_mut(COLUMN_BAND_ROWS * w)
            .enumerate()
            .for_each(|(band, dst)| {
                box_.columns(&plane, dst, w, h, band * COLUMN_BAND_ROWS);
            });
        std::mem::swap(&mut plane, &mut other);
    }
    let bytes = plane.par_iter().map(|&v| v.round().clamp(0.0, 255.0) as u8).collect();
    GrayImage::from_raw(src.width(), src.height(), bytes).unwrap_or_else(|| src.clone())
}

/// Output rows per parallel band of the blur's vertical passes.
const COLUMN_BAND_ROWS: usize = 128;

/// The (fractional) box radius whose `passes` repetitions have variance sigma².
fn extended_box_radius(sigma: f64, passes: usize) -> f64 {
    let sigma2 = sigma * sigma / passes as f64;
    let big_l = (12.0 * sigma2 + 1.0).sqrt();
    let l = ((big_l - 1.0) / 2.0).floor();
    let a = (2.0 * l + 1.0) * (l * (l + 1.0) - 3.0 * sigma2) / (6.0 * (sigma2 - (l + 1.0) * (l + 1.0)));
    l + a
}

/// An extended box of radius `l + a`: weight 1 on the `2l + 1` middle
/// samples and `a` on the two next to them, normalised.
#[derive(Clone, Copy)]
struct ExtendedBox {
    l: usize,
    a: f32,
    norm: f32,
}

impl ExtendedBox {
    fn new(radius: f64) -> Self {
        let l = radius.floor() as usize;
        Self {
            l,
            a: (radius - l as f64) as f32,
            norm: 1.0 / (2.0 * radius as f32 + 1.0),
        }
    }

    /// Filters one row in place; `padded` has room for `l + 1` edge copies on each side.
    fn row(&self, row: &mut [f32], padded: &mut [f32]) {
        let (n, l) = (row.len(), self.l);
        let pad = l + 1;
        padded[..pad].fill(row[0]);
        padded[pad..pad + n].copy_from_slice(row);
        padded[pad + n..].fill(row[n - 1]);
        // Pixel x sits at padded[x + pad]; its window is padded[x + 1 ..= x + 2l + 1].
        let mut sum: f32 = padded[1..=2 * l + 1].iter().sum();
        for (x, out) in row.iter_mut().enumerate() {
            *out = (sum + self.a * (padded[x] + padded[x + 2 * l + 2])) * self.norm;
            sum += padded[x + 2 * l + 2] - padded[x + 1];
        }
    }

    /// Filters every column of `src` (rows of `width`, `height` of them) into
    /// `dst`, which holds the output rows from `first_row` on, a row at a time.
    fn columns(&self, src: &[f32], dst: &mut [f32], width: usize, height: usize, first_row: usize) {
        let l = self.l as i64;
        let row = |y: i64| {
            let y = y.clamp(0, height as i64 - 1) as usize;
            &src[y * width..(y + 1) * width]
        };
        let first = first_row as i64;
        let mut sum = vec![0f32; width];
        for dy in -l..=l {
            sum.iter_mut().zip(row(first + dy)).for_each(|(s, v)| *s += v);
        }
        for (y, out) in dst.chunks_exact_mut(width).enumerate() {
            let y = first + y as i64;
            let (before, after) = (row(y - l - 1), row(y + l + 1));
            for (((o, s), b), a) in out.iter_mut().zip(&sum).zip(before).zip(after) {
                *o = (s + self.a * (b + a)) * self.norm;
            }
            let leaving = row(y - l);
            for ((s, a), v) in sum.iter_mut().zip(after).zip(leaving) {
                *s += a - v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_radius_matches_the_gaussian_variance() {
        for sigma in [0.5, 1.0, 2.0, 5.0, 12.5] {
            let r = extended_box_radius(sigma, 3);
            // Variance of an extended box of radius r = l + a.
            let l = r.floor();
            let a = r - l;
            let var = (2.0 * l * (l + 1.0) * (2.0 * l + 1.0) / 6.0 + 2.0 * a * (l + 1.0).powi(2)) / (2.0 * r + 1.0);
            assert!((3.0 * var - sigma * sigma).abs() < 1e-6, "sigma {sigma}: {}", 3.0 * var);
        }
    }

    #[test]
    fn sliding_max_matches_a_naive_window() {
        let row: Vec<u8> = (0..37u32).map(|i| ((i * 73 + 11) % 251) as u8).collect();
        let mut out = vec![0; row.len()];
        let mut s = Scratch::default();
        for half in [0, 1, 2, 5, 40] {
            sliding_max(&row, half, &mut out, &mut s);
            for (x, got) in out.iter().enumerate() {
                let lo = x.saturating_sub(half);
                let hi = (x + half).min(row.len() - 1);
                assert_eq!(*got, *row[lo..=hi].iter().max().unwrap(), "half {half} x {x}");
            }
        }
    }

    fn noisy_plane(width: usize, height: usize) -> Vec<f32> {
        (0..width * height).map(|i| ((i * 7919 + 13) % 256) as f32).collect()
    }

    #[test]
    fn vertical_passes_in_bands_match_one_pass_over_all_rows() {
        let (w, h) = (23, 301);
        let src = noisy_plane(w, h);
        let box_ = ExtendedBox::new(extended_box_radius(5.0, 3));
        let mut whole = vec![0f32; w * h];
        box_.columns(&src, &mut whole, w, h, 0);
        let band = 40;
        let mut banded = vec![0f32; w * h];
        for (i, dst) in banded.chunks_mut(band * w).enumerate() {
            box_.columns(&src, dst, w, h, i * band);
        }
        for (a, b) in whole.iter().zip(&banded) {
            assert!((a - b).abs() < 1e-2, "{a} vs {b}");
        }
    }

    #[test]
    fn a_blur_gives_the_same_bytes_on_any_number_of_threads() {
        let raw: Vec<u8> = noisy_plane(97, 517).iter().map(|&v| v as u8).collect();
        let src = GrayImage::from_raw(97, 517, raw).unwrap();
        let on = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| gaussian_blur(&src, 3.0))
        };
        assert_eq!(on(1), on(4));
    }

    #[test]
    fn a_blur_keeps_a_flat_mask_flat() {
        let flat = GrayImage::from_pixel(33, 17, image::Luma([200]));
        assert_eq!(gaussian_blur(&flat, 4.0), flat);
    }
}
