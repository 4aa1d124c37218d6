#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Registration under `bfl`.
mod registration;
// Key, base URL, region and the typed settings, from the environment or given.
mod config;
// `BflBuilder`: client, timeouts, polling, deadline, where `url` results go.
mod builder;
// The one place that talks HTTP: the `x-key` header, submit, polling `polling_url`, downloads, trusted hosts.
mod client;
// Error answers and terminal task states, mapped to `msgflux_core::Error` in one place.
mod error;
// What each model takes: the capability tables.
mod models;
// The `EditProvider` implementation: checks, request bodies, masks, results.
mod provider;
// What a model costs, with the date the prices were read.
mod pricing;

pub use builder::BflBuilder;
pub use config::{API_KEY_ENV, BASE_URL_ENV, BflConfig, BflSettings, DEFAULT_BASE_URL, Region};
pub use models::BUILTIN_MODELS;
pub use provider::BflProvider;
pub use registration::{BFL_REGISTRATION, BFL_SCHEME, register};
