//! Where to reach Stability AI and with which key, and the typed settings.

use std::fmt;

use msgflux_core::kit::SecretString;
use msgflux_core::{Error, Result};
use serde::Deserialize;

/// The environment variable holding the API key (sent as `authorization: Bearer ...`).
pub const API_KEY_ENV: &str = "STABILITY_API_KEY";

/// The environment variable that overrides the base URL (an emulator, a proxy).
pub const BASE_URL_ENV: &str = "STABILITY_BASE_URL";

/// Stability AI's REST API; paths start with `/v2beta/`.
pub const DEFAULT_BASE_URL: &str = "https://api.stability.ai";

/// The provider-specific settings (`ProviderConfig::settings`, `--setting
/// key=value`); an unknown key is an error that lists these.
///
/// ```
/// use msgflux_core::kit::ProviderConfig;
/// let config = ProviderConfig::default()
///     .with_setting("poll_interval_ms", "250")
///     .with_setting("client_id", "my-app");
/// let settings: msgflux_stability::StabilitySettings = config.settings_as("stability")?;
/// assert_eq!(settings.poll_interval_ms, Some(250));
/// assert_eq!(settings.client_id.as_deref(), Some("my-app"));
/// assert!(ProviderConfig::default().with_setting("poll_ms", "1").settings_as::<msgflux_stability::StabilitySettings>("stability").is_err());
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StabilitySettings {
    /// First pause before polling an asynchronous generation.
    pub poll_interval_ms: Option<u64>,
    /// Longest pause between polls.
    pub max_poll_interval_ms: Option<u64>,
    /// How long an asynchronous generation may take when the request sets no timeout.
    pub deadline_secs: Option<u64>,
    /// Sent as `stability-client-id` (the name of your application, at most 256 characters).
    pub client_id: Option<String>,
    /// Sent as `stability-client-user-id` (an id of your end user, at most 256 characters).
    pub client_user_id: Option<String>,
}

/// The API key and base URL. `Debug` never prints the key.
///
/// ```
/// use msgflux_stability::StabilityConfig;
/// let config = StabilityConfig::default()
///     .with_api_key("sk-secret")
///     .with_base_url("http://127.0.0.1:8080/");
/// assert_eq!(config.base_url(), "http://127.0.0.1:8080");
/// assert!(!format!("{config:?}").contains("sk-secret"));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct StabilityConfig {
    /// The API key (`STABILITY_API_KEY`).
    pub api_key: Option<SecretString>,
    /// The base URL without `/v2beta` (`STABILITY_BASE_URL`); [`DEFAULT_BASE_URL`] when unset.
    pub base_url: Option<String>,
}

impl fmt::Debug for StabilityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StabilityConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl StabilityConfig {
    /// Reads `STABILITY_API_KEY` and `STABILITY_BASE_URL`; empty values count as unset.
    ///
    /// ```
    /// let config = msgflux_stability::StabilityConfig::from_env();
    /// assert!(config.base_url().starts_with("http"));
    /// ```
    pub fn from_env() -> Self {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            api_key: read(API_KEY_ENV).map(|k| SecretString::from(k.trim().to_string())),
            base_url: read(BASE_URL_ENV),
        }
    }

    /// Sets the API key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Sets the base URL (without `/v2beta`).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The base URL in use, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
    }

    /// The key, or a configuration error that says how to provide one.
    pub(crate) fn require_key(&self) -> Result<SecretString> {
        self.api_key.clone().ok_or_else(|| {
            Error::config(format!(
                "no Stability AI API key: set {API_KEY_ENV} (see https://platform.stability.ai/account/keys) or pass one with `api_key`"
            ))
        })
    }

    /// The base URL, parsed and checked.
    pub(crate) fn parsed_base_url(&self) -> Result<url::Url> {
        let text = self.base_url();
        let url = url::Url::parse(text)
            .map_err(|e| Error::config(format!("the Stability base URL `{text}` is not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "the Stability base URL `{text}` must use http or https"
            )));
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_names_the_environment_variable() {
        let err = StabilityConfig::default().require_key().expect_err("no key");
        assert!(err.to_string().contains("STABILITY_API_KEY"), "{err}");
    }

    #[test]
    fn a_base_url_with_another_scheme_is_a_configuration_error() {
        let err = StabilityConfig::default()
            .with_base_url("ftp://example.com")
            .parsed_base_url()
            .expect_err("ftp");
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
    }
}
