//! The one place a prediction's `input` is built from a request: the
//! predictions `n` is spread over, the output size, and every value checked
//! against the model's adapter. The provider's `check` runs it with
//! placeholders for the files before anything is uploaded or created.

use msgflux_core::kit::{LoadedRequest, Violations};
use msgflux_core::{Error, OptionValue, OutputSize, Result, Size, SizeRule};
use serde_json::{Map, Value};

use crate::models::{ImageField, JsonType, ModelAdapter, OptionField};

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
    if let Some(OutputSize::Exact(size)) = request.size {
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

impl InputValues {
    /// Stand-ins for the request's files, to build and check an input before
    /// anything is uploaded.
    pub(crate) fn placeholders(request: &LoadedRequest) -> Self {
        Self {
            images: request
                .images
                .iter()
                .map(|image| format!("file:{}", image.filename))
                .collect(),
            mask: request.mask.as_ref().map(|_| "file:mask".to_string()),
        }
    }
}

/// Builds the `input` of one prediction. Every value set here is checked
/// against the model's rules first; every value that breaks one is named in
/// one [`Error::InvalidInput`], and nothing is sent.
pub(crate) fn build_input(
    adapter: &ModelAdapter,
    request: &LoadedRequest,
    values: &InputValues,
    plan: &PredictionPlan,
    size: Option<Size>,
) -> Result<Map<String, Value>> {
    let mut violations = Violations::new();
    let mut input = Map::new();
    if let Some(name) = &adapter.prompt {
        input.insert(name.clone(), Value::String(request.prompt.clone()));
    }
    match &adapter.image {
        ImageField::Single(name) => match values.images.first() {
            Some(first) => {
                input.insert(name.clone(), Value::String(first.clone()));
            }
            None => violations.push("image", "at least one input image is required"),
        },
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
        (None, Some(_)) => violations.push("mask", "this model does not accept a mask"),
        _ => {}
    }
    if let Some(count) = &adapter.count {
        input.insert(count.name.clone(), Value::from(plan.count));
    }
    if let Some(seed) = plan.seed {
        match &adapter.seed {
            None => violations.push("seed", "this model does not accept a seed"),
            Some(field) => {
                let max = field.max.unwrap_or(i64::MAX as u64);
                if seed > max {
                    violations.push("seed", format!("must be at most {max} for this model, got {seed}"));
                } else {
                    input.insert(field.name.clone(), Value::from(seed));
                }
            }
        }
    }
    if let (Some((width, height)), Some(size)) = (&adapter.size, size) {
        input.insert(width.clone(), Value::from(size.width));
        input.insert(height.clone(), Value::from(size.height));
    }
    for (name, value) in &request.options {
        if input.contains_key(name) {
            violations.push(
                format!("option {name}"),
                "is filled from the request itself (prompt, image, mask, n, seed or size); set that instead",
            );
            continue;
        }
        match option_json(name, value, adapter.options.get(name)) {
            Ok(json) => {
                input.insert(name.clone(), json);
            }
            Err(err) => violations.absorb(err)?,
        }
    }
    for name in &adapter.required {
        if !input.contains_key(name) {
            violations.push(
                format!("option {name}"),
                format!("{} requires this input; pass it as an option", adapter.model),
            );
        }
    }
    violations.into_result()?;
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
    use crate::models::{AdapterSource, builtin};
    use msgflux_core::{EditRequest, InputLoader, LoadedImage, OptionSpec};

    fn png(width: u32, height: u32) -> Vec<u8> {
        msgflux_core::kit::testkit::sample_image(width, height)
    }

    async fn request(width: u32, height: u32) -> LoadedRequest {
        EditRequest::new("a red door")
            .image(png(width, height))
            .load(&InputLoader::default())
            .await
            .expect("load")
    }

    fn one_image() -> InputValues {
        InputValues {
            images: vec!["x".into()],
            mask: None,
        }
    }

    fn values() -> InputValues {
        InputValues {
            images: vec!["data:image/png;base64,AAAA".into()],
            mask: Some("data:image/png;base64,BBBB".into()),
        }
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
        let err = build_input(&adapter, &request(8, 8).await, &one_image(), &plan, None).expect_err("seed too large");
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
        let values = one_image();
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
            &one_image(),
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
