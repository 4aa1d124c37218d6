//! One edit request as OpenAI's endpoint takes it, whichever body it came
//! in (multipart or JSON): the fields read with one set of rules, every
//! broken rule collected before anything else happens.

use std::collections::BTreeMap;

use bytes::Bytes;
use msgflux_core::{ImageInput, OptionValue, OutputSize, Violation};
use serde_json::Value;

/// Most input images one request may carry.
pub(crate) const MAX_IMAGES: usize = 16;

/// How the client wants results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ResultFormat {
    /// `url` (OpenAI's default for dall-e-2).
    #[default]
    Url,
    /// `b64_json`.
    B64Json,
}

/// The request fields that OpenAI echoes in stream events.
#[derive(Debug, Clone, Default)]
pub(crate) struct Echo {
    pub(crate) size: Option<String>,
    pub(crate) quality: Option<String>,
    pub(crate) background: Option<String>,
    pub(crate) output_format: Option<String>,
}

/// An image part: bytes from a multipart file, or a URL from JSON.
#[derive(Debug, Clone)]
pub(crate) enum WireImage {
    File { bytes: Bytes, filename: Option<String> },
    Url(String),
}

impl WireImage {
    pub(crate) fn into_input(self) -> ImageInput {
        match self {
            Self::File { bytes, filename } => ImageInput::Bytes { bytes, filename },
            Self::Url(url) => ImageInput::from(url),
        }
    }
}

/// A parsed edit request.
#[derive(Debug, Default)]
pub(crate) struct WireEdit {
    pub(crate) model: Option<String>,
    pub(crate) prompt: Option<String>,
    pub(crate) images: Vec<WireImage>,
    pub(crate) mask: Option<WireImage>,
    pub(crate) n: Option<u32>,
    pub(crate) size: Option<OutputSize>,
    pub(crate) seed: Option<u64>,
    /// msgflux's keep-unmasked step: the original pasted back outside the mask.
    pub(crate) keep_unmasked: Option<bool>,
    pub(crate) format: ResultFormat,
    format_given: bool,
    pub(crate) stream: bool,
    pub(crate) user: Option<String>,
    pub(crate) echo: Echo,
    /// Everything else: the provider's options, checked against the model's table.
    pub(crate) options: BTreeMap<String, OptionValue>,
    pub(crate) violations: Vec<Violation>,
}

impl WireEdit {
    pub(crate) fn broken(&mut self, param: &str, rule: impl Into<String>) {
        self.violations.push(Violation::new(param, rule));
    }

    /// Adds an image part (`image`, `image[]`).
    pub(crate) fn add_image(&mut self, image: WireImage) {
        if self.images.len() == MAX_IMAGES {
            self.broken("image", format!("at most {MAX_IMAGES} images per request"));
        } else if self.images.len() < MAX_IMAGES {
            self.images.push(image);
        }
    }

    /// Sets the mask part.
    pub(crate) fn set_mask(&mut self, mask: WireImage) {
        if self.mask.is_some() {
            self.broken("mask", "given more than once");
        }
        self.mask = Some(mask);
    }

    /// Reads one field; multipart text fields arrive as JSON strings.
    pub(crate) fn set(&mut self, name: &str, value: Value) {
        match name {
            "model" => self.model = self.text(name, value),
            "prompt" => self.prompt = self.text(name, value),
            "n" => self.n = self.integer(name, &value).and_then(|n| u32::try_from(n).ok()),
            "seed" => self.seed = self.integer(name, &value).and_then(|n| u64::try_from(n).ok()),
            "size" => {
                if let Some(text) = self.text(name, value) {
                    match text.parse::<OutputSize>() {
                        Ok(size) => self.size = Some(size),
                        Err(_) => self.broken("size", format!("`{text}` is not WIDTHxHEIGHT or auto")),
                    }
                    self.echo.size = Some(text);
                }
            }
            "response_format" => match self.text(name, value).as_deref().inspect(|_| self.format_given = true) {
                Some("url") => self.format = ResultFormat::Url,
                Some("b64_json") => self.format = ResultFormat::B64Json,
                Some(other) => self.broken(name, format!("must be `url` or `b64_json`, got `{other}`")),
                None => {}
            },
            "stream" => self.stream = self.boolean(name, &value).unwrap_or(false),
            "keep_unmasked" => self.keep_unmasked = self.boolean(name, &value),
            "user" => self.user = self.text(name, value),
            "quality" | "background" | "output_format" => {
                let text = self.text(name, value.clone());
                match name {
                    "quality" => self.echo.quality = text,
                    "background" => self.echo.background = text,
                    _ => self.echo.output_format = text,
                }
                self.option(name, value);
            }
            "output_compression" | "partial_images" => {
                if let Some(n) = self.integer(name, &value) {
                    self.options.insert(name.to_string(), OptionValue::Integer(n));
                }
            }
            "image" | "image[]" | "mask" | "images" => {
                self.broken(name, "must be an image file (multipart) or {\"image_url\": ...} (JSON)")
            }
            _ => self.option(name, value),
        }
    }

    fn option(&mut self, name: &str, value: Value) {
        let option = match value {
            Value::Bool(b) => OptionValue::Bool(b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => OptionValue::Integer(i),
                None => OptionValue::Number(n.as_f64().unwrap_or_default()),
            },
            // Multipart carries every value as text: read the obvious types back.
            Value::String(s) => match s.as_str() {
                "true" => OptionValue::Bool(true),
                "false" => OptionValue::Bool(false),
                _ => match (s.parse::<i64>(), s.parse::<f64>()) {
                    (Ok(i), _) => OptionValue::Integer(i),
                    (_, Ok(f)) if f.is_finite() => OptionValue::Number(f),
                    _ => OptionValue::Text(s),
                },
            },
            Value::Null => return,
            other => {
                self.broken(name, format!("must be a string, number or boolean, got {other}"));
                return;
            }
        };
        self.options.insert(name.to_string(), option);
    }

    fn text(&mut self, name: &str, value: Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s),
            Value::Null => None,
            other => {
                self.broken(name, format!("must be a string, got {other}"));
                None
            }
        }
    }

    fn integer(&mut self, name: &str, value: &Value) -> Option<i64> {
        let parsed = match value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            Value::Null => return None,
            _ => None,
        };
        if parsed.is_none_or(|n| n < 0) {
            self.broken(name, format!("must be a non-negative integer, got {value}"));
            return None;
        }
        parsed
    }

    fn boolean(&mut self, name: &str, value: &Value) -> Option<bool> {
        match value {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" => Some(true),
            Value::String(s) if s == "false" => Some(false),
            Value::Null => None,
            other => {
                self.broken(name, format!("must be true or false, got {other}"));
                None
            }
        }
    }

    /// The rules every request must meet whatever the model.
    pub(crate) fn finish(&mut self) {
        if self.prompt.as_deref().is_none_or(|p| p.trim().is_empty()) {
            self.broken("prompt", "is required");
        }
        if self.images.is_empty() {
            self.broken("image", "at least one image is required");
        }
        if self.stream && self.format_given && self.format == ResultFormat::Url {
            self.broken(
                "response_format",
                "must be b64_json when stream is true (streamed images are base64)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_broken_field_is_listed_together() {
        let mut edit = WireEdit::default();
        edit.set("n", Value::String("two".into()));
        edit.set("size", Value::String("huge".into()));
        edit.set("response_format", Value::String("png".into()));
        edit.finish();
        let params: Vec<&str> = edit.violations.iter().map(|v| v.param.as_str()).collect();
        assert_eq!(params, ["n", "size", "response_format", "prompt", "image"]);
    }

    #[test]
    fn multipart_text_is_read_back_as_the_obvious_type() {
        let mut edit = WireEdit::default();
        edit.set("guidance", Value::String("3.5".into()));
        edit.set("raw", Value::String("true".into()));
        edit.set("steps", Value::String("28".into()));
        edit.set("style", Value::String("photo".into()));
        assert_eq!(edit.options["guidance"], OptionValue::Number(3.5));
        assert_eq!(edit.options["raw"], OptionValue::Bool(true));
        assert_eq!(edit.options["steps"], OptionValue::Integer(28));
        assert_eq!(edit.options["style"], OptionValue::Text("photo".into()));
    }
}
