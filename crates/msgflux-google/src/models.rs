//! The capability table: what each Gemini image model accepts, as data
//! (read by `msgflux_core::Capabilities::check`), plus the rules that table
//! cannot express ([`ModelSpec::check_request`]): the aspect ratio and the
//! resolution tier an exact size maps to, and the mask hint's extra image.
//!
//! Sources (checked 2026-12-01): the Gemini API image-generation guide
//! (<https://ai.google.dev/gemini-api/docs/image-generation>, "Nano Banana"),
//! the `ImageConfig` type of Google's js-genai SDK (commit 6e9b35c,
//! 2026-08-21), the Vertex AI model pages of gemini-3.1-flash-image (GA
//! 2026-05-28; 14 reference images, 15 ratios, 512 to 4K) and
//! gemini-3.1-flash-lite-image, Firebase AI Logic's list of supported models
//! (which names gemini-nano-banana-2.1, Nano Banana 2.1), and for 2.1's
//! sizes the TanStack AI Gemini adapter's release note of 2026-10-07 (the 14
//! ratios at 1K, 2K or 4K; the API refuses 512 on this model).

use msgflux_core::kit::{LoadedRequest, Violations};
use msgflux_core::{Capabilities, ImageFormat, MaskSupport, OptionSpec, OutputSize, ResponseFormat, Size, SizeRule};

use crate::config::MaskHint;

/// The models this crate knows, newest first.
pub const KNOWN_MODELS: &[&str] = &[
    "gemini-nano-banana-2.1",
    "gemini-3.1-flash-image",
    "gemini-3.1-flash-image-preview",
    "gemini-3-pro-image",
    "gemini-3-pro-image-preview",
    "gemini-3.1-flash-lite-image",
    "gemini-2.5-flash-image",
];

/// The model used when none is named: Nano Banana 2.1, the newest.
pub const DEFAULT_MODEL: &str = "gemini-nano-banana-2.1";

/// Option names, as this crate spells them.
pub(crate) mod names {
    /// `imageConfig.aspectRatio`.
    pub const ASPECT_RATIO: &str = "aspect_ratio";
    /// `imageConfig.imageSize`.
    pub const IMAGE_SIZE: &str = "image_size";
}

/// The ten aspect ratios every Gemini image model takes.
const RATIOS: &[&str] = &["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"];
/// Gemini 3.1 Flash Image adds four elongated ones.
const RATIOS_31: &[&str] = &[
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "1:4", "4:1", "1:8", "8:1",
];

/// One model family's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Family {
    /// Most input images (reference images) in one request.
    max_images: usize,
    /// `imageConfig.aspectRatio` values.
    ratios: &'static [&'static str],
    /// `imageConfig.imageSize` values; empty: the model has one resolution (1K) and takes no `imageSize`.
    image_sizes: &'static [&'static str],
}

const FLASH_25: Family = Family {
    max_images: 3,
    ratios: RATIOS,
    image_sizes: &[],
};
const PRO_3: Family = Family {
    max_images: 14,
    ratios: RATIOS,
    image_sizes: &["1K", "2K", "4K"],
};
const FLASH_31: Family = Family {
    max_images: 14,
    ratios: RATIOS_31,
    image_sizes: &["512", "1K", "2K", "4K"],
};
const NANO_BANANA_21: Family = Family {
    max_images: 14,
    ratios: RATIOS_31,
    image_sizes: &["1K", "2K", "4K"],
};
const LITE_31: Family = Family {
    max_images: 14,
    ratios: RATIOS,
    image_sizes: &[],
};

fn family(known: Option<&str>) -> Family {
    match known {
        Some("gemini-2.5-flash-image") => FLASH_25,
        Some("gemini-3.1-flash-image" | "gemini-3.1-flash-image-preview") => FLASH_31,
        Some("gemini-3.1-flash-lite-image") => LITE_31,
        Some("gemini-nano-banana-2.1") => NANO_BANANA_21,
        _ => PRO_3,
    }
}

/// Why a model cannot edit images, for names this crate knows cannot.
///
/// ```
/// assert!(msgflux_google::not_an_edit_model("gemini-2.5-flash").unwrap().contains("-image"));
/// assert!(msgflux_google::not_an_edit_model("imagen-4.0-generate-001").is_some());
/// assert_eq!(msgflux_google::not_an_edit_model("gemini-2.5-flash-image"), None);
/// assert_eq!(msgflux_google::not_an_edit_model("my-tuned-model"), None);
/// ```
pub fn not_an_edit_model(name: &str) -> Option<&'static str> {
    if name.starts_with("imagen-") {
        return Some(
            "is an Imagen model (the :predict endpoint), which takes no input image here; use a Gemini image model such as gemini-nano-banana-2.1",
        );
    }
    if name.starts_with("veo-") {
        return Some("is a video model; use a Gemini image model such as gemini-nano-banana-2.1");
    }
    if name.starts_with("gemini-") && !name.contains("image") && !name.contains("nano-banana") {
        return Some(
            "returns no images; Gemini's image models are the Nano Banana ones (gemini-nano-banana-2.1) and those ending in -image (gemini-3.1-flash-image, gemini-3-pro-image, gemini-2.5-flash-image)",
        );
    }
    None
}

/// One model's rules: its capability table and the checks the table cannot express.
///
/// Names this crate does not know pass through with Gemini 3 Pro Image's
/// rules, so a model released after this crate still works.
///
/// ```
/// use msgflux_core::MaskSupport;
/// use msgflux_google::{MaskHint, ModelSpec};
/// let spec = ModelSpec::for_model("gemini-2.5-flash-image", None);
/// assert_eq!(spec.capabilities().max_images, 3);
/// assert_eq!(spec.capabilities().mask, MaskSupport::Unsupported);
/// let hinted = ModelSpec::for_model("gemini-2.5-flash-image", Some(MaskHint::Tint));
/// assert_eq!(hinted.capabilities().mask, MaskSupport::Optional);
/// assert_eq!(ModelSpec::for_model("gemini-9-image", None).known_model(), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    name: String,
    known: Option<&'static str>,
    family: Family,
    mask_hint: MaskHint,
    capabilities: Capabilities,
}

impl ModelSpec {
    /// The rules of a model, with the mask sent as a hint or not.
    pub fn for_model(name: &str, mask_hint: Option<MaskHint>) -> Self {
        let known = KNOWN_MODELS.iter().copied().find(|k| *k == name);
        if known.is_none() {
            tracing::debug!(
                model = name,
                "unknown Gemini image model; using Gemini 3 Pro Image's rules"
            );
        }
        let family = family(known);
        let mask_hint = mask_hint.unwrap_or_default();
        let mut capabilities = Capabilities::new()
            .with_max_images(family.max_images)
            .with_input_formats([ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Webp])
            .with_n(1..=8)
            .with_sizes(SizeRule::Any {
                // The long side of the widest picture (21:9) of the largest tier.
                max_side: if family.image_sizes.is_empty() { 1584 } else { 6336 },
            })
            .with_auto_size(true)
            .with_response_formats([ResponseFormat::Url, ResponseFormat::Base64])
            .with_seed(true)
            .with_streaming(false)
            .with_option(OptionSpec::choice(
                names::ASPECT_RATIO,
                family.ratios,
                "imageConfig.aspectRatio: the result's aspect ratio (default: the first input's)",
            ));
        capabilities = match mask_hint {
            MaskHint::None => capabilities.with_mask(MaskSupport::Unsupported),
            MaskHint::Tint | MaskHint::Outline => capabilities
                .with_mask(MaskSupport::Optional)
                .with_mask_formats([ImageFormat::Png, ImageFormat::Webp])
                .with_mask_requires_alpha(true),
        };
        if !family.image_sizes.is_empty() {
            capabilities = capabilities.with_option(OptionSpec::choice(
                names::IMAGE_SIZE,
                family.image_sizes,
                "imageConfig.imageSize: the resolution tier (1K is about 1024 px on the long side)",
            ));
        }
        Self {
            name: name.to_string(),
            known,
            family,
            mask_hint,
            capabilities,
        }
    }

    /// The model name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The known model this name is, if any.
    pub fn known_model(&self) -> Option<&'static str> {
        self.known
    }

    /// What the model accepts.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// How a mask reaches the model.
    pub fn mask_hint(&self) -> MaskHint {
        self.mask_hint
    }

    /// The `imageConfig` a request asks for: `(aspectRatio, imageSize)`,
    /// from the options, else from an exact size. Call after
    /// [`ModelSpec::check_request`] passed.
    pub(crate) fn image_config(&self, request: &LoadedRequest) -> (Option<String>, Option<String>) {
        let option = |name: &str| request.get_option(name).and_then(|v| v.as_str()).map(str::to_string);
        let exact = request.size.and_then(OutputSize::exact);
        let ratio = option(names::ASPECT_RATIO).or_else(|| exact.and_then(|s| self.ratio_of(s)).map(str::to_string));
        let size = option(names::IMAGE_SIZE).or_else(|| exact.and_then(|s| self.tier_of(s)).map(str::to_string));
        (ratio, size)
    }

    /// The model's aspect ratio that `size` has (within 1%).
    fn ratio_of(&self, size: Size) -> Option<&'static str> {
        let wanted = f64::from(size.width) / f64::from(size.height.max(1));
        self.family.ratios.iter().copied().find(|ratio| {
            let (w, h) = ratio.split_once(':').unwrap_or(("1", "1"));
            let value = w.parse::<f64>().unwrap_or(1.0) / h.parse::<f64>().unwrap_or(1.0);
            (value - wanted).abs() / value <= 0.01
        })
    }

    /// The smallest resolution tier that makes an exact size (`None` for
    /// one-tier models, which take no `imageSize`; the table caps their size).
    fn tier_of(&self, size: Size) -> Option<&'static str> {
        let long = size.width.max(size.height);
        // The long side of a tier's widest picture (21:9 at 1K is 1584x672).
        let tiers: [(&str, u32); 4] = [("512", 792), ("1K", 1584), ("2K", 3168), ("4K", 6336)];
        let sizes = self.family.image_sizes;
        tiers
            .iter()
            .find(|(name, max)| sizes.contains(name) && long <= *max)
            .map(|(name, _)| *name)
    }

    /// The rules the capability table cannot express, recorded before
    /// anything is sent (all of them).
    pub(crate) fn check_request(&self, request: &LoadedRequest, vertex: bool, violations: &mut Violations) {
        let option = |name: &str| request.get_option(name).and_then(|v| v.as_str());
        if let Some(OutputSize::Exact(size)) = request.size {
            match self.ratio_of(size) {
                None => violations.push(
                    "size",
                    format!(
                        "{size} has no aspect ratio Gemini makes; this model makes {} (choose a size of one of them, or the aspect_ratio option)",
                        self.family.ratios.join(", ")
                    ),
                ),
                Some(ratio) => {
                    if let Some(asked) = option(names::ASPECT_RATIO)
                        && asked != ratio
                    {
                        violations.push(
                            format!("option {}", names::ASPECT_RATIO),
                            format!("{asked} contradicts size {size} ({ratio}); give one of them"),
                        );
                    }
                }
            }
            if let (Some(tier), Some(asked)) = (self.tier_of(size), option(names::IMAGE_SIZE))
                && asked != tier
            {
                violations.push(
                    format!("option {}", names::IMAGE_SIZE),
                    format!("{asked} contradicts size {size} ({tier}); give one of them"),
                );
            }
        }
        if self.mask_hint != MaskHint::None && request.mask.is_some() && request.images.len() >= self.family.max_images
        {
            violations.push(
                "image",
                format!(
                    "{} images given; with mask_hint the mask goes as one more image and this model takes at most {}, so give at most {}",
                    request.images.len(),
                    self.family.max_images,
                    self.family.max_images - 1
                ),
            );
        }
        if vertex {
            for (i, image) in request.images.iter().enumerate() {
                if image.bytes.len() as u64 > VERTEX_INLINE_LIMIT {
                    violations.push(
                        msgflux_core::kit::image_param(i, request.images.len()),
                        format!(
                            "is {} bytes; Vertex AI takes inline images of at most 7 MB and msgflux does not upload to Cloud Storage (use prepare, or the Gemini API, whose Files API takes larger files)",
                            image.bytes.len()
                        ),
                    );
                }
            }
        }
    }
}

/// Vertex AI's largest inline image (7 MB).
pub(crate) const VERTEX_INLINE_LIMIT: u64 = 7 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_map_to_the_ratio_and_tier() {
        let spec = ModelSpec::for_model("gemini-3-pro-image-preview", None);
        assert_eq!(spec.ratio_of(Size::new(1536, 1024)), Some("3:2"));
        assert_eq!(spec.tier_of(Size::new(1536, 1024)), Some("1K"));
        assert_eq!(spec.tier_of(Size::new(2048, 2048)), Some("2K"));
        assert_eq!(spec.tier_of(Size::new(4096, 4096)), Some("4K"));
        assert_eq!(spec.ratio_of(Size::new(1000, 300)), None);
    }

    #[test]
    fn one_tier_models_send_no_image_size() {
        let spec = ModelSpec::for_model("gemini-2.5-flash-image", None);
        assert_eq!(spec.tier_of(Size::new(1024, 1024)), None);
        assert_eq!(spec.capabilities().sizes, SizeRule::Any { max_side: 1584 });
    }

    #[test]
    fn flash_31_has_the_512_tier_and_elongated_ratios() {
        let spec = ModelSpec::for_model("gemini-3.1-flash-image", None);
        assert_eq!(spec.tier_of(Size::new(512, 512)), Some("512"));
        assert_eq!(spec.ratio_of(Size::new(400, 3200)), Some("1:8"));
    }

    #[test]
    fn every_known_model_is_an_edit_model() {
        for model in KNOWN_MODELS {
            assert_eq!(not_an_edit_model(model), None, "{model}");
        }
    }
}
