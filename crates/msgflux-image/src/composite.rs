//! Putting an edit back: composite a provider's result onto the original so
//! that only the masked area changes, and cut a region around the mask so a
//! large photo can go through a provider with a small size limit.

use image::{DynamicImage, RgbaImage};
use msgflux_core::{Error, Result, Size};
use rayon::prelude::*;

use crate::geometry::{Fit, PadFill, Placement, Rect, clamp_rect, contain};
use crate::mask::Mask;

/// Composites an edited `result` onto `original`, where `mask` (in the
/// original's geometry) allows it.
///
/// The result is first brought back to the original's geometry: `placement`
/// is the one that made the provider's input (from
/// [`PrepareReport::placement`](crate::PrepareReport::placement) or
/// [`MaskCrop::placement`]); `None` means the result shows the whole original,
/// stretched. The result may be at another size than the placement's canvas
/// (a 512x512 answer to a 1024x1024 input); only its proportions matter.
///
/// Guarantee: every pixel whose mask strength is 0 is the original pixel,
/// bit for bit. Inside, the result is blended in with the mask strength,
/// softened by a seam of `feather` pixels (a Gaussian sigma) that lies
/// entirely inside the mask; `0.0` gives a hard edge.
///
/// ```
/// # fn main() -> msgflux_core::Result<()> {
/// use image::{DynamicImage, Rgb, RgbImage};
/// use msgflux_image::{Mask, Rect, composite_back};
/// let original = DynamicImage::ImageRgb8(RgbImage::from_pixel(400, 300, Rgb([10, 20, 30])));
/// let result = DynamicImage::ImageRgb8(RgbImage::from_pixel(256, 256, Rgb([200, 0, 0])));
/// let mask = Mask::rectangle(400, 300, Rect::new(100, 100, 100, 100));
/// let out = composite_back(&original, &result, &mask, None, 3.0)?;
/// assert_eq!(out.get_pixel(10, 10).0, [10, 20, 30, 255]);
/// assert_eq!(out.get_pixel(150, 150).0, [200, 0, 0, 255]);
/// # Ok(()) }
/// ```
pub fn composite_back(
    original: &DynamicImage,
    result: &DynamicImage,
    mask: &Mask,
    placement: Option<&Placement>,
    feather: f32,
) -> Result<RgbaImage> {
    let size = Size::new(original.width(), original.height());
    if mask.size() != size {
        return Err(Error::invalid(
            "mask",
            format!(
                "mask is {} but image is {size}; they must be the same size",
                mask.size()
            ),
        ));
    }
    if result.width() == 0 || result.height() == 0 {
        return Err(Error::invalid("result", "has zero size"));
    }
    let placement = match placement {
        Some(p) if p.source_size != size => {
            return Err(Error::invalid(
                "placement",
                format!("was made for a {} image but the original is {size}", p.source_size),
            ));
        }
        Some(p) => *p,
        None => Placement::fit(size, Size::new(result.width(), result.height()), Fit::Stretch, None),
    };
    let restored = placement.restore_rgba(&result.to_rgba8())?;
    let weights = seam_weights(mask, feather);
    let mut out = original.to_rgba8();
    let region = placement.source;
    let width = size.width as usize;
    let weights = weights.strength().as_raw();
    out.par_chunks_mut(width * 4).enumerate().for_each(|(y, row)| {
        let y = y as u32;
        if y < region.y || y >= region.bottom() {
            return;
        }
        let ry = y - region.y;
        for x in region.x..region.right() {
            let w = weights[y as usize * width + x as usize] as u32;
            if w == 0 {
                continue;
            }
            let new = restored.get_pixel(x - region.x, ry);
            let px = &mut row[x as usize * 4..x as usize * 4 + 4];
            for c in 0..4 {
                px[c] = ((px[c] as u32 * (255 - w) + new[c] as u32 * w + 127) / 255) as u8;
            }
        }
    });
    Ok(out)
}

/// Blend weights: the mask strength, with a seam that ramps up inside the
/// edit area only (eroded by 2 sigma, blurred by sigma, capped by the mask),
/// so pixels outside keep weight 0.
fn seam_weights(mask: &Mask, feather: f32) -> Mask {
    if !feather.is_finite() || feather <= 0.0 {
        return mask.clone();
    }
    let inset = (2.0 * feather).ceil() as u32;
    let ramp = mask.clone().erode(inset).feather(feather);
    ramp.intersection(mask).unwrap_or_else(|_| mask.clone())
}

/// A square (or canvas-shaped) region cut around a mask, scaled to a provider's size.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MaskCrop {
    /// The region's pixels at the provider size (borders beyond the photo are edge-extended).
    pub image: RgbaImage,
    /// The mask of the region at the provider size.
    pub mask: Mask,
    /// Where the region lies in the original; pass it to [`composite_back`] to paste the edit back.
    pub placement: Placement,
}

/// Cuts a region around the mask's edit area, with `margin` (a fraction of
/// the area's larger side on each side, e.g. 0.25) for context, shaped like
/// `size` and scaled to it: a 12-megapixel photo with a small edit goes to a
/// 1024x1024 provider at high detail. The region is at least as large as
/// `size` allows within the photo, so small edits keep enough context.
///
/// Paste the provider's answer back with
/// `composite_back(original, answer, mask, Some(&crop.placement), feather)`.
///
/// ```
/// # fn main() -> msgflux_core::Result<()> {
/// use msgflux_core::Size;
/// use msgflux_image::{Mask, Rect, crop_to_mask};
/// let photo = image::DynamicImage::ImageRgb8(image::RgbImage::new(4000, 3000));
/// let mask = Mask::rectangle(4000, 3000, Rect::new(3000, 500, 400, 300));
/// let crop = crop_to_mask(&photo, &mask, Size::square(1024), 0.25)?;
/// assert_eq!(crop.image.dimensions(), (1024, 1024));
/// assert!(crop.placement.source.x <= 3000 && crop.placement.source.right() >= 3400);
/// # Ok(()) }
/// ```
pub fn crop_to_mask(image: &DynamicImage, mask: &Mask, size: Size, margin: f32) -> Result<MaskCrop> {
    let full = Size::new(image.width(), image.height());
    if mask.size() != full {
        return Err(Error::invalid(
            "mask",
            format!(
                "mask is {} but image is {full}; they must be the same size",
                mask.size()
            ),
        ));
    }
    if size.width == 0 || size.height == 0 {
        return Err(Error::invalid("size", format!("{size} has a zero side")));
    }
    let area = mask
        .bounding_box()
        .ok_or_else(|| Error::invalid("mask", format!("edits nothing: the {full} mask has no pixel to edit")))?;
    let margin = if margin.is_finite() {
        margin.max(0.0) as f64
    } else {
        0.0
    };
    let aspect = size.width as f64 / size.height as f64;
    // The window: the area plus margins, widened to the canvas's shape, and no
    // smaller than the canvas (upscaling a tiny region gains nothing).
    let need_w = area.width as f64 + 2.0 * margin * area.width.max(area.height) as f64;
    let need_h = area.height as f64 + 2.0 * margin * area.width.max(area.height) as f64;
    let mut win_w = need_w.max(need_h * aspect).max(size.width as f64);
    let mut win_h = win_w / aspect;
    // A window larger than the photo is cut to the photo; the rest becomes padding.
    win_w = win_w.min(full.width as f64);
    win_h = win_h.min(full.height as f64);
    let (cx, cy) = (
        area.x as f64 + area.width as f64 / 2.0,
        area.y as f64 + area.height as f64 / 2.0,
    );
    let w = (win_w.round() as u32).clamp(1, full.width);
    let h = (win_h.round() as u32).clamp(1, full.height);
    let x = (cx - w as f64 / 2.0).round().clamp(0.0, (full.width - w) as f64) as u32;
    let y = (cy - h as f64 / 2.0).round().clamp(0.0, (full.height - h) as f64) as u32;
    let source = clamp_rect(Rect::new(x, y, w, h), full);
    let placement = Placement::new(full, source, size, contain(source.size(), size));
    let image = placement.apply_rgba(&image.to_rgba8(), PadFill::Edge)?;
    let mask = Mask::from_strength(placement.apply_gray(mask.strength())?);
    Ok(MaskCrop { image, mask, placement })
}

/// The seam width the keep-unmasked step uses, as a Gaussian sigma in pixels.
pub const KEEP_UNMASKED_FEATHER: f32 = 2.0;

/// The keep-unmasked step of msgflux's pipeline, on image files: measures
/// what `result` changed outside `mask` (transparent = edit) compared with
/// `original`, then pastes the original back there with a seam of
/// [`KEEP_UNMASKED_FEATHER`] inside the mask. A result of another size is
/// first resized back to the original's (Lanczos3). The composite is written
/// as JPEG (quality 92) when the result was a JPEG, else as PNG.
///
/// `Model` runs it when a request sets `keep_unmasked` (and by default for
/// models that take no mask); it is public for pipelines of one's own.
///
/// ```
/// # fn main() -> msgflux_core::Result<()> {
/// use image::{DynamicImage, Rgb, RgbImage};
/// use msgflux_image::{Mask, Rect, encode_png, keep_unmasked};
/// let original = encode_png(&DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 64, Rgb([10, 20, 30]))))?;
/// let result = encode_png(&DynamicImage::ImageRgb8(RgbImage::from_pixel(32, 32, Rgb([200, 0, 0]))))?;
/// let mask = Mask::rectangle(64, 64, Rect::new(16, 16, 32, 32)).to_png(msgflux_image::MaskConvention::TransparentIsEdit)?;
/// let (composite, report) = keep_unmasked(&original, &mask, &result, "result")?;
/// assert_eq!(report.resized_from, Some(msgflux_core::Size::square(32)));
/// assert_eq!(report.leak.changed_fraction, 1.0); // the provider repainted everything
/// let out = image::load_from_memory(&composite).unwrap().to_rgb8();
/// assert_eq!(out.get_pixel(2, 2).0, [10, 20, 30]); // but outside the mask nothing changed
/// assert_eq!(out.get_pixel(32, 32).0, [200, 0, 0]);
/// # Ok(()) }
/// ```
pub fn keep_unmasked(
    original: &[u8],
    mask: &[u8],
    result: &[u8],
    what: &str,
) -> Result<(Vec<u8>, msgflux_core::UnmaskedReport)> {
    let limits = msgflux_core::DecodeLimits::default();
    let original = crate::decode::decode(original, &limits, "image")?.image;
    let mask = Mask::decode(mask, msgflux_core::MaskConvention::TransparentIsEdit, &limits, "mask")?;
    let answer = crate::decode::decode(result, &limits, what)?;
    let size = Size::new(original.width(), original.height());
    let answered = Size::new(answer.image.width(), answer.image.height());
    let restored = if answered == size {
        answer.image
    } else {
        let placement = Placement::fit(size, answered, Fit::Stretch, None);
        DynamicImage::ImageRgba8(placement.restore_rgba(&answer.image.to_rgba8())?)
    };
    let leak = crate::compare::leak_report(&original, &restored, &mask, crate::compare::DEFAULT_LEAK_THRESHOLD)?;
    let composite = composite_back(&original, &restored, &mask, None, KEEP_UNMASKED_FEATHER)?;
    let composite = if original.color().has_alpha() {
        DynamicImage::ImageRgba8(composite)
    } else {
        DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(composite).to_rgb8())
    };
    // Always lossless: re-encoding a JPEG answer as JPEG would change the
    // pixels outside the mask that were just pasted back bit for bit.
    let setting = crate::encode::EncodeSetting::Png(crate::encode::PngLevel::Fast);
    let bytes = crate::encode::encode(&composite, setting, what)?;
    let report = msgflux_core::UnmaskedReport::new(leak, (answered != size).then_some(answered), KEEP_UNMASKED_FEATHER);
    Ok((bytes, report))
}

/// The pipeline's keep-unmasked step, registered with msgflux-core at link time.
struct PipelineStep;

impl msgflux_core::kit::KeepUnmasked for PipelineStep {
    fn keep_unmasked(
        &self,
        original: &msgflux_core::LoadedImage,
        mask: &msgflux_core::LoadedImage,
        result: &[u8],
        what: &str,
    ) -> Result<msgflux_core::kit::KeptUnmasked> {
        let (bytes, report) = keep_unmasked(&original.bytes, &mask.bytes, result, what)?;
        Ok(msgflux_core::kit::KeptUnmasked::new(bytes, report))
    }
}

msgflux_core::register_keep_unmasked!(PipelineStep);

#[cfg(test)]
mod tests {
    use image::{DynamicImage, Rgb, RgbImage};

    use super::*;
    use crate::encode::{EncodeSetting, encode};

    #[test]
    fn a_jpeg_answer_keeps_every_pixel_outside_the_mask_bit_for_bit() {
        let original = RgbImage::from_fn(64, 64, |x, y| Rgb([(x * 4) as u8, (y * 4) as u8, 140]));
        let original = DynamicImage::ImageRgb8(original);
        let original_png = crate::encode_png(&original).expect("png");
        let mask = Mask::rectangle(64, 64, Rect::new(16, 16, 32, 32))
            .to_png(msgflux_core::MaskConvention::TransparentIsEdit)
            .expect("mask");
        let answer = DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 64, Rgb([200, 30, 30])));
        let jpeg = encode(&answer, EncodeSetting::Jpeg { quality: 90 }, "result").expect("jpeg");
        let (bytes, _) = keep_unmasked(&original_png, &mask, &jpeg, "result").expect("kept");
        let kept = image::load_from_memory(&bytes).expect("decodes").to_rgb8();
        for (x, y, px) in kept.enumerate_pixels() {
            if !(16..48).contains(&x) || !(16..48).contains(&y) {
                assert_eq!(px, original.as_rgb8().expect("rgb").get_pixel(x, y), "({x}, {y})");
            }
        }
    }
}
