#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Token and base URL, from the environment or given.
mod config;
// `ReplicateBuilder`: client, timeouts, polling, `Prefer: wait`, deadline.
mod builder;
// The `EditProvider` implementation that ties the pieces below together.
mod provider;
// The HTTP client: authentication, retries, and the one call site of `parse_error`.
mod client;
// Which endpoint creates a prediction: official model, pinned version or deployment.
mod routing;
// How our request maps onto each model's inputs: the built-in table and the input building.
mod adapters;
// Adapters read from a model's published input schema.
mod schema;
// A prediction's life: create, poll with backoff, cancel on drop or deadline.
mod lifecycle;
// Input files: data URIs, uploads through the files API, URLs passed through, masks converted.
mod files;
// Prediction output: URLs, data URIs, downloads for base64.
mod output;
// Problem+json answers and failed predictions, mapped to `msgflux_core::Error` in one place.
mod error;
// What a model costs, with the date the prices were read.
mod pricing;

// An in-process emulator of the Replicate API, for tests and offline examples.
#[cfg(feature = "emulator")]
pub mod emulator;

pub use adapters::BUILTIN_MODELS;
pub use builder::ReplicateBuilder;
pub use config::{BASE_URL_ENV, DEFAULT_BASE_URL, ReplicateConfig, TOKEN_ENV};
pub use provider::ReplicateProvider;

use std::sync::Arc;

use msgflux_core::{Capabilities, EditProvider, ProviderConfig, ProviderRegistration, Registry, Result};

/// The provider name: model ids start with `replicate/`.
///
/// ```
/// assert_eq!(msgflux_replicate::REPLICATE_SCHEME, "replicate");
/// ```
pub const REPLICATE_SCHEME: &str = "replicate";

/// The registration record of this provider.
///
/// ```
/// assert_eq!(msgflux_replicate::REPLICATE_REGISTRATION.name, "replicate");
/// ```
pub const REPLICATE_REGISTRATION: ProviderRegistration =
    ProviderRegistration::new(REPLICATE_SCHEME, env!("CARGO_PKG_NAME"), create_provider, describe_model)
        .with_description("Replicate predictions: stable-diffusion-inpainting, FLUX fill and Kontext, nano-banana, and any image model through its input schema")
        .with_models(BUILTIN_MODELS)
        .with_env_vars(&[TOKEN_ENV, BASE_URL_ENV]);

msgflux_core::register_provider!(REPLICATE_REGISTRATION);

/// Registers this provider in `registry` explicitly, for programs that do not
/// rely on link-time registration (the global registry already has it once
/// this crate is linked).
///
/// ```
/// let registry = msgflux_core::Registry::new();
/// msgflux_replicate::register_replicate_provider(&registry).unwrap();
/// assert_eq!(registry.names(), vec!["replicate".to_string()]);
/// ```
pub fn register_replicate_provider(registry: &Registry) -> Result<()> {
    registry.register(REPLICATE_REGISTRATION)
}

fn create_provider(model: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(ReplicateBuilder::from_provider_config(config)?.build(model)?))
}

fn describe_model(model: &str) -> Result<Capabilities> {
    ReplicateProvider::describe(model)
}
