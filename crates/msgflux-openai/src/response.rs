//! Reading the answer: `ImagesResponse` JSON (and streamed completions) into
//! `msgflux_core::EditResponse`, with usage, a cost estimate and the request id.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use msgflux_core::kit::http::body_snippet;
use msgflux_core::{EditResponse, Error, GeneratedImage, ImageData, ImageFormat, ResponseFormat, Result, Size, Usage};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::models::ModelSpec;
use crate::pricing::estimate_cost;

/// `ImagesResponse` of the spec; every field optional so that compatible
/// servers that leave some out still parse.
#[derive(Debug, Deserialize)]
struct ImagesResponse {
    #[serde(default)]
    created: Option<i64>,
    #[serde(default)]
    data: Option<Vec<ImageJson>>,
    #[serde(default)]
    usage: Option<UsageJson>,
    #[serde(flatten)]
    settings: OutputSettings,
}

#[derive(Debug, Deserialize)]
struct ImageJson {
    #[serde(default, deserialize_with = "msgflux_core::kit::http::optional_base64_string")]
    b64_json: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    revised_prompt: Option<String>,
}

/// What the model reports it produced (`background`, `output_format`, `size`, `quality`).
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct OutputSettings {
    #[serde(default)]
    pub background: Option<String>,
    #[serde(default)]
    pub output_format: Option<String>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub quality: Option<String>,
}

/// Token usage as the API reports it (`ImageGenUsage` / `ImagesUsage`).
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct UsageJson {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default)]
    input_tokens_details: Option<InputTokenDetails>,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct InputTokenDetails {
    #[serde(default)]
    text_tokens: Option<u64>,
    #[serde(default)]
    image_tokens: Option<u64>,
}

fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

impl UsageJson {
    /// Adds another report (one per streamed image) to this one.
    pub(crate) fn accumulate(&mut self, other: &UsageJson) {
        self.input_tokens = add(self.input_tokens, other.input_tokens);
        self.output_tokens = add(self.output_tokens, other.output_tokens);
        self.total_tokens = add(self.total_tokens, other.total_tokens);
        let mine = self.input_tokens_details.get_or_insert_with(InputTokenDetails::default);
        let theirs = other.input_tokens_details.clone().unwrap_or_default();
        mine.text_tokens = add(mine.text_tokens, theirs.text_tokens);
        mine.image_tokens = add(mine.image_tokens, theirs.image_tokens);
    }

    fn to_usage(&self) -> Usage {
        let mut usage = Usage::default();
        usage.input_tokens = self.input_tokens;
        usage.output_tokens = self.output_tokens;
        usage.total_tokens = self.total_tokens;
        if let Some(details) = &self.input_tokens_details {
            usage.input_text_tokens = details.text_tokens;
            usage.input_image_tokens = details.image_tokens;
        }
        usage
    }
}

/// What a response is built for: who answered, for which request.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// Registered provider name (`openai`, `azure`).
    pub provider: &'static str,
    /// The model (or Azure deployment) as the user named it.
    pub model: String,
    /// The model's rules (for pricing).
    pub spec: ModelSpec,
    /// The response format the request asked for.
    pub response_format: ResponseFormat,
    /// How many images the request asked for.
    pub n: u32,
    /// The exact size the request asked for, if any (for pricing).
    pub size: Option<Size>,
    /// `x-request-id`.
    pub request_id: Option<String>,
    /// What `prepare` changed, if it ran.
    pub prepared: Option<Value>,
}

/// Turns base64 from the API into the form the user asked for: base64 as
/// is, or a `data:` URL when URLs were asked for from a model that only
/// returns base64.
pub(crate) fn base64_result(b64: String, requested: ResponseFormat, output_format: Option<&str>) -> ImageData {
    match requested {
        ResponseFormat::Base64 => ImageData::Base64(b64),
        ResponseFormat::Url => {
            let mime = output_format
                .and_then(ImageFormat::from_name)
                .or_else(|| sniff_base64(&b64))
                .map_or("image/png", ImageFormat::mime);
            ImageData::Url(format!("data:{mime};base64,{b64}"))
        }
    }
}

fn sniff_base64(b64: &str) -> Option<ImageFormat> {
    // 32 characters decode to 24 bytes: enough for every magic number.
    let head = b64.get(..32).unwrap_or(b64);
    ImageFormat::sniff(&BASE64.decode(head).ok()?)
}

impl Answer {
    /// Parses an `ImagesResponse` body.
    pub(crate) fn parse_body(self, body: &[u8]) -> Result<EditResponse> {
        let parsed: ImagesResponse = serde_json::from_slice(body).map_err(|e| Error::InvalidResponse {
            provider: self.provider.into(),
            message: format!(
                "the edit answer is not the expected JSON ({e}); the edit may have been done and billed. Body starts: {}",
                body_snippet(body)
            ),
            request_id: self.request_id.clone(),
        })?;
        let data = parsed.data.unwrap_or_default();
        let mut images = Vec::with_capacity(data.len());
        for (i, item) in data.into_iter().enumerate() {
            let image = match (item.b64_json, item.url) {
                (Some(b64), _) => base64_result(b64, self.response_format, parsed.settings.output_format.as_deref()),
                (None, Some(url)) => ImageData::Url(url),
                (None, None) => {
                    return Err(Error::InvalidResponse {
                        provider: self.provider.into(),
                        message: format!("result {i} has neither b64_json nor url"),
                        request_id: self.request_id.clone(),
                    });
                }
            };
            images.push(GeneratedImage::new(image).with_revised_prompt(item.revised_prompt));
        }
        self.finish(images, parsed.usage, parsed.settings, parsed.created)
    }

    /// Builds the response from result images (parsed or streamed).
    pub(crate) fn finish(
        self,
        images: Vec<GeneratedImage>,
        usage: Option<UsageJson>,
        settings: OutputSettings,
        created: Option<i64>,
    ) -> Result<EditResponse> {
        if images.is_empty() {
            return Err(Error::InvalidResponse {
                provider: self.provider.into(),
                message: "the answer holds no images".into(),
                request_id: self.request_id,
            });
        }
        let mut metadata = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                metadata.insert(key.to_string(), value);
            }
        };
        put("created", created.map(Value::from));
        put("background", settings.background.map(Value::from));
        put("output_format", settings.output_format.map(Value::from));
        put("size", settings.size.map(Value::from));
        put("quality", settings.quality.map(Value::from));
        put("prepared", self.prepared);
        if images.len() != self.n as usize {
            let warning = format!("asked for {} images, the API returned {}", self.n, images.len());
            tracing::warn!(provider = self.provider, model = %self.model, "{warning}");
            put("warnings", Some(Value::from(vec![warning])));
        }
        let usage = usage.map(|u| u.to_usage());
        let cost = self
            .spec
            .known_model()
            .and_then(|model| estimate_cost(model, usage.as_ref(), images.len(), self.size));
        Ok(EditResponse::new(self.provider, self.model, images)
            .with_request_id(self.request_id)
            .with_usage(usage)
            .with_cost(cost)
            .with_metadata(Value::Object(metadata)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_asked_of_a_base64_model_is_a_data_url_of_the_output_format() {
        match base64_result("AAAA".into(), ResponseFormat::Url, Some("webp")) {
            ImageData::Url(url) => assert_eq!(url, "data:image/webp;base64,AAAA"),
            other => panic!("expected a data URL, got {other:?}"),
        }
    }

    #[test]
    fn without_an_output_format_the_data_url_type_is_sniffed() {
        let jpeg = BASE64.encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0]);
        match base64_result(jpeg, ResponseFormat::Url, None) {
            ImageData::Url(url) => assert!(url.starts_with("data:image/jpeg;base64,"), "{url}"),
            other => panic!("expected a data URL, got {other:?}"),
        }
    }

    #[test]
    fn base64_asked_is_base64_returned() {
        assert_eq!(
            base64_result("AAAA".into(), ResponseFormat::Base64, Some("png")),
            ImageData::Base64("AAAA".into())
        );
    }

    #[test]
    fn usage_from_several_streamed_images_adds_up() {
        let one: UsageJson = serde_json::from_value(serde_json::json!({
            "input_tokens": 10, "output_tokens": 100, "total_tokens": 110,
            "input_tokens_details": {"text_tokens": 4, "image_tokens": 6}
        }))
        .expect("usage parses");
        let mut total = UsageJson::default();
        total.accumulate(&one);
        total.accumulate(&one);
        let usage = total.to_usage();
        assert_eq!(usage.total_tokens, Some(220));
        assert_eq!(usage.input_image_tokens, Some(12));
    }
}
