//! The HTTP client: the token on every API call, retries by idempotency, and
//! the single place where error answers go through [`parse_error`].

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use msgflux_core::kit::http::{self, BodyError, read_body, redact_url};
use msgflux_core::kit::{ExposeSecret as _, Idempotency, SecretString};
use msgflux_core::{Error, ProviderError, Result, RetryPolicy};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::error::parse_error;
use crate::registration::REPLICATE_SCHEME;

/// A successful answer.
pub(crate) struct Answer {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Talks to one Replicate API base URL with one token.
#[derive(Clone)]
pub(crate) struct ReplicateClient {
    http: reqwest::Client,
    base_url: url::Url,
    token: SecretString,
    retry: RetryPolicy,
    timeout: Duration,
}

impl fmt::Debug for ReplicateClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplicateClient")
            .field("base_url", &self.base_url.as_str())
            .field("token", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ReplicateClient {
    pub(crate) fn new(
        http: reqwest::Client,
        base_url: url::Url,
        token: SecretString,
        retry: RetryPolicy,
        timeout: Duration,
    ) -> Self {
        Self {
            http,
            base_url,
            token,
            retry,
            timeout,
        }
    }

    /// `{base}/{path}` (path without a leading slash).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base_url.as_str().trim_end_matches('/'), path)
    }

    /// A request carrying the token.
    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(self.token.expose_secret())
    }

    /// Sends what `make` builds, retrying as the policy allows for this kind of
    /// request; each attempt builds a fresh request. Error answers become
    /// msgflux errors through [`parse_error`].
    pub(crate) async fn send<F>(
        &self,
        operation: &str,
        idempotency: Idempotency,
        timeout: Duration,
        make: F,
    ) -> Result<Answer>
    where
        F: Fn() -> Result<reqwest::RequestBuilder>,
    {
        self.retry
            .run(operation, idempotency, |_attempt| {
                let request = make();
                async move {
                    let response = request?
                        .timeout(timeout)
                        .send()
                        .await
                        .map_err(|e| http::transport_error(REPLICATE_SCHEME, e, Some(timeout)))?;
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = read_answer(response, timeout).await?;
                    if !status.is_success() {
                        return Err(parse_error(status.as_u16(), &headers, &body));
                    }
                    Ok(Answer { headers, body })
                }
            })
            .await
    }

    /// GETs an API path and reads its JSON (retried: reads are idempotent).
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<T> {
        let answer = self
            .send(what, Idempotency::Idempotent, self.timeout, || {
                Ok(self.request(reqwest::Method::GET, path))
            })
            .await?;
        decode_json(&answer, what)
    }

    /// The per-answer time limit.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Downloads a prediction output within `max_bytes`. The token goes only
    /// to the API's own host and to Replicate's delivery hosts, never elsewhere.
    pub(crate) async fn download(&self, url: &str, what: &str, max_bytes: u64) -> Result<Bytes> {
        let parsed = url::Url::parse(url).map_err(|e| Error::InvalidResponse {
            provider: REPLICATE_SCHEME.into(),
            message: format!("{what} is not a valid URL: {e}"),
            request_id: None,
        })?;
        let shown = redact_url(parsed.as_str());
        let with_token = self.trusts(&parsed);
        self.retry
            .run(what, Idempotency::Idempotent, |_attempt| {
                let mut request = self.http.get(parsed.clone()).timeout(self.timeout);
                if with_token {
                    request = request.bearer_auth(self.token.expose_secret());
                }
                let shown = shown.clone();
                async move {
                    let response = request
                        .send()
                        .await
                        .map_err(|e| http::transport_error(REPLICATE_SCHEME, e, Some(self.timeout)))?;
                    let status = response.status();
                    if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
                        return Err(Error::NotFound(Box::new(
                            ProviderError::new(
                                REPLICATE_SCHEME,
                                format!(
                                    "{what} at {shown} is gone (HTTP {status}); Replicate removes prediction outputs about an hour after they are made, so download or save results soon"
                                ),
                            )
                            .with_status(status.as_u16()),
                        )));
                    }
                    if !status.is_success() {
                        let headers = response.headers().clone();
                        let body = read_answer(response, self.timeout).await.unwrap_or_default();
                        return Err(parse_error(status.as_u16(), &headers, &body));
                    }
                    read_body(response, max_bytes, Some(self.timeout))
                        .await
                        .map_err(|err| match err {
                            BodyError::TooLarge { at_least } => too_large(what, &shown, at_least, max_bytes),
                            BodyError::Stalled(after) => Error::Timeout {
                                provider: REPLICATE_SCHEME.into(),
                                after,
                                maybe_billed: false,
                                message: format!("downloading {what}"),
                            },
                            BodyError::Transport(e) => http::transport_error(REPLICATE_SCHEME, e, Some(self.timeout)),
                            _ => too_large(what, &shown, 0, max_bytes),
                        })
                }
            })
            .await
    }

    /// Whether a URL may receive the token: the API's own origin, or Replicate's delivery hosts over https.
    fn trusts(&self, url: &url::Url) -> bool {
        let same_origin = url.scheme() == self.base_url.scheme()
            && url.host_str() == self.base_url.host_str()
            && url.port_or_known_default() == self.base_url.port_or_known_default();
        let delivery = url.scheme() == "https"
            && url
                .host_str()
                .is_some_and(|h| h == "replicate.delivery" || h.ends_with(".replicate.delivery"));
        same_origin || delivery
    }
}

/// The largest API answer (JSON: predictions, schemas, errors) read into memory.
const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;

/// Reads an API answer's body under [`MAX_ANSWER_BYTES`].
async fn read_answer(response: reqwest::Response, timeout: Duration) -> Result<Bytes> {
    read_body(response, MAX_ANSWER_BYTES, Some(timeout))
        .await
        .map_err(|err| match err {
            BodyError::Transport(e) => http::transport_error(REPLICATE_SCHEME, e, Some(timeout)),
            BodyError::Stalled(after) => Error::Timeout {
                provider: REPLICATE_SCHEME.into(),
                after,
                maybe_billed: true,
                message: "reading an API answer".into(),
            },
            _ => Error::InvalidResponse {
                provider: REPLICATE_SCHEME.into(),
                message: format!("an API answer is larger than {} MB", MAX_ANSWER_BYTES / (1024 * 1024)),
                request_id: None,
            },
        })
}

/// Reads a JSON answer, or says what was wrong with it.
pub(crate) fn decode_json<T: DeserializeOwned>(answer: &Answer, what: &str) -> Result<T> {
    serde_json::from_slice(&answer.body).map_err(|e| Error::InvalidResponse {
        provider: REPLICATE_SCHEME.into(),
        message: format!("{what}: {e}; the answer began {}", http::body_snippet(&answer.body)),
        request_id: http::first_header(&answer.headers, &["x-request-id"]),
    })
}

fn too_large(what: &str, url: &str, got: u64, max: u64) -> Error {
    Error::InvalidResponse {
        provider: REPLICATE_SCHEME.into(),
        message: format!("{what} at {url} is over the {max}-byte download limit (at least {got} bytes)"),
        request_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> ReplicateClient {
        ReplicateClient::new(
            msgflux_core::kit::http::client_builder().build().expect("client"),
            url::Url::parse(base).expect("url"),
            SecretString::from("r8_secret".to_string()),
            RetryPolicy::none(),
            Duration::from_secs(1),
        )
    }

    #[test]
    fn the_token_goes_to_the_api_and_delivery_hosts_only() {
        let c = client("https://api.replicate.com/v1");
        let yes = [
            "https://api.replicate.com/v1/files/abc",
            "https://replicate.delivery/x/out.png",
            "https://pbxt.replicate.delivery/y.webp",
        ];
        for u in yes {
            assert!(c.trusts(&url::Url::parse(u).expect("url")), "{u}");
        }
        let no = [
            "https://evil.example.com/out.png",
            "http://replicate.delivery/x.png",
            "https://replicate.delivery.evil.com/a.png",
        ];
        for u in no {
            assert!(!c.trusts(&url::Url::parse(u).expect("url")), "{u}");
        }
    }

    #[test]
    fn debug_output_hides_the_token() {
        assert!(!format!("{:?}", client("https://api.replicate.com/v1")).contains("r8_secret"));
    }
}
