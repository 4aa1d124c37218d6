//! What a provider author needs, kept apart from what users need (as Apache
//! OpenDAL keeps its `raw` module apart): the trait, registration, the
//! loaded request, validation, HTTP helpers, settings, the keep-unmasked
//! plug-in point, and (feature `testkit`) the test kit.
//!
//! docs/architecture.md has the checklist a new provider crate follows.

// The provider trait and the settings its factory receives.
pub(crate) mod provider;
// The keep-unmasked plug-in point.
pub(crate) mod unmasked;

// Shared HTTP facts: status mapping, retry-after, transport errors, capped bodies, redacted URLs.
pub mod http;
// Local file work from async code: in place on a current-thread runtime, on the blocking pool otherwise.
pub mod local_io;
// An in-memory provider, fixtures and the conformance suite every provider runs.
#[cfg(feature = "testkit")]
pub mod testkit;

pub use crate::decode::{
    ImageHeader, decode_oriented, decode_with_limits, guarded_decode, read_header, sniff_format, swaps_sides,
};
pub use crate::error::Violations;
pub use crate::format::human_bytes;
pub use crate::progress::report;
pub use crate::registry::{CreateProvider, DescribeModel, ProviderHint, ProviderRegistration};
pub use crate::request::{LoadedRequest, image_param, resolve_inputs};
pub use crate::retry::Idempotency;
pub use provider::{EditProvider, ProviderConfig};
pub use unmasked::{KeepUnmasked, KeptUnmasked, SubmittedKeepUnmasked};

/// Re-exported so provider crates implement [`EditProvider`] with the same macro version.
pub use async_trait::async_trait;
/// Re-exported so provider crates and their users share one secret type.
pub use secrecy::{ExposeSecret, SecretString};
