//! How the registry finds this crate: `stability/<service>`, registered at
//! link time and on request.

use std::sync::Arc;

use msgflux_core::kit::{EditProvider, ProviderConfig, ProviderRegistration};
use msgflux_core::{Capabilities, Registry, Result};

use crate::builder::StabilityBuilder;
use crate::config::{API_KEY_ENV, BASE_URL_ENV};
use crate::models::KNOWN_MODELS;
use crate::provider::StabilityProvider;

/// The provider name: model ids start with `stability/`.
///
/// ```
/// assert_eq!(msgflux_stability::STABILITY_SCHEME, "stability");
/// ```
pub const STABILITY_SCHEME: &str = "stability";

/// The registration record of this provider.
///
/// ```
/// assert_eq!(msgflux_stability::STABILITY_REGISTRATION.name, "stability");
/// ```
pub const STABILITY_REGISTRATION: ProviderRegistration =
    ProviderRegistration::new(STABILITY_SCHEME, env!("CARGO_PKG_NAME"), create, describe)
        .with_description("Stability AI v2beta edit services: inpaint, outpaint, erase, search-and-replace, search-and-recolor, remove-background, replace-background-and-relight")
        .with_models(KNOWN_MODELS)
        .with_env_vars(&[API_KEY_ENV, BASE_URL_ENV]);

msgflux_core::register_provider!(STABILITY_REGISTRATION);

/// Registers this provider in `registry` explicitly, for programs that do
/// not rely on link-time registration (the global registry already has it
/// once this crate is linked).
///
/// ```
/// let registry = msgflux_core::Registry::new();
/// msgflux_stability::register(&registry)?;
/// assert_eq!(registry.names(), ["stability"]);
/// assert_eq!(registry.describe("stability/inpaint")?.max_images, 1);
/// assert!(registry.describe("stability/upscale").is_err());
/// # Ok::<(), msgflux_core::Error>(())
/// ```
pub fn register(registry: &Registry) -> Result<()> {
    registry.register(STABILITY_REGISTRATION)
}

fn create(model: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(StabilityBuilder::from_provider_config(config)?.build(model)?))
}

fn describe(model: &str) -> Result<Capabilities> {
    StabilityProvider::describe(model)
}
