//! The HTTP client: the key on every call (a header marked sensitive), the
//! multipart form rebuilt for every attempt, retries by idempotency (an
//! edit is `Billable`; a poll is `Idempotent`), bodies read under a cap
//! within the timeout, URLs redacted in logs, and the one call of
//! [`parse_error`].

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use msgflux_core::kit::http::{self, BodyError, read_body, redact_url, transport_error};
use msgflux_core::kit::{ExposeSecret as _, Idempotency, SecretString};
use msgflux_core::{Error, Result, RetryPolicy};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};

use crate::error::{parse_error, request_id};
use crate::registration::STABILITY_SCHEME;

/// The largest answer read into memory (a base64 JSON image of 10 megapixels fits easily).
const MAX_ANSWER_BYTES: u64 = 128 * 1024 * 1024;

const USER_AGENT_VALUE: &str = concat!("msgflux-stability/", env!("CARGO_PKG_VERSION"));

/// The one `accept` choice: JSON, whose `finish_reason` and `seed` are
/// fields the contract describes (with `image/*` they travel as headers).
pub(crate) const ACCEPT_JSON: &str = "application/json";

/// One multipart field.
#[derive(Debug, Clone)]
pub(crate) enum Field {
    /// A text field.
    Text(&'static str, String),
    /// A file part with its file name and image MIME type.
    File {
        name: &'static str,
        filename: String,
        mime: &'static str,
        bytes: Bytes,
    },
}

impl Field {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Text(name, _) | Self::File { name, .. } => name,
        }
    }
}

/// A successful answer, body read.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Talks to one base URL with one key.
#[derive(Clone)]
pub(crate) struct StabilityClient {
    http: reqwest::Client,
    base_url: url::Url,
    key: SecretString,
    retry: RetryPolicy,
    timeout: Duration,
    client_headers: HeaderMap,
}

impl fmt::Debug for StabilityClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StabilityClient")
            .field("base_url", &redact_url(self.base_url.as_str()))
            .field("key", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl StabilityClient {
    pub(crate) fn new(
        http: reqwest::Client,
        base_url: url::Url,
        key: SecretString,
        retry: RetryPolicy,
        timeout: Duration,
        client_headers: HeaderMap,
    ) -> Self {
        Self {
            http,
            base_url,
            key,
            retry,
            timeout,
            client_headers,
        }
    }

    /// `{base}{path}` (path with its leading slash).
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.as_str().trim_end_matches('/'))
    }

    /// The headers of every call: the key (sensitive, so never logged), the
    /// one `accept` choice, the user agent and the optional client ids.
    fn headers(&self) -> Result<HeaderMap> {
        let auth = http::secret_value(&format!("Bearer {}", self.key.expose_secret()), "Stability AI API key")?;
        let mut headers = self.client_headers.clone();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_JSON));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        Ok(headers)
    }

    /// `POST`s the form to a service: billable, so resent only when the
    /// retry policy knows the work was not done. The form is rebuilt for
    /// every attempt. Error answers are mapped by [`parse_error`].
    pub(crate) async fn post_form(&self, path: &str, fields: &[Field]) -> Result<Answer> {
        let url = self.url(path);
        let headers = self.headers()?;
        tracing::debug!(url = %redact_url(&url), fields = ?fields.iter().map(Field::name).collect::<Vec<_>>(), "stability edit");
        self.retry
            .run("stability edit", Idempotency::Billable, |attempt| {
                let request = self
                    .http
                    .post(&url)
                    .headers(headers.clone())
                    .timeout(self.timeout)
                    .multipart(form(fields));
                async move {
                    if attempt > 0 {
                        tracing::info!(attempt, "resending the stability edit");
                    }
                    self.finish(request, "waiting for the edit answer", true).await
                }
            })
            .await
    }

    /// `GET /v2beta/results/{id}`: a read, retried after any transient failure.
    pub(crate) async fn get_result(&self, id: &str) -> Result<Answer> {
        let url = self.url(&format!("/v2beta/results/{id}"));
        let headers = self.headers()?;
        self.retry
            .run("stability result poll", Idempotency::Idempotent, |_attempt| {
                let request = self.http.get(&url).headers(headers.clone()).timeout(self.timeout);
                async move { self.finish(request, "polling the generation", false).await }
            })
            .await
    }

    /// Sends, reads the body under the cap, and maps an error status.
    async fn finish(&self, request: reqwest::RequestBuilder, waiting_for: &str, paid: bool) -> Result<Answer> {
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(STABILITY_SCHEME, e, Some(self.timeout)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = read_body(response, MAX_ANSWER_BYTES, Some(self.timeout))
            .await
            .map_err(|err| self.body_error(err, waiting_for, paid, request_id(&headers)))?;
        if !(200..300).contains(&status) {
            return Err(parse_error(status, &headers, &body));
        }
        Ok(Answer { status, headers, body })
    }

    fn body_error(&self, err: BodyError, waiting_for: &str, paid: bool, request_id: Option<String>) -> Error {
        match err {
            BodyError::Stalled(after) => Error::Timeout {
                provider: STABILITY_SCHEME.into(),
                after,
                maybe_billed: paid,
                message: waiting_for.to_string(),
            },
            BodyError::Transport(e) => transport_error(STABILITY_SCHEME, e, Some(self.timeout)),
            _ => Error::InvalidResponse {
                provider: STABILITY_SCHEME.into(),
                message: format!("the answer is larger than {} MB", MAX_ANSWER_BYTES / (1024 * 1024)),
                request_id,
            },
        }
    }
}

/// The fields as a multipart form.
fn form(fields: &[Field]) -> reqwest::multipart::Form {
    fields
        .iter()
        .fold(reqwest::multipart::Form::new(), |form, field| match field {
            Field::Text(name, value) => form.text(*name, value.clone()),
            Field::File {
                name,
                filename,
                mime,
                bytes,
            } => {
                let part = reqwest::multipart::Part::stream(reqwest::Body::from(bytes.clone()))
                    .file_name(filename.clone())
                    .mime_str(mime)
                    .unwrap_or_else(|_| reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(filename.clone()));
                form.part(*name, part)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_key_and_the_header_is_sensitive() {
        let client = StabilityClient::new(
            msgflux_core::kit::http::client_builder().build().expect("client"),
            url::Url::parse("https://api.stability.ai").expect("url"),
            SecretString::from("sk-secret".to_string()),
            RetryPolicy::none(),
            Duration::from_secs(1),
            HeaderMap::new(),
        );
        assert!(!format!("{client:?}").contains("sk-secret"));
        let headers = client.headers().expect("headers");
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert_eq!(headers[ACCEPT], ACCEPT_JSON);
    }
}
