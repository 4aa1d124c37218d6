//! HTTP facts shared by every provider: the generic status-to-error mapping,
//! `retry-after` parsing, and the classification of transport failures.
//!
//! Each provider refines [`error_for_status`] once, in its own `parse_error`,
//! with what its error body says (for example `insufficient_quota` becomes
//! [`Error::QuotaExceeded`]).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::error::{Error, ProviderError};

/// Maps an HTTP status to the semantic error variant, keeping the detail.
///
/// ```
/// use msgflux_core::{Error, ProviderError, http::error_for_status};
/// let err = error_for_status(429, ProviderError::new("openai", "slow down"));
/// assert!(matches!(err, Error::RateLimited(_)));
/// ```
pub fn error_for_status(status: u16, detail: ProviderError) -> Error {
    let detail = Box::new(detail.with_status(status));
    match status {
        401 => Error::Unauthenticated(detail),
        402 => Error::QuotaExceeded(detail),
        403 => Error::PermissionDenied(detail),
        404 | 410 => Error::NotFound(detail),
        429 => Error::RateLimited(detail),
        500..=599 => Error::Server(detail),
        _ => Error::Rejected(detail),
    }
}

/// The wait a server asked for: `retry-after-ms`, then `retry-after` in
/// seconds (fractions allowed) or as an HTTP date.
///
/// ```
/// use reqwest::header::{HeaderMap, HeaderValue};
/// let mut headers = HeaderMap::new();
/// headers.insert("retry-after", HeaderValue::from_static("2"));
/// assert_eq!(msgflux_core::http::retry_after(&headers), Some(std::time::Duration::from_secs(2)));
/// ```
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = header_str(headers, "retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header_str(headers, "retry-after")?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// The server's explicit retry advice, `x-should-retry: true|false`.
pub fn should_retry(headers: &HeaderMap) -> Option<bool> {
    match header_str(headers, "x-should-retry")?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The first of these headers that is present, as text.
pub fn first_header(headers: &HeaderMap, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| header_str(headers, n)).map(str::to_string)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok()
}

/// A short, printable start of a response body for error messages.
pub fn body_snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut snippet: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        snippet.push('…');
    }
    if snippet.is_empty() {
        "(empty body)".into()
    } else {
        snippet
    }
}

/// Classifies a transport failure.
///
/// A failure to connect means nothing was sent: [`Error::Network`] with
/// `request_sent: false`, safe to resend. A timeout or a dropped connection
/// after that may have reached the provider, so it is reported with
/// `maybe_billed` / `request_sent` set and is not resent for paid requests.
pub fn transport_error(provider: &str, err: reqwest::Error, timeout: Option<Duration>) -> Error {
    let message = strip_url(&err);
    if err.is_connect() {
        if err.is_timeout() {
            return Error::Timeout {
                provider: provider.into(),
                after: timeout.unwrap_or_default(),
                maybe_billed: false,
                message: format!("connecting ({message})"),
            };
        }
        return Error::Network {
            provider: provider.into(),
            request_sent: false,
            message,
            source: Some(Box::new(err)),
        };
    }
    if err.is_timeout() {
        return Error::Timeout {
            provider: provider.into(),
            after: timeout.unwrap_or_default(),
            maybe_billed: true,
            message: "waiting for the answer".into(),
        };
    }
    if err.is_decode() || err.is_body() {
        return Error::InvalidResponse {
            provider: provider.into(),
            message,
            request_id: None,
        };
    }
    Error::Network {
        provider: provider.into(),
        request_sent: true,
        message,
        source: Some(Box::new(err)),
    }
}

/// reqwest errors print the URL, which may carry a signed query; keep the path only.
fn strip_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        let full = url.as_str();
        let mut shown = url.clone();
        shown.set_query(None);
        text = text.replace(full, shown.as_str());
    }
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn retry_after_ms_wins_over_retry_after() {
        let h = headers(&[("retry-after-ms", "250"), ("retry-after", "9")]);
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
    }

    #[test]
    fn retry_after_accepts_an_http_date_in_the_past_as_zero() {
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    #[test]
    fn garbage_retry_after_is_ignored() {
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-3")])), None);
    }

    #[test]
    fn should_retry_reads_true_and_false_only() {
        assert_eq!(should_retry(&headers(&[("x-should-retry", "false")])), Some(false));
        assert_eq!(should_retry(&headers(&[("x-should-retry", "maybe")])), None);
    }

    #[test]
    fn statuses_map_to_semantic_variants() {
        let d = || ProviderError::new("p", "m");
        assert!(matches!(error_for_status(401, d()), Error::Unauthenticated(_)));
        assert!(matches!(error_for_status(402, d()), Error::QuotaExceeded(_)));
        assert!(matches!(error_for_status(403, d()), Error::PermissionDenied(_)));
        assert!(matches!(error_for_status(404, d()), Error::NotFound(_)));
        assert!(matches!(error_for_status(422, d()), Error::Rejected(_)));
        assert!(matches!(error_for_status(503, d()), Error::Server(_)));
    }

    #[test]
    fn body_snippet_is_short_and_never_empty() {
        assert_eq!(body_snippet(b"   "), "(empty body)");
        assert!(body_snippet(&[b'x'; 1000]).chars().count() <= 201);
    }
}
