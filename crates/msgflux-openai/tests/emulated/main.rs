//! The OpenAI provider against its emulator (`msgflux_emulators::openai`):
//! request shapes, the published contract, faults and retries, validation,
//! streaming, registration, and the core conformance suites.

mod conformance;
mod faults;
mod prepare;
mod registration;
mod requests;
mod spec_check;
mod streaming;
mod support;
mod validation;
