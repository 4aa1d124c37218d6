//! The provider options of the local models: their names, their specs in
//! the capability table, a typed struct to set them, and their reading into
//! fill settings. One place for all three.

use std::collections::BTreeMap;

use msgflux_core::kit::LoadedRequest;
use msgflux_core::{IntoOptions, OptionSpec, OptionValue, Result};

use crate::patchmatch::PatchMatchSettings;
use crate::telea::TeleaSettings;

/// Option name: side of the compared patches (`local/patchmatch`).
pub const OPTION_PATCH_SIZE: &str = "patch_size";
/// Option name: EM iterations per pyramid level (`local/patchmatch`).
pub const OPTION_ITERATIONS: &str = "iterations";
/// Option name: neighbourhood radius (`local/telea`).
pub const OPTION_RADIUS: &str = "radius";

/// Typed options for the local models; pass them with `.options(...)`.
/// Unset fields keep the defaults. Options a model does not take are refused
/// (`radius` is for `local/telea`, the others for `local/patchmatch`).
///
/// ```
/// use msgflux_core::IntoOptions;
/// use msgflux_local::LocalEditOptions;
/// let options = LocalEditOptions::default().with_patch_size(9).with_iterations(6).into_options();
/// assert_eq!(options["patch_size"].as_i64(), Some(9));
/// assert!(!options.contains_key("radius"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalEditOptions {
    /// Patch side for `local/patchmatch`: odd, 3 to 15 (default 9).
    pub patch_size: Option<u32>,
    /// EM iterations per level for `local/patchmatch`: 1 to 20 (default 4).
    pub iterations: Option<u32>,
    /// Neighbourhood radius for `local/telea`: 1 to 32 (default 5).
    pub radius: Option<u32>,
}

impl LocalEditOptions {
    /// Sets [`LocalEditOptions::patch_size`].
    pub fn with_patch_size(mut self, size: u32) -> Self {
        self.patch_size = Some(size);
        self
    }

    /// Sets [`LocalEditOptions::iterations`].
    pub fn with_iterations(mut self, iterations: u32) -> Self {
        self.iterations = Some(iterations);
        self
    }

    /// Sets [`LocalEditOptions::radius`].
    pub fn with_radius(mut self, radius: u32) -> Self {
        self.radius = Some(radius);
        self
    }
}

impl IntoOptions for LocalEditOptions {
    fn into_options(self) -> BTreeMap<String, OptionValue> {
        [
            (OPTION_PATCH_SIZE, self.patch_size),
            (OPTION_ITERATIONS, self.iterations),
            (OPTION_RADIUS, self.radius),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name.to_string(), OptionValue::from(v))))
        .collect()
    }
}

/// The option specs of `local/patchmatch`.
pub(crate) fn patchmatch_specs() -> Vec<OptionSpec> {
    vec![
        OptionSpec::integer(
            OPTION_PATCH_SIZE,
            i64::from(PatchMatchSettings::MIN_PATCH_SIZE)..=i64::from(PatchMatchSettings::MAX_PATCH_SIZE),
            "side of the compared patches in pixels, odd (default 9); larger keeps larger structures together",
        ),
        OptionSpec::integer(
            OPTION_ITERATIONS,
            1..=i64::from(PatchMatchSettings::MAX_ITERATIONS),
            "EM iterations per pyramid level (default 4); the finest level runs half as many",
        ),
    ]
}

/// The option specs of `local/telea`.
pub(crate) fn telea_specs() -> Vec<OptionSpec> {
    vec![OptionSpec::integer(
        OPTION_RADIUS,
        1..=i64::from(TeleaSettings::MAX_RADIUS),
        "radius in pixels of the known neighbourhood each pixel is filled from (default 5)",
    )]
}

/// PatchMatch settings from a request's options, checked (an even patch size is refused here); the seed is set per variation.
pub(crate) fn patchmatch_settings(request: &LoadedRequest) -> Result<PatchMatchSettings> {
    let mut settings = PatchMatchSettings::default();
    if let Some(size) = integer(request, OPTION_PATCH_SIZE) {
        settings = settings.with_patch_size(size);
    }
    if let Some(iterations) = integer(request, OPTION_ITERATIONS) {
        settings = settings.with_iterations(iterations);
    }
    settings.check()?;
    Ok(settings)
}

/// Telea settings from a request's options, checked.
pub(crate) fn telea_settings(request: &LoadedRequest) -> Result<TeleaSettings> {
    let mut settings = TeleaSettings::default();
    if let Some(radius) = integer(request, OPTION_RADIUS) {
        settings = settings.with_radius(radius);
    }
    settings.check()?;
    Ok(settings)
}

/// An integer option; the capability check has already refused values out
/// of the spec's range, so the conversion saturates only on impossible input.
fn integer(request: &LoadedRequest, name: &str) -> Option<u32> {
    request
        .get_option(name)
        .and_then(OptionValue::as_i64)
        .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
}
