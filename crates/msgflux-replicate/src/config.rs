//! Where to reach Replicate and with which token, and the typed settings.

use std::fmt;

use msgflux_core::kit::SecretString;
use msgflux_core::{Error, MaskConvention, Result};
use serde::Deserialize;

/// The environment variable holding the API token.
pub const TOKEN_ENV: &str = "REPLICATE_API_TOKEN";

/// The environment variable that overrides the base URL (an emulator, a proxy).
pub const BASE_URL_ENV: &str = "REPLICATE_BASE_URL";

/// Replicate's API, version 1.
pub const DEFAULT_BASE_URL: &str = "https://api.replicate.com/v1";

/// The provider-specific settings (`ProviderConfig::settings`, `--setting
/// key=value`); an unknown key is an error that lists these.
///
/// ```
/// use msgflux_core::kit::ProviderConfig;
/// let config = ProviderConfig::default().with_setting("poll_interval_ms", "100").with_setting("mask_convention", "black_is_edit");
/// let settings: msgflux_replicate::ReplicateSettings = config.settings_as("replicate")?;
/// assert_eq!(settings.poll_interval_ms, Some(100));
/// assert_eq!(settings.mask_convention, Some(msgflux_core::MaskConvention::BlackIsEdit));
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReplicateSettings {
    /// How long the create call asks Replicate to hold its answer (`Prefer: wait`); 0 turns the hold off.
    pub prefer_wait_secs: Option<u64>,
    /// First pause between polls.
    pub poll_interval_ms: Option<u64>,
    /// Longest pause between polls.
    pub max_poll_interval_ms: Option<u64>,
    /// How long a prediction may run when the request sets no timeout.
    pub deadline_secs: Option<u64>,
    /// Inputs up to this many bytes go inline as data URIs; larger ones are uploaded.
    pub upload_threshold_bytes: Option<usize>,
    /// Mask convention for models mapped from their schema (`white_is_edit`, `black_is_edit`, `transparent_is_edit`).
    pub mask_convention: Option<MaskConvention>,
}

/// The token and base URL. `Debug` never prints the token.
///
/// ```
/// use msgflux_replicate::ReplicateConfig;
/// let config = ReplicateConfig::default()
///     .with_api_token("r8_secret")
///     .with_base_url("http://127.0.0.1:8080/v1");
/// assert_eq!(config.base_url(), "http://127.0.0.1:8080/v1");
/// assert!(!format!("{config:?}").contains("r8_secret"));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ReplicateConfig {
    /// The API token (`REPLICATE_API_TOKEN`), sent as `Authorization: Bearer ...`.
    pub api_token: Option<SecretString>,
    /// The base URL including `/v1` (`REPLICATE_BASE_URL`); [`DEFAULT_BASE_URL`] when unset.
    pub base_url: Option<String>,
}

impl fmt::Debug for ReplicateConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplicateConfig")
            .field("api_token", &self.api_token.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl ReplicateConfig {
    /// Reads `REPLICATE_API_TOKEN` and `REPLICATE_BASE_URL`; empty values count as unset.
    ///
    /// ```
    /// let config = msgflux_replicate::ReplicateConfig::from_env();
    /// assert!(config.base_url().starts_with("http"));
    /// ```
    pub fn from_env() -> Self {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            api_token: read(TOKEN_ENV).map(|t| SecretString::from(t.trim().to_string())),
            base_url: read(BASE_URL_ENV),
        }
    }

    /// Sets the token.
    pub fn with_api_token(mut self, token: impl Into<String>) -> Self {
        self.api_token = Some(SecretString::from(token.into()));
        self
    }

    /// Sets the base URL (with `/v1`).
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

    /// The token, or a configuration error that says how to provide one.
    pub(crate) fn require_token(&self) -> Result<SecretString> {
        self.api_token.clone().ok_or_else(|| {
            Error::config(format!(
                "no Replicate API token: set {TOKEN_ENV} (see https://replicate.com/account/api-tokens) or pass one with `api_key`"
            ))
        })
    }

    /// The base URL, parsed and checked.
    pub(crate) fn parsed_base_url(&self) -> Result<url::Url> {
        let text = self.base_url();
        let url = url::Url::parse(text)
            .map_err(|e| Error::config(format!("the Replicate base URL `{text}` is not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "the Replicate base URL `{text}` must use http or https"
            )));
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_token_names_the_environment_variable() {
        let err = ReplicateConfig::default().require_token().expect_err("no token");
        assert!(err.to_string().contains("REPLICATE_API_TOKEN"), "{err}");
    }

    #[test]
    fn the_base_url_loses_its_trailing_slash() {
        let config = ReplicateConfig::default().with_base_url("http://127.0.0.1:9/v1/");
        assert_eq!(config.base_url(), "http://127.0.0.1:9/v1");
    }

    #[test]
    fn a_base_url_with_another_scheme_is_a_configuration_error() {
        let err = ReplicateConfig::default()
            .with_base_url("ftp://example.com/v1")
            .parsed_base_url()
            .expect_err("ftp");
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
    }
}
