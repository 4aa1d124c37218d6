//! Where requests go and how they authenticate: OpenAI (and any
//! OpenAI-compatible server) or Azure OpenAI, behind one [`Config`] trait.

use std::fmt;

use msgflux_core::kit::http::{self, secret_value};
use msgflux_core::kit::{ExposeSecret as _, SecretString};
use msgflux_core::{Error, Result};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use url::Url;

/// The public OpenAI API.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// The Azure OpenAI `api-version` used when none is configured: the first
/// version whose deployments accept the GPT image models on `images/edits`.
pub const AZURE_DEFAULT_API_VERSION: &str = "2025-04-01-preview";

/// The provider-specific settings (`ProviderConfig::settings`, `--setting
/// key=value`). An unknown key is an error that lists these.
///
/// ```
/// use msgflux_core::kit::ProviderConfig;
/// let config = ProviderConfig::default().with_setting("project", "proj_1");
/// let settings: msgflux_openai::OpenAISettings = config.settings_as("openai")?;
/// assert_eq!(settings.project.as_deref(), Some("proj_1"));
/// let typo = ProviderConfig::default().with_setting("organisation", "x");
/// let err = typo.settings_as::<msgflux_openai::OpenAISettings>("openai").unwrap_err();
/// assert!(err.to_string().contains("expected one of `organization`, `project`"), "{err}");
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OpenAISettings {
    /// The OpenAI organization (`OpenAI-Organization` header).
    pub organization: Option<String>,
    /// The OpenAI project (`OpenAI-Project` header).
    pub project: Option<String>,
    /// Azure: the `api-version` query parameter.
    pub api_version: Option<String>,
    /// Azure: the model the deployment runs, which picks the capability table.
    pub azure_model: Option<String>,
}

/// An endpoint and its authentication: what differs between OpenAI, Azure
/// OpenAI and other OpenAI-compatible servers.
///
/// Implement it for a gateway that needs other headers or URLs; the provider
/// only asks for the edit URL, the headers, and whether to send a `model` field.
///
/// ```
/// use msgflux_openai::{Config, OpenAIConfig};
/// let config = OpenAIConfig::new().with_api_key("sk-test").with_base_url("http://127.0.0.1:8080/v1");
/// assert_eq!(config.edits_url().unwrap().as_str(), "http://127.0.0.1:8080/v1/images/edits");
/// assert_eq!(config.provider(), "openai");
/// ```
pub trait Config: Send + Sync + fmt::Debug + 'static {
    /// The registered provider name this endpoint answers for (`openai`, `azure`).
    fn provider(&self) -> &'static str;

    /// The full URL of `POST images/edits`, query string included.
    fn edits_url(&self) -> Result<Url>;

    /// Authentication and account headers. Secret values are marked sensitive
    /// so that they never appear in `Debug` output or logs.
    fn headers(&self) -> Result<HeaderMap>;

    /// Whether the multipart body names the model (`model` field). Azure
    /// selects the model by deployment in the URL instead.
    fn sends_model_field(&self) -> bool {
        true
    }

    /// Where requests go, for `Display` and error messages (never secrets).
    fn describe(&self) -> String;
}

/// Reads an environment variable, treating an empty value as unset.
pub(crate) fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn plain_header(name: &'static str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let value = HeaderValue::from_str(value).map_err(|_| {
        Error::config(format!(
            "the {name} header value `{value}` is not valid in an HTTP header"
        ))
    })?;
    Ok((HeaderName::from_static(name), value))
}

/// The OpenAI API, or any OpenAI-compatible server at another base URL.
///
/// `Debug` never prints the key.
///
/// ```
/// use msgflux_openai::OpenAIConfig;
/// let config = OpenAIConfig::new().with_api_key("sk-secret").with_project("proj_1");
/// assert!(!format!("{config:?}").contains("sk-secret"));
/// ```
#[derive(Clone)]
pub struct OpenAIConfig {
    api_key: Option<SecretString>,
    base_url: String,
    organization: Option<String>,
    project: Option<String>,
}

impl fmt::Debug for OpenAIConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAIConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("organization", &self.organization)
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

impl Default for OpenAIConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenAIConfig {
    /// The public API at [`OPENAI_BASE_URL`], without a key.
    pub fn new() -> Self {
        Self {
            api_key: None,
            base_url: OPENAI_BASE_URL.to_string(),
            organization: None,
            project: None,
        }
    }

    /// Reads `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID` and
    /// `OPENAI_PROJECT_ID`, like the official SDKs. Empty values count as unset.
    ///
    /// ```no_run
    /// let config = msgflux_openai::OpenAIConfig::from_env();
    /// ```
    pub fn from_env() -> Self {
        Self::from_vars(env_var)
    }

    /// Like [`OpenAIConfig::from_env`], reading variables through `lookup`
    /// (tests, configuration files).
    ///
    /// ```
    /// let config = msgflux_openai::OpenAIConfig::from_vars(|name| match name {
    ///     "OPENAI_BASE_URL" => Some("http://127.0.0.1:9/v1".to_string()),
    ///     _ => None,
    /// });
    /// assert_eq!(config.base_url(), "http://127.0.0.1:9/v1");
    /// ```
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Self {
            api_key: get("OPENAI_API_KEY").map(SecretString::from),
            base_url: get("OPENAI_BASE_URL").unwrap_or_else(|| OPENAI_BASE_URL.to_string()),
            organization: get("OPENAI_ORG_ID"),
            project: get("OPENAI_PROJECT_ID"),
        }
    }

    /// Sets the API key (sent as `Authorization: Bearer`).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Sets the base URL (`https://api.openai.com/v1`, an emulator, a proxy,
    /// an OpenAI-compatible server).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the organization (`OpenAI-Organization` header).
    pub fn with_organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// Sets the project (`OpenAI-Project` header).
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether an API key is set.
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }

    /// Whether requests go to the public OpenAI API (which needs a key).
    pub fn is_official(&self) -> bool {
        http::base_url(&self.base_url, "base URL")
            .map(|u| u.host_str() == Some("api.openai.com"))
            .unwrap_or(false)
    }
}

impl Config for OpenAIConfig {
    fn provider(&self) -> &'static str {
        crate::OPENAI_SCHEME
    }

    fn edits_url(&self) -> Result<Url> {
        http::join_path(&http::base_url(&self.base_url, "base URL")?, &["images", "edits"])
    }

    fn headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let (name, value) = (
                AUTHORIZATION,
                secret_value(&format!("Bearer {}", key.expose_secret()), "API key")?,
            );
            headers.insert(name, value);
        }
        if let Some(org) = &self.organization {
            let (name, value) = plain_header("openai-organization", org)?;
            headers.insert(name, value);
        }
        if let Some(project) = &self.project {
            let (name, value) = plain_header("openai-project", project)?;
            headers.insert(name, value);
        }
        Ok(headers)
    }

    fn describe(&self) -> String {
        self.base_url.clone()
    }
}

/// Azure OpenAI: `{endpoint}/openai/deployments/{deployment}/images/edits?api-version=...`
/// with an `api-key` header.
///
/// The deployment decides the model, so no `model` field is sent; the
/// capability table follows [`AzureConfig::with_model`] (the model the
/// deployment runs), or the deployment name when it is a known model name.
///
/// ```
/// use msgflux_openai::{AzureConfig, Config};
/// let config = AzureConfig::new("https://acme.openai.azure.com")
///     .with_deployment("edits-prod")
///     .with_api_key("azure-secret")
///     .with_model("gpt-image-1");
/// assert_eq!(
///     config.edits_url().unwrap().as_str(),
///     "https://acme.openai.azure.com/openai/deployments/edits-prod/images/edits?api-version=2025-04-01-preview"
/// );
/// assert!(!format!("{config:?}").contains("azure-secret"));
/// ```
#[derive(Clone)]
pub struct AzureConfig {
    api_key: Option<SecretString>,
    endpoint: String,
    deployment: String,
    api_version: String,
    model: Option<String>,
}

impl fmt::Debug for AzureConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("endpoint", &self.endpoint)
            .field("deployment", &self.deployment)
            .field("api_version", &self.api_version)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl AzureConfig {
    /// A resource endpoint (`https://NAME.openai.azure.com`); the deployment
    /// comes with [`AzureConfig::with_deployment`] or the builder's `build`.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            api_key: None,
            endpoint: endpoint.into(),
            deployment: String::new(),
            api_version: AZURE_DEFAULT_API_VERSION.to_string(),
            model: None,
        }
    }

    /// Reads `AZURE_OPENAI_API_KEY`, `AZURE_OPENAI_ENDPOINT`,
    /// `OPENAI_API_VERSION` (or `AZURE_OPENAI_API_VERSION`) and
    /// `AZURE_OPENAI_MODEL` (the model the deployment runs).
    pub fn from_env() -> Self {
        Self::from_vars(env_var)
    }

    /// Like [`AzureConfig::from_env`], reading variables through `lookup`.
    ///
    /// ```
    /// let config = msgflux_openai::AzureConfig::from_vars(|name| match name {
    ///     "AZURE_OPENAI_ENDPOINT" => Some("https://acme.openai.azure.com".to_string()),
    ///     "OPENAI_API_VERSION" => Some("2025-04-01-preview".to_string()),
    ///     _ => None,
    /// });
    /// assert_eq!(config.endpoint(), "https://acme.openai.azure.com");
    /// ```
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Self {
            api_key: get("AZURE_OPENAI_API_KEY").map(SecretString::from),
            endpoint: get("AZURE_OPENAI_ENDPOINT").unwrap_or_default(),
            deployment: String::new(),
            api_version: get("OPENAI_API_VERSION")
                .or_else(|| get("AZURE_OPENAI_API_VERSION"))
                .unwrap_or_else(|| AZURE_DEFAULT_API_VERSION.to_string()),
            model: get("AZURE_OPENAI_MODEL"),
        }
    }

    /// Sets the API key (sent as `api-key`).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Sets the resource endpoint.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// Sets the deployment name (the `azure/<deployment>` part of a model id).
    pub fn with_deployment(mut self, deployment: impl Into<String>) -> Self {
        self.deployment = deployment.into();
        self
    }

    /// Sets the `api-version` query parameter.
    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// Sets the model the deployment runs (`gpt-image-1`), which picks the capability table.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The resource endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The deployment name.
    pub fn deployment(&self) -> &str {
        &self.deployment
    }

    /// The model whose rules apply: the configured model, else the deployment name.
    pub fn model(&self) -> &str {
        self.model.as_deref().unwrap_or(&self.deployment)
    }

    /// Whether an API key is set.
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }
}

impl Config for AzureConfig {
    fn provider(&self) -> &'static str {
        crate::AZURE_SCHEME
    }

    fn edits_url(&self) -> Result<Url> {
        if self.endpoint.trim().is_empty() {
            return Err(Error::config(
                "Azure OpenAI needs an endpoint: set AZURE_OPENAI_ENDPOINT or the base URL (https://NAME.openai.azure.com)",
            ));
        }
        if self.deployment.trim().is_empty() {
            return Err(Error::config(
                "Azure OpenAI needs a deployment name (`azure/<deployment>`)",
            ));
        }
        let base = http::base_url(&self.endpoint, "Azure endpoint")?;
        let mut url = http::join_path(&base, &["openai", "deployments", &self.deployment, "images", "edits"])?;
        url.query_pairs_mut().append_pair("api-version", &self.api_version);
        Ok(url)
    }

    fn headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let (name, value) = (
                HeaderName::from_static("api-key"),
                secret_value(key.expose_secret(), "Azure API key")?,
            );
            headers.insert(name, value);
        }
        Ok(headers)
    }

    fn sends_model_field(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!("{} (deployment {})", self.endpoint, self.deployment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn from_vars_reads_the_four_openai_variables() {
        let config = OpenAIConfig::from_vars(vars(&[
            ("OPENAI_API_KEY", "sk-test"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
            ("OPENAI_ORG_ID", "org_1"),
            ("OPENAI_PROJECT_ID", "proj_1"),
        ]));
        let headers = config.headers().expect("headers");
        assert_eq!(headers["authorization"], "Bearer sk-test");
        assert_eq!(headers["openai-organization"], "org_1");
        assert_eq!(headers["openai-project"], "proj_1");
        assert_eq!(config.base_url(), "http://127.0.0.1:1/v1");
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let config = OpenAIConfig::from_vars(vars(&[("OPENAI_API_KEY", " "), ("OPENAI_BASE_URL", "")]));
        assert!(!config.has_api_key());
        assert_eq!(config.base_url(), OPENAI_BASE_URL);
        assert!(config.is_official());
    }

    #[test]
    fn the_key_header_is_marked_sensitive() {
        let headers = OpenAIConfig::new().with_api_key("sk-x").headers().expect("headers");
        assert!(headers["authorization"].is_sensitive());
        let headers = AzureConfig::new("https://a.openai.azure.com")
            .with_deployment("d")
            .with_api_key("k")
            .headers()
            .expect("headers");
        assert!(headers["api-key"].is_sensitive());
    }

    #[test]
    fn a_trailing_slash_on_the_base_url_does_not_double_the_slash() {
        let config = OpenAIConfig::new().with_base_url("http://localhost:8080/v1/");
        assert_eq!(
            config.edits_url().expect("url").as_str(),
            "http://localhost:8080/v1/images/edits"
        );
    }

    #[test]
    fn a_base_url_without_http_is_a_config_error() {
        let err = OpenAIConfig::new()
            .with_base_url("ftp://example.com")
            .edits_url()
            .expect_err("bad scheme");
        assert!(matches!(err, Error::Config { .. }), "{err}");
        assert!(err.to_string().contains("http://"), "{err}");
    }

    #[test]
    fn azure_without_an_endpoint_says_which_variable_to_set() {
        let err = AzureConfig::from_vars(vars(&[]))
            .with_deployment("d")
            .edits_url()
            .expect_err("no endpoint");
        assert!(err.to_string().contains("AZURE_OPENAI_ENDPOINT"), "{err}");
    }

    #[test]
    fn azure_reads_the_api_version_and_model_from_the_environment() {
        let config = AzureConfig::from_vars(vars(&[
            ("AZURE_OPENAI_ENDPOINT", "https://acme.openai.azure.com/"),
            ("AZURE_OPENAI_API_VERSION", "2025-06-01"),
            ("AZURE_OPENAI_MODEL", "gpt-image-1-mini"),
        ]))
        .with_deployment("prod");
        assert_eq!(
            config.edits_url().expect("url").as_str(),
            "https://acme.openai.azure.com/openai/deployments/prod/images/edits?api-version=2025-06-01"
        );
        assert_eq!(config.model(), "gpt-image-1-mini");
        assert!(!config.sends_model_field());
    }
}
