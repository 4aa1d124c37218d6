//! [`ReplicateBuilder`]: everything a [`ReplicateProvider`] needs besides the model id.

use std::fmt;
use std::time::Duration;

use msgflux_core::kit::{ProviderConfig, SecretString};
use msgflux_core::{Error, MaskConvention, Result, RetryPolicy};

use crate::config::{ReplicateConfig, ReplicateSettings};
use crate::provider::ReplicateProvider;

/// Settings a provider instance runs with (the builder's values, checked).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Time limit for one HTTP answer (on top of the `Prefer: wait` hold for creates).
    pub(crate) timeout: Duration,
    /// How long the create call asks Replicate to hold the answer (`Prefer: wait=N`).
    pub(crate) prefer_wait: Option<Duration>,
    /// First pause between polls.
    pub(crate) poll_initial: Duration,
    /// Longest pause between polls.
    pub(crate) poll_max: Duration,
    /// How long a prediction may take when the request sets no timeout.
    pub(crate) deadline: Duration,
    /// Inputs up to this many bytes go inline as data URIs; larger ones are uploaded.
    pub(crate) upload_threshold: usize,
    /// Largest output file downloaded for `base64` results.
    pub(crate) max_output_bytes: u64,
    /// Mask convention for models mapped from their schema; overrides their description.
    pub(crate) mask_convention: Option<MaskConvention>,
    /// Retry policy for every HTTP call.
    pub(crate) retry: RetryPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            prefer_wait: Some(Duration::from_secs(60)),
            poll_initial: Duration::from_millis(500),
            poll_max: Duration::from_secs(5),
            deadline: Duration::from_secs(15 * 60),
            upload_threshold: 256 * 1024,
            max_output_bytes: 64 * 1024 * 1024,
            mask_convention: None,
            retry: RetryPolicy::default(),
        }
    }
}

/// Builds a [`ReplicateProvider`] for one model.
///
/// Defaults: token and base URL from the environment (`REPLICATE_API_TOKEN`,
/// `REPLICATE_BASE_URL`), `Prefer: wait=60`, polls every 0.5 s growing to 5 s,
/// a 15-minute deadline for requests without a timeout, 60 s per HTTP answer,
/// inputs above 256 KB uploaded through the files API, core's default
/// [`RetryPolicy`] (the create call is resent only after a 429 or a
/// connection that failed before sending).
///
/// ```
/// use std::time::Duration;
/// use msgflux_replicate::ReplicateBuilder;
/// let provider = ReplicateBuilder::new()
///     .with_api_token("r8_example")
///     .with_base_url("http://127.0.0.1:8080/v1")
///     .with_poll_interval(Duration::from_millis(250), Duration::from_secs(2))
///     .with_deadline(Duration::from_secs(300))
///     .build("black-forest-labs/flux-fill-pro")
///     .unwrap();
/// assert_eq!(provider.to_string(), "replicate/black-forest-labs/flux-fill-pro");
/// ```
#[derive(Clone, Default)]
pub struct ReplicateBuilder {
    config: ReplicateConfig,
    http_client: Option<reqwest::Client>,
    settings: Settings,
}

impl fmt::Debug for ReplicateBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplicateBuilder")
            .field("config", &self.config)
            .field("http_client", &self.http_client.as_ref().map(|_| "<client>"))
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ReplicateBuilder {
    /// A builder with the defaults and nothing read from the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with the token and base URL read from the environment.
    ///
    /// ```
    /// let builder = msgflux_replicate::ReplicateBuilder::from_env();
    /// # let _ = builder;
    /// ```
    pub fn from_env() -> Self {
        Self {
            config: ReplicateConfig::from_env(),
            ..Self::default()
        }
    }

    /// A builder from the registry's [`ProviderConfig`]: its fields override the
    /// environment, and its `settings` may hold `prefer_wait_secs` (0 turns
    /// the hold off), `poll_interval_ms`, `max_poll_interval_ms`,
    /// `deadline_secs`, `upload_threshold_bytes` and `mask_convention`
    /// (`white_is_edit`, `black_is_edit`, `transparent_is_edit`): see
    /// [`ReplicateSettings`]. Other keys are errors.
    ///
    /// ```
    /// use msgflux_core::kit::ProviderConfig;
    /// let config = ProviderConfig::default().with_api_key("r8_x").with_setting("poll_interval_ms", "100");
    /// assert!(msgflux_replicate::ReplicateBuilder::from_provider_config(&config).is_ok());
    /// let bad = ProviderConfig::default().with_setting("pol_interval", "100");
    /// assert!(msgflux_replicate::ReplicateBuilder::from_provider_config(&bad).is_err());
    /// ```
    pub fn from_provider_config(config: &ProviderConfig) -> Result<Self> {
        let mut builder = Self::from_env();
        if let Some(key) = &config.api_key {
            builder.config.api_token = Some(key.clone());
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
        let settings: ReplicateSettings = config.settings_as("replicate")?;
        if let Some(secs) = settings.prefer_wait_secs {
            builder.settings.prefer_wait = (secs > 0).then(|| Duration::from_secs(secs));
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
        if let Some(bytes) = settings.upload_threshold_bytes {
            builder.settings.upload_threshold = bytes;
        }
        if let Some(convention) = settings.mask_convention {
            builder.settings.mask_convention = Some(convention);
        }
        Ok(builder)
    }

    /// Sets the API token.
    pub fn with_api_token(mut self, token: impl Into<String>) -> Self {
        self.config.api_token = Some(SecretString::from(token.into()));
        self
    }

    /// Sets the base URL, including `/v1` (`http://127.0.0.1:8080/v1` for an emulator).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = Some(url.into());
        self
    }

    /// Replaces the token and base URL.
    pub fn with_config(mut self, config: ReplicateConfig) -> Self {
        self.config = config;
        self
    }

    /// Uses this HTTP client (connection pool, proxies, TLS settings).
    ///
    /// Build it from [`msgflux_core::kit::http::client_builder`], which installs the
    /// rustls provider this workspace compiles (ring).
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Time limit for one HTTP answer (default 60 s). The create call may
    /// take this long on top of its `Prefer: wait` hold.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// Retry policy for every HTTP call. The create call is billable, so it
    /// is resent only when the policy says the work was certainly not done.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.settings.retry = retry;
        self
    }

    /// How long the create call asks Replicate to hold its answer until the
    /// prediction finishes (`Prefer: wait=N`, 1 to 60 s; default 60).
    /// `None` turns the hold off: the create answers at once and polling does the rest.
    pub fn with_prefer_wait(mut self, wait: Option<Duration>) -> Self {
        self.settings.prefer_wait = wait;
        self
    }

    /// Pause between polls: `initial`, growing by half each poll up to `max`
    /// (defaults 0.5 s and 5 s).
    pub fn with_poll_interval(mut self, initial: Duration, max: Duration) -> Self {
        self.settings.poll_initial = initial;
        self.settings.poll_max = max;
        self
    }

    /// How long a prediction may run when the request sets no timeout
    /// (default 15 minutes). Sent as `Cancel-After`; the prediction is
    /// cancelled when it passes.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.settings.deadline = deadline;
        self
    }

    /// Inputs up to this many bytes are sent inline as data URIs (default
    /// 256 KB, Replicate's advice); larger ones go through the files API.
    pub fn with_upload_threshold(mut self, bytes: usize) -> Self {
        self.settings.upload_threshold = bytes;
        self
    }

    /// Largest output file downloaded for `base64` results (default 64 MB).
    pub fn with_max_output_bytes(mut self, bytes: u64) -> Self {
        self.settings.max_output_bytes = bytes;
        self
    }

    /// The mask convention of models mapped from their schema. It replaces
    /// what the schema's description of the mask says (without either, white = edit).
    pub fn with_mask_convention(mut self, convention: MaskConvention) -> Self {
        self.settings.mask_convention = Some(convention);
        self
    }

    /// Builds the provider for `model`: `owner/name`, `owner/name:version`
    /// or `deployments/owner/name`.
    pub fn build(self, model: &str) -> Result<ReplicateProvider> {
        let settings = self.settings;
        if settings.poll_initial.is_zero() || settings.poll_max < settings.poll_initial {
            return Err(Error::config(format!(
                "the poll interval must be above zero and at most its maximum (got {:?} growing to {:?})",
                settings.poll_initial, settings.poll_max
            )));
        }
        if let Some(wait) = settings.prefer_wait
            && !(1..=60).contains(&wait.as_secs())
        {
            return Err(Error::config(format!(
                "`Prefer: wait` must be between 1 and 60 seconds, got {wait:?}"
            )));
        }
        if settings.deadline.is_zero() || settings.timeout.is_zero() {
            return Err(Error::config("the deadline and the HTTP timeout must be above zero"));
        }
        let token = self.config.require_token()?;
        let base_url = self.config.parsed_base_url()?;
        let http = match self.http_client {
            Some(client) => client,
            None => msgflux_core::kit::http::client_builder()
                .connect_timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::limited(5))
                .build()
                .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?,
        };
        ReplicateProvider::new(model, http, base_url, token, settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_config_fields_override_the_environment() {
        let config = ProviderConfig::default()
            .with_api_key("r8_secret")
            .with_base_url("http://127.0.0.1:1/v1")
            .with_setting("prefer_wait_secs", "0");
        let builder = ReplicateBuilder::from_provider_config(&config).expect("builder");
        assert_eq!(builder.config.base_url(), "http://127.0.0.1:1/v1");
        assert_eq!(builder.settings.prefer_wait, None);
        assert!(!format!("{builder:?}").contains("r8_secret"));
    }

    #[test]
    fn an_unknown_setting_lists_the_accepted_ones() {
        let config = ProviderConfig::default().with_setting("deadline", "5");
        let err = ReplicateBuilder::from_provider_config(&config).expect_err("unknown key");
        assert!(err.to_string().contains("`deadline_secs`"), "{err}");
    }

    #[test]
    fn a_wait_above_sixty_seconds_is_refused() {
        let err = ReplicateBuilder::new()
            .with_api_token("r8")
            .with_prefer_wait(Some(Duration::from_secs(61)))
            .build("google/nano-banana")
            .expect_err("wait too long");
        assert!(err.to_string().contains("between 1 and 60"), "{err}");
    }

    #[test]
    fn building_without_a_token_is_a_configuration_error() {
        let err = ReplicateBuilder::new()
            .build("google/nano-banana")
            .expect_err("no token");
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
    }
}
