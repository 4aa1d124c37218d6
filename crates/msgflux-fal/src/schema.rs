//! Adapters read from an app's published OpenAPI schema, for apps without a
//! built-in adapter. fal publishes one per endpoint through its Platform API
//! (`GET https://api.fal.ai/v1/models?endpoint_id=<id>&expand=openapi-3.0`,
//! the `openapi` field of the model); the input is the JSON body of the
//! `POST /<id>` operation.
//!
//! Inputs are matched to our request by name and type:
//!
//! | our field | the app's input |
//! |---|---|
//! | prompt | a text input `prompt` (else one whose name contains `prompt`, not `negative`) |
//! | image | `image_url`; else a URL list `image_urls`; else a URL input whose name contains `image` |
//! | mask | a URL input whose name contains `mask`; its convention from its description (`black ... inpaint` means black = edit), else white = edit |
//! | `n` | an integer `num_images`; its `maximum` is the limit |
//! | seed | an integer `seed` |
//! | size | `image_size` (sent as `{width, height}`) |
//!
//! Every other scalar input becomes a typed provider option (enums become
//! choices, ranges become bounds), so values are checked before anything is
//! sent; `sync_mode` is left out (results are downloaded within the call).

use msgflux_core::{Error, MaskConvention, MaskSupport, OptionSpec, Result, SizeRule};
use serde_json::Value;

use crate::models::{Adapter, AdapterSource, ImageField, JsonType, MAX_SIDE};

/// One input of the schema, with `$ref`/`allOf`/`anyOf` resolved.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: Kind,
    description: String,
    required: bool,
    has_default: bool,
    minimum: Option<f64>,
    maximum: Option<f64>,
    choices: Option<Vec<String>>,
    max_items: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Url,
    UrlList,
    Integer,
    Number,
    Boolean,
    Other,
}

/// The input schema of `app` in its OpenAPI document.
pub(crate) fn input_schema<'a>(app: &str, openapi: &'a Value) -> Option<&'a Value> {
    let paths = openapi.get("paths")?.as_object()?;
    let body = |item: &'a Value| item.pointer("/post/requestBody/content/application~1json/schema");
    let schema = paths
        .get(&format!("/{app}"))
        .and_then(body)
        .or_else(|| paths.values().find_map(body))?;
    Some(resolve(openapi, schema))
}

/// Follows `$ref`s (at most 16) and single-branch `allOf`s.
fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            match reference.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(next) => schema = next,
                None => return schema,
            }
        } else if let Some([only]) = schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            schema = only;
        } else {
            return schema;
        }
    }
    schema
}

/// Builds the adapter of `app` from its OpenAPI document. `mask_override`
/// replaces the mask convention read from the schema's description.
pub(crate) fn adapter_from_openapi(
    app: &str,
    openapi: &Value,
    mask_override: Option<MaskConvention>,
) -> Result<Adapter> {
    let bad = |why: String| Error::invalid("model", format!("fal/{app}: {why}"));
    let input = input_schema(app, openapi).ok_or_else(|| bad("its OpenAPI schema has no JSON body for POST".into()))?;
    let fields = read_fields(input, openapi);
    if fields.is_empty() {
        return Err(bad("its input schema lists no inputs".into()));
    }
    let by = |name: &str, kind: Kind| fields.iter().find(|f| f.name == name && f.kind == kind);
    let prompt = by("prompt", Kind::Text)
        .or_else(|| {
            fields
                .iter()
                .find(|f| f.kind == Kind::Text && f.name.contains("prompt") && !f.name.contains("negative"))
        })
        .map(|f| f.name.clone());
    let image = by("image_url", Kind::Url)
        .map(|f| ImageField::Single(f.name.clone()))
        .or_else(|| by("image_urls", Kind::UrlList).map(|f| ImageField::List(f.name.clone())))
        .or_else(|| {
            fields
                .iter()
                .find(|f| f.kind == Kind::Url && f.name.contains("image") && !f.name.contains("mask"))
                .map(|f| ImageField::Single(f.name.clone()))
        })
        .ok_or_else(|| {
            bad("its input has no image URL (`image_url` or `image_urls`), so it cannot edit images".into())
        })?;
    let mask = fields.iter().find(|f| f.kind == Kind::Url && f.name.contains("mask"));
    let count = by("num_images", Kind::Integer);
    let seed = by("seed", Kind::Integer);
    let size = fields.iter().find(|f| f.name == "image_size");

    let mut adapter = Adapter::new(app, AdapterSource::Schema, image.clone());
    if let ImageField::List(name) = &image {
        let max = fields
            .iter()
            .find(|f| &f.name == name)
            .and_then(|f| f.max_items)
            .map_or(10, |m| m.clamp(1, 16) as usize);
        adapter = adapter.with_max_images(max);
    }
    match &prompt {
        Some(name) => adapter = adapter.with_prompt(name),
        None => adapter.capabilities = adapter.capabilities.clone().with_honours_prompt(false),
    }
    if let Some(field) = mask {
        let convention = mask_override
            .or_else(|| convention_from_description(&field.description))
            .unwrap_or(MaskConvention::WhiteIsEdit);
        let support = if field.required {
            MaskSupport::Required
        } else {
            MaskSupport::Optional
        };
        adapter = adapter.with_mask(&field.name, convention, support);
    }
    if let Some(field) = count {
        adapter = adapter.with_count(&field.name, field.maximum.map_or(1, |m| m.clamp(1.0, 16.0) as u32));
    }
    if let Some(field) = seed {
        adapter = adapter.with_seed(&field.name);
    }
    if let Some(field) = size {
        adapter = adapter.with_size(&field.name, SizeRule::Any { max_side: MAX_SIDE });
    }
    let mapped: Vec<&str> = [
        prompt.as_deref(),
        Some(image.name()),
        mask.map(|f| f.name.as_str()),
        count.map(|f| f.name.as_str()),
        seed.map(|f| f.name.as_str()),
        size.map(|f| f.name.as_str()),
        Some("sync_mode"),
    ]
    .into_iter()
    .flatten()
    .collect();
    for field in fields.iter().filter(|f| !mapped.contains(&f.name.as_str())) {
        match option_for(field) {
            Some((spec, json)) => {
                adapter = adapter.with_option(spec, json);
                if field.required && !field.has_default {
                    adapter = adapter.with_required(&field.name);
                }
            }
            None if field.required && !field.has_default => {
                return Err(bad(format!(
                    "it requires the input `{}`, whose type msgflux cannot fill",
                    field.name
                )));
            }
            None => {}
        }
    }
    Ok(adapter)
}

fn read_fields(input: &Value, root: &Value) -> Vec<Field> {
    let required: Vec<&str> = input
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = input.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut fields: Vec<(i64, Field)> = properties
        .iter()
        .enumerate()
        .map(|(i, (name, raw))| {
            let schema = first_branch(root, resolve(root, raw));
            let order = raw.get("x-order").and_then(Value::as_i64).unwrap_or(i as i64);
            let choices = schema.get("enum").and_then(Value::as_array).map(|values| {
                values
                    .iter()
                    .filter_map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .or_else(|| v.as_i64().map(|n| n.to_string()))
                    })
                    .collect::<Vec<_>>()
            });
            let kind = match schema.get("type").and_then(Value::as_str) {
                Some("string")
                    if name.ends_with("_url") || schema.get("format").and_then(Value::as_str) == Some("uri") =>
                {
                    Kind::Url
                }
                Some("string") => Kind::Text,
                Some("array") if name.ends_with("_urls") => Kind::UrlList,
                Some("integer") => Kind::Integer,
                Some("number") => Kind::Number,
                Some("boolean") => Kind::Boolean,
                None if choices.is_some() => Kind::Text,
                _ => Kind::Other,
            };
            let text = |key: &str| {
                raw.get(key)
                    .or_else(|| schema.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let number = |key: &str| schema.get(key).and_then(Value::as_f64);
            let field = Field {
                name: name.clone(),
                kind,
                description: text("description"),
                required: required.contains(&name.as_str()),
                has_default: raw.get("default").is_some() || schema.get("default").is_some(),
                minimum: number("minimum").or_else(|| number("exclusiveMinimum")),
                maximum: number("maximum").or_else(|| number("exclusiveMaximum")),
                choices,
                max_items: schema.get("maxItems").and_then(Value::as_u64),
            };
            (order, field)
        })
        .collect();
    fields.sort_by_key(|(order, _)| *order);
    fields.into_iter().map(|(_, f)| f).collect()
}

/// The first non-null branch of an `anyOf`/`oneOf`, resolved.
fn first_branch<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array)
            && let Some(branch) = branches
                .iter()
                .map(|b| resolve(root, b))
                .find(|b| b.get("type").and_then(Value::as_str) != Some("null"))
        {
            return branch;
        }
    }
    schema
}

fn option_for(field: &Field) -> Option<(OptionSpec, JsonType)> {
    let help = if field.description.is_empty() {
        format!("the app's `{}` input", field.name)
    } else {
        field.description.chars().take(160).collect()
    };
    if let Some(choices) = &field.choices {
        let words: Vec<&str> = choices.iter().map(String::as_str).collect();
        return Some((OptionSpec::choice(&field.name, &words, &help), JsonType::String));
    }
    Some(match field.kind {
        Kind::Text | Kind::Url => (OptionSpec::text(&field.name, &help), JsonType::String),
        Kind::Integer => (
            OptionSpec::integer(
                &field.name,
                field.minimum.map_or(i64::MIN, |m| m.ceil() as i64)
                    ..=field.maximum.map_or(i64::MAX, |m| m.floor() as i64),
                &help,
            ),
            JsonType::Integer,
        ),
        Kind::Number => (
            OptionSpec::number(
                &field.name,
                field.minimum.unwrap_or(f64::MIN)..=field.maximum.unwrap_or(f64::MAX),
                &help,
            ),
            JsonType::Number,
        ),
        Kind::Boolean => (OptionSpec::bool(&field.name, &help), JsonType::Boolean),
        Kind::UrlList | Kind::Other => return None,
    })
}

/// `black ... inpaint`/`white ... keep` means black = edit; otherwise white = edit.
fn convention_from_description(description: &str) -> Option<MaskConvention> {
    let text = description.to_ascii_lowercase();
    let black_edits = [
        "black pixels will be inpainted",
        "black areas will be",
        "white pixels will be preserved",
        "white areas are kept",
    ];
    let white_edits = [
        "white pixels will be inpainted",
        "white areas will be",
        "black pixels will be preserved",
        "black areas are kept",
        "white = edit",
    ];
    if black_edits.iter().any(|m| text.contains(m)) {
        Some(MaskConvention::BlackIsEdit)
    } else if white_edits.iter().any(|m| text.contains(m)) {
        Some(MaskConvention::WhiteIsEdit)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn openapi(input: Value) -> Value {
        json!({
            "openapi": "3.0.4",
            "paths": {"/acme/inpaint": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Input"}}}}}}},
            "components": {"schemas": {"Input": input}}
        })
    }

    #[test]
    fn an_inpainting_app_maps_its_fields_and_options() {
        let doc = openapi(json!({
            "type": "object", "required": ["prompt", "image_url", "mask_url"],
            "properties": {
                "prompt": {"type": "string"},
                "image_url": {"type": "string"},
                "mask_url": {"type": "string", "description": "Black pixels will be inpainted, white pixels will be preserved."},
                "num_images": {"type": "integer", "minimum": 1, "maximum": 3, "default": 1},
                "seed": {"type": "integer"},
                "strength": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.8},
                "scheduler": {"enum": ["euler", "ddim"], "type": "string", "default": "euler"},
                "sync_mode": {"type": "boolean", "default": false}
            }
        }));
        let adapter = adapter_from_openapi("acme/inpaint", &doc, None).expect("adapter");
        assert_eq!(adapter.image, ImageField::Single("image_url".into()));
        assert_eq!(adapter.mask.as_deref(), Some("mask_url"));
        assert_eq!(adapter.mask_convention(), MaskConvention::BlackIsEdit);
        assert_eq!(adapter.capabilities.mask, MaskSupport::Required);
        assert_eq!(*adapter.capabilities.n.end(), 3);
        assert!(adapter.capabilities.option("strength").is_some());
        assert!(adapter.capabilities.option("scheduler").is_some());
        assert!(adapter.capabilities.option("sync_mode").is_none());
    }

    #[test]
    fn an_app_without_an_image_input_cannot_edit() {
        let doc = openapi(json!({"type": "object", "properties": {"prompt": {"type": "string"}}}));
        let err = adapter_from_openapi("acme/inpaint", &doc, None).expect_err("no image");
        assert!(err.to_string().contains("cannot edit images"), "{err}");
    }
}
