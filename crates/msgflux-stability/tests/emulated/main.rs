//! msgflux-stability against the emulator of Stability's v2beta edit
//! services (`msgflux_emulators::stability`), which checks every request
//! against the published OpenAPI document. No key, no network, no sleeping
//! for real seconds.

// Building providers and models that talk to the emulator.
mod support;
// The cross-provider conformance, fault and keep-unmasked suites.
mod conformance;
// Rules checked before anything is sent.
mod refusals;
// What the requests look like: the form, the mask, the seeds.
mod requests;
// Faults and behaviours of the service: moderation, async polling, expiry, retries.
mod service;
