//! A published API contract (an OpenAPI 3.0 or 3.1 document, committed in
//! `specs/`), and the checks every emulator runs with it: JSON bodies,
//! multipart bodies and the emulator's own answers, validated by the
//! `jsonschema` crate against the schema at a JSON pointer of the document.
//!
//! The document is normalised once to JSON Schema 2020-12: OpenAPI 3.0's
//! `nullable: true` becomes a `null` alternative, 3.0's boolean
//! `exclusiveMinimum`/`exclusiveMaximum` become numbers, and `oneOf` is read
//! as `anyOf`: published documents use `oneOf` for alternatives that overlap
//! (Replicate's `version` is "a version id" or "hidden", both strings), as
//! code generators read it. Everything else is
//! read as the document says; an unknown `$ref` is a problem reported for
//! the request, never a panic.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use super::multipart::{Part, PartValue};

/// An API contract, ready to check bodies against.
///
/// ```
/// use serde_json::json;
/// use msgflux_emulators::engine::Contract;
/// let contract = Contract::from_value("demo", json!({
///     "openapi": "3.0.1",
///     "components": {"schemas": {"Edit": {
///         "type": "object", "required": ["prompt"],
///         "properties": {"prompt": {"type": "string"}, "n": {"type": "integer", "maximum": 10, "nullable": true}}
///     }}}
/// }));
/// assert!(contract.check(&Contract::component("Edit"), &json!({"prompt": "x", "n": null})).is_empty());
/// let problems = contract.check(&Contract::component("Edit"), &json!({"n": 12}));
/// assert_eq!(problems.len(), 2, "{problems:?}");
/// ```
#[derive(Debug)]
pub struct Contract {
    name: String,
    /// Why the document could not be read, if it could not: every check then reports it.
    unreadable: Option<String>,
    document: Value,
    validators: Mutex<BTreeMap<String, Arc<Result<jsonschema::Validator, String>>>>,
}

impl Contract {
    /// A contract from the text of a JSON document. A document that is not
    /// JSON makes every check report that, rather than pass.
    pub fn from_json(name: &str, text: &str) -> Self {
        match serde_json::from_str(text) {
            Ok(document) => Self::from_value(name, document),
            Err(e) => {
                let mut contract = Self::from_value(name, Value::Null);
                contract.unreadable = Some(format!("the {name} contract is not JSON: {e}"));
                contract
            }
        }
    }

    /// A contract from a parsed document.
    pub fn from_value(name: &str, mut document: Value) -> Self {
        normalise(&mut document);
        Self {
            name: name.to_string(),
            unreadable: None,
            document,
            validators: Mutex::new(BTreeMap::new()),
        }
    }

    /// Replaces the value at `pointer` (a JSON pointer into the document,
    /// `/paths/~1edit/post/...`) with `value`, normalised like the rest: for
    /// a published document that contradicts its own service (a required
    /// field the service does not take, bounds the reference pages correct).
    /// Each emulator lists its corrections, with the reason, beside its
    /// contract file; a pointer that names nothing is a problem of every
    /// check, never silently ignored.
    ///
    /// ```
    /// use serde_json::json;
    /// use msgflux_emulators::engine::Contract;
    /// let contract = Contract::from_value("demo", json!({"components": {"schemas": {"Form": {
    ///     "type": "object", "required": ["image", "prompt"], "properties": {"image": {"type": "string"}}
    /// }}}}))
    /// .with_correction("/components/schemas/Form/required", json!(["image"]));
    /// assert!(contract.check(&Contract::component("Form"), &json!({"image": "x"})).is_empty());
    /// ```
    pub fn with_correction(mut self, pointer: &str, mut value: Value) -> Self {
        normalise(&mut value);
        match self.document.pointer_mut(pointer) {
            Some(slot) => *slot = value,
            None => {
                let problem = format!(
                    "{}: the correction at {pointer} names nothing in the document",
                    self.name
                );
                self.unreadable.get_or_insert(problem);
            }
        }
        self.validators.get_mut().unwrap_or_else(|e| e.into_inner()).clear();
        self
    }

    /// The contract with `patch` applied to its document as a JSON merge
    /// patch (RFC 7396: objects merge key by key, `null` removes a key, any
    /// other value replaces): for a published document that lags the live
    /// API, with the newer fields in a committed file of their own.
    ///
    /// ```
    /// use serde_json::json;
    /// use msgflux_emulators::engine::Contract;
    /// let contract = Contract::from_value("demo", json!({"components": {"schemas": {"C": {
    ///     "type": "object", "properties": {"a": {"type": "string"}}}}}}))
    ///     .with_overlay(&json!({"components": {"schemas": {"C": {"properties": {"b": {"type": "integer"}}}}}}))
    ///     .closed();
    /// assert!(contract.check(&Contract::component("C"), &json!({"a": "x", "b": 1})).is_empty());
    /// assert_eq!(contract.check(&Contract::component("C"), &json!({"b": "one"})).len(), 1);
    /// ```
    pub fn with_overlay(mut self, patch: &Value) -> Self {
        let mut patch = patch.clone();
        normalise(&mut patch);
        merge_patch(&mut self.document, &patch);
        self.validators = Mutex::new(BTreeMap::new());
        self
    }

    /// The contract with every object schema that lists its properties and
    /// says nothing about others closed to others (`additionalProperties:
    /// false`): a field the document does not know is reported, not passed
    /// over (Google's discovery documents never close their objects, while
    /// the service rejects unknown fields with `INVALID_ARGUMENT`).
    ///
    /// ```
    /// use serde_json::json;
    /// use msgflux_emulators::engine::Contract;
    /// let contract = Contract::from_value("demo", json!({"components": {"schemas": {"C": {
    ///     "type": "object", "properties": {"a": {"type": "string"}}}}}})).closed();
    /// let problems = contract.check(&Contract::component("C"), &json!({"a": "x", "typo": 1}));
    /// assert_eq!(problems.len(), 1, "{problems:?}");
    /// ```
    pub fn closed(mut self) -> Self {
        close_objects(&mut self.document);
        self.validators = Mutex::new(BTreeMap::new());
        self
    }

    /// The normalised document.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The JSON pointer of a component schema (`#/components/schemas/NAME`).
    pub fn component(name: &str) -> String {
        format!("#/components/schemas/{}", escape(name))
    }

    /// The JSON pointer of an operation's request body schema for a media type.
    pub fn request_body(path: &str, method: &str, media: &str) -> String {
        format!(
            "#/paths/{}/{method}/requestBody/content/{}/schema",
            escape(path),
            escape(media)
        )
    }

    /// The media types an operation's request body may use.
    pub fn request_media_types(&self, path: &str, method: &str) -> Vec<String> {
        self.document
            .pointer(&format!("/paths/{}/{method}/requestBody/content", escape(path)))
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every problem of `value` against the schema at `pointer`, each naming
    /// the place in the value; empty when it fits.
    pub fn check(&self, pointer: &str, value: &Value) -> Vec<String> {
        match self.validator(pointer).as_ref() {
            Err(problem) => vec![problem.clone()],
            Ok(validator) => validator
                .iter_errors(value)
                .map(|error| {
                    let at = error.instance_path().to_string();
                    if at.is_empty() {
                        error.to_string()
                    } else {
                        format!("at {at}: {error}")
                    }
                })
                .collect(),
        }
    }

    /// Every problem of a multipart body against the (object) schema at
    /// `pointer`: the fields are read the way a server reads a form (text
    /// typed by the schema, repeated `name[]` fields as an array, files as
    /// files), then checked like JSON. Fields the schema does not list, text
    /// where a file belongs and a file where text belongs are problems too.
    pub fn check_multipart(&self, pointer: &str, parts: &[Part]) -> Vec<String> {
        if let Some(problem) = &self.unreadable {
            return vec![problem.clone()];
        }
        let Some(schema) = self.resolve_pointer(pointer) else {
            return vec![format!("{}: no schema at {pointer}", self.name)];
        };
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return vec![format!("{}: the schema at {pointer} lists no fields", self.name)];
        };
        let mut problems = Vec::new();
        let mut fields: BTreeMap<&str, (Vec<Value>, bool)> = BTreeMap::new();
        for part in parts {
            let (base, bracketed) = match part.name.strip_suffix("[]") {
                Some(base) => (base, true),
                None => (part.name.as_str(), false),
            };
            let Some(property) = properties.get(base) else {
                problems.push(format!("unknown field `{}`", part.name));
                continue;
            };
            let shape = self.shape(property);
            let value = match &part.value {
                PartValue::File { bytes, .. } => {
                    if !shape.file {
                        problems.push(format!(
                            "`{}`: a file was sent where the contract wants text",
                            part.name
                        ));
                    }
                    Value::String(format!("<file of {} bytes>", bytes.len()))
                }
                PartValue::Text(text) => {
                    if shape.file && !shape.text {
                        problems.push(format!(
                            "`{}`: text was sent where the contract wants a file",
                            part.name
                        ));
                    }
                    shape.typed(text)
                }
            };
            let entry = fields.entry(base).or_default();
            entry.0.push(value);
            entry.1 |= bracketed;
        }
        let mut object = Map::new();
        for (name, (mut values, bracketed)) in fields {
            let shape = self.shape(&properties[name]);
            if bracketed && !shape.array {
                problems.push(format!("`{name}` is not an array; send it as `{name}`, not `{name}[]`"));
            }
            if !bracketed && values.len() > 1 {
                problems.push(format!(
                    "`{name}` is sent {} times; a repeated field must be an array sent as `{name}[]`",
                    values.len()
                ));
            }
            let value = if bracketed || values.len() > 1 {
                Value::Array(values)
            } else {
                values.remove(0)
            };
            object.insert(name.to_string(), value);
        }
        problems.extend(
            self.check(pointer, &Value::Object(object))
                .into_iter()
                .map(|p| p.replace("at /", "field /")),
        );
        problems
    }

    fn validator(&self, pointer: &str) -> Arc<Result<jsonschema::Validator, String>> {
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(pointer.to_string())
            .or_insert_with(|| Arc::new(self.build(pointer)))
            .clone()
    }

    fn build(&self, pointer: &str) -> Result<jsonschema::Validator, String> {
        if let Some(problem) = &self.unreadable {
            return Err(problem.clone());
        }
        if self.resolve_pointer(pointer).is_none() {
            return Err(format!("{}: no schema at {pointer}", self.name));
        }
        // The whole document is the root resource, so that every
        // `#/components/...` reference inside the schema resolves.
        let mut root = self.document.clone();
        if let Some(object) = root.as_object_mut() {
            // The pointer goes into a URI reference: path templates' braces must be escaped.
            let reference = pointer.replace('%', "%25").replace('{', "%7B").replace('}', "%7D");
            object.insert("$ref".into(), Value::String(reference));
        }
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .offline()
            .build(&root)
            .map_err(|e| format!("{}: the schema at {pointer} cannot be used: {e}", self.name))
    }

    /// The schema at a `#/...` pointer, following `$ref`s (at most 16).
    fn resolve_pointer(&self, pointer: &str) -> Option<&Value> {
        let mut schema = self.document.pointer(pointer.strip_prefix('#')?)?;
        for _ in 0..16 {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => schema = self.document.pointer(reference.strip_prefix('#')?)?,
                None => return Some(schema),
            }
        }
        None
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.resolve_pointer(reference).unwrap_or(schema),
            None => schema,
        }
    }

    /// What a form field may carry, from its schema and its alternatives.
    fn shape(&self, schema: &Value) -> Shape {
        let mut shape = Shape::default();
        self.collect_shape(schema, &mut shape, 0);
        shape
    }

    fn collect_shape(&self, schema: &Value, shape: &mut Shape, depth: u32) {
        if depth > 16 {
            return;
        }
        let schema = self.resolve(schema);
        for key in ["anyOf", "oneOf", "allOf"] {
            for branch in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
                self.collect_shape(branch, shape, depth + 1);
            }
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for kind in types {
            match kind {
                "array" => {
                    shape.array = true;
                    if let Some(items) = schema.get("items") {
                        self.collect_shape(items, shape, depth + 1);
                    }
                }
                "string" if schema.get("format").and_then(Value::as_str) == Some("binary") => shape.file = true,
                "string" => shape.text = true,
                "integer" => shape.integer = true,
                "number" => shape.number = true,
                "boolean" => shape.boolean = true,
                _ => {}
            }
        }
        if schema.get("enum").is_some() && schema.get("type").is_none() {
            shape.text = true;
        }
    }
}

/// What a form field may carry.
#[derive(Debug, Default)]
struct Shape {
    file: bool,
    text: bool,
    integer: bool,
    number: bool,
    boolean: bool,
    array: bool,
}

impl Shape {
    /// A text field as the JSON value a server would read it as.
    fn typed(&self, text: &str) -> Value {
        if self.integer
            && let Ok(n) = text.parse::<i64>()
        {
            return Value::from(n);
        }
        if self.number
            && let Some(n) = text.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
        if self.boolean && matches!(text, "true" | "false") {
            return Value::Bool(text == "true");
        }
        Value::String(text.to_string())
    }
}

/// `~` and `/` escaped for a JSON pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// RFC 7396 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(object) = target {
        for (key, change) in changes {
            if change.is_null() {
                object.remove(key);
            } else {
                merge_patch(object.entry(key.clone()).or_insert(Value::Null), change);
            }
        }
    }
}

/// `additionalProperties: false` on every object schema that lists
/// properties and leaves other keys unsaid.
fn close_objects(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.get("properties").is_some_and(Value::is_object)
                && !object.contains_key("additionalProperties")
                && !object.contains_key("patternProperties")
            {
                object.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (key, inner) in object.iter_mut() {
                if key == "properties" {
                    // Property names, not schemas: close the schemas beneath them.
                    if let Value::Object(properties) = inner {
                        properties.values_mut().for_each(close_objects);
                    }
                } else {
                    close_objects(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// OpenAPI 3.0 keywords rewritten as JSON Schema 2020-12.
fn normalise(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::Array(allowed)) = object.get_mut("enum")
                    && !allowed.contains(&Value::Null)
                {
                    allowed.push(Value::Null);
                }
                match object.get_mut("type") {
                    Some(Value::String(kind)) => {
                        let kind = kind.clone();
                        object.insert("type".into(), Value::Array(vec![kind.into(), "null".into()]));
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(object));
                        object.insert(
                            "anyOf".into(),
                            Value::Array(vec![inner, serde_json::json!({"type": "null"})]),
                        );
                    }
                }
            }
            if let Some(branches) = object.remove("oneOf") {
                object.insert("anyOf".into(), branches);
            }
            for (flag, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
                if let Some(Value::Bool(exclusive)) = object.get(flag).cloned() {
                    object.remove(flag);
                    if exclusive && let Some(limit) = object.remove(bound) {
                        object.insert(flag.into(), limit);
                    }
                }
            }
            object.values_mut().for_each(normalise);
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form_contract() -> Contract {
        Contract::from_value(
            "test",
            json!({"openapi": "3.1.0", "components": {"schemas": {"Form": {
            "type": "object", "required": ["image", "prompt"],
            "properties": {
                "image": {"anyOf": [{"type": "string", "format": "binary"},
                                    {"type": "array", "maxItems": 2, "items": {"type": "string", "format": "binary"}}]},
                "prompt": {"type": "string"},
                "n": {"type": "integer", "minimum": 1, "maximum": 10, "nullable": true},
                "quality": {"type": "string", "enum": ["low", "high"]},
                "stream": {"type": "boolean"}
            }}}}}),
        )
    }

    fn file(name: &str) -> Part {
        Part::file(name, "a.png", "image/png", vec![1, 2, 3])
    }

    #[test]
    fn a_good_form_has_no_problems() {
        let parts = [
            file("image"),
            Part::text("prompt", "x"),
            Part::text("n", "2"),
            Part::text("stream", "true"),
        ];
        assert!(
            form_contract()
                .check_multipart(&Contract::component("Form"), &parts)
                .is_empty()
        );
    }

    #[test]
    fn a_form_is_checked_field_by_field() {
        let parts = [
            Part::text("image", "not a file"),
            Part::text("n", "two"),
            Part::text("quality", "ultra"),
            Part::text("colour", "red"),
        ];
        let problems = form_contract().check_multipart(&Contract::component("Form"), &parts);
        let all = problems.join("\n");
        for expected in [
            "`image`: text was sent where the contract wants a file",
            "\"two\" is not of type",
            "\"ultra\" is not one of",
            "unknown field `colour`",
            "\"prompt\" is a required property",
        ] {
            assert!(all.contains(expected), "missing `{expected}` in:\n{all}");
        }
    }

    #[test]
    fn repeated_files_are_an_array_with_its_limits() {
        let parts = [
            file("image[]"),
            file("image[]"),
            file("image[]"),
            Part::text("prompt", "x"),
        ];
        let problems = form_contract().check_multipart(&Contract::component("Form"), &parts);
        assert!(problems.iter().any(|p| p.contains("field /image")), "{problems:?}");
        let parts = [file("image"), file("image"), Part::text("prompt", "x")];
        let problems = form_contract().check_multipart(&Contract::component("Form"), &parts);
        assert!(problems.iter().any(|p| p.contains("sent 2 times")), "{problems:?}");
    }

    #[test]
    fn an_unknown_reference_is_a_problem_not_a_panic() {
        let contract = Contract::from_value(
            "broken",
            json!({"components": {"schemas": {"A": {"$ref": "#/components/schemas/Missing"}}}}),
        );
        let problems = contract.check(&Contract::component("A"), &json!({}));
        assert_eq!(problems.len(), 1, "{problems:?}");
        let problems = contract.check(&Contract::component("Nowhere"), &json!({}));
        assert!(problems[0].contains("no schema"), "{problems:?}");
    }

    #[test]
    fn a_correction_that_names_nothing_is_a_problem_of_every_check() {
        let contract = form_contract().with_correction("/components/schemas/Nowhere/required", json!([]));
        let problems = contract.check(&Contract::component("Form"), &json!({}));
        assert!(problems[0].contains("names nothing"), "{problems:?}");
    }

    #[test]
    fn an_overlay_merges_and_removes_and_closed_objects_report_unknown_fields() {
        let contract = Contract::from_value(
            "overlay",
            json!({"components": {"schemas": {"S": {"type": "object", "properties": {
                "a": {"type": "string"}, "gone": {"type": "string"},
                "inner": {"type": "object", "properties": {"x": {"type": "integer"}}}}}}}}),
        )
        .with_overlay(
            &json!({"components": {"schemas": {"S": {"properties": {"gone": null, "b": {"type": "boolean"}}}}}}),
        )
        .closed();
        let s = Contract::component("S");
        assert!(
            contract
                .check(&s, &json!({"a": "x", "b": true, "inner": {"x": 1}}))
                .is_empty()
        );
        assert_eq!(contract.check(&s, &json!({"gone": "x"})).len(), 1);
        assert_eq!(contract.check(&s, &json!({"inner": {"y": 1}})).len(), 1);
    }

    #[test]
    fn openapi_3_0_exclusive_bounds_are_read_as_numbers() {
        let contract = Contract::from_value(
            "bounds",
            json!({"components": {"schemas": {"S": {"type": "number", "minimum": 0, "exclusiveMinimum": true}}}}),
        );
        assert!(!contract.check(&Contract::component("S"), &json!(0)).is_empty());
        assert!(contract.check(&Contract::component("S"), &json!(0.5)).is_empty());
    }
}
