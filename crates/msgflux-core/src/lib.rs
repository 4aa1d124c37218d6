#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// ---- What a user needs: at the top level ----

// The model handle, its builder, and the awaitable edit builder.
mod model;
// The one pipeline every edit goes through: check everything, send, check the answer, keep the unmasked area.
mod pipeline;
// Requests: prompt, inputs, n, size, options.
mod request;
// Sizes, exact or automatic.
mod size;
// Image inputs: paths, URLs, data URIs, base64, bytes, in-memory images.
mod input;
// Which network addresses URL inputs may reach (the guard against SSRF).
mod address;
// Image formats, sniffed from bytes.
mod format;
// Base64 of image files (SIMD: results are megabytes of it).
mod base64_text;
// Decoding untrusted bytes within limits.
mod decode;
// Responses, `consume()`, saves, the keep-unmasked report.
mod response;
// Durable, atomic file writes.
mod durable;
// What one edit is doing while the caller waits (queue, upload, running).
mod progress;
// The one error type, and the broken rules it carries.
mod error;
// What a model accepts, and the table's checks.
mod capabilities;
// Retries that never bill twice.
mod retry;
// Which providers exist.
mod registry;

// Batch execution (`map_gather`).
pub mod functional;
// Blocking wrappers, for scripts.
#[cfg(feature = "blocking")]
pub mod blocking;

// ---- What a provider author needs: in its own module ----
pub mod kit;

pub use address::{AddressPolicy, IpNet};
pub use capabilities::{Capabilities, MaskConvention, MaskSupport, OptionKind, OptionSpec, SizeRule};
pub use decode::DecodeLimits;
pub use durable::{is_staging_name, write_atomic};
pub use error::{Error, ProviderError, Result, Violation};
pub use format::ImageFormat;
pub use input::{ImageInput, InputLoader, InputOrigin, LoadedImage};
pub use model::{EditBuilder, Model, ModelBuilder};
pub use progress::{Progress, ProgressSink};
pub use registry::{Registry, split_model_id};
pub use request::{EditRequest, IntoOptions, OptionValue, ResponseFormat};
pub use response::{
    Consumed, Cost, EditEvent, EditResponse, GeneratedImage, ImageData, LeakReport, UnmaskedReport, Usage,
};
pub use retry::RetryPolicy;
pub use size::{OutputSize, Size};

#[doc(hidden)]
pub mod __private {
    pub use crate::registry::{Submitted, SubmittedHint};
    pub use inventory;
}
