//! The one place that turns Google's answers into `msgflux_core::Error`s:
//! error statuses with a `google.rpc.Status` body (`{"error": {code,
//! message, status, details}}`), refined from the status through
//! `msgflux_core::kit::http::error_for_status`; and refusals inside a
//! successful answer (a blocked prompt, a candidate stopped for safety, an
//! answer with text but no image).

use std::time::Duration;

use msgflux_core::kit::http::{body_snippet, error_for_status, first_header, retry_after, should_retry};
use msgflux_core::{Error, ProviderError};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

/// `{"error": google.rpc.Status}`.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<Status>,
}

/// `google.rpc.Status` as JSON: the HTTP code, the message, the canonical
/// code's name (`RESOURCE_EXHAUSTED`) and typed details.
#[derive(Debug, Default, Deserialize)]
struct Status {
    #[serde(default)]
    code: Option<u16>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    details: Vec<Value>,
}

/// What the `details` say, by `@type`.
#[derive(Debug, Default)]
struct Details {
    /// `ErrorInfo.reason` (`API_KEY_INVALID`, `SERVICE_DISABLED`).
    reason: Option<String>,
    /// `RetryInfo.retryDelay`.
    retry_delay: Option<Duration>,
    /// `QuotaFailure.violations[].quotaId` (or `quotaMetric`), with `quotaValue`.
    quotas: Vec<(String, Option<String>)>,
    /// `BadRequest.fieldViolations[].field`.
    field: Option<String>,
}

fn details(values: &[Value]) -> Details {
    let mut out = Details::default();
    for detail in values {
        let kind = detail.get("@type").and_then(Value::as_str).unwrap_or("");
        let kind = kind.rsplit('/').next().unwrap_or(kind);
        match kind {
            "google.rpc.ErrorInfo" => {
                out.reason = detail.get("reason").and_then(Value::as_str).map(str::to_string);
            }
            "google.rpc.RetryInfo" => {
                out.retry_delay = detail
                    .get("retryDelay")
                    .and_then(Value::as_str)
                    .and_then(parse_duration);
            }
            "google.rpc.QuotaFailure" => {
                for violation in detail.get("violations").and_then(Value::as_array).into_iter().flatten() {
                    let id = ["quotaId", "quotaMetric", "subject"]
                        .iter()
                        .find_map(|k| violation.get(*k).and_then(Value::as_str))
                        .unwrap_or("")
                        .to_string();
                    let value = violation.get("quotaValue").and_then(Value::as_str).map(str::to_string);
                    out.quotas.push((id, value));
                }
            }
            "google.rpc.BadRequest" => {
                out.field = detail
                    .get("fieldViolations")
                    .and_then(Value::as_array)
                    .and_then(|v| v.first())
                    .and_then(|v| v.get("field"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            _ => {}
        }
    }
    out
}

/// A protobuf `Duration` as JSON: `"1.5s"`, `"43s"`.
///
/// ```ignore
/// assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
/// ```
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// The provider's request id, when a proxy or Google's front end sends one.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    first_header(headers, &["x-request-id", "x-goog-request-id", "x-cloud-trace-context"])
}

/// A quota that waiting a minute does not restore: a daily quota, or a
/// limit of 0 (the free tier does not offer the model; billing is needed).
fn is_lasting_quota(id: &str, value: Option<&str>) -> bool {
    id.contains("PerDay") || id.contains("per_day") || value == Some("0")
}

/// Maps an error answer (status, headers, body) to the semantic error.
///
/// - 429 `RESOURCE_EXHAUSTED`: [`Error::RateLimited`] with the `RetryInfo`
///   delay, or [`Error::QuotaExceeded`] (never retried) when its
///   `QuotaFailure` names a daily quota or a limit of 0;
/// - `API_KEY_INVALID` (which Google answers with 400) → [`Error::Unauthenticated`];
/// - 400 `FAILED_PRECONDITION` about billing → [`Error::QuotaExceeded`];
/// - otherwise the status decides, with the message, the status name as the
///   code and a `BadRequest` field as the parameter.
///
/// A body that is not JSON keeps the status's meaning, with the start of
/// the body as the message.
pub(crate) fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok().and_then(|b| b.error);
    let Some(rpc) = parsed else {
        let mut detail = ProviderError::new(
            provider,
            format!("HTTP {status} with an unreadable body: {}", body_snippet(body)),
        )
        .with_retry_after(retry_after(headers))
        .with_should_retry(should_retry(headers));
        if let Some(id) = request_id(headers) {
            detail = detail.with_request_id(id);
        }
        return error_for_status(status, detail);
    };
    let found = details(&rpc.details);
    let message = rpc
        .message
        .clone()
        .unwrap_or_else(|| format!("HTTP {status} without a message"));
    let mut detail = ProviderError::new(provider, message.clone())
        .with_retry_after(found.retry_delay.or_else(|| retry_after(headers)))
        .with_should_retry(should_retry(headers));
    if let Some(code) = found.reason.clone().or_else(|| rpc.status.clone()) {
        detail = detail.with_code(code);
    }
    if let Some(field) = &found.field {
        detail = detail.with_param(field.clone());
    }
    if let Some(id) = request_id(headers) {
        detail = detail.with_request_id(id);
    }
    let status = rpc.code.filter(|c| (400..600).contains(c)).unwrap_or(status);
    let name = rpc.status.as_deref().unwrap_or("");
    if matches!(
        found.reason.as_deref(),
        Some("API_KEY_INVALID" | "ACCESS_TOKEN_EXPIRED" | "CREDENTIALS_MISSING")
    ) || name == "UNAUTHENTICATED"
    {
        return Error::Unauthenticated(Box::new(detail.with_status(status)));
    }
    if (status == 429 || name == "RESOURCE_EXHAUSTED")
        && found
            .quotas
            .iter()
            .any(|(id, value)| is_lasting_quota(id, value.as_deref()))
    {
        // Waiting seconds does not restore a daily quota or add billing.
        return Error::QuotaExceeded(Box::new(detail.with_status(status).with_should_retry(Some(false))));
    }
    if name == "FAILED_PRECONDITION" && message.to_ascii_lowercase().contains("billing") {
        return Error::QuotaExceeded(Box::new(detail.with_status(status).with_should_retry(Some(false))));
    }
    if name == "RESOURCE_EXHAUSTED" {
        return Error::RateLimited(Box::new(detail.with_status(status)));
    }
    error_for_status(status, detail)
}

/// Finish reasons that mean the model refused on policy grounds.
const POLICY_FINISH: &[&str] = &[
    "SAFETY",
    "IMAGE_SAFETY",
    "PROHIBITED_CONTENT",
    "IMAGE_PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "RECITATION",
    "IMAGE_RECITATION",
];

/// A prompt blocked before any candidate (`promptFeedback.blockReason`).
pub(crate) fn blocked_prompt(provider: &str, reason: &str, message: Option<&str>, id: Option<String>) -> Error {
    let text = match message {
        Some(m) if !m.trim().is_empty() => format!("the prompt was blocked ({reason}): {m}"),
        _ => format!("the prompt was blocked ({reason}); rephrase it or change the input images"),
    };
    let mut detail = ProviderError::new(provider, text).with_code(reason.to_string());
    if let Some(id) = id {
        detail = detail.with_request_id(id);
    }
    Error::ContentPolicy(Box::new(detail))
}

/// A candidate that ended without an image: a policy stop
/// ([`Error::ContentPolicy`]) or anything else, text-only answers included
/// ([`Error::InvalidResponse`]); both carry the model's own words.
pub(crate) fn no_image(provider: &str, finish_reason: Option<&str>, words: Option<&str>, id: Option<String>) -> Error {
    let reason = finish_reason.unwrap_or("STOP");
    let words = words.map(str::trim).filter(|w| !w.is_empty());
    if POLICY_FINISH.contains(&reason) {
        let text = match words {
            Some(w) => format!("the model stopped for policy reasons ({reason}): {w}"),
            None => format!("the model stopped for policy reasons ({reason}) without an image"),
        };
        let mut detail = ProviderError::new(provider, text).with_code(reason.to_string());
        if let Some(id) = id {
            detail = detail.with_request_id(id);
        }
        return Error::ContentPolicy(Box::new(detail));
    }
    let message = match words {
        Some(w) => {
            format!("the model answered without an image (finish reason {reason}); it said: {w}. The call was billed")
        }
        None => format!("the model answered without an image (finish reason {reason}). The call was billed"),
    };
    Error::InvalidResponse {
        provider: provider.into(),
        message,
        request_id: id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflux_core::kit::testkit::headers;
    use serde_json::json;

    fn status(code: u16, name: &str, message: &str, details: Value) -> Vec<u8> {
        json!({"error": {"code": code, "message": message, "status": name, "details": details}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn a_per_minute_429_is_a_rate_limit_with_the_retry_delay() {
        let body = status(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota",
            json!([
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel", "quotaValue": "10"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}
            ]),
        );
        let err = parse_error("google", 429, &HeaderMap::new(), &body);
        assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
        assert_eq!(err.retry_after(), Some(Duration::from_millis(1500)));
        assert!(err.is_retryable());
    }

    #[test]
    fn a_daily_quota_or_a_zero_limit_is_quota_exceeded_and_final() {
        for (id, value) in [
            ("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "50"),
            ("ImagesPerMinute", "0"),
        ] {
            let body = status(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota",
                json!([{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": id, "quotaValue": value}]},
                       {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "40s"}]),
            );
            let err = parse_error("google", 429, &headers(&[("x-should-retry", "true")]), &body);
            assert!(matches!(err, Error::QuotaExceeded(_)), "{id}: {err:?}");
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn an_invalid_api_key_answered_with_400_is_unauthenticated() {
        let body = status(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]),
        );
        let err = parse_error("google", 400, &HeaderMap::new(), &body);
        assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
        assert_eq!(
            err.provider_error().and_then(|d| d.code.as_deref()),
            Some("API_KEY_INVALID")
        );
    }

    #[test]
    fn a_bad_request_names_the_field() {
        let body = status(
            400,
            "INVALID_ARGUMENT",
            "Invalid value at 'generation_config.image_config.aspect_ratio'",
            json!([{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": "generation_config.image_config.aspect_ratio", "description": "bad"}]}]),
        );
        let err = parse_error("google", 400, &HeaderMap::new(), &body);
        assert!(matches!(err, Error::Rejected(_)), "{err:?}");
        assert_eq!(
            err.provider_error().and_then(|d| d.param.as_deref()),
            Some("generation_config.image_config.aspect_ratio")
        );
    }

    #[test]
    fn billing_preconditions_are_quota() {
        let body = status(
            400,
            "FAILED_PRECONDITION",
            "Image generation is not available on the free tier; enable billing.",
            json!([]),
        );
        assert!(matches!(
            parse_error("google", 400, &HeaderMap::new(), &body),
            Error::QuotaExceeded(_)
        ));
    }

    #[test]
    fn an_overloaded_503_with_a_delay_may_be_resent() {
        let body = status(
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
            json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}]),
        );
        let err = parse_error("google", 503, &HeaderMap::new(), &body);
        assert!(matches!(err, Error::Server(_)), "{err:?}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn an_html_error_page_keeps_the_status_meaning() {
        let err = parse_error("google", 502, &HeaderMap::new(), b"<html>Bad gateway</html>");
        assert!(matches!(err, Error::Server(_)), "{err:?}");
        assert!(err.to_string().contains("Bad gateway"), "{err}");
    }

    #[test]
    fn refusals_inside_answers_keep_the_models_words() {
        let err = no_image("google", Some("IMAGE_SAFETY"), Some("I can't edit this image."), None);
        assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
        assert!(err.to_string().contains("I can't edit this image."), "{err}");
        let err = no_image("google", Some("STOP"), Some("Here is a description instead."), None);
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
        assert!(err.to_string().contains("Here is a description instead."), "{err}");
        assert!(err.may_have_been_billed());
        let err = blocked_prompt("google", "PROHIBITED_CONTENT", None, None);
        assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
    }

    #[test]
    fn protobuf_durations_parse() {
        assert_eq!(parse_duration("43s"), Some(Duration::from_secs(43)));
        assert_eq!(parse_duration("0.020s"), Some(Duration::from_millis(20)));
        assert_eq!(parse_duration("soon"), None);
    }
}
