//! The local provider's settings: no key, no URL; where `url` results go and
//! how large an image may be. Read from `ProviderConfig::settings` as a
//! typed struct, so an unknown setting is an error listing the known ones.

use std::path::PathBuf;

use msgflux_core::Result;
use msgflux_core::kit::ProviderConfig;
use serde::Deserialize;

/// Setting naming a directory: `url` results are written there as PNG files
/// and returned as `file://` URLs.
pub const SETTING_OUTPUT_DIR: &str = "output_dir";

/// Setting bounding the image size, in pixels.
pub const SETTING_MAX_PIXELS: &str = "max_pixels";

/// Largest image filled by default: 4096x4096 pixels (about 0.5 GB of working memory).
pub const DEFAULT_MAX_PIXELS: u64 = 4096 * 4096;

/// Settings of the local provider.
///
/// ```
/// use msgflux_core::kit::ProviderConfig;
/// use msgflux_local::LocalConfig;
/// let config = LocalConfig::from_provider_config(&ProviderConfig::default().with_setting("output_dir", "out"))?;
/// assert_eq!(config.output_dir.as_deref(), Some(std::path::Path::new("out")));
/// let typo = LocalConfig::from_provider_config(&ProviderConfig::default().with_setting("output", "out"));
/// assert!(typo.unwrap_err().to_string().contains("expected `output_dir` or `max_pixels`"));
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct LocalConfig {
    /// Where `url` results are written as PNG files (returned as `file://`
    /// URLs); without it, `url` results are `data:` URLs.
    pub output_dir: Option<PathBuf>,
    /// Largest image accepted, in pixels (default [`DEFAULT_MAX_PIXELS`]).
    pub max_pixels: u64,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            output_dir: None,
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

impl LocalConfig {
    /// Reads the settings `output_dir` and `max_pixels` from a registry's
    /// configuration; any other setting is an error. Keys and URLs are not used.
    pub fn from_provider_config(config: &ProviderConfig) -> Result<Self> {
        config.settings_as("local")
    }

    /// Sets [`LocalConfig::output_dir`].
    pub fn with_output_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.output_dir = Some(dir.into());
        self
    }

    /// Sets [`LocalConfig::max_pixels`].
    pub fn with_max_pixels(mut self, pixels: u64) -> Self {
        self.max_pixels = pixels;
        self
    }
}
