//! fal's error answers mapped to [`msgflux_core::Error`] in one place.
//!
//! fal answers errors as JSON with a `detail`: a list of validation errors
//! (`{loc, msg, type, ctx?, input?}`, usually with 422) for model and input
//! errors, or a string for infrastructure errors, which also carry
//! `X-Fal-Error-Type` (`request_timeout`, `runner_scheduling_failure`, ...).
//! `X-Fal-Retryable` is fal's own retry advice, honoured as such. The
//! generic status mapping of [`msgflux_core::kit::http::error_for_status`] is
//! refined here:
//!
//! | fal says | msgflux error |
//! |---|---|
//! | a detail of type `content_policy_violation` | [`Error::ContentPolicy`] |
//! | 422 naming a field (`loc: ["body", "image_url"]`) | [`Error::InvalidInput`] naming it |
//! | 403 "Exhausted balance" / "User is locked" | [`Error::QuotaExceeded`] (never retried) |
//! | 429 with `retry-after` | [`Error::RateLimited`] |
//! | 504 with `x-fal-request-timeout-type: user` | [`Error::Server`], not retried (your own start timeout passed) |
//! | a 404 for a finished request's result | [`Error::NotFound`]: the result expired |

use msgflux_core::kit::http;
use msgflux_core::{Error, ProviderError};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use crate::registration::FAL_SCHEME;

/// An error body: `detail` is a string or a list of validation errors.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    detail: Value,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// One validation error of a `detail` list.
#[derive(Debug, Deserialize)]
struct FieldError {
    #[serde(default)]
    loc: Vec<Value>,
    #[serde(default)]
    msg: String,
    #[serde(default, rename = "type")]
    kind: String,
}

/// Error types that mean the content was refused.
const POLICY_TYPES: &[&str] = &[
    "content_policy_violation",
    "nsfw_content_detected",
    "content_moderation",
];

/// Maps an error answer of fal to a msgflux error.
pub(crate) fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let request_id = http::first_header(headers, &["x-fal-request-id"]);
    let error_type = http::first_header(headers, &["x-fal-error-type"]).or(parsed.error_type.clone());
    let retryable = match http::first_header(headers, &["x-fal-retryable"]).as_deref() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => http::should_retry(headers),
    };
    let with_common = |detail: ProviderError| {
        let mut detail = detail
            .with_status(status)
            .with_retry_after(http::retry_after(headers))
            .with_should_retry(retryable);
        if let Some(id) = &request_id {
            detail = detail.with_request_id(id.clone());
        }
        detail
    };

    let fields: Vec<FieldError> = match &parsed.detail {
        Value::Array(items) => items
            .iter()
            .filter_map(|item| serde_json::from_value(item.clone()).ok())
            .collect(),
        _ => Vec::new(),
    };
    if let Some(policy) = fields.iter().find(|f| POLICY_TYPES.contains(&f.kind.as_str())) {
        let detail = with_common(ProviderError::new(
            FAL_SCHEME,
            non_empty(&policy.msg, "the content was refused"),
        ))
        .with_code(policy.kind.clone());
        return Error::ContentPolicy(Box::new(detail));
    }
    if status == 422
        && let Some(first) = fields.first()
    {
        let rules: Vec<String> = fields
            .iter()
            .map(|f| {
                format!(
                    "{}: {} ({})",
                    field_name(&f.loc),
                    non_empty(&f.msg, "is invalid"),
                    f.kind
                )
            })
            .collect();
        return Error::invalid(
            field_name(&first.loc),
            format!("fal rejected the input: {}", rules.join("; ")),
        );
    }

    let text = match &parsed.detail {
        Value::String(text) if !text.trim().is_empty() => text.trim().to_string(),
        Value::Array(_) if !fields.is_empty() => fields
            .iter()
            .map(|f| format!("{}: {}", field_name(&f.loc), f.msg))
            .collect::<Vec<_>>()
            .join("; "),
        _ => parsed
            .message
            .clone()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| http::body_snippet(body)),
    };
    let mut detail = with_common(ProviderError::new(FAL_SCHEME, text.clone()));
    if let Some(kind) = error_type
        .as_deref()
        .or_else(|| fields.first().map(|f| f.kind.as_str()))
    {
        detail = detail.with_code(kind.to_string());
    }
    let lower = text.to_ascii_lowercase();
    if matches!(status, 402 | 403)
        && (lower.contains("balance") || lower.contains("locked") || lower.contains("credit"))
    {
        return Error::QuotaExceeded(Box::new(detail.with_should_retry(Some(false))));
    }
    if status == 504 && http::first_header(headers, &["x-fal-request-timeout-type"]).as_deref() == Some("user") {
        let detail = detail.with_should_retry(Some(false));
        return Error::Server(Box::new(detail));
    }
    http::error_for_status(status, detail)
}

/// `["body", "image_url"]` → `image_url`; `["body", "image_urls", 0]` → `image_urls[0]`.
fn field_name(loc: &[Value]) -> String {
    let mut name = String::new();
    for part in loc.iter().skip_while(|p| p.as_str() == Some("body")) {
        match part {
            Value::Number(n) => name.push_str(&format!("[{n}]")),
            Value::String(s) if name.is_empty() => name.push_str(s),
            Value::String(s) => {
                name.push('.');
                name.push_str(s);
            }
            _ => {}
        }
    }
    if name.is_empty() { "input".into() } else { name }
}

fn non_empty<'a>(text: &'a str, fallback: &'a str) -> &'a str {
    if text.trim().is_empty() { fallback } else { text.trim() }
}

/// A request that ended in the queue with an error in its status body.
pub(crate) fn request_failed(request_id: &str, error: &Value, error_type: Option<&str>) -> Error {
    let text = match error {
        Value::String(s) => s.clone(),
        Value::Null => "the request failed without an error message".into(),
        other => other.to_string(),
    };
    let detail = ProviderError::new(FAL_SCHEME, text).with_request_id(request_id);
    let detail = match error_type {
        Some(kind) => detail.with_code(kind),
        None => detail.with_code("request_failed"),
    };
    if error_type.is_some_and(|k| POLICY_TYPES.contains(&k)) {
        Error::ContentPolicy(Box::new(detail))
    } else {
        Error::Server(Box::new(detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflux_core::kit::testkit::headers;
    use std::time::Duration;

    #[test]
    fn a_validation_error_names_the_field() {
        let body = br#"{"detail":[{"loc":["body","num_images"],"msg":"ensure this value is less than or equal to 4","type":"value_error.number.not_le"}]}"#;
        match parse_error(422, &HeaderMap::new(), body) {
            Error::InvalidInput { param, rule, .. } => {
                assert_eq!(param, "num_images");
                assert!(rule.contains("less than or equal to 4"), "{rule}");
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn a_content_policy_violation_is_content_policy_with_fal_words() {
        let body = br#"{"detail":[{"loc":["body","prompt"],"msg":"The content could not be processed because it contained material flagged by a content checker.","type":"content_policy_violation"}]}"#;
        let err = parse_error(422, &headers(&[("x-fal-request-id", "req-1")]), body);
        assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
        assert!(err.to_string().contains("content checker"), "{err}");
        assert_eq!(err.request_id(), Some("req-1"));
    }

    #[test]
    fn an_exhausted_balance_is_quota_and_never_retried() {
        let body = br#"{"detail":"User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing."}"#;
        let err = parse_error(403, &HeaderMap::new(), body);
        assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_plain_403_is_permission_denied() {
        let err = parse_error(403, &HeaderMap::new(), br#"{"detail":"Not allowed to use this app"}"#);
        assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
    }

    #[test]
    fn a_429_keeps_its_retry_after() {
        let err = parse_error(
            429,
            &headers(&[("retry-after", "2")]),
            br#"{"detail":"Too many requests"}"#,
        );
        assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn infrastructure_errors_keep_their_type_and_retry_advice() {
        let err = parse_error(
            503,
            &headers(&[
                ("x-fal-error-type", "runner_scheduling_failure"),
                ("x-fal-retryable", "true"),
            ]),
            br#"{"detail":"Runner scheduling failed","error_type":"runner_scheduling_failure"}"#,
        );
        assert!(matches!(err, Error::Server(_)), "{err:?}");
        let detail = err.provider_error().expect("detail");
        assert_eq!(detail.code.as_deref(), Some("runner_scheduling_failure"));
        assert_eq!(detail.should_retry, Some(true));
    }

    #[test]
    fn a_user_start_timeout_is_not_retried() {
        let err = parse_error(
            504,
            &headers(&[("x-fal-request-timeout-type", "user")]),
            br#"{"detail":"Request timed out","error_type":"request_timeout"}"#,
        );
        assert!(!err.is_retryable(), "{err:?}");
    }

    #[test]
    fn a_body_that_is_not_json_is_quoted() {
        let err = parse_error(502, &HeaderMap::new(), b"<html>Bad gateway</html>");
        assert!(matches!(err, Error::Server(_)), "{err:?}");
        assert!(err.to_string().contains("Bad gateway"), "{err}");
    }

    #[test]
    fn list_positions_are_shown_in_field_names() {
        let loc = vec![Value::from("body"), Value::from("image_urls"), Value::from(1)];
        assert_eq!(field_name(&loc), "image_urls[1]");
    }
}
