//! [`BflBuilder`]: everything a [`BflProvider`] needs besides the model id.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use msgflux_core::kit::{ProviderConfig, SecretString};
use msgflux_core::{Error, Result, RetryPolicy};

use crate::config::{BflConfig, BflSettings, Region};
use crate::provider::BflProvider;

/// Settings a provider instance runs with (the builder's values, checked).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Time limit for one HTTP answer.
    pub(crate) timeout: Duration,
    /// First pause between polls.
    pub(crate) poll_initial: Duration,
    /// Longest pause between polls.
    pub(crate) poll_max: Duration,
    /// How long a task may take when the request sets no timeout.
    pub(crate) deadline: Duration,
    /// Largest result file downloaded.
    pub(crate) max_output_bytes: u64,
    /// Where `url` results are saved (`file://` URLs); `data:` URLs when unset.
    pub(crate) save_dir: Option<PathBuf>,
    /// Retry policy for every HTTP call.
    pub(crate) retry: RetryPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            poll_initial: Duration::from_millis(500),
            poll_max: Duration::from_secs(4),
            deadline: Duration::from_secs(10 * 60),
            max_output_bytes: 64 * 1024 * 1024,
            save_dir: None,
            retry: RetryPolicy::default(),
        }
    }
}

/// Builds a [`BflProvider`] for one model.
///
/// Defaults: key and base URL from the environment (`BFL_API_KEY`,
/// `BFL_BASE_URL`, else the global endpoint `https://api.bfl.ai`), polls
/// every 0.5 s growing to 4 s, a 10-minute deadline for requests without a
/// timeout, 60 s per HTTP answer, core's default [`RetryPolicy`] (a submit
/// is resent only after a 429, a 503 that says when to come back, or a
/// connection that failed before sending).
///
/// ```
/// use std::time::Duration;
/// use msgflux_bfl::{BflBuilder, Region};
/// let provider = BflBuilder::new()
///     .with_api_key("bfl_example")
///     .with_region(Region::Eu)
///     .with_poll_interval(Duration::from_millis(250), Duration::from_secs(2))
///     .build("flux-kontext-pro")
///     .unwrap();
/// assert_eq!(provider.to_string(), "bfl/flux-kontext-pro");
/// ```
#[derive(Clone, Default)]
pub struct BflBuilder {
    config: BflConfig,
    http_client: Option<reqwest::Client>,
    settings: Settings,
}

impl fmt::Debug for BflBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BflBuilder")
            .field("config", &self.config)
            .field("http_client", &self.http_client.as_ref().map(|_| "<client>"))
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl BflBuilder {
    /// A builder with the defaults and nothing read from the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with the key and base URL read from the environment.
    ///
    /// ```
    /// let builder = msgflux_bfl::BflBuilder::from_env();
    /// # let _ = builder;
    /// ```
    pub fn from_env() -> Self {
        Self {
            config: BflConfig::from_env(),
            ..Self::default()
        }
    }

    /// A builder from the registry's [`ProviderConfig`]: its fields override
    /// the environment, and its `settings` may hold `region`,
    /// `poll_interval_ms`, `max_poll_interval_ms`, `deadline_secs` and
    /// `save_dir` (see [`BflSettings`]). Other keys are errors.
    ///
    /// ```
    /// use msgflux_core::kit::ProviderConfig;
    /// let config = ProviderConfig::default().with_api_key("k").with_setting("region", "us");
    /// assert!(msgflux_bfl::BflBuilder::from_provider_config(&config).is_ok());
    /// let bad = ProviderConfig::default().with_setting("regio", "us");
    /// assert!(msgflux_bfl::BflBuilder::from_provider_config(&bad).is_err());
    /// ```
    pub fn from_provider_config(config: &ProviderConfig) -> Result<Self> {
        let mut builder = Self::from_env();
        if let Some(key) = &config.api_key {
            builder.config.api_key = Some(key.clone());
        }
        if let Some(url) = &config.base_url {
            builder.config.base_url = Some(url.clone());
        }
        if let Some(client) = &config.http_client {
            builder.http_client = Some(client.clone());
        }
        if let Some(timeout) = config.timeout {
            builder.settings.timeout = timeout;
        }
        if let Some(retry) = &config.retry {
            builder.settings.retry = retry.clone();
        }
        let settings: BflSettings = config.settings_as("bfl")?;
        if let Some(region) = settings.region {
            builder.config.region = region;
        }
        if let Some(ms) = settings.poll_interval_ms {
            builder.settings.poll_initial = Duration::from_millis(ms);
        }
        if let Some(ms) = settings.max_poll_interval_ms {
            builder.settings.poll_max = Duration::from_millis(ms);
        }
        if let Some(secs) = settings.deadline_secs {
            builder.settings.deadline = Duration::from_secs(secs);
        }
        if let Some(dir) = settings.save_dir {
            builder.settings.save_dir = Some(dir);
        }
        Ok(builder)
    }

    /// Sets the API key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Sets the base URL without `/v1` (`http://127.0.0.1:8080` for an emulator); it wins over the region.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = Some(url.into());
        self
    }

    /// Uses a regional endpoint (`api.eu.bfl.ai`, `api.us.bfl.ai`, ...).
    pub fn with_region(mut self, region: Region) -> Self {
        self.config.region = region;
        self
    }

    /// Replaces the key, base URL and region.
    pub fn with_config(mut self, config: BflConfig) -> Self {
        self.config = config;
        self
    }

    /// Uses this HTTP client (connection pool, proxies, TLS settings).
    ///
    /// Build it from [`msgflux_core::kit::http::client_builder`], which
    /// installs the rustls provider this workspace compiles (ring).
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Time limit for one HTTP answer (default 60 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// Retry policy for every HTTP call. A submit is billable, so it is
    /// resent only when the policy says the work was certainly not done.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.settings.retry = retry;
        self
    }

    /// Pause between polls: `initial`, growing by half each poll up to `max`
    /// (defaults 0.5 s and 4 s).
    pub fn with_poll_interval(mut self, initial: Duration, max: Duration) -> Self {
        self.settings.poll_initial = initial;
        self.settings.poll_max = max;
        self
    }

    /// How long a task may run when the request sets no timeout (default
    /// 10 minutes). BFL tasks cannot be cancelled: past the deadline the
    /// call stops waiting, and the task may still finish and be billed.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.settings.deadline = deadline;
        self
    }

    /// Largest result file downloaded (default 64 MB).
    pub fn with_max_output_bytes(mut self, bytes: u64) -> Self {
        self.settings.max_output_bytes = bytes;
        self
    }

    /// Saves `url` results as files in `dir` and returns `file://` URLs
    /// (BFL's own result URLs expire after ten minutes, so they are always
    /// downloaded within the call; without this, `url` results are `data:` URLs).
    pub fn with_save_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.settings.save_dir = Some(dir.into());
        self
    }

    /// Builds the provider for `model` (`flux-kontext-pro`, `flux-pro-1.0-fill`, `flux-2-pro`, ...).
    pub fn build(self, model: &str) -> Result<BflProvider> {
        let settings = self.settings;
        if settings.poll_initial.is_zero() || settings.poll_max < settings.poll_initial {
            return Err(Error::config(format!(
                "the poll interval must be above zero and at most its maximum (got {:?} growing to {:?})",
                settings.poll_initial, settings.poll_max
            )));
        }
        if settings.deadline.is_zero() || settings.timeout.is_zero() {
            return Err(Error::config("the deadline and the HTTP timeout must be above zero"));
        }
        let key = self.config.require_key()?;
        let base_url = self.config.parsed_base_url()?;
        let http = match self.http_client {
            Some(client) => client,
            None => msgflux_core::kit::http::client_builder()
                .connect_timeout(Duration::from_secs(5))
                // Polling URLs and results are followed by hand, host by host.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?,
        };
        BflProvider::new(model, http, base_url, key, settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_config_fields_override_the_environment() {
        let config = ProviderConfig::default()
            .with_api_key("bfl_secret")
            .with_base_url("http://127.0.0.1:1")
            .with_setting("deadline_secs", "30");
        let builder = BflBuilder::from_provider_config(&config).expect("builder");
        assert_eq!(builder.config.base_url(), "http://127.0.0.1:1");
        assert_eq!(builder.settings.deadline, Duration::from_secs(30));
        assert!(!format!("{builder:?}").contains("bfl_secret"));
    }

    #[test]
    fn an_unknown_setting_lists_the_accepted_ones() {
        let config = ProviderConfig::default().with_setting("deadline", "5");
        let err = BflBuilder::from_provider_config(&config).expect_err("unknown key");
        assert!(err.to_string().contains("`deadline_secs`"), "{err}");
    }

    #[test]
    fn building_without_a_key_is_a_configuration_error() {
        let err = BflBuilder::new().build("flux-2-pro").expect_err("no key");
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
    }

    #[test]
    fn a_poll_interval_of_zero_is_refused() {
        let err = BflBuilder::new()
            .with_api_key("k")
            .with_poll_interval(Duration::ZERO, Duration::from_secs(1))
            .build("flux-2-pro")
            .expect_err("zero");
        assert!(err.to_string().contains("poll interval"), "{err}");
    }
}
