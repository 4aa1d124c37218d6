//! The OpenAI provider against the crate's emulator (`msgflux_openai::emulator`):
//! request shapes, the published spec, faults and retries, validation,
//! streaming, registration, and the core conformance suite.

mod conformance;
mod faults;
mod prepare;
mod registration;
mod requests;
mod spec_check;
mod streaming;
mod support;
mod validation;
