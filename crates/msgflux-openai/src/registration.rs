//! How the registry finds this crate: `openai/<model>` and
//! `azure/<deployment>`, registered at link time and on request.

use std::sync::Arc;

use msgflux_core::kit::{EditProvider, ProviderConfig, ProviderRegistration};
use msgflux_core::{Capabilities, Error, Registry, Result};

use crate::builder::OpenAIBuilder;
use crate::config::AzureConfig;
use crate::models::{KNOWN_MODELS, ModelSpec, not_an_edit_model};

/// The provider name of OpenAI and OpenAI-compatible servers: `openai/<model>`.
pub const OPENAI_SCHEME: &str = "openai";

/// The provider name of Azure OpenAI: `azure/<deployment>`.
pub const AZURE_SCHEME: &str = "azure";

/// The registration record of `openai/<model>`.
///
/// ```
/// assert_eq!(msgflux_openai::OPENAI_REGISTRATION.name, "openai");
/// ```
pub const OPENAI_REGISTRATION: ProviderRegistration =
    ProviderRegistration::new(OPENAI_SCHEME, env!("CARGO_PKG_NAME"), create_openai, describe_openai)
        .with_description("OpenAI image edits (dall-e-2, gpt-image-*) and OpenAI-compatible servers")
        .with_models(KNOWN_MODELS)
        .with_env_vars(&[
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "OPENAI_ORG_ID",
            "OPENAI_PROJECT_ID",
        ]);

/// The registration record of `azure/<deployment>`.
pub const AZURE_REGISTRATION: ProviderRegistration =
    ProviderRegistration::new(AZURE_SCHEME, env!("CARGO_PKG_NAME"), create_azure, describe_azure)
        .with_description("Azure OpenAI image edits; the model part is the deployment name")
        .with_env_vars(&[
            "AZURE_OPENAI_API_KEY",
            "AZURE_OPENAI_ENDPOINT",
            "OPENAI_API_VERSION",
            "AZURE_OPENAI_MODEL",
        ]);

msgflux_core::register_provider!(OPENAI_REGISTRATION);
msgflux_core::register_provider!(AZURE_REGISTRATION);

/// Registers `openai` and `azure` in `registry`.
///
/// Linking this crate already registers both in [`Registry::global`]; call
/// this for an isolated [`Registry::new`] (tests, sandboxes), or where
/// link-time registration does not run. Registering twice in one registry is
/// an [`Error::DuplicateProvider`](msgflux_core::Error::DuplicateProvider).
///
/// ```
/// let registry = msgflux_core::Registry::new();
/// msgflux_openai::register(&registry)?;
/// assert_eq!(registry.names(), ["azure", "openai"]);
/// assert_eq!(registry.describe("openai/dall-e-2")?.max_images, 1);
/// assert!(registry.describe("openai/dall-e-3").is_err());
/// # Ok::<(), msgflux_core::Error>(())
/// ```
pub fn register(registry: &Registry) -> Result<()> {
    registry.register(OPENAI_REGISTRATION)?;
    registry.register(AZURE_REGISTRATION)
}

fn create_openai(model: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(OpenAIBuilder::from_provider_config(config)?.build(model)?))
}

fn create_azure(deployment: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(
        OpenAIBuilder::azure_from_provider_config(config)?.build(deployment)?,
    ))
}

fn describe_openai(model: &str) -> Result<Capabilities> {
    describe(model)
}

fn describe_azure(deployment: &str) -> Result<Capabilities> {
    describe(AzureConfig::from_env().with_deployment(deployment).model())
}

fn describe(model: &str) -> Result<Capabilities> {
    if let Some(reason) = not_an_edit_model(model) {
        return Err(Error::invalid("model", format!("`{model}` {reason}")));
    }
    Ok(ModelSpec::for_model(model).capabilities().clone())
}
