//! Roughness matching: the last step of a PatchMatch fill scales the fine
//! detail of the fill so that its energy follows that of the known pixels
//! around it.
//!
//! Copied patches come out smoother than the texture around a large hole
//! (the coarse-to-fine search prefers smooth sources, which match a blurry
//! guess best), and rougher than a smooth surrounding when neighbouring
//! pixels copy from different places. Both show: a smooth blob in grass, a
//! grainy one in a clear sky. Here each pixel is split into a local mean
//! (a box blur) and its detail; the detail energy of the known pixels is
//! measured along the hole's border, spread over the hole by a membrane,
//! and the fill's detail is scaled by the square root of that energy over
//! the fill's own, within [`GAIN_RANGE`]. Where the two already agree to
//! within [`UNCHANGED`], the copies stay exact.

use rayon::prelude::*;

use crate::hole;
use crate::membrane;
use crate::raster::Raster;

/// Radius of the box blur that splits a pixel into mean and detail; applied
/// twice (a 9-pixel triangle filter), so detail is what varies within a few pixels.
const DETAIL_RADIUS: usize = 2;
/// Radius of the window over which detail energy is averaged.
const ENERGY_RADIUS: usize = 8;
/// Pixels of known area around the hole that take part.
const MARGIN: usize = ENERGY_RADIUS + 2 * DETAIL_RADIUS + 1;
/// Smallest and largest scale of the fill's detail.
const GAIN_RANGE: (f32, f32) = (0.5, 2.0);
/// Gains this close to 1 leave the fill as copied.
const UNCHANGED: f32 = 0.1;
/// Jacobi relaxations of the membrane that spreads the border's energy (as in the seam correction).
const RELAXATIONS: usize = 20;

/// Scales the detail of the hole's pixels in `raster` (see the module
/// documentation). Known pixels are read, never written.
pub(crate) fn match_surroundings(raster: &mut Raster, hole: &[bool]) {
    let (w, h, c) = (raster.width, raster.height, raster.channels);
    let Some((x0, y0, x1, y1)) = crate::patchmatch::bounding_box(hole, w, h) else {
        return;
    };
    let (x0, y0) = (x0.saturating_sub(MARGIN), y0.saturating_sub(MARGIN));
    let (x1, y1) = ((x1 + MARGIN).min(w), (y1 + MARGIN).min(h));
    let (bw, bh) = (x1 - x0, y1 - y0);
    let at = |i: usize| (y0 + i / bw) * w + x0 + i % bw;
    let unknown: Vec<bool> = (0..bw * bh).map(|i| hole[at(i)]).collect();
    let known: Vec<bool> = unknown.iter().map(|&u| !u).collect();
    let everywhere = vec![true; bw * bh];
    let values: Vec<f32> = (0..bw * bh)
        .flat_map(|i| raster.pixel(at(i)).iter().map(|&v| f32::from(v)))
        .collect();

    // The mean of a known pixel comes from known pixels only, so the fill
    // does not leak into the reference; the fill's from everything around it.
    let known_mean = smooth(&values, &known, bw, bh, c);
    let fill_mean = smooth(&values, &everywhere, bw, bh, c);
    let energy: Vec<f32> = (0..bw * bh)
        .map(|i| {
            let mean = if unknown[i] { &fill_mean } else { &known_mean };
            (0..c).map(|k| (values[i * c + k] - mean[i * c + k]).powi(2)).sum()
        })
        .collect();
    let known_energy = box_mean(&energy, &known, bw, bh, 1, ENERGY_RADIUS);
    let fill_energy = box_mean(&energy, &unknown, bw, bh, 1, ENERGY_RADIUS);

    // The border's energy, spread over the hole.
    let border: Vec<bool> = (0..bw * bh).map(|i| hole::on_border(&unknown, bw, bh, i)).collect();
    let mut target = known_energy;
    membrane::extend(&mut target, &border, &unknown, bw, bh, 1, RELAXATIONS);

    for i in (0..bw * bh).filter(|&i| unknown[i]) {
        let gain = (target[i] / fill_energy[i].max(f32::MIN_POSITIVE)).sqrt();
        if (gain - 1.0).abs() <= UNCHANGED || !gain.is_finite() {
            continue;
        }
        let gain = gain.clamp(GAIN_RANGE.0, GAIN_RANGE.1);
        for (k, v) in raster.pixel_mut(at(i)).iter_mut().enumerate() {
            let mean = fill_mean[i * c + k];
            *v = (mean + gain * (values[i * c + k] - mean)).round().clamp(0.0, 255.0) as u8;
        }
    }
}

/// [`box_mean`] twice with [`DETAIL_RADIUS`]: a triangle-weighted local mean.
fn smooth(values: &[f32], include: &[bool], w: usize, h: usize, c: usize) -> Vec<f32> {
    let once = box_mean(values, include, w, h, c, DETAIL_RADIUS);
    box_mean(&once, include, w, h, c, DETAIL_RADIUS)
}

/// The mean of `values` over the `include`d pixels of the square window of
/// `radius` around each pixel (0 where the window includes none): running
/// sums along each row, then the sum of the window's rows, rows in parallel.
fn box_mean(values: &[f32], include: &[bool], w: usize, h: usize, c: usize, radius: usize) -> Vec<f32> {
    // Channel c of each pixel holds the count of included pixels.
    let stride = c + 1;
    let mut rows = vec![0f32; w * h * stride];
    rows.par_chunks_mut(w * stride).enumerate().for_each(|(y, row)| {
        let mut running = vec![0f64; (w + 1) * stride];
        for x in 0..w {
            let i = y * w + x;
            for k in 0..stride {
                let v = match (include[i], k < c) {
                    (false, _) => 0.0,
                    (true, true) => f64::from(values[i * c + k]),
                    (true, false) => 1.0,
                };
                running[(x + 1) * stride + k] = running[x * stride + k] + v;
            }
        }
        for x in 0..w {
            let (lo, hi) = (x.saturating_sub(radius), (x + radius + 1).min(w));
            for k in 0..stride {
                row[x * stride + k] = (running[hi * stride + k] - running[lo * stride + k]) as f32;
            }
        }
    });
    let mut out = vec![0f32; w * h * c];
    out.par_chunks_mut(w * c).enumerate().for_each(|(y, out_row)| {
        let mut window = vec![0f32; w * stride];
        for yy in y.saturating_sub(radius)..(y + radius + 1).min(h) {
            for (sum, &v) in window.iter_mut().zip(&rows[yy * w * stride..(yy + 1) * w * stride]) {
                *sum += v;
            }
        }
        for x in 0..w {
            let count = window[x * stride + c];
            if count > 0.0 {
                for k in 0..c {
                    out_row[x * c + k] = window[x * stride + k] / count;
                }
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_mean_averages_only_the_included_pixels_of_the_window() {
        let (w, h) = (5, 1);
        let values = [10.0, 20.0, 30.0, 40.0, 50.0];
        let include = [true, true, false, true, true];
        let mean = box_mean(&values, &include, w, h, 1, 1);
        assert_eq!(mean, vec![15.0, 15.0, 30.0, 45.0, 45.0]);
    }

    /// A checkerboard of amplitude `amplitude` around 128 with a square hole,
    /// the hole holding the same pattern at `fill_amplitude`.
    fn checkerboard(amplitude: i32, fill_amplitude: i32) -> (Raster, Vec<bool>) {
        let (w, h) = (48, 48);
        let hole: Vec<bool> = (0..w * h)
            .map(|i| (16..32).contains(&(i % w)) && (16..32).contains(&(i / w)))
            .collect();
        let data = (0..w * h)
            .map(|i| {
                let sign = if (i % w + i / w) % 2 == 0 { 1 } else { -1 };
                let a = if hole[i] { fill_amplitude } else { amplitude };
                (128 + sign * a) as u8
            })
            .collect();
        (
            Raster {
                width: w,
                height: h,
                channels: 1,
                data,
            },
            hole,
        )
    }

    /// The fill's mean deviation from 128 after [`match_surroundings`].
    fn fill_amplitude_after(amplitude: i32, fill_amplitude: i32) -> f32 {
        let (mut raster, hole) = checkerboard(amplitude, fill_amplitude);
        match_surroundings(&mut raster, &hole);
        let deviations: Vec<f32> = (0..hole.len())
            .filter(|&i| hole[i])
            .map(|i| (f32::from(raster.data[i]) - 128.0).abs())
            .collect();
        deviations.iter().sum::<f32>() / deviations.len() as f32
    }

    #[test]
    fn a_fill_smoother_than_its_surroundings_gets_rougher() {
        let amplitude = fill_amplitude_after(40, 20);
        assert!((32.0..=48.0).contains(&amplitude), "{amplitude}");
    }

    #[test]
    fn a_fill_rougher_than_its_surroundings_gets_smoother() {
        let amplitude = fill_amplitude_after(10, 30);
        assert!((8.0..=20.0).contains(&amplitude), "{amplitude}");
    }

    #[test]
    fn a_fill_as_rough_as_its_surroundings_is_left_as_copied() {
        let (mut raster, hole) = checkerboard(30, 30);
        let before = raster.clone();
        match_surroundings(&mut raster, &hole);
        assert_eq!(raster, before);
    }

    #[test]
    fn known_pixels_are_never_written() {
        let (mut raster, hole) = checkerboard(40, 5);
        let before = raster.clone();
        match_surroundings(&mut raster, &hole);
        for i in (0..hole.len()).filter(|&i| !hole[i]) {
            assert_eq!(raster.data[i], before.data[i]);
        }
        assert_ne!(raster, before);
    }
}
