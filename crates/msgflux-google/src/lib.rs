#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Registration under `google`.
mod registration;
// Endpoints and authentication (Gemini API, Vertex AI), and the typed settings.
mod config;
// Every setting of a provider, and the default timeouts and retry policy.
mod builder;
// The HTTP client: generateContent and the Files API with retries, the one call of the error mapping.
mod client;
// The provider: the model's rules, the request as parts, n parallel calls, the answer as a response.
mod provider;
// What each model accepts, and the rules the table cannot express.
mod models;
// The request body of generateContent, and the mask-hint image.
mod request;
// Error answers (google.rpc.Status) and refusals inside answers as msgflux errors.
mod error;
// generateContent answers as msgflux responses.
mod response;
// Prices and cost estimates.
mod pricing;

pub use builder::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_INLINE_LIMIT, DEFAULT_READ_TIMEOUT, GoogleBuilder, default_retry_policy,
};
pub use config::{GEMINI_BASE_URL, GeminiConfig, GoogleSettings, MaskHint, VERTEX_DEFAULT_LOCATION, VertexConfig};
pub use models::{DEFAULT_MODEL, KNOWN_MODELS, ModelSpec, not_an_edit_model};
pub use pricing::{PRICES_AS_OF, TokenCounts, estimate_cost};
pub use provider::GoogleProvider;
pub use registration::{GOOGLE_REGISTRATION, GOOGLE_SCHEME, register};
