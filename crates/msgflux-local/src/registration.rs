//! How the registry finds this crate: `local/<model>`, registered at link
//! time and on request.

use std::sync::Arc;

use msgflux_core::kit::{EditProvider, ProviderConfig, ProviderRegistration};
use msgflux_core::{Capabilities, Registry, Result};

use crate::builder::LocalBuilder;
use crate::models::{Algorithm, LOCAL_MODELS};

/// The provider name: model ids read `local/<model>`.
pub const LOCAL_SCHEME: &str = "local";

/// The registration record of this provider.
///
/// ```
/// assert_eq!(msgflux_local::LOCAL_REGISTRATION.name, "local");
/// ```
pub const LOCAL_REGISTRATION: ProviderRegistration =
    ProviderRegistration::new(LOCAL_SCHEME, env!("CARGO_PKG_NAME"), create, describe)
        .with_description("offline content-aware fill (PatchMatch, Telea): no key, no network, ignores the prompt")
        .with_models(LOCAL_MODELS);

msgflux_core::register_provider!(LOCAL_REGISTRATION);

/// Registers the `local` provider in `registry` explicitly (the global
/// registry already has it whenever this crate is linked).
///
/// ```
/// let registry = msgflux_core::Registry::new();
/// msgflux_local::register(&registry)?;
/// assert_eq!(registry.names(), vec!["local".to_string()]);
/// # Ok::<(), msgflux_core::Error>(())
/// ```
pub fn register(registry: &Registry) -> Result<()> {
    registry.register(LOCAL_REGISTRATION)
}

fn create(model: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(LocalBuilder::from_provider_config(config)?.build(model)?))
}

fn describe(model: &str) -> Result<Capabilities> {
    Ok(model.parse::<Algorithm>()?.capabilities())
}
