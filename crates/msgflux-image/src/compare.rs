//! Looking at results: before/after side by side, a difference heatmap, and a
//! mask-leak report that says how much changed where nothing should have.

use image::{DynamicImage, GrayImage, Rgba, RgbaImage};
use msgflux_core::{Error, LeakReport, Result, Size};
use rayon::prelude::*;

use crate::geometry::{Placement, Rect};
use crate::mask::Mask;
use crate::resize::{Filter, resize_rgba};
use crate::text::{GLYPH, draw_text, text_width};

/// How the mask is drawn over each panel of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Overlay {
    /// A line along the edge of the edit area.
    Outline {
        /// Line colour.
        color: [u8; 4],
        /// Line width in pixels.
        width: u32,
    },
    /// The edit area tinted with a colour.
    Tint {
        /// Tint colour.
        color: [u8; 4],
        /// How strongly, 0.0 to 1.0 (times the mask strength).
        opacity: f32,
    },
}

impl Overlay {
    /// A 2-pixel magenta outline.
    pub const OUTLINE: Overlay = Overlay::Outline {
        color: [255, 0, 255, 255],
        width: 2,
    };
    /// A 40% red tint.
    pub const TINT: Overlay = Overlay::Tint {
        color: [255, 0, 0, 255],
        opacity: 0.4,
    };
}

/// Options of [`side_by_side`].
///
/// ```
/// let options = msgflux_image::CompareOptions::new().with_labels(["before", "after"]).with_height(256);
/// assert_eq!(options.labels.len(), 2);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CompareOptions {
    /// Height every panel is scaled to; the smallest panel height when `None`.
    pub height: Option<u32>,
    /// One label per panel, drawn above it (fewer labels leave the rest unlabelled).
    pub labels: Vec<String>,
    /// Space between panels and around the edge, in pixels.
    pub gap: u32,
    /// Background colour (also behind transparent pixels).
    pub background: [u8; 4],
    /// A mask (in the geometry of the first panel) to draw over every panel.
    pub overlay: Option<(Mask, Overlay)>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl CompareOptions {
    /// No labels, no overlay, an 8-pixel white gap, panels at the smallest height.
    pub fn new() -> Self {
        Self {
            height: None,
            labels: Vec::new(),
            gap: 8,
            background: [255, 255, 255, 255],
            overlay: None,
        }
    }

    /// Sets the common height.
    pub fn with_height(mut self, height: u32) -> Self {
        self.height = Some(height);
        self
    }

    /// Sets the labels.
    pub fn with_labels<S: Into<String>>(mut self, labels: impl IntoIterator<Item = S>) -> Self {
        self.labels = labels.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the gap.
    pub fn with_gap(mut self, gap: u32) -> Self {
        self.gap = gap;
        self
    }

    /// Sets the background.
    pub fn with_background(mut self, color: [u8; 4]) -> Self {
        self.background = color;
        self
    }

    /// Draws a mask over every panel.
    pub fn with_overlay(mut self, mask: Mask, overlay: Overlay) -> Self {
        self.overlay = Some((mask, overlay));
        self
    }
}

/// Puts images side by side at a common height, with optional labels and a
/// mask outline or tint: the before/after view.
///
/// ```
/// # fn main() -> msgflux_core::Result<()> {
/// use image::DynamicImage;
/// use msgflux_image::{CompareOptions, side_by_side};
/// let before = DynamicImage::ImageRgb8(image::RgbImage::new(400, 300));
/// let after = DynamicImage::ImageRgb8(image::RgbImage::new(200, 200));
/// let view = side_by_side(&[&before, &after], &CompareOptions::new().with_labels(["before", "after"]))?;
/// assert!(view.height() > 200);
/// # Ok(()) }
/// ```
pub fn side_by_side(panels: &[&DynamicImage], options: &CompareOptions) -> Result<RgbaImage> {
    if panels.is_empty() {
        return Err(Error::invalid(
            "images",
            "at least one image is needed for a comparison",
        ));
    }
    if let Some(p) = panels.iter().find(|p| p.width() == 0 || p.height() == 0) {
        return Err(Error::invalid(
            "images",
            format!("cannot compare a {}x{} image", p.width(), p.height()),
        ));
    }
    if let Some((mask, _)) = &options.overlay
        && mask.size() != Size::new(panels[0].width(), panels[0].height())
    {
        return Err(Error::invalid(
            "mask",
            format!(
                "mask is {} but the first image is {}x{}; they must be the same size",
                mask.size(),
                panels[0].width(),
                panels[0].height()
            ),
        ));
    }
    let height = options
        .height
        .unwrap_or_else(|| panels.iter().map(|p| p.height()).min().unwrap_or(1))
        .max(1);
    let scaled: Vec<RgbaImage> = panels
        .par_iter()
        .map(|panel| {
            let width = ((panel.width() as f64 * height as f64 / panel.height() as f64).round() as u32).max(1);
            let size = Size::new(width, height);
            let rgba = panel.to_rgba8();
            let mut out = resize_rgba(
                &rgba,
                Rect::full(Size::new(rgba.width(), rgba.height())),
                size,
                Filter::Lanczos3,
            )?;
            flatten(&mut out, options.background);
            if let Some((mask, overlay)) = &options.overlay {
                let placement = Placement::fit(mask.size(), size, crate::Fit::Stretch, None);
                let strength = placement.apply_gray(mask.strength())?;
                draw_overlay(&mut out, &strength, *overlay);
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    let labelled = options.labels.iter().any(|l| !l.is_empty());
    let scale = (height / 200).clamp(1, 6);
    let label_band = if labelled { GLYPH * scale + options.gap } else { 0 };
    let gap = options.gap;
    let total_width = scaled.iter().map(RgbaImage::width).sum::<u32>() + gap * (scaled.len() as u32 + 1);
    let total_height = height + label_band + 2 * gap;
    let mut canvas = RgbaImage::from_pixel(total_width, total_height, Rgba(options.background));
    let text_color = if luminance(options.background) > 128 {
        [20, 20, 20, 255]
    } else {
        [235, 235, 235, 255]
    };
    let mut x = gap;
    for (i, panel) in scaled.iter().enumerate() {
        if let Some(label) = options.labels.get(i) {
            // Centre the label over its panel; a long one is clipped by the canvas.
            let tw = text_width(label, scale);
            let lx = x + panel.width().saturating_sub(tw) / 2;
            draw_text(&mut canvas, lx, gap, label, scale, text_color);
        }
        image::imageops::replace(&mut canvas, panel, x as i64, (gap + label_band) as i64);
        x += panel.width() + gap;
    }
    Ok(canvas)
}

fn luminance(c: [u8; 4]) -> u32 {
    (c[0] as u32 * 299 + c[1] as u32 * 587 + c[2] as u32 * 114) / 1000
}

/// Composites transparent pixels over the background, so a comparison shows what a viewer would.
fn flatten(img: &mut RgbaImage, background: [u8; 4]) {
    img.par_chunks_mut(4).for_each(|p| {
        let a = p[3] as u32;
        if a < 255 {
            for c in 0..3 {
                p[c] = ((p[c] as u32 * a + background[c] as u32 * (255 - a) + 127) / 255) as u8;
            }
            p[3] = 255;
        }
    });
}

fn draw_overlay(img: &mut RgbaImage, strength: &GrayImage, overlay: Overlay) {
    let (w, h) = img.dimensions();
    match overlay {
        Overlay::Tint { color, opacity } => {
            let opacity = opacity.clamp(0.0, 1.0);
            for (p, s) in img.pixels_mut().zip(strength.pixels()) {
                let t = opacity * s[0] as f32 / 255.0;
                for c in 0..3 {
                    p[c] = (p[c] as f32 * (1.0 - t) + color[c] as f32 * t).round() as u8;
                }
            }
        }
        Overlay::Outline { color, width } => {
            let inside = |x: u32, y: u32| strength.get_pixel(x, y)[0] >= 128;
            let r = width.max(1) as i64;
            let mut edge = vec![false; (w * h) as usize];
            for y in 0..h {
                for x in 0..w {
                    if !inside(x, y) {
                        continue;
                    }
                    // An edit pixel with a keep pixel (or the border) next to it starts the line.
                    let border = [(1i64, 0i64), (-1, 0), (0, 1), (0, -1)].iter().any(|(dx, dy)| {
                        let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                        nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 || !inside(nx as u32, ny as u32)
                    });
                    if border {
                        // Thicken inwards so the line never covers what lies outside the area.
                        for dy in -(r - 1)..r {
                            for dx in -(r - 1)..r {
                                let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                                if nx >= 0 && ny >= 0 && nx < w as i64 && ny < h as i64 && inside(nx as u32, ny as u32)
                                {
                                    edge[(ny as u32 * w + nx as u32) as usize] = true;
                                }
                            }
                        }
                    }
                }
            }
            for (i, p) in img.pixels_mut().enumerate() {
                if edge[i] {
                    *p = Rgba(color);
                }
            }
        }
    }
}

fn check_same_size(before: &DynamicImage, after: &DynamicImage) -> Result<()> {
    if before.dimensions_size() != after.dimensions_size() {
        return Err(Error::invalid(
            "after",
            format!(
                "after is {} but before is {}; bring the result back to the original size first \
                 (composite_back does)",
                after.dimensions_size(),
                before.dimensions_size()
            ),
        ));
    }
    Ok(())
}

trait DimensionsSize {
    fn dimensions_size(&self) -> Size;
}

impl DimensionsSize for DynamicImage {
    fn dimensions_size(&self) -> Size {
        Size::new(self.width(), self.height())
    }
}

/// The change at each pixel: the largest absolute difference over R, G, B and A.
fn change_map(before: &RgbaImage, after: &RgbaImage) -> Vec<u8> {
    before
        .as_raw()
        .par_chunks(4)
        .zip(after.as_raw().par_chunks(4))
        .map(|(a, b)| (0..4).map(|c| a[c].abs_diff(b[c])).max().unwrap_or(0))
        .collect()
}

/// Colours how much each pixel changed: black for none, through purple and
/// orange to pale yellow for the most. The scale is a square root, so changes
/// of a few levels (JPEG noise, a leaking edit) are visible.
///
/// ```
/// # fn main() -> msgflux_core::Result<()> {
/// let before = image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 4));
/// let mut after = before.to_rgb8();
/// after.put_pixel(1, 1, image::Rgb([255, 255, 255]));
/// let heat = msgflux_image::difference_heatmap(&before, &image::DynamicImage::ImageRgb8(after))?;
/// assert_eq!(heat.get_pixel(0, 0).0, [0, 0, 0, 255]);
/// assert_ne!(heat.get_pixel(1, 1).0, [0, 0, 0, 255]);
/// # Ok(()) }
/// ```
pub fn difference_heatmap(before: &DynamicImage, after: &DynamicImage) -> Result<RgbaImage> {
    check_same_size(before, after)?;
    let changes = change_map(&before.to_rgba8(), &after.to_rgba8());
    let pixels: Vec<u8> = changes.par_iter().flat_map_iter(|&d| heat_color(d)).collect();
    RgbaImage::from_raw(before.width(), before.height(), pixels)
        .ok_or_else(|| Error::invalid("before", "cannot build the heatmap buffer"))
}

fn heat_color(change: u8) -> [u8; 4] {
    const STOPS: [[f32; 3]; 5] = [
        [0.0, 0.0, 0.0],
        [80.0, 18.0, 123.0],
        [182.0, 54.0, 121.0],
        [251.0, 136.0, 97.0],
        [252.0, 253.0, 191.0],
    ];
    let t = (change as f32 / 255.0).sqrt() * (STOPS.len() - 1) as f32;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f32;
    let mix = |c: usize| (STOPS[i][c] * (1.0 - f) + STOPS[i + 1][c] * f).round() as u8;
    [mix(0), mix(1), mix(2), 255]
}

/// The usual before/after picture of an edit, as a PNG file: two panels
/// labelled "before" and "after", with the mask's edge outlined on both when
/// a mask is given.
///
/// ```
/// # fn main() -> msgflux_core::Result<()> {
/// use image::{DynamicImage, RgbImage};
/// let before = DynamicImage::ImageRgb8(RgbImage::new(40, 30));
/// let after = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 30, image::Rgb([200, 0, 0])));
/// let png = msgflux_image::before_after_png(&before, &after, None)?;
/// assert!(png.starts_with(b"\x89PNG"));
/// # Ok(()) }
/// ```
pub fn before_after_png(before: &DynamicImage, after: &DynamicImage, mask: Option<Mask>) -> Result<Vec<u8>> {
    let mut options = CompareOptions::new().with_labels(["before", "after"]);
    if let Some(mask) = mask {
        options = options.with_overlay(mask, Overlay::OUTLINE);
    }
    crate::encode::encode_png(&DynamicImage::ImageRgba8(side_by_side(&[before, after], &options)?))
}

/// The default for "changed": a channel moved by more than this many levels,
/// above JPEG and resampling noise (`msgflux leak` and the keep-unmasked step use it).
pub const DEFAULT_LEAK_THRESHOLD: u8 = 8;

/// Measures how much `after` changed outside `mask` compared with `before`.
/// All three must have the same size.
///
/// ```
/// # fn main() -> msgflux_core::Result<()> {
/// use msgflux_image::{Mask, Rect, leak_report};
/// let before = image::DynamicImage::ImageRgb8(image::RgbImage::new(10, 10));
/// let after = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(10, 10, image::Rgb([50, 0, 0])));
/// let report = leak_report(&before, &after, &Mask::rectangle(10, 10, Rect::new(0, 0, 5, 10)), 8)?;
/// assert_eq!(report.changed_fraction, 1.0);
/// assert_eq!(report.mean_change_outside, 50.0);
/// # Ok(()) }
/// ```
pub fn leak_report(before: &DynamicImage, after: &DynamicImage, mask: &Mask, threshold: u8) -> Result<LeakReport> {
    check_same_size(before, after)?;
    if mask.size() != before.dimensions_size() {
        return Err(Error::invalid(
            "mask",
            format!(
                "mask is {} but image is {}; they must be the same size",
                mask.size(),
                before.dimensions_size()
            ),
        ));
    }
    let changes = change_map(&before.to_rgba8(), &after.to_rgba8());
    let (mut outside, mut changed, mut sum_out, mut max_out, mut inside, mut sum_in) =
        (0u64, 0u64, 0u64, 0u8, 0u64, 0u64);
    for (&d, &s) in changes.iter().zip(mask.strength().as_raw()) {
        if s == 0 {
            outside += 1;
            sum_out += d as u64;
            max_out = max_out.max(d);
            if d > threshold {
                changed += 1;
            }
        } else {
            inside += 1;
            sum_in += d as u64;
        }
    }
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(LeakReport::new(
        threshold,
        outside,
        changed,
        ratio(sum_out, outside),
        max_out,
        ratio(sum_in, inside),
    ))
}
