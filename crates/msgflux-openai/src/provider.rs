//! [`OpenAIProvider`]: the `EditProvider` for OpenAI, Azure OpenAI and
//! OpenAI-compatible servers: the model's rules, the request as a form, and
//! the answer as a response.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use msgflux_core::kit::{EditProvider, LoadedRequest, Violations, async_trait};
use msgflux_core::{Capabilities, EditEvent, EditResponse, Error, Result, RetryPolicy};

use crate::client::OpenAIClient;
use crate::error::request_id;
use crate::form::{Field, FormSettings, edit_fields};
use crate::models::{ModelFamily, ModelSpec};
use crate::response::Answer;

/// Image edits through OpenAI (`openai/<model>`), Azure OpenAI
/// (`azure/<deployment>`) or an OpenAI-compatible server.
///
/// Build one with [`OpenAIBuilder`](crate::OpenAIBuilder), or let the
/// registry do it (`Model::image_text_to_image("openai/dall-e-2")`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> msgflux_core::Result<()> {
/// use std::sync::Arc;
/// use msgflux_core::Model;
/// use msgflux_openai::OpenAIBuilder;
///
/// let provider = OpenAIBuilder::new().with_api_key("sk-test").build("dall-e-2")?;
/// let model = Model::from_provider(Arc::new(provider));
/// assert_eq!(model.id(), "openai/dall-e-2");
/// assert_eq!(model.capabilities().await?.max_prompt_chars, Some(1000));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct OpenAIProvider {
    client: OpenAIClient,
    model: String,
    spec: ModelSpec,
}

impl fmt::Display for OpenAIProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} at {}",
            self.client.provider_name(),
            self.model,
            self.client.describe()
        )
    }
}

impl OpenAIProvider {
    pub(crate) fn new(client: OpenAIClient, model: String, spec: ModelSpec) -> Self {
        Self { client, model, spec }
    }

    /// The model's rules (family, capability table).
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// How long the provider waits for an answer, and for each later piece of it.
    pub fn read_timeout(&self) -> Duration {
        self.client.read_timeout()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        self.client.retry()
    }

    /// The multipart fields for a request.
    fn fields(&self, request: &LoadedRequest) -> Vec<Field> {
        edit_fields(
            request,
            FormSettings {
                model: self.client.sends_model_field().then_some(self.spec.name()),
                family: self.spec.family(),
                stream: request.streaming,
            },
        )
    }

    /// What a parsed answer is built for.
    fn answer(&self, request: &LoadedRequest, request_id: Option<String>) -> Answer {
        Answer {
            provider: self.client.provider_name(),
            model: self.model.clone(),
            spec: self.spec.clone(),
            response_format: request.response_format,
            n: request.n,
            size: request.size.and_then(msgflux_core::OutputSize::exact),
            request_id,
            prepared: request.prepare_report.clone(),
        }
    }
}

#[async_trait]
impl EditProvider for OpenAIProvider {
    fn name(&self) -> &str {
        self.client.provider_name()
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn capabilities(&self) -> Result<&Capabilities> {
        Ok(self.spec.capabilities())
    }

    /// Converts what can be converted (see the crate docs, "prepare"), on a
    /// blocking thread: decoding and resizing are CPU work.
    async fn prepare(&self, request: LoadedRequest) -> Result<LoadedRequest> {
        let spec = self.spec.clone();
        tokio::task::spawn_blocking(move || crate::prepare::prepare_request(&spec, request))
            .await
            .map_err(|e| Error::decode("image", format!("the prepare step stopped unexpectedly: {e}")))?
    }

    fn check(&self, request: &LoadedRequest, violations: &mut Violations) -> Result<()> {
        self.spec.check_request(request, violations)
    }

    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
        let response = self.client.post(&self.fields(&request)).await?;
        let id = request_id(response.headers());
        let body = self.client.read_body(response).await?;
        self.answer(&request, id).parse_body(&body)
    }

    fn edit_stream(self: Arc<Self>, mut request: LoadedRequest) -> BoxStream<'static, Result<EditEvent>> {
        if self.spec.family() == ModelFamily::DallE2 {
            // dall-e-2 cannot stream: a plain edit, whose result is the only event.
            request.streaming = false;
            return Box::pin(futures::stream::once(async move {
                self.edit(request).await.map(EditEvent::Completed)
            }));
        }
        let fields = self.fields(&request);
        let answer = self.answer(&request, None);
        crate::stream::edit_stream(self.client.clone(), fields, answer)
    }
}
