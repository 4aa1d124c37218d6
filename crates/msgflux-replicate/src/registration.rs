//! How the registry finds this crate: `replicate/<owner>/<name>[:version]`
//! and `replicate/deployments/<owner>/<name>`, registered at link time and on request.

use std::sync::Arc;

use msgflux_core::kit::{EditProvider, ProviderConfig, ProviderRegistration};
use msgflux_core::{Capabilities, Registry, Result};

use crate::builder::ReplicateBuilder;
use crate::config::{BASE_URL_ENV, TOKEN_ENV};
use crate::models::BUILTIN_MODELS;
use crate::provider::ReplicateProvider;

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
    ProviderRegistration::new(REPLICATE_SCHEME, env!("CARGO_PKG_NAME"), create, describe)
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
/// msgflux_replicate::register(&registry).unwrap();
/// assert_eq!(registry.names(), vec!["replicate".to_string()]);
/// ```
pub fn register(registry: &Registry) -> Result<()> {
    registry.register(REPLICATE_REGISTRATION)
}

fn create(model: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(ReplicateBuilder::from_provider_config(config)?.build(model)?))
}

fn describe(model: &str) -> Result<Capabilities> {
    ReplicateProvider::describe(model)
}
