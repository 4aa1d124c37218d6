#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Registration under `stability`.
mod registration;
// API key, base URL and the typed settings, from the environment or given.
mod config;
// `StabilityBuilder`: client, timeouts, retries, polling, deadline.
mod builder;
// The HTTP client: authentication, retries under the billing rule, capped bodies, the one call of `parse_error`.
mod client;
// Stability's `{id, name, errors[]}` answers and `finish_reason`, mapped to `msgflux_core::Error` once.
mod error;
// One model per edit service: its endpoint, capability table and credits.
mod models;
// The provider: the rules the table cannot express, the form, the answer.
mod provider;
// Credits per service and the credit price, with the date they were read.
mod pricing;

pub use builder::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, StabilityBuilder, default_retry_policy};
pub use config::{API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, StabilityConfig, StabilitySettings};
pub use models::{CAPABILITIES_READ_ON, KNOWN_MODELS, Service};
pub use pricing::{PRICES_READ_ON, USD_PER_CREDIT, estimate_cost};
pub use provider::StabilityProvider;
pub use registration::{STABILITY_REGISTRATION, STABILITY_SCHEME, register};
