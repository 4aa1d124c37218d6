//! [`OpenAIProvider`]: the `EditProvider` for OpenAI, Azure OpenAI and
//! OpenAI-compatible servers, and the one place that sends the edit request.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use msgflux_core::http::transport_error;
use msgflux_core::{
    Capabilities, EditEvent, EditProvider, EditResponse, Error, Idempotency, LoadedRequest, Result, RetryPolicy,
    async_trait,
};
use reqwest::header::{HeaderValue, USER_AGENT};

use crate::config::Config;
use crate::error::{parse_error, request_id};
use crate::form::{Field, FormSettings, edit_fields, to_form};
use crate::models::{ModelFamily, ModelSpec};
use crate::response::Answer;

/// The largest answer read into memory (ten 4K base64 images fit easily).
const MAX_BODY_BYTES: usize = 512 * 1024 * 1024;

const USER_AGENT_VALUE: &str = concat!("msgflux-openai/", env!("CARGO_PKG_VERSION"));

/// Image edits through OpenAI (`openai/<model>`), Azure OpenAI
/// (`azure/<deployment>`) or an OpenAI-compatible server.
///
/// Build one with [`OpenAIBuilder`](crate::OpenAIBuilder), or let the
/// registry do it (`Model::image_text_to_image("openai/dall-e-2")`).
///
/// ```
/// use std::sync::Arc;
/// use msgflux_core::Model;
/// use msgflux_openai::OpenAIBuilder;
///
/// let provider = OpenAIBuilder::new().with_api_key("sk-test").with_model("dall-e-2").build()?;
/// let model = Model::from_provider(Arc::new(provider));
/// assert_eq!(model.id(), "openai/dall-e-2");
/// assert_eq!(model.capabilities().max_prompt_chars, Some(1000));
/// # Ok::<(), msgflux_core::Error>(())
/// ```
pub struct OpenAIProvider {
    config: Arc<dyn Config>,
    model: String,
    spec: ModelSpec,
    client: reqwest::Client,
    read_timeout: Duration,
    retry: RetryPolicy,
}

impl fmt::Debug for OpenAIProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAIProvider")
            .field("config", &self.config)
            .field("model", &self.model)
            .field("family", &self.spec.family())
            .field("read_timeout", &self.read_timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for OpenAIProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} at {}",
            self.config.provider(),
            self.model,
            self.config.describe()
        )
    }
}

impl OpenAIProvider {
    pub(crate) fn new(
        config: Arc<dyn Config>,
        model: String,
        spec: ModelSpec,
        client: reqwest::Client,
        read_timeout: Duration,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            config,
            model,
            spec,
            client,
            read_timeout,
            retry,
        }
    }

    /// The model's rules (family, capability table).
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// How long the provider waits for an answer, and for each later piece of it.
    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    fn provider_name(&self) -> &'static str {
        self.config.provider()
    }

    /// The multipart fields for a request.
    pub(crate) fn fields(&self, request: &LoadedRequest, stream: bool) -> Vec<Field> {
        edit_fields(
            request,
            FormSettings {
                model: self.config.sends_model_field().then_some(self.spec.name()),
                family: self.spec.family(),
                stream,
            },
        )
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
                        .client
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
    pub(crate) async fn read_body(&self, mut response: reqwest::Response) -> Result<Bytes> {
        let id = request_id(response.headers());
        let mut body = BytesMut::new();
        loop {
            let chunk = self
                .within_read_timeout(response.chunk(), "reading the edit answer")
                .await
                .map_err(|err| attach_request_id(err, &id))?;
            let Some(chunk) = chunk else { break };
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(Error::InvalidResponse {
                    provider: self.provider_name().into(),
                    message: format!("the answer is larger than {} MB", MAX_BODY_BYTES / (1024 * 1024)),
                    request_id: id,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// What a parsed answer is built for.
    pub(crate) fn answer<'a>(&'a self, request: &'a LoadedRequest, request_id: Option<String>) -> Answer<'a> {
        Answer {
            provider: self.provider_name(),
            model: &self.model,
            spec: &self.spec,
            request,
            request_id,
            prepared: request.prepare_report.clone(),
        }
    }
}

fn attach_request_id(err: Error, id: &Option<String>) -> Error {
    match err {
        Error::InvalidResponse {
            provider,
            message,
            request_id: None,
        } => Error::InvalidResponse {
            provider,
            message,
            request_id: id.clone(),
        },
        other => other,
    }
}

#[async_trait]
impl EditProvider for OpenAIProvider {
    fn name(&self) -> &str {
        self.provider_name()
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn capabilities(&self) -> &Capabilities {
        self.spec.capabilities()
    }

    /// Converts what can be converted (see the crate docs, "prepare"), on a
    /// blocking thread: decoding and resizing are CPU work.
    async fn prepare(&self, request: LoadedRequest) -> Result<LoadedRequest> {
        let spec = self.spec.clone();
        tokio::task::spawn_blocking(move || crate::prepare::prepare_request(&spec, request))
            .await
            .map_err(|e| Error::decode("image", format!("the prepare step stopped unexpectedly: {e}")))?
    }

    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
        self.spec.check_request(&request, false)?;
        let fields = self.fields(&request, false);
        let response = self.post(&fields).await?;
        let id = request_id(response.headers());
        let body = self.read_body(response).await?;
        self.answer(&request, id).parse_body(&body)
    }

    fn edit_stream(self: Arc<Self>, request: LoadedRequest) -> BoxStream<'static, Result<EditEvent>> {
        if self.spec.family() == ModelFamily::DallE2 {
            // dall-e-2 cannot stream: the whole result is the only event.
            return Box::pin(futures::stream::once(async move {
                self.edit(request).await.map(EditEvent::Completed)
            }));
        }
        crate::stream::edit_stream(self, request)
    }
}
