//! Adapters read from a model's published input schema
//! (`latest_version.openapi_schema.components.schemas.Input`), for models
//! without a built-in adapter.
//!
//! Inputs are matched to our request by name and type:
//!
//! | our field | the model input |
//! |---|---|
//! | prompt | a text input named `prompt`, `instruction`, `text`, `caption`, `edit_prompt`, `input_prompt`, else one whose name contains `prompt` (not `negative`) |
//! | image | a URI input named `image`, `input_image`, `init_image`, `img`, `source_image`, `image_url`, `input`; else a URI list whose name contains `image`; else a URI input whose name contains `image` |
//! | mask | a URI input whose name contains `mask`; its convention read from its description (`white ... inpainted`, `black ... preserved`) |
//! | `n` | an integer named `num_outputs`, `num_images`, `number_of_images`, `n`, `batch_size`, `num_samples`; its `maximum` is the per-prediction limit |
//! | seed | an integer named `seed`, `random_seed`, `noise_seed`, `manual_seed` |
//! | size | integers `width` and `height` |
//!
//! Every other scalar input becomes a typed provider option (enums become
//! choices, ranges become bounds), so values are checked before anything is
//! sent. Inputs the model requires that nothing fills must be given as options.

use msgflux_core::{Error, MaskConvention, MaskSupport, OptionKind, OptionSpec, Result, Size, SizeRule};
use serde_json::{Map, Value};

use crate::models::{AdapterSource, ImageField, JsonType, ModelAdapter, OptionField};

/// One input of the schema, with `allOf`/`$ref` indirections resolved.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: Kind,
    description: String,
    required: bool,
    has_default: bool,
    minimum: Option<f64>,
    maximum: Option<f64>,
    choices: Option<Vec<Value>>,
    max_items: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Uri,
    UriList,
    Integer,
    Number,
    Boolean,
    Other,
}

const PROMPT_NAMES: &[&str] = &[
    "prompt",
    "instruction",
    "text",
    "caption",
    "edit_prompt",
    "input_prompt",
];
const IMAGE_NAMES: &[&str] = &[
    "image",
    "input_image",
    "init_image",
    "img",
    "source_image",
    "image_url",
    "input",
];
const COUNT_NAMES: &[&str] = &[
    "num_outputs",
    "num_images",
    "number_of_images",
    "n",
    "batch_size",
    "num_samples",
];
const SEED_NAMES: &[&str] = &["seed", "random_seed", "noise_seed", "manual_seed"];

/// Builds the adapter of `model` from its OpenAPI schema. `mask_override`
/// replaces the mask convention read from the schema's description.
pub(crate) fn adapter_from_schema(
    model: &str,
    openapi_schema: &Value,
    mask_override: Option<MaskConvention>,
) -> Result<ModelAdapter> {
    let bad = |why: String| Error::invalid("model", format!("{model}: {why}"));
    let input = openapi_schema
        .pointer("/components/schemas/Input")
        .ok_or_else(|| bad("its schema has no `components.schemas.Input`".into()))?;
    let fields = read_fields(input, openapi_schema);
    if fields.is_empty() {
        return Err(bad("its input schema lists no inputs".into()));
    }
    let find = |pred: &dyn Fn(&Field) -> bool| fields.iter().find(|f| pred(f)).map(|f| f.name.clone());

    let prompt = PROMPT_NAMES
        .iter()
        .find_map(|n| fields.iter().find(|f| f.name == *n && f.kind == Kind::Text))
        .map(|f| f.name.clone())
        .or_else(|| find(&|f| f.kind == Kind::Text && f.name.contains("prompt") && !f.name.contains("negative")));
    let image = IMAGE_NAMES
        .iter()
        .find_map(|n| fields.iter().find(|f| f.name == *n && f.kind == Kind::Uri))
        .map(|f| ImageField::Single(f.name.clone()))
        .or_else(|| find(&|f| f.kind == Kind::UriList && f.name.contains("image")).map(ImageField::List))
        .or_else(|| {
            find(&|f| f.kind == Kind::Uri && f.name.contains("image") && !f.name.contains("mask"))
                .map(ImageField::Single)
        })
        .ok_or_else(|| {
            bad(
                "its schema has no image input (a URI such as `image` or `input_image`), so it cannot edit images"
                    .into(),
            )
        })?;
    let mask = find(&|f| f.kind == Kind::Uri && f.name.contains("mask"));
    let count = COUNT_NAMES
        .iter()
        .find_map(|n| fields.iter().find(|f| f.name == *n && f.kind == Kind::Integer));
    let seed = SEED_NAMES
        .iter()
        .find_map(|n| fields.iter().find(|f| f.name == *n && f.kind == Kind::Integer));
    let width = fields.iter().find(|f| f.name == "width" && f.kind == Kind::Integer);
    let height = fields.iter().find(|f| f.name == "height" && f.kind == Kind::Integer);

    let mut adapter = ModelAdapter::new(model, false, AdapterSource::Schema, image.clone());
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
    if let Some(name) = &mask {
        let field = fields
            .iter()
            .find(|f| &f.name == name)
            .expect("the mask field was found above");
        let convention = mask_override
            .or_else(|| convention_from_description(&field.description))
            .unwrap_or(MaskConvention::WhiteIsEdit);
        let support = if field.required {
            MaskSupport::Required
        } else {
            MaskSupport::Optional
        };
        adapter = adapter.with_mask(name, convention, support);
    }
    if let Some(field) = count {
        let max = field.maximum.map_or(1, |m| m.clamp(1.0, 64.0) as u32);
        adapter = adapter.with_count(&field.name, max);
    }
    if let Some(field) = seed {
        let max = field.maximum.filter(|m| *m >= 0.0).map(|m| m as u64);
        adapter = adapter.with_seed(&field.name, max);
    }
    if let (Some(width), Some(height)) = (width, height) {
        adapter = adapter.with_size(&width.name, &height.name, size_rule(width, height));
    }

    let mapped: Vec<String> = [
        prompt.clone(),
        Some(image.name().to_string()),
        mask.clone(),
        count.map(|f| f.name.clone()),
        seed.map(|f| f.name.clone()),
        width.filter(|_| height.is_some()).map(|f| f.name.clone()),
        height.filter(|_| width.is_some()).map(|f| f.name.clone()),
    ]
    .into_iter()
    .flatten()
    .collect();
    for field in fields.iter().filter(|f| !mapped.contains(&f.name)) {
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

/// The properties of the `Input` schema, in the model's own order (`x-order`).
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
        .map(|(name, schema)| {
            let merged = flatten(schema, root);
            let order = merged.get("x-order").and_then(Value::as_i64).unwrap_or(i64::MAX);
            (order, field(name, &merged, required.contains(&name.as_str())))
        })
        .collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    fields.into_iter().map(|(_, f)| f).collect()
}

/// Merges `allOf` members and `$ref` targets into one schema object; for
/// `anyOf`/`oneOf` (nullable inputs) the first non-null member is used.
fn flatten(schema: &Value, root: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    merge_into(&mut out, schema, root, 0);
    out
}

fn merge_into(out: &mut Map<String, Value>, schema: &Value, root: &Value, depth: u32) {
    let Some(object) = schema.as_object() else {
        return;
    };
    if depth > 8 {
        return;
    }
    if let Some(target) = object
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| root.pointer(pointer))
    {
        merge_into(out, target, root, depth + 1);
    }
    for member in object.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        merge_into(out, member, root, depth + 1);
    }
    if let Some(member) = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| object.get(*k).and_then(Value::as_array))
        .flatten()
        .find(|m| m.get("type").and_then(Value::as_str) != Some("null"))
    {
        merge_into(out, member, root, depth + 1);
    }
    for (key, value) in object {
        if !matches!(key.as_str(), "$ref" | "allOf" | "anyOf" | "oneOf") {
            out.insert(key.clone(), value.clone());
        }
    }
}

fn field(name: &str, schema: &Map<String, Value>, required: bool) -> Field {
    let kind = match schema.get("type").and_then(Value::as_str) {
        Some("string") if schema.get("format").and_then(Value::as_str) == Some("uri") => Kind::Uri,
        Some("string") => Kind::Text,
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        Some("array") => {
            let items = schema.get("items");
            let uri_items = items.and_then(|i| i.get("format")).and_then(Value::as_str) == Some("uri");
            if uri_items { Kind::UriList } else { Kind::Other }
        }
        // Enums referenced without a type are text in practice (cog writes `type` on the enum schema).
        None if schema.contains_key("enum") => Kind::Text,
        _ => Kind::Other,
    };
    Field {
        name: name.to_string(),
        kind,
        description: schema
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        required,
        has_default: schema.contains_key("default"),
        minimum: schema.get("minimum").and_then(Value::as_f64),
        maximum: schema.get("maximum").and_then(Value::as_f64),
        choices: schema.get("enum").and_then(Value::as_array).cloned(),
        max_items: schema.get("maxItems").and_then(Value::as_u64),
    }
}

/// The typed option of a schema input, or `None` when its type cannot be given as an option.
fn option_for(field: &Field) -> Option<(OptionSpec, OptionField)> {
    let help = first_sentence(&field.description);
    let integer_bound = |v: Option<f64>, fallback: i64| v.map_or(fallback, |v| v as i64);
    let (kind, json) = match (field.kind, &field.choices) {
        (Kind::Text | Kind::Uri, Some(choices)) => (
            OptionKind::Choice(
                choices
                    .iter()
                    .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string))
                    .collect(),
            ),
            JsonType::String,
        ),
        (Kind::Text | Kind::Uri, None) => (OptionKind::Text, JsonType::String),
        (Kind::Integer, choices) => {
            let listed = choices
                .as_ref()
                .map(|c| c.iter().filter_map(Value::as_i64).collect::<Vec<_>>());
            let (min, max) = match &listed {
                Some(values) if !values.is_empty() => (
                    values.iter().copied().min().unwrap_or(i64::MIN),
                    values.iter().copied().max().unwrap_or(i64::MAX),
                ),
                _ => (
                    integer_bound(field.minimum, i64::MIN),
                    integer_bound(field.maximum, i64::MAX),
                ),
            };
            (OptionKind::Integer { min, max }, JsonType::Integer)
        }
        (Kind::Number, _) => (
            OptionKind::Number {
                min: field.minimum.unwrap_or(f64::MIN),
                max: field.maximum.unwrap_or(f64::MAX),
            },
            JsonType::Number,
        ),
        (Kind::Boolean, _) => (OptionKind::Bool, JsonType::Boolean),
        (Kind::UriList | Kind::Other, _) => return None,
    };
    // Choices of text are checked by the option kind itself; numeric lists need the extra check.
    let allowed = match json {
        JsonType::Integer | JsonType::Number => field.choices.clone(),
        _ => None,
    };
    Some((
        OptionSpec::new(field.name.clone(), kind, help),
        OptionField { json, allowed },
    ))
}

fn first_sentence(text: &str) -> String {
    let sentence = text.split(". ").next().unwrap_or_default().trim().trim_end_matches('.');
    let mut short: String = sentence.chars().take(100).collect();
    if sentence.chars().count() > 100 {
        short.push('…');
    }
    short
}

/// Reads which colour means "edit" from a mask input's description:
/// "White pixels are inpainted" and "black areas will be preserved" both say white = edit.
fn convention_from_description(description: &str) -> Option<MaskConvention> {
    const EDIT: &[&str] = &[
        "inpaint",
        "repaint",
        "edit",
        "regenerat",
        "chang",
        "replac",
        "fill",
        "modif",
        "generat",
        "mask out",
    ];
    const KEEP: &[&str] = &["preserv", "kept", "keep", "unchanged", "protect", "untouched", "retain"];
    let lower = description.to_ascii_lowercase();
    let clauses = lower
        .split(['.', ';', ',', '\n'])
        .flat_map(|c| c.split(" and "))
        .flat_map(|c| c.split(" while "))
        .flat_map(|c| c.split(" whereas "));
    for clause in clauses {
        let edits = EDIT.iter().any(|w| clause.contains(w));
        let keeps = KEEP.iter().any(|w| clause.contains(w));
        let white = clause.contains("white");
        let black = clause.contains("black");
        if white == black {
            if (clause.contains("transparent") || clause.contains("alpha")) && edits && !keeps {
                return Some(MaskConvention::TransparentIsEdit);
            }
            continue;
        }
        match (edits, keeps) {
            (true, false) => {
                return Some(if white {
                    MaskConvention::WhiteIsEdit
                } else {
                    MaskConvention::BlackIsEdit
                });
            }
            (false, true) => {
                return Some(if white {
                    MaskConvention::BlackIsEdit
                } else {
                    MaskConvention::WhiteIsEdit
                });
            }
            _ => {}
        }
    }
    None
}

/// The sizes a width/height pair accepts.
fn size_rule(width: &Field, height: &Field) -> SizeRule {
    let ints = |f: &Field| -> Option<Vec<u32>> {
        f.choices.as_ref().map(|c| {
            c.iter()
                .filter_map(Value::as_u64)
                .filter_map(|v| u32::try_from(v).ok())
                .collect()
        })
    };
    if let (Some(ws), Some(hs)) = (ints(width), ints(height))
        && !ws.is_empty()
        && !hs.is_empty()
    {
        let all: Vec<u32> = ws.iter().chain(&hs).copied().collect();
        let step = all.iter().copied().fold(0, gcd).max(1);
        let (min, max) = (
            all.iter().copied().min().unwrap_or(step),
            all.iter().copied().max().unwrap_or(step),
        );
        let full = |values: &[u32]| (min..=max).step_by(step as usize).all(|v| values.contains(&v));
        if ws == hs && full(&ws) {
            return SizeRule::MultipleOf { step, min, max };
        }
        let mut sizes = Vec::new();
        for w in &ws {
            for h in &hs {
                sizes.push(Size::new(*w, *h));
            }
        }
        return SizeRule::OneOf(sizes);
    }
    let step = multiple_of(&width.description)
        .or_else(|| multiple_of(&height.description))
        .unwrap_or(1);
    let bound = |v: Option<f64>, fallback: u32| v.map_or(fallback, |v| v.clamp(1.0, f64::from(u32::MAX)) as u32);
    let min = bound(width.minimum, 1).max(bound(height.minimum, 1));
    let max = bound(width.maximum, 4096).min(bound(height.maximum, 4096));
    SizeRule::MultipleOf { step, min, max }
}

/// "Must be a multiple of 64" → 64.
fn multiple_of(description: &str) -> Option<u32> {
    let lower = description.to_ascii_lowercase();
    let rest = &lower[lower.find("multiple of ")? + "multiple of ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|n| *n > 0)
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(properties: Value, required: &[&str]) -> Value {
        json!({
            "openapi": "3.0.2",
            "components": {"schemas": {
                "Input": {"type": "object", "title": "Input", "required": required, "properties": properties},
                "scheduler": {"type": "string", "enum": ["DDIM", "K_EULER"], "title": "scheduler"}
            }}
        })
    }

    #[test]
    fn unusual_input_names_are_mapped_by_name_and_type() {
        let schema = schema(
            json!({
                "instruction": {"type": "string", "x-order": 0},
                "source_image": {"type": "string", "format": "uri", "x-order": 1},
                "inpaint_mask": {"type": "string", "format": "uri", "x-order": 2,
                    "description": "Black pixels are repainted, white pixels are kept."},
                "number_of_images": {"type": "integer", "minimum": 1, "maximum": 2, "x-order": 3},
                "noise_seed": {"type": "integer", "x-order": 4},
                "strength": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.8, "x-order": 5},
                "scheduler": {"allOf": [{"$ref": "#/components/schemas/scheduler"}], "default": "DDIM", "x-order": 6}
            }),
            &["instruction", "source_image"],
        );
        let adapter = adapter_from_schema("acme/odd", &schema, None).expect("adapter");
        assert_eq!(adapter.prompt.as_deref(), Some("instruction"));
        assert_eq!(adapter.image, ImageField::Single("source_image".into()));
        assert_eq!(adapter.mask.as_deref(), Some("inpaint_mask"));
        assert_eq!(adapter.mask_convention(), MaskConvention::BlackIsEdit);
        assert_eq!(adapter.capabilities.mask, MaskSupport::Optional);
        assert_eq!(
            adapter.count.as_ref().map(|c| (c.name.as_str(), c.max)),
            Some(("number_of_images", 2))
        );
        assert_eq!(adapter.seed.as_ref().map(|s| s.name.as_str()), Some("noise_seed"));
        assert_eq!(
            adapter.capabilities.option("scheduler").map(|o| o.kind.clone()),
            Some(OptionKind::Choice(vec!["DDIM".into(), "K_EULER".into()]))
        );
        assert_eq!(
            adapter.capabilities.option("strength").map(|o| o.kind.clone()),
            Some(OptionKind::Number { min: 0.0, max: 1.0 })
        );
        assert!(adapter.capabilities.option("instruction").is_none());
    }

    #[test]
    fn an_image_list_is_an_image_input() {
        let schema = schema(
            json!({
                "prompt": {"type": "string"},
                "image_input": {"type": "array", "items": {"type": "string", "format": "uri"}, "maxItems": 3}
            }),
            &["prompt"],
        );
        let adapter = adapter_from_schema("g/banana", &schema, None).expect("adapter");
        assert_eq!(adapter.image, ImageField::List("image_input".into()));
        assert_eq!(adapter.capabilities.max_images, 3);
        assert_eq!(adapter.capabilities.mask, MaskSupport::Unsupported);
    }

    #[test]
    fn a_model_without_an_image_input_cannot_edit() {
        let schema = schema(json!({"prompt": {"type": "string"}}), &["prompt"]);
        let err = adapter_from_schema("a/text-to-image", &schema, None).expect_err("no image");
        assert!(err.to_string().contains("no image input"), "{err}");
    }

    #[test]
    fn a_required_input_nothing_fills_must_come_as_an_option() {
        let schema = schema(
            json!({
                "image": {"type": "string", "format": "uri"},
                "style": {"type": "string", "enum": ["anime", "photo"]}
            }),
            &["image", "style"],
        );
        let adapter = adapter_from_schema("a/style", &schema, None).expect("adapter");
        assert_eq!(adapter.required, vec!["style".to_string()]);
        assert!(!adapter.capabilities.honours_prompt);
    }

    #[test]
    fn width_and_height_lists_become_a_grid() {
        let sides: Vec<u32> = (1..=16).map(|i| i * 64).collect();
        let schema = schema(
            json!({
                "image": {"type": "string", "format": "uri"},
                "width": {"type": "integer", "enum": sides},
                "height": {"type": "integer", "enum": sides}
            }),
            &["image"],
        );
        let adapter = adapter_from_schema("a/grid", &schema, None).expect("adapter");
        assert_eq!(
            adapter.capabilities.sizes,
            SizeRule::MultipleOf {
                step: 64,
                min: 64,
                max: 1024
            }
        );
    }

    #[test]
    fn mask_descriptions_say_which_colour_is_edited() {
        let cases = [
            (
                "Black and white image to use as mask for inpainting over the image provided. White pixels are inpainted and black pixels are preserved.",
                Some(MaskConvention::WhiteIsEdit),
            ),
            (
                "A black-and-white image that describes the part of the image to inpaint. Black areas will be preserved while white areas will be inpainted.",
                Some(MaskConvention::WhiteIsEdit),
            ),
            (
                "Black pixels are repainted, white pixels are kept.",
                Some(MaskConvention::BlackIsEdit),
            ),
            ("Mask image", None),
        ];
        for (text, expected) in cases {
            assert_eq!(convention_from_description(text), expected, "{text}");
        }
    }

    #[test]
    fn a_mask_convention_setting_overrides_the_description() {
        let schema = schema(
            json!({
                "image": {"type": "string", "format": "uri"},
                "mask": {"type": "string", "format": "uri", "description": "White pixels are inpainted."}
            }),
            &["image", "mask"],
        );
        let adapter = adapter_from_schema("a/m", &schema, Some(MaskConvention::BlackIsEdit)).expect("adapter");
        assert_eq!(adapter.mask_convention(), MaskConvention::BlackIsEdit);
        assert_eq!(adapter.capabilities.mask, MaskSupport::Required);
    }
}
