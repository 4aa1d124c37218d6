//! Smooth extension of values known on some pixels into others: a membrane
//! (an approximate solution of Laplace's equation), used to spread the
//! colour mismatch measured along the hole's border over the hole
//! (a Poisson-style seam correction, after P. Pérez et al., "Poisson Image
//! Editing", 2003).
//!
//! A push-pull pyramid (S. Gortler et al., "The Lumigraph", 1996) gives a
//! smooth first guess in linear time; Jacobi iterations then relax it
//! towards the harmonic solution. Rows relax in parallel from the previous
//! iterate, so the result does not depend on the number of threads.

use rayon::prelude::*;

/// Values per pixel (`channels` floats, row-major) and how far each is known
/// (1 = fixed, 0 = unknown, in between on coarse levels).
struct Grid {
    width: usize,
    height: usize,
    values: Vec<f32>,
    weights: Vec<f32>,
}

/// Fills `values` at the pixels where `unknown` is true from those where
/// `fixed` is true: push-pull, then `iterations` Jacobi relaxations over the
/// unknown pixels (each the mean of its 4-neighbours that are fixed or
/// unknown; other neighbours are ignored). Pixels neither fixed nor unknown
/// keep their values and do not take part. Unknown pixels with no fixed
/// pixel anywhere get 0.
pub(crate) fn extend(
    values: &mut [f32],
    fixed: &[bool],
    unknown: &[bool],
    width: usize,
    height: usize,
    channels: usize,
    iterations: usize,
) {
    let c = channels;
    let finest = Grid {
        width,
        height,
        values: values
            .iter()
            .enumerate()
            .map(|(k, &v)| if fixed[k / c] { v } else { 0.0 })
            .collect(),
        weights: fixed.iter().map(|&f| if f { 1.0 } else { 0.0 }).collect(),
    };
    // Pull: halve until one pixel, each coarse pixel the weighted mean of its 2x2 block.
    let mut levels = vec![finest];
    while levels[levels.len() - 1].width > 1 || levels[levels.len() - 1].height > 1 {
        let fine = &levels[levels.len() - 1];
        let (cw, ch) = (fine.width.div_ceil(2), fine.height.div_ceil(2));
        let mut coarse = Grid {
            width: cw,
            height: ch,
            values: vec![0.0; cw * ch * c],
            weights: vec![0.0; cw * ch],
        };
        for y in 0..ch {
            for x in 0..cw {
                let ci = y * cw + x;
                let mut total = 0f32;
                for fy in 2 * y..(2 * y + 2).min(fine.height) {
                    for fx in 2 * x..(2 * x + 2).min(fine.width) {
                        let fi = fy * fine.width + fx;
                        let wgt = fine.weights[fi];
                        total += wgt;
                        for k in 0..c {
                            coarse.values[ci * c + k] += wgt * fine.values[fi * c + k];
                        }
                    }
                }
                if total > 0.0 {
                    for k in 0..c {
                        coarse.values[ci * c + k] /= total;
                    }
                }
                coarse.weights[ci] = total.min(1.0);
            }
        }
        levels.push(coarse);
    }
    // Push: each pixel not fully known blends in the coarser level, sampled
    // bilinearly; on the finest level only the unknown pixels are needed.
    for index in (0..levels.len() - 1).rev() {
        let (finer, coarser) = levels.split_at_mut(index + 1);
        let (fine, coarse) = (&mut finer[index], &coarser[0]);
        let mut sample = vec![0f32; c];
        for y in 0..fine.height {
            for x in 0..fine.width {
                let fi = y * fine.width + x;
                let wgt = fine.weights[fi];
                if wgt >= 1.0 || (index == 0 && !unknown[fi]) {
                    continue;
                }
                bilinear(
                    coarse,
                    (x as f32 + 0.5) / 2.0 - 0.5,
                    (y as f32 + 0.5) / 2.0 - 0.5,
                    &mut sample,
                );
                for (v, &coarser_value) in fine.values[fi * c..(fi + 1) * c].iter_mut().zip(&sample) {
                    *v = wgt * *v + (1.0 - wgt) * coarser_value;
                }
                fine.weights[fi] = 1.0;
            }
        }
    }
    let mut current = std::mem::take(&mut levels[0].values);
    // Relax towards the harmonic solution, visiting the unknown pixels only.
    let columns: Vec<Vec<usize>> = (0..height)
        .map(|y| (0..width).filter(|&x| unknown[y * width + x]).collect())
        .collect();
    let mut next = current.clone();
    for _ in 0..iterations {
        next.par_chunks_mut(width * c).enumerate().for_each(|(y, row)| {
            for &x in &columns[y] {
                let i = y * width + x;
                let neighbours = [
                    (x > 0).then(|| i - 1),
                    (x + 1 < width).then(|| i + 1),
                    (y > 0).then(|| i - width),
                    (y + 1 < height).then(|| i + width),
                ];
                let mut count = 0f32;
                let out = &mut row[x * c..(x + 1) * c];
                out.fill(0.0);
                for n in neighbours.into_iter().flatten() {
                    if fixed[n] || unknown[n] {
                        count += 1.0;
                        for (o, &v) in out.iter_mut().zip(&current[n * c..(n + 1) * c]) {
                            *o += v;
                        }
                    }
                }
                if count > 0.0 {
                    out.iter_mut().for_each(|o| *o /= count);
                } else {
                    out.copy_from_slice(&current[i * c..(i + 1) * c]);
                }
            }
        });
        std::mem::swap(&mut current, &mut next);
    }
    for (i, (dst, &src)) in values.iter_mut().zip(&current).enumerate() {
        if unknown[i / c] {
            *dst = src;
        }
    }
}

/// The grid's values at the (fractional) position `(x, y)`, clamped to its area.
fn bilinear(grid: &Grid, x: f32, y: f32, out: &mut [f32]) {
    let c = out.len();
    let x = x.clamp(0.0, (grid.width - 1) as f32);
    let y = y.clamp(0.0, (grid.height - 1) as f32);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(grid.width - 1), (y0 + 1).min(grid.height - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |xx: usize, yy: usize, k: usize| grid.values[(yy * grid.width + xx) * c + k];
    for (k, o) in out.iter_mut().enumerate() {
        let top = at(x0, y0, k) * (1.0 - fx) + at(x1, y0, k) * fx;
        let bottom = at(x0, y1, k) * (1.0 - fx) + at(x1, y1, k) * fx;
        *o = top * (1.0 - fy) + bottom * fy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_border_gives_a_constant_inside() {
        let (w, h) = (9, 7);
        let unknown: Vec<bool> = (0..w * h)
            .map(|i| (2..7).contains(&(i % w)) && (2..5).contains(&(i / w)))
            .collect();
        let fixed: Vec<bool> = unknown.iter().map(|&u| !u).collect();
        let mut values: Vec<f32> = unknown.iter().map(|&u| if u { 99.0 } else { 5.0 }).collect();
        extend(&mut values, &fixed, &unknown, w, h, 1, 10);
        assert!(values.iter().all(|&v| (v - 5.0).abs() < 1e-4), "{values:?}");
    }

    #[test]
    fn a_linear_ramp_between_two_sides_is_recovered() {
        // Fixed columns 0 (value 0) and 10 (value 100); unknown in between: the harmonic solution is the ramp.
        let (w, h) = (11, 3);
        let fixed: Vec<bool> = (0..w * h).map(|i| i % w == 0 || i % w == w - 1).collect();
        let unknown: Vec<bool> = fixed.iter().map(|&f| !f).collect();
        let mut values: Vec<f32> = (0..w * h).map(|i| if i % w == w - 1 { 100.0 } else { 0.0 }).collect();
        extend(&mut values, &fixed, &unknown, w, h, 1, 400);
        for x in 0..w {
            let v = values[w + x];
            assert!((v - 10.0 * x as f32).abs() < 0.5, "x {x}: {v}");
        }
    }
}
