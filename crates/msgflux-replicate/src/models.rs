//! What each model takes, and how our request (prompt, images, mask, `n`,
//! size, seed, options) maps onto its inputs: the built-in adapter table.
//! The input itself is built in `input.rs`.
//!
//! Each model names its inputs differently (`image`, `input_image`, an
//! `image_input` array; `num_outputs` or no count at all). A [`ModelAdapter`]
//! records those names, the model's mask convention and its capability table.
//! Models outside the table get an adapter read from their published schema
//! (see `schema.rs`).

use std::collections::BTreeMap;

use msgflux_core::{Capabilities, ImageFormat, MaskConvention, MaskSupport, OptionSpec, ResponseFormat, SizeRule};
use serde_json::Value;

/// Models with a built-in adapter (`replicate/` + one of these is a model id).
///
/// ```
/// assert!(msgflux_replicate::BUILTIN_MODELS.contains(&"stability-ai/stable-diffusion-inpainting"));
/// ```
pub const BUILTIN_MODELS: &[&str] = &[
    "stability-ai/stable-diffusion-inpainting",
    "black-forest-labs/flux-fill-pro",
    "black-forest-labs/flux-fill-dev",
    "black-forest-labs/flux-kontext-pro",
    "google/nano-banana",
];

/// The largest input the files API takes (100 MB), which bounds every model.
pub(crate) const MAX_INPUT_BYTES: u64 = 100 * 1024 * 1024;

/// How a model takes its input images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ImageField {
    /// One image under this name.
    Single(String),
    /// A list of images under this name.
    List(String),
}

impl ImageField {
    pub(crate) fn name(&self) -> &str {
        match self {
            Self::Single(name) | Self::List(name) => name,
        }
    }
}

/// The JSON type an option is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonType {
    Integer,
    Number,
    Boolean,
    String,
}

/// How an option's value is sent, and which values the schema allows when it lists them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OptionField {
    pub(crate) json: JsonType,
    pub(crate) allowed: Option<Vec<Value>>,
}

/// The input that sets how many images one prediction makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CountField {
    pub(crate) name: String,
    /// Most images per prediction; more are spread over several predictions.
    pub(crate) max: u32,
}

/// The seed input, with the largest seed the schema accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeedField {
    pub(crate) name: String,
    pub(crate) max: Option<u64>,
}

/// Where a model's adapter came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AdapterSource {
    BuiltIn,
    Schema,
}

impl AdapterSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::BuiltIn => "built-in",
            Self::Schema => "schema",
        }
    }
}

/// One model's input names, mask convention and capabilities.
#[derive(Debug, Clone)]
pub(crate) struct ModelAdapter {
    /// `owner/name`.
    pub(crate) model: String,
    /// Whether the model runs through the official-model route (no version needed).
    pub(crate) official: bool,
    pub(crate) source: AdapterSource,
    pub(crate) prompt: Option<String>,
    pub(crate) image: ImageField,
    pub(crate) mask: Option<String>,
    pub(crate) count: Option<CountField>,
    pub(crate) seed: Option<SeedField>,
    /// Width and height inputs.
    pub(crate) size: Option<(String, String)>,
    /// How each provider option is sent.
    pub(crate) options: BTreeMap<String, OptionField>,
    /// Inputs the model requires that no request field fills (they must come as options).
    pub(crate) required: Vec<String>,
    pub(crate) capabilities: Capabilities,
}

impl ModelAdapter {
    /// An adapter with the capabilities every Replicate model shares; the
    /// `with_*` methods add the rest.
    pub(crate) fn new(model: &str, official: bool, source: AdapterSource, image: ImageField) -> Self {
        let max_images = match image {
            ImageField::Single(_) => 1,
            ImageField::List(_) => 10,
        };
        Self {
            model: model.to_string(),
            official,
            source,
            prompt: None,
            image,
            mask: None,
            count: None,
            seed: None,
            size: None,
            options: BTreeMap::new(),
            required: Vec::new(),
            capabilities: Capabilities::new()
                .with_max_images(max_images)
                .with_input_formats([ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Webp, ImageFormat::Gif])
                .with_max_input_bytes(MAX_INPUT_BYTES)
                .with_mask(MaskSupport::Unsupported)
                .with_n(1..=10)
                .with_sizes(SizeRule::InputSize)
                .with_response_formats([ResponseFormat::Url, ResponseFormat::Base64]),
        }
    }

    pub(crate) fn with_prompt(mut self, name: &str) -> Self {
        self.prompt = Some(name.to_string());
        self
    }

    /// A mask input in the model's `convention`. Our masks carry the edit area
    /// in their alpha channel, so one without alpha is refused before sending.
    pub(crate) fn with_mask(mut self, name: &str, convention: MaskConvention, support: MaskSupport) -> Self {
        self.mask = Some(name.to_string());
        self.capabilities = self
            .capabilities
            .with_mask(support)
            .with_mask_convention(convention)
            .with_mask_requires_alpha(true);
        self
    }

    pub(crate) fn with_count(mut self, name: &str, max: u32) -> Self {
        self.count = Some(CountField {
            name: name.to_string(),
            max: max.max(1),
        });
        self
    }

    pub(crate) fn with_seed(mut self, name: &str, max: Option<u64>) -> Self {
        self.seed = Some(SeedField {
            name: name.to_string(),
            max,
        });
        self.capabilities = self.capabilities.with_seed(true);
        self
    }

    pub(crate) fn with_size(mut self, width: &str, height: &str, rule: SizeRule) -> Self {
        self.size = Some((width.to_string(), height.to_string()));
        self.capabilities = self.capabilities.with_sizes(rule);
        self
    }

    pub(crate) fn with_max_images(mut self, max: usize) -> Self {
        self.capabilities = self.capabilities.with_max_images(max);
        self
    }

    pub(crate) fn with_option(mut self, spec: OptionSpec, field: OptionField) -> Self {
        self.options.insert(spec.name.clone(), field);
        self.capabilities = self.capabilities.with_option(spec);
        self
    }

    pub(crate) fn with_required(mut self, name: &str) -> Self {
        self.required.push(name.to_string());
        self
    }

    /// Most images one prediction makes.
    pub(crate) fn per_prediction_max(&self) -> u32 {
        self.count.as_ref().map_or(1, |c| c.max)
    }

    /// The mask convention the model reads.
    pub(crate) fn mask_convention(&self) -> MaskConvention {
        self.capabilities.mask_convention
    }
}

fn typed(json: JsonType) -> OptionField {
    OptionField { json, allowed: None }
}

/// The built-in adapter of `owner/name`, if there is one. The input names,
/// ranges and choices follow each model's published input schema.
pub(crate) fn builtin(model: &str) -> Option<ModelAdapter> {
    use JsonType::{Boolean, Integer, Number, String as Text};
    use MaskConvention::WhiteIsEdit;
    let single = |name: &str| ImageField::Single(name.to_string());
    let adapter = match model {
        // A community model: it runs through a version (the latest one unless pinned).
        "stability-ai/stable-diffusion-inpainting" => {
            ModelAdapter::new(model, false, AdapterSource::BuiltIn, single("image"))
                .with_prompt("prompt")
                .with_mask("mask", WhiteIsEdit, MaskSupport::Required)
                .with_count("num_outputs", 4)
                .with_seed("seed", None)
                .with_size(
                    "width",
                    "height",
                    SizeRule::MultipleOf {
                        step: 64,
                        min: 64,
                        max: 1024,
                    },
                )
                .with_option(
                    OptionSpec::text("negative_prompt", "what should not appear"),
                    typed(Text),
                )
                .with_option(
                    OptionSpec::integer("num_inference_steps", 1..=500, "denoising steps (default 50)"),
                    typed(Integer),
                )
                .with_option(
                    OptionSpec::number("guidance_scale", 1.0..=20.0, "classifier-free guidance (default 7.5)"),
                    typed(Number),
                )
                .with_option(
                    OptionSpec::choice(
                        "scheduler",
                        &[
                            "DDIM",
                            "K_EULER",
                            "DPMSolverMultistep",
                            "K_EULER_ANCESTRAL",
                            "PNDM",
                            "KLMS",
                        ],
                        "sampler (default DPMSolverMultistep)",
                    ),
                    typed(Text),
                )
                .with_option(
                    OptionSpec::bool("disable_safety_checker", "turn the NSFW filter off (API only)"),
                    typed(Boolean),
                )
        }
        "black-forest-labs/flux-fill-pro" => ModelAdapter::new(model, true, AdapterSource::BuiltIn, single("image"))
            .with_prompt("prompt")
            .with_mask("mask", WhiteIsEdit, MaskSupport::Required)
            .with_seed("seed", None)
            .with_option(
                OptionSpec::integer("steps", 1..=50, "diffusion steps (default 50)"),
                typed(Integer),
            )
            .with_option(
                OptionSpec::number(
                    "guidance",
                    2.0..=5.0,
                    "prompt adherence against image quality (default 3)",
                ),
                typed(Number),
            )
            .with_option(
                OptionSpec::choice(
                    "outpaint",
                    &[
                        "None",
                        "Zoom out 1.5x",
                        "Zoom out 2x",
                        "Make square",
                        "Left outpaint",
                        "Right outpaint",
                        "Top outpaint",
                        "Bottom outpaint",
                    ],
                    "quick outpainting (the mask is then ignored)",
                ),
                typed(Text),
            )
            .with_option(
                OptionSpec::integer(
                    "safety_tolerance",
                    1..=6,
                    "1 is most strict, 6 most permissive (default 2)",
                ),
                typed(Integer),
            )
            .with_option(
                OptionSpec::bool("prompt_upsampling", "let the model rewrite the prompt"),
                typed(Boolean),
            )
            .with_option(
                OptionSpec::choice("output_format", &["jpg", "png"], "output file format"),
                typed(Text),
            ),
        "black-forest-labs/flux-fill-dev" => ModelAdapter::new(model, true, AdapterSource::BuiltIn, single("image"))
            .with_prompt("prompt")
            .with_mask("mask", WhiteIsEdit, MaskSupport::Required)
            .with_count("num_outputs", 4)
            .with_seed("seed", None)
            .with_option(
                OptionSpec::integer("num_inference_steps", 1..=50, "denoising steps (default 28)"),
                typed(Integer),
            )
            .with_option(
                OptionSpec::number("guidance", 0.0..=100.0, "guidance (default 30)"),
                typed(Number),
            )
            .with_option(
                OptionSpec::choice(
                    "megapixels",
                    &["1", "match_input"],
                    "output size: about 1 MP, or the input's size",
                ),
                typed(Text),
            )
            .with_option(
                OptionSpec::choice("output_format", &["webp", "jpg", "png"], "output file format"),
                typed(Text),
            )
            .with_option(
                OptionSpec::integer("output_quality", 0..=100, "JPEG/WebP quality (default 80)"),
                typed(Integer),
            )
            .with_option(
                OptionSpec::bool("disable_safety_checker", "turn the safety checker off"),
                typed(Boolean),
            )
            .with_option(OptionSpec::text("lora_weights", "LoRA weights to load"), typed(Text))
            .with_option(
                OptionSpec::number("lora_scale", -1.0..=3.0, "LoRA strength (default 1)"),
                typed(Number),
            ),
        // Instruction editing: no mask. A mask given is refused before anything is sent.
        "black-forest-labs/flux-kontext-pro" => {
            ModelAdapter::new(model, true, AdapterSource::BuiltIn, single("input_image"))
                .with_prompt("prompt")
                .with_seed("seed", None)
                .with_option(
                    OptionSpec::choice(
                        "aspect_ratio",
                        &[
                            "match_input_image",
                            "1:1",
                            "16:9",
                            "9:16",
                            "4:3",
                            "3:4",
                            "3:2",
                            "2:3",
                            "4:5",
                            "5:4",
                            "21:9",
                            "9:21",
                            "2:1",
                            "1:2",
                        ],
                        "aspect ratio of the result (default match_input_image)",
                    ),
                    typed(Text),
                )
                .with_option(
                    OptionSpec::choice("output_format", &["jpg", "png"], "output file format"),
                    typed(Text),
                )
                .with_option(
                    OptionSpec::integer(
                        "safety_tolerance",
                        0..=2,
                        "0 is most strict; 2 is the most allowed with an input image (default 2)",
                    ),
                    typed(Integer),
                )
                .with_option(
                    OptionSpec::bool("prompt_upsampling", "let the model rewrite the prompt"),
                    typed(Boolean),
                )
        }
        "google/nano-banana" => ModelAdapter::new(
            model,
            true,
            AdapterSource::BuiltIn,
            ImageField::List("image_input".into()),
        )
        .with_prompt("prompt")
        .with_max_images(10)
        .with_option(
            OptionSpec::choice(
                "aspect_ratio",
                &[
                    "match_input_image",
                    "1:1",
                    "2:3",
                    "3:2",
                    "3:4",
                    "4:3",
                    "4:5",
                    "5:4",
                    "9:16",
                    "16:9",
                    "21:9",
                ],
                "aspect ratio of the result",
            ),
            typed(Text),
        )
        .with_option(
            OptionSpec::choice("output_format", &["jpg", "png"], "output file format"),
            typed(Text),
        ),
        _ => return None,
    };
    Some(adapter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_model_has_an_adapter() {
        for model in BUILTIN_MODELS {
            let adapter = builtin(model).unwrap_or_else(|| panic!("{model}"));
            assert_eq!(&adapter.model, model);
        }
        assert!(builtin("someone/else").is_none());
    }

    #[test]
    fn kontext_refuses_a_mask_in_its_capabilities() {
        let adapter = builtin("black-forest-labs/flux-kontext-pro").expect("adapter");
        assert_eq!(adapter.capabilities.mask, MaskSupport::Unsupported);
        assert_eq!(adapter.image, ImageField::Single("input_image".into()));
    }

    #[test]
    fn fill_models_want_white_for_the_area_to_repaint() {
        for model in [
            "stability-ai/stable-diffusion-inpainting",
            "black-forest-labs/flux-fill-pro",
            "black-forest-labs/flux-fill-dev",
        ] {
            let adapter = builtin(model).expect("adapter");
            assert_eq!(adapter.mask_convention(), MaskConvention::WhiteIsEdit, "{model}");
            assert!(adapter.capabilities.mask_requires_alpha, "{model}");
        }
    }
}
