//! Stability AI's error answers, and the `finish_reason` of a successful
//! one, mapped to [`msgflux_core::Error`] in one place.
//!
//! Every error answer is `{id, name, errors[]}` (the document's `Error`
//! schema). The status picks the variant through
//! [`msgflux_core::kit::http::error_for_status`]; `name` refines it:
//! `content_moderation` (403) is [`Error::ContentPolicy`], out of credits
//! (402, `payment_required`) is a final [`Error::QuotaExceeded`], a 400
//! `bad_request` lists its broken fields as [`Error::InvalidInput`], and
//! `generation_not_found` (404) says the result expired (results are kept
//! 24 hours).

use msgflux_core::kit::Violations;
use msgflux_core::kit::http::{body_snippet, error_for_status, first_header, retry_after, should_retry};
use msgflux_core::{Error, ProviderError};
use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::registration::STABILITY_SCHEME;

/// The body of every Stability error answer.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    id: Option<String>,
    name: Option<String>,
    #[serde(default)]
    errors: Vec<String>,
}

/// Names that mean the account cannot pay (retrying will not help).
const QUOTA_NAMES: &[&str] = &["payment_required", "insufficient_balance", "insufficient_credits"];

/// The request id: `x-request-id`, else the error body's `id`.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    first_header(headers, &["x-request-id"])
}

/// Maps an error answer (status, headers, body) to the semantic error.
pub(crate) fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let ErrorBody { id, name, errors } = parsed.unwrap_or_default();
    let errors: Vec<String> = errors.into_iter().filter(|e| !e.trim().is_empty()).collect();
    let message = if errors.is_empty() {
        format!("HTTP {status}: {}", body_snippet(body))
    } else {
        errors.join("; ")
    };
    if status == 400 && name.as_deref() == Some("bad_request") && !errors.is_empty() {
        let mut violations = Violations::new();
        for error in &errors {
            // Stability words a field's error as `field: what is wrong`.
            match error.split_once(": ") {
                Some((field, rule)) if !field.contains(' ') => violations.push(field, format!("Stability AI: {rule}")),
                _ => violations.push("request", format!("Stability AI: {error}")),
            }
        }
        if let Err(err) = violations.into_result() {
            return err;
        }
    }
    let mut detail = ProviderError::new(STABILITY_SCHEME, message)
        .with_retry_after(retry_after(headers))
        .with_should_retry(should_retry(headers));
    if let Some(id) = request_id(headers).or(id) {
        detail = detail.with_request_id(id);
    }
    if let Some(name) = &name {
        detail = detail.with_code(name.clone());
    }
    let detail = detail.with_status(status);
    match name.as_deref() {
        Some("content_moderation") => Error::ContentPolicy(Box::new(detail)),
        Some(name) if QUOTA_NAMES.contains(&name) => {
            // Final whatever the headers say: waiting adds no credits.
            Error::QuotaExceeded(Box::new(detail.with_should_retry(Some(false))))
        }
        Some("rate_limit_exceeded") => Error::RateLimited(Box::new(detail)),
        _ => error_for_status(status, detail),
    }
}

/// A successful answer whose image Stability's moderation blurred
/// (`finish_reason` `CONTENT_FILTERED`): a refusal, never a result.
pub(crate) fn content_filtered(request_id: Option<String>, seed: Option<u64>) -> Error {
    let mut detail = ProviderError::new(
        STABILITY_SCHEME,
        format!(
            "the result violated Stability AI's content moderation policy and was blurred (finish_reason CONTENT_FILTERED{}); the generation may have been billed",
            seed.map(|s| format!(", seed {s}")).unwrap_or_default()
        ),
    )
    .with_code("CONTENT_FILTERED")
    .with_status(200);
    if let Some(id) = request_id {
        detail = detail.with_request_id(id);
    }
    Error::ContentPolicy(Box::new(detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflux_core::kit::testkit::headers;

    fn body(name: &str, errors: &[&str]) -> Vec<u8> {
        serde_json::json!({"id": "e1", "name": name, "errors": errors})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn content_moderation_is_a_content_policy_error_with_the_message() {
        let err = parse_error(403, &HeaderMap::new(), &body("content_moderation", &["flagged"]));
        assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
        assert!(err.to_string().contains("flagged"), "{err}");
        assert_eq!(err.request_id(), Some("e1"));
    }

    #[test]
    fn running_out_of_credits_is_final() {
        let h = headers(&[("x-should-retry", "true")]);
        let err = parse_error(402, &h, &body("payment_required", &["lacks sufficient credits"]));
        assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_bad_request_lists_every_field_it_names() {
        let err = parse_error(
            400,
            &HeaderMap::new(),
            &body("bad_request", &["grow_mask: must be at most 20", "image: too small"]),
        );
        let params: Vec<String> = err.violations().into_iter().map(|v| v.param).collect();
        assert_eq!(params, ["grow_mask", "image"], "{err}");
    }

    #[test]
    fn an_expired_result_is_not_found_and_a_rate_limit_keeps_the_request_id() {
        let err = parse_error(404, &HeaderMap::new(), &body("generation_not_found", &["expired"]));
        assert!(matches!(err, Error::NotFound(_)), "{err:?}");
        let err = parse_error(
            429,
            &headers(&[("x-request-id", "r9")]),
            &body("rate_limit_exceeded", &["slow"]),
        );
        assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
        assert_eq!(err.request_id(), Some("r9"));
    }

    #[test]
    fn a_body_that_is_not_json_keeps_the_status_meaning() {
        let err = parse_error(502, &HeaderMap::new(), b"<html>Bad gateway</html>");
        assert!(matches!(err, Error::Server(_)), "{err:?}");
        assert!(err.to_string().contains("Bad gateway"), "{err}");
    }

    #[test]
    fn a_public_figure_refusal_is_a_rejection() {
        let err = parse_error(
            422,
            &HeaderMap::new(),
            &body("public_figure", &["likeness of a public figure"]),
        );
        assert!(matches!(err, Error::Rejected(_)), "{err:?}");
    }
}
