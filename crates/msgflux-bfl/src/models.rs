//! What each model accepts, as data: one capability table per model.
//!
//! Source (read 2026-12-01): BFL's OpenAPI document (`api.bfl.ai/openapi.json`,
//! `info.version` 0.0.1, the copy of 2026-04-23 committed with the emulator),
//! its request schemas `FluxKontextProInputs`, `FluxProFillInputs`,
//! `FluxProExpandInputs`, `Flux2Inputs`, `Flux2FlexInputs` and
//! `Flux2KleinInputs`; and docs.bfl.ai's "Image editing" overview for the
//! reference images each FLUX.2 model takes through the API (max, pro and
//! flex up to 8, klein up to 4), the 9 MP total input and the 4 MP output.

use msgflux_core::{Capabilities, ImageFormat, MaskConvention, MaskSupport, OptionSpec, ResponseFormat, SizeRule};

/// The models this crate knows, as `bfl/<model>` takes them.
///
/// ```
/// assert!(msgflux_bfl::BUILTIN_MODELS.contains(&"flux-2-pro"));
/// assert!(msgflux_bfl::BUILTIN_MODELS.contains(&"flux-pro-1.0-fill"));
/// ```
pub const BUILTIN_MODELS: &[&str] = &[
    "flux-kontext-pro",
    "flux-kontext-max",
    "flux-pro-1.0-fill",
    "flux-pro-1.0-expand",
    "flux-2-pro",
    "flux-2-max",
    "flux-2-flex",
    "flux-2-pro-preview",
    "flux-2-klein-4b",
    "flux-2-klein-9b",
    "flux-2-klein-9b-preview",
];

/// How a model family takes its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// FLUX.1 Kontext: prompt-driven edits of `input_image` (plus up to 3 experimental references).
    Kontext,
    /// FLUX.1 Fill \[pro\]: `image` + `mask` (white = repaint).
    Fill,
    /// FLUX.1 Expand \[pro\]: `image` + pixels to add on each side.
    Expand,
    /// FLUX.2: prompt + `input_image`..`input_image_N`, `width`/`height`.
    Flux2,
}

/// One model's entry in the table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ModelSpec {
    /// The model id (also the endpoint: `POST /v1/{id}`).
    pub(crate) id: &'static str,
    pub(crate) family: Family,
    /// Input images the API takes.
    pub(crate) max_images: usize,
    /// Largest `safety_tolerance` (0 is the strictest).
    pub(crate) max_safety: i64,
    /// Whether the body takes `steps`, `guidance` and `prompt_upsampling` (Fill, Expand, FLUX.2 [flex]).
    pub(crate) tuning: bool,
}

/// Requests BFL runs in parallel for one call with `n` > 1: each task returns one image.
pub(crate) const MAX_N: u32 = 4;

/// Largest FLUX.2 output, in pixels (4 MP).
pub(crate) const FLUX2_MAX_OUTPUT_PIXELS: u64 = 4 * 1024 * 1024;

/// Largest total of FLUX.2 input images, in pixels (9 MP).
pub(crate) const FLUX2_MAX_INPUT_PIXELS: u64 = 9 * 1024 * 1024;

/// Most pixels Expand adds on one side.
pub(crate) const EXPAND_MAX_SIDE: i64 = 2048;

const TABLE: &[ModelSpec] = &[
    kontext("flux-kontext-pro"),
    kontext("flux-kontext-max"),
    ModelSpec {
        id: "flux-pro-1.0-fill",
        family: Family::Fill,
        max_images: 1,
        max_safety: 6,
        tuning: true,
    },
    ModelSpec {
        id: "flux-pro-1.0-expand",
        family: Family::Expand,
        max_images: 1,
        max_safety: 6,
        tuning: true,
    },
    flux2("flux-2-pro", 8, false),
    flux2("flux-2-max", 8, false),
    flux2("flux-2-flex", 8, true),
    flux2("flux-2-pro-preview", 8, false),
    flux2("flux-2-klein-4b", 4, false),
    flux2("flux-2-klein-9b", 4, false),
    flux2("flux-2-klein-9b-preview", 4, false),
];

const fn kontext(id: &'static str) -> ModelSpec {
    ModelSpec {
        id,
        family: Family::Kontext,
        max_images: 4,
        max_safety: 6,
        tuning: false,
    }
}

const fn flux2(id: &'static str, max_images: usize, tuning: bool) -> ModelSpec {
    ModelSpec {
        id,
        family: Family::Flux2,
        max_images,
        max_safety: 5,
        tuning,
    }
}

/// The table entry of a model id.
pub(crate) fn spec(model: &str) -> Option<ModelSpec> {
    TABLE.iter().copied().find(|m| m.id == model)
}

impl ModelSpec {
    /// The model's capability table.
    pub(crate) fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::new()
            .with_max_images(self.max_images)
            .with_input_formats([ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Webp])
            .with_n(1..=MAX_N)
            .with_seed(true)
            .with_response_formats([ResponseFormat::Url, ResponseFormat::Base64])
            .with_option(OptionSpec::integer(
                "safety_tolerance",
                0..=self.max_safety,
                "moderation of inputs and output: 0 is the strictest (default 2)",
            ))
            .with_option(OptionSpec::choice(
                "output_format",
                &["jpeg", "png", "webp"],
                "file format of the result",
            ));
        caps = match self.family {
            Family::Kontext => caps
                .with_mask(MaskSupport::Unsupported)
                .with_sizes(SizeRule::InputSize)
                .with_option(OptionSpec::text(
                    "aspect_ratio",
                    "aspect ratio of the result, W:H between 21:9 and 9:21 (default: the input's)",
                )),
            Family::Fill => caps
                .with_mask(MaskSupport::Required)
                .with_mask_formats([ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Webp])
                .with_mask_convention(MaskConvention::WhiteIsEdit)
                .with_sizes(SizeRule::InputSize),
            Family::Expand => ["top", "bottom", "left", "right"].into_iter().fold(
                caps.with_mask(MaskSupport::Optional)
                    .with_mask_formats([ImageFormat::Png, ImageFormat::Webp])
                    .with_mask_requires_alpha(true)
                    .with_sizes(SizeRule::InputSize),
                |caps, side| {
                    caps.with_option(OptionSpec::integer(
                        side,
                        0..=EXPAND_MAX_SIDE,
                        "pixels to add on this side (or give a mask whose edit area is a border)",
                    ))
                },
            ),
            Family::Flux2 => caps
                .with_mask(MaskSupport::Unsupported)
                .with_sizes(SizeRule::MultipleOf {
                    step: 16,
                    min: 64,
                    max: 4096,
                }),
        };
        if self.tuning {
            let (steps, guidance) = match self.family {
                Family::Flux2 => (1..=50, 1.5..=10.0),
                _ => (15..=50, 1.5..=100.0),
            };
            caps = caps
                .with_option(OptionSpec::integer("steps", steps, "denoising steps"))
                .with_option(OptionSpec::number(
                    "guidance",
                    guidance,
                    "how closely to follow the prompt",
                ))
                .with_option(OptionSpec::bool(
                    "prompt_upsampling",
                    "let BFL rewrite the prompt more creatively",
                ));
        } else if self.family == Family::Kontext {
            caps = caps.with_option(OptionSpec::bool(
                "prompt_upsampling",
                "let BFL rewrite the prompt more creatively",
            ));
        }
        caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_model_has_a_table() {
        for id in BUILTIN_MODELS {
            assert!(spec(id).is_some(), "{id}");
        }
        assert_eq!(TABLE.len(), BUILTIN_MODELS.len());
    }

    #[test]
    fn fill_takes_a_white_is_edit_mask_and_flux2_none() {
        let fill = spec("flux-pro-1.0-fill").expect("fill").capabilities();
        assert_eq!(
            (fill.mask, fill.mask_convention),
            (MaskSupport::Required, MaskConvention::WhiteIsEdit)
        );
        let pro = spec("flux-2-pro").expect("pro").capabilities();
        assert_eq!((pro.mask, pro.max_images), (MaskSupport::Unsupported, 8));
        assert_eq!(spec("flux-2-klein-4b").expect("klein").capabilities().max_images, 4);
    }

    #[test]
    fn only_flex_among_flux2_takes_steps_and_guidance() {
        assert!(
            spec("flux-2-flex")
                .expect("flex")
                .capabilities()
                .option("guidance")
                .is_some()
        );
        assert!(
            spec("flux-2-pro")
                .expect("pro")
                .capabilities()
                .option("guidance")
                .is_none()
        );
    }
}
