//! One MCU row of pixels: each component's blocks through the inverse DCT
//! onto a plane at output resolution (so chroma needs no upsampling: its
//! blocks were transformed at the size they cover), then YCbCr to RGB.

use super::idct::Basis;
use super::scan::Layout;

/// The component planes of one MCU row, `plane_w` x `plane_h` each.
pub(super) struct Planes {
    planes: Vec<Vec<u8>>,
    width: usize,
    height: usize,
}

impl Planes {
    pub(super) fn new(layout: &Layout) -> Self {
        let size = layout.plane_w * layout.plane_h;
        Self {
            planes: layout.components.iter().map(|_| vec![0; size]).collect(),
            width: layout.plane_w,
            height: layout.plane_h,
        }
    }

    /// Transforms every block of an MCU row (zeroing the coefficients read).
    pub(super) fn fill(&mut self, layout: &Layout, quant: &[[f32; 64]; 4], basis: &Basis, coefficients: &mut [i16]) {
        for (c, plane) in layout.components.iter().zip(&mut self.planes) {
            for by in 0..c.v {
                for bx in 0..c.blocks_across {
                    let block = c.first_block + by * c.blocks_across + bx;
                    let origin = by * c.out_h * self.width + bx * c.out_w;
                    basis.block(
                        &mut coefficients[block * 64..block * 64 + 64],
                        &quant[c.quant],
                        c.out_w,
                        c.out_h,
                        &mut plane[origin..],
                        self.width,
                    );
                }
            }
        }
    }

    /// Writes the planes' first rows into `band` (whole output rows of
    /// `width` pixels; the last band of an image may be shorter than a plane).
    pub(super) fn convert(&self, band: &mut [u8], width: usize) {
        match self.planes.as_slice() {
            [grey] => {
                for (y, out) in band.chunks_exact_mut(width).take(self.height).enumerate() {
                    out.copy_from_slice(&grey[y * self.width..y * self.width + width]);
                }
            }
            [luma, cb, cr] => {
                for (y, out) in band.chunks_exact_mut(width * 3).take(self.height).enumerate() {
                    let row = y * self.width..y * self.width + width;
                    ycbcr_to_rgb(&luma[row.clone()], &cb[row.clone()], &cr[row], out);
                }
            }
            _ => unreachable!("the header allows one or three components"),
        }
    }
}

/// JFIF's full-range conversion, in 16.16 fixed point.
fn ycbcr_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    const ROUND: i32 = 1 << 15;
    for (((px, &y), &cb), &cr) in out.chunks_exact_mut(3).zip(y).zip(cb).zip(cr) {
        let y = i32::from(y) << 16;
        let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
        let r = (y + 91_881 * cr + ROUND) >> 16;
        let g = (y - 22_554 * cb - 46_802 * cr + ROUND) >> 16;
        let b = (y + 116_130 * cb + ROUND) >> 16;
        px[0] = r.clamp(0, 255) as u8;
        px[1] = g.clamp(0, 255) as u8;
        px[2] = b.clamp(0, 255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_chroma_gives_grey_and_full_chroma_gives_the_jfif_primaries() {
        let mut out = [0u8; 9];
        ycbcr_to_rgb(&[100, 76, 29], &[128, 85, 255], &[128, 255, 107], &mut out);
        assert_eq!(&out[..3], &[100, 100, 100]);
        // JFIF's red (76, 85, 255) and blue (29, 255, 107), within rounding.
        let close = |got: &[u8], want: [u8; 3]| got.iter().zip(want).all(|(&g, w)| g.abs_diff(w) <= 2);
        assert!(close(&out[3..6], [255, 0, 0]), "{:?}", &out[3..6]);
        assert!(close(&out[6..], [0, 0, 255]), "{:?}", &out[6..]);
    }
}
