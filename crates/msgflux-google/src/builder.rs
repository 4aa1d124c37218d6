//! [`GoogleBuilder`]: every setting of a provider, the default timeouts and
//! retry policy, and the checks made before any request.

use std::fmt;
use std::time::Duration;

use msgflux_core::kit::ProviderConfig;
use msgflux_core::{Error, Result, RetryPolicy};

use crate::client::GoogleClient;
use crate::config::{Endpoint, GeminiConfig, GoogleSettings, MaskHint, VertexConfig, env_var};
use crate::models::{ModelSpec, not_an_edit_model};
use crate::provider::GoogleProvider;

/// How long connecting may take by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for an answer by default: Gemini 3 Pro Image thinks
/// before it draws, and a 4K edit can take minutes.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// Input images above this many bytes in total go through the Files API
/// (Gemini API) instead of inline: the documented inline size that every
/// Gemini API version accepts (20 MB; base64 makes the request about 27 MB).
pub const DEFAULT_INLINE_LIMIT: u64 = 20 * 1024 * 1024;

/// The default retry policy: two retries with backoff, resending a paid
/// request only when Google said so (429 `RESOURCE_EXHAUSTED`, 503 with a
/// retry delay) or when the connection failed before sending.
///
/// ```
/// assert!(!msgflux_google::default_retry_policy().resend_billable_on_error_status);
/// ```
pub fn default_retry_policy() -> RetryPolicy {
    RetryPolicy::default()
}

/// Builds a [`GoogleProvider`].
///
/// ```
/// use std::time::Duration;
/// use msgflux_google::GoogleBuilder;
///
/// let provider = GoogleBuilder::new()
///     .with_api_key("AIza-test")
///     .with_base_url("http://127.0.0.1:8080")
///     .with_read_timeout(Duration::from_secs(120))
///     .build("gemini-2.5-flash-image")?;
/// assert_eq!(provider.to_string(), "google/gemini-2.5-flash-image at http://127.0.0.1:8080");
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Clone)]
pub struct GoogleBuilder {
    endpoint: Endpoint,
    http_client: Option<reqwest::Client>,
    connect_timeout: Duration,
    read_timeout: Duration,
    retry: Option<RetryPolicy>,
    mask_hint: MaskHint,
    inline_limit: u64,
    misplaced: Vec<&'static str>,
}

impl fmt::Debug for GoogleBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleBuilder")
            .field("endpoint", &self.endpoint)
            .field("http_client", &self.http_client.as_ref().map(|_| "<client>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retry", &self.retry)
            .field("mask_hint", &self.mask_hint)
            .field("inline_limit", &self.inline_limit)
            .finish_non_exhaustive()
    }
}

impl Default for GoogleBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl GoogleBuilder {
    fn with_endpoint(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            http_client: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            retry: None,
            mask_hint: MaskHint::None,
            inline_limit: DEFAULT_INLINE_LIMIT,
            misplaced: Vec::new(),
        }
    }

    /// The public Gemini API, configured from code only.
    pub fn new() -> Self {
        Self::with_endpoint(Endpoint::Gemini(GeminiConfig::new()))
    }

    /// The Gemini API configured from `GOOGLE_API_KEY` / `GEMINI_API_KEY` and
    /// `GOOGLE_GEMINI_BASE_URL`; or Vertex AI (from `GOOGLE_CLOUD_*`) when
    /// `GOOGLE_GENAI_USE_VERTEXAI` is `true` or `1`, as in Google's SDKs.
    pub fn from_env() -> Self {
        let vertex = env_var("GOOGLE_GENAI_USE_VERTEXAI")
            .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1"));
        if vertex {
            Self::vertex(VertexConfig::from_env())
        } else {
            Self::gemini(GeminiConfig::from_env())
        }
    }

    /// An explicit Gemini API configuration.
    pub fn gemini(config: GeminiConfig) -> Self {
        Self::with_endpoint(Endpoint::Gemini(config))
    }

    /// Vertex AI.
    ///
    /// ```
    /// use msgflux_google::{GoogleBuilder, VertexConfig};
    /// let provider = GoogleBuilder::vertex(VertexConfig::new("my-project").with_access_token("t"))
    ///     .build("gemini-3-pro-image-preview")?;
    /// assert_eq!(provider.to_string(), "google/gemini-3-pro-image-preview at Vertex AI my-project/global");
    /// # Ok::<(), msgflux_core::Error>(())
    /// ```
    pub fn vertex(config: VertexConfig) -> Self {
        Self::with_endpoint(Endpoint::Vertex(config))
    }

    /// Configured from the environment (see [`GoogleBuilder::from_env`]), then
    /// from a registry's [`ProviderConfig`] (see [`GoogleBuilder::apply`]).
    pub fn from_provider_config(config: &ProviderConfig) -> Result<Self> {
        Self::from_env().apply(config)
    }

    /// The API key (Gemini API, `x-goog-api-key`) or the access token (Vertex AI, `Authorization: Bearer`).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.endpoint = match self.endpoint {
            Endpoint::Gemini(c) => Endpoint::Gemini(c.with_api_key(key)),
            Endpoint::Vertex(c) => Endpoint::Vertex(c.with_access_token(key)),
        };
        self
    }

    /// The base URL (an emulator, a proxy); on Vertex AI, instead of the location's host.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.endpoint = match self.endpoint {
            Endpoint::Gemini(c) => Endpoint::Gemini(c.with_base_url(url)),
            Endpoint::Vertex(c) => Endpoint::Vertex(c.with_base_url(url)),
        };
        self
    }

    /// Vertex AI: the project.
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        match self.endpoint {
            Endpoint::Vertex(c) => self.endpoint = Endpoint::Vertex(c.with_project(project)),
            Endpoint::Gemini(_) => self.misplaced.push("project (a Vertex AI setting)"),
        }
        self
    }

    /// Vertex AI: the location.
    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        match self.endpoint {
            Endpoint::Vertex(c) => self.endpoint = Endpoint::Vertex(c.with_location(location)),
            Endpoint::Gemini(_) => self.misplaced.push("location (a Vertex AI setting)"),
        }
        self
    }

    /// How a mask reaches the model (default [`MaskHint::None`]: not sent;
    /// the original is kept outside it).
    pub fn with_mask_hint(mut self, hint: MaskHint) -> Self {
        self.mask_hint = hint;
        self
    }

    /// Gemini API: input images above this many bytes in total are uploaded
    /// through the Files API (default [`DEFAULT_INLINE_LIMIT`]).
    pub fn with_inline_limit(mut self, bytes: u64) -> Self {
        self.inline_limit = bytes;
        self
    }

    /// A shared HTTP client (pool, proxy, TLS settings). Build it from
    /// [`msgflux_core::kit::http::client_builder`], which installs the
    /// rustls provider this workspace compiles.
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// How long connecting may take (default 10 s; only for the client this builder creates).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long to wait for an answer and for each later piece of it (default 5 minutes).
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The retry policy (default [`default_retry_policy`]).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Applies a registry's [`ProviderConfig`]: key, base URL, client,
    /// timeout (the read timeout), retry policy, and the settings of
    /// [`GoogleSettings`]. An unknown setting is an error listing the known ones.
    ///
    /// ```
    /// use msgflux_core::kit::ProviderConfig;
    /// let config = ProviderConfig::default()
    ///     .with_setting("vertex", "true")
    ///     .with_setting("project", "p")
    ///     .with_api_key("token");
    /// let provider = msgflux_google::GoogleBuilder::new().apply(&config)?.build("gemini-2.5-flash-image")?;
    /// assert!(provider.to_string().contains("Vertex AI p/global"));
    /// # Ok::<(), msgflux_core::Error>(())
    /// ```
    pub fn apply(mut self, config: &ProviderConfig) -> Result<Self> {
        let settings: GoogleSettings = config.settings_as("google")?;
        match (settings.vertex, &self.endpoint) {
            (Some(true), Endpoint::Gemini(_)) => self.endpoint = Endpoint::Vertex(VertexConfig::from_env()),
            (Some(false), Endpoint::Vertex(_)) => self.endpoint = Endpoint::Gemini(GeminiConfig::from_env()),
            _ => {}
        }
        if let Some(key) = &config.api_key {
            use msgflux_core::kit::ExposeSecret as _;
            self = self.with_api_key(key.expose_secret());
        }
        if let Some(url) = &config.base_url {
            self = self.with_base_url(url);
        }
        if let Some(client) = &config.http_client {
            self = self.with_http_client(client.clone());
        }
        if let Some(timeout) = config.timeout {
            self = self.with_read_timeout(timeout);
        }
        if let Some(retry) = &config.retry {
            self = self.with_retry(retry.clone());
        }
        if let Some(hint) = settings.mask_hint {
            self = self.with_mask_hint(hint);
        }
        if let Some(project) = settings.project {
            self = self.with_project(project);
        }
        if let Some(location) = settings.location {
            self = self.with_location(location);
        }
        if let Some(limit) = settings.inline_limit {
            if self.endpoint.is_vertex() {
                self.misplaced.push("inline_limit (Vertex AI has no Files API)");
            }
            self = self.with_inline_limit(limit);
        }
        Ok(self)
    }

    /// Checks the settings and builds the provider for `model`. A missing
    /// key for Google's endpoint, a Vertex AI configuration without a
    /// project or token, a bad URL, a setting given to the wrong endpoint, or
    /// a model that cannot edit images (`gemini-2.5-flash`, `imagen-4.0-...`)
    /// is an error here, before any request.
    pub fn build(self, model: &str) -> Result<GoogleProvider> {
        if !self.misplaced.is_empty() {
            return Err(Error::config(format!(
                "these settings do not apply to this endpoint: {}",
                self.misplaced.join(", ")
            )));
        }
        if self.read_timeout.is_zero() {
            return Err(Error::config("the read timeout must be longer than zero"));
        }
        let model = model.trim().strip_prefix("models/").unwrap_or(model.trim());
        if model.is_empty() {
            return Err(Error::invalid(
                "model",
                "is empty; name a model such as gemini-2.5-flash-image",
            ));
        }
        match &self.endpoint {
            Endpoint::Gemini(config) => {
                if config.is_official() && !config.has_api_key() {
                    return Err(Error::config(
                        "GEMINI_API_KEY (or GOOGLE_API_KEY) is not set: export it, or pass a key (with_api_key / --api-key-env)",
                    ));
                }
                config.upload_url()?;
            }
            Endpoint::Vertex(config) => {
                if !config.has_access_token() {
                    return Err(Error::config(
                        "Vertex AI needs an access token: export GOOGLE_CLOUD_ACCESS_TOKEN=$(gcloud auth print-access-token), or pass it as the key",
                    ));
                }
            }
        }
        if let Some(reason) = not_an_edit_model(model) {
            return Err(Error::invalid("model", format!("`{model}` {reason}")));
        }
        self.endpoint.generate_url(model)?;
        self.endpoint.headers()?;
        let http = match self.http_client {
            Some(client) => client,
            None => msgflux_core::kit::http::client_builder()
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?,
        };
        let spec = ModelSpec::for_model(model, Some(self.mask_hint));
        let client = GoogleClient::new(
            self.endpoint,
            http,
            self.read_timeout,
            self.retry.unwrap_or_else(default_retry_policy),
        );
        Ok(GoogleProvider::new(client, model.to_string(), spec, self.inline_limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_api_without_a_key_is_a_config_error_naming_both_variables() {
        let err = GoogleBuilder::new()
            .build("gemini-2.5-flash-image")
            .expect_err("no key");
        assert!(err.to_string().contains("GEMINI_API_KEY"), "{err}");
        assert!(err.to_string().contains("GOOGLE_API_KEY"), "{err}");
    }

    #[test]
    fn vertex_without_a_token_names_the_token_variable() {
        let err = GoogleBuilder::vertex(VertexConfig::new("p"))
            .build("gemini-2.5-flash-image")
            .expect_err("no token");
        assert!(err.to_string().contains("GOOGLE_CLOUD_ACCESS_TOKEN"), "{err}");
    }

    #[test]
    fn vertex_without_a_project_is_refused_before_any_request() {
        let err = GoogleBuilder::vertex(VertexConfig::new("").with_access_token("t"))
            .build("gemini-2.5-flash-image")
            .expect_err("no project");
        assert!(err.to_string().contains("GOOGLE_CLOUD_PROJECT"), "{err}");
    }

    #[test]
    fn a_vertex_setting_on_the_gemini_api_is_an_error() {
        let err = GoogleBuilder::new()
            .with_api_key("k")
            .with_project("p")
            .build("gemini-2.5-flash-image")
            .expect_err("project on the Gemini API");
        assert!(err.to_string().contains("project"), "{err}");
    }

    #[test]
    fn text_and_imagen_models_are_refused_with_the_reason() {
        for model in ["gemini-2.5-flash", "imagen-4.0-generate-001"] {
            let err = GoogleBuilder::new().with_api_key("k").build(model).expect_err(model);
            assert!(
                matches!(&err, Error::InvalidInput { param, .. } if param == "model"),
                "{err:?}"
            );
        }
    }

    #[test]
    fn debug_output_never_shows_the_key_or_token() {
        let builder = GoogleBuilder::new().with_api_key("AIza-very-secret");
        assert!(!format!("{builder:?}").contains("AIza-very-secret"));
        let provider = builder.build("gemini-2.5-flash-image").expect("builds");
        assert!(!format!("{provider:?}").contains("AIza-very-secret"));
        let vertex = GoogleBuilder::vertex(VertexConfig::new("p").with_access_token("ya29-secret"));
        assert!(!format!("{vertex:?}").contains("ya29-secret"));
    }

    #[test]
    fn an_unknown_setting_is_an_error_listing_the_known_ones() {
        let config = ProviderConfig::default().with_setting("maskhint", "tint");
        let err = GoogleBuilder::new().apply(&config).expect_err("typo");
        assert!(err.to_string().contains("`mask_hint`"), "{err}");
    }

    #[test]
    fn a_models_prefix_is_accepted() {
        let provider = GoogleBuilder::new()
            .with_api_key("k")
            .build("models/gemini-2.5-flash-image")
            .expect("builds");
        assert_eq!(
            msgflux_core::kit::EditProvider::model(&provider),
            "gemini-2.5-flash-image"
        );
    }
}
