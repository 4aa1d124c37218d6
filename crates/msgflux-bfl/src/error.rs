//! BFL's error answers and terminal task states, mapped to
//! [`msgflux_core::Error`] in one place.
//!
//! Error bodies are FastAPI's: `{"detail": "text"}`, or for 422 a list of
//! `{loc, msg, type}` naming the field. The generic status mapping of
//! [`msgflux_core::kit::http::error_for_status`] is refined here: a 422 that
//! names a body field is [`Error::InvalidInput`] naming it, 402 (out of
//! credits) is [`Error::QuotaExceeded`], 429 (too many active tasks) is
//! [`Error::RateLimited`] with the server's wait when it gives one. A task
//! that ends `Request Moderated` or `Content Moderated` is
//! [`Error::ContentPolicy`], `Task not found` is [`Error::NotFound`], and
//! `Error` is [`Error::Server`], each with the task id and BFL's details.

use std::time::Duration;

use msgflux_core::kit::http;
use msgflux_core::{Error, ProviderError};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use crate::registration::BFL_SCHEME;

/// A FastAPI error body.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    detail: Value,
    retry_after: Option<f64>,
}

/// Maps an error answer of the BFL API to a msgflux error.
pub(crate) fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    if let Value::Array(items) = &parsed.detail
        && status == 422
    {
        let fields: Vec<(String, String)> = items.iter().map(validation_item).collect();
        if let Some((param, _)) = fields.first() {
            let rules: Vec<String> = fields.iter().map(|(f, m)| format!("{f}: {m}")).collect();
            return Error::invalid(param.clone(), format!("BFL rejected the request: {}", rules.join("; ")));
        }
    }
    let message = match &parsed.detail {
        Value::String(text) if !text.trim().is_empty() => text.trim().to_string(),
        Value::Null => http::body_snippet(body),
        other => other.to_string(),
    };
    let retry_after = http::retry_after(headers).or_else(|| {
        parsed
            .retry_after
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
    });
    let mut detail = ProviderError::new(BFL_SCHEME, message)
        .with_retry_after(retry_after)
        .with_should_retry(http::should_retry(headers));
    if status == 429 {
        detail = detail.with_code("too_many_active_tasks");
    }
    if status == 402 {
        detail = detail.with_code("insufficient_credits");
    }
    if let Some(id) = http::first_header(headers, &["x-request-id", "x-bfl-request-id"]) {
        detail = detail.with_request_id(id);
    }
    http::error_for_status(status, detail)
}

/// `{loc: ["body", "seed"], msg}` as (`seed`, msg).
fn validation_item(item: &Value) -> (String, String) {
    let field = item
        .get("loc")
        .and_then(Value::as_array)
        .and_then(|loc| loc.iter().rev().find(|p| p.as_str() != Some("body")))
        .map(|p| match p {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| "request".into());
    let message = item
        .get("msg")
        .and_then(Value::as_str)
        .unwrap_or("is invalid")
        .to_string();
    (field, message)
}

/// A task that ended in a state other than `Ready`; `None` for states that are not terminal.
pub(crate) fn task_ended(task_id: &str, status: &str, details: &Value) -> Option<Error> {
    let said = describe_details(details);
    let with = |text: String| {
        let message = match &said {
            Some(said) => format!("{text}: {said}"),
            None => text,
        };
        ProviderError::new(BFL_SCHEME, message).with_request_id(task_id)
    };
    Some(match status {
        "Request Moderated" => Error::ContentPolicy(Box::new(
            with("BFL's moderation refused the request (prompt or input image) before processing".into())
                .with_code("request_moderated"),
        )),
        "Content Moderated" => Error::ContentPolicy(Box::new(
            with("BFL's moderation withheld the generated image".into()).with_code("content_moderated"),
        )),
        "Task not found" => Error::NotFound(Box::new(
            with(format!("BFL does not know task {task_id} (an unknown or expired id)")).with_code("task_not_found"),
        )),
        "Error" => Error::Server(Box::new(
            with(format!("task {task_id} failed on BFL's side")).with_code("task_error"),
        )),
        _ => return None,
    })
}

/// BFL's `details` object (moderation reasons, error text) as one line.
fn describe_details(details: &Value) -> Option<String> {
    match details {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_string()),
        Value::Object(map) if map.is_empty() => None,
        other => Some(other.to_string()),
    }
}

/// An answer the API should not have given.
pub(crate) fn invalid_response(message: impl Into<String>, request_id: Option<&str>) -> Error {
    Error::InvalidResponse {
        provider: BFL_SCHEME.into(),
        message: message.into(),
        request_id: request_id.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflux_core::kit::testkit::headers;
    use serde_json::json;

    #[test]
    fn a_422_names_the_body_field() {
        let body = br#"{"detail":[{"loc":["body","safety_tolerance"],"msg":"Input should be less than or equal to 5","type":"less_than_equal"}]}"#;
        match parse_error(422, &HeaderMap::new(), body) {
            Error::InvalidInput { param, rule, .. } => {
                assert_eq!(param, "safety_tolerance");
                assert!(rule.contains("less than or equal to 5"), "{rule}");
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn a_402_is_quota_exceeded_and_never_retried() {
        let err = parse_error(402, &HeaderMap::new(), br#"{"detail":"Insufficient credits"}"#);
        assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("Insufficient credits"), "{err}");
    }

    #[test]
    fn a_429_is_rate_limited_with_the_servers_wait() {
        let err = parse_error(
            429,
            &headers(&[("retry-after", "2")]),
            br#"{"detail":"You have exceeded the number of active tasks"}"#,
        );
        assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn a_403_is_permission_denied_and_a_body_that_is_not_json_is_quoted() {
        assert!(matches!(
            parse_error(403, &HeaderMap::new(), br#"{"detail":"Not authenticated"}"#),
            Error::PermissionDenied(_)
        ));
        let err = parse_error(502, &HeaderMap::new(), b"<html>Bad gateway</html>");
        assert!(
            matches!(err, Error::Server(_)) && err.to_string().contains("Bad gateway"),
            "{err}"
        );
    }

    #[test]
    fn every_terminal_state_has_its_error() {
        let details = json!({"Moderation Reasons": ["Derivative Works Filter"]});
        let err = task_ended("t1", "Request Moderated", &details).expect("terminal");
        assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
        assert!(err.to_string().contains("Derivative Works Filter"), "{err}");
        assert_eq!(err.request_id(), Some("t1"));
        assert!(matches!(
            task_ended("t", "Content Moderated", &Value::Null),
            Some(Error::ContentPolicy(_))
        ));
        assert!(matches!(
            task_ended("t", "Task not found", &Value::Null),
            Some(Error::NotFound(_))
        ));
        assert!(matches!(
            task_ended("t", "Error", &json!("OOM")),
            Some(Error::Server(_))
        ));
        assert!(task_ended("t", "Pending", &Value::Null).is_none());
        assert!(task_ended("t", "Ready", &Value::Null).is_none());
    }
}
