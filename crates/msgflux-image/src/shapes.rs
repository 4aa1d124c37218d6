//! Mask builders: shapes and masks read from images.
//!
//! Shapes are hard-edged, like Pillow's `ImageDraw`: a pixel is edited when
//! its centre lies inside the shape. Soften them with [`Mask::feather`].

use image::{DynamicImage, GrayImage, Luma};
use msgflux_core::{MaskConvention, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::geometry::Rect;
use crate::mask::Mask;

/// A brush stroke: a polyline painted with a round brush.
///
/// ```
/// let stroke = msgflux_image::Stroke::new(vec![(2.0, 2.0), (20.0, 2.0)], 1.5);
/// let mask = msgflux_image::Mask::strokes(24, 8, &[stroke]);
/// assert!(mask.is_edit(10, 2) && !mask.is_edit(10, 6));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stroke {
    /// The points the brush passes through, in pixels (`(x, y)`, pixel centres at `+0.5`).
    pub points: Vec<(f32, f32)>,
    /// The brush radius in pixels.
    pub radius: f32,
}

impl Stroke {
    /// A stroke through `points` with a brush of `radius` pixels.
    pub fn new(points: Vec<(f32, f32)>, radius: f32) -> Self {
        Self { points, radius }
    }
}

impl Mask {
    /// Edits the pixels inside `rect` (clipped to the mask); keeps the rest.
    ///
    /// ```
    /// let mask = msgflux_image::Mask::rectangle(10, 10, msgflux_image::Rect::new(2, 3, 4, 5));
    /// assert!(mask.is_edit(2, 3) && mask.is_edit(5, 7) && !mask.is_edit(6, 7));
    /// ```
    pub fn rectangle(width: u32, height: u32, rect: Rect) -> Self {
        Self::from_fn(width, height, |x, y| rect.contains(x, y))
    }

    /// Edits the ellipse inscribed in `bounds` (as Pillow's `ImageDraw.ellipse` does).
    ///
    /// ```
    /// let mask = msgflux_image::Mask::ellipse(20, 20, msgflux_image::Rect::new(0, 0, 20, 10));
    /// assert!(mask.is_edit(10, 5) && !mask.is_edit(0, 0) && !mask.is_edit(10, 15));
    /// ```
    pub fn ellipse(width: u32, height: u32, bounds: Rect) -> Self {
        let (rx, ry) = (bounds.width as f64 / 2.0, bounds.height as f64 / 2.0);
        let (cx, cy) = (bounds.x as f64 + rx, bounds.y as f64 + ry);
        Self::from_fn(width, height, |x, y| {
            if rx <= 0.0 || ry <= 0.0 {
                return false;
            }
            let dx = (x as f64 + 0.5 - cx) / rx;
            let dy = (y as f64 + 0.5 - cy) / ry;
            dx * dx + dy * dy <= 1.0
        })
    }

    /// Edits the inside of a polygon (even-odd rule); `points` are `(x, y)` in pixels.
    ///
    /// ```
    /// let triangle = [(0.0, 0.0), (20.0, 0.0), (0.0, 20.0)];
    /// let mask = msgflux_image::Mask::polygon(20, 20, &triangle);
    /// assert!(mask.is_edit(2, 2) && !mask.is_edit(18, 18));
    /// ```
    pub fn polygon(width: u32, height: u32, points: &[(f32, f32)]) -> Self {
        let mut strength = GrayImage::new(width, height);
        if points.len() < 3 || width == 0 {
            return Self::from_strength(strength);
        }
        let edges: Vec<((f64, f64), (f64, f64))> = points
            .iter()
            .zip(points.iter().cycle().skip(1))
            .map(|(&(x0, y0), &(x1, y1))| ((x0 as f64, y0 as f64), (x1 as f64, y1 as f64)))
            .collect();
        strength
            .par_chunks_mut(width as usize)
            .enumerate()
            .for_each(|(y, row)| {
                let cy = y as f64 + 0.5;
                let mut crossings: Vec<f64> = edges
                    .iter()
                    .filter(|((_, y0), (_, y1))| (*y0 <= cy) != (*y1 <= cy))
                    .map(|((x0, y0), (x1, y1))| x0 + (cy - y0) / (y1 - y0) * (x1 - x0))
                    .collect();
                crossings.sort_by(f64::total_cmp);
                for pair in crossings.chunks_exact(2) {
                    // Pixel x is inside when its centre x + 0.5 lies in [pair[0], pair[1]).
                    let start = (pair[0] - 0.5).ceil().max(0.0) as usize;
                    let end = ((pair[1] - 0.5).ceil().max(0.0) as usize).min(row.len());
                    if start < end {
                        row[start..end].fill(255);
                    }
                }
            });
        Self::from_strength(strength)
    }

    /// Edits what a round brush covers along each stroke.
    pub fn strokes(width: u32, height: u32, strokes: &[Stroke]) -> Self {
        let mut strength = GrayImage::new(width, height);
        for stroke in strokes {
            let r = stroke.radius.max(0.0) as f64;
            let pts: Vec<(f64, f64)> = stroke.points.iter().map(|&(x, y)| (x as f64, y as f64)).collect();
            let segments: Vec<((f64, f64), (f64, f64))> = match pts.len() {
                0 => continue,
                1 => vec![(pts[0], pts[0])],
                _ => pts.windows(2).map(|w| (w[0], w[1])).collect(),
            };
            for (a, b) in segments {
                let x0 = (a.0.min(b.0) - r - 1.0).floor().max(0.0) as u32;
                let y0 = (a.1.min(b.1) - r - 1.0).floor().max(0.0) as u32;
                let x1 = ((a.0.max(b.0) + r + 1.0).ceil().max(0.0) as u32).min(width);
                let y1 = ((a.1.max(b.1) + r + 1.0).ceil().max(0.0) as u32).min(height);
                for y in y0..y1 {
                    for x in x0..x1 {
                        let p = (x as f64 + 0.5, y as f64 + 0.5);
                        if distance_to_segment(p, a, b) <= r {
                            strength.put_pixel(x, y, Luma([255]));
                        }
                    }
                }
            }
        }
        Self::from_strength(strength)
    }

    /// Edits the pixels whose luminance is at least `level` (a white-on-black
    /// drawing, a segmentation map). Colour images are read as luminance.
    ///
    /// ```
    /// let img = image::DynamicImage::ImageLuma8(image::GrayImage::from_fn(4, 1, |x, _| image::Luma([x as u8 * 80])));
    /// let mask = msgflux_image::Mask::threshold(&img, 128);
    /// assert_eq!((0..4).map(|x| mask.is_edit(x, 0)).collect::<Vec<_>>(), [false, false, true, true]);
    /// ```
    pub fn threshold(image: &DynamicImage, level: u8) -> Self {
        let mut luma = image.to_luma8();
        luma.par_iter_mut().for_each(|p| *p = if *p >= level { 255 } else { 0 });
        Self::from_strength(luma)
    }

    /// Edits the pixels within `tolerance` of `color` on every RGB channel (a
    /// green screen, a colour painted over the area to edit).
    ///
    /// ```
    /// let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(2, 1, |x, _| image::Rgb([0, 250 - x as u8 * 100, 0])));
    /// let mask = msgflux_image::Mask::from_color(&img, [0, 255, 0], 10);
    /// assert!(mask.is_edit(0, 0) && !mask.is_edit(1, 0));
    /// ```
    pub fn from_color(image: &DynamicImage, color: [u8; 3], tolerance: u8) -> Self {
        let rgb = image.to_rgb8();
        let strength = GrayImage::from_fn(rgb.width(), rgb.height(), |x, y| {
            let p = rgb.get_pixel(x, y);
            let close = (0..3).all(|c| p[c].abs_diff(color[c]) <= tolerance);
            Luma([if close { 255 } else { 0 }])
        });
        Self::from_strength(strength)
    }

    /// Reads the alpha channel of an image: transparent pixels are edited,
    /// opaque ones kept, partial alpha gives partial strength (the OpenAI
    /// convention, so an image with a transparent hole is its own mask).
    /// An image without alpha is refused.
    pub fn from_alpha(image: &DynamicImage) -> Result<Self> {
        Self::import(image, MaskConvention::TransparentIsEdit, "mask")
    }

    /// A binary mask from a predicate on pixel coordinates (true = edit).
    pub fn from_fn(width: u32, height: u32, edit: impl Fn(u32, u32) -> bool + Sync) -> Self {
        let mut strength = GrayImage::new(width, height);
        if width > 0 {
            strength
                .par_chunks_mut(width as usize)
                .enumerate()
                .for_each(|(y, row)| {
                    for (x, p) in row.iter_mut().enumerate() {
                        *p = if edit(x as u32, y as u32) { 255 } else { 0 };
                    }
                });
        }
        Self::from_strength(strength)
    }
}

fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    };
    let (qx, qy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - qx).powi(2) + (p.1 - qy).powi(2)).sqrt()
}
