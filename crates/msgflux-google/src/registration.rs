//! How the registry finds this crate: `google/<model>`, registered at link
//! time and on request.

use std::sync::Arc;

use msgflux_core::kit::{EditProvider, ProviderConfig, ProviderRegistration};
use msgflux_core::{Capabilities, Error, Registry, Result};

use crate::builder::GoogleBuilder;
use crate::models::{KNOWN_MODELS, ModelSpec, not_an_edit_model};

/// The provider name of Google's Gemini image models: `google/<model>`.
pub const GOOGLE_SCHEME: &str = "google";

/// The registration record of `google/<model>`.
///
/// ```
/// assert_eq!(msgflux_google::GOOGLE_REGISTRATION.name, "google");
/// ```
pub const GOOGLE_REGISTRATION: ProviderRegistration =
    ProviderRegistration::new(GOOGLE_SCHEME, env!("CARGO_PKG_NAME"), create, describe)
        .with_description(
            "Google Gemini image models (Nano Banana) through the Gemini API or Vertex AI; no mask: the original is kept outside it",
        )
        .with_models(KNOWN_MODELS)
        .with_env_vars(&[
            "GEMINI_API_KEY",
            "GOOGLE_API_KEY",
            "GOOGLE_GEMINI_BASE_URL",
            "GOOGLE_GENAI_USE_VERTEXAI",
            "GOOGLE_CLOUD_PROJECT",
            "GOOGLE_CLOUD_LOCATION",
            "GOOGLE_CLOUD_ACCESS_TOKEN",
            "GOOGLE_VERTEX_BASE_URL",
        ]);

msgflux_core::register_provider!(GOOGLE_REGISTRATION);

/// Registers `google` in `registry`.
///
/// Linking this crate already registers it in [`Registry::global`]; call
/// this for an isolated [`Registry::new`] (tests, sandboxes), or where
/// link-time registration does not run.
///
/// ```
/// let registry = msgflux_core::Registry::new();
/// msgflux_google::register(&registry)?;
/// assert_eq!(registry.names(), ["google"]);
/// assert_eq!(registry.describe("google/gemini-2.5-flash-image")?.max_images, 3);
/// assert!(registry.describe("google/gemini-2.5-flash").is_err());
/// # Ok::<(), msgflux_core::Error>(())
/// ```
pub fn register(registry: &Registry) -> Result<()> {
    registry.register(GOOGLE_REGISTRATION)
}

fn create(model: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(GoogleBuilder::from_provider_config(config)?.build(model)?))
}

fn describe(model: &str) -> Result<Capabilities> {
    if let Some(reason) = not_an_edit_model(model) {
        return Err(Error::invalid("model", format!("`{model}` {reason}")));
    }
    Ok(ModelSpec::for_model(model, None).capabilities().clone())
}
