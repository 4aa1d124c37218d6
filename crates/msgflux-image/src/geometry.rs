//! Geometry shared by prepare, composite-back and crop-to-mask: which part of
//! the source goes where on the target canvas. One [`Placement`] is applied to
//! an image and to its mask, so the two stay aligned, and inverted to bring a
//! provider's result back onto the original.

use std::fmt;

use image::{GrayImage, Rgba, RgbaImage};
use msgflux_core::{Result, Size};
use serde::{Deserialize, Serialize};

use crate::resize::{Filter, resize_gray, resize_rgba};

/// A rectangle of whole pixels.
///
/// ```
/// let r = msgflux_image::Rect::new(10, 20, 30, 40);
/// assert_eq!((r.right(), r.bottom()), (40, 60));
/// assert!(r.contains(10, 20) && !r.contains(40, 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub const fn new(x: u32, y: u32, width: u32, height: u32) -> Self {
        Self { x, y, width, height }
    }

    /// The whole of an image of this size.
    pub const fn full(size: Size) -> Self {
        Self::new(0, 0, size.width, size.height)
    }

    /// One past the right edge.
    pub const fn right(&self) -> u32 {
        self.x + self.width
    }

    /// One past the bottom edge.
    pub const fn bottom(&self) -> u32 {
        self.y + self.height
    }

    /// The size of the rectangle.
    pub const fn size(&self) -> Size {
        Size::new(self.width, self.height)
    }

    /// Whether the pixel at `(x, y)` is inside.
    pub const fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && x < self.right() && y >= self.y && y < self.bottom()
    }

    /// Whether the rectangle lies inside an image of `size`.
    pub const fn fits_in(&self, size: Size) -> bool {
        self.width > 0 && self.height > 0 && self.right() <= size.width && self.bottom() <= size.height
    }
}

impl fmt::Display for Rect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{} at ({}, {})", self.width, self.height, self.x, self.y)
    }
}

/// How an image is fitted to a target size of another shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// Scale each axis independently (what the msgflux docs do); nothing is lost, shapes distort.
    #[default]
    Stretch,
    /// Scale to fit inside, keeping the aspect ratio, and fill the borders.
    Pad(PadFill),
    /// Scale to cover, keeping the aspect ratio, and cut what sticks out.
    Crop(CropAnchor),
}

impl fmt::Display for Fit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stretch => f.write_str("stretch"),
            Self::Pad(PadFill::Transparent) => f.write_str("pad (transparent)"),
            Self::Pad(PadFill::Edge) => f.write_str("pad (edge-extended)"),
            Self::Pad(PadFill::Color(c)) => write!(f, "pad (colour {c:?})"),
            Self::Crop(CropAnchor::Center) => f.write_str("crop (center)"),
            Self::Crop(CropAnchor::Mask) => f.write_str("crop (around the mask)"),
        }
    }
}

impl std::str::FromStr for Fit {
    type Err = msgflux_core::Error;

    /// Parses the command-line spelling: `stretch`, `pad` (transparent),
    /// `pad-edge`, `crop` (centre) or `crop-mask`.
    ///
    /// ```
    /// use msgflux_image::{CropAnchor, Fit, PadFill};
    /// assert_eq!("pad-edge".parse::<Fit>().unwrap(), Fit::Pad(PadFill::Edge));
    /// assert_eq!("crop-mask".parse::<Fit>().unwrap(), Fit::Crop(CropAnchor::Mask));
    /// assert!("zoom".parse::<Fit>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "stretch" => Ok(Self::Stretch),
            "pad" | "pad-transparent" => Ok(Self::Pad(PadFill::Transparent)),
            "pad-edge" => Ok(Self::Pad(PadFill::Edge)),
            "crop" | "crop-center" | "crop-centre" => Ok(Self::Crop(CropAnchor::Center)),
            "crop-mask" => Ok(Self::Crop(CropAnchor::Mask)),
            other => Err(msgflux_core::Error::invalid(
                "fit",
                format!("expected stretch, pad, pad-edge, crop or crop-mask, got `{other}`"),
            )),
        }
    }
}

/// What fills the borders of [`Fit::Pad`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PadFill {
    /// Transparent pixels (alpha 0).
    #[default]
    Transparent,
    /// The nearest edge pixel, repeated outwards.
    Edge,
    /// One RGBA colour.
    Color([u8; 4]),
}

/// Where [`Fit::Crop`] keeps its window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CropAnchor {
    /// In the middle of the image.
    #[default]
    Center,
    /// Centred on the mask's edit area (the middle when there is no mask or it is empty).
    Mask,
}

/// Which part of a source image lands where on a target canvas.
///
/// `source` (in source pixels) is scaled onto `dest` (in canvas pixels); the
/// rest of the canvas is padding. [`Placement::apply_rgba`] and
/// [`Placement::apply_gray`] use the same rectangles, so an image and its mask
/// placed with one `Placement` stay aligned pixel for pixel.
///
/// ```
/// use msgflux_core::Size;
/// use msgflux_image::{Fit, PadFill, Placement, Rect};
/// let p = Placement::fit(Size::new(400, 200), Size::square(100), Fit::Pad(PadFill::Transparent), None);
/// assert_eq!(p.source, Rect::new(0, 0, 400, 200));
/// assert_eq!(p.dest, Rect::new(0, 25, 100, 50));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Placement {
    /// Size of the source image.
    pub source_size: Size,
    /// The part of the source that is used.
    pub source: Rect,
    /// Size of the target canvas.
    pub canvas: Size,
    /// Where `source` lands on the canvas.
    pub dest: Rect,
}

impl Placement {
    /// The placement that fits a `source_size` image onto a `canvas` with `fit`.
    /// `edit_area` is the mask's bounding box, used by [`CropAnchor::Mask`].
    pub fn fit(source_size: Size, canvas: Size, fit: Fit, edit_area: Option<Rect>) -> Self {
        let full_source = Rect::full(source_size);
        let full_canvas = Rect::full(canvas);
        let (source, dest) = match fit {
            Fit::Stretch => (full_source, full_canvas),
            Fit::Pad(_) => (full_source, contain(source_size, canvas)),
            Fit::Crop(anchor) => {
                let center = match (anchor, edit_area) {
                    (CropAnchor::Mask, Some(area)) => Some((
                        area.x as f64 + area.width as f64 / 2.0,
                        area.y as f64 + area.height as f64 / 2.0,
                    )),
                    _ => None,
                };
                (cover_window(source_size, canvas, center), full_canvas)
            }
        };
        Self {
            source_size,
            source,
            canvas,
            dest,
        }
    }

    /// A placement from explicit rectangles (used by crop-to-mask).
    pub fn new(source_size: Size, source: Rect, canvas: Size, dest: Rect) -> Self {
        Self {
            source_size,
            source,
            canvas,
            dest,
        }
    }

    /// True when the placement changes nothing (same size, whole image, no padding).
    pub fn is_identity(&self) -> bool {
        self.source_size == self.canvas
            && self.source == Rect::full(self.source_size)
            && self.dest == Rect::full(self.canvas)
    }

    /// Places an RGBA image on the canvas: Lanczos3 scaling, borders filled by `fill`.
    pub fn apply_rgba(&self, image: &RgbaImage, fill: PadFill) -> Result<RgbaImage> {
        self.check_source(image.dimensions())?;
        let scaled = resize_rgba(image, self.source, self.dest.size(), Filter::Lanczos3)?;
        Ok(self.paste_on_canvas(scaled, fill))
    }

    /// Places an RGBA image whose scaled part is already made (used to avoid
    /// converting a large RGB source to RGBA before scaling).
    pub(crate) fn paste_on_canvas(&self, scaled: RgbaImage, fill: PadFill) -> RgbaImage {
        if self.dest == Rect::full(self.canvas) {
            return scaled;
        }
        let mut canvas = match fill {
            PadFill::Transparent => RgbaImage::new(self.canvas.width, self.canvas.height),
            PadFill::Color(c) => RgbaImage::from_pixel(self.canvas.width, self.canvas.height, Rgba(c)),
            PadFill::Edge => {
                let d = self.dest;
                RgbaImage::from_fn(self.canvas.width, self.canvas.height, |x, y| {
                    let sx = x.clamp(d.x, d.right() - 1) - d.x;
                    let sy = y.clamp(d.y, d.bottom() - 1) - d.y;
                    *scaled.get_pixel(sx, sy)
                })
            }
        };
        image::imageops::replace(&mut canvas, &scaled, self.dest.x as i64, self.dest.y as i64);
        canvas
    }

    /// Places a mask's strength map on the canvas with the same rectangles as
    /// its image. Masks are scaled with a bilinear filter (no ringing, so keep
    /// areas stay exactly 0), and padding is "keep" (0).
    pub fn apply_gray(&self, strength: &GrayImage) -> Result<GrayImage> {
        self.check_source(strength.dimensions())?;
        let scaled = resize_gray(strength, self.source, self.dest.size(), Filter::Bilinear)?;
        if self.dest == Rect::full(self.canvas) {
            return Ok(scaled);
        }
        let mut canvas = GrayImage::new(self.canvas.width, self.canvas.height);
        image::imageops::replace(&mut canvas, &scaled, self.dest.x as i64, self.dest.y as i64);
        Ok(canvas)
    }

    /// The inverse mapping: takes an image of the canvas (a provider's result,
    /// any size proportional to the canvas), keeps its `dest` part and scales it
    /// to the size of `source`, ready to paste at `source.x, source.y` of the original.
    pub fn restore_rgba(&self, result: &RgbaImage) -> Result<RgbaImage> {
        let (rw, rh) = result.dimensions();
        // The provider may answer at another size than the canvas (dall-e-2 at 512 for a 1024 canvas).
        let sx = rw as f64 / self.canvas.width as f64;
        let sy = rh as f64 / self.canvas.height as f64;
        let part = Rect::new(
            (self.dest.x as f64 * sx).round() as u32,
            (self.dest.y as f64 * sy).round() as u32,
            ((self.dest.width as f64 * sx).round() as u32).max(1),
            ((self.dest.height as f64 * sy).round() as u32).max(1),
        );
        let part = clamp_rect(part, Size::new(rw, rh));
        resize_rgba(result, part, self.source.size(), Filter::Lanczos3)
    }

    fn check_source(&self, (w, h): (u32, u32)) -> Result<()> {
        if Size::new(w, h) != self.source_size {
            return Err(msgflux_core::Error::invalid(
                "image",
                format!("is {w}x{h} but the placement was computed for {}", self.source_size),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "source {} of {} -> {} of canvas {}",
            self.source, self.source_size, self.dest, self.canvas
        )
    }
}

/// The largest rectangle of the source's aspect inside `canvas`, centred.
pub(crate) fn contain(source: Size, canvas: Size) -> Rect {
    let scale = (canvas.width as f64 / source.width as f64).min(canvas.height as f64 / source.height as f64);
    let w = ((source.width as f64 * scale).round() as u32).clamp(1, canvas.width);
    let h = ((source.height as f64 * scale).round() as u32).clamp(1, canvas.height);
    Rect::new((canvas.width - w) / 2, (canvas.height - h) / 2, w, h)
}

/// The largest window of the canvas's aspect inside the source, centred on
/// `center` (or the middle) and kept inside the source.
fn cover_window(source: Size, canvas: Size, center: Option<(f64, f64)>) -> Rect {
    let aspect = canvas.width as f64 / canvas.height as f64;
    let (w, h) = if source.width as f64 / source.height as f64 > aspect {
        (
            ((source.height as f64 * aspect).round() as u32).clamp(1, source.width),
            source.height,
        )
    } else {
        (
            source.width,
            ((source.width as f64 / aspect).round() as u32).clamp(1, source.height),
        )
    };
    let (cx, cy) = center.unwrap_or((source.width as f64 / 2.0, source.height as f64 / 2.0));
    let x = (cx - w as f64 / 2.0).round().clamp(0.0, (source.width - w) as f64) as u32;
    let y = (cy - h as f64 / 2.0).round().clamp(0.0, (source.height - h) as f64) as u32;
    Rect::new(x, y, w, h)
}

pub(crate) fn clamp_rect(r: Rect, size: Size) -> Rect {
    let x = r.x.min(size.width.saturating_sub(1));
    let y = r.y.min(size.height.saturating_sub(1));
    let w = r.width.min(size.width - x).max(1);
    let h = r.height.min(size.height - y).max(1);
    Rect::new(x, y, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_keeps_the_canvas_aspect_in_the_middle() {
        let p = Placement::fit(
            Size::new(400, 200),
            Size::square(100),
            Fit::Crop(CropAnchor::Center),
            None,
        );
        assert_eq!(p.source, Rect::new(100, 0, 200, 200));
        assert_eq!(p.dest, Rect::new(0, 0, 100, 100));
    }

    #[test]
    fn crop_around_the_mask_follows_the_edit_area_and_stays_inside() {
        let area = Some(Rect::new(380, 50, 10, 10));
        let p = Placement::fit(
            Size::new(400, 200),
            Size::square(100),
            Fit::Crop(CropAnchor::Mask),
            area,
        );
        assert_eq!(p.source, Rect::new(200, 0, 200, 200));
    }

    #[test]
    fn stretch_uses_everything() {
        let p = Placement::fit(Size::new(400, 200), Size::square(100), Fit::Stretch, None);
        assert_eq!(p.source, Rect::new(0, 0, 400, 200));
        assert_eq!(p.dest, Rect::new(0, 0, 100, 100));
    }

    #[test]
    fn edge_padding_repeats_the_border_pixels() {
        let img = RgbaImage::from_fn(4, 2, |x, _| Rgba([x as u8 * 60, 0, 0, 255]));
        let p = Placement::fit(Size::new(4, 2), Size::square(4), Fit::Pad(PadFill::Edge), None);
        let out = p.apply_rgba(&img, PadFill::Edge).expect("place");
        assert_eq!(out.dimensions(), (4, 4));
        assert_eq!(out.get_pixel(0, 0), out.get_pixel(0, 1));
        assert_eq!(out.get_pixel(3, 3), out.get_pixel(3, 2));
        assert_eq!(out.get_pixel(2, 0)[3], 255);
    }
}
