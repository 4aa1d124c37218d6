//! Where to reach fal and with which key, and the typed settings.

use std::fmt;

use msgflux_core::kit::SecretString;
use msgflux_core::{Error, MaskConvention, Result};
use serde::Deserialize;

/// The environment variable holding the API key (sent as `Authorization: Key ...`).
pub const KEY_ENV: &str = "FAL_KEY";

/// The environment variable that points every fal service at one origin (an emulator, a proxy).
pub const BASE_URL_ENV: &str = "FAL_BASE_URL";

/// fal's queue: submit, status, result, cancel.
pub const DEFAULT_QUEUE_URL: &str = "https://queue.fal.run";

/// fal's REST API, which hosts the storage upload (`/storage/upload/initiate`).
pub const DEFAULT_STORAGE_URL: &str = "https://rest.fal.ai";

/// fal's Platform API, which publishes each app's OpenAPI schema (`/models?expand=openapi-3.0`).
pub const DEFAULT_PLATFORM_URL: &str = "https://api.fal.ai/v1";

/// The provider-specific settings (`ProviderConfig::settings`, `--setting
/// key=value`); an unknown key is an error that lists these.
///
/// ```
/// use msgflux_core::kit::ProviderConfig;
/// let config = ProviderConfig::default().with_setting("poll_interval_ms", "100").with_setting("priority", "low");
/// let settings: msgflux_fal::FalSettings = config.settings_as("fal")?;
/// assert_eq!(settings.poll_interval_ms, Some(100));
/// assert_eq!(settings.priority.as_deref(), Some("low"));
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FalSettings {
    /// First pause between status polls.
    pub poll_interval_ms: Option<u64>,
    /// Longest pause between status polls.
    pub max_poll_interval_ms: Option<u64>,
    /// How long a request may wait and run when the request sets no timeout.
    pub deadline_secs: Option<u64>,
    /// Inputs up to this many bytes go inline as data URIs; larger ones are uploaded to fal storage.
    pub upload_threshold_bytes: Option<usize>,
    /// Uploads above this many bytes go in parts (default 90 MiB, as fal's client does).
    pub multipart_threshold_bytes: Option<usize>,
    /// The size of each part of a multipart upload (default 10 MiB).
    pub part_bytes: Option<usize>,
    /// Mask convention for apps mapped from their schema (`white_is_edit`, `black_is_edit`, `transparent_is_edit`).
    pub mask_convention: Option<MaskConvention>,
    /// Queue priority (`x-fal-queue-priority`): `normal` or `low`.
    pub priority: Option<String>,
    /// The storage API's base URL (default `https://rest.fal.ai`, or `FAL_BASE_URL`).
    pub storage_url: Option<String>,
    /// The Platform API's base URL (default `https://api.fal.ai/v1`, or `FAL_BASE_URL` + `/v1`).
    pub platform_url: Option<String>,
}

/// The key and the three base URLs. `Debug` never prints the key.
///
/// ```
/// use msgflux_fal::FalConfig;
/// let config = FalConfig::default().with_api_key("fal-secret").with_base_url("http://127.0.0.1:8080");
/// assert_eq!(config.queue_url(), "http://127.0.0.1:8080");
/// assert_eq!(config.storage_url(), "http://127.0.0.1:8080");
/// assert_eq!(config.platform_url(), "http://127.0.0.1:8080/v1");
/// assert!(!format!("{config:?}").contains("fal-secret"));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct FalConfig {
    /// The API key (`FAL_KEY`).
    pub api_key: Option<SecretString>,
    /// One origin for every service (`FAL_BASE_URL`): queue at `/`, storage at `/storage`, platform at `/v1`.
    pub base_url: Option<String>,
    /// The storage API's base URL, when it differs.
    pub storage_url: Option<String>,
    /// The Platform API's base URL, when it differs.
    pub platform_url: Option<String>,
}

impl fmt::Debug for FalConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FalConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("queue_url", &self.queue_url())
            .field("storage_url", &self.storage_url())
            .field("platform_url", &self.platform_url())
            .finish_non_exhaustive()
    }
}

impl FalConfig {
    /// Reads `FAL_KEY` and `FAL_BASE_URL`; empty values count as unset.
    ///
    /// ```
    /// let config = msgflux_fal::FalConfig::from_env();
    /// assert!(config.queue_url().starts_with("http"));
    /// ```
    pub fn from_env() -> Self {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            api_key: read(KEY_ENV).map(|k| SecretString::from(k.trim().to_string())),
            base_url: read(BASE_URL_ENV),
            ..Self::default()
        }
    }

    /// Sets the key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Points every service at one origin (an emulator, a proxy).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    fn base(&self) -> Option<&str> {
        self.base_url.as_deref().map(|b| b.trim_end_matches('/'))
    }

    /// The queue's base URL, without a trailing slash.
    pub fn queue_url(&self) -> String {
        self.base().unwrap_or(DEFAULT_QUEUE_URL).to_string()
    }

    /// The storage API's base URL, without a trailing slash.
    pub fn storage_url(&self) -> String {
        match (&self.storage_url, self.base()) {
            (Some(url), _) => url.trim_end_matches('/').to_string(),
            (None, Some(base)) => base.to_string(),
            (None, None) => DEFAULT_STORAGE_URL.to_string(),
        }
    }

    /// The Platform API's base URL, without a trailing slash.
    pub fn platform_url(&self) -> String {
        match (&self.platform_url, self.base()) {
            (Some(url), _) => url.trim_end_matches('/').to_string(),
            (None, Some(base)) => format!("{base}/v1"),
            (None, None) => DEFAULT_PLATFORM_URL.to_string(),
        }
    }

    /// The key, or a configuration error that says how to provide one.
    pub(crate) fn require_key(&self) -> Result<SecretString> {
        self.api_key.clone().ok_or_else(|| {
            Error::config(format!(
                "no fal API key: set {KEY_ENV} (see https://fal.ai/dashboard/keys) or pass one with `api_key`"
            ))
        })
    }

    /// The three base URLs, parsed and checked: (queue, storage, platform).
    pub(crate) fn parsed_urls(&self) -> Result<(url::Url, url::Url, url::Url)> {
        Ok((
            parse("queue", &self.queue_url())?,
            parse("storage", &self.storage_url())?,
            parse("platform", &self.platform_url())?,
        ))
    }
}

fn parse(what: &str, text: &str) -> Result<url::Url> {
    let url = url::Url::parse(text)
        .map_err(|e| Error::config(format!("the fal {what} URL `{text}` is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "the fal {what} URL `{text}` must use http or https"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_names_the_environment_variable() {
        let err = FalConfig::default().require_key().expect_err("no key");
        assert!(err.to_string().contains("FAL_KEY"), "{err}");
    }

    #[test]
    fn the_real_services_are_the_defaults() {
        let config = FalConfig::default();
        assert_eq!(config.queue_url(), DEFAULT_QUEUE_URL);
        assert_eq!(config.storage_url(), DEFAULT_STORAGE_URL);
        assert_eq!(config.platform_url(), DEFAULT_PLATFORM_URL);
    }

    #[test]
    fn a_base_url_with_another_scheme_is_a_configuration_error() {
        let err = FalConfig::default()
            .with_base_url("ftp://example.com")
            .parsed_urls()
            .expect_err("ftp");
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
    }
}
