//! The mask type: an "edit strength" per pixel, with explicit import and
//! export for each [`MaskConvention`].
//!
//! Internally a [`Mask`] is a [`GrayImage`] where 255 means "edit fully", 0
//! means "keep exactly" and values in between are partial (a feathered seam).
//! No convention leaks into the type: reading a file names the convention it
//! follows ([`Mask::import`]), writing one names the convention wanted
//! ([`Mask::export`]). Conversions are lossless: every strength survives a
//! round trip through any convention.

use std::fmt;

use image::{DynamicImage, GrayImage, Luma, Rgba, RgbaImage};
use msgflux_core::{DecodeLimits, Error, MaskConvention, Result, Size};

use crate::decode::decode;
use crate::encode::encode_png_fast;
use crate::geometry::Rect;

/// Where to edit, as a strength per pixel (255 = edit, 0 = keep).
///
/// ```
/// use msgflux_core::MaskConvention;
/// use msgflux_image::{Mask, Rect};
///
/// let mask = Mask::rectangle(8, 8, Rect::new(2, 2, 4, 4));
/// // OpenAI: transparent = edit. Stable Diffusion / FLUX fill: white = edit.
/// let openai = mask.export(MaskConvention::TransparentIsEdit);
/// let sd = mask.export(MaskConvention::WhiteIsEdit);
/// assert_eq!(openai.to_rgba8().get_pixel(3, 3)[3], 0);
/// assert_eq!(sd.to_luma8().get_pixel(3, 3)[0], 255);
/// assert_eq!(Mask::import(&sd, MaskConvention::WhiteIsEdit, "mask").unwrap(), mask);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Mask {
    strength: GrayImage,
}

impl fmt::Debug for Mask {
    // Pixels would flood a log; the size and how much is edited say enough.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Mask({}x{}, {:.1}% edit)",
            self.width(),
            self.height(),
            self.edit_fraction() * 100.0
        )
    }
}

impl Mask {
    /// A mask that keeps everything (nothing to edit).
    pub fn keep_all(width: u32, height: u32) -> Self {
        Self {
            strength: GrayImage::new(width, height),
        }
    }

    /// A mask that edits everything.
    pub fn edit_all(width: u32, height: u32) -> Self {
        Self {
            strength: GrayImage::from_pixel(width, height, Luma([255])),
        }
    }

    /// A mask from a strength map (255 = edit, 0 = keep).
    pub fn from_strength(strength: GrayImage) -> Self {
        Self { strength }
    }

    /// The strength map (255 = edit, 0 = keep).
    pub fn strength(&self) -> &GrayImage {
        &self.strength
    }

    /// The strength map, mutable.
    pub fn strength_mut(&mut self) -> &mut GrayImage {
        &mut self.strength
    }

    /// The strength map, by value.
    pub fn into_strength(self) -> GrayImage {
        self.strength
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.strength.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.strength.height()
    }

    /// Width and height.
    pub fn size(&self) -> Size {
        Size::new(self.width(), self.height())
    }

    /// The strength at one pixel (255 = edit).
    pub fn get(&self, x: u32, y: u32) -> u8 {
        self.strength.get_pixel(x, y)[0]
    }

    /// Whether the pixel at `(x, y)` is edited at all (strength above 0).
    pub fn is_edit(&self, x: u32, y: u32) -> bool {
        self.get(x, y) > 0
    }

    /// Reads a mask image that follows `convention`. `what` names it in errors.
    ///
    /// [`MaskConvention::TransparentIsEdit`] reads the alpha channel (an image
    /// without one is refused, since it would mean "edit nothing");
    /// the other two read the luminance and ignore alpha.
    pub fn import(image: &DynamicImage, convention: MaskConvention, what: &str) -> Result<Self> {
        let (width, height) = (image.width(), image.height());
        let strength = match convention {
            MaskConvention::TransparentIsEdit => {
                if !image.color().has_alpha() {
                    return Err(Error::invalid(
                        what,
                        format!(
                            "is a {width}x{height} image without an alpha channel; with the {convention} convention \
                             the transparent pixels (alpha 0) mark the area to edit"
                        ),
                    ));
                }
                let rgba = image.to_rgba8();
                GrayImage::from_fn(width, height, |x, y| Luma([255 - rgba.get_pixel(x, y)[3]]))
            }
            MaskConvention::WhiteIsEdit => image.to_luma8(),
            MaskConvention::BlackIsEdit => {
                let mut luma = image.to_luma8();
                luma.pixels_mut().for_each(|p| p[0] = 255 - p[0]);
                luma
            }
        };
        Ok(Self { strength })
    }

    /// Writes the mask in `convention`: RGBA (black, alpha = 255 - strength)
    /// for [`MaskConvention::TransparentIsEdit`], greyscale for the others.
    pub fn export(&self, convention: MaskConvention) -> DynamicImage {
        let (w, h) = self.strength.dimensions();
        match convention {
            MaskConvention::TransparentIsEdit => DynamicImage::ImageRgba8(RgbaImage::from_fn(w, h, |x, y| {
                Rgba([0, 0, 0, 255 - self.strength.get_pixel(x, y)[0]])
            })),
            MaskConvention::WhiteIsEdit => DynamicImage::ImageLuma8(self.strength.clone()),
            MaskConvention::BlackIsEdit => {
                let mut inverted = self.strength.clone();
                inverted.pixels_mut().for_each(|p| p[0] = 255 - p[0]);
                DynamicImage::ImageLuma8(inverted)
            }
        }
    }

    /// Decodes a mask file (any supported format) that follows `convention`.
    pub fn decode(bytes: &[u8], convention: MaskConvention, limits: &DecodeLimits, what: &str) -> Result<Self> {
        let decoded = decode(bytes, limits, what)?;
        Self::import(&decoded.image, convention, what)
    }

    /// Encodes the mask as a PNG file in `convention`.
    pub fn to_png(&self, convention: MaskConvention) -> Result<Vec<u8>> {
        encode_png_fast(&self.export(convention), "mask")
    }

    /// The share of pixels edited at all (strength above 0), from 0.0 to 1.0.
    pub fn edit_fraction(&self) -> f64 {
        let total = self.strength.len();
        if total == 0 {
            return 0.0;
        }
        self.strength.iter().filter(|&&s| s > 0).count() as f64 / total as f64
    }

    /// True when no pixel is edited.
    pub fn is_empty(&self) -> bool {
        self.strength.iter().all(|&s| s == 0)
    }

    /// True when every pixel is edited fully.
    pub fn is_full(&self) -> bool {
        self.strength.iter().all(|&s| s == 255)
    }

    /// The smallest rectangle holding every edited pixel; `None` for an empty mask.
    pub fn bounding_box(&self) -> Option<Rect> {
        let (w, h) = self.strength.dimensions();
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for (y, row) in self.strength.rows().enumerate() {
            let y = y as u32;
            for (x, p) in row.enumerate() {
                if p[0] > 0 {
                    let x = x as u32;
                    x0 = x0.min(x);
                    x1 = x1.max(x);
                    y0 = y0.min(y);
                    y1 = y1.max(y);
                }
            }
        }
        (x0 <= x1 && x0 < w && y0 < h).then(|| Rect::new(x0, y0, x1 - x0 + 1, y1 - y0 + 1))
    }
}

/// Converts a mask file from one convention to another: what a provider does
/// before sending a msgflux mask (always transparent = edit) to an API that
/// wants white = edit. Returns PNG bytes; strengths are kept exactly.
///
/// ```
/// use msgflux_core::MaskConvention::{TransparentIsEdit, WhiteIsEdit};
/// use msgflux_image::{Mask, Rect, convert_mask};
///
/// let openai_png = Mask::rectangle(16, 16, Rect::new(4, 4, 8, 8)).to_png(TransparentIsEdit).unwrap();
/// let white_png = convert_mask(&openai_png, TransparentIsEdit, WhiteIsEdit).unwrap();
/// let white = image::load_from_memory(&white_png).unwrap().to_luma8();
/// assert_eq!((white.get_pixel(5, 5)[0], white.get_pixel(0, 0)[0]), (255, 0));
/// ```
pub fn convert_mask(bytes: &[u8], from: MaskConvention, to: MaskConvention) -> Result<Vec<u8>> {
    Mask::decode(bytes, from, &DecodeLimits::default(), "mask")?.to_png(to)
}

/// Parses a mask convention as a command line spells it: `transparent`
/// (or `openai`), `white` and `black`, with or without `-is-edit`.
///
/// ```
/// use msgflux_core::MaskConvention;
/// assert_eq!(msgflux_image::parse_convention("white").unwrap(), MaskConvention::WhiteIsEdit);
/// assert_eq!(msgflux_image::parse_convention("transparent-is-edit").unwrap(), MaskConvention::TransparentIsEdit);
/// assert!(msgflux_image::parse_convention("grey").is_err());
/// ```
pub fn parse_convention(s: &str) -> Result<MaskConvention> {
    let lower = s.trim().to_ascii_lowercase().replace('_', "-");
    match lower.strip_suffix("-is-edit").unwrap_or(&lower) {
        "transparent" | "alpha" | "openai" => Ok(MaskConvention::TransparentIsEdit),
        "white" => Ok(MaskConvention::WhiteIsEdit),
        "black" => Ok(MaskConvention::BlackIsEdit),
        _ => Err(Error::invalid(
            "convention",
            format!("expected transparent, white or black, got `{s}`"),
        )),
    }
}
