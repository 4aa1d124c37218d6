#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Registration under `fal`.
mod registration;
// Key and base URLs, from the environment or given, and the typed settings.
mod config;
// `FalBuilder`: client, timeouts, polling, deadline, upload threshold.
mod builder;
// The HTTP client: `Authorization: Key`, retries by idempotency, capped bodies, the one call of `parse_error`.
mod client;
// fal's error bodies (`detail`, `X-Fal-Error-Type`, `X-Fal-Retryable`) mapped to `msgflux_core::Error` once.
mod error;
// What each built-in app takes: the adapter and capability tables.
mod models;
// Adapters read from an app's published OpenAPI input schema.
mod schema;
// The one place a request's JSON input is built and checked.
mod input;
// Input files: data URIs when small, fal storage uploads above the threshold, masks converted.
mod files;
// A request's life in the queue: submit, status with backoff, result, cancel on drop.
mod queue;
// What an app costs, with the date the prices were read.
mod pricing;
// The `EditProvider` implementation that ties the pieces above together.
mod provider;

pub use builder::FalBuilder;
pub use config::{
    BASE_URL_ENV, DEFAULT_PLATFORM_URL, DEFAULT_QUEUE_URL, DEFAULT_STORAGE_URL, FalConfig, FalSettings, KEY_ENV,
};
pub use models::BUILTIN_MODELS;
pub use provider::FalProvider;
pub use registration::{FAL_REGISTRATION, FAL_SCHEME, register};
