//! [`OpenAIBuilder`]: every setting of an [`OpenAIProvider`], from the
//! environment, from code, or from a registry's `ProviderConfig`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use msgflux_core::{Error, ProviderConfig, Result, RetryPolicy};

use crate::config::{AzureConfig, Config, OpenAIConfig};
use crate::models::{DEFAULT_MODEL, ModelSpec};
use crate::provider::OpenAIProvider;

/// How long connecting may take (as openai-python).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to wait for the server's answer (and for each later piece of
/// it). GPT image edits often take one to four minutes, so the default is 10 minutes.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(600);

/// The `ProviderConfig::settings` keys this provider reads.
pub const SETTINGS: &[&str] = &["organization", "project", "api_version", "azure_model"];

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
///     .with_model("gpt-image-1")
///     .with_read_timeout(Duration::from_secs(300))
///     .build()?;
/// assert_eq!(provider.to_string(), "openai/gpt-image-1 at http://127.0.0.1:8080/v1");
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Clone)]
pub struct OpenAIBuilder {
    endpoint: Endpoint,
    model: Option<String>,
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
            .field("model", &self.model)
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
            model: None,
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

    /// An Azure OpenAI deployment.
    ///
    /// ```
    /// use msgflux_openai::{AzureConfig, OpenAIBuilder};
    /// let provider = OpenAIBuilder::azure(AzureConfig::new("https://acme.openai.azure.com", "edits").with_api_key("k"))
    ///     .with_model("gpt-image-1")
    ///     .build()?;
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

    /// The model (`dall-e-2`, `gpt-image-1`, ...; default `gpt-image-1.5`).
    /// On Azure: the model the deployment runs, which picks the rules.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        let model = model.into();
        match &mut self.endpoint {
            Endpoint::Azure(azure) => *azure = azure.clone().with_model(model),
            _ => self.model = Some(model),
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
    /// timeout (the read timeout), retry policy, and the settings named in
    /// [`SETTINGS`]. An unknown setting is an error, never ignored.
    ///
    /// ```
    /// use msgflux_core::ProviderConfig;
    /// let config = ProviderConfig::default().with_api_key("sk-test").with_setting("project", "proj_1");
    /// let provider = msgflux_openai::OpenAIBuilder::new().apply(&config)?.build()?;
    /// # Ok::<(), msgflux_core::Error>(())
    /// ```
    pub fn apply(mut self, config: &ProviderConfig) -> Result<Self> {
        if let Some(key) = &config.api_key {
            use msgflux_core::ExposeSecret as _;
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
        for (key, value) in &config.settings {
            self = match key.as_str() {
                "organization" => self.with_organization(value),
                "project" => self.with_project(value),
                "api_version" => self.with_api_version(value),
                "azure_model" => match self.endpoint {
                    Endpoint::Azure(_) => self.with_model(value),
                    _ => {
                        self.misplaced.push("azure_model (an Azure setting)");
                        self
                    }
                },
                other => {
                    return Err(Error::config(format!(
                        "unknown OpenAI setting `{other}`; known settings: {}",
                        SETTINGS.join(", ")
                    )));
                }
            };
        }
        Ok(self)
    }

    /// Checks the settings and builds the provider. A missing key for the
    /// public API, a bad URL or a setting given to the wrong kind of endpoint
    /// is an [`Error::Config`] here, before any request.
    pub fn build(self) -> Result<OpenAIProvider> {
        if !self.misplaced.is_empty() {
            return Err(Error::config(format!(
                "these settings do not apply to this endpoint: {}",
                self.misplaced.join(", ")
            )));
        }
        if self.read_timeout.is_zero() {
            return Err(Error::config("the read timeout must be longer than zero"));
        }
        let (config, model, spec): (Arc<dyn Config>, String, ModelSpec) = match self.endpoint {
            Endpoint::OpenAI(config) => {
                if config.is_official() && !config.has_api_key() {
                    return Err(Error::config(
                        "OPENAI_API_KEY is not set: export it, or pass a key (with_api_key / --api-key)",
                    ));
                }
                let model = self.model.unwrap_or_else(|| DEFAULT_MODEL.to_string());
                let spec = ModelSpec::for_model(&model);
                (Arc::new(config), model, spec)
            }
            Endpoint::Azure(config) => {
                if !config.has_api_key() {
                    return Err(Error::config(
                        "AZURE_OPENAI_API_KEY is not set: export it, or pass a key (with_api_key)",
                    ));
                }
                let spec = ModelSpec::for_model(config.model());
                (Arc::new(config.clone()), config.deployment().to_string(), spec)
            }
            Endpoint::Custom(config) => {
                let model = self.model.unwrap_or_else(|| DEFAULT_MODEL.to_string());
                let spec = ModelSpec::for_model(&model);
                (config, model, spec)
            }
        };
        config.edits_url()?;
        config.headers()?;
        let client = match self.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?,
        };
        Ok(OpenAIProvider::new(
            config,
            model,
            spec,
            client,
            self.read_timeout,
            self.retry.unwrap_or_else(default_retry_policy),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_api_without_a_key_is_a_config_error_naming_the_variable() {
        let err = OpenAIBuilder::new().build().expect_err("no key");
        assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
    }

    #[test]
    fn a_compatible_server_needs_no_key() {
        let provider = OpenAIBuilder::new()
            .with_base_url("http://127.0.0.1:1/v1")
            .build()
            .expect("builds");
        assert_eq!(msgflux_core::EditProvider::model(&provider), DEFAULT_MODEL);
    }

    #[test]
    fn an_unknown_setting_is_an_error_listing_the_known_ones() {
        let config = ProviderConfig::default().with_setting("organisation", "x");
        let err = OpenAIBuilder::new().apply(&config).expect_err("typo");
        assert!(err.to_string().contains("organization, project"), "{err}");
    }

    #[test]
    fn an_openai_setting_on_azure_is_an_error() {
        let err = OpenAIBuilder::azure(AzureConfig::new("https://a.openai.azure.com", "d").with_api_key("k"))
            .with_project("p")
            .build()
            .expect_err("project on azure");
        assert!(err.to_string().contains("project"), "{err}");
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let builder = OpenAIBuilder::new().with_api_key("sk-very-secret");
        assert!(!format!("{builder:?}").contains("sk-very-secret"));
        let provider = builder.build().expect("builds");
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
            .build()
            .expect("builds");
        assert_eq!(provider.read_timeout(), Duration::from_secs(42));
    }
}
