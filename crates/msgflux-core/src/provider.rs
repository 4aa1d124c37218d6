//! The contract a provider implements, and the settings its factory receives.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use secrecy::SecretString;

use crate::capabilities::Capabilities;
use crate::error::Result;
use crate::request::LoadedRequest;
use crate::response::{EditEvent, EditResponse};
use crate::retry::RetryPolicy;

/// An image-edit backend bound to one model.
///
/// # Contract
///
/// - [`capabilities`](EditProvider::capabilities) describes the model truthfully;
///   [`Model`](crate::Model) checks every request against it before calling
///   [`edit`](EditProvider::edit), so `edit` receives loaded inputs that fit the table.
/// - Masks arrive in the transparent-is-edit convention (alpha 0 = edit);
///   a provider whose API wants another convention converts them.
/// - `edit` returns exactly `request.n` images on success, in order, and maps
///   every failure to a semantic [`Error`](crate::Error) variant.
/// - Paid requests are retried only when the work was certainly not done (see
///   [`RetryPolicy`]).
///
/// Users call providers through [`Model`](crate::Model), which adds input
/// loading, validation, timeouts, concurrency limits and tracing.
///
/// ```
/// use std::sync::Arc;
/// use msgflux_core::{Capabilities, EditProvider, EditResponse, LoadedRequest, Result, async_trait};
///
/// #[derive(Debug)]
/// struct Echo { caps: Capabilities }
///
/// #[async_trait]
/// impl EditProvider for Echo {
///     fn name(&self) -> &str { "echo" }
///     fn model(&self) -> &str { "identity" }
///     fn capabilities(&self) -> &Capabilities { &self.caps }
///     async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
///         let images = (0..request.n)
///             .map(|_| msgflux_core::GeneratedImage::new(msgflux_core::ImageData::Bytes(request.images[0].bytes.clone())))
///             .collect();
///         Ok(EditResponse::new("echo", "identity", images))
///     }
/// }
/// let model = msgflux_core::Model::from_provider(Arc::new(Echo { caps: Capabilities::new() }));
/// assert_eq!(model.id(), "echo/identity");
/// ```
#[async_trait::async_trait]
pub trait EditProvider: Send + Sync + fmt::Debug + 'static {
    /// The registered provider name (`openai`).
    fn name(&self) -> &str;

    /// The model this instance edits with (`dall-e-2`).
    fn model(&self) -> &str;

    /// What the model accepts.
    fn capabilities(&self) -> &Capabilities;

    /// Learns what [`capabilities`](EditProvider::capabilities) depends on when
    /// that is only known at run time (Replicate reads a model's input schema
    /// from its API). [`Model`](crate::Model) awaits it before loading and
    /// checking every request, so implementations cache the answer. The
    /// default does nothing.
    async fn resolve_capabilities(&self) -> Result<()> {
        Ok(())
    }

    /// Converts inputs that break the model's rules when `request.prepare` is
    /// set (resize, re-encode), before validation. The default changes nothing.
    async fn prepare(&self, request: LoadedRequest) -> Result<LoadedRequest> {
        Ok(request)
    }

    /// Performs the edit.
    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse>;

    /// Performs the edit, streaming partial images where the provider can.
    /// The last item is always [`EditEvent::Completed`] (or an error). The
    /// default streams just the completed result.
    fn edit_stream(self: Arc<Self>, request: LoadedRequest) -> BoxStream<'static, Result<EditEvent>> {
        Box::pin(futures::stream::once(async move {
            self.edit(request).await.map(EditEvent::Completed)
        }))
    }
}

/// Settings a provider factory receives. Each field overrides what the
/// provider would read from its environment variables.
///
/// `Debug` never prints the API key.
///
/// ```
/// use msgflux_core::ProviderConfig;
/// let config = ProviderConfig::default().with_api_key("sk-secret").with_base_url("http://127.0.0.1:8080/v1");
/// assert!(!format!("{config:?}").contains("sk-secret"));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ProviderConfig {
    /// API key or token.
    pub api_key: Option<SecretString>,
    /// Base URL of the API (an emulator, a proxy, an OpenAI-compatible server).
    pub base_url: Option<String>,
    /// An HTTP client to share (connection pool, proxies, TLS settings).
    pub http_client: Option<reqwest::Client>,
    /// Time limit for one HTTP answer.
    pub timeout: Option<Duration>,
    /// Retry policy.
    pub retry: Option<RetryPolicy>,
    /// Provider-specific settings (`azure_deployment`, `api_version`, `output_dir`, ...).
    pub settings: BTreeMap<String, String>,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("http_client", &self.http_client.as_ref().map(|_| "<client>"))
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ProviderConfig {
    /// Sets the API key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Sets the base URL.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets the HTTP client.
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Sets the per-answer time limit.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sets a provider-specific setting.
    pub fn with_setting(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.insert(key.into(), value.into());
        self
    }

    /// A provider-specific setting.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }
}
