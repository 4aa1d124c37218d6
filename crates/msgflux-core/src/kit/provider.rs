//! The contract a provider implements, and the settings its factory receives.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use secrecy::SecretString;

use serde::de::DeserializeOwned;

use crate::capabilities::Capabilities;
use crate::error::{Error, Result, Violations};
use crate::request::LoadedRequest;
use crate::response::{EditEvent, EditResponse};
use crate::retry::RetryPolicy;

/// An image-edit backend bound to one model.
///
/// # Contract
///
/// - [`capabilities`](EditProvider::capabilities) describes the model
///   truthfully and never changes once it has answered. A provider that must
///   ask its API first (Replicate reads a model's input schema) does so in
///   this call, once, and caches the answer.
/// - [`Model`](crate::Model) runs every request through one pipeline before
///   anything is sent: load the inputs, [`prepare`](EditProvider::prepare)
///   them if asked, check them against the capability table, then
///   [`check`](EditProvider::check) the provider's own rules; every broken
///   rule is reported at once. `edit` receives only requests that passed.
/// - Masks arrive in the transparent-is-edit convention (alpha 0 = edit);
///   a provider whose API wants another convention converts them. A model
///   that takes no mask ([`MaskSupport::Unsupported`](crate::MaskSupport))
///   never receives one: the pipeline keeps it to paste the original back.
/// - `edit` returns exactly `request.n` images on success, in order, and maps
///   every failure to a semantic [`Error`](crate::Error) variant.
/// - Paid requests are retried only when the work was certainly not done (see
///   [`RetryPolicy`]).
///
/// ```
/// use std::sync::Arc;
/// use msgflux_core::{Capabilities, EditResponse, GeneratedImage, ImageData, Result};
/// use msgflux_core::kit::{EditProvider, LoadedRequest, async_trait};
///
/// #[derive(Debug)]
/// struct Echo { caps: Capabilities }
///
/// #[async_trait]
/// impl EditProvider for Echo {
///     fn name(&self) -> &str { "echo" }
///     fn model(&self) -> &str { "identity" }
///     async fn capabilities(&self) -> Result<&Capabilities> { Ok(&self.caps) }
///     async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
///         let images = (0..request.n)
///             .map(|_| GeneratedImage::new(ImageData::Bytes(request.images[0].bytes.clone())))
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

    /// What the model accepts. Static for most providers; a provider that
    /// learns it from its API asks once here and caches the answer.
    async fn capabilities(&self) -> Result<&Capabilities>;

    /// Converts inputs that break the model's rules when `request.prepare` is
    /// set (resize, re-encode), before validation. The default changes nothing.
    async fn prepare(&self, request: LoadedRequest) -> Result<LoadedRequest> {
        Ok(request)
    }

    /// Records the provider's own rules that the capability table cannot
    /// express (a byte cap on one input, an option that needs another, a
    /// seed range). Runs after the table's checks, also when those failed,
    /// so it must not assume their rules hold. Push broken rules into
    /// `violations`; return an error only when checking itself failed.
    /// The default checks nothing.
    fn check(&self, request: &LoadedRequest, violations: &mut Violations) -> Result<()> {
        let _ = (request, violations);
        Ok(())
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
/// use msgflux_core::kit::ProviderConfig;
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
    ///
    /// Build it from [`crate::kit::http::client_builder`], which installs the
    /// rustls provider this workspace compiles (ring).
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

    /// The provider-specific settings as a typed struct. Values are text
    /// (from `--setting key=value` or a config file) and are parsed into the
    /// struct's field types. Give the struct
    /// `#[serde(deny_unknown_fields)]`: an unknown key is then an
    /// [`Error::Config`] that lists the known ones.
    ///
    /// ```
    /// #[derive(Debug, serde::Deserialize)]
    /// #[serde(deny_unknown_fields)]
    /// struct AcmeSettings { poll_interval_ms: Option<u64>, region: Option<String> }
    ///
    /// use msgflux_core::kit::ProviderConfig;
    /// let config = ProviderConfig::default().with_setting("poll_interval_ms", "250");
    /// let settings: AcmeSettings = config.settings_as("acme")?;
    /// assert_eq!(settings.poll_interval_ms, Some(250));
    ///
    /// let typo = ProviderConfig::default().with_setting("pol_interval_ms", "250");
    /// let err = typo.settings_as::<AcmeSettings>("acme").unwrap_err();
    /// assert!(err.to_string().contains("expected `poll_interval_ms` or `region`"), "{err}");
    /// # Ok::<(), msgflux_core::Error>(())
    /// ```
    pub fn settings_as<T: DeserializeOwned>(&self, provider: &str) -> Result<T> {
        // Settings arrive as text; the form decoder parses text into numbers,
        // flags and words by the struct's field types, and knows unknown keys.
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.settings)
            .finish();
        serde_urlencoded::from_str(&encoded).map_err(|e| Error::config(format!("{provider} settings: {e}")))
    }
}
