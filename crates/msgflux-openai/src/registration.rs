//! How the registry finds this crate: `openai/<model>` and
//! `azure/<deployment>`, registered at link time and on request.

use std::sync::Arc;

use msgflux_core::{Capabilities, EditProvider, ProviderConfig, ProviderRegistration, Registry, Result};

use crate::builder::OpenAIBuilder;
use crate::config::AzureConfig;
use crate::models::{KNOWN_MODELS, ModelSpec};

/// The provider name of OpenAI and OpenAI-compatible servers: `openai/<model>`.
pub const OPENAI_SCHEME: &str = "openai";

/// The provider name of Azure OpenAI: `azure/<deployment>`.
pub const AZURE_SCHEME: &str = "azure";

fn create_openai(model: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    let provider = OpenAIBuilder::from_env().with_model(model).apply(config)?.build()?;
    Ok(Arc::new(provider))
}

fn describe_openai(model: &str) -> Result<Capabilities> {
    Ok(ModelSpec::for_model(model).capabilities().clone())
}

fn create_azure(deployment: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    let provider = OpenAIBuilder::azure(AzureConfig::from_env(deployment))
        .apply(config)?
        .build()?;
    Ok(Arc::new(provider))
}

fn describe_azure(deployment: &str) -> Result<Capabilities> {
    let config = AzureConfig::from_env(deployment);
    Ok(ModelSpec::for_model(config.model()).capabilities().clone())
}

const OPENAI_REGISTRATION: ProviderRegistration =
    ProviderRegistration::new(OPENAI_SCHEME, env!("CARGO_PKG_NAME"), create_openai, describe_openai)
        .with_description("OpenAI image edits (dall-e-2, gpt-image-*) and OpenAI-compatible servers")
        .with_models(KNOWN_MODELS)
        .with_env_vars(&[
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "OPENAI_ORG_ID",
            "OPENAI_PROJECT_ID",
        ]);

const AZURE_REGISTRATION: ProviderRegistration =
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
/// msgflux_openai::register_openai_provider(&registry)?;
/// assert_eq!(registry.names(), ["azure", "openai"]);
/// assert_eq!(registry.describe("openai/dall-e-2")?.max_images, 1);
/// # Ok::<(), msgflux_core::Error>(())
/// ```
pub fn register_openai_provider(registry: &Registry) -> Result<()> {
    registry.register(OPENAI_REGISTRATION)?;
    registry.register(AZURE_REGISTRATION)
}
