//! Results in OpenAI's shapes: the `ImagesResponse` body and the two stream events.

use msgflux_core::{EditResponse, GeneratedImage, ImageData, ImageFormat, LoadedImage, Usage};
use serde_json::{Value, json};

use super::error::ApiError;
use super::request::{Echo, ResultFormat};
use crate::results::ResultStore;

/// Where result URLs point and whether provider URLs are handed out as they are.
#[derive(Debug, Clone)]
pub(crate) struct Delivery<'a> {
    pub(crate) format: ResultFormat,
    pub(crate) results: &'a ResultStore,
    /// `https://gateway.example.com`, no trailing slash.
    pub(crate) base_url: String,
    pub(crate) pass_through: bool,
}

/// One result, as bytes and sniffed, for b64_json, events and the result
/// store; bytes that are not an image are the provider's unreadable answer.
pub(crate) async fn result_file(image: &GeneratedImage) -> Result<LoadedImage, ApiError> {
    image.load().await.map_err(ApiError::from)
}

/// The `data` entry of one result.
async fn entry(image: &GeneratedImage, delivery: &Delivery<'_>) -> Result<(Value, ImageFormat), ApiError> {
    let mut entry = serde_json::Map::new();
    let hint = image.format_hint();
    let format = match (&image.data, delivery.format, hint) {
        (ImageData::Url(url), ResultFormat::Url, _) if delivery.pass_through && url.starts_with("https://") => {
            entry.insert("url".into(), Value::String(url.clone()));
            hint.unwrap_or(ImageFormat::Png)
        }
        (_, ResultFormat::Url, _) => {
            let file = result_file(image).await?;
            let token = delivery.results.put(file.bytes.clone(), file.format);
            entry.insert(
                "url".into(),
                Value::String(format!(
                    "{}/v1/results/{token}.{}",
                    delivery.base_url,
                    file.format.extension()
                )),
            );
            file.format
        }
        // Base64 from the provider was checked by the pipeline: handed on as
        // it is, not decoded and encoded again.
        (ImageData::Base64(text), ResultFormat::B64Json, Some(format)) => {
            entry.insert("b64_json".into(), Value::String(text.trim().to_string()));
            format
        }
        (_, ResultFormat::B64Json, _) => {
            let file = result_file(image).await?;
            entry.insert("b64_json".into(), Value::String(file.to_base64()));
            file.format
        }
    };
    if let Some(prompt) = &image.revised_prompt {
        entry.insert("revised_prompt".into(), Value::String(prompt.clone()));
    }
    Ok((Value::Object(entry), format))
}

/// The `ImagesResponse` body.
pub(crate) async fn images_response(response: &EditResponse, delivery: &Delivery<'_>) -> Result<Value, ApiError> {
    let mut data = Vec::with_capacity(response.images.len());
    let mut first_format = None;
    for image in &response.images {
        let (value, format) = entry(image, delivery).await?;
        first_format.get_or_insert(format);
        data.push(value);
    }
    let mut body = json!({ "created": now(), "data": data });
    if let Some(format) = first_format.and_then(openai_format) {
        body["output_format"] = Value::String(format.into());
    }
    if let Some(usage) = &response.usage {
        body["usage"] = usage_json(usage);
    }
    Ok(body)
}

/// The word OpenAI uses for a format, where it has one.
fn openai_format(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Png => Some("png"),
        ImageFormat::Jpeg => Some("jpeg"),
        ImageFormat::Webp => Some("webp"),
        _ => None,
    }
}

fn usage_json(usage: &Usage) -> Value {
    json!({
        "total_tokens": usage.total_tokens.unwrap_or_default(),
        "input_tokens": usage.input_tokens.unwrap_or_default(),
        "output_tokens": usage.output_tokens.unwrap_or_default(),
        "input_tokens_details": {
            "text_tokens": usage.input_text_tokens.unwrap_or_default(),
            "image_tokens": usage.input_image_tokens.unwrap_or_default(),
        },
    })
}

/// The fields both stream events carry.
fn event_fields(kind: &str, file: &LoadedImage, echo: &Echo) -> serde_json::Map<String, Value> {
    let mut event = serde_json::Map::new();
    event.insert("type".into(), kind.into());
    event.insert("b64_json".into(), file.to_base64().into());
    event.insert("created_at".into(), now().into());
    event.insert(
        "size".into(),
        echo.size
            .clone()
            .unwrap_or_else(|| format!("{}x{}", file.width, file.height))
            .into(),
    );
    event.insert(
        "quality".into(),
        echo.quality.clone().unwrap_or_else(|| "auto".into()).into(),
    );
    event.insert(
        "background".into(),
        echo.background.clone().unwrap_or_else(|| "auto".into()).into(),
    );
    event.insert(
        "output_format".into(),
        openai_format(file.format).unwrap_or("png").into(),
    );
    event
}

/// `image_edit.partial_image`.
pub(crate) fn partial_event(file: &LoadedImage, index: u32, echo: &Echo) -> Value {
    let mut event = event_fields("image_edit.partial_image", file, echo);
    event.insert("partial_image_index".into(), index.into());
    Value::Object(event)
}

/// `image_edit.completed`.
pub(crate) fn completed_event(file: &LoadedImage, usage: Option<&Usage>, echo: &Echo) -> Value {
    let mut event = event_fields("image_edit.completed", file, echo);
    event.insert("usage".into(), usage_json(usage.unwrap_or(&Usage::default())));
    Value::Object(event)
}

/// The stream's error event, in the error body's words.
pub(crate) fn error_event(err: &ApiError) -> Value {
    json!({ "type": "error", "error": err.body() })
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
