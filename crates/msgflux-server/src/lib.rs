#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Settings: the TOML file, limits, keys, aliases, provider sections.
mod config;
// Gateway keys and each key's limits.
mod auth;
// Which models are served, and building them.
mod catalog;
// OpenAI's wire format: requests, answers, errors, stream events.
mod wire;
// Short-lived result URLs.
mod results;
// Prometheus metrics.
mod metrics;
// The endpoints.
mod routes;
// The listener, connection limits and graceful shutdown.
mod serve;

pub use config::{ConfigError, KeyConfig, Limits, ProviderSection, Results, ServerConfig, UrlInputs};
pub use serve::{Gateway, RunError, run};
