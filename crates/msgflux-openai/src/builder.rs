//! [`OpenAIBuilder`]: every setting of an [`OpenAIProvider`], from the
//! environment, from code, or from a registry's `ProviderConfig`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use msgflux_core::kit::ProviderConfig;
use msgflux_core::{Error, Result, RetryPolicy};

use crate::client::OpenAIClient;
use crate::config::{AzureConfig, Config, OpenAIConfig, OpenAISettings};
use crate::models::{ModelSpec, not_an_edit_model};
use crate::provider::OpenAIProvider;

/// How long connecting may take (as openai-python).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to wait for the server's answer (and for each later piece of
/// it). GPT image edits often take one to four minutes, so the default is 10 minutes.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(600);

/// The retry policy OpenAI requests get unless told otherwise: the core
/// defaults (2 retries, backoff `min(0.5 * 2^k, 8)` s with jitter,
/// `retry-after` honoured up to 60 s) plus resending after 408, 409 and 5xx
/// answers, which OpenAI does not bill. A request that was sent and then
/// timed out or lost its connection is never resent: it may have been billed.
///
/// ```
/// let policy = msgflux_openai::default_retry_policy();
/// assert_eq!(policy.max_retries, 2);
/// assert!(policy.resend_billable_on_error_status);
/// ```
pub fn default_retry_policy() -> RetryPolicy {
    RetryPolicy::default().with_resend_billable_on_error_status(true)
}

#[derive(Debug, Clone)]
enum Endpoint {
    OpenAI(OpenAIConfig),
    Azure(AzureConfig),
    Custom(Arc<dyn Config>),
}

/// Builds an [`OpenAIProvider`].
///
/// ```
/// use std::time::Duration;
/// use msgflux_openai::OpenAIBuilder;
///
/// let provider = OpenAIBuilder::new()
///     .with_api_key("sk-test")
///     .with_base_url("http://127.0.0.1:8080/v1")
///     .with_read_timeout(Duration::from_secs(300))
///     .build("gpt-image-1")?;
/// assert_eq!(provider.to_string(), "openai/gpt-image-1 at http://127.0.0.1:8080/v1");
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Clone)]
pub struct OpenAIBuilder {
    endpoint: Endpoint,
    http_client: Option<reqwest::Client>,
    connect_timeout: Duration,
    read_timeout: Duration,
    retry: Option<RetryPolicy>,
    misplaced: Vec<&'static str>,
}

impl fmt::Debug for OpenAIBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAIBuilder")
            .field("endpoint", &self.endpoint)
            .field("http_client", &self.http_client.as_ref().map(|_| "<client>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Default for OpenAIBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenAIBuilder {
    fn with_endpoint(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            http_client: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            retry: None,
            misplaced: Vec::new(),
        }
    }

    /// The public OpenAI API, configured from code only.
    pub fn new() -> Self {
        Self::with_endpoint(Endpoint::OpenAI(OpenAIConfig::new()))
    }

    /// OpenAI configured from `OPENAI_API_KEY`, `OPENAI_BASE_URL`,
    /// `OPENAI_ORG_ID` and `OPENAI_PROJECT_ID`; `with_*` calls override them.
    pub fn from_env() -> Self {
        Self::with_endpoint(Endpoint::OpenAI(OpenAIConfig::from_env()))
    }

    /// An explicit OpenAI (or OpenAI-compatible) configuration.
    pub fn openai(config: OpenAIConfig) -> Self {
        Self::with_endpoint(Endpoint::OpenAI(config))
    }

    /// OpenAI configured from the environment, then from a registry's
    /// [`ProviderConfig`] (see [`OpenAIBuilder::apply`]).
    pub fn from_provider_config(config: &ProviderConfig) -> Result<Self> {
        Self::from_env().apply(config)
    }

    /// Azure OpenAI configured from the environment (`AZURE_OPENAI_*`), then
    /// from a registry's [`ProviderConfig`].
    pub fn azure_from_provider_config(config: &ProviderConfig) -> Result<Self> {
        Self::azure(AzureConfig::from_env()).apply(config)
    }

    /// Azure OpenAI; `build` takes the deployment name.
    ///
    /// ```
    /// use msgflux_openai::{AzureConfig, OpenAIBuilder};
    /// let provider = OpenAIBuilder::azure(AzureConfig::new("https://acme.openai.azure.com").with_api_key("k"))
    ///     .with_azure_model("gpt-image-1")
    ///     .build("edits")?;
    /// assert_eq!(provider.to_string(), "azure/edits at https://acme.openai.azure.com (deployment edits)");
    /// # Ok::<(), msgflux_core::Error>(())
    /// ```
    pub fn azure(config: AzureConfig) -> Self {
        Self::with_endpoint(Endpoint::Azure(config))
    }

    /// Any other endpoint, through your own [`Config`].
    pub fn custom(config: impl Config) -> Self {
        Self::with_endpoint(Endpoint::Custom(Arc::new(config)))
    }

    /// Azure: the model the deployment runs (`gpt-image-1`), which picks the
    /// capability table (without it, the deployment name, when it is a model name).
    pub fn with_azure_model(mut self, model: impl Into<String>) -> Self {
        match &mut self.endpoint {
            Endpoint::Azure(azure) => *azure = azure.clone().with_model(model),
            _ => self.misplaced.push("azure_model (an Azure setting)"),
        }
        self
    }

    /// The API key (`Authorization: Bearer`, or `api-key` on Azure).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        match &mut self.endpoint {
            Endpoint::OpenAI(c) => *c = c.clone().with_api_key(key),
            Endpoint::Azure(c) => *c = c.clone().with_api_key(key),
            Endpoint::Custom(_) => self.misplaced.push("api key (a custom Config sets its own headers)"),
        }
        self
    }

    /// The base URL (an emulator, a proxy, an OpenAI-compatible server); on
    /// Azure, the resource endpoint.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        match &mut self.endpoint {
            Endpoint::OpenAI(c) => *c = c.clone().with_base_url(url),
            Endpoint::Azure(c) => *c = c.clone().with_endpoint(url),
            Endpoint::Custom(_) => self.misplaced.push("base URL (a custom Config builds its own URL)"),
        }
        self
    }

    /// The OpenAI organization (`OpenAI-Organization`).
    pub fn with_organization(mut self, organization: impl Into<String>) -> Self {
        match &mut self.endpoint {
            Endpoint::OpenAI(c) => *c = c.clone().with_organization(organization),
            _ => self.misplaced.push("organization (an OpenAI setting)"),
        }
        self
    }

    /// The OpenAI project (`OpenAI-Project`).
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        match &mut self.endpoint {
            Endpoint::OpenAI(c) => *c = c.clone().with_project(project),
            _ => self.misplaced.push("project (an OpenAI setting)"),
        }
        self
    }

    /// The Azure `api-version`.
    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        match &mut self.endpoint {
            Endpoint::Azure(c) => *c = c.clone().with_api_version(version),
            _ => self.misplaced.push("api_version (an Azure setting)"),
        }
        self
    }

    /// A shared HTTP client (pool, proxy, TLS settings). Its own connect
    /// timeout applies; the read timeout is still enforced per answer.
    ///
    /// Build it from [`msgflux_core::kit::http::client_builder`], which installs the
    /// rustls provider this workspace compiles (ring).
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// How long connecting may take (default 5 s; only for the client this builder creates).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long to wait for the answer and for each later piece of it (default 10 minutes).
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
    /// [`OpenAISettings`]. An unknown setting is an error listing the known
    /// ones, never ignored.
    ///
    /// ```
    /// use msgflux_core::kit::ProviderConfig;
    /// let config = ProviderConfig::default().with_api_key("sk-test").with_setting("project", "proj_1");
    /// let provider = msgflux_openai::OpenAIBuilder::new().apply(&config)?.build("gpt-image-1")?;
    /// # Ok::<(), msgflux_core::Error>(())
    /// ```
    pub fn apply(mut self, config: &ProviderConfig) -> Result<Self> {
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
        let settings: OpenAISettings = config.settings_as("openai")?;
        if let Some(organization) = settings.organization {
            self = self.with_organization(organization);
        }
        if let Some(project) = settings.project {
            self = self.with_project(project);
        }
        if let Some(version) = settings.api_version {
            self = self.with_api_version(version);
        }
        if let Some(model) = settings.azure_model {
            self = self.with_azure_model(model);
        }
        Ok(self)
    }

    /// Checks the settings and builds the provider for `model` (OpenAI: the
    /// model name, such as `gpt-image-1`; Azure: the deployment name). A
    /// missing key for the public API, a bad URL, a setting given to the
    /// wrong kind of endpoint, or a model that cannot edit (`dall-e-3`) is an
    /// error here, before any request.
    pub fn build(self, model: &str) -> Result<OpenAIProvider> {
        if !self.misplaced.is_empty() {
            return Err(Error::config(format!(
                "these settings do not apply to this endpoint: {}",
                self.misplaced.join(", ")
            )));
        }
        if self.read_timeout.is_zero() {
            return Err(Error::config("the read timeout must be longer than zero"));
        }
        let model = model.trim();
        let (config, spec): (Arc<dyn Config>, ModelSpec) = match self.endpoint {
            Endpoint::OpenAI(config) => {
                if config.is_official() && !config.has_api_key() {
                    return Err(Error::config(
                        "OPENAI_API_KEY is not set: export it, or pass a key (with_api_key / --api-key-env)",
                    ));
                }
                if config.is_official()
                    && let Some(reason) = not_an_edit_model(model)
                {
                    return Err(Error::invalid("model", format!("`{model}` {reason}")));
                }
                (Arc::new(config), ModelSpec::for_model(model))
            }
            Endpoint::Azure(config) => {
                if !config.has_api_key() {
                    return Err(Error::config(
                        "AZURE_OPENAI_API_KEY is not set: export it, or pass a key (with_api_key)",
                    ));
                }
                let config = config.with_deployment(model);
                if let Some(reason) = not_an_edit_model(config.model()) {
                    return Err(Error::invalid("model", format!("`{}` {reason}", config.model())));
                }
                let spec = ModelSpec::for_model(config.model());
                (Arc::new(config), spec)
            }
            Endpoint::Custom(config) => (config, ModelSpec::for_model(model)),
        };
        if model.is_empty() {
            return Err(Error::invalid("model", "is empty; name a model such as gpt-image-1"));
        }
        config.edits_url()?;
        config.headers()?;
        let http = match self.http_client {
            Some(client) => client,
            None => msgflux_core::kit::http::client_builder()
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?,
        };
        let client = OpenAIClient::new(
            config,
            http,
            self.read_timeout,
            self.retry.unwrap_or_else(default_retry_policy),
        );
        Ok(OpenAIProvider::new(client, model.to_string(), spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_api_without_a_key_is_a_config_error_naming_the_variable() {
        let err = OpenAIBuilder::new().build("gpt-image-1").expect_err("no key");
        assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
    }

    #[test]
    fn a_compatible_server_needs_no_key() {
        let provider = OpenAIBuilder::new()
            .with_base_url("http://127.0.0.1:1/v1")
            .build("my-local-model")
            .expect("builds");
        assert_eq!(msgflux_core::kit::EditProvider::model(&provider), "my-local-model");
    }

    #[test]
    fn an_unknown_setting_is_an_error_listing_the_known_ones() {
        let config = ProviderConfig::default().with_setting("organisation", "x");
        let err = OpenAIBuilder::new().apply(&config).expect_err("typo");
        assert!(err.to_string().contains("`organization`, `project`"), "{err}");
    }

    #[test]
    fn an_openai_setting_on_azure_is_an_error() {
        let err = OpenAIBuilder::azure(AzureConfig::new("https://a.openai.azure.com").with_api_key("k"))
            .with_project("p")
            .build("d")
            .expect_err("project on azure");
        assert!(err.to_string().contains("project"), "{err}");
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let builder = OpenAIBuilder::new().with_api_key("sk-very-secret");
        assert!(!format!("{builder:?}").contains("sk-very-secret"));
        let provider = builder.build("gpt-image-1").expect("builds");
        assert!(!format!("{provider:?}").contains("sk-very-secret"));
    }

    #[test]
    fn the_registry_timeout_is_the_read_timeout() {
        let config = ProviderConfig::default()
            .with_api_key("k")
            .with_timeout(Duration::from_secs(42));
        let provider = OpenAIBuilder::new()
            .apply(&config)
            .expect("applies")
            .build("gpt-image-1")
            .expect("builds");
        assert_eq!(provider.read_timeout(), Duration::from_secs(42));
    }

    #[test]
    fn dall_e_3_is_refused_with_the_reason_before_anything_is_sent() {
        let err = OpenAIBuilder::new()
            .with_api_key("k")
            .build("dall-e-3")
            .expect_err("cannot edit");
        assert!(
            matches!(&err, Error::InvalidInput { param, .. } if param == "model"),
            "{err:?}"
        );
        assert!(err.to_string().contains("dall-e-2 and the gpt-image models"), "{err}");
    }

    #[test]
    fn a_compatible_server_may_serve_any_model_name() {
        let provider = OpenAIBuilder::new()
            .with_base_url("http://127.0.0.1:1/v1")
            .build("dall-e-3")
            .expect("another server decides what its names mean");
        assert_eq!(msgflux_core::kit::EditProvider::model(&provider), "dall-e-3");
    }
}
