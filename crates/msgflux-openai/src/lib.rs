#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Registration under `openai` and `azure`.
mod registration;
// Endpoints, authentication and the typed settings: OpenAI, Azure OpenAI, compatible servers.
mod config;
// Every setting of a provider, and the default timeouts and retry policy.
mod builder;
// The HTTP client: sending with retries, reading bodies, the one call of the error mapping.
mod client;
// The provider: the model's rules, the request as a form, the answer as a response.
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

pub use builder::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, OpenAIBuilder, default_retry_policy};
pub use config::{AZURE_DEFAULT_API_VERSION, AzureConfig, Config, OPENAI_BASE_URL, OpenAIConfig, OpenAISettings};
pub use models::{DEFAULT_MODEL, KNOWN_MODELS, ModelFamily, ModelSpec, not_an_edit_model};
pub use options::{Background, InputFidelity, OpenAIEditOptions, OutputFormat, Quality};
pub use pricing::{PRICES_AS_OF, estimate_cost};
pub use provider::OpenAIProvider;
pub use registration::{AZURE_REGISTRATION, AZURE_SCHEME, OPENAI_REGISTRATION, OPENAI_SCHEME, register};
