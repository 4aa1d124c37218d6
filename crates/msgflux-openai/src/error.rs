//! The one place that turns an OpenAI error answer into a
//! `msgflux_core::Error`: the status picks the variant through
//! `msgflux_core::kit::http::error_for_status`, then the body's
//! `{"error": {message, type, param, code}}` refines it.

use msgflux_core::kit::http::{body_snippet, error_for_status, first_header, retry_after, should_retry};
use msgflux_core::{Error, ProviderError};
use reqwest::header::HeaderMap;
use serde::Deserialize;

/// Codes that mean the prompt or an image was refused on policy grounds.
const CONTENT_POLICY_CODES: &[&str] = &[
    "content_policy_violation",
    "moderation_blocked",
    "content_filter",
    "contentFilter",
    "ResponsibleAIPolicyViolation",
];

/// Codes (or types) that mean the account cannot pay: retrying will not help.
const QUOTA_CODES: &[&str] = &["insufficient_quota", "billing_hard_limit_reached", "billing_not_active"];

/// The body of an OpenAI error, `{"error": {...}}`. Compatible servers vary:
/// `error` may be a bare string, or the message may sit at the top level.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    error: Option<ErrorField>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ErrorField {
    Object(ErrorObject),
    Text(String),
}

/// The `error` object itself; also the payload of a streamed `error` event.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorObject {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    param: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

impl ErrorBody {
    /// The error object, whichever shape the server used.
    pub(crate) fn into_object(self) -> Option<ErrorObject> {
        match self.error {
            Some(ErrorField::Object(object)) => Some(object),
            Some(ErrorField::Text(message)) => Some(ErrorObject {
                message: Some(message),
                ..ErrorObject::default()
            }),
            None => {
                let message = self.message.or_else(|| {
                    self.detail.map(|d| match d {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    })
                })?;
                Some(ErrorObject {
                    message: Some(message),
                    ..ErrorObject::default()
                })
            }
        }
    }
}

/// The provider's request id: `x-request-id` (OpenAI) or `apim-request-id` (Azure).
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    first_header(headers, &["x-request-id", "apim-request-id"])
}

/// Maps an error answer (status, headers, body) to the semantic error.
///
/// - `content_policy_violation` / `moderation_blocked` (and Azure's content
///   filter) → [`Error::ContentPolicy`];
/// - `insufficient_quota` and billing limits → [`Error::QuotaExceeded`],
///   marked never to retry, even on a 429;
/// - `invalid_api_key` → [`Error::Unauthenticated`];
/// - otherwise the status decides (429 rate limit, 5xx server, ...).
///
/// `retry-after-ms`, `retry-after`, `x-should-retry` and `x-request-id` are kept.
/// A body that is not JSON (an HTML page from a proxy) keeps the status's
/// meaning, with the start of the body as the message.
pub(crate) fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let object = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(ErrorBody::into_object);
    let mut detail = match &object {
        Some(object) => ProviderError::new(
            provider,
            object
                .message
                .clone()
                .unwrap_or_else(|| format!("HTTP {status} without a message")),
        ),
        None => ProviderError::new(
            provider,
            format!("HTTP {status} with an unreadable body: {}", body_snippet(body)),
        ),
    }
    .with_retry_after(retry_after(headers))
    .with_should_retry(should_retry(headers));
    if let Some(id) = request_id(headers) {
        detail = detail.with_request_id(id);
    }
    refine(Some(status), detail, object.as_ref())
}

/// Maps a streamed `error` event (no HTTP status) to the semantic error.
pub(crate) fn stream_error(provider: &str, object: ErrorObject, request_id: Option<String>) -> Error {
    let mut detail = ProviderError::new(
        provider,
        object
            .message
            .clone()
            .unwrap_or_else(|| "the stream reported an error without a message".into()),
    );
    if let Some(id) = request_id {
        detail = detail.with_request_id(id);
    }
    refine(None, detail, Some(&object))
}

fn code_text(code: &serde_json::Value) -> Option<String> {
    match code {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn refine(status: Option<u16>, mut detail: ProviderError, object: Option<&ErrorObject>) -> Error {
    let code = object.and_then(|o| o.code.as_ref()).and_then(code_text);
    let kind = object.and_then(|o| o.kind.clone());
    if let Some(param) = object.and_then(|o| o.param.clone()) {
        detail = detail.with_param(param);
    }
    if let Some(code) = code.clone().or_else(|| kind.clone()) {
        detail = detail.with_code(code);
    }
    let is = |names: &[&str]| {
        [code.as_deref(), kind.as_deref()]
            .into_iter()
            .flatten()
            .any(|c| names.contains(&c))
    };
    if let Some(status) = status {
        detail = detail.with_status(status);
    }
    if is(QUOTA_CODES) {
        // Permanent whatever the headers say: waiting does not add credit.
        return Error::QuotaExceeded(Box::new(detail.with_should_retry(Some(false))));
    }
    if is(CONTENT_POLICY_CODES) {
        return Error::ContentPolicy(Box::new(detail));
    }
    if is(&["invalid_api_key"]) {
        return Error::Unauthenticated(Box::new(detail));
    }
    match status {
        Some(status) => error_for_status(status, detail),
        None if is(&["rate_limit_exceeded"]) => Error::RateLimited(Box::new(detail)),
        None => Error::Server(Box::new(detail)),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use msgflux_core::kit::testkit::headers;

    fn body(code: &str, kind: &str) -> Vec<u8> {
        serde_json::json!({"error": {"message": "explained", "type": kind, "param": "image", "code": code}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn content_policy_violation_is_a_content_policy_error() {
        let err = parse_error(
            "openai",
            400,
            &HeaderMap::new(),
            &body("content_policy_violation", "invalid_request_error"),
        );
        assert!(matches!(err, Error::ContentPolicy(_)), "{err}");
        assert_eq!(err.provider_error().and_then(|d| d.param.as_deref()), Some("image"));
    }

    #[test]
    fn moderation_blocked_is_a_content_policy_error() {
        let err = parse_error(
            "openai",
            400,
            &HeaderMap::new(),
            &body("moderation_blocked", "image_generation_user_error"),
        );
        assert!(matches!(err, Error::ContentPolicy(_)), "{err}");
    }

    #[test]
    fn insufficient_quota_on_a_429_is_permanent_even_if_the_server_says_retry() {
        let h = headers(&[("x-should-retry", "true"), ("retry-after", "1")]);
        let err = parse_error("openai", 429, &h, &body("insufficient_quota", "insufficient_quota"));
        assert!(matches!(err, Error::QuotaExceeded(_)), "{err}");
        assert!(!err.is_retryable());
    }

    #[test]
    fn invalid_api_key_is_unauthenticated_whatever_the_status() {
        let err = parse_error(
            "openai",
            400,
            &HeaderMap::new(),
            &body("invalid_api_key", "invalid_request_error"),
        );
        assert!(matches!(err, Error::Unauthenticated(_)), "{err}");
    }

    #[test]
    fn a_rate_limit_keeps_the_wait_and_request_id() {
        let h = headers(&[("retry-after-ms", "1500"), ("x-request-id", "req_9")]);
        let err = parse_error("openai", 429, &h, &body("rate_limit_exceeded", "requests"));
        assert!(matches!(err, Error::RateLimited(_)), "{err}");
        assert_eq!(err.retry_after(), Some(Duration::from_millis(1500)));
        assert_eq!(err.request_id(), Some("req_9"));
    }

    #[test]
    fn an_html_error_page_keeps_the_status_meaning_and_shows_the_body() {
        let err = parse_error(
            "openai",
            502,
            &HeaderMap::new(),
            b"<html><body>Bad gateway</body></html>",
        );
        assert!(matches!(err, Error::Server(_)), "{err}");
        assert!(err.to_string().contains("Bad gateway"), "{err}");
    }

    #[test]
    fn x_should_retry_false_is_kept() {
        let h = headers(&[("x-should-retry", "false")]);
        let err = parse_error("openai", 500, &h, &body("server_error", "server_error"));
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_bare_string_error_from_a_compatible_server_is_understood() {
        let err = parse_error("openai", 400, &HeaderMap::new(), br#"{"error": "model not loaded"}"#);
        assert!(matches!(err, Error::Rejected(_)), "{err}");
        assert!(err.to_string().contains("model not loaded"), "{err}");
    }

    #[test]
    fn azure_request_ids_are_read_too() {
        let h = headers(&[("apim-request-id", "azure-1")]);
        let err = parse_error(
            "azure",
            404,
            &h,
            br#"{"error": {"code": "DeploymentNotFound", "message": "no"}}"#,
        );
        assert!(matches!(err, Error::NotFound(_)), "{err}");
        assert_eq!(err.request_id(), Some("azure-1"));
    }

    #[test]
    fn a_streamed_error_without_a_status_is_a_server_failure_unless_its_code_says_otherwise() {
        let object = ErrorObject {
            message: Some("boom".into()),
            ..ErrorObject::default()
        };
        assert!(matches!(stream_error("openai", object, None), Error::Server(_)));
        let object = ErrorObject {
            message: Some("blocked".into()),
            code: Some(serde_json::json!("moderation_blocked")),
            ..ErrorObject::default()
        };
        assert!(matches!(stream_error("openai", object, None), Error::ContentPolicy(_)));
    }
}
