//! The pixel buffer both fills work on: interleaved 8-bit channels, any channel count.

use image::{ImageBuffer, Pixel};

/// Row-major, interleaved `channels` bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Raster {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) channels: usize,
    pub(crate) data: Vec<u8>,
}

impl Raster {
    pub(crate) fn from_buffer<P: Pixel<Subpixel = u8>>(image: &ImageBuffer<P, Vec<u8>>) -> Self {
        Self {
            width: image.width() as usize,
            height: image.height() as usize,
            channels: usize::from(P::CHANNEL_COUNT),
            data: image.as_raw().clone(),
        }
    }

    pub(crate) fn into_buffer<P: Pixel<Subpixel = u8>>(self) -> ImageBuffer<P, Vec<u8>> {
        let (w, h) = (self.width as u32, self.height as u32);
        // The buffer was taken from an ImageBuffer<P> of the same size, so the length matches.
        ImageBuffer::from_raw(w, h, self.data).expect("raster keeps its image's length")
    }

    pub(crate) fn pixel(&self, index: usize) -> &[u8] {
        &self.data[index * self.channels..(index + 1) * self.channels]
    }

    pub(crate) fn pixel_mut(&mut self, index: usize) -> &mut [u8] {
        &mut self.data[index * self.channels..(index + 1) * self.channels]
    }

    /// Half the size (rounded up). A coarse pixel is a hole when any of its
    /// fine pixels is, and takes the mean of its known fine pixels, so hole
    /// colours never leak into the known area of the coarse level.
    pub(crate) fn downsample(&self, hole: &[bool]) -> (Raster, Vec<bool>) {
        let (w, h, c) = (self.width, self.height, self.channels);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let mut data = vec![0u8; cw * ch * c];
        let mut coarse_hole = vec![false; cw * ch];
        let mut sum = vec![0u32; c];
        for cy in 0..ch {
            for cx in 0..cw {
                sum.fill(0);
                let (mut known, mut all) = (0u32, 0u32);
                let mut any_hole = false;
                for fy in 2 * cy..(2 * cy + 2).min(h) {
                    for fx in 2 * cx..(2 * cx + 2).min(w) {
                        let i = fy * w + fx;
                        all += 1;
                        if hole[i] {
                            any_hole = true;
                        } else {
                            known += 1;
                            for (s, &v) in sum.iter_mut().zip(self.pixel(i)) {
                                *s += u32::from(v);
                            }
                        }
                    }
                }
                let ci = cy * cw + cx;
                coarse_hole[ci] = any_hole;
                let count = if known > 0 {
                    known
                } else {
                    // All four are hole: their current values are a guess anyway.
                    for fy in 2 * cy..(2 * cy + 2).min(h) {
                        for fx in 2 * cx..(2 * cx + 2).min(w) {
                            for (s, &v) in sum.iter_mut().zip(self.pixel(fy * w + fx)) {
                                *s += u32::from(v);
                            }
                        }
                    }
                    all
                };
                for (d, &s) in data[ci * c..(ci + 1) * c].iter_mut().zip(&sum) {
                    *d = ((s + count / 2) / count) as u8;
                }
            }
        }
        (
            Raster {
                width: cw,
                height: ch,
                channels: c,
                data,
            },
            coarse_hole,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_averages_known_pixels_only() {
        let raster = Raster {
            width: 2,
            height: 2,
            channels: 1,
            data: vec![10, 20, 30, 250],
        };
        let (coarse, hole) = raster.downsample(&[false, false, false, true]);
        assert_eq!(coarse.data, vec![20]);
        assert_eq!(hole, vec![true]);
    }

    #[test]
    fn downsampling_rounds_odd_sizes_up() {
        let raster = Raster {
            width: 5,
            height: 3,
            channels: 3,
            data: vec![7; 45],
        };
        let (coarse, hole) = raster.downsample(&[false; 15]);
        assert_eq!((coarse.width, coarse.height), (3, 2));
        assert!(coarse.data.iter().all(|&v| v == 7));
        assert!(hole.iter().all(|&h| !h));
    }
}
