//! The one place an app's JSON input is built from a request, and the app's
//! own rules checked. The provider's `check` runs it with stand-ins for the
//! files, so every rule holds before anything is uploaded or submitted.

use msgflux_core::kit::{LoadedRequest, Violations};
use msgflux_core::{Error, OptionValue, OutputSize, Result};
use serde_json::{Map, Value, json};

use crate::models::{Adapter, ImageField, JsonType, Rule};

/// The input files of one request, as the values the app takes
/// (data URIs, fal storage URLs, or URLs passed through).
#[derive(Debug, Clone, Default)]
pub(crate) struct InputValues {
    pub(crate) images: Vec<String>,
    pub(crate) mask: Option<String>,
}

impl InputValues {
    /// Stand-ins for the request's files, to build and check an input before
    /// anything is uploaded.
    pub(crate) fn placeholders(request: &LoadedRequest) -> Self {
        Self {
            images: request
                .images
                .iter()
                .map(|image| format!("https://placeholder.invalid/{}", image.filename))
                .collect(),
            mask: request
                .mask
                .as_ref()
                .map(|_| "https://placeholder.invalid/mask.png".to_string()),
        }
    }
}

/// Records every rule of the app that the capability table cannot express.
pub(crate) fn check_rules(adapter: &Adapter, request: &LoadedRequest, violations: &mut Violations) {
    for rule in &adapter.rules {
        match *rule {
            Rule::MinArea(min) => {
                if let Some(OutputSize::Exact(size)) = request.size {
                    let area = u64::from(size.width) * u64::from(size.height);
                    if area < min {
                        violations.push(
                            "size",
                            format!(
                                "{size} is {area} pixels; {} needs at least {min} pixels (for example 1280x720 or 960x960)",
                                adapter.app
                            ),
                        );
                    }
                }
            }
            Rule::MaxImagesInAndOut(max) => {
                let total = request.images.len() as u64 + u64::from(request.n);
                if total > u64::from(max) {
                    violations.push(
                        "n",
                        format!(
                            "{} input image(s) and n = {} make {total} images; {} takes at most {max} in and out together",
                            request.images.len(),
                            request.n,
                            adapter.app
                        ),
                    );
                }
            }
        }
    }
    for name in &adapter.required {
        if !request.options.contains_key(name) {
            violations.push(
                format!("option {name}"),
                format!(
                    "{} requires `{name}`, which no request field fills; pass it as an option",
                    adapter.app
                ),
            );
        }
    }
    if request.n > 1 && adapter.count.is_none() {
        violations.push("n", format!("{} makes one image per request", adapter.app));
    }
}

/// The app's input for a request whose files are `values`.
pub(crate) fn build_input(
    adapter: &Adapter,
    request: &LoadedRequest,
    values: &InputValues,
) -> Result<Map<String, Value>> {
    let mut violations = Violations::new();
    check_rules(adapter, request, &mut violations);
    violations.into_result()?;

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
            input.insert(name.clone(), Value::from(values.images.clone()));
        }
    }
    if let (Some(name), Some(mask)) = (&adapter.mask, &values.mask) {
        input.insert(name.clone(), Value::String(mask.clone()));
    }
    if let Some(name) = &adapter.count {
        input.insert(name.clone(), Value::from(request.n));
    }
    if let (Some(name), Some(seed)) = (&adapter.seed, request.seed) {
        input.insert(name.clone(), Value::from(seed));
    }
    if let (Some(name), Some(OutputSize::Exact(size))) = (&adapter.size, request.size) {
        input.insert(name.clone(), json!({"width": size.width, "height": size.height}));
    }
    for (name, value) in &request.options {
        let Some(json) = adapter.options.get(name) else {
            return Err(Error::invalid(
                format!("option {name}"),
                format!("{} has no input `{name}`", adapter.app),
            ));
        };
        input.insert(name.clone(), typed(*json, value, name)?);
    }
    // Lossless results unless asked otherwise: keep-unmasked pastes the
    // original back without a JPEG seam, and the result is what the model made.
    if !input.contains_key("output_format")
        && adapter
            .capabilities
            .option("output_format")
            .is_some_and(|o| o.parse("png").is_ok())
    {
        input.insert("output_format".into(), Value::String("png".into()));
    }
    Ok(input)
}

fn typed(json: JsonType, value: &OptionValue, name: &str) -> Result<Value> {
    let wrong = |kind: &str| Error::invalid(format!("option {name}"), format!("must be {kind}"));
    Ok(match json {
        JsonType::Integer => Value::from(value.as_i64().ok_or_else(|| wrong("a whole number"))?),
        JsonType::Number => Value::from(value.as_f64().ok_or_else(|| wrong("a number"))?),
        JsonType::Boolean => Value::from(value.as_bool().ok_or_else(|| wrong("true or false"))?),
        JsonType::String => match value {
            OptionValue::Text(text) => Value::String(text.clone()),
            OptionValue::Integer(n) => Value::String(n.to_string()),
            OptionValue::Number(n) => Value::String(n.to_string()),
            OptionValue::Bool(b) => Value::String(b.to_string()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::builtin;
    use msgflux_core::Size;
    use msgflux_core::kit::testkit::loaded_request;

    #[test]
    fn kontext_gets_one_image_url_num_images_and_png() {
        let adapter = builtin("fal-ai/flux-pro/kontext").expect("adapter");
        let mut request = loaded_request(64, 64);
        request.n = 3;
        request.seed = Some(7);
        let input = build_input(&adapter, &request, &InputValues::placeholders(&request)).expect("input");
        assert_eq!(input["num_images"], 3);
        assert_eq!(input["seed"], 7);
        assert_eq!(input["output_format"], "png");
        assert!(input["image_url"].is_string());
        assert!(!input.contains_key("mask_url"));
    }

    #[test]
    fn safety_tolerance_is_sent_as_text() {
        let adapter = builtin("fal-ai/flux-pro/v1/fill").expect("adapter");
        let mut request = loaded_request(64, 64);
        request
            .options
            .insert("safety_tolerance".into(), OptionValue::Integer(3));
        let input = build_input(&adapter, &request, &InputValues::placeholders(&request)).expect("input");
        assert_eq!(input["safety_tolerance"], "3");
    }

    #[test]
    fn seedream_refuses_a_small_area_and_too_many_images_together() {
        let adapter = builtin("fal-ai/bytedance/seedream/v4/edit").expect("adapter");
        let mut request = loaded_request(64, 64);
        request.size = Some(OutputSize::Exact(Size::new(640, 640)));
        request.images = vec![request.images[0].clone(); 10];
        request.n = 6;
        let mut violations = Violations::new();
        check_rules(&adapter, &request, &mut violations);
        let params: Vec<&str> = violations.iter().map(|v| v.param.as_str()).collect();
        assert_eq!(params, vec!["size", "n"]);
    }
}
