//! The OpenAI provider against the in-process emulator (tests/support):
//! request shapes, the published spec, faults and retries, validation,
//! streaming, registration, and the core conformance suite.

#[path = "../support/mod.rs"]
mod support;

mod conformance;
mod faults;
mod prepare;
mod registration;
mod requests;
mod spec_check;
mod streaming;
mod validation;
