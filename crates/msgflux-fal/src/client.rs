//! The HTTP client: `Authorization: Key ...` on every call to fal's own
//! services (never on signed upload URLs or result files), retries by
//! idempotency, bodies read under a byte cap, URLs redacted in messages, and
//! the single place where error answers go through [`parse_error`].

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use msgflux_core::kit::http::{self, BodyError, read_body, redact_url};
use msgflux_core::kit::{ExposeSecret as _, Idempotency, SecretString};
use msgflux_core::{Error, ProviderError, Result, RetryPolicy};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::parse_error;
use crate::registration::FAL_SCHEME;

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Which fal service a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Queue,
    Storage,
    Platform,
}

/// Talks to fal's queue, storage and platform APIs with one key.
#[derive(Clone)]
pub(crate) struct FalClient {
    http: reqwest::Client,
    queue: url::Url,
    storage: url::Url,
    platform: url::Url,
    key: SecretString,
    retry: RetryPolicy,
    timeout: Duration,
}

impl fmt::Debug for FalClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FalClient")
            .field("queue", &self.queue.as_str())
            .field("storage", &self.storage.as_str())
            .field("platform", &self.platform.as_str())
            .field("key", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl FalClient {
    pub(crate) fn new(
        http: reqwest::Client,
        (queue, storage, platform): (url::Url, url::Url, url::Url),
        key: SecretString,
        retry: RetryPolicy,
        timeout: Duration,
    ) -> Self {
        Self {
            http,
            queue,
            storage,
            platform,
            key,
            retry,
            timeout,
        }
    }

    /// `{service base}/{path}` (path without a leading slash).
    pub(crate) fn url(&self, service: Service, path: &str) -> String {
        let base = match service {
            Service::Queue => &self.queue,
            Service::Storage => &self.storage,
            Service::Platform => &self.platform,
        };
        format!(
            "{}/{}",
            base.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// A request to one of fal's own services, carrying the key (the
    /// header is marked sensitive, so it never shows in debug output).
    /// A URL outside those services is refused: the key goes nowhere else.
    pub(crate) fn authorised(&self, method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder> {
        let parsed =
            url::Url::parse(url).map_err(|e| invalid_response(format!("{} is not a URL: {e}", redact_url(url))))?;
        if ![&self.queue, &self.storage, &self.platform]
            .iter()
            .any(|base| same_origin(base, &parsed))
        {
            return Err(invalid_response(format!(
                "fal answered with {}, which is not on fal's queue host ({}); the key is not sent there",
                redact_url(url),
                self.queue.origin().ascii_serialization()
            )));
        }
        let value = http::secret_value(&format!("Key {}", self.key.expose_secret()), "fal API key")?;
        Ok(self
            .http
            .request(method, parsed)
            .header(reqwest::header::AUTHORIZATION, value)
            .header(reqwest::header::ACCEPT, "application/json"))
    }

    /// Sends what `make` builds, retrying as the policy allows for this kind
    /// of request; each attempt builds a fresh request. Error answers become
    /// msgflux errors through [`parse_error`].
    pub(crate) async fn send<F>(&self, operation: &str, idempotency: Idempotency, make: F) -> Result<Answer>
    where
        F: Fn() -> Result<reqwest::RequestBuilder>,
    {
        let timeout = self.timeout;
        self.retry
            .run(operation, idempotency, |attempt| {
                let request = make();
                async move {
                    if attempt > 0 {
                        tracing::debug!(operation, attempt, "resending");
                    }
                    let response = request?
                        .timeout(timeout)
                        .send()
                        .await
                        .map_err(|e| http::transport_error(FAL_SCHEME, e, Some(timeout)))?;
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = read_answer(response, timeout, idempotency).await?;
                    if !status.is_success() {
                        return Err(parse_error(status.as_u16(), &headers, &body));
                    }
                    Ok(Answer {
                        status: status.as_u16(),
                        headers,
                        body,
                    })
                }
            })
            .await
    }

    /// GETs a URL of fal's services and reads its JSON (retried: reads are idempotent).
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: &str, what: &str) -> Result<(u16, T)> {
        let answer = self
            .send(what, Idempotency::Idempotent, || {
                self.authorised(reqwest::Method::GET, url)
            })
            .await?;
        Ok((answer.status, decode_json(&answer, what)?))
    }

    /// Downloads a result file within `max_bytes`, without the key (fal's
    /// media URLs are public). A 404 or 410 means the file has expired.
    pub(crate) async fn download(&self, url: &str, what: &str, max_bytes: u64) -> Result<Bytes> {
        let parsed = url::Url::parse(url).map_err(|e| invalid_response(format!("{what} is not a valid URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid_response(format!("{what} is not an http(s) URL")));
        }
        let shown = redact_url(parsed.as_str());
        let timeout = self.timeout;
        self.retry
            .run(what, Idempotency::Idempotent, |_attempt| {
                let request = self.http.get(parsed.clone()).timeout(timeout);
                let shown = shown.clone();
                async move {
                    let response = request
                        .send()
                        .await
                        .map_err(|e| http::transport_error(FAL_SCHEME, e, Some(timeout)))?;
                    let status = response.status();
                    if matches!(status.as_u16(), 404 | 410) {
                        return Err(Error::NotFound(Box::new(
                            ProviderError::new(
                                FAL_SCHEME,
                                format!(
                                    "{what} at {shown} is gone (HTTP {status}); fal's media files expire, so results are downloaded within the call"
                                ),
                            )
                            .with_status(status.as_u16())
                            .with_code("result_expired"),
                        )));
                    }
                    if !status.is_success() {
                        let headers = response.headers().clone();
                        let body = read_answer(response, timeout, Idempotency::Idempotent)
                            .await
                            .unwrap_or_default();
                        return Err(parse_error(status.as_u16(), &headers, &body));
                    }
                    read_body(response, max_bytes, Some(timeout)).await.map_err(|err| match err {
                        BodyError::Stalled(after) => Error::Timeout {
                            provider: FAL_SCHEME.into(),
                            after,
                            maybe_billed: false,
                            message: format!("downloading {what}"),
                        },
                        BodyError::Transport(e) => http::transport_error(FAL_SCHEME, e, Some(timeout)),
                        _ => invalid_response(format!("{what} at {shown} is over the {max_bytes}-byte download limit")),
                    })
                }
            })
            .await
    }

    /// PUTs bytes to a signed upload URL (no key: the URL carries its own
    /// signature). Storing bytes bills nothing, so it is resent after
    /// transient failures.
    pub(crate) async fn put_upload(&self, url: &url::Url, bytes: Bytes, mime: &str) -> Result<Answer> {
        let timeout = self.timeout;
        self.send("uploading an input file", Idempotency::Idempotent, || {
            Ok(self
                .http
                .put(url.clone())
                .header(reqwest::header::CONTENT_TYPE, mime)
                .timeout(timeout)
                .body(bytes.clone()))
        })
        .await
    }

    /// POSTs JSON to a signed upload URL (the end of a multipart upload; no key).
    pub(crate) async fn post_signed_json(&self, url: &url::Url, body: &Value) -> Result<Answer> {
        self.send("completing a multipart upload", Idempotency::Idempotent, || {
            Ok(self.http.post(url.clone()).json(body))
        })
        .await
    }
}

fn same_origin(base: &url::Url, url: &url::Url) -> bool {
    base.scheme() == url.scheme()
        && base.host_str() == url.host_str()
        && base.port_or_known_default() == url.port_or_known_default()
}

/// The largest API answer (JSON: statuses, results, schemas, errors) read into memory.
const MAX_ANSWER_BYTES: u64 = 32 * 1024 * 1024;

/// Reads an API answer's body under [`MAX_ANSWER_BYTES`]. A stall while
/// reading the answer to paid work may have been billed.
async fn read_answer(response: reqwest::Response, timeout: Duration, idempotency: Idempotency) -> Result<Bytes> {
    read_body(response, MAX_ANSWER_BYTES, Some(timeout))
        .await
        .map_err(|err| match err {
            BodyError::Transport(e) => http::transport_error(FAL_SCHEME, e, Some(timeout)),
            BodyError::Stalled(after) => Error::Timeout {
                provider: FAL_SCHEME.into(),
                after,
                maybe_billed: idempotency == Idempotency::Billable,
                message: "reading an API answer".into(),
            },
            _ => invalid_response(format!(
                "an API answer is larger than {} MB",
                MAX_ANSWER_BYTES / (1024 * 1024)
            )),
        })
}

/// Reads a JSON answer, or says what was wrong with it.
pub(crate) fn decode_json<T: DeserializeOwned>(answer: &Answer, what: &str) -> Result<T> {
    serde_json::from_slice(&answer.body).map_err(|e| Error::InvalidResponse {
        provider: FAL_SCHEME.into(),
        message: format!("{what}: {e}; the answer began {}", http::body_snippet(&answer.body)),
        request_id: http::first_header(&answer.headers, &["x-fal-request-id"]),
    })
}

pub(crate) fn invalid_response(message: String) -> Error {
    Error::InvalidResponse {
        provider: FAL_SCHEME.into(),
        message,
        request_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> FalClient {
        let url = |u: &str| url::Url::parse(u).expect("url");
        FalClient::new(
            msgflux_core::kit::http::client_builder().build().expect("client"),
            (
                url("https://queue.fal.run"),
                url("https://rest.fal.ai"),
                url("https://api.fal.ai/v1"),
            ),
            SecretString::from("fal-secret".to_string()),
            RetryPolicy::none(),
            Duration::from_secs(1),
        )
    }

    #[test]
    fn the_key_goes_to_fal_services_only() {
        let c = client();
        assert!(
            c.authorised(reqwest::Method::GET, "https://queue.fal.run/fal-ai/x/requests/1/status")
                .is_ok()
        );
        assert!(
            c.authorised(reqwest::Method::GET, "https://api.fal.ai/v1/models")
                .is_ok()
        );
        for elsewhere in [
            "https://evil.example.com/a",
            "http://queue.fal.run/a",
            "https://queue.fal.run.evil.com/a",
        ] {
            assert!(c.authorised(reqwest::Method::GET, elsewhere).is_err(), "{elsewhere}");
        }
    }

    #[test]
    fn the_key_header_is_sensitive_and_debug_hides_it() {
        let c = client();
        assert!(!format!("{c:?}").contains("fal-secret"));
        let request = c
            .authorised(reqwest::Method::GET, "https://queue.fal.run/x")
            .expect("request")
            .build()
            .expect("build");
        assert!(request.headers()["authorization"].is_sensitive());
        assert!(!format!("{request:?}").contains("fal-secret"));
    }

    #[test]
    fn urls_join_without_double_slashes() {
        assert_eq!(
            client().url(Service::Queue, "/fal-ai/flux-pro/kontext"),
            "https://queue.fal.run/fal-ai/flux-pro/kontext"
        );
        assert_eq!(
            client().url(Service::Platform, "models"),
            "https://api.fal.ai/v1/models"
        );
    }
}
