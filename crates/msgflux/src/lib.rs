#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// The core API: `Model`, requests, responses, `Error`, the registry,
// `functional::map_gather`, and (behind features) `blocking` and `testkit`.
pub use msgflux_core::*;

/// Image and mask utilities: safe decoding, prepare, masks, compare, composite-back, crop-to-mask.
pub use msgflux_image as image;

/// The provider crates compiled into this build.
///
/// Naming each crate here is what makes the linker keep its link-time
/// registration (see "the linking trap" in docs/architecture.md).
pub mod providers {
    /// OpenAI and Azure OpenAI image edits (feature `openai`).
    #[cfg(feature = "openai")]
    pub use msgflux_openai as openai;

    /// Replicate predictions (feature `replicate`).
    #[cfg(feature = "replicate")]
    pub use msgflux_replicate as replicate;

    /// Offline content-aware fill (feature `local`).
    #[cfg(feature = "local")]
    pub use msgflux_local as local;
}
