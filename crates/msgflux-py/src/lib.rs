//! The Python package `msgflux_rs`: msgflux's documented `image_text_to_image`
//! API, backed by this workspace's providers, validation, mask conversion,
//! retries and image tools.
//!
//! This crate is the native half (`msgflux_rs._native`); the Python half in
//! `python/msgflux_rs/` holds the exception classes, the `nn.functional`
//! module path the docs import, and the type stubs.

use pyo3::prelude::*;

// The one Tokio runtime every call shares, and blocking on it without the GIL.
mod runtime;
// Rust errors → the package's Python exception classes, in one place.
mod errors;
// Python objects (str, Path, bytes, file objects, Pillow images, numpy arrays) → image inputs.
mod inputs;
// Call arguments → an `EditRequest`, shared by calls and batches.
mod request;
// `on_progress=`: each step of an edit handed to a Python callable.
mod progress;
// `Model`: the factory, the blocking call and `acall`.
mod model;
// `Response`: `consume()`, bytes, `save`, usage, cost, request id.
mod response;
// The batch behind `map_gather` and `amap_gather`.
mod functional;
// `msgflux_rs.image`: prepare, masks, compare, leak report.
mod image;

#[pymodule]
#[pyo3(name = "_native")]
fn msgflux_rs(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<model::Model>()?;
    module.add_class::<response::Response>()?;
    module.add_class::<functional::Batch>()?;
    image::register(module)?;
    Ok(())
}
