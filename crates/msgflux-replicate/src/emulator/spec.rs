//! Checks JSON against the schemas of an OpenAPI document: the published
//! Replicate API description for request bodies, and each model's own input
//! schema for prediction inputs.
//!
//! The subset covered is what those documents use: `$ref`, `allOf`,
//! `anyOf`/`oneOf`, `type` (with `nullable`), `enum`, `required`,
//! `properties`, `additionalProperties: false`, `items`, `minItems`/`maxItems`,
//! `minimum`/`maximum`, `maxLength` and `format: uri`.

use serde_json::Value;

/// Validates `value` against `schema`, resolving `$ref`s in `root`.
/// Returns one line per problem, each naming the JSON path.
pub(crate) fn validate(value: &Value, schema: &Value, root: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check(value, schema, root, "$", &mut problems, 0);
    problems
}

/// The request-body schema of an operation of the published API description.
pub(crate) fn request_body_schema<'a>(spec: &'a Value, path: &str, method: &str, media: &str) -> Option<&'a Value> {
    spec.get("paths")?
        .get(path)?
        .get(method)?
        .get("requestBody")?
        .get("content")?
        .get(media)?
        .get("schema")
}

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..8 {
        match current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer))
        {
            Some(target) => current = target,
            None => break,
        }
    }
    current
}

fn check(value: &Value, schema: &Value, root: &Value, at: &str, problems: &mut Vec<String>, depth: u32) {
    if depth > 32 {
        return;
    }
    let schema = resolve(schema, root);
    for member in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        check(value, member, root, at, problems, depth + 1);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(members) = schema.get(key).and_then(Value::as_array) {
            let fits = members.iter().any(|m| {
                let mut scratch = Vec::new();
                check(value, m, root, at, &mut scratch, depth + 1);
                scratch.is_empty()
            });
            if !fits {
                problems.push(format!("{at}: matches none of the `{key}` alternatives"));
            }
        }
    }
    if value.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(expected) = schema.get("type").and_then(Value::as_str) {
        let fits = match expected {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => true,
        };
        if !fits {
            problems.push(format!("{at}: expected {expected}, got {value}"));
            return;
        }
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array)
        && !choices.iter().any(|c| same(c, value))
    {
        problems.push(format!("{at}: {value} is not one of {}", Value::Array(choices.clone())));
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            problems.push(format!("{at}: {n} is below the minimum {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            problems.push(format!("{at}: {n} is above the maximum {max}"));
        }
    }
    if let Some(text) = value.as_str() {
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
            && text.chars().count() as u64 > max
        {
            problems.push(format!("{at}: longer than {max} characters"));
        }
        if schema.get("format").and_then(Value::as_str) == Some("uri")
            && !["http://", "https://", "data:"].iter().any(|p| text.starts_with(p))
        {
            problems.push(format!(
                "{at}: `{}` is not a URI",
                text.chars().take(40).collect::<String>()
            ));
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(item, item_schema, root, &format!("{at}[{i}]"), problems, depth + 1);
            }
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
            && items.len() as u64 > max
        {
            problems.push(format!("{at}: more than {max} items"));
        }
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            problems.push(format!("{at}: fewer than {min} items"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                problems.push(format!("{at}: the required property `{name}` is missing"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, item) in object {
            match properties.and_then(|p| p.get(name)) {
                Some(property) => check(item, property, root, &format!("{at}.{name}"), problems, depth + 1),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    problems.push(format!("{at}: the property `{name}` is not allowed"));
                }
                None => {}
            }
        }
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_with_an_unknown_property_breaks_additional_properties_false() {
        let root = json!({"components": {"schemas": {"req": {
            "type": "object", "additionalProperties": false, "required": ["input"],
            "properties": {"input": {"type": "object"}}
        }}}});
        let schema = json!({"$ref": "#/components/schemas/req"});
        assert!(validate(&json!({"input": {}}), &schema, &root).is_empty());
        let problems = validate(&json!({"input": {}, "model": "x"}), &schema, &root);
        assert_eq!(problems, vec!["$: the property `model` is not allowed".to_string()]);
        let problems = validate(&json!({}), &schema, &root);
        assert_eq!(
            problems,
            vec!["$: the required property `input` is missing".to_string()]
        );
    }

    #[test]
    fn ranges_enums_and_uris_are_checked() {
        let root = json!({"components": {"schemas": {"fmt": {"type": "string", "enum": ["jpg", "png"]}}}});
        let schema = json!({"type": "object", "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 4},
            "f": {"allOf": [{"$ref": "#/components/schemas/fmt"}]},
            "img": {"type": "string", "format": "uri"}
        }});
        assert!(
            validate(
                &json!({"n": 4, "f": "png", "img": "data:image/png;base64,AA"}),
                &schema,
                &root
            )
            .is_empty()
        );
        let problems = validate(&json!({"n": 5, "f": "gif", "img": "photo.png"}), &schema, &root);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
