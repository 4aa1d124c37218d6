//! Where to reach BFL and with which key, the regional endpoints, and the
//! typed settings.

use std::fmt;
use std::path::PathBuf;

use msgflux_core::kit::SecretString;
use msgflux_core::{Error, Result};
use serde::Deserialize;

/// The environment variable holding the API key (sent as the `x-key` header).
pub const API_KEY_ENV: &str = "BFL_API_KEY";

/// The environment variable that overrides the base URL (an emulator, a proxy).
pub const BASE_URL_ENV: &str = "BFL_BASE_URL";

/// BFL's global endpoint (requests are routed to any of its clusters).
pub const DEFAULT_BASE_URL: &str = "https://api.bfl.ai";

/// BFL's regional endpoints (docs.bfl.ai, "Integration guidelines").
///
/// ```
/// use msgflux_bfl::Region;
/// assert_eq!(Region::Eu.base_url(), "https://api.eu.bfl.ai");
/// assert_eq!(Region::default().base_url(), msgflux_bfl::DEFAULT_BASE_URL);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Region {
    /// `api.bfl.ai`: global, with failover between clusters.
    #[default]
    Global,
    /// `api.eu.bfl.ai`: requests stay in the EU.
    Eu,
    /// `api.us.bfl.ai`: requests stay in the US.
    Us,
    /// `api.eu1.bfl.ai`: the legacy single EU cluster (finetunes).
    Eu1,
    /// `api.us1.bfl.ai`: the legacy single US cluster (finetunes).
    Us1,
}

impl Region {
    /// The endpoint's base URL.
    pub fn base_url(self) -> &'static str {
        match self {
            Self::Global => DEFAULT_BASE_URL,
            Self::Eu => "https://api.eu.bfl.ai",
            Self::Us => "https://api.us.bfl.ai",
            Self::Eu1 => "https://api.eu1.bfl.ai",
            Self::Us1 => "https://api.us1.bfl.ai",
        }
    }
}

/// The provider-specific settings (`ProviderConfig::settings`, `--setting
/// key=value`); an unknown key is an error that lists these.
///
/// ```
/// use msgflux_core::kit::ProviderConfig;
/// let config = ProviderConfig::default().with_setting("region", "eu").with_setting("poll_interval_ms", "250");
/// let settings: msgflux_bfl::BflSettings = config.settings_as("bfl")?;
/// assert_eq!(settings.region, Some(msgflux_bfl::Region::Eu));
/// assert_eq!(settings.poll_interval_ms, Some(250));
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BflSettings {
    /// Which endpoint to use (`global`, `eu`, `us`, `eu1`, `us1`); a base URL, when given, wins.
    pub region: Option<Region>,
    /// First pause between polls.
    pub poll_interval_ms: Option<u64>,
    /// Longest pause between polls.
    pub max_poll_interval_ms: Option<u64>,
    /// How long a task may run when the request sets no timeout.
    pub deadline_secs: Option<u64>,
    /// Save `url` results as files in this directory (`file://` URLs) instead of `data:` URLs.
    pub save_dir: Option<PathBuf>,
}

/// The key and where requests go. `Debug` never prints the key.
///
/// ```
/// use msgflux_bfl::{BflConfig, Region};
/// let config = BflConfig::default().with_api_key("bfl_secret").with_region(Region::Us);
/// assert_eq!(config.base_url(), "https://api.us.bfl.ai");
/// assert!(!format!("{config:?}").contains("bfl_secret"));
/// let local = config.with_base_url("http://127.0.0.1:8080/");
/// assert_eq!(local.base_url(), "http://127.0.0.1:8080");
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct BflConfig {
    /// The API key (`BFL_API_KEY`), sent as `x-key`.
    pub api_key: Option<SecretString>,
    /// The base URL without `/v1` (`BFL_BASE_URL`); it wins over the region.
    pub base_url: Option<String>,
    /// The regional endpoint used when no base URL is given.
    pub region: Region,
}

impl fmt::Debug for BflConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BflConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url())
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl BflConfig {
    /// Reads `BFL_API_KEY` and `BFL_BASE_URL`; empty values count as unset.
    ///
    /// ```
    /// let config = msgflux_bfl::BflConfig::from_env();
    /// assert!(config.base_url().starts_with("http"));
    /// ```
    pub fn from_env() -> Self {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            api_key: read(API_KEY_ENV).map(|k| SecretString::from(k.trim().to_string())),
            base_url: read(BASE_URL_ENV),
            region: Region::Global,
        }
    }

    /// Sets the key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Sets the base URL (an emulator, a proxy), without `/v1`.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets the regional endpoint (used when no base URL is given).
    pub fn with_region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// The base URL in use, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.base_url
            .as_deref()
            .unwrap_or(self.region.base_url())
            .trim_end_matches('/')
    }

    /// The key, or a configuration error that says how to provide one.
    pub(crate) fn require_key(&self) -> Result<SecretString> {
        self.api_key.clone().ok_or_else(|| {
            Error::config(format!(
                "no Black Forest Labs API key: set {API_KEY_ENV} (create one at https://dashboard.bfl.ai) or pass one with `api_key`"
            ))
        })
    }

    /// The base URL, parsed and checked.
    pub(crate) fn parsed_base_url(&self) -> Result<url::Url> {
        let text = self.base_url();
        let url = url::Url::parse(text)
            .map_err(|e| Error::config(format!("the BFL base URL `{text}` is not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(Error::config(format!(
                "the BFL base URL `{text}` must be an http or https URL with a host"
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
        let err = BflConfig::default().require_key().expect_err("no key");
        assert!(err.to_string().contains("BFL_API_KEY"), "{err}");
    }

    #[test]
    fn a_base_url_wins_over_the_region() {
        let config = BflConfig::default()
            .with_region(Region::Eu)
            .with_base_url("http://127.0.0.1:9");
        assert_eq!(config.base_url(), "http://127.0.0.1:9");
    }

    #[test]
    fn a_base_url_with_another_scheme_is_a_configuration_error() {
        let err = BflConfig::default()
            .with_base_url("ftp://example.com")
            .parsed_base_url()
            .expect_err("ftp");
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
    }

    #[test]
    fn an_unknown_region_is_refused() {
        let config = msgflux_core::kit::ProviderConfig::default().with_setting("region", "mars");
        let err = config.settings_as::<BflSettings>("bfl").expect_err("mars");
        assert!(err.to_string().contains("mars"), "{err}");
    }
}
