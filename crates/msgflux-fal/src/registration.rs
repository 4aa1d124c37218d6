//! How the registry finds this crate: `fal/<owner>/<app>[/<path>]`,
//! registered at link time and on request.

use std::sync::Arc;

use msgflux_core::kit::{EditProvider, ProviderConfig, ProviderRegistration};
use msgflux_core::{Capabilities, Registry, Result};

use crate::builder::FalBuilder;
use crate::config::{BASE_URL_ENV, KEY_ENV};
use crate::models::BUILTIN_MODELS;
use crate::provider::FalProvider;

/// The provider name: model ids start with `fal/`.
///
/// ```
/// assert_eq!(msgflux_fal::FAL_SCHEME, "fal");
/// ```
pub const FAL_SCHEME: &str = "fal";

/// The registration record of this provider.
///
/// ```
/// assert_eq!(msgflux_fal::FAL_REGISTRATION.name, "fal");
/// ```
pub const FAL_REGISTRATION: ProviderRegistration =
    ProviderRegistration::new(FAL_SCHEME, env!("CARGO_PKG_NAME"), create, describe)
        .with_description(
            "fal.ai queue API: FLUX Kontext and Fill, Qwen-Image-Edit, Seedream, Nano Banana, and any other app through its OpenAPI input schema",
        )
        .with_models(BUILTIN_MODELS)
        .with_env_vars(&[KEY_ENV, BASE_URL_ENV]);

msgflux_core::register_provider!(FAL_REGISTRATION);

/// Registers this provider in `registry` explicitly, for programs that do not
/// rely on link-time registration (the global registry already has it once
/// this crate is linked).
///
/// ```
/// let registry = msgflux_core::Registry::new();
/// msgflux_fal::register(&registry).unwrap();
/// assert_eq!(registry.names(), vec!["fal".to_string()]);
/// ```
pub fn register(registry: &Registry) -> Result<()> {
    registry.register(FAL_REGISTRATION)
}

fn create(model: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(FalBuilder::from_provider_config(config)?.build(model)?))
}

fn describe(model: &str) -> Result<Capabilities> {
    FalProvider::describe(model)
}
