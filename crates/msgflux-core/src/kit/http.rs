//! HTTP facts shared by every provider: the generic status-to-error mapping,
//! `retry-after` parsing, the classification of transport failures, reading
//! a body under a byte cap, and URLs fit for messages.
//!
//! Each provider refines [`error_for_status`] once, in its own `parse_error`,
//! with what its error body says (for example `insufficient_quota` becomes
//! [`Error::QuotaExceeded`]).

use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::header::HeaderMap;

use crate::error::{Error, ProviderError};

/// A `reqwest` client builder whose TLS is rustls with the ring provider.
///
/// Every client this workspace builds starts here. The workspace compiles
/// reqwest without a built-in crypto provider (aws-lc's C build costs about a
/// minute of every fresh build), so the first call installs ring as the
/// process-wide rustls provider; an application that installed its own
/// provider first keeps it. Call it (or [`install_tls_provider`]) before
/// building a `reqwest::Client` of your own to inject into a provider.
///
/// ```
/// let client = msgflux_core::kit::http::client_builder()
///     .connect_timeout(std::time::Duration::from_secs(10))
///     .build()
///     .expect("client");
/// # drop(client);
/// ```
pub fn client_builder() -> reqwest::ClientBuilder {
    install_tls_provider();
    reqwest::Client::builder()
}

/// Installs ring as the process-wide rustls crypto provider unless one is
/// installed already. Idempotent and cheap; [`client_builder`] calls it.
///
/// ```
/// msgflux_core::kit::http::install_tls_provider();
/// let client = reqwest::Client::new(); // finds the provider
/// # drop(client);
/// ```
pub fn install_tls_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread's install is fine: a provider is in place either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Maps an HTTP status to the semantic error variant, keeping the detail.
///
/// ```
/// use msgflux_core::kit::http::error_for_status;
/// use msgflux_core::{Error, ProviderError};
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
/// assert_eq!(msgflux_core::kit::http::retry_after(&headers), Some(std::time::Duration::from_secs(2)));
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
    let message = transport_message(&err);
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

/// A transport error as text for messages: with its causes, and its URL
/// redacted (reqwest prints the URL, which may carry a signed query or credentials).
pub fn transport_message(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), &redact_url(url.as_str()));
    }
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// A URL fit for messages and logs: credentials removed, the query string
/// (which often carries a signature or token) replaced by `<redacted>`.
///
/// ```
/// use msgflux_core::kit::http::redact_url;
/// assert_eq!(
///     redact_url("https://user:pw@cdn.example.com/a.png?sig=secret"),
///     "https://cdn.example.com/a.png?<redacted>"
/// );
/// assert_eq!(redact_url("https://example.com/a.png"), "https://example.com/a.png");
/// ```
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.cannot_be_a_base() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            let had_query = parsed.query().is_some();
            parsed.set_query(None);
            let mut shown = parsed.to_string();
            if had_query {
                shown.push_str("?<redacted>");
            }
            shown
        }
        _ => match url.split_once('?') {
            Some((base, _)) => format!("{base}?<redacted>"),
            None => url.to_string(),
        },
    }
}

/// A provider's base URL from a setting or an environment variable: http(s)
/// only, and no query or fragment (keys go in headers, and paths are joined
/// onto it with [`join_path`]). `what` names the setting in the error.
///
/// ```
/// use msgflux_core::kit::http::base_url;
/// assert_eq!(base_url(" http://127.0.0.1:8080/v1 ", "OPENAI_BASE_URL").unwrap().path(), "/v1");
/// let err = base_url("ftp://example.com", "OPENAI_BASE_URL").unwrap_err();
/// assert!(err.to_string().contains("OPENAI_BASE_URL `ftp://example.com` must start with http"));
/// assert!(base_url("https://example.com/?key=1", "base URL").is_err());
/// ```
pub fn base_url(raw: &str, what: &str) -> Result<url::Url, Error> {
    let url =
        url::Url::parse(raw.trim()).map_err(|e| Error::config(format!("{what} `{raw}` is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "{what} `{raw}` must start with http:// or https://"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "{what} `{raw}` must not carry a query string or fragment (keys go in headers)"
        )));
    }
    Ok(url)
}

/// Appends path segments to a base URL, keeping the base's own path
/// (`https://host/v1` + `images`, `edits` = `https://host/v1/images/edits`).
///
/// ```
/// use msgflux_core::kit::http::{base_url, join_path};
/// let base = base_url("https://example.com/v1/", "base URL").unwrap();
/// assert_eq!(join_path(&base, &["images", "edits"]).unwrap().as_str(), "https://example.com/v1/images/edits");
/// ```
pub fn join_path(base: &url::Url, segments: &[&str]) -> Result<url::Url, Error> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| Error::config(format!("`{base}` cannot be used as a base URL")))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// A header value holding a secret (an API key, a bearer token): marked
/// sensitive, so `Debug` output and HTTP/2 header compression never reveal
/// it. `what` names the secret in the error.
///
/// ```
/// use msgflux_core::kit::http::secret_value;
/// let value = secret_value("Bearer sk-1", "API key").unwrap();
/// assert!(value.is_sensitive());
/// assert!(secret_value("bad\nkey", "BFL API key").unwrap_err().to_string().contains("BFL API key"));
/// ```
pub fn secret_value(value: &str, what: &str) -> Result<reqwest::header::HeaderValue, Error> {
    let mut value = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
        Error::config(format!(
            "the {what} contains characters that cannot go in an HTTP header"
        ))
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Why [`read_body`] stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is larger than the cap; at least this many bytes were announced or read.
    TooLarge {
        /// Bytes announced by `content-length`, or read before giving up.
        at_least: u64,
    },
    /// No piece of the body arrived within the per-piece time limit.
    Stalled(Duration),
    /// The connection failed while reading.
    Transport(reqwest::Error),
}

/// Reads a whole answer body of at most `max_bytes`: an announced
/// `content-length` above the cap is refused before reading, and reading
/// stops as soon as the cap is passed. With `piece_timeout`, each piece of
/// the body must arrive within it (a stalled stream ends instead of hanging).
///
/// Every body the workspace reads from the network goes through here; each
/// caller maps a [`BodyError`] to the error that fits it (an input that is
/// too large is the user's to fix; an answer that is too large is the
/// provider's).
pub async fn read_body(
    mut response: reqwest::Response,
    max_bytes: u64,
    piece_timeout: Option<Duration>,
) -> Result<Bytes, BodyError> {
    if let Some(len) = response.content_length()
        && len > max_bytes
    {
        return Err(BodyError::TooLarge { at_least: len });
    }
    // One allocation when the size is announced: growing by doubling copied
    // a 1.8 MB answer about twice over (bench/openai/batch.sh under perf).
    let mut body = BytesMut::with_capacity(response.content_length().unwrap_or(0) as usize);
    loop {
        let piece = match piece_timeout {
            Some(limit) => tokio::time::timeout(limit, response.chunk())
                .await
                .map_err(|_| BodyError::Stalled(limit))?,
            None => response.chunk().await,
        };
        let Some(piece) = piece.map_err(BodyError::Transport)? else {
            break;
        };
        let total = (body.len() + piece.len()) as u64;
        if total > max_bytes {
            return Err(BodyError::TooLarge { at_least: total });
        }
        body.extend_from_slice(&piece);
    }
    Ok(body.freeze())
}

/// Deserializes a JSON string of base64 (`b64_json`, Gemini's inline
/// `data`): use with `#[serde(deserialize_with = "...")]`. serde_json reads
/// it as bytes, which it scans with memchr's SIMD search for the closing
/// quote, where a `String` field is scanned eight bytes at a time for
/// control characters too: that scan was a third of the instructions of a
/// 1024x1024 edit (callgrind). The bytes are checked as UTF-8 here, once,
/// with SIMD (simdutf8); control characters and anything else that is not
/// base64 are refused later, by the pipeline's base64 check.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Image {
///     #[serde(deserialize_with = "msgflux_core::kit::http::base64_string")]
///     b64_json: String,
/// }
/// let image: Image = serde_json::from_slice(br#"{"b64_json": "aGVsbG8="}"#).unwrap();
/// assert_eq!(image.b64_json, "aGVsbG8=");
/// ```
pub fn base64_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_bytes(TextVisitor)
}

/// [`base64_string`] for an optional field (`#[serde(default, deserialize_with = ...)]`).
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Image {
///     #[serde(default, deserialize_with = "msgflux_core::kit::http::optional_base64_string")]
///     b64_json: Option<String>,
/// }
/// let image: Image = serde_json::from_slice(br#"{"b64_json": null}"#).unwrap();
/// assert_eq!(image.b64_json, None);
/// ```
pub fn optional_base64_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct Optional;
    impl<'de> serde::de::Visitor<'de> for Optional {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a base64 string or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            base64_string(deserializer).map(Some)
        }
    }
    deserializer.deserialize_option(Optional)
}

/// Accepts the string as bytes (serde_json's fast path) or as text (any other format).
struct TextVisitor;

impl serde::de::Visitor<'_> for TextVisitor {
    type Value = String;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a base64 string")
    }
    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<String, E> {
        Ok(text.to_string())
    }
    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<String, E> {
        Ok(text)
    }
    fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<String, E> {
        simdutf8::basic::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| E::custom("a base64 string that is not text"))
    }
    fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<String, E> {
        String::from_utf8(bytes).map_err(|_| E::custom("a base64 string that is not text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::testkit::headers;

    #[derive(Debug, serde::Deserialize)]
    struct Image {
        #[serde(default, deserialize_with = "optional_base64_string")]
        b64_json: Option<String>,
    }

    #[test]
    fn a_base64_field_reads_plain_escaped_null_and_missing_strings() {
        let parse = |json: &str| {
            serde_json::from_slice::<Image>(json.as_bytes())
                .expect("parse")
                .b64_json
        };
        assert_eq!(parse(r#"{"b64_json": "aGVsbG8="}"#).as_deref(), Some("aGVsbG8="));
        assert_eq!(parse(r#"{"b64_json": "a\/b+c"}"#).as_deref(), Some("a/b+c"));
        assert_eq!(parse(r#"{"b64_json": null}"#), None);
        assert_eq!(parse("{}"), None);
    }

    #[test]
    fn a_base64_field_that_is_not_a_string_is_refused() {
        assert!(serde_json::from_slice::<Image>(br#"{"b64_json": 12}"#).is_err());
        assert!(
            serde_json::from_slice::<Image>(br#"{"b64_json": "\ud800"}"#).is_err(),
            "a lone surrogate is not text"
        );
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
