//! The inverse DCT at half scale: an N-point inverse transform (N = 4 or 8
//! per axis) of the N lowest frequencies of each 8-point axis. With N = 4
//! that is the ideal low-pass of the block followed by a 2x decimation,
//! the same rule as jpeg-decoder's scaled transform (46.3 dB from a
//! full-resolution Lanczos on the benchmark photo, where libjpeg-turbo's
//! averaging 4x4 transform gives 40.7: docs/benchmarks/image.md).

/// Basis functions: `basis[k][n]` is the weight of frequency `k` in output
/// sample `n` of an N-point inverse transform with JPEG's 8-point
/// normalisation, so a block's mean is kept at every N.
pub(super) struct Basis {
    four: [[f32; 4]; 4],
    eight: [[f32; 8]; 8],
}

impl Basis {
    pub(super) fn new() -> Self {
        fn table<const N: usize>() -> [[f32; N]; N] {
            let mut t = [[0f32; N]; N];
            for (k, row) in t.iter_mut().enumerate() {
                let scale = if k == 0 { std::f64::consts::FRAC_1_SQRT_2 } else { 1.0 };
                for (n, w) in row.iter_mut().enumerate() {
                    let angle = std::f64::consts::PI * ((2 * n + 1) * k) as f64 / (2 * N) as f64;
                    *w = (0.5 * scale * angle.cos()) as f32;
                }
            }
            t
        }
        Self {
            four: table(),
            eight: table(),
        }
    }

    /// Writes the `out_w` x `out_h` pixels (each 4 or 8) of one block of
    /// quantised coefficients (natural order) at `out`, rows `stride` apart,
    /// and zeroes the coefficients it read so the buffer can be reused.
    pub(super) fn block(
        &self,
        coefficients: &mut [i16],
        quant: &[f32; 64],
        out_w: usize,
        out_h: usize,
        out: &mut [u8],
        stride: usize,
    ) {
        match (out_w, out_h) {
            (4, 4) => transform(coefficients, quant, &self.four, &self.four, out, stride),
            (8, 4) => transform(coefficients, quant, &self.eight, &self.four, out, stride),
            (4, 8) => transform(coefficients, quant, &self.four, &self.eight, out, stride),
            _ => transform(coefficients, quant, &self.eight, &self.eight, out, stride),
        }
    }
}

#[inline(always)]
fn transform<const W: usize, const H: usize>(
    coefficients: &mut [i16],
    quant: &[f32; 64],
    across: &[[f32; W]; W],
    down: &[[f32; H]; H],
    out: &mut [u8],
    stride: usize,
) {
    // Rows first: each coefficient row's W frequencies become W samples.
    // All-zero rows (most of smooth chroma's) are skipped, and left out of
    // the column pass; the others are multiplied out without a branch per
    // coefficient (noise makes zeros unpredictable).
    let mut rows = [[0f32; W]; H];
    let mut nonzero_rows = 0u32;
    for (v, row) in rows.iter_mut().enumerate() {
        let coefficient_row = &mut coefficients[v * 8..v * 8 + W];
        if coefficient_row.iter().all(|&c| c == 0) {
            continue;
        }
        nonzero_rows |= 1 << v;
        for (u, c) in coefficient_row.iter().enumerate() {
            let f = f32::from(*c) * quant[v * 8 + u];
            for (sample, w) in row.iter_mut().zip(&across[u]) {
                *sample += f * w;
            }
        }
        coefficient_row.fill(0);
    }
    // Then columns, with the level shift.
    for y in 0..H {
        let mut line = [128.0f32; W];
        let mut pending = nonzero_rows;
        while pending != 0 {
            let v = pending.trailing_zeros() as usize;
            pending &= pending - 1;
            let w = down[v][y];
            for (sample, r) in line.iter_mut().zip(&rows[v]) {
                *sample += w * r;
            }
        }
        let target = &mut out[y * stride..y * stride + W];
        for (px, sample) in target.iter_mut().zip(line) {
            // `as` saturates: below 0 gives 0, above 255 gives 255.
            *px = (sample + 0.5) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dc_only_block_is_flat_at_its_mean_at_every_size() {
        let basis = Basis::new();
        for (w, h) in [(4, 4), (8, 4), (4, 8), (8, 8)] {
            let mut block = [0i16; 64];
            // DC of a flat 8x8 block of value 128 + 40: 8 * 40 in JPEG's scaling, quantised by 4.
            block[0] = 80;
            let mut quant = [1u16; 64];
            quant[0] = 4;
            let mut out = [0u8; 64];
            basis.block(&mut block, &quant.map(f32::from), w, h, &mut out, 8);
            for y in 0..h {
                assert!(
                    out[y * 8..y * 8 + w].iter().all(|&p| p == 168),
                    "{w}x{h}: {:?}",
                    &out[y * 8..y * 8 + w]
                );
            }
            assert_eq!(block, [0; 64], "the coefficients read are zeroed");
        }
    }

    #[test]
    fn the_eight_point_transform_inverts_a_forward_dct() {
        // A block with a ramp across and a step down, through a forward DCT by definition.
        let pixel = |x: usize, y: usize| (x * 20 + if y < 4 { 0 } else { 50 }) as f64 - 128.0;
        let mut block = [0i16; 64];
        for v in 0..8 {
            for u in 0..8 {
                let cu = if u == 0 { std::f64::consts::FRAC_1_SQRT_2 } else { 1.0 };
                let cv = if v == 0 { std::f64::consts::FRAC_1_SQRT_2 } else { 1.0 };
                let mut sum = 0.0;
                for y in 0..8 {
                    for x in 0..8 {
                        let ax = std::f64::consts::PI * ((2 * x + 1) * u) as f64 / 16.0;
                        let ay = std::f64::consts::PI * ((2 * y + 1) * v) as f64 / 16.0;
                        sum += pixel(x, y) * ax.cos() * ay.cos();
                    }
                }
                block[v * 8 + u] = (0.25 * cu * cv * sum).round() as i16;
            }
        }
        let mut out = [0u8; 64];
        Basis::new().block(&mut block, &[1.0; 64], 8, 8, &mut out, 8);
        for y in 0..8 {
            for x in 0..8 {
                let want = pixel(x, y) + 128.0;
                let got = f64::from(out[y * 8 + x]);
                assert!((got - want).abs() <= 2.0, "({x}, {y}): {got} against {want}");
            }
        }
    }
}
