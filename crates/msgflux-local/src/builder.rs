//! [`LocalBuilder`]: the settings of a [`LocalProvider`], from code or from
//! a registry's `ProviderConfig`.

use std::path::PathBuf;

use msgflux_core::kit::ProviderConfig;
use msgflux_core::{Error, Result};

use crate::config::{LocalConfig, SETTING_MAX_PIXELS};
use crate::models::Algorithm;
use crate::provider::LocalProvider;

/// Builds a [`LocalProvider`].
///
/// ```
/// use msgflux_local::LocalBuilder;
/// let provider = LocalBuilder::new().with_output_dir("out").build("patchmatch")?;
/// assert_eq!(provider.to_string(), "local/patchmatch");
/// assert!(LocalBuilder::new().build("dall-e-2").is_err());
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct LocalBuilder {
    config: LocalConfig,
}

impl LocalBuilder {
    /// The defaults: `data:` URLs for `url` results, at most [`DEFAULT_MAX_PIXELS`](crate::DEFAULT_MAX_PIXELS).
    pub fn new() -> Self {
        Self::default()
    }

    /// The same as [`LocalBuilder::new`]: the local provider reads no environment variables.
    pub fn from_env() -> Self {
        Self::new()
    }

    /// A builder from a registry's configuration (its `settings`; see [`LocalConfig`]).
    pub fn from_provider_config(config: &ProviderConfig) -> Result<Self> {
        Ok(Self::new().with_config(LocalConfig::from_provider_config(config)?))
    }

    /// Replaces the whole configuration.
    pub fn with_config(mut self, config: LocalConfig) -> Self {
        self.config = config;
        self
    }

    /// Writes `url` results into this directory (see [`LocalConfig::output_dir`]).
    pub fn with_output_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config = self.config.with_output_dir(dir);
        self
    }

    /// Bounds the image size (see [`LocalConfig::max_pixels`]).
    pub fn with_max_pixels(mut self, pixels: u64) -> Self {
        self.config = self.config.with_max_pixels(pixels);
        self
    }

    /// The provider for a model name (`patchmatch`, `telea`).
    pub fn build(self, model: &str) -> Result<LocalProvider> {
        self.build_for(model.parse()?)
    }

    /// The provider for an [`Algorithm`].
    pub fn build_for(self, algorithm: Algorithm) -> Result<LocalProvider> {
        if self.config.max_pixels == 0 {
            return Err(Error::config(format!(
                "local setting {SETTING_MAX_PIXELS} must be a positive whole number of pixels"
            )));
        }
        Ok(LocalProvider::new_with(algorithm, self.config))
    }
}
