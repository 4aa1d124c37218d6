//! Where requests go and how they authenticate: the Gemini API (an API key
//! in `x-goog-api-key`) or Vertex AI (a project, a location and an OAuth
//! bearer token), and the typed settings of `--setting key=value`.

use std::fmt;

use msgflux_core::kit::http::{self, secret_value};
use msgflux_core::kit::{ExposeSecret as _, SecretString};
use msgflux_core::{Error, Result};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName};
use serde::Deserialize;
use url::Url;

/// The public Gemini API.
pub const GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// The Vertex AI location used when none is configured (`global` serves
/// every Gemini image model, including previews).
pub const VERTEX_DEFAULT_LOCATION: &str = "global";

/// How a mask reaches a Gemini model, which takes no mask.
///
/// By default ([`MaskHint::None`]) the mask is not sent: the model edits the
/// whole picture and the keep-unmasked step pastes the original back outside
/// the mask. With a hint, the mask is also drawn on a copy of the first
/// image, sent as one more input image with a sentence saying what it marks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MaskHint {
    /// The mask is not sent (the default); keep-unmasked applies.
    #[default]
    None,
    /// The area to edit tinted red on an extra input image.
    Tint,
    /// The area to edit outlined in red on an extra input image.
    Outline,
}

impl fmt::Display for MaskHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Tint => "tint",
            Self::Outline => "outline",
        })
    }
}

/// The provider-specific settings (`ProviderConfig::settings`, `--setting
/// key=value`). An unknown key is an error that lists these.
///
/// ```
/// use msgflux_core::kit::ProviderConfig;
/// use msgflux_google::{GoogleSettings, MaskHint};
/// let config = ProviderConfig::default().with_setting("mask_hint", "tint");
/// let settings: GoogleSettings = config.settings_as("google")?;
/// assert_eq!(settings.mask_hint, Some(MaskHint::Tint));
/// let typo = ProviderConfig::default().with_setting("mask", "tint");
/// let err = typo.settings_as::<GoogleSettings>("google").unwrap_err();
/// assert!(err.to_string().contains("`mask_hint`"), "{err}");
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GoogleSettings {
    /// How a mask reaches the model: `none` (default), `tint` or `outline`.
    pub mask_hint: Option<MaskHint>,
    /// `true`: Vertex AI instead of the Gemini API (also `GOOGLE_GENAI_USE_VERTEXAI=true`).
    pub vertex: Option<bool>,
    /// Vertex AI: the Google Cloud project (also `GOOGLE_CLOUD_PROJECT`).
    pub project: Option<String>,
    /// Vertex AI: the location (also `GOOGLE_CLOUD_LOCATION`; default `global`).
    pub location: Option<String>,
    /// Gemini API: input images above this many bytes in total go through the Files API.
    pub inline_limit: Option<u64>,
}

/// Reads an environment variable, treating an empty value as unset.
pub(crate) fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The Gemini API (`generativelanguage.googleapis.com`), or a server that
/// speaks it (an emulator, a proxy).
///
/// The key goes in the `x-goog-api-key` header, never in the URL. `Debug`
/// never prints it.
///
/// ```
/// use msgflux_google::GeminiConfig;
/// let config = GeminiConfig::new().with_api_key("AIza-secret").with_base_url("http://127.0.0.1:9");
/// assert_eq!(
///     config.generate_url("gemini-2.5-flash-image").unwrap().as_str(),
///     "http://127.0.0.1:9/v1beta/models/gemini-2.5-flash-image:generateContent"
/// );
/// assert!(!format!("{config:?}").contains("AIza-secret"));
/// ```
#[derive(Clone)]
pub struct GeminiConfig {
    api_key: Option<SecretString>,
    base_url: String,
}

impl fmt::Debug for GeminiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Default for GeminiConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl GeminiConfig {
    /// The public API at [`GEMINI_BASE_URL`], without a key.
    pub fn new() -> Self {
        Self {
            api_key: None,
            base_url: GEMINI_BASE_URL.to_string(),
        }
    }

    /// Reads `GOOGLE_API_KEY` (which wins, as in Google's SDKs) or
    /// `GEMINI_API_KEY`, and `GOOGLE_GEMINI_BASE_URL`.
    ///
    /// ```no_run
    /// let config = msgflux_google::GeminiConfig::from_env();
    /// ```
    pub fn from_env() -> Self {
        Self::from_vars(env_var)
    }

    /// Like [`GeminiConfig::from_env`], reading variables through `lookup`.
    ///
    /// ```
    /// let config = msgflux_google::GeminiConfig::from_vars(|name| match name {
    ///     "GEMINI_API_KEY" => Some("k".to_string()),
    ///     "GOOGLE_GEMINI_BASE_URL" => Some("http://127.0.0.1:9".to_string()),
    ///     _ => None,
    /// });
    /// assert!(config.has_api_key());
    /// assert_eq!(config.base_url(), "http://127.0.0.1:9");
    /// ```
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Self {
            api_key: get("GOOGLE_API_KEY")
                .or_else(|| get("GEMINI_API_KEY"))
                .map(SecretString::from),
            base_url: get("GOOGLE_GEMINI_BASE_URL").unwrap_or_else(|| GEMINI_BASE_URL.to_string()),
        }
    }

    /// Sets the API key (sent as `x-goog-api-key`).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Sets the base URL (scheme and host, optionally a path prefix; `/v1beta/...` is appended).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
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

    /// Whether requests go to Google's public endpoint (which needs a key).
    pub fn is_official(&self) -> bool {
        http::base_url(&self.base_url, "base URL")
            .map(|u| u.host_str() == Some("generativelanguage.googleapis.com"))
            .unwrap_or(false)
    }

    /// The URL of `models/{model}:generateContent`.
    pub fn generate_url(&self, model: &str) -> Result<Url> {
        let base = http::base_url(&self.base_url, "base URL")?;
        http::join_path(&base, &["v1beta", "models", &format!("{model}:generateContent")])
    }

    /// The URL that starts a resumable Files API upload.
    pub fn upload_url(&self) -> Result<Url> {
        http::join_path(
            &http::base_url(&self.base_url, "base URL")?,
            &["upload", "v1beta", "files"],
        )
    }

    /// The URL of one uploaded file (`files/abc` → `/v1beta/files/abc`).
    pub fn file_url(&self, name: &str) -> Result<Url> {
        let id = name.strip_prefix("files/").unwrap_or(name);
        http::join_path(&http::base_url(&self.base_url, "base URL")?, &["v1beta", "files", id])
    }

    /// The authentication header.
    pub fn headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let (name, value) = (
                HeaderName::from_static("x-goog-api-key"),
                secret_value(key.expose_secret(), "API key")?,
            );
            headers.insert(name, value);
        }
        Ok(headers)
    }
}

/// Vertex AI's endpoint for the same models:
/// `https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`
/// (`aiplatform.googleapis.com` for the `global` location), with
/// `Authorization: Bearer <access token>`.
///
/// The token is an OAuth access token (`gcloud auth print-access-token`),
/// read from `GOOGLE_CLOUD_ACCESS_TOKEN`; msgflux does not mint tokens.
///
/// ```
/// use msgflux_google::VertexConfig;
/// let config = VertexConfig::new("my-project").with_location("us-central1").with_access_token("ya29.secret");
/// assert_eq!(
///     config.generate_url("gemini-2.5-flash-image").unwrap().as_str(),
///     "https://us-central1-aiplatform.googleapis.com/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash-image:generateContent"
/// );
/// assert!(!format!("{config:?}").contains("ya29.secret"));
/// ```
#[derive(Clone)]
pub struct VertexConfig {
    token: Option<SecretString>,
    project: String,
    location: String,
    base_url: Option<String>,
}

impl fmt::Debug for VertexConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VertexConfig")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("project", &self.project)
            .field("location", &self.location)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl VertexConfig {
    /// A project at the default location ([`VERTEX_DEFAULT_LOCATION`]), without a token.
    pub fn new(project: impl Into<String>) -> Self {
        Self {
            token: None,
            project: project.into(),
            location: VERTEX_DEFAULT_LOCATION.to_string(),
            base_url: None,
        }
    }

    /// Reads `GOOGLE_CLOUD_PROJECT`, `GOOGLE_CLOUD_LOCATION`,
    /// `GOOGLE_CLOUD_ACCESS_TOKEN` and `GOOGLE_VERTEX_BASE_URL`.
    pub fn from_env() -> Self {
        Self::from_vars(env_var)
    }

    /// Like [`VertexConfig::from_env`], reading variables through `lookup`.
    ///
    /// ```
    /// let config = msgflux_google::VertexConfig::from_vars(|name| match name {
    ///     "GOOGLE_CLOUD_PROJECT" => Some("p".to_string()),
    ///     _ => None,
    /// });
    /// assert_eq!(config.project(), "p");
    /// assert_eq!(config.location(), "global");
    /// ```
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Self {
            token: get("GOOGLE_CLOUD_ACCESS_TOKEN").map(SecretString::from),
            project: get("GOOGLE_CLOUD_PROJECT").unwrap_or_default(),
            location: get("GOOGLE_CLOUD_LOCATION").unwrap_or_else(|| VERTEX_DEFAULT_LOCATION.to_string()),
            base_url: get("GOOGLE_VERTEX_BASE_URL"),
        }
    }

    /// Sets the OAuth access token (sent as `Authorization: Bearer`).
    pub fn with_access_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// Sets the project.
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.project = project.into();
        self
    }

    /// Sets the location (`global`, `us-central1`, `europe-west4`, ...).
    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        self.location = location.into();
        self
    }

    /// Sets another base URL (an emulator, a private endpoint) instead of the location's host.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The project.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The location.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether an access token is set.
    pub fn has_access_token(&self) -> bool {
        self.token.is_some()
    }

    fn base(&self) -> Result<Url> {
        match &self.base_url {
            Some(url) => http::base_url(url, "Vertex AI base URL"),
            None if self.location == "global" => http::base_url("https://aiplatform.googleapis.com", "Vertex AI host"),
            None => http::base_url(
                &format!("https://{}-aiplatform.googleapis.com", self.location),
                "Vertex AI host",
            ),
        }
    }

    /// The URL of the model's `generateContent`.
    pub fn generate_url(&self, model: &str) -> Result<Url> {
        if self.project.trim().is_empty() {
            return Err(Error::config(
                "Vertex AI needs a project: set GOOGLE_CLOUD_PROJECT or the `project` setting",
            ));
        }
        http::join_path(
            &self.base()?,
            &[
                "v1",
                "projects",
                &self.project,
                "locations",
                &self.location,
                "publishers",
                "google",
                "models",
                &format!("{model}:generateContent"),
            ],
        )
    }

    /// The authentication header.
    pub fn headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        if let Some(token) = &self.token {
            let bearer = format!("Bearer {}", token.expose_secret());
            let (name, value) = (AUTHORIZATION, secret_value(&bearer, "access token")?);
            headers.insert(name, value);
        }
        Ok(headers)
    }
}

/// One of the two configurations.
#[derive(Debug, Clone)]
pub(crate) enum Endpoint {
    Gemini(GeminiConfig),
    Vertex(VertexConfig),
}

impl Endpoint {
    pub(crate) fn generate_url(&self, model: &str) -> Result<Url> {
        match self {
            Self::Gemini(c) => c.generate_url(model),
            Self::Vertex(c) => c.generate_url(model),
        }
    }

    pub(crate) fn headers(&self) -> Result<HeaderMap> {
        match self {
            Self::Gemini(c) => c.headers(),
            Self::Vertex(c) => c.headers(),
        }
    }

    pub(crate) fn is_vertex(&self) -> bool {
        matches!(self, Self::Vertex(_))
    }

    /// Where requests go, for `Display` and messages (never secrets).
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Gemini(c) => c.base_url().to_string(),
            Self::Vertex(c) => format!("Vertex AI {}/{}", c.project(), c.location()),
        }
    }
}
