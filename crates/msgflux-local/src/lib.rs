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
// Provider options: names, specs and the typed options struct.
mod options;
// Results as base64, `data:` URLs or `file://` files.
mod output;
// The `local` provider: models, configuration, builder, registration, edit.
mod provider;

// Fast marching inpainting (Telea 2004): quick and smooth.
pub mod telea;
// PatchMatch completion (Barnes 2009, Wexler 2007): texture and structure from the image itself.
pub mod patchmatch;

pub use cancel::CancelFlag;
pub use hole::HoleMask;
pub use options::{LocalEditOptions, OPTION_ITERATIONS, OPTION_PATCH_SIZE, OPTION_RADIUS};
pub use patchmatch::PatchMatchSettings;
pub use provider::{
    Algorithm, DEFAULT_MAX_PIXELS, DEFAULT_SEED, LOCAL_MODELS, LOCAL_SCHEME, LocalBuilder, LocalConfig, LocalProvider,
    MAX_VARIATIONS, SETTING_MAX_PIXELS, SETTING_OUTPUT_DIR, register_local_provider,
};
pub use telea::TeleaSettings;
