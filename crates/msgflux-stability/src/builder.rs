//! [`StabilityBuilder`]: everything a [`StabilityProvider`] needs besides the model id.

use std::fmt;
use std::time::Duration;

use msgflux_core::kit::{ProviderConfig, SecretString};
use msgflux_core::{Error, Result, RetryPolicy};
use reqwest::header::{HeaderMap, HeaderValue};

use crate::config::{StabilityConfig, StabilitySettings};
use crate::provider::StabilityProvider;

/// Time limit for one HTTP answer by default (edits take seconds; 4-megapixel results up to a minute).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Time limit for connecting by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Core's default retries, plus resending an edit after an error status:
/// Stability charges only successful generations ("you will not be charged
/// for failed generations", in each endpoint's description), so an edit
/// answered with a 5xx cost nothing and may be sent again. A timeout or a
/// connection lost after sending is still never resent.
///
/// ```
/// assert!(msgflux_stability::default_retry_policy().resend_billable_on_error_status);
/// ```
pub fn default_retry_policy() -> RetryPolicy {
    RetryPolicy::default().with_resend_billable_on_error_status(true)
}

/// Settings a provider instance runs with (the builder's values, checked).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Time limit for one HTTP answer.
    pub(crate) timeout: Duration,
    /// Time limit for connecting (default client only).
    pub(crate) connect_timeout: Duration,
    /// First pause before polling an asynchronous generation.
    pub(crate) poll_initial: Duration,
    /// Longest pause between polls.
    pub(crate) poll_max: Duration,
    /// How long an asynchronous generation may take when the request sets no timeout.
    pub(crate) deadline: Duration,
    /// Retry policy for every HTTP call.
    pub(crate) retry: RetryPolicy,
    /// `stability-client-id`.
    pub(crate) client_id: Option<String>,
    /// `stability-client-user-id`.
    pub(crate) client_user_id: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            // The document warns that polling more than once every 10 seconds may be rate limited.
            poll_initial: Duration::from_secs(5),
            poll_max: Duration::from_secs(10),
            deadline: Duration::from_secs(10 * 60),
            retry: default_retry_policy(),
            client_id: None,
            client_user_id: None,
        }
    }
}

/// Builds a [`StabilityProvider`] for one service.
///
/// Defaults: key and base URL from the environment (`STABILITY_API_KEY`,
/// `STABILITY_BASE_URL`), 120 s per HTTP answer, 5 s to connect,
/// [`default_retry_policy`], and for the asynchronous
/// replace-background-and-relight a first poll after 5 s, then every 10 s
/// at most, for up to 10 minutes.
///
/// ```
/// use std::time::Duration;
/// use msgflux_stability::StabilityBuilder;
/// let provider = StabilityBuilder::new()
///     .with_api_key("sk-example")
///     .with_base_url("http://127.0.0.1:8080")
///     .with_timeout(Duration::from_secs(60))
///     .with_poll_interval(Duration::from_secs(2), Duration::from_secs(10))
///     .build("inpaint")?;
/// assert_eq!(provider.to_string(), "stability/inpaint");
/// assert!(StabilityBuilder::new().with_api_key("sk").build("upscale").is_err());
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct StabilityBuilder {
    config: StabilityConfig,
    http_client: Option<reqwest::Client>,
    settings: Settings,
}

impl fmt::Debug for StabilityBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StabilityBuilder")
            .field("config", &self.config)
            .field("http_client", &self.http_client.as_ref().map(|_| "<client>"))
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl StabilityBuilder {
    /// A builder with the defaults and nothing read from the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with the key and base URL read from the environment.
    ///
    /// ```
    /// let builder = msgflux_stability::StabilityBuilder::from_env();
    /// # let _ = builder;
    /// ```
    pub fn from_env() -> Self {
        Self {
            config: StabilityConfig::from_env(),
            ..Self::default()
        }
    }

    /// A builder from the registry's [`ProviderConfig`]: its fields override
    /// the environment, and its `settings` may hold the keys of
    /// [`StabilitySettings`] (`poll_interval_ms`, `max_poll_interval_ms`,
    /// `deadline_secs`, `client_id`, `client_user_id`). Other keys are errors.
    ///
    /// ```
    /// use msgflux_core::kit::ProviderConfig;
    /// let config = ProviderConfig::default().with_api_key("sk-x").with_setting("poll_interval_ms", "100");
    /// assert!(msgflux_stability::StabilityBuilder::from_provider_config(&config).is_ok());
    /// let bad = ProviderConfig::default().with_setting("poll_interval", "100");
    /// assert!(msgflux_stability::StabilityBuilder::from_provider_config(&bad).is_err());
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
        let settings: StabilitySettings = config.settings_as("stability")?;
        if let Some(ms) = settings.poll_interval_ms {
            builder.settings.poll_initial = Duration::from_millis(ms);
        }
        if let Some(ms) = settings.max_poll_interval_ms {
            builder.settings.poll_max = Duration::from_millis(ms);
        }
        if let Some(secs) = settings.deadline_secs {
            builder.settings.deadline = Duration::from_secs(secs);
        }
        builder.settings.client_id = settings.client_id.or(builder.settings.client_id);
        builder.settings.client_user_id = settings.client_user_id.or(builder.settings.client_user_id);
        Ok(builder)
    }

    /// Sets the API key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// Sets the base URL, without `/v2beta` (`http://127.0.0.1:8080` for an emulator).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = Some(url.into());
        self
    }

    /// Replaces the key and base URL.
    pub fn with_config(mut self, config: StabilityConfig) -> Self {
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

    /// Time limit for one HTTP answer (default 120 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// Time limit for connecting (default 5 s; the default client only).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// Retry policy for every HTTP call (default [`default_retry_policy`]).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.settings.retry = retry;
        self
    }

    /// Pause before polling an asynchronous generation: `initial`, growing
    /// by half each poll up to `max` (defaults 5 s and 10 s; the document
    /// warns that polling more often than every 10 s may be rate limited).
    pub fn with_poll_interval(mut self, initial: Duration, max: Duration) -> Self {
        self.settings.poll_initial = initial;
        self.settings.poll_max = max;
        self
    }

    /// How long an asynchronous generation may take when the request sets
    /// no timeout (default 10 minutes).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.settings.deadline = deadline;
        self
    }

    /// Sends `stability-client-id` (your application's name) with every call.
    pub fn with_client_id(mut self, id: impl Into<String>) -> Self {
        self.settings.client_id = Some(id.into());
        self
    }

    /// Sends `stability-client-user-id` (an id of your end user) with every call.
    pub fn with_client_user_id(mut self, id: impl Into<String>) -> Self {
        self.settings.client_user_id = Some(id.into());
        self
    }

    /// Builds the provider for `model`, one of [`KNOWN_MODELS`](crate::KNOWN_MODELS).
    pub fn build(self, model: &str) -> Result<StabilityProvider> {
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
        let mut client_headers = HeaderMap::new();
        for (name, value) in [
            ("stability-client-id", &settings.client_id),
            ("stability-client-user-id", &settings.client_user_id),
        ] {
            let Some(value) = value else { continue };
            if value.chars().count() > 256 {
                return Err(Error::config(format!("`{name}` must be at most 256 characters")));
            }
            let header = HeaderValue::from_str(value)
                .map_err(|_| Error::config(format!("`{name}` contains characters a header cannot carry")))?;
            client_headers.insert(name, header);
        }
        client_headers.insert(
            "stability-client-version",
            HeaderValue::from_static(env!("CARGO_PKG_VERSION")),
        );
        let service = StabilityProvider::service_of(model)?;
        let key = self.config.require_key()?;
        let base_url = self.config.parsed_base_url()?;
        let http = match self.http_client {
            Some(client) => client,
            None => msgflux_core::kit::http::client_builder()
                .connect_timeout(settings.connect_timeout)
                .redirect(reqwest::redirect::Policy::limited(5))
                .build()
                .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?,
        };
        Ok(StabilityProvider::new(
            service,
            http,
            base_url,
            key,
            client_headers,
            settings,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_config_fields_override_the_environment_and_hide_the_key() {
        let config = ProviderConfig::default()
            .with_api_key("sk-secret")
            .with_base_url("http://127.0.0.1:1")
            .with_setting("deadline_secs", "30");
        let builder = StabilityBuilder::from_provider_config(&config).expect("builder");
        assert_eq!(builder.config.base_url(), "http://127.0.0.1:1");
        assert_eq!(builder.settings.deadline, Duration::from_secs(30));
        assert!(!format!("{builder:?}").contains("sk-secret"));
    }

    #[test]
    fn an_unknown_setting_lists_the_accepted_ones() {
        let config = ProviderConfig::default().with_setting("deadline", "5");
        let err = StabilityBuilder::from_provider_config(&config).expect_err("unknown key");
        assert!(err.to_string().contains("`deadline_secs`"), "{err}");
    }

    #[test]
    fn building_without_a_key_is_a_configuration_error() {
        let err = StabilityBuilder::new().build("inpaint").expect_err("no key");
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
    }

    #[test]
    fn an_unknown_service_lists_the_known_ones() {
        let err = StabilityBuilder::new()
            .with_api_key("sk")
            .build("sd3")
            .expect_err("unknown");
        assert!(err.to_string().contains("search-and-replace"), "{err}");
    }
}
