//! The gateway's settings: one TOML file, every field optional, unknown
//! fields refused (a typo must not silently keep a default).
//!
//! docs/server.md is the reference of every field.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use msgflux_core::kit::ProviderConfig;
use msgflux_core::{AddressPolicy, IpNet};
use serde::Deserialize;

/// Everything `msgflux serve` can be told.
///
/// ```
/// let config: msgflux_server::ServerConfig = toml::from_str(r#"
///     listen = "127.0.0.1:8080"
///     default_model = "local/patchmatch"
///     [aliases]
///     "dall-e-2" = "openai/dall-e-2"
///     [[keys]]
///     name = "team-a"
///     key_env = "TEAM_A_KEY"
///     concurrency = 4
/// "#).unwrap();
/// assert_eq!(config.aliases["dall-e-2"], "openai/dall-e-2");
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Where to listen (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Listen beyond loopback without gateway keys. Off by default: an open
    /// gateway spends its operator's provider credit for anyone who finds it.
    pub allow_unauthenticated: bool,
    /// The model used when a request names none (OpenAI's SDKs may omit it).
    pub default_model: String,
    /// Model names clients may use instead of `provider/model` ids.
    pub aliases: BTreeMap<String, String>,
    /// Gateway keys (clients send one as `Authorization: Bearer ...`).
    pub keys: Vec<KeyConfig>,
    /// Settings of each provider (`[providers.openai]`); a provider without
    /// a section reads its environment as the library does.
    pub providers: BTreeMap<String, ProviderSection>,
    /// Size, time and concurrency limits.
    pub limits: Limits,
    /// How `image_url` inputs are fetched.
    pub url_inputs: UrlInputs,
    /// How `response_format=url` results are served.
    pub results: Results,
    /// The base URL clients reach the gateway at (`https://images.example.com`),
    /// for result URLs; without it, the request's `Host` header over http.
    pub public_url: Option<String>,
    /// The studio, the web page at `/`.
    pub studio: Studio,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            allow_unauthenticated: false,
            default_model: "openai/dall-e-2".into(),
            aliases: default_aliases(),
            keys: Vec::new(),
            providers: BTreeMap::new(),
            limits: Limits::default(),
            url_inputs: UrlInputs::default(),
            results: Results::default(),
            public_url: None,
            studio: Studio::default(),
        }
    }
}

/// OpenAI's model names, so unmodified SDK code reaches OpenAI through the gateway.
fn default_aliases() -> BTreeMap<String, String> {
    ["dall-e-2", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"]
        .into_iter()
        .map(|name| (name.to_string(), format!("openai/{name}")))
        .collect()
}

/// One gateway key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct KeyConfig {
    /// A name for logs and metrics (the key itself is never logged).
    pub name: String,
    /// The key, written in the file (prefer `key_env`).
    pub key: Option<String>,
    /// The environment variable holding the key.
    pub key_env: Option<String>,
    /// Most requests of this key in flight at once (default: `limits.per_key_concurrency`).
    pub concurrency: Option<usize>,
    /// Most requests of this key per minute (default: `limits.per_key_requests_per_minute`).
    pub requests_per_minute: Option<u32>,
    /// Models this key may use (ids or aliases); empty means all.
    pub models: Vec<String>,
}

/// One provider's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ProviderSection {
    /// The environment variable holding the provider key (the provider's own by default).
    pub api_key_env: Option<String>,
    /// The provider key written in the file (prefer `api_key_env`; keep the file private).
    pub api_key: Option<String>,
    /// Base URL (a proxy, an emulator, an Azure resource).
    pub base_url: Option<String>,
    /// Time limit for one upstream answer, in seconds.
    pub timeout_secs: Option<u64>,
    /// Retries of a failed upstream request (default: the library's, 2), only
    /// where a resend cannot bill twice. 0 hands every failure to the client at once.
    pub max_retries: Option<u32>,
    /// The provider's own settings (`api_version`, `deployment`, `poll_interval_ms`, ...);
    /// numbers and booleans are read as their text.
    #[serde(deserialize_with = "scalars_as_text")]
    pub settings: BTreeMap<String, String>,
}

/// A table of strings, numbers and booleans, each kept as its text (the
/// library's provider settings are text, as environment variables are).
fn scalars_as_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Integer(i64),
        Number(f64),
        Bool(bool),
    }
    let table = BTreeMap::<String, Scalar>::deserialize(deserializer)?;
    Ok(table
        .into_iter()
        .map(|(key, value)| {
            let text = match value {
                Scalar::Text(s) => s,
                Scalar::Integer(i) => i.to_string(),
                Scalar::Number(f) => f.to_string(),
                Scalar::Bool(b) => b.to_string(),
            };
            (key, text)
        })
        .collect())
}

/// Size, time and concurrency limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Limits {
    /// Largest request body, in bytes (default 64 MiB).
    pub max_body_bytes: usize,
    /// Largest input image, in pixels, read from its header before decoding (default 40 Mpx).
    pub max_pixels: u64,
    /// Most edits in flight on this server; above it, 503 with `retry-after` (default 64).
    pub max_in_flight: usize,
    /// Most edits in flight per key; above it, 429 (default 8).
    pub per_key_concurrency: usize,
    /// Requests per key per minute; 0 means no limit (default 0).
    pub per_key_requests_per_minute: u32,
    /// Time limit of one edit, upstream included, in seconds (default 300; fractions allowed, as below).
    pub request_timeout_secs: f64,
    /// Time limit for receiving a request body, in seconds (default 60).
    pub body_timeout_secs: f64,
    /// Time limit for receiving a request's headers, in seconds (default 10).
    pub header_timeout_secs: f64,
    /// Most open connections (default 1024).
    pub max_connections: usize,
    /// How long shutdown waits for in-flight edits, in seconds (default 30).
    pub shutdown_grace_secs: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_in_flight: 64,
            per_key_concurrency: 8,
            per_key_requests_per_minute: 0,
            request_timeout_secs: 300.0,
            body_timeout_secs: 60.0,
            header_timeout_secs: 10.0,
            max_connections: 1024,
            shutdown_grace_secs: 30.0,
        }
    }
}

impl Limits {
    pub(crate) fn request_timeout(&self) -> Duration {
        seconds(self.request_timeout_secs)
    }

    pub(crate) fn body_timeout(&self) -> Duration {
        seconds(self.body_timeout_secs)
    }

    pub(crate) fn header_timeout(&self) -> Duration {
        seconds(self.header_timeout_secs)
    }

    pub(crate) fn shutdown_grace(&self) -> Duration {
        seconds(self.shutdown_grace_secs)
    }
}

/// Seconds from the file, at least a millisecond (a zero or negative limit would refuse everything).
fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs)
        .unwrap_or_default()
        .max(Duration::from_millis(1))
}

/// How `image_url` inputs are fetched.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct UrlInputs {
    /// Whether `image_url` may be an http(s) URL at all (`data:` URIs always work).
    pub enabled: bool,
    /// Networks allowed although not public (for example an internal image store).
    pub allow_networks: Vec<IpNet>,
    /// Largest download, in bytes (default 32 MiB).
    pub max_bytes: u64,
    /// Time limit of one download, in seconds (default 20).
    pub timeout_secs: u64,
}

impl Default for UrlInputs {
    fn default() -> Self {
        Self {
            enabled: true,
            allow_networks: Vec::new(),
            max_bytes: 32 * 1024 * 1024,
            timeout_secs: 20,
        }
    }
}

impl UrlInputs {
    pub(crate) fn policy(&self) -> AddressPolicy {
        AddressPolicy::PublicOnly {
            allow: self.allow_networks.clone(),
        }
    }
}

/// How `response_format=url` results are served.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Results {
    /// How long a result URL works, in seconds (default 600).
    pub ttl_secs: u64,
    /// Most bytes of results kept in memory; the oldest go first (default 512 MiB).
    pub max_bytes: usize,
    /// Hand out the provider's own URL when it is a public https URL,
    /// instead of serving the result from the gateway (default true).
    pub pass_through_provider_urls: bool,
}

impl Default for Results {
    fn default() -> Self {
        Self {
            ttl_secs: 600,
            max_bytes: 512 * 1024 * 1024,
            pass_through_provider_urls: true,
        }
    }
}

/// The studio: the web page at `/` that paints masks, runs edits and
/// compares results through the gateway's own API.
///
/// ```
/// let config: msgflux_server::ServerConfig = toml::from_str("[studio]\nenabled = false").unwrap();
/// assert!(!config.studio.enabled);
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Studio {
    /// Serve the page and its files (default true). They are static and
    /// public; every call the page makes needs a gateway key like any client's.
    pub enabled: bool,
}

impl Default for Studio {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// A problem with the settings, named by field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with the line.
        message: String,
    },
    /// The settings break a rule.
    #[error("invalid settings: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

impl ServerConfig {
    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: shown,
            message: e.to_string(),
        })
    }

    /// The gateway keys: those of the file (reading `key_env`), then each of
    /// `MSGFLUX_API_KEYS` (comma-separated). Every broken rule is listed.
    pub(crate) fn resolve_keys(&self, env_keys: Option<&str>) -> Result<Vec<ResolvedKey>, ConfigError> {
        let mut problems = Vec::new();
        let mut keys = Vec::new();
        for (index, key) in self.keys.iter().enumerate() {
            let name = if key.name.is_empty() {
                format!("keys[{index}]")
            } else {
                key.name.clone()
            };
            let secret = match (&key.key, &key.key_env) {
                (Some(k), None) => Some(k.clone()),
                (None, Some(var)) => match std::env::var(var) {
                    Ok(k) if !k.trim().is_empty() => Some(k.trim().to_string()),
                    _ => {
                        problems.push(format!("key `{name}`: environment variable {var} is not set"));
                        None
                    }
                },
                (Some(_), Some(_)) => {
                    problems.push(format!("key `{name}`: set `key` or `key_env`, not both"));
                    None
                }
                (None, None) => {
                    problems.push(format!("key `{name}`: needs `key` or `key_env`"));
                    None
                }
            };
            if let Some(secret) = secret {
                if secret.len() < 16 {
                    problems.push(format!("key `{name}`: is shorter than 16 characters"));
                }
                keys.push(ResolvedKey {
                    name,
                    secret,
                    concurrency: key.concurrency.unwrap_or(self.limits.per_key_concurrency),
                    requests_per_minute: key
                        .requests_per_minute
                        .unwrap_or(self.limits.per_key_requests_per_minute),
                    models: key.models.clone(),
                });
            }
        }
        for (index, secret) in env_keys
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
        {
            if secret.len() < 16 {
                problems.push(format!(
                    "MSGFLUX_API_KEYS item {}: is shorter than 16 characters",
                    index + 1
                ));
            }
            keys.push(ResolvedKey {
                name: format!("env-{}", index + 1),
                secret: secret.to_string(),
                concurrency: self.limits.per_key_concurrency,
                requests_per_minute: self.limits.per_key_requests_per_minute,
                models: Vec::new(),
            });
        }
        if self.limits.max_in_flight == 0 {
            problems.push("limits.max_in_flight: must be at least 1".into());
        }
        if self.limits.per_key_concurrency == 0 {
            problems.push("limits.per_key_concurrency: must be at least 1".into());
        }
        if self.limits.max_connections == 0 {
            problems.push("limits.max_connections: must be at least 1".into());
        }
        if keys.is_empty() && !self.listen.ip().is_loopback() && !self.allow_unauthenticated {
            problems.push(format!(
                "listen: {} is not a loopback address and no gateway key is set; set keys (or MSGFLUX_API_KEYS), or allow_unauthenticated = true to serve anyone who can reach it",
                self.listen
            ));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            problems.push(format!("public_url: `{url}` must start with http:// or https://"));
        }
        if problems.is_empty() {
            Ok(keys)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// The library settings of a provider, from its section.
    pub(crate) fn provider_config(&self, provider: &str) -> ProviderConfig {
        let mut config = ProviderConfig::default();
        let Some(section) = self.providers.get(provider) else {
            return config;
        };
        if let Some(key) = &section.api_key {
            config = config.with_api_key(key);
        } else if let Some(var) = &section.api_key_env
            && let Ok(key) = std::env::var(var)
        {
            config = config.with_api_key(key);
        }
        if let Some(url) = &section.base_url {
            config = config.with_base_url(url);
        }
        if let Some(secs) = section.timeout_secs {
            config = config.with_timeout(Duration::from_secs(secs));
        }
        if let Some(retries) = section.max_retries {
            config = config.with_retry(msgflux_core::RetryPolicy::default().with_max_retries(retries));
        }
        for (key, value) in &section.settings {
            config = config.with_setting(key, value);
        }
        config
    }
}

/// A gateway key with its limits, read from the settings.
#[derive(Clone)]
pub(crate) struct ResolvedKey {
    pub(crate) name: String,
    pub(crate) secret: String,
    pub(crate) concurrency: usize,
    pub(crate) requests_per_minute: u32,
    pub(crate) models: Vec<String>,
}

impl std::fmt::Debug for ResolvedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedKey")
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_listen_address_without_keys_is_refused() {
        let config: ServerConfig = toml::from_str(r#"listen = "0.0.0.0:8080""#).unwrap();
        let err = config.resolve_keys(None).unwrap_err().to_string();
        assert!(err.contains("no gateway key is set"), "{err}");
    }

    #[test]
    fn a_public_listen_address_with_keys_is_accepted() {
        let config: ServerConfig = toml::from_str(r#"listen = "0.0.0.0:8080""#).unwrap();
        let keys = config.resolve_keys(Some("0123456789abcdef0123")).unwrap();
        assert_eq!(keys[0].name, "env-1");
    }

    #[test]
    fn every_broken_key_rule_is_listed() {
        let config: ServerConfig = toml::from_str(
            r#"
            [[keys]]
            name = "a"
            key = "short"
            [[keys]]
            name = "b"
            "#,
        )
        .unwrap();
        let err = config.resolve_keys(None).unwrap_err().to_string();
        assert!(err.contains("key `a`: is shorter than 16"), "{err}");
        assert!(err.contains("key `b`: needs `key` or `key_env`"), "{err}");
    }

    #[test]
    fn provider_settings_take_numbers_and_booleans() {
        let config: ServerConfig = toml::from_str(
            "[providers.replicate.settings]\npoll_interval_ms = 5\nmask_convention = \"black_is_edit\"\nflag = true",
        )
        .unwrap();
        let settings = &config.providers["replicate"].settings;
        assert_eq!(settings["poll_interval_ms"], "5");
        assert_eq!(settings["flag"], "true");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = toml::from_str::<ServerConfig>("[limits]\nmax_body = 5").unwrap_err();
        assert!(err.to_string().contains("unknown field `max_body`"), "{err}");
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let config = ServerConfig::default();
        let keys = config.resolve_keys(Some("0123456789abcdef-secret")).unwrap();
        assert!(!format!("{keys:?}").contains("0123456789abcdef"));
    }
}
