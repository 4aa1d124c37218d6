//! Replicate's error answers and failed predictions, mapped to
//! [`msgflux_core::Error`] in one place.
//!
//! HTTP errors are `application/problem+json` (`{title, detail, status,
//! invalid_fields}`, plus `retry_after` on 429). The generic status mapping of
//! [`msgflux_core::kit::http::error_for_status`] is refined here: a 422 that names
//! invalid fields becomes [`Error::InvalidInput`] naming the field. A
//! prediction that ends `failed` keeps its error text (NSFW refusals become
//! [`Error::ContentPolicy`]); `canceled` and `aborted` become [`Error::Cancelled`].

use std::time::Duration;

use msgflux_core::kit::http;
use msgflux_core::{Error, ProviderError};
use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::registration::REPLICATE_SCHEME;

/// A problem+json body.
#[derive(Debug, Default, Deserialize)]
struct Problem {
    title: Option<String>,
    detail: Option<String>,
    #[serde(default)]
    invalid_fields: Vec<InvalidField>,
    retry_after: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct InvalidField {
    field: Option<String>,
    description: Option<String>,
}

/// Maps an error answer of the Replicate API to a msgflux error.
pub(crate) fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let problem: Problem = serde_json::from_slice(body).unwrap_or_default();
    if status == 422
        && let Some(first) = problem.invalid_fields.first()
    {
        let param = first
            .field
            .as_deref()
            .map(input_field_name)
            .unwrap_or("input")
            .to_string();
        let rules: Vec<String> = problem
            .invalid_fields
            .iter()
            .map(|f| {
                let field = f.field.as_deref().map(input_field_name).unwrap_or("input");
                let description = f.description.as_deref().unwrap_or("is invalid");
                format!("{field}: {description}")
            })
            .collect();
        let title = problem.title.as_deref().unwrap_or("input validation failed");
        return Error::invalid(
            param,
            format!("Replicate rejected the input ({title}): {}", rules.join("; ")),
        );
    }
    let message = match (problem.title.as_deref(), problem.detail.as_deref()) {
        (Some(title), Some(detail)) if !detail.trim().is_empty() && detail.trim() != title => {
            format!("{title}: {}", detail.trim())
        }
        (Some(title), _) => title.to_string(),
        (None, Some(detail)) => detail.trim().to_string(),
        (None, None) => http::body_snippet(body),
    };
    let retry_after = http::retry_after(headers).or_else(|| {
        problem
            .retry_after
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
    });
    let mut detail = ProviderError::new(REPLICATE_SCHEME, message)
        .with_retry_after(retry_after)
        .with_should_retry(http::should_retry(headers));
    if let Some(id) = http::first_header(headers, &["x-request-id", "x-replicate-request-id"]) {
        detail = detail.with_request_id(id);
    }
    http::error_for_status(status, detail)
}

/// `input.mask` and `mask` both name the model input `mask`.
fn input_field_name(field: &str) -> &str {
    field.strip_prefix("input.").unwrap_or(field)
}

/// A prediction that ended `failed`, with its error text kept.
pub(crate) fn prediction_failed(prediction_id: &str, error_text: Option<&str>) -> Error {
    let text = error_text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("the prediction failed without an error message");
    let detail = ProviderError::new(REPLICATE_SCHEME, text).with_request_id(prediction_id);
    if refused_on_policy(text) {
        Error::ContentPolicy(Box::new(detail.with_code("nsfw")))
    } else {
        Error::Server(Box::new(detail.with_code("prediction_failed")))
    }
}

/// A prediction that ended `canceled` or `aborted`.
pub(crate) fn prediction_stopped(prediction_id: &str, status: &str) -> Error {
    let message = match status {
        "aborted" => "the prediction was aborted before it started running (its deadline passed while it was queued)",
        _ => "the prediction was canceled (by its creator, or because it reached its Cancel-After deadline)",
    };
    Error::Cancelled(Box::new(
        ProviderError::new(REPLICATE_SCHEME, message)
            .with_code(status)
            .with_request_id(prediction_id),
    ))
}

/// Safety checkers word their refusals differently; these are the ones seen in the wild.
fn refused_on_policy(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "nsfw",
        "flagged as sensitive",
        "content moderated",
        "safety filter",
        "safety checker",
        "content policy",
        "(e005)",
    ]
    .iter()
    .any(|marker| lower.contains(marker))
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflux_core::kit::testkit::headers;

    #[test]
    fn invalid_fields_become_invalid_input_naming_the_field() {
        let body = br#"{"title":"Input validation failed","status":422,"detail":"- input.num_outputs: Must be less than or equal to 4","invalid_fields":[{"type":"less_than_equal","field":"input.num_outputs","description":"Must be less than or equal to 4"}]}"#;
        let err = parse_error(422, &HeaderMap::new(), body);
        match &err {
            Error::InvalidInput { param, rule, .. } => {
                assert_eq!(param, "num_outputs");
                assert!(rule.contains("Must be less than or equal to 4"), "{rule}");
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn a_422_without_fields_is_a_rejection_with_the_detail() {
        let body = br#"{"title":"Invalid version","detail":"The specified version does not exist","status":422}"#;
        let err = parse_error(422, &HeaderMap::new(), body);
        assert!(matches!(err, Error::Rejected(_)), "{err:?}");
        assert!(
            err.to_string().contains("The specified version does not exist"),
            "{err}"
        );
    }

    #[test]
    fn a_429_reads_retry_after_from_the_body() {
        let body = br#"{"title":"Request was throttled","detail":"Request was throttled. Expected available in 3 seconds.","status":429,"retry_after":3}"#;
        let err = parse_error(429, &HeaderMap::new(), body);
        assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn a_429_prefers_the_retry_after_header() {
        let err = parse_error(429, &headers(&[("retry-after", "1")]), br#"{"retry_after":30}"#);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    }

    #[test]
    fn a_402_is_quota_exceeded_and_never_retried() {
        let body = br#"{"title":"Insufficient credit","detail":"You have insufficient credit to run this model.","status":402}"#;
        let err = parse_error(402, &HeaderMap::new(), body);
        assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_401_is_unauthenticated() {
        let body =
            br#"{"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}"#;
        assert!(matches!(
            parse_error(401, &HeaderMap::new(), body),
            Error::Unauthenticated(_)
        ));
    }

    #[test]
    fn a_404_is_not_found() {
        let body = br#"{"title":"Not found","detail":"The requested resource could not be found.","status":404}"#;
        assert!(matches!(parse_error(404, &HeaderMap::new(), body), Error::NotFound(_)));
    }

    #[test]
    fn a_body_that_is_not_json_is_quoted() {
        let err = parse_error(502, &HeaderMap::new(), b"<html>Bad gateway</html>");
        assert!(matches!(err, Error::Server(_)), "{err:?}");
        assert!(err.to_string().contains("Bad gateway"), "{err}");
    }

    #[test]
    fn an_nsfw_failure_is_a_content_policy_refusal() {
        let err = prediction_failed(
            "p1",
            Some("NSFW content detected. Try running it again, or try a different prompt."),
        );
        assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
        assert_eq!(err.request_id(), Some("p1"));
    }

    #[test]
    fn other_failures_keep_their_text() {
        let err = prediction_failed("p2", Some("CUDA out of memory"));
        assert!(matches!(err, Error::Server(_)), "{err:?}");
        assert!(err.to_string().contains("CUDA out of memory"), "{err}");
    }

    #[test]
    fn aborted_and_canceled_are_cancellations() {
        assert!(matches!(prediction_stopped("p", "aborted"), Error::Cancelled(_)));
        assert!(matches!(prediction_stopped("p", "canceled"), Error::Cancelled(_)));
    }
}
