//! [`FalBuilder`]: everything a [`FalProvider`] needs besides the model id.

use std::fmt;
use std::time::Duration;

use msgflux_core::kit::{ProviderConfig, SecretString};
use msgflux_core::{Error, MaskConvention, Result, RetryPolicy};

use crate::config::{FalConfig, FalSettings};
use crate::provider::FalProvider;

/// Settings a provider instance runs with (the builder's values, checked).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Time limit for one HTTP answer.
    pub(crate) timeout: Duration,
    /// First pause between status polls.
    pub(crate) poll_initial: Duration,
    /// Longest pause between status polls.
    pub(crate) poll_max: Duration,
    /// How long a request may wait in the queue and run when the request sets no timeout.
    pub(crate) deadline: Duration,
    /// Inputs up to this many bytes go inline as data URIs; larger ones are uploaded.
    pub(crate) upload_threshold: usize,
    /// Uploads above this many bytes go in parts (fal's client: 90 MB).
    pub(crate) multipart_threshold: usize,
    /// The size of each part of a multipart upload (fal's client: 10 MB).
    pub(crate) part_size: usize,
    /// Largest result file downloaded.
    pub(crate) max_output_bytes: u64,
    /// Mask convention for apps mapped from their schema.
    pub(crate) mask_convention: Option<MaskConvention>,
    /// `x-fal-queue-priority`.
    pub(crate) priority: Option<String>,
    /// Retry policy for every HTTP call.
    pub(crate) retry: RetryPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            poll_initial: Duration::from_millis(250),
            poll_max: Duration::from_secs(3),
            deadline: Duration::from_secs(10 * 60),
            upload_threshold: 256 * 1024,
            multipart_threshold: 90 * 1024 * 1024,
            part_size: 10 * 1024 * 1024,
            max_output_bytes: 64 * 1024 * 1024,
            mask_convention: None,
            priority: None,
            retry: RetryPolicy::default(),
        }
    }
}

/// Builds a [`FalProvider`] for one app.
///
/// Defaults: key from `FAL_KEY`, the real fal services (or one origin from
/// `FAL_BASE_URL`), status polled every 0.25 s growing to 3 s, a 10-minute
/// deadline for requests without a timeout, 60 s per HTTP answer, inputs
/// above 256 KB uploaded to fal storage, core's default [`RetryPolicy`] (the
/// submit is billable: resent only after a 429, a 503 with `retry-after`, an
/// explicit `X-Fal-Retryable: true`, or a connection that failed before sending).
///
/// ```
/// use std::time::Duration;
/// use msgflux_fal::FalBuilder;
/// let provider = FalBuilder::new()
///     .with_api_key("fal-example")
///     .with_base_url("http://127.0.0.1:8080")
///     .with_poll_interval(Duration::from_millis(100), Duration::from_secs(1))
///     .with_deadline(Duration::from_secs(300))
///     .build("fal-ai/flux-pro/v1/fill")
///     .unwrap();
/// assert_eq!(provider.to_string(), "fal/fal-ai/flux-pro/v1/fill");
/// ```
#[derive(Clone, Default)]
pub struct FalBuilder {
    config: FalConfig,
    http_client: Option<reqwest::Client>,
    settings: Settings,
}

impl fmt::Debug for FalBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FalBuilder")
            .field("config", &self.config)
            .field("http_client", &self.http_client.as_ref().map(|_| "<client>"))
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl FalBuilder {
    /// A builder with the defaults and nothing read from the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with the key and base URL read from the environment.
    ///
    /// ```
    /// let builder = msgflux_fal::FalBuilder::from_env();
    /// # let _ = builder;
    /// ```
    pub fn from_env() -> Self {
        Self {
            config: FalConfig::from_env(),
            ..Self::default()
        }
    }

    /// A builder from the registry's [`ProviderConfig`]: its fields override
    /// the environment, and its `settings` may hold the keys of
    /// [`FalSettings`]. Other keys are errors.
    ///
    /// ```
    /// use msgflux_core::kit::ProviderConfig;
    /// let config = ProviderConfig::default().with_api_key("fal-x").with_setting("deadline_secs", "120");
    /// assert!(msgflux_fal::FalBuilder::from_provider_config(&config).is_ok());
    /// let bad = ProviderConfig::default().with_setting("deadline", "120");
    /// assert!(msgflux_fal::FalBuilder::from_provider_config(&bad).is_err());
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
        let settings: FalSettings = config.settings_as("fal")?;
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
        if let Some(bytes) = settings.multipart_threshold_bytes {
            builder.settings.multipart_threshold = bytes;
        }
        if let Some(bytes) = settings.part_bytes {
            builder.settings.part_size = bytes.max(1);
        }
        builder.settings.mask_convention = settings.mask_convention.or(builder.settings.mask_convention);
        builder.settings.priority = settings.priority.or(builder.settings.priority);
        builder.config.storage_url = settings.storage_url.or(builder.config.storage_url);
        builder.config.platform_url = settings.platform_url.or(builder.config.platform_url);
        Ok(builder)
    }

    /// Sets the API key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Points every fal service at one origin (`http://127.0.0.1:8080` for an emulator).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = Some(url.into());
        self
    }

    /// Replaces the key and base URLs.
    pub fn with_config(mut self, config: FalConfig) -> Self {
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

    /// Time limit for one HTTP answer (default 60 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// Retry policy for every HTTP call. The submit is billable, so it is
    /// resent only when the policy says the work was certainly not done.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.settings.retry = retry;
        self
    }

    /// Pause between status polls: `initial`, growing by half each poll up
    /// to `max` (defaults 0.25 s and 3 s).
    pub fn with_poll_interval(mut self, initial: Duration, max: Duration) -> Self {
        self.settings.poll_initial = initial;
        self.settings.poll_max = max;
        self
    }

    /// How long a request may wait in the queue and run when the request
    /// sets no timeout (default 10 minutes); past it the request is cancelled.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.settings.deadline = deadline;
        self
    }

    /// Inputs up to this many bytes are sent inline as data URIs (default
    /// 256 KB); larger ones are uploaded to fal storage first.
    pub fn with_upload_threshold(mut self, bytes: usize) -> Self {
        self.settings.upload_threshold = bytes;
        self
    }

    /// Uploads above `threshold` bytes go in parts of `part_size` bytes
    /// (default 90 MB and 10 MB, as fal's own client does).
    pub fn with_multipart_upload(mut self, threshold: usize, part_size: usize) -> Self {
        self.settings.multipart_threshold = threshold;
        self.settings.part_size = part_size.max(1);
        self
    }

    /// Largest result file downloaded (default 64 MB).
    pub fn with_max_output_bytes(mut self, bytes: u64) -> Self {
        self.settings.max_output_bytes = bytes;
        self
    }

    /// The mask convention of apps mapped from their schema (without it:
    /// what the mask's description says, else white = edit).
    pub fn with_mask_convention(mut self, convention: MaskConvention) -> Self {
        self.settings.mask_convention = Some(convention);
        self
    }

    /// Queue priority sent as `x-fal-queue-priority` (`normal` or `low`).
    pub fn with_priority(mut self, priority: impl Into<String>) -> Self {
        self.settings.priority = Some(priority.into());
        self
    }

    /// Builds the provider for `model` (`owner/app[/path]`, e.g. `fal-ai/flux-pro/kontext`).
    pub fn build(self, model: &str) -> Result<FalProvider> {
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
        if let Some(priority) = &settings.priority
            && !matches!(priority.as_str(), "normal" | "low")
        {
            return Err(Error::config(format!(
                "the fal queue priority must be `normal` or `low`, got `{priority}`"
            )));
        }
        let key = self.config.require_key()?;
        let urls = self.config.parsed_urls()?;
        let http = match self.http_client {
            Some(client) => client,
            None => msgflux_core::kit::http::client_builder()
                .connect_timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::limited(5))
                .build()
                .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?,
        };
        FalProvider::new(model, http, urls, key, settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_config_fields_override_the_environment() {
        let config = ProviderConfig::default()
            .with_api_key("fal-secret")
            .with_base_url("http://127.0.0.1:1")
            .with_setting("priority", "low");
        let builder = FalBuilder::from_provider_config(&config).expect("builder");
        assert_eq!(builder.config.queue_url(), "http://127.0.0.1:1");
        assert_eq!(builder.settings.priority.as_deref(), Some("low"));
        assert!(!format!("{builder:?}").contains("fal-secret"));
    }

    #[test]
    fn an_unknown_setting_lists_the_accepted_ones() {
        let config = ProviderConfig::default().with_setting("deadline", "5");
        let err = FalBuilder::from_provider_config(&config).expect_err("unknown key");
        assert!(err.to_string().contains("`deadline_secs`"), "{err}");
    }

    #[test]
    fn an_unknown_priority_is_refused() {
        let err = FalBuilder::new()
            .with_api_key("k")
            .with_priority("urgent")
            .build("fal-ai/flux-pro/kontext")
            .expect_err("priority");
        assert!(err.to_string().contains("normal"), "{err}");
    }

    #[test]
    fn building_without_a_key_is_a_configuration_error() {
        let err = FalBuilder::new().build("fal-ai/flux-pro/kontext").expect_err("no key");
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
    }
}
