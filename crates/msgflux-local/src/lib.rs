#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Which pixels to fill, and how strongly (OpenAI masks: alpha 0 = fill).
mod hole;
// Stopping a fill that nobody waits for any more.
mod cancel;
// The pixel buffer both fills work on.
mod raster;
// Smooth extension of values into the hole (the seam correction of PatchMatch).
mod membrane;
// The fill's fine detail scaled to the roughness around the hole (PatchMatch's last step).
mod roughness;
// Provider options: names, specs and the typed options struct.
mod options;
// Results as base64, `data:` URLs or `file://` files.
mod output;

// Registration under `local`.
mod registration;
// Settings: where `url` results go, the largest image.
mod config;
// `LocalBuilder`: settings from code or from a registry's configuration.
mod builder;
// The models and what each accepts.
mod models;
// The provider: its own rules, and the fill off the async runtime.
mod provider;

// Fast marching inpainting (Telea 2004): quick and smooth.
pub mod telea;
// PatchMatch completion (Barnes 2009, Wexler 2007): texture and structure from the image itself.
pub mod patchmatch;

pub use builder::LocalBuilder;
pub use cancel::CancelFlag;
pub use config::{DEFAULT_MAX_PIXELS, LocalConfig, SETTING_MAX_PIXELS, SETTING_OUTPUT_DIR};
pub use hole::HoleMask;
pub use models::{Algorithm, DEFAULT_SEED, LOCAL_MODELS, MAX_VARIATIONS};
pub use options::{LocalEditOptions, OPTION_ITERATIONS, OPTION_PATCH_SIZE, OPTION_RADIUS};
pub use patchmatch::PatchMatchSettings;
pub use provider::LocalProvider;
pub use registration::{LOCAL_REGISTRATION, LOCAL_SCHEME, register};
pub use telea::TeleaSettings;
