//! The capability table: what each OpenAI image model accepts, as data
//! (read by `msgflux_core::Capabilities::check`), plus the few rules that
//! table cannot express ([`ModelSpec::check_request`]).

use std::io::Cursor;

use msgflux_core::kit::{LoadedRequest, Violations};
use msgflux_core::{
    Capabilities, Error, ImageFormat, LoadedImage, MaskSupport, OptionSpec, OutputSize, ResponseFormat, Result, Size,
    SizeRule,
};

use crate::options::names;

/// The models this crate knows, in the order listings show them.
pub const KNOWN_MODELS: &[&str] = &[
    "dall-e-2",
    "gpt-image-1",
    "gpt-image-1-mini",
    "gpt-image-1.5",
    "gpt-image-2",
    "chatgpt-image-latest",
];

/// OpenAI models that do not edit images, with the reason given when one is
/// asked for: refused before anything is sent, instead of an API error
/// after a paid round trip.
const NOT_EDIT_MODELS: &[(&str, &str)] = &[
    (
        "dall-e-3",
        "dall-e-3 only generates new images; OpenAI's edit endpoint takes dall-e-2 and the gpt-image models (gpt-image-1.5 is the default)",
    ),
    (
        "gpt-4o",
        "is a chat model; images/edits takes dall-e-2 and the gpt-image models",
    ),
    (
        "gpt-4.1",
        "is a chat model; images/edits takes dall-e-2 and the gpt-image models",
    ),
    (
        "gpt-5",
        "is a chat model; images/edits takes dall-e-2 and the gpt-image models",
    ),
    (
        "sora",
        "is a video model; images/edits takes dall-e-2 and the gpt-image models",
    ),
];

/// Why a model cannot edit images, when it is a known OpenAI model that
/// cannot (`dall-e-3`, chat and video models, and their dated snapshots).
///
/// ```
/// assert!(msgflux_openai::not_an_edit_model("dall-e-3").unwrap().contains("dall-e-2"));
/// assert!(msgflux_openai::not_an_edit_model("gpt-4o-2024-08-06").is_some());
/// assert_eq!(msgflux_openai::not_an_edit_model("gpt-image-1"), None);
/// assert_eq!(msgflux_openai::not_an_edit_model("my-local-model"), None);
/// ```
pub fn not_an_edit_model(name: &str) -> Option<&'static str> {
    NOT_EDIT_MODELS
        .iter()
        .find(|(model, _)| name == *model || name.strip_prefix(model).is_some_and(|rest| rest.starts_with('-')))
        .map(|(_, reason)| *reason)
}

/// The model used when none is named: the API's own default for edits.
pub const DEFAULT_MODEL: &str = "gpt-image-1.5";

const MB: u64 = 1024 * 1024;
/// dall-e-2 inputs, and every mask, must be at most 4 MB.
pub(crate) const SMALL_FILE_LIMIT: u64 = 4 * MB;
/// GPT image model inputs must be at most 50 MB each.
const GPT_FILE_LIMIT: u64 = 50 * MB;
/// gpt-image-2's largest output, in pixels (3840x2160).
const GPT_IMAGE_2_MAX_PIXELS: u64 = 3840 * 2160;
/// gpt-image-2's most elongated output (3:1 either way).
const GPT_IMAGE_2_MAX_ASPECT: u32 = 3;

/// The two API families: they differ in inputs, outputs and options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModelFamily {
    /// `dall-e-2`: one square RGBA PNG under 4 MB, URL or base64 results.
    DallE2,
    /// `gpt-image-*` and `chatgpt-image-latest`: up to 16 PNG/WebP/JPEG
    /// inputs, base64 results, token usage, streaming.
    GptImage,
}

/// One model's rules: its capability table and the checks the table cannot express.
///
/// Dated snapshots (`gpt-image-2-2026-04-21`) follow their base model. Names
/// this crate does not know pass through with the GPT image defaults, so a
/// model released after this crate still works.
///
/// ```
/// use msgflux_openai::{ModelFamily, ModelSpec};
/// let spec = ModelSpec::for_model("dall-e-2");
/// assert_eq!(spec.family(), ModelFamily::DallE2);
/// assert_eq!(spec.capabilities().max_images, 1);
/// assert_eq!(ModelSpec::for_model("gpt-image-2-2026-04-21").known_model(), Some("gpt-image-2"));
/// assert_eq!(ModelSpec::for_model("gpt-image-9").family(), ModelFamily::GptImage);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    name: String,
    known: Option<&'static str>,
    family: ModelFamily,
    capabilities: Capabilities,
}

impl ModelSpec {
    /// The rules of a model, by API name.
    pub fn for_model(name: &str) -> Self {
        let known = known_model(name);
        if known.is_none() {
            tracing::debug!(
                model = name,
                "unknown OpenAI image model; using the GPT image model defaults"
            );
        }
        let family = match known {
            Some("dall-e-2") => ModelFamily::DallE2,
            _ => ModelFamily::GptImage,
        };
        let capabilities = match family {
            ModelFamily::DallE2 => dall_e_2(),
            ModelFamily::GptImage => gpt_image(known.unwrap_or("")),
        };
        Self {
            name: name.to_string(),
            known,
            family,
            capabilities,
        }
    }

    /// The model name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The known model this name is (or is a dated snapshot of), if any.
    pub fn known_model(&self) -> Option<&'static str> {
        self.known
    }

    /// The API family.
    pub fn family(&self) -> ModelFamily {
        self.family
    }

    /// What the model accepts.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The rules the capability table cannot express, recorded before
    /// anything is sent (all of them, not only the first).
    pub(crate) fn check_request(&self, request: &LoadedRequest, violations: &mut Violations) -> Result<()> {
        if let Some(mask) = &request.mask
            && mask.bytes.len() as u64 > SMALL_FILE_LIMIT
        {
            violations.push(
                "mask",
                format!("is {} bytes; the mask must be at most 4 MB", mask.bytes.len()),
            );
        }
        let option_text = |name: &str| request.get_option(name).and_then(|v| v.as_str());
        let output_format = option_text(names::OUTPUT_FORMAT).unwrap_or("png");
        if request.get_option(names::OUTPUT_COMPRESSION).is_some() && !matches!(output_format, "jpeg" | "webp") {
            violations.push(
                format!("option {}", names::OUTPUT_COMPRESSION),
                format!("only applies to jpeg or webp output; output_format is {output_format}"),
            );
        }
        if option_text(names::BACKGROUND) == Some("transparent") && output_format == "jpeg" {
            violations.push(
                format!("option {}", names::BACKGROUND),
                "transparent needs output_format png or webp (JPEG has no alpha channel)",
            );
        }
        if request.get_option(names::PARTIAL_IMAGES).is_some() && !request.streaming {
            violations.push(
                format!("option {}", names::PARTIAL_IMAGES),
                "partial images only exist in a streamed edit; use Model::stream (or EditBuilder::stream)",
            );
        }
        if let (Some(OutputSize::Exact(size)), Some("gpt-image-2")) = (request.size, self.known) {
            check_gpt_image_2_size(size, violations);
        }
        if self.family == ModelFamily::DallE2 {
            // The capability table already allows a single image only.
            if let Some(image) = request.images.first().filter(|i| i.format == ImageFormat::Png) {
                check_dall_e_2_image(image, request.mask.is_none(), violations)?;
            }
        }
        Ok(())
    }
}

/// The known model `name` is, or is a dated snapshot of (`NAME-YYYY-MM-DD`).
fn known_model(name: &str) -> Option<&'static str> {
    KNOWN_MODELS
        .iter()
        .copied()
        .filter(|known| {
            name == *known
                || name
                    .strip_prefix(known)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(is_date)
        })
        .max_by_key(|known| known.len())
}

fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&parts)
            .all(|(len, part)| part.len() == *len && part.bytes().all(|b| b.is_ascii_digit()))
}

fn user_option() -> OptionSpec {
    OptionSpec::text(names::USER, "an end-user id that helps OpenAI monitor and detect abuse")
}

fn dall_e_2() -> Capabilities {
    Capabilities::new()
        .with_max_prompt_chars(1000)
        .with_max_images(1)
        .with_input_formats([ImageFormat::Png])
        .with_max_input_bytes(SMALL_FILE_LIMIT)
        .with_square_input(true)
        .with_mask(MaskSupport::Optional)
        .with_mask_formats([ImageFormat::Png])
        .with_mask_requires_alpha(true)
        .with_n(1..=10)
        .with_sizes(SizeRule::OneOf(vec![
            Size::square(256),
            Size::square(512),
            Size::square(1024),
        ]))
        .with_auto_size(false)
        .with_response_formats([ResponseFormat::Url, ResponseFormat::Base64])
        .with_streaming(false)
        .with_option(OptionSpec::choice(
            names::QUALITY,
            &["standard"],
            "rendering quality (dall-e-2 has only standard)",
        ))
        .with_option(user_option())
}

fn gpt_image(known: &str) -> Capabilities {
    let sizes = if known == "gpt-image-2" {
        SizeRule::MultipleOf {
            step: 16,
            min: 16,
            max: 3840,
        }
    } else {
        SizeRule::OneOf(vec![
            Size::new(1024, 1024),
            Size::new(1536, 1024),
            Size::new(1024, 1536),
        ])
    };
    let mut caps = Capabilities::new()
        .with_max_prompt_chars(32_000)
        .with_max_images(16)
        .with_input_formats([ImageFormat::Png, ImageFormat::Webp, ImageFormat::Jpeg])
        .with_max_input_bytes(GPT_FILE_LIMIT)
        .with_mask(MaskSupport::Optional)
        .with_mask_formats([ImageFormat::Png])
        .with_mask_requires_alpha(true)
        .with_n(1..=10)
        .with_sizes(sizes)
        .with_response_formats([ResponseFormat::Url, ResponseFormat::Base64])
        .with_streaming(true)
        .with_option(OptionSpec::choice(
            names::QUALITY,
            &["low", "medium", "high", "auto"],
            "rendering quality; higher costs more output tokens",
        ))
        .with_option(OptionSpec::choice(
            names::BACKGROUND,
            &["transparent", "opaque", "auto"],
            "background of the result; transparent needs png or webp output",
        ))
        .with_option(OptionSpec::choice(
            names::OUTPUT_FORMAT,
            &["png", "jpeg", "webp"],
            "file format of the result (default png)",
        ))
        .with_option(OptionSpec::integer(
            names::OUTPUT_COMPRESSION,
            0..=100,
            "compression level in percent, for jpeg or webp output",
        ))
        .with_option(OptionSpec::integer(
            names::PARTIAL_IMAGES,
            0..=3,
            "partial images to stream before the final one (streamed edits only)",
        ))
        .with_option(user_option());
    if known != "gpt-image-1-mini" {
        caps = caps.with_option(OptionSpec::choice(
            names::INPUT_FIDELITY,
            &["high", "low"],
            "how closely to keep the input's details and faces (high costs more input tokens)",
        ));
    }
    caps
}

fn check_gpt_image_2_size(size: Size, violations: &mut Violations) {
    let (long, short) = (size.width.max(size.height), size.width.min(size.height));
    if long > short.saturating_mul(GPT_IMAGE_2_MAX_ASPECT) {
        violations.push(
            "size",
            format!("{size} is more elongated than 3:1; gpt-image-2 accepts aspect ratios from 1:3 to 3:1"),
        );
    }
    let pixels = u64::from(size.width) * u64::from(size.height);
    if pixels > GPT_IMAGE_2_MAX_PIXELS {
        violations.push(
            "size",
            format!(
                "{size} has {pixels} pixels; gpt-image-2 produces at most 3840x2160 ({GPT_IMAGE_2_MAX_PIXELS} pixels)"
            ),
        );
    }
}

/// The pixel layout of an image file, read from its header.
pub(crate) fn colour_type(image: &LoadedImage) -> Result<image::ColorType> {
    let reader = image::ImageReader::with_format(Cursor::new(&image.bytes[..]), image.format.to_image_format());
    let decoder = reader.into_decoder().map_err(|e| Error::decode("image", e))?;
    Ok(image::ImageDecoder::color_type(&decoder))
}

/// Whether dall-e-2 accepts these pixels: RGBA, LA or L (not RGB).
pub(crate) fn dall_e_2_reads_colour(colour: image::ColorType) -> bool {
    use image::ColorType::{L8, L16, La8, La16, Rgba8, Rgba16};
    matches!(colour, Rgba8 | Rgba16 | La8 | La16 | L8 | L16)
}

/// dall-e-2 reads the image's alpha channel: it needs RGBA (or grey) pixels,
/// and without a mask its transparent pixels are the area to edit.
fn check_dall_e_2_image(image: &LoadedImage, without_mask: bool, violations: &mut Violations) -> Result<()> {
    let colour = colour_type(image)?;
    if !dall_e_2_reads_colour(colour) {
        violations.push(
            "image",
            format!(
                "is a {colour:?} PNG; dall-e-2 needs RGBA (or grey) pixels: add an alpha channel, or set prepare to convert it"
            ),
        );
        return Ok(());
    }
    if without_mask {
        let has_transparency = image.has_alpha && image.decode()?.to_rgba8().pixels().any(|p| p[3] == 0);
        if !has_transparency {
            violations.push(
                "image",
                "has no transparent pixels and there is no mask; dall-e-2 edits where alpha is 0, so give a mask or make the area to edit transparent",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_snapshots_follow_their_base_model() {
        assert_eq!(known_model("gpt-image-1.5-2025-12-16"), Some("gpt-image-1.5"));
        assert_eq!(known_model("gpt-image-1-mini"), Some("gpt-image-1-mini"));
        assert_eq!(known_model("gpt-image-1-2025-04-23"), Some("gpt-image-1"));
        assert_eq!(known_model("gpt-image-1-turbo"), None);
        assert_eq!(known_model("dall-e-3"), None);
    }

    #[test]
    fn gpt_image_1_mini_does_not_take_input_fidelity() {
        let mini = ModelSpec::for_model("gpt-image-1-mini");
        assert!(mini.capabilities().option("input_fidelity").is_none());
        assert!(
            ModelSpec::for_model("gpt-image-1")
                .capabilities()
                .option("input_fidelity")
                .is_some()
        );
    }

    #[test]
    fn gpt_image_2_takes_arbitrary_multiples_of_16() {
        let caps = ModelSpec::for_model("gpt-image-2").capabilities().clone();
        assert!(matches!(caps.sizes, SizeRule::MultipleOf { step: 16, .. }));
        for size in [Size::new(1536, 864), Size::new(3840, 2160)] {
            let mut violations = Violations::new();
            check_gpt_image_2_size(size, &mut violations);
            assert!(violations.is_empty(), "{size}: {violations:?}");
        }
    }

    #[test]
    fn gpt_image_2_refuses_sizes_beyond_3_to_1() {
        let mut violations = Violations::new();
        check_gpt_image_2_size(Size::new(3200, 1024), &mut violations);
        let err = violations.into_result().expect_err("too wide");
        assert!(err.to_string().contains("3:1"), "{err}");
    }

    #[test]
    fn gpt_image_2_refuses_more_than_3840x2160_pixels() {
        let mut violations = Violations::new();
        check_gpt_image_2_size(Size::new(3840, 2400), &mut violations);
        let err = violations.into_result().expect_err("too many pixels");
        assert!(err.to_string().contains("3840x2160"), "{err}");
    }

    #[test]
    fn unknown_models_get_the_gpt_defaults() {
        let spec = ModelSpec::for_model("my-local-model");
        assert_eq!(spec.family(), ModelFamily::GptImage);
        assert_eq!(spec.known_model(), None);
        assert_eq!(spec.capabilities().max_images, 16);
        assert!(spec.capabilities().streaming);
    }

    #[test]
    fn dall_e_2_accepts_only_square_pngs_under_4_mb() {
        let caps = ModelSpec::for_model("dall-e-2").capabilities().clone();
        assert!(caps.square_input);
        assert_eq!(caps.input_formats, vec![ImageFormat::Png]);
        assert_eq!(caps.max_input_bytes, Some(4 * MB));
        assert_eq!(caps.max_prompt_chars, Some(1000));
        assert!(!caps.streaming);
    }
}
