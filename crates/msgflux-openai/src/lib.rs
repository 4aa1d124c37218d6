#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Endpoints and authentication: OpenAI, Azure OpenAI, compatible servers.
mod config;
// Every setting of a provider, and the default timeouts and retry policy.
mod builder;
// The provider itself, and the one place that sends the edit request.
mod provider;
// What each model accepts, and the rules the table cannot express.
mod models;
// Typed OpenAI options (quality, background, output format, ...).
mod options;
// The loaded request as a multipart form.
mod form;
// Error answers as msgflux errors.
mod error;
// Answers as msgflux responses.
mod response;
// Streamed partial images.
mod stream;
// The opt-in conversion of inputs that break a model's rules.
mod prepare;
// Prices and cost estimates.
mod pricing;
// Registration under `openai` and `azure`.
mod registration;

// An in-process emulator of `POST /v1/images/edits`, checked against the
// published spec, for tests and for running examples without a key.
#[cfg(feature = "emulator")]
pub mod emulator;

pub use builder::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, OpenAIBuilder, SETTINGS, default_retry_policy};
pub use config::{AZURE_DEFAULT_API_VERSION, AzureConfig, Config, OPENAI_BASE_URL, OpenAIConfig};
pub use models::{DEFAULT_MODEL, KNOWN_MODELS, ModelFamily, ModelSpec};
pub use options::{Background, InputFidelity, OpenAIEditOptions, OutputFormat, Quality};
pub use pricing::{PRICES_AS_OF, estimate_cost};
pub use provider::OpenAIProvider;
pub use registration::{AZURE_SCHEME, OPENAI_SCHEME, register_openai_provider};
