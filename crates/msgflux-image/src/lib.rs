#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Safe decoding: sniffing, limits before allocation, EXIF orientation.
mod decode;
// JPEG decoding at 1/2, 1/4 or 1/8 scale in the DCT domain, for prepare.
mod decode_reduced;
// Our own baseline JPEG decoder at half scale, on two threads (decode_reduced's fast path).
mod jpeg;
// The window of rows a streamed decoder holds (the JPEG and PNG row readers).
mod held_rows;
// A PNG's rows inflated on another thread and taken from the top (prepare's streamed path).
mod png_rows;
// Encoding and the settings stepped through to meet a byte budget.
mod encode;
// Rectangles, fit modes and the placement shared by an image and its mask.
mod geometry;
// Resampling (through msgflux-resample).
mod resize;

// The mask type and its conventions.
mod mask;
// Mask operations: invert, dilate, erode, feather, union, intersection.
mod ops;
// Mask builders: rectangle, ellipse, polygon, strokes, threshold, colour, alpha.
mod shapes;
// Checking a mask against its image and a provider's rules.
mod validate;

// Prepare an image and mask for a target.
mod prepare;
// Prepare's fastest path: a JPEG or PNG scaled and encoded while it is decoded.
mod prepare_streamed;

// Side-by-side view, difference heatmap, mask-leak report.
mod compare;
// Composite-back and crop-to-mask.
mod composite;
// Label text for comparisons.
mod text;

pub use decode::{Decoded, decode, decode_file};
pub use encode::{EncodeSetting, PngLevel, encode, encode_png};
pub use geometry::{CropAnchor, Fit, PadFill, Placement, Rect};

pub use mask::{Mask, convert_mask, parse_convention};
pub use shapes::Stroke;
pub use validate::MaskRules;

pub use prepare::{
    EncodeAttempt, ImageSummary, PrepareReport, PrepareTarget, Prepared, PreparedInputs, TargetSize, prepare,
    prepare_bytes, prepare_loaded,
};

pub use compare::{
    CompareOptions, DEFAULT_LEAK_THRESHOLD, Overlay, before_after_png, difference_heatmap, leak_report, side_by_side,
};
pub use composite::{KEEP_UNMASKED_FEATHER, MaskCrop, composite_back, crop_to_mask, keep_unmasked};

/// Re-exported: the orientation type of [`Decoded::orientation`].
pub use image::metadata::Orientation;
/// Re-exported so callers name the same limits, conventions and sizes as msgflux-core.
pub use msgflux_core::{DecodeLimits, LeakReport, MaskConvention, Size, UnmaskedReport};
