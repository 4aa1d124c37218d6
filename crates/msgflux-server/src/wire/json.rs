//! The JSON form of the edit endpoint: `images: [{image_url}]`, `mask: {image_url}`.

use serde_json::{Map, Value};

use super::error::ApiError;
use super::request::{WireEdit, WireImage};

/// Reads a JSON body.
pub(crate) fn read(body: &[u8]) -> Result<WireEdit, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::invalid("body", format!("is not valid JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    };
    let mut edit = WireEdit::default();
    for (name, value) in fields {
        match name.as_str() {
            "images" | "image" => match value {
                Value::Array(items) => {
                    for (index, item) in items.into_iter().enumerate() {
                        if let Some(image) = reference(&mut edit, &format!("images[{index}]"), item) {
                            edit.add_image(image);
                        }
                    }
                }
                single @ Value::Object(_) => {
                    if let Some(image) = reference(&mut edit, "images[0]", single) {
                        edit.add_image(image);
                    }
                }
                other => edit.broken(&name, format!("must be a list of {{\"image_url\": ...}}, got {other}")),
            },
            "mask" => {
                if let Some(mask) = reference(&mut edit, "mask", value) {
                    edit.set_mask(mask);
                }
            }
            _ => edit.set(&name, value),
        }
    }
    edit.finish();
    Ok(edit)
}

/// `{"image_url": "..."}` (an http(s) or `data:` URL); `file_id` is OpenAI's Files API, not served here.
fn reference(edit: &mut WireEdit, param: &str, value: Value) -> Option<WireImage> {
    let mut fields: Map<String, Value> = match value {
        Value::Object(fields) => fields,
        Value::String(url) => return checked_url(edit, param, url),
        other => {
            edit.broken(param, format!("must be {{\"image_url\": \"...\"}}, got {other}"));
            return None;
        }
    };
    if fields.contains_key("file_id") {
        edit.broken(
            param,
            "file_id is not supported by this gateway; send image_url (an https or data: URL)",
        );
        return None;
    }
    match fields.remove("image_url") {
        Some(Value::String(url)) => checked_url(edit, param, url),
        _ => {
            edit.broken(param, "needs an image_url string");
            None
        }
    }
}

fn checked_url(edit: &mut WireEdit, param: &str, url: String) -> Option<WireImage> {
    let lower = url.get(..8).unwrap_or(&url).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("data:") {
        Some(WireImage::Url(url))
    } else {
        edit.broken(param, "image_url must be an http(s) or data: URL");
        None
    }
}
