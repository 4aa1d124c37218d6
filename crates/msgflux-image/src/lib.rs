#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Safe decoding: sniffing, limits before allocation, EXIF orientation.
mod decode;
// Encoding and the settings stepped through to meet a byte budget.
mod encode;
// Rectangles, fit modes and the placement shared by an image and its mask.
mod geometry;
// The mask type and its conventions.
mod mask;
// Prepare an image and mask for a target.
mod prepare;
// Resampling (fast_image_resize).
mod resize;
// Mask builders.
mod shapes;

pub use decode::{Decoded, decode, decode_file};
pub use encode::{EncodeSetting, PngLevel, encode, encode_png};
pub use geometry::{CropAnchor, Fit, PadFill, Placement, Rect};
pub use mask::{Mask, convert_mask};
pub use prepare::{
    EncodeAttempt, ImageSummary, PrepareReport, PrepareTarget, Prepared, PreparedInputs, TargetSize, prepare,
    prepare_bytes, prepare_loaded,
};

/// Re-exported: the orientation type of [`Decoded::orientation`].
pub use image::metadata::Orientation;
/// Re-exported so callers name the same limits, conventions and sizes as msgflux-core.
pub use msgflux_core::{DecodeLimits, MaskConvention, Size};
