//! `multipart/form-data`, exactly as OpenAI's SDKs send it: `image` or
//! repeated `image[]` files, a `mask` file, and text fields.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use serde_json::Value;

use super::error::ApiError;
use super::request::{WireEdit, WireImage};

/// Most parts one request may have (images, mask and fields together).
const MAX_PARTS: usize = 64;
/// Longest text field (a prompt is at most 32 000 characters for gpt-image-1).
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Reads every part; a body over the size limit is a 413, a malformed one a 400.
pub(crate) async fn read(mut form: Multipart) -> Result<WireEdit, ApiError> {
    let mut edit = WireEdit::default();
    let mut parts = 0;
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::invalid("body", format!("has more than {MAX_PARTS} parts")));
        }
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        match name.as_str() {
            "image" | "image[]" | "mask" => {
                let bytes = field.bytes().await.map_err(malformed)?;
                let image = WireImage::File { bytes, filename };
                if name == "mask" {
                    edit.set_mask(image);
                } else {
                    edit.add_image(image);
                }
            }
            "" => return Err(ApiError::invalid("body", "a multipart part has no name")),
            _ => {
                let bytes = field.bytes().await.map_err(malformed)?;
                if bytes.len() > MAX_TEXT_BYTES {
                    return Err(ApiError::invalid(
                        name,
                        format!("is {} bytes; text fields are at most {MAX_TEXT_BYTES}", bytes.len()),
                    ));
                }
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| ApiError::invalid(name.clone(), "is not UTF-8 text"))?;
                edit.set(&name, Value::String(text));
            }
        }
    }
    edit.finish();
    Ok(edit)
}

fn malformed(err: MultipartError) -> ApiError {
    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(format!(
            "the request body is over the gateway's limit: {}",
            err.body_text()
        ))
    } else {
        ApiError::invalid("body", format!("is not valid multipart/form-data: {}", err.body_text()))
    }
}
