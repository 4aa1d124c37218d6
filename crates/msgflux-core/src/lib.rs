#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// What a model accepts, and the validation that reads it.
mod capabilities;
// Decoding untrusted bytes within limits.
mod decode;
// The one error type.
mod error;
// Image formats, sniffed from bytes.
mod format;
// Image inputs: paths, URLs, data URIs, base64, bytes, in-memory images.
mod input;
// The user-facing model handle and its awaitable builder.
mod model;
// The provider contract and its factory settings.
mod provider;
// Which providers exist.
mod registry;
// Requests.
mod request;
// Responses and `consume()`.
mod response;
// Retries that never bill twice.
mod retry;

// Batch execution (`map_gather`).
pub mod functional;
// Shared HTTP facts: status mapping, retry-after, transport errors.
pub mod http;

#[cfg(feature = "blocking")]
pub mod blocking;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use capabilities::{Capabilities, MaskConvention, MaskSupport, OptionKind, OptionSpec, Size, SizeRule};
pub use decode::{DecodeLimits, ImageHeader, decode_oriented, decode_with_limits, read_header, sniff_format};
pub use error::{Error, ProviderError, Result};
pub use format::ImageFormat;
pub use input::{ImageInput, InputLoader, InputOrigin, LoadedImage};
pub use model::{EditBuilder, Model, ModelBuilder};
pub use provider::{EditProvider, ProviderConfig};
pub use registry::{BUILTIN_FEATURES, CreateProvider, DescribeModel, ProviderRegistration, Registry, split_model_id};
pub use request::{EditRequest, IntoOptions, LoadedRequest, OptionValue, ResponseFormat};
pub use response::{Consumed, Cost, EditEvent, EditResponse, GeneratedImage, ImageData, Usage, write_atomic};
pub use retry::{Idempotency, RetryPolicy};

/// Re-exported so provider crates implement [`EditProvider`] with the same macro version.
pub use async_trait::async_trait;
/// Re-exported so provider crates and their users share one secret type.
pub use secrecy::{ExposeSecret, SecretString};

#[doc(hidden)]
pub mod __private {
    pub use crate::registry::Submitted;
    pub use inventory;
}
