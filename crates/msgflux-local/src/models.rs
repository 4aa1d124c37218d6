//! The local models and what each accepts: `local/patchmatch` and `local/telea`.

use std::fmt;
use std::str::FromStr;

use msgflux_core::{Capabilities, Error, MaskConvention, MaskSupport, ResponseFormat, Result, SizeRule};

use crate::options;
use crate::registration::LOCAL_SCHEME;

/// The models: `local/patchmatch` and `local/telea`.
pub const LOCAL_MODELS: &[&str] = &["patchmatch", "telea"];

/// Seed of `local/patchmatch` when the request sets none, so that results repeat.
pub const DEFAULT_SEED: u64 = 0;

/// Most variations (`n`) of `local/patchmatch` in one request.
pub const MAX_VARIATIONS: u32 = 10;

/// The fill a local model runs.
///
/// ```
/// use msgflux_local::Algorithm;
/// let algorithm: Algorithm = "patchmatch".parse()?;
/// assert_eq!(algorithm, Algorithm::PatchMatch);
/// assert!(!algorithm.capabilities().honours_prompt);
/// assert!("dall-e-2".parse::<Algorithm>().is_err());
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// `local/patchmatch`: multi-scale PatchMatch completion; copies texture and structure, stays sharp.
    PatchMatch,
    /// `local/telea`: fast marching; smooth and quick, blurry on large holes.
    Telea,
}

impl Algorithm {
    /// The model name (`patchmatch`, `telea`).
    pub fn name(self) -> &'static str {
        match self {
            Self::PatchMatch => LOCAL_MODELS[0],
            Self::Telea => LOCAL_MODELS[1],
        }
    }

    /// What the model accepts. Both ignore the prompt, need a mask (alpha 0 =
    /// fill) and keep the input size; only PatchMatch takes a seed and `n > 1`.
    pub fn capabilities(self) -> Capabilities {
        let common = Capabilities::new()
            .with_honours_prompt(false)
            .with_max_images(1)
            .with_mask(MaskSupport::Required)
            .with_mask_requires_alpha(true)
            .with_mask_convention(MaskConvention::TransparentIsEdit)
            .with_sizes(SizeRule::InputSize)
            .with_response_formats([ResponseFormat::Url, ResponseFormat::Base64]);
        match self {
            Self::PatchMatch => options::patchmatch_specs().into_iter().fold(
                common.with_n(1..=MAX_VARIATIONS).with_seed(true),
                Capabilities::with_option,
            ),
            Self::Telea => options::telea_specs()
                .into_iter()
                .fold(common.with_n(1..=1).with_seed(false), Capabilities::with_option),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "patchmatch" => Ok(Self::PatchMatch),
            "telea" => Ok(Self::Telea),
            other => Err(Error::invalid(
                "model",
                format!(
                    "`{LOCAL_SCHEME}/{other}` is not a local model; models: {}",
                    LOCAL_MODELS
                        .iter()
                        .map(|m| format!("{LOCAL_SCHEME}/{m}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}
