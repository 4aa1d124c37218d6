//! A checker for request and answer shapes, driven by the committed subset of
//! OpenAI's published OpenAPI description (specs/openai/images-edits.json,
//! made by specs/openai/extract.py).
//!
//! Multipart bodies are checked field by field against the
//! `multipart/form-data` schema of `POST /images/edits`
//! (`CreateImageEditRequest`): unknown fields, wrong types, values outside an
//! enum or a range, text where a file belongs (and the reverse), repeated
//! fields and missing required fields are all reported.
//!
//! About `nullable`: the document is OpenAPI 3.1 but keeps 3.0's
//! `nullable: true` on many fields. A multipart body cannot carry a null, so
//! the checker judges such a field by its `type` alone, and a `type: "null"`
//! alternative never matches a sent value. The negative tests make sure this
//! reading rejects bad requests instead of waving them through.

use std::collections::BTreeMap;

use serde_json::Value;

/// The committed subset of the spec (`specs/openai/images-edits.json`),
/// compiled in, so that the emulator finds it wherever it runs.
pub const SPEC_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../specs/openai/images-edits.json"
));

/// One multipart field as a server sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Field name (`image[]`, `prompt`, ...).
    pub name: String,
    /// Text or file.
    pub value: PartValue,
}

/// The content of a multipart field.
#[derive(Clone, PartialEq)]
pub enum PartValue {
    /// A text field.
    Text(String),
    /// A file part.
    File {
        /// `filename` of the part's Content-Disposition.
        filename: Option<String>,
        /// The part's Content-Type.
        content_type: Option<String>,
        /// The file's bytes.
        bytes: Vec<u8>,
    },
}

impl std::fmt::Debug for PartValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(t) if t.len() > 80 => write!(f, "Text({} chars)", t.len()),
            Self::Text(t) => f.debug_tuple("Text").field(t).finish(),
            Self::File {
                filename,
                content_type,
                bytes,
            } => write!(f, "File({filename:?}, {content_type:?}, {} bytes)", bytes.len()),
        }
    }
}

impl Part {
    /// A text field.
    pub fn text(name: &str, value: &str) -> Self {
        Self {
            name: name.into(),
            value: PartValue::Text(value.into()),
        }
    }

    /// A file part.
    pub fn file(name: &str, filename: &str, content_type: &str, bytes: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            value: PartValue::File {
                filename: Some(filename.into()),
                content_type: Some(content_type.into()),
                bytes,
            },
        }
    }

    /// The text, for text fields.
    pub fn as_text(&self) -> Option<&str> {
        match &self.value {
            PartValue::Text(t) => Some(t),
            PartValue::File { .. } => None,
        }
    }
}

/// The spec subset ([`SPEC_JSON`]), ready to check against: the checker the
/// emulator runs on every request and on its own answers.
///
/// [`Spec::check_edit_multipart`] checks a multipart body field by field
/// against the `multipart/form-data` schema of `POST /images/edits`
/// (`CreateImageEditRequest`): unknown fields, wrong types, values outside an
/// enum or a range, text where a file belongs (and the reverse), repeated
/// fields, too many items and missing required fields are all reported.
/// [`Spec::check_json`] checks an answer or a streamed event against a named
/// schema.
///
/// About `nullable`: the document is OpenAPI 3.1 but keeps 3.0's
/// `nullable: true` on many fields. A multipart body cannot carry a null, so
/// the checker judges such a field by its `type` alone, and a `type: "null"`
/// alternative never matches a sent value.
///
/// ```
/// use msgflux_openai::emulator::{Part, Spec};
/// let problems = Spec::load().check_edit_multipart(&[
///     Part::text("prompt", "add a hat"),
///     Part::text("n", "two"),
/// ]);
/// assert!(problems.iter().any(|p| p.contains("`two` is not an integer")), "{problems:?}");
/// assert!(problems.iter().any(|p| p.contains("required field `image` is missing")), "{problems:?}");
/// ```
#[derive(Debug, Clone)]
pub struct Spec {
    root: Value,
}

impl Default for Spec {
    fn default() -> Self {
        Self::load()
    }
}

impl Spec {
    /// Parses the committed subset ([`SPEC_JSON`]).
    pub fn load() -> Self {
        let root: Value = serde_json::from_str(SPEC_JSON).expect("specs/openai/images-edits.json is valid JSON");
        Self { root }
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut schema = schema;
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unsupported $ref {reference}"));
            schema = &self.root["components"]["schemas"][name];
            assert!(!schema.is_null(), "the spec subset lacks {reference}");
        }
        schema
    }

    /// The operation of `POST /images/edits`.
    fn operation(&self) -> &Value {
        &self.root["paths"]["/images/edits"]["post"]
    }

    /// The media types the request body may use.
    pub fn request_media_types(&self) -> Vec<String> {
        self.operation()["requestBody"]["content"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The schema of the multipart body.
    pub fn multipart_schema(&self) -> &Value {
        self.resolve(&self.operation()["requestBody"]["content"]["multipart/form-data"]["schema"])
    }

    /// A named component schema.
    pub fn schema(&self, name: &str) -> &Value {
        let schema = &self.root["components"]["schemas"][name];
        assert!(!schema.is_null(), "the spec subset has no schema {name}");
        schema
    }

    /// Every problem of a multipart edit body; empty when the body fits the spec.
    pub fn check_edit_multipart(&self, parts: &[Part]) -> Vec<String> {
        let schema = self.multipart_schema();
        let properties = schema["properties"]
            .as_object()
            .expect("the edit schema has properties");
        let mut problems = Vec::new();
        let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for part in parts {
            let (base, bracketed) = match part.name.strip_suffix("[]") {
                Some(base) => (base, true),
                None => (part.name.as_str(), false),
            };
            let Some(property) = properties.get(base) else {
                problems.push(format!("unknown field `{}`", part.name));
                continue;
            };
            let entry = counts.entry(base).or_default();
            if bracketed {
                entry.1 += 1;
                match self.array_items(property) {
                    Some((items, _)) => {
                        if let Err(problem) = self.accepts_part(items, &part.value) {
                            problems.push(format!("`{}`: {problem}", part.name));
                        }
                    }
                    None => problems.push(format!("`{base}` is not an array; send it as `{base}`, not `{base}[]`")),
                }
            } else {
                entry.0 += 1;
                if let Err(problem) = self.accepts_part(property, &part.value) {
                    problems.push(format!("`{}`: {problem}", part.name));
                }
            }
        }
        for (base, (plain, bracketed)) in &counts {
            if *plain > 1 {
                problems.push(format!(
                    "`{base}` is sent {plain} times; a repeated field must be an array sent as `{base}[]`"
                ));
            }
            if *plain > 0 && *bracketed > 0 {
                problems.push(format!("`{base}` and `{base}[]` are both sent"));
            }
            if *bracketed > 0
                && let Some((_, Some(max))) = properties.get(*base).and_then(|p| self.array_items(p))
                && *bracketed as u64 > max
            {
                problems.push(format!("`{base}[]` has {bracketed} items; at most {max} allowed"));
            }
        }
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !counts.contains_key(name) {
                problems.push(format!("required field `{name}` is missing"));
            }
        }
        problems
    }

    /// The item schema and `maxItems` of an array schema (or of an `anyOf` branch that is one).
    fn array_items<'a>(&'a self, schema: &'a Value) -> Option<(&'a Value, Option<u64>)> {
        let schema = self.resolve(schema);
        if schema["type"] == "array" {
            return Some((&schema["items"], schema["maxItems"].as_u64()));
        }
        alternatives(schema)?.iter().find_map(|branch| self.array_items(branch))
    }

    fn accepts_part(&self, schema: &Value, value: &PartValue) -> Result<(), String> {
        let schema = self.resolve(schema);
        if let Some(branches) = alternatives(schema) {
            let mut reasons = Vec::new();
            for branch in branches {
                match self.accepts_part(branch, value) {
                    Ok(()) => return Ok(()),
                    Err(reason) => reasons.push(reason),
                }
            }
            return Err(format!("matches no alternative ({})", reasons.join(" | ")));
        }
        let text = || match value {
            PartValue::Text(t) => Ok(t.as_str()),
            PartValue::File { .. } => Err("a file was sent where the spec wants text".to_string()),
        };
        match schema["type"].as_str() {
            Some("string") if schema["format"] == "binary" => match value {
                PartValue::File { .. } => Ok(()),
                PartValue::Text(_) => Err("text was sent where the spec wants a file".into()),
            },
            Some("string") => check_enum(schema, &Value::from(text()?)),
            Some("integer") => {
                let raw = text()?;
                let number: i64 = raw.parse().map_err(|_| format!("`{raw}` is not an integer"))?;
                check_range(schema, number as f64)?;
                check_enum(schema, &Value::from(number))
            }
            Some("number") => {
                let raw = text()?;
                let number: f64 = raw.parse().map_err(|_| format!("`{raw}` is not a number"))?;
                check_range(schema, number)
            }
            Some("boolean") => match text()? {
                "true" | "false" => Ok(()),
                other => Err(format!("`{other}` is not a boolean (true or false)")),
            },
            Some("null") => Err("null cannot be sent in a multipart body".into()),
            Some(other) => Err(format!("a {other} cannot be sent as one multipart field")),
            None if schema.get("enum").is_some() => check_enum(schema, &Value::from(text()?)),
            None => Ok(()),
        }
    }

    /// Every problem of a JSON value against a named schema (answers, events).
    pub fn check_json(&self, schema_name: &str, value: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        self.json_problems(self.schema(schema_name), value, schema_name, &mut problems);
        problems
    }

    fn json_problems(&self, schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if let Some(branches) = alternatives(schema) {
            let fits = branches.iter().any(|branch| {
                let mut inner = Vec::new();
                self.json_problems(branch, value, path, &mut inner);
                inner.is_empty()
            });
            if !fits {
                problems.push(format!("{path}: matches no alternative"));
            }
            return;
        }
        let kind_ok = match schema["type"].as_str() {
            Some("object") => value.is_object(),
            Some("array") => value.is_array(),
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some("null") => value.is_null(),
            _ => true,
        };
        if !kind_ok {
            problems.push(format!("{path}: expected {}, got {value}", schema["type"]));
            return;
        }
        if let Err(problem) = check_enum(schema, value) {
            problems.push(format!("{path}: {problem}"));
        }
        if let Some(object) = value.as_object() {
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap_or_default();
                if !object.contains_key(name) {
                    problems.push(format!("{path}: required `{name}` is missing"));
                }
            }
            if let Some(properties) = schema["properties"].as_object() {
                for (name, inner) in object {
                    if let Some(property) = properties.get(name) {
                        self.json_problems(property, inner, &format!("{path}.{name}"), problems);
                    }
                }
            }
        }
        if let Some(items) = value.as_array() {
            for (i, item) in items.iter().enumerate() {
                self.json_problems(&schema["items"], item, &format!("{path}[{i}]"), problems);
            }
        }
    }
}

fn alternatives(schema: &Value) -> Option<&Vec<Value>> {
    schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
}

fn check_enum(schema: &Value, value: &Value) -> Result<(), String> {
    match schema["enum"].as_array() {
        Some(allowed) if !allowed.contains(value) => Err(format!(
            "{value} is not one of {}",
            allowed.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
        )),
        _ => Ok(()),
    }
}

fn check_range(schema: &Value, number: f64) -> Result<(), String> {
    if let Some(min) = schema["minimum"].as_f64()
        && number < min
    {
        return Err(format!("{number} is below the minimum {min}"));
    }
    if let Some(max) = schema["maximum"].as_f64()
        && number > max
    {
        return Err(format!("{number} is above the maximum {max}"));
    }
    Ok(())
}

impl Part {
    /// The file name, for file parts.
    pub fn value_filename(&self) -> Option<&str> {
        match &self.value {
            PartValue::File { filename, .. } => filename.as_deref(),
            PartValue::Text(_) => None,
        }
    }

    /// The Content-Type, for file parts.
    pub fn content_type(&self) -> Option<&str> {
        match &self.value {
            PartValue::File { content_type, .. } => content_type.as_deref(),
            PartValue::Text(_) => None,
        }
    }

    /// The bytes, for file parts.
    pub fn file_bytes(&self) -> Option<&[u8]> {
        match &self.value {
            PartValue::File { bytes, .. } => Some(bytes),
            PartValue::Text(_) => None,
        }
    }
}
