//! The HTTP client: where the edit goes, how it authenticates, retries under
//! the billing rule, bodies read under a cap within the read timeout, and
//! the one call site of [`parse_error`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use msgflux_core::kit::Idempotency;
use msgflux_core::kit::http::{BodyError, read_body, transport_error};
use msgflux_core::{Error, Result, RetryPolicy};
use reqwest::header::{HeaderValue, USER_AGENT};

use crate::config::Config;
use crate::error::{parse_error, request_id};
use crate::form::{Field, to_form};

/// The largest answer read into memory (ten 4K base64 images fit easily).
const MAX_BODY_BYTES: u64 = 512 * 1024 * 1024;

const USER_AGENT_VALUE: &str = concat!("msgflux-openai/", env!("CARGO_PKG_VERSION"));

/// Sends edits to one endpoint (OpenAI, Azure, a compatible server).
/// `Debug` shows no secret: the endpoint config redacts its key.
#[derive(Clone, Debug)]
pub(crate) struct OpenAIClient {
    config: Arc<dyn Config>,
    http: reqwest::Client,
    read_timeout: Duration,
    retry: RetryPolicy,
}

impl OpenAIClient {
    pub(crate) fn new(
        config: Arc<dyn Config>,
        http: reqwest::Client,
        read_timeout: Duration,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            config,
            http,
            read_timeout,
            retry,
        }
    }

    /// The registered provider name of the endpoint (`openai`, `azure`).
    pub(crate) fn provider_name(&self) -> &'static str {
        self.config.provider()
    }

    /// The endpoint, for `Display` (never secrets).
    pub(crate) fn describe(&self) -> String {
        self.config.describe()
    }

    /// Whether the form names the model (Azure picks it by deployment).
    pub(crate) fn sends_model_field(&self) -> bool {
        self.config.sends_model_field()
    }

    pub(crate) fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    pub(crate) fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Runs `work` within the read timeout, classifying transport failures.
    async fn within_read_timeout<T>(
        &self,
        work: impl Future<Output = reqwest::Result<T>>,
        waiting_for: &str,
    ) -> Result<T> {
        match tokio::time::timeout(self.read_timeout, work).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(transport_error(self.provider_name(), err, Some(self.read_timeout))),
            Err(_) => Err(Error::Timeout {
                provider: self.provider_name().into(),
                after: self.read_timeout,
                maybe_billed: true,
                message: waiting_for.to_string(),
            }),
        }
    }

    /// Sends `POST images/edits` with retries, and returns the successful
    /// answer with its body unread. Error answers are read and mapped by
    /// [`parse_error`]. The form is rebuilt for every attempt.
    pub(crate) async fn post(&self, fields: &[Field]) -> Result<reqwest::Response> {
        let url = self.config.edits_url()?;
        let headers = self.config.headers()?;
        let provider = self.provider_name();
        self.retry
            .run("openai image edit", Idempotency::Billable, |attempt| {
                let url = url.clone();
                let headers = headers.clone();
                async move {
                    let form = to_form(fields)?;
                    let mut request = self
                        .http
                        .post(url)
                        .headers(headers)
                        .header(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE))
                        .multipart(form);
                    if attempt > 0 {
                        request = request.header("x-stainless-retry-count", attempt.to_string());
                    }
                    let response = self
                        .within_read_timeout(request.send(), "waiting for the edit answer")
                        .await?;
                    let status = response.status();
                    if status.is_success() {
                        return Ok(response);
                    }
                    let headers = response.headers().clone();
                    let body = self.read_body(response).await?;
                    Err(parse_error(provider, status.as_u16(), &headers, &body))
                }
            })
            .await
    }

    /// Reads a whole answer body, each piece within the read timeout.
    pub(crate) async fn read_body(&self, response: reqwest::Response) -> Result<Bytes> {
        let id = request_id(response.headers());
        read_body(response, MAX_BODY_BYTES, Some(self.read_timeout))
            .await
            .map_err(|err| self.body_error(err, "reading the edit answer", id))
    }

    /// A body-reading failure as the error a caller sees.
    pub(crate) fn body_error(&self, err: BodyError, waiting_for: &str, request_id: Option<String>) -> Error {
        match err {
            BodyError::TooLarge { .. } => Error::InvalidResponse {
                provider: self.provider_name().into(),
                message: format!("the answer is larger than {} MB", MAX_BODY_BYTES / (1024 * 1024)),
                request_id,
            },
            BodyError::Stalled(after) => Error::Timeout {
                provider: self.provider_name().into(),
                after,
                maybe_billed: true,
                message: waiting_for.to_string(),
            },
            BodyError::Transport(err) => match transport_error(self.provider_name(), err, Some(self.read_timeout)) {
                Error::InvalidResponse { provider, message, .. } => Error::InvalidResponse {
                    provider,
                    message,
                    request_id,
                },
                other => other,
            },
            _ => Error::InvalidResponse {
                provider: self.provider_name().into(),
                message: "the answer could not be read".into(),
                request_id,
            },
        }
    }

    /// The body as a stream of pieces, each within the read timeout (for server-sent events).
    pub(crate) fn pieces(
        &self,
        response: reqwest::Response,
    ) -> impl futures::Stream<Item = Result<Bytes>> + Send + 'static {
        let client = self.clone();
        futures::stream::unfold(Some(response), move |response| {
            let client = client.clone();
            async move {
                let mut response = response?;
                match client
                    .within_read_timeout(response.chunk(), "waiting for the next streamed event")
                    .await
                {
                    Ok(Some(piece)) => Some((Ok(piece), Some(response))),
                    Ok(None) => None,
                    Err(err) => Some((Err(err), None)),
                }
            }
        })
    }
}
