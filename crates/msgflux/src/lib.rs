#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// The core API: `Model`, requests, responses, `Error`, the registry,
// `functional::map_gather`, `kit` for provider authors, and (behind
// features) `blocking` and `kit::testkit`.
pub use msgflux_core::*;

/// Image and mask utilities: safe decoding, prepare, masks, compare, composite-back, crop-to-mask.
///
/// Naming the crate here also links its keep-unmasked step into every
/// program that uses this facade.
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

    /// Stability AI v2beta edit services (feature `stability`).
    #[cfg(feature = "stability")]
    pub use msgflux_stability as stability;

    /// Black Forest Labs' FLUX API (feature `bfl`).
    #[cfg(feature = "bfl")]
    pub use msgflux_bfl as bfl;
    /// fal.ai's queue API (feature `fal`).
    #[cfg(feature = "fal")]
    pub use msgflux_fal as fal;
    /// Google Gemini image models (feature `google`).
    #[cfg(feature = "google")]
    pub use msgflux_google as google;

    /// Offline content-aware fill (feature `local`).
    #[cfg(feature = "local")]
    pub use msgflux_local as local;
}

/// The built-in providers, and for each the cargo feature of this crate that
/// adds it. `Error::ProviderUnavailable` names the feature when one of them
/// is not compiled in.
macro_rules! builtin_providers {
    ($(($provider:literal, $feature:literal)),* $(,)?) => {
        /// The built-in providers and the cargo feature of this crate that adds each.
        ///
        /// ```
        /// assert!(msgflux::BUILTIN_PROVIDERS.contains(&("azure", "openai")));
        /// ```
        pub const BUILTIN_PROVIDERS: &[(&str, &str)] = &[$(($provider, $feature)),*];
        $(
            msgflux_core::register_provider_hint!(msgflux_core::kit::ProviderHint::new(
                $provider,
                concat!("enable the `", $feature, "` feature of the `msgflux` crate (cargo add msgflux --features ", $feature, ")"),
            ));
        )*
    };
}

builtin_providers![
    ("openai", "openai"),
    ("azure", "openai"),
    ("replicate", "replicate"),
    ("stability", "stability"),
    ("bfl", "bfl"),
    ("fal", "fal"),
    ("google", "google"),
    ("local", "local"),
];
