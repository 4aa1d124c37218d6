//! How our request (prompt, images, mask, `n`, size, seed, options) maps onto
//! one model's inputs: the built-in table, and the one function that builds a
//! prediction's `input` from a request.
//!
//! Each model names its inputs differently (`image`, `input_image`, an
//! `image_input` array; `num_outputs` or no count at all). A [`ModelAdapter`]
//! records those names, the model's mask convention and its capability table.
//! Models outside the table get an adapter read from their published schema
//! (see `schema.rs`).

use std::collections::BTreeMap;

use msgflux_core::{
    Capabilities, Error, ImageFormat, LoadedRequest, MaskConvention, MaskSupport, OptionSpec, OptionValue,
    ResponseFormat, Result, Size, SizeRule,
};
use serde_json::{Map, Value};

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

/// The input files of one request, as the values a prediction input takes
/// (data URIs, uploaded-file URLs or passed-through URLs).
#[derive(Debug, Clone, Default)]
pub(crate) struct InputValues {
    pub(crate) images: Vec<String>,
    pub(crate) mask: Option<String>,
}

/// One prediction of a request: how many images it makes and with which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PredictionPlan {
    pub(crate) count: u32,
    pub(crate) seed: Option<u64>,
}

/// Spreads `n` images over predictions of at most `per_prediction` images.
/// Later predictions get the seed advanced by the images before them, so that
/// a fixed seed gives `n` different but repeatable images.
pub(crate) fn plan_predictions(n: u32, per_prediction: u32, seed: Option<u64>) -> Vec<PredictionPlan> {
    let per_prediction = per_prediction.max(1);
    let mut plans = Vec::new();
    let mut done = 0;
    while done < n {
        let count = per_prediction.min(n - done);
        plans.push(PredictionPlan {
            count,
            seed: seed.map(|s| s.wrapping_add(u64::from(done))),
        });
        done += count;
    }
    plans
}

/// The output size to ask for: the request's, or, for models that take a
/// width and height on a grid (stable-diffusion-inpainting: multiples of 64 up
/// to 1024), the first image's size fitted to that grid, so the result keeps
/// the input's shape instead of the model's 512x512 default.
pub(crate) fn output_size(adapter: &ModelAdapter, request: &LoadedRequest) -> Option<Size> {
    adapter.size.as_ref()?;
    if let Some(size) = request.size {
        return Some(size);
    }
    let SizeRule::MultipleOf { step, min, max } = adapter.capabilities.sizes else {
        return None;
    };
    let first = request.images.first()?;
    let step = f64::from(step.max(1));
    let lowest = (f64::from(min) / step).ceil() * step;
    let highest = (f64::from(max) / step).floor() * step;
    if lowest > highest {
        return None;
    }
    let (width, height) = (f64::from(first.width), f64::from(first.height));
    let scale = (f64::from(max) / width.max(height)).min(1.0);
    let fit = |side: f64| ((side * scale / step).round() * step).clamp(lowest, highest) as u32;
    Some(Size::new(fit(width), fit(height)))
}

/// Builds the `input` of one prediction. Every value set here is checked
/// against the model's rules first; a value that breaks one is an
/// [`Error::InvalidInput`] naming it, and nothing is sent.
pub(crate) fn build_input(
    adapter: &ModelAdapter,
    request: &LoadedRequest,
    values: &InputValues,
    plan: &PredictionPlan,
    size: Option<Size>,
) -> Result<Map<String, Value>> {
    let mut input = Map::new();
    if let Some(name) = &adapter.prompt {
        input.insert(name.clone(), Value::String(request.prompt.clone()));
    }
    match &adapter.image {
        ImageField::Single(name) => {
            let first = values
                .images
                .first()
                .ok_or_else(|| Error::invalid("image", "at least one input image is required"))?;
            input.insert(name.clone(), Value::String(first.clone()));
        }
        ImageField::List(name) => {
            input.insert(
                name.clone(),
                Value::Array(values.images.iter().cloned().map(Value::String).collect()),
            );
        }
    }
    match (&adapter.mask, &values.mask) {
        (Some(name), Some(mask)) => {
            input.insert(name.clone(), Value::String(mask.clone()));
        }
        (None, Some(_)) => return Err(Error::invalid("mask", "this model does not accept a mask")),
        _ => {}
    }
    if let Some(count) = &adapter.count {
        input.insert(count.name.clone(), Value::from(plan.count));
    }
    if let Some(seed) = plan.seed {
        let field = adapter
            .seed
            .as_ref()
            .ok_or_else(|| Error::invalid("seed", "this model does not accept a seed"))?;
        let max = field.max.unwrap_or(i64::MAX as u64);
        if seed > max {
            return Err(Error::invalid(
                "seed",
                format!("must be at most {max} for this model, got {seed}"),
            ));
        }
        input.insert(field.name.clone(), Value::from(seed));
    }
    if let (Some((width, height)), Some(size)) = (&adapter.size, size) {
        input.insert(width.clone(), Value::from(size.width));
        input.insert(height.clone(), Value::from(size.height));
    }
    for (name, value) in &request.options {
        if input.contains_key(name) {
            return Err(Error::invalid(
                format!("option {name}"),
                "is filled from the request itself (prompt, image, mask, n, seed or size); set that instead",
            ));
        }
        input.insert(name.clone(), option_json(name, value, adapter.options.get(name))?);
    }
    for name in &adapter.required {
        if !input.contains_key(name) {
            return Err(Error::invalid(
                format!("option {name}"),
                format!("{} requires this input; pass it as an option", adapter.model),
            ));
        }
    }
    Ok(input)
}

/// An option value as the JSON the model's schema expects.
fn option_json(name: &str, value: &OptionValue, field: Option<&OptionField>) -> Result<Value> {
    let mismatch =
        |expected: &str| Error::invalid(format!("option {name}"), format!("expected {expected}, got {value}"));
    let json = match field.map(|f| f.json) {
        Some(JsonType::Integer) => Value::from(value.as_i64().ok_or_else(|| mismatch("a whole number"))?),
        Some(JsonType::Number) => {
            let number = value.as_f64().ok_or_else(|| mismatch("a number"))?;
            serde_json::Number::from_f64(number)
                .map(Value::Number)
                .ok_or_else(|| mismatch("a finite number"))?
        }
        Some(JsonType::Boolean) => Value::Bool(value.as_bool().ok_or_else(|| mismatch("true or false"))?),
        Some(JsonType::String) => Value::String(value.as_str().ok_or_else(|| mismatch("text"))?.to_string()),
        None => {
            return Err(Error::invalid(
                format!("option {name}"),
                "is not an input of this model",
            ));
        }
    };
    if let Some(allowed) = field.and_then(|f| f.allowed.as_ref())
        && !allowed.iter().any(|a| same_value(a, &json))
    {
        let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        return Err(Error::invalid(
            format!("option {name}"),
            format!("{json} is not one of {}", listed.join(", ")),
        ));
    }
    Ok(json)
}

/// JSON equality that treats `4` and `4.0` as the same number.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflux_core::{EditRequest, InputLoader, LoadedImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        msgflux_core::testkit::sample_image(width, height)
    }

    async fn request(width: u32, height: u32) -> LoadedRequest {
        EditRequest::new("a red door")
            .image(png(width, height))
            .load(&InputLoader::default())
            .await
            .expect("load")
    }

    fn values() -> InputValues {
        InputValues {
            images: vec!["data:image/png;base64,AAAA".into()],
            mask: Some("data:image/png;base64,BBBB".into()),
        }
    }

    #[test]
    fn every_builtin_model_has_an_adapter() {
        for model in BUILTIN_MODELS {
            let adapter = builtin(model).unwrap_or_else(|| panic!("{model}"));
            assert_eq!(&adapter.model, model);
        }
        assert!(builtin("someone/else").is_none());
    }

    #[test]
    fn n_is_spread_over_predictions_of_the_model_maximum() {
        let plans = plan_predictions(6, 4, Some(10));
        assert_eq!(
            plans,
            vec![
                PredictionPlan {
                    count: 4,
                    seed: Some(10)
                },
                PredictionPlan {
                    count: 2,
                    seed: Some(14)
                }
            ]
        );
        assert_eq!(plan_predictions(3, 1, None).len(), 3);
    }

    #[tokio::test]
    async fn stable_diffusion_inpainting_gets_its_own_input_names() {
        let adapter = builtin("stability-ai/stable-diffusion-inpainting").expect("adapter");
        let request = request(512, 512).await.option("num_inference_steps", 25);
        let plan = PredictionPlan {
            count: 3,
            seed: Some(7),
        };
        let input = build_input(&adapter, &request, &values(), &plan, Some(Size::square(512))).expect("input");
        assert_eq!(input["prompt"], "a red door");
        assert_eq!(input["image"], "data:image/png;base64,AAAA");
        assert_eq!(input["mask"], "data:image/png;base64,BBBB");
        assert_eq!(input["num_outputs"], 3);
        assert_eq!(input["seed"], 7);
        assert_eq!(
            (input["width"].as_u64(), input["height"].as_u64()),
            (Some(512), Some(512))
        );
        assert_eq!(input["num_inference_steps"], 25);
    }

    #[tokio::test]
    async fn nano_banana_takes_an_image_list_and_no_count() {
        let adapter = builtin("google/nano-banana").expect("adapter");
        let mut request = request(64, 64).await;
        request
            .images
            .push(LoadedImage::from_bytes(png(32, 32), None, "image[1]").expect("png"));
        let values = InputValues {
            images: vec!["a".into(), "b".into()],
            mask: None,
        };
        let input = build_input(
            &adapter,
            &request,
            &values,
            &PredictionPlan { count: 1, seed: None },
            None,
        )
        .expect("input");
        assert_eq!(input["image_input"], serde_json::json!(["a", "b"]));
        assert!(input.get("num_outputs").is_none());
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

    #[tokio::test]
    async fn the_output_size_follows_the_input_on_the_model_grid() {
        let adapter = builtin("stability-ai/stable-diffusion-inpainting").expect("adapter");
        assert_eq!(
            output_size(&adapter, &request(600, 400).await),
            Some(Size::new(576, 384))
        );
        assert_eq!(
            output_size(&adapter, &request(2000, 1000).await),
            Some(Size::new(1024, 512))
        );
        assert_eq!(output_size(&adapter, &request(20, 20).await), Some(Size::new(64, 64)));
        let fixed = request(600, 400).await.size(Size::square(256));
        assert_eq!(output_size(&adapter, &fixed), Some(Size::square(256)));
        let kontext = builtin("black-forest-labs/flux-kontext-pro").expect("adapter");
        assert_eq!(output_size(&kontext, &request(600, 400).await), None);
    }

    #[tokio::test]
    async fn a_seed_above_the_schema_maximum_is_refused() {
        let adapter = ModelAdapter::new("a/b", true, AdapterSource::Schema, ImageField::Single("image".into()))
            .with_seed("seed", Some(u64::from(u32::MAX)));
        let plan = PredictionPlan {
            count: 1,
            seed: Some(u64::from(u32::MAX) + 1),
        };
        let err = build_input(
            &adapter,
            &request(8, 8).await,
            &InputValues {
                images: vec!["x".into()],
                mask: None,
            },
            &plan,
            None,
        )
        .expect_err("seed too large");
        assert!(
            matches!(&err, Error::InvalidInput { param, .. } if param == "seed"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_option_outside_the_schema_list_is_refused() {
        let adapter = ModelAdapter::new("a/b", true, AdapterSource::Schema, ImageField::Single("image".into()))
            .with_option(
                OptionSpec::integer("steps", 10..=40, "steps"),
                OptionField {
                    json: JsonType::Integer,
                    allowed: Some(vec![Value::from(10), Value::from(20), Value::from(40)]),
                },
            );
        let plan = PredictionPlan { count: 1, seed: None };
        let values = InputValues {
            images: vec!["x".into()],
            mask: None,
        };
        let ok = build_input(&adapter, &request(8, 8).await.option("steps", 20), &values, &plan, None)
            .expect("20 is listed");
        assert_eq!(ok["steps"], 20);
        let err = build_input(&adapter, &request(8, 8).await.option("steps", 30), &values, &plan, None)
            .expect_err("30 is not");
        assert!(err.to_string().contains("30 is not one of 10, 20, 40"), "{err}");
    }

    #[tokio::test]
    async fn a_required_input_without_a_value_is_named() {
        let adapter = ModelAdapter::new("a/b", true, AdapterSource::Schema, ImageField::Single("image".into()))
            .with_required("style");
        let err = build_input(
            &adapter,
            &request(8, 8).await,
            &InputValues {
                images: vec!["x".into()],
                mask: None,
            },
            &PredictionPlan { count: 1, seed: None },
            None,
        )
        .expect_err("style missing");
        assert!(
            matches!(&err, Error::InvalidInput { param, .. } if param == "option style"),
            "{err:?}"
        );
    }
}
