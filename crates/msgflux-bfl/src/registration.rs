//! How the registry finds this crate: `bfl/<model>`, registered at link
//! time and on request.

use std::sync::Arc;

use msgflux_core::kit::{EditProvider, ProviderConfig, ProviderRegistration};
use msgflux_core::{Capabilities, Registry, Result};

use crate::builder::BflBuilder;
use crate::config::{API_KEY_ENV, BASE_URL_ENV};
use crate::models::BUILTIN_MODELS;
use crate::provider::BflProvider;

/// The provider name: model ids start with `bfl/`.
///
/// ```
/// assert_eq!(msgflux_bfl::BFL_SCHEME, "bfl");
/// ```
pub const BFL_SCHEME: &str = "bfl";

/// The registration record of this provider.
///
/// ```
/// assert_eq!(msgflux_bfl::BFL_REGISTRATION.name, "bfl");
/// assert!(msgflux_bfl::BFL_REGISTRATION.models.contains(&"flux-kontext-pro"));
/// ```
pub const BFL_REGISTRATION: ProviderRegistration =
    ProviderRegistration::new(BFL_SCHEME, env!("CARGO_PKG_NAME"), create, describe)
        .with_description(
            "Black Forest Labs' own API: FLUX.1 Kontext [pro]/[max], Fill, Expand and the FLUX.2 edit models (several reference images)",
        )
        .with_models(BUILTIN_MODELS)
        .with_env_vars(&[API_KEY_ENV, BASE_URL_ENV]);

msgflux_core::register_provider!(BFL_REGISTRATION);

/// Registers this provider in `registry` explicitly, for programs that do
/// not rely on link-time registration (the global registry already has it
/// once this crate is linked).
///
/// ```
/// let registry = msgflux_core::Registry::new();
/// msgflux_bfl::register(&registry).unwrap();
/// assert_eq!(registry.names(), vec!["bfl".to_string()]);
/// ```
pub fn register(registry: &Registry) -> Result<()> {
    registry.register(BFL_REGISTRATION)
}

fn create(model: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(BflBuilder::from_provider_config(config)?.build(model)?))
}

fn describe(model: &str) -> Result<Capabilities> {
    BflProvider::describe(model)
}
