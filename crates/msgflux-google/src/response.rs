//! Reading a `generateContent` answer: the one image it carries, the
//! model's words, the token counts; and the n answers of one edit as one
//! `msgflux_core::EditResponse`.

use msgflux_core::kit::http::body_snippet;
use msgflux_core::{EditResponse, Error, GeneratedImage, ImageData, ResponseFormat, Result, Usage};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{blocked_prompt, no_image};
use crate::pricing::{TokenCounts, estimate_cost};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateContentResponse {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    model_version: Option<String>,
    #[serde(default)]
    response_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    finish_message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    inline_data: Option<Blob>,
    #[serde(default)]
    thought: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Blob {
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default, deserialize_with = "msgflux_core::kit::http::base64_string")]
    data: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
    #[serde(default)]
    block_reason_message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
    #[serde(default)]
    thoughts_token_count: u64,
    #[serde(default)]
    prompt_tokens_details: Vec<ModalityCount>,
    #[serde(default)]
    candidates_tokens_details: Vec<ModalityCount>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModalityCount {
    #[serde(default)]
    modality: String,
    #[serde(default)]
    token_count: u64,
}

impl UsageMetadata {
    fn counts(&self) -> TokenCounts {
        let of = |details: &[ModalityCount], modality: &str| -> u64 {
            details
                .iter()
                .filter(|d| d.modality == modality)
                .map(|d| d.token_count)
                .sum()
        };
        let mut counts = TokenCounts::default();
        if self.prompt_tokens_details.is_empty() {
            counts.input_text = self.prompt_token_count;
        } else {
            counts.input_image = of(&self.prompt_tokens_details, "IMAGE");
            counts.input_text = self.prompt_token_count.saturating_sub(counts.input_image);
        }
        if self.candidates_tokens_details.is_empty() {
            counts.output_image = self.candidates_token_count;
        } else {
            counts.output_image = of(&self.candidates_tokens_details, "IMAGE");
            counts.output_text = self.candidates_token_count.saturating_sub(counts.output_image);
        }
        counts.output_text += self.thoughts_token_count;
        counts
    }
}

/// One call's result.
#[derive(Debug, Clone)]
pub(crate) struct OneAnswer {
    /// The image, base64.
    pub data: String,
    /// Its MIME type.
    pub mime: String,
    /// What the model said beside it, if anything.
    pub text: Option<String>,
    /// `finishReason`.
    pub finish_reason: Option<String>,
    /// Token counts.
    pub tokens: Option<TokenCounts>,
    /// `responseId` (or a request id header).
    pub id: Option<String>,
    /// `modelVersion`.
    pub model_version: Option<String>,
}

/// Reads one answer: its image (the last one the model did not mark as a
/// thought), or the refusal it is.
pub(crate) fn parse_answer(provider: &str, header_id: Option<String>, body: &[u8]) -> Result<OneAnswer> {
    let parsed: GenerateContentResponse = serde_json::from_slice(body).map_err(|e| Error::InvalidResponse {
        provider: provider.into(),
        message: format!(
            "the answer is not the expected JSON ({e}); the edit may have been done and billed. Body starts: {}",
            body_snippet(body)
        ),
        request_id: header_id.clone(),
    })?;
    let id = parsed.response_id.clone().or(header_id);
    if let Some(feedback) = &parsed.prompt_feedback
        && let Some(reason) = feedback
            .block_reason
            .as_deref()
            .filter(|r| *r != "BLOCK_REASON_UNSPECIFIED")
    {
        return Err(blocked_prompt(
            provider,
            reason,
            feedback.block_reason_message.as_deref(),
            id,
        ));
    }
    let Some(candidate) = parsed.candidates.first() else {
        return Err(Error::InvalidResponse {
            provider: provider.into(),
            message: "the answer holds no candidate and no block reason".into(),
            request_id: id,
        });
    };
    let parts = candidate
        .content
        .as_ref()
        .map(|c| c.parts.as_slice())
        .unwrap_or_default();
    let words: Vec<&str> = parts
        .iter()
        .filter(|p| p.thought != Some(true))
        .filter_map(|p| p.text.as_deref())
        .collect();
    let text = (!words.is_empty()).then(|| words.join(" "));
    let image = parts
        .iter()
        .rev()
        .filter(|p| p.thought != Some(true))
        .find_map(|p| p.inline_data.as_ref().filter(|b| !b.data.is_empty()));
    let Some(image) = image else {
        let said = text.as_deref().or(candidate.finish_message.as_deref());
        return Err(no_image(provider, candidate.finish_reason.as_deref(), said, id));
    };
    Ok(OneAnswer {
        data: image.data.clone(),
        mime: image.mime_type.clone().unwrap_or_else(|| "image/png".into()),
        text,
        finish_reason: candidate.finish_reason.clone(),
        tokens: parsed.usage_metadata.as_ref().map(UsageMetadata::counts),
        id,
        model_version: parsed.model_version,
    })
}

/// What a response is built for.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The model as the user named it.
    pub model: String,
    /// The response format the request asked for.
    pub response_format: ResponseFormat,
    /// Notes for the metadata (`mask`, `uploaded`).
    pub notes: Map<String, Value>,
}

impl Answer {
    /// Builds the response from the n answers, in call order.
    pub(crate) fn finish(self, answers: Vec<OneAnswer>) -> EditResponse {
        let mut tokens = TokenCounts::default();
        let mut reported = false;
        let mut images = Vec::with_capacity(answers.len());
        let mut texts = Vec::new();
        let mut reasons = Vec::new();
        let mut ids = Vec::new();
        let mut version = None;
        for answer in answers {
            if let Some(t) = &answer.tokens {
                tokens.add(t);
                reported = true;
            }
            if let Some(text) = answer.text {
                texts.push(Value::from(text));
            }
            reasons.push(answer.finish_reason.map_or(Value::Null, Value::from));
            if let Some(id) = &answer.id {
                ids.push(Value::from(id.clone()));
            }
            version = version.or(answer.model_version);
            let data = match self.response_format {
                ResponseFormat::Base64 => ImageData::Base64(answer.data),
                ResponseFormat::Url => ImageData::Url(format!("data:{};base64,{}", answer.mime, answer.data)),
            };
            images.push(GeneratedImage::new(data));
        }
        let mut metadata = self.notes;
        metadata.insert("calls".into(), Value::from(images.len()));
        metadata.insert("finish_reasons".into(), Value::Array(reasons));
        if !texts.is_empty() {
            metadata.insert("text".into(), Value::Array(texts));
        }
        if ids.len() > 1 {
            metadata.insert("response_ids".into(), Value::Array(ids.clone()));
        }
        if let Some(version) = version {
            metadata.insert("model_version".into(), Value::from(version));
        }
        let (usage, cost) = if reported {
            let mut usage = Usage::default();
            usage.input_text_tokens = Some(tokens.input_text);
            usage.input_image_tokens = Some(tokens.input_image);
            usage.input_tokens = Some(tokens.input_text + tokens.input_image);
            usage.output_tokens = Some(tokens.output_image + tokens.output_text);
            usage.total_tokens =
                Some(tokens.input_text + tokens.input_image + tokens.output_image + tokens.output_text);
            (Some(usage), estimate_cost(&self.model, &tokens))
        } else {
            (None, None)
        };
        let id = ids.first().and_then(Value::as_str).map(str::to_string);
        EditResponse::new(crate::GOOGLE_SCHEME, self.model, images)
            .with_request_id(id)
            .with_usage(usage)
            .with_cost(cost)
            .with_metadata(Value::Object(metadata))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(value: Value) -> Result<OneAnswer> {
        parse_answer("google", None, value.to_string().as_bytes())
    }

    #[test]
    fn the_image_part_and_the_usage_are_read() {
        let got = answer(json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "thinking", "thought": true},
                {"text": "Here you go."},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
            ]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 1300, "thoughtsTokenCount": 50,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 42}, {"modality": "IMAGE", "tokenCount": 258}],
                "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}]},
            "responseId": "r1"
        }))
        .expect("an image");
        assert_eq!(got.data, "iVBORw0KGgo=");
        assert_eq!(got.text.as_deref(), Some("Here you go."));
        let tokens = got.tokens.expect("usage");
        assert_eq!(
            (
                tokens.input_text,
                tokens.input_image,
                tokens.output_image,
                tokens.output_text
            ),
            (42, 258, 1290, 60)
        );
        assert_eq!(got.id.as_deref(), Some("r1"));
    }

    #[test]
    fn a_blocked_prompt_is_content_policy() {
        let err = answer(json!({"promptFeedback": {"blockReason": "SAFETY"}})).expect_err("blocked");
        assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
    }

    #[test]
    fn a_text_only_answer_is_an_invalid_response_with_the_models_words() {
        let err = answer(
            json!({"candidates": [{"content": {"parts": [{"text": "I cannot draw that."}]}, "finishReason": "STOP"}]}),
        )
        .expect_err("no image");
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
        assert!(err.to_string().contains("I cannot draw that."), "{err}");
    }

    #[test]
    fn an_image_safety_stop_is_content_policy() {
        let err = answer(json!({"candidates": [{"finishReason": "IMAGE_SAFETY", "finishMessage": "Unable to show the generated image."}]}))
            .expect_err("stopped");
        assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
        assert!(err.to_string().contains("Unable to show"), "{err}");
    }
}
