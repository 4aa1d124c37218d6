//! Prepare an image (and its mask) for a target: RGBA, a size and fit,
//! Lanczos3, encoded under a byte budget, with a report of what changed.

use std::fmt;

use image::metadata::Orientation;
use image::{DynamicImage, RgbaImage};
use msgflux_core::{
    Capabilities, DecodeLimits, Error, ImageFormat, LoadedImage, MaskConvention, Result, Size, SizeRule,
    kit::human_bytes,
};
use serde::{Deserialize, Serialize};

use crate::decode::{Decoded, decode};
use crate::decode_reduced::plan_reduced;
use crate::encode::{EncodeSetting, PngLevel, build_and_encode_png_fast, encode};
use crate::geometry::{CropAnchor, Fit, PadFill, Placement, Rect};
use crate::mask::Mask;
use crate::prepare_streamed::{FirstRung, decode_half_scaled_to_png, decode_png_scaled_to_png};
use crate::resize::{Filter, Layout, resize_rgb, resize_rgba, resize_rows_into};

/// The output size a [`PrepareTarget`] asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetSize {
    /// The input's size (made square first when the target is square).
    #[default]
    Keep,
    /// Exactly this size; the [`Fit`] decides how another shape is reconciled.
    Exact(Size),
    /// Scaled down (never up) so that neither side exceeds this, keeping the shape.
    MaxSide(u32),
}

/// What an image must look like for a provider or a user: size, fit, format
/// and byte budget. Build it from explicit settings or derive it from a
/// model's [`Capabilities`].
///
/// ```
/// use msgflux_core::{ImageFormat, Size};
/// use msgflux_image::{Fit, PrepareTarget};
/// // The dall-e-2 recipe of the msgflux docs: RGBA PNG, 1024x1024 Lanczos, under 4 MB.
/// let target = PrepareTarget::new()
///     .with_size(Size::square(1024))
///     .with_fit(Fit::Stretch)
///     .with_format(ImageFormat::Png)
///     .with_max_bytes(4 * 1024 * 1024);
/// assert_eq!(target.canvas_for(Size::new(4000, 3000)), Size::square(1024));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PrepareTarget {
    /// The output size.
    pub size: TargetSize,
    /// Whether the output must be square (applies to [`TargetSize::Keep`] and [`TargetSize::MaxSide`]).
    pub square: bool,
    /// How another shape is fitted.
    pub fit: Fit,
    /// The output file format: PNG (RGBA), JPEG or lossless WebP.
    pub format: ImageFormat,
    /// The largest file allowed, in bytes.
    pub max_bytes: Option<u64>,
    /// The smallest side the budget search may shrink the image to.
    pub min_side: u32,
    /// The convention of the prepared mask file ([`Prepared::mask_bytes`]).
    pub mask_convention: MaskConvention,
}

impl Default for PrepareTarget {
    fn default() -> Self {
        Self::new()
    }
}

impl PrepareTarget {
    /// Keep the size, stretch, PNG, no byte budget, masks transparent = edit.
    pub fn new() -> Self {
        Self {
            size: TargetSize::Keep,
            square: false,
            fit: Fit::Stretch,
            format: ImageFormat::Png,
            max_bytes: None,
            min_side: 64,
            mask_convention: MaskConvention::TransparentIsEdit,
        }
    }

    /// Derives the target a model needs from its capabilities, as a provider's
    /// `prepare` step does:
    ///
    /// - square inputs (`square_input`) get an exact square size: `requested`
    ///   when it is square, else the largest square the size rule lists
    ///   (1024x1024 for dall-e-2), else the rule's largest side;
    /// - other models keep the input's shape, scaled down to the largest side
    ///   the size rule allows;
    /// - the format is PNG when accepted, else WebP, else JPEG;
    /// - the byte budget is `max_input_bytes`; the fit is [`Fit::Stretch`].
    ///
    /// Masks stay transparent = edit: the masks msgflux hands to providers
    /// always follow that convention, and providers convert them when sending.
    ///
    /// ```
    /// use msgflux_core::{Capabilities, ImageFormat, Size, SizeRule};
    /// use msgflux_image::{PrepareTarget, TargetSize};
    /// let dalle2 = Capabilities::new()
    ///     .with_input_formats([ImageFormat::Png])
    ///     .with_max_input_bytes(4 * 1024 * 1024)
    ///     .with_square_input(true)
    ///     .with_sizes(SizeRule::OneOf(vec![Size::square(256), Size::square(512), Size::square(1024)]));
    /// let target = PrepareTarget::from_capabilities(&dalle2, None);
    /// assert_eq!(target.size, TargetSize::Exact(Size::square(1024)));
    /// assert_eq!(target.max_bytes, Some(4 * 1024 * 1024));
    /// ```
    pub fn from_capabilities(caps: &Capabilities, requested: Option<Size>) -> Self {
        let largest_side = match &caps.sizes {
            SizeRule::OneOf(sizes) => sizes.iter().map(|s| s.width.max(s.height)).max(),
            SizeRule::MultipleOf { max, .. } => Some(*max),
            SizeRule::Any { max_side } => Some(*max_side),
            _ => None,
        };
        let size = if caps.square_input {
            let largest_square = match &caps.sizes {
                SizeRule::OneOf(sizes) => sizes.iter().filter(|s| s.width == s.height).max().copied(),
                _ => None,
            };
            match requested.filter(|s| s.width == s.height).or(largest_square) {
                Some(size) => TargetSize::Exact(size),
                None => largest_side.map_or(TargetSize::Keep, TargetSize::MaxSide),
            }
        } else {
            largest_side.map_or(TargetSize::Keep, TargetSize::MaxSide)
        };
        let accepts = |f| caps.input_formats.is_empty() || caps.input_formats.contains(&f);
        let format = [ImageFormat::Png, ImageFormat::Webp, ImageFormat::Jpeg]
            .into_iter()
            .find(|f| accepts(*f))
            .unwrap_or(ImageFormat::Png);
        Self {
            size,
            square: caps.square_input,
            format,
            max_bytes: caps.max_input_bytes,
            ..Self::new()
        }
    }

    /// Sets an exact output size.
    pub fn with_size(mut self, size: Size) -> Self {
        self.size = TargetSize::Exact(size);
        self
    }

    /// Scales down so neither side exceeds `side`.
    pub fn with_max_side(mut self, side: u32) -> Self {
        self.size = TargetSize::MaxSide(side);
        self
    }

    /// Requires a square output.
    pub fn with_square(mut self, yes: bool) -> Self {
        self.square = yes;
        self
    }

    /// Sets the fit.
    pub fn with_fit(mut self, fit: Fit) -> Self {
        self.fit = fit;
        self
    }

    /// Sets the output format (PNG, JPEG or WebP).
    pub fn with_format(mut self, format: ImageFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets the byte budget.
    pub fn with_max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = Some(bytes);
        self
    }

    /// Sets the smallest side the budget search may reach.
    pub fn with_min_side(mut self, side: u32) -> Self {
        self.min_side = side;
        self
    }

    /// Sets the convention of the prepared mask file.
    pub fn with_mask_convention(mut self, convention: MaskConvention) -> Self {
        self.mask_convention = convention;
        self
    }

    /// The canvas size this target gives an input of `source` size.
    pub fn canvas_for(&self, source: Size) -> Size {
        let (w, h) = (source.width.max(1), source.height.max(1));
        match self.size {
            TargetSize::Exact(size) => size,
            TargetSize::Keep | TargetSize::MaxSide(_) => {
                let cap = match self.size {
                    TargetSize::MaxSide(side) => side.max(1),
                    _ => u32::MAX,
                };
                if self.square {
                    let side = match self.fit {
                        Fit::Crop(_) => w.min(h),
                        _ => w.max(h),
                    };
                    Size::square(side.min(cap))
                } else {
                    let scale = (cap as f64 / w.max(h) as f64).min(1.0);
                    Size::new(
                        ((w as f64 * scale).round() as u32).max(1),
                        ((h as f64 * scale).round() as u32).max(1),
                    )
                }
            }
        }
    }
}

/// The size, format and file length of an image, before or after prepare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageSummary {
    /// Width and height.
    pub size: Size,
    /// The file format, when there was a file.
    pub format: Option<ImageFormat>,
    /// The file length, when there was a file.
    pub bytes: Option<u64>,
    /// Whether the pixels carry alpha.
    pub has_alpha: bool,
}

impl fmt::Display for ImageSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(format) = self.format {
            write!(f, "{format} ")?;
        }
        write!(f, "{}", self.size)?;
        if self.has_alpha {
            f.write_str(" with alpha")?;
        }
        if let Some(bytes) = self.bytes {
            write!(f, ", {}", human_bytes(bytes))?;
        }
        Ok(())
    }
}

/// One encoding tried while getting under the byte budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EncodeAttempt {
    /// The size encoded.
    pub size: Size,
    /// The setting used.
    pub setting: EncodeSetting,
    /// The file length it gave.
    pub bytes: u64,
    /// Whether that was within the budget.
    pub fits: bool,
}

/// What [`prepare`] did: original and prepared summaries, the geometry, each
/// encoding tried, and a readable list of changes. Serializable, so a provider
/// can put it in a response's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PrepareReport {
    /// The input.
    pub original: ImageSummary,
    /// The output.
    pub prepared: ImageSummary,
    /// The fit used.
    pub fit: Fit,
    /// Where the input landed on the output (invert it with [`composite_back`](crate::composite_back)).
    pub placement: Placement,
    /// The EXIF orientation applied while decoding, when there was one.
    pub orientation_applied: Option<String>,
    /// The encodings tried, in order; the last one is the output.
    pub attempts: Vec<EncodeAttempt>,
    /// What changed, one readable line each; empty when the input was passed through.
    pub changes: Vec<String>,
}

impl PrepareReport {
    /// True when the input already fitted and was passed through unchanged.
    pub fn unchanged(&self) -> bool {
        self.changes.is_empty()
    }
}

impl fmt::Display for PrepareReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.original, self.prepared)?;
        if self.changes.is_empty() {
            f.write_str(" (unchanged)")
        } else {
            write!(f, ": {}", self.changes.join("; "))
        }
    }
}

/// A prepared image and mask.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Prepared {
    /// The prepared pixels (RGBA).
    pub image: RgbaImage,
    /// The encoded file, in [`Prepared::format`].
    pub image_bytes: Vec<u8>,
    /// The file format of `image_bytes`.
    pub format: ImageFormat,
    /// The mask, placed with the same geometry as the image.
    pub mask: Option<Mask>,
    /// The mask as a PNG file in the target's mask convention.
    pub mask_bytes: Option<Vec<u8>>,
    /// What was done.
    pub report: PrepareReport,
}

/// Prepares decoded pixels (and a mask of the same size) for `target`.
///
/// The mask is placed with the same [`Placement`] as the image, so the two
/// stay aligned. When the byte budget cannot be met, PNG compression is
/// raised first, then the size is stepped down (never below
/// [`PrepareTarget::min_side`]).
///
/// ```
/// # fn main() -> msgflux_core::Result<()> {
/// use msgflux_core::Size;
/// use msgflux_image::{Mask, PrepareTarget, Rect, prepare};
/// let photo = image::DynamicImage::ImageRgb8(image::RgbImage::new(400, 300));
/// let mask = Mask::rectangle(400, 300, Rect::new(100, 100, 50, 50));
/// let target = PrepareTarget::new().with_size(Size::square(256)).with_max_bytes(4 * 1024 * 1024);
/// let prepared = prepare(&photo, Some(&mask), &target)?;
/// assert_eq!(prepared.image.dimensions(), (256, 256));
/// assert_eq!(prepared.mask.unwrap().size(), Size::square(256));
/// # Ok(()) }
/// ```
pub fn prepare(image: &DynamicImage, mask: Option<&Mask>, target: &PrepareTarget) -> Result<Prepared> {
    let original = ImageSummary {
        size: Size::new(image.width(), image.height()),
        format: None,
        bytes: None,
        has_alpha: image.color().has_alpha(),
    };
    prepare_pixels(
        Pixels::Decoded(image),
        original,
        Orientation::NoTransforms,
        mask,
        target,
        None,
    )
}

/// Decodes image bytes (and optional mask bytes, transparent = edit) within
/// `limits` and prepares them. An input that already fits the target (same
/// format, size and RGBA, within budget, upright) is passed through byte for
/// byte, and the report says so.
pub fn prepare_bytes(
    image: &[u8],
    mask: Option<&[u8]>,
    target: &PrepareTarget,
    limits: &DecodeLimits,
) -> Result<Prepared> {
    let (decoded, full) = decode_for(image, limits, target, true)?;
    let mask = mask
        .map(|bytes| Mask::decode(bytes, MaskConvention::TransparentIsEdit, limits, "mask"))
        .transpose()?;
    let again = || decode_again(image, limits, target);
    prepare_decoded(decoded, full, image, mask.as_ref(), target, &again)
}

/// What decoding gave prepare.
enum Decodes {
    /// The pixels (at a reduced scale when their size is not the full size).
    Pixels(Decoded),
    /// The first encoding, made while decoding; the pixels were not kept.
    Streamed(FirstRung),
}

/// The pixels prepare scales.
enum Pixels<'a> {
    Decoded(&'a DynamicImage),
    /// Not kept from the first decode: decoded again if a budget needs them.
    Again(&'a dyn Fn() -> Result<DynamicImage>),
}

/// The image decoded again for the rungs after a streamed first one, the
/// same way as the first time but keeping the pixels.
fn decode_again(bytes: &[u8], limits: &DecodeLimits, target: &PrepareTarget) -> Result<DynamicImage> {
    match decode_for(bytes, limits, target, false)?.0 {
        Decodes::Pixels(decoded) => Ok(decoded.image),
        Decodes::Streamed(_) => Err(Error::decode("image", "the second decode streamed as well")),
    }
}

/// Decodes `bytes` for `target`, returning the pixels (or, when `may_stream`
/// allows it, the first encoding made while decoding) and the full upright
/// size. A JPEG whose whole area is scaled down to half a side or less ([`Fit::Stretch`],
/// [`Fit::Pad`]) is decoded at a reduced scale
/// ([`decode_reduced`](crate::decode_reduced)): on the 12-megapixel
/// benchmark that is most of the time saved (docs/benchmarks/image.md); at
/// half scale, upright, to a PNG it fills, it is also scaled and encoded
/// as it is decoded ([`decode_half_scaled_to_png`]), as a PNG resized to a
/// PNG it fills is ([`decode_png_scaled_to_png`]). A crop keeps the full
/// decode, whose pixels its window is measured in.
fn decode_for(
    bytes: &[u8],
    limits: &DecodeLimits,
    target: &PrepareTarget,
    may_stream: bool,
) -> Result<(Decodes, Size)> {
    let whole_area = !matches!(target.fit, Fit::Crop(_));
    let placement = |full: Size| Placement::fit(full, target.canvas_for(full), target.fit, None);
    let sniffed = ImageFormat::sniff(bytes);
    if whole_area && sniffed == Some(ImageFormat::Jpeg) {
        if let Some(plan) = plan_reduced(bytes, limits, "image", |full| placement(full).dest.size())? {
            let full = plan.full();
            let first_placement = placement(full);
            let streams = may_stream && plan.is_upright_rgb_at_half() && streams_png(target, &first_placement);
            if streams
                && let Some(first) =
                    decode_half_scaled_to_png(bytes, plan.stored(), first_placement.dest.size(), "image")?
            {
                return Ok((Decodes::Streamed(first), full));
            }
            // A file the streamed decode refused is not given to our decoder twice.
            if let Some(reduced) = plan.decode(bytes, "image", streams)? {
                return Ok((Decodes::Pixels(reduced.decoded), reduced.full));
            }
        }
    }
    if whole_area && may_stream && sniffed == Some(ImageFormat::Png) {
        // Only a resize: a PNG already the canvas's size may pass through untouched.
        let resized = |full: Size| {
            let placement = placement(full);
            (placement.canvas != full && streams_png(target, &placement)).then(|| placement.dest.size())
        };
        if let Some(first) = decode_png_scaled_to_png(bytes, limits, resized, "image")? {
            let full = first.decoded_size;
            return Ok((Decodes::Streamed(first), full));
        }
    }
    let decoded = decode(bytes, limits, "image")?;
    let full = decoded.size();
    Ok((Decodes::Pixels(decoded), full))
}

/// Whether the first rung of `target`'s ladder is encoded while the image
/// is scaled, band by band on two threads: a fast-level PNG that the
/// scaled image fills (no borders to paste it on).
fn streams_png(target: &PrepareTarget, placement: &Placement) -> bool {
    EncodeSetting::ladder(target.format).and_then(|ladder| ladder.first().copied())
        == Some(EncodeSetting::Png(PngLevel::Fast))
        && placement.dest == Rect::full(placement.canvas)
        && placement.canvas.width > 0
        && placement.canvas.height > 0
}

/// The inputs of a provider request, prepared.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PreparedInputs {
    /// The prepared image, sniffed and named like the original (new extension).
    pub image: LoadedImage,
    /// The prepared mask, PNG, transparent = edit.
    pub mask: Option<LoadedImage>,
    /// What was done.
    pub report: PrepareReport,
}

/// Prepares a provider's loaded image and mask: what an
/// [`EditProvider::prepare`](msgflux_core::kit::EditProvider::prepare) step calls.
///
/// The mask comes back as a transparent = edit PNG whatever
/// `target.mask_convention` says, because masks inside a
/// [`LoadedRequest`](msgflux_core::kit::LoadedRequest) always follow that convention.
/// An image that already fits is returned unchanged (same bytes); so is its
/// mask when it is a PNG with alpha of the same size.
///
/// ```
/// # fn main() -> msgflux_core::Result<()> {
/// use msgflux_core::{Capabilities, LoadedImage, Size, SizeRule};
/// use msgflux_image::{Mask, PrepareTarget, Rect, prepare_loaded};
/// let mut jpeg = Vec::new();
/// image::RgbImage::new(300, 200).write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
/// let image = LoadedImage::from_bytes(jpeg, Some("photo.jpg".into()), "image")?;
/// let mask_png = Mask::rectangle(300, 200, Rect::new(10, 10, 50, 50)).to_png(msgflux_core::MaskConvention::TransparentIsEdit)?;
/// let mask = LoadedImage::from_bytes(mask_png, Some("mask.png".into()), "mask")?;
///
/// let caps = Capabilities::new().with_square_input(true).with_max_input_bytes(4 << 20)
///     .with_sizes(SizeRule::OneOf(vec![Size::square(256), Size::square(512)]));
/// let prepared = prepare_loaded(&image, Some(&mask), &PrepareTarget::from_capabilities(&caps, None))?;
/// assert_eq!((prepared.image.width, prepared.image.height), (512, 512));
/// assert_eq!(prepared.image.filename, "photo.png");
/// assert!(prepared.mask.unwrap().has_alpha);
/// # Ok(()) }
/// ```
pub fn prepare_loaded(
    image: &LoadedImage,
    mask: Option<&LoadedImage>,
    target: &PrepareTarget,
) -> Result<PreparedInputs> {
    let limits = DecodeLimits::default();
    let (decoded, full) = decode_for(&image.bytes, &limits, target, true)?;
    let mask_pixels = mask
        .map(|m| Mask::decode(&m.bytes, MaskConvention::TransparentIsEdit, &limits, "mask"))
        .transpose()?;
    let decode_target = target;
    let target = PrepareTarget {
        mask_convention: MaskConvention::TransparentIsEdit,
        ..target.clone()
    };
    let again = || decode_again(&image.bytes, &limits, decode_target);
    let prepared = prepare_decoded(decoded, full, &image.bytes, mask_pixels.as_ref(), &target, &again)?;
    let new_image = if prepared.report.unchanged() {
        image.clone()
    } else {
        LoadedImage::from_bytes(prepared.image_bytes, Some(image.filename.clone()), "image")?
    };
    let new_mask = match (mask, prepared.mask_bytes) {
        (Some(original), _)
            if prepared.report.unchanged()
                && original.format == ImageFormat::Png
                && original.has_alpha
                && (original.width, original.height) == (new_image.width, new_image.height) =>
        {
            Some(original.clone())
        }
        (Some(original), Some(bytes)) => Some(LoadedImage::from_bytes(bytes, Some(original.filename.clone()), "mask")?),
        _ => None,
    };
    Ok(PreparedInputs {
        image: new_image,
        mask: new_mask,
        report: prepared.report,
    })
}

/// `full` is the image's upright size, which the decoded pixels have unless
/// they were decoded at a reduced scale; `again` decodes the pixels once
/// more when the first encoding was made while decoding and a budget needs
/// another.
fn prepare_decoded(
    decoded: Decodes,
    full: Size,
    file: &[u8],
    mask: Option<&Mask>,
    target: &PrepareTarget,
    again: &dyn Fn() -> Result<DynamicImage>,
) -> Result<Prepared> {
    let (format, has_alpha) = match &decoded {
        Decodes::Pixels(decoded) => (decoded.format, decoded.has_alpha()),
        Decodes::Streamed(first) => (first.format, first.has_alpha),
    };
    let original = ImageSummary {
        size: full,
        format: Some(format),
        bytes: Some(file.len() as u64),
        has_alpha,
    };
    let decoded = match decoded {
        Decodes::Pixels(decoded) => decoded,
        Decodes::Streamed(first) => {
            // Streamed only from an upright file.
            let decoded_size = first.decoded_size;
            let prepared = prepare_pixels(
                Pixels::Again(again),
                original,
                Orientation::NoTransforms,
                mask,
                target,
                Some(first),
            )?;
            return Ok(reduced_scale_noted(prepared, decoded_size, full));
        }
    };
    let canvas = target.canvas_for(original.size);
    let passes_through = decoded.format == target.format
        && original.size == canvas
        && decoded.orientation == Orientation::NoTransforms
        && target.max_bytes.is_none_or(|max| file.len() as u64 <= max)
        && match target.format {
            ImageFormat::Png | ImageFormat::Webp => matches!(decoded.image, DynamicImage::ImageRgba8(_)),
            _ => true,
        };
    if passes_through {
        check_mask_size(mask, original.size)?;
        let placement = Placement::fit(original.size, canvas, target.fit, None);
        let mask_bytes = mask.map(|m| m.to_png(target.mask_convention)).transpose()?;
        return Ok(Prepared {
            image: decoded.image.to_rgba8(),
            image_bytes: file.to_vec(),
            format: decoded.format,
            mask: mask.cloned(),
            mask_bytes,
            report: PrepareReport {
                original,
                prepared: original,
                fit: target.fit,
                placement,
                orientation_applied: None,
                attempts: Vec::new(),
                changes: Vec::new(),
            },
        });
    }
    let prepared = prepare_pixels(
        Pixels::Decoded(&decoded.image),
        original,
        decoded.orientation,
        mask,
        target,
        None,
    )?;
    Ok(reduced_scale_noted(prepared, decoded.size(), full))
}

/// The report says so when the JPEG was decoded at a reduced scale.
fn reduced_scale_noted(mut prepared: Prepared, decoded: Size, full: Size) -> Prepared {
    if decoded != full {
        let line = format!("decoded the JPEG at a reduced scale ({decoded}) before resizing");
        prepared.report.changes.insert(0, line);
    }
    prepared
}

fn check_mask_size(mask: Option<&Mask>, size: Size) -> Result<()> {
    match mask {
        Some(mask) if mask.size() != size => Err(Error::invalid(
            "mask",
            format!(
                "mask is {} but image is {}; they must be the same size",
                mask.size(),
                size
            ),
        )),
        _ => Ok(()),
    }
}

fn prepare_pixels(
    image: Pixels<'_>,
    original: ImageSummary,
    orientation: Orientation,
    mask: Option<&Mask>,
    target: &PrepareTarget,
    mut first: Option<FirstRung>,
) -> Result<Prepared> {
    check_mask_size(mask, original.size)?;
    let ladder = EncodeSetting::ladder(target.format).ok_or_else(|| {
        Error::invalid(
            "format",
            format!("prepare writes PNG, JPEG or WebP, not {}", target.format),
        )
    })?;
    if let TargetSize::Exact(size) = target.size
        && (size.width == 0 || size.height == 0)
    {
        return Err(Error::invalid("size", format!("{size} has a zero side")));
    }
    let edit_area = match target.fit {
        Fit::Crop(CropAnchor::Mask) => mask.and_then(Mask::bounding_box),
        _ => None,
    };
    let fill = match target.fit {
        Fit::Pad(fill) => fill,
        _ => PadFill::Transparent,
    };
    // Decoded on first use when the first rung came streamed.
    let decoded_again = std::cell::OnceCell::new();
    let source = std::cell::OnceCell::new();
    let mut canvas = target.canvas_for(original.size);
    let mut attempts = Vec::new();
    loop {
        let placement = Placement::fit(original.size, canvas, target.fit, edit_area);
        let (pixels, mut encoded) = if let Some(FirstRung { pixels, png, .. }) = first.take() {
            (pixels, Some(png))
        } else if streams_png(target, &placement) {
            let (pixels, bytes) = source_of(&image, &decoded_again, &source)?.place_as_fast_png(&placement)?;
            (pixels, Some(bytes))
        } else {
            (
                source_of(&image, &decoded_again, &source)?.place(&placement, fill)?,
                None,
            )
        };
        let as_dynamic = DynamicImage::ImageRgba8(pixels);
        let mut last_bytes = 0u64;
        for setting in &ladder {
            let bytes = match encoded.take() {
                Some(bytes) => bytes,
                None => encode(&as_dynamic, *setting, "image")?,
            };
            let len = bytes.len() as u64;
            let fits = target.max_bytes.is_none_or(|max| len <= max);
            attempts.push(EncodeAttempt {
                size: canvas,
                setting: *setting,
                bytes: len,
                fits,
            });
            last_bytes = len;
            if fits {
                let DynamicImage::ImageRgba8(pixels) = as_dynamic else {
                    unreachable!("built as RGBA above")
                };
                return finish(
                    pixels,
                    bytes,
                    *setting,
                    placement,
                    original,
                    orientation,
                    mask,
                    target,
                    attempts,
                );
            }
        }
        let max = target.max_bytes.unwrap_or(u64::MAX);
        // Bytes scale with the pixel count: aim a little under the budget.
        let scale = ((max as f64 / last_bytes as f64).sqrt() * 0.95).clamp(0.5, 0.9);
        let next = Size::new(
            (canvas.width as f64 * scale).round() as u32,
            (canvas.height as f64 * scale).round() as u32,
        );
        if next.width.min(next.height) < target.min_side.max(1) {
            return Err(Error::invalid(
                "image",
                format!(
                    "cannot be encoded under {} ({max} bytes): {} at {canvas} still takes {last_bytes} bytes, \
                     and going below {} px per side is not allowed",
                    human_bytes(max),
                    ladder.last().map(ToString::to_string).unwrap_or_default(),
                    target.min_side
                ),
            ));
        }
        canvas = next;
    }
}

/// The pixels to scale, decoded again into `decoded_again` if they were
/// not kept, and made a [`Source`] once.
fn source_of<'a>(
    image: &Pixels<'a>,
    decoded_again: &'a std::cell::OnceCell<DynamicImage>,
    source: &'a std::cell::OnceCell<Source<'a>>,
) -> Result<&'a Source<'a>> {
    if let Some(source) = source.get() {
        return Ok(source);
    }
    let pixels = match image {
        Pixels::Decoded(pixels) => *pixels,
        // Only this function fills either cell, `source` right after this
        // one: with `source` empty, this one is too, so this decodes once.
        Pixels::Again(decode) => {
            let decoded = decode()?;
            decoded_again.get_or_init(|| decoded)
        }
    };
    // Sources without alpha are scaled as RGB (a quarter less work) and get alpha after.
    Ok(source.get_or_init(|| Source::new(pixels)))
}

#[allow(clippy::too_many_arguments)]
fn finish(
    pixels: RgbaImage,
    bytes: Vec<u8>,
    setting: EncodeSetting,
    placement: Placement,
    original: ImageSummary,
    orientation: Orientation,
    mask: Option<&Mask>,
    target: &PrepareTarget,
    attempts: Vec<EncodeAttempt>,
) -> Result<Prepared> {
    let mask = mask
        .map(|m| placement.apply_gray(m.strength()).map(Mask::from_strength))
        .transpose()?;
    let mask_bytes = mask.as_ref().map(|m| m.to_png(target.mask_convention)).transpose()?;
    let format = setting.format();
    let prepared = ImageSummary {
        size: placement.canvas,
        format: Some(format),
        bytes: Some(bytes.len() as u64),
        has_alpha: format != ImageFormat::Jpeg,
    };
    let orientation_applied = (orientation != Orientation::NoTransforms).then(|| format!("{orientation:?}"));
    let mut changes = Vec::new();
    if let Some(o) = &orientation_applied {
        changes.push(format!("applied the EXIF orientation ({o})"));
    }
    match original.format {
        Some(f) if f != format => changes.push(format!("converted {f} to {format}")),
        _ => {}
    }
    if !original.has_alpha && prepared.has_alpha {
        changes.push("added an opaque alpha channel (RGBA)".to_string());
    }
    if !placement.is_identity() {
        changes.push(format!(
            "resized {} to {} ({}, Lanczos3): {}",
            original.size, placement.canvas, target.fit, placement
        ));
    }
    let first_size = attempts.first().map(|a| a.size).unwrap_or(placement.canvas);
    if first_size != placement.canvas
        && let Some(max) = target.max_bytes
    {
        changes.push(format!(
            "reduced from {first_size} to {} to fit under {}",
            placement.canvas,
            human_bytes(max)
        ));
    }
    changes.push(format!("encoded as {setting}: {}", human_bytes(bytes.len() as u64)));
    Ok(Prepared {
        image: pixels,
        image_bytes: bytes,
        format,
        mask,
        mask_bytes,
        report: PrepareReport {
            original,
            prepared,
            fit: target.fit,
            placement,
            orientation_applied,
            attempts,
            changes,
        },
    })
}

/// The decoded source in the cheapest form to scale.
enum Source<'a> {
    Rgb(std::borrow::Cow<'a, image::RgbImage>),
    Rgba(std::borrow::Cow<'a, RgbaImage>),
}

impl<'a> Source<'a> {
    fn new(image: &'a DynamicImage) -> Self {
        use std::borrow::Cow;
        match image {
            DynamicImage::ImageRgb8(rgb) => Self::Rgb(Cow::Borrowed(rgb)),
            DynamicImage::ImageRgba8(rgba) => Self::Rgba(Cow::Borrowed(rgba)),
            other if !other.color().has_alpha() => Self::Rgb(Cow::Owned(other.to_rgb8())),
            other => Self::Rgba(Cow::Owned(other.to_rgba8())),
        }
    }

    /// The part of the decoded pixels that `placement` scales.
    fn region(&self, placement: &Placement) -> Rect {
        let (width, height) = match self {
            Self::Rgb(rgb) => rgb.dimensions(),
            Self::Rgba(rgba) => rgba.dimensions(),
        };
        // A source decoded at a reduced scale is the whole image, smaller
        // (`decode_for` reduces only when the placement takes the whole area).
        if Size::new(width, height) == placement.source_size {
            placement.source
        } else {
            Rect::new(0, 0, width, height)
        }
    }

    /// Scales onto a canvas that the scaled image fills, and encodes it as
    /// PNG at the fast level while it is scaled ([`build_and_encode_png_fast`]).
    fn place_as_fast_png(&self, placement: &Placement) -> Result<(RgbaImage, Vec<u8>)> {
        let region = self.region(placement);
        let size = placement.dest.size();
        match self {
            Self::Rgb(rgb) => {
                let mut rgb_band = Vec::new();
                let fill = |rows: std::ops::Range<u32>, band: &mut [u8]| {
                    rgb_band.resize(band.len() / 4 * 3, 0);
                    resize_rows_into(rgb, Layout::Rgb, region, size, rows, &mut rgb_band, Filter::Lanczos3)?;
                    rgb_into_opaque_rgba(&rgb_band, band);
                    Ok(())
                };
                build_and_encode_png_fast(size.width, size.height, fill, "image")
            }
            Self::Rgba(rgba) => {
                let fill = |rows, band: &mut [u8]| {
                    resize_rows_into(rgba, Layout::Rgba, region, size, rows, band, Filter::Lanczos3)
                };
                build_and_encode_png_fast(size.width, size.height, fill, "image")
            }
        }
    }

    fn place(&self, placement: &Placement, fill: PadFill) -> Result<RgbaImage> {
        let region = self.region(placement);
        let scaled = match self {
            Self::Rgb(rgb) => {
                let scaled = resize_rgb(rgb, region, placement.dest.size(), Filter::Lanczos3)?;
                DynamicImage::ImageRgb8(scaled).into_rgba8()
            }
            Self::Rgba(rgba) => resize_rgba(rgba, region, placement.dest.size(), Filter::Lanczos3)?,
        };
        Ok(placement.paste_on_canvas(scaled, fill))
    }
}

/// Copies RGB pixels into RGBA ones, opaque.
pub(crate) fn rgb_into_opaque_rgba(rgb: &[u8], rgba: &mut [u8]) {
    for (rgba, rgb) in rgba.chunks_exact_mut(4).zip(rgb.chunks_exact(3)) {
        rgba[..3].copy_from_slice(rgb);
        rgba[3] = u8::MAX;
    }
}

/// Used by tests and callers that want the rectangle of the source that made it onto the canvas.
impl Prepared {
    /// The region of the original image that the prepared image shows.
    pub fn source_region(&self) -> Rect {
        self.report.placement.source
    }
}
