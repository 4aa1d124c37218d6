//! The Google provider against its emulator (`msgflux_emulators::google`):
//! the core conformance and fault suites, request shapes, the Files API,
//! refusals and quotas, validation that sends nothing, Vertex AI, the mask hint.

mod conformance;
mod faults;
mod refusals;
mod requests;
mod support;
mod validation;
mod vertex;
