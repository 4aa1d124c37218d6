#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Registration under `replicate`.
mod registration;
// Token, base URL and the typed settings, from the environment or given.
mod config;
// `ReplicateBuilder`: client, timeouts, polling, `Prefer: wait`, deadline.
mod builder;
// The HTTP client: authentication, retries, capped downloads, and the one call site of `parse_error`.
mod client;
// Problem+json answers and failed predictions, mapped to `msgflux_core::Error` in one place.
mod error;
// What each model takes: the built-in adapter table.
mod models;
// Adapters read from a model's published input schema.
mod schema;
// The one place a prediction's input is built and checked.
mod input;
// Which endpoint creates a prediction: official model, pinned version or deployment.
mod routing;
// Input files: data URIs, uploads through the files API, URLs passed through, masks converted.
mod files;
// A prediction's life: create, poll with backoff, cancel on drop or deadline.
mod lifecycle;
// Prediction output: URLs, data URIs, downloads for base64.
mod output;
// What a model costs, with the date the prices were read.
mod pricing;
// The `EditProvider` implementation that ties the pieces above together.
mod provider;

pub use builder::ReplicateBuilder;
pub use config::{BASE_URL_ENV, DEFAULT_BASE_URL, ReplicateConfig, ReplicateSettings, TOKEN_ENV};
pub use models::BUILTIN_MODELS;
pub use provider::ReplicateProvider;
pub use registration::{REPLICATE_REGISTRATION, REPLICATE_SCHEME, register};
