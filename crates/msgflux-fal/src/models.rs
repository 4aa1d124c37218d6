//! What each built-in app takes, and how our request (prompt, images, mask,
//! `n`, size, seed, options) maps onto its JSON input: the adapter and
//! capability tables, as data. The input itself is built in `input.rs`;
//! apps outside the table get an adapter read from their schema (`schema.rs`).
//!
//! Source: the per-app input types of fal's official JS client
//! (`libs/client/src/types/endpoints.ts`, fal-ai/fal-js @ 381105e, 2026-08-02),
//! ranges from each app's page on fal.ai (`https://fal.ai/models/<id>/llms.txt`),
//! as summarised in `fal-edit-contract.md` §6; read 2026-12-01.

use std::collections::BTreeMap;

use msgflux_core::{Capabilities, ImageFormat, MaskConvention, MaskSupport, OptionSpec, ResponseFormat, SizeRule};

/// Apps with a built-in adapter (`fal/` + one of these is a model id).
///
/// ```
/// assert!(msgflux_fal::BUILTIN_MODELS.contains(&"fal-ai/flux-pro/v1/fill"));
/// ```
pub const BUILTIN_MODELS: &[&str] = &[
    "fal-ai/flux-pro/kontext",
    "fal-ai/flux-pro/kontext/max",
    "fal-ai/flux-pro/v1/fill",
    "fal-ai/qwen-image-edit",
    "fal-ai/bytedance/seedream/v4/edit",
    "fal-ai/nano-banana/edit",
    "fal-ai/nano-banana-pro/edit",
];

/// The largest input file msgflux sends. fal documents no limit; files
/// above 90 MB go through its multipart upload. (The input loader reads at
/// most 64 MB by default: raise `InputLoader::with_max_bytes` for more.)
pub(crate) const MAX_INPUT_BYTES: u64 = 512 * 1024 * 1024;

/// fal's `ImageSize` bounds each side at 14142 pixels.
pub(crate) const MAX_SIDE: u32 = 14142;

/// How an app takes its input images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ImageField {
    /// One image URL under this name (`image_url`).
    Single(String),
    /// A list of image URLs under this name (`image_urls`).
    List(String),
}

impl ImageField {
    pub(crate) fn name(&self) -> &str {
        match self {
            Self::Single(name) | Self::List(name) => name,
        }
    }
}

/// The JSON type an option is sent as (fal's `safety_tolerance` is a string of a digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonType {
    Integer,
    Number,
    Boolean,
    String,
}

/// A rule of an app that the capability table cannot express; checked before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// An explicit output size must cover at least this many pixels (Seedream: 921,600).
    MinArea(u64),
    /// Input images and output images together at most this many (Seedream: 15).
    MaxImagesInAndOut(u32),
}

/// Where an app's adapter came from.
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

/// One app's input names, rules and capabilities.
#[derive(Debug, Clone)]
pub(crate) struct Adapter {
    /// The endpoint id (`fal-ai/flux-pro/kontext`).
    pub(crate) app: String,
    pub(crate) source: AdapterSource,
    pub(crate) prompt: Option<String>,
    pub(crate) image: ImageField,
    pub(crate) mask: Option<String>,
    /// The input that sets how many images one request makes (`num_images`).
    pub(crate) count: Option<String>,
    pub(crate) seed: Option<String>,
    /// An `image_size` input taking `{width, height}`.
    pub(crate) size: Option<String>,
    /// How each provider option is sent.
    pub(crate) options: BTreeMap<String, JsonType>,
    /// Inputs the app requires that no request field fills (they must come as options).
    pub(crate) required: Vec<String>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) capabilities: Capabilities,
}

impl Adapter {
    /// An adapter with what every fal app shares; the `with_*` methods add the rest.
    pub(crate) fn new(app: &str, source: AdapterSource, image: ImageField) -> Self {
        let max_images = match image {
            ImageField::Single(_) => 1,
            ImageField::List(_) => 10,
        };
        Self {
            app: app.to_string(),
            source,
            prompt: None,
            image,
            mask: None,
            count: None,
            seed: None,
            size: None,
            options: BTreeMap::new(),
            required: Vec::new(),
            rules: Vec::new(),
            capabilities: Capabilities::new()
                .with_max_images(max_images)
                .with_input_formats([ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Webp, ImageFormat::Gif])
                .with_max_input_bytes(MAX_INPUT_BYTES)
                .with_mask(MaskSupport::Unsupported)
                .with_n(1..=1)
                .with_sizes(SizeRule::InputSize)
                .with_response_formats([ResponseFormat::Url, ResponseFormat::Base64]),
        }
    }

    pub(crate) fn with_prompt(mut self, name: &str) -> Self {
        self.prompt = Some(name.to_string());
        self
    }

    /// A mask input in the app's `convention`. Our masks carry the edit area
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
        self.count = Some(name.to_string());
        self.capabilities = self.capabilities.with_n(1..=max.max(1));
        self
    }

    pub(crate) fn with_seed(mut self, name: &str) -> Self {
        self.seed = Some(name.to_string());
        self.capabilities = self.capabilities.with_seed(true);
        self
    }

    pub(crate) fn with_size(mut self, name: &str, rule: SizeRule) -> Self {
        self.size = Some(name.to_string());
        self.capabilities = self.capabilities.with_sizes(rule);
        self
    }

    pub(crate) fn with_max_images(mut self, max: usize) -> Self {
        self.capabilities = self.capabilities.with_max_images(max);
        self
    }

    pub(crate) fn with_option(mut self, spec: OptionSpec, json: JsonType) -> Self {
        self.options.insert(spec.name.clone(), json);
        self.capabilities = self.capabilities.with_option(spec);
        self
    }

    pub(crate) fn with_required(mut self, name: &str) -> Self {
        self.required.push(name.to_string());
        self
    }

    pub(crate) fn with_rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// The mask convention the app reads.
    pub(crate) fn mask_convention(&self) -> MaskConvention {
        self.capabilities.mask_convention
    }
}

const SAFETY_LEVELS: &[&str] = &["1", "2", "3", "4", "5", "6"];

fn safety(default: &str) -> OptionSpec {
    OptionSpec::choice(
        "safety_tolerance",
        SAFETY_LEVELS,
        &format!("moderation level, 1 most strict to 6 most permissive (default {default})"),
    )
}

fn output_format(formats: &[&str], default: &str) -> OptionSpec {
    OptionSpec::choice(
        "output_format",
        formats,
        &format!("result file format (fal's default {default}; msgflux asks for png unless told)"),
    )
}

/// The built-in adapter of an endpoint id, if there is one.
pub(crate) fn builtin(app: &str) -> Option<Adapter> {
    use JsonType::{Boolean, Integer, Number, String as Text};
    let single = || ImageField::Single("image_url".into());
    let list = || ImageField::List("image_urls".into());
    let adapter = match app {
        // Instruction editing: no mask (the pipeline keeps it to paste the original back).
        "fal-ai/flux-pro/kontext" | "fal-ai/flux-pro/kontext/max" => {
            Adapter::new(app, AdapterSource::BuiltIn, single())
                .with_prompt("prompt")
                .with_count("num_images", 4)
                .with_seed("seed")
                .with_option(
                    OptionSpec::choice(
                        "aspect_ratio",
                        &["21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"],
                        "aspect ratio of the result (default: the input's)",
                    ),
                    Text,
                )
                .with_option(
                    OptionSpec::number("guidance_scale", 1.0..=20.0, "prompt adherence (default 3.5)"),
                    Number,
                )
                .with_option(safety("2"), Text)
                .with_option(
                    OptionSpec::bool("enhance_prompt", "let the model rewrite the prompt"),
                    Boolean,
                )
                .with_option(output_format(&["jpeg", "png"], "jpeg"), Text)
        }
        // Inpainting: white = fill, black = keep, same size as the image.
        "fal-ai/flux-pro/v1/fill" => Adapter::new(app, AdapterSource::BuiltIn, single())
            .with_prompt("prompt")
            .with_mask("mask_url", MaskConvention::WhiteIsEdit, MaskSupport::Required)
            .with_count("num_images", 4)
            .with_seed("seed")
            .with_option(safety("2"), Text)
            .with_option(
                OptionSpec::bool("enhance_prompt", "let the model rewrite the prompt"),
                Boolean,
            )
            .with_option(output_format(&["jpeg", "png"], "jpeg"), Text),
        "fal-ai/qwen-image-edit" => Adapter::new(app, AdapterSource::BuiltIn, single())
            .with_prompt("prompt")
            .with_count("num_images", 4)
            .with_seed("seed")
            .with_size("image_size", SizeRule::Any { max_side: MAX_SIDE })
            .with_option(
                OptionSpec::integer("num_inference_steps", 2..=50, "denoising steps (default 30)"),
                Integer,
            )
            .with_option(
                OptionSpec::number("guidance_scale", 0.0..=20.0, "classifier-free guidance (default 4)"),
                Number,
            )
            .with_option(OptionSpec::text("negative_prompt", "what should not appear"), Text)
            .with_option(
                OptionSpec::choice(
                    "acceleration",
                    &["none", "regular", "high"],
                    "speed against quality (default regular)",
                ),
                Text,
            )
            .with_option(
                OptionSpec::bool("enable_safety_checker", "run fal's safety checker (default true)"),
                Boolean,
            )
            .with_option(output_format(&["jpeg", "png"], "png"), Text),
        "fal-ai/bytedance/seedream/v4/edit" => Adapter::new(app, AdapterSource::BuiltIn, list())
            .with_prompt("prompt")
            .with_max_images(10)
            .with_count("num_images", 6)
            .with_seed("seed")
            .with_size("image_size", SizeRule::Any { max_side: 4096 })
            .with_rule(Rule::MinArea(921_600))
            .with_rule(Rule::MaxImagesInAndOut(15))
            .with_option(
                OptionSpec::choice(
                    "enhance_prompt_mode",
                    &["standard", "fast"],
                    "prompt enhancement (default standard)",
                ),
                Text,
            )
            .with_option(
                OptionSpec::bool("enable_safety_checker", "run fal's safety checker (default true)"),
                Boolean,
            ),
        "fal-ai/nano-banana/edit" | "fal-ai/nano-banana-pro/edit" => {
            let adapter = Adapter::new(app, AdapterSource::BuiltIn, list())
                .with_prompt("prompt")
                .with_max_images(10)
                .with_count("num_images", 4)
                .with_seed("seed")
                .with_option(
                    OptionSpec::choice(
                        "aspect_ratio",
                        &[
                            "auto", "21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16",
                        ],
                        "aspect ratio of the result (default auto)",
                    ),
                    Text,
                )
                .with_option(output_format(&["jpeg", "png", "webp"], "png"), Text)
                .with_option(safety("4"), Text)
                .with_option(
                    OptionSpec::bool(
                        "limit_generations",
                        "one image per round, whatever the prompt asks (default true)",
                    ),
                    Boolean,
                );
            if app == "fal-ai/nano-banana-pro/edit" {
                adapter
                    .with_option(
                        OptionSpec::choice("resolution", &["1K", "2K", "4K"], "output resolution (default 1K)"),
                        Text,
                    )
                    .with_option(
                        OptionSpec::bool("enable_web_search", "let the model search the web"),
                        Boolean,
                    )
                    .with_option(
                        OptionSpec::text("system_prompt", "a system instruction for the model"),
                        Text,
                    )
            } else {
                adapter
            }
        }
        _ => return None,
    };
    Some(adapter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_model_has_an_adapter() {
        for app in BUILTIN_MODELS {
            let adapter = builtin(app).unwrap_or_else(|| panic!("{app}"));
            assert_eq!(&adapter.app, app);
        }
        assert!(builtin("someone/else").is_none());
    }

    #[test]
    fn fill_wants_white_for_the_area_to_repaint_and_requires_a_mask() {
        let adapter = builtin("fal-ai/flux-pro/v1/fill").expect("fill");
        assert_eq!(adapter.mask_convention(), MaskConvention::WhiteIsEdit);
        assert_eq!(adapter.capabilities.mask, MaskSupport::Required);
        assert_eq!(adapter.mask.as_deref(), Some("mask_url"));
    }

    #[test]
    fn instruction_editors_take_no_mask() {
        for app in [
            "fal-ai/flux-pro/kontext",
            "fal-ai/qwen-image-edit",
            "fal-ai/bytedance/seedream/v4/edit",
            "fal-ai/nano-banana/edit",
        ] {
            assert_eq!(
                builtin(app).expect("adapter").capabilities.mask,
                MaskSupport::Unsupported,
                "{app}"
            );
        }
    }
}
