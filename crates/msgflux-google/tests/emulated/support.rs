//! Shared test support: a provider pointed at the emulator.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use msgflux_core::{Model, RetryPolicy};
use msgflux_google::{GoogleBuilder, default_retry_policy};

pub use msgflux_emulators::google::{EMULATOR_KEY, EMULATOR_TOKEN, Emulator};

/// The default retry policy with millisecond backoffs.
pub fn fast_retry() -> RetryPolicy {
    default_retry_policy()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .with_max_retry_after(Duration::from_millis(200))
}

/// A builder pointed at the emulator, with the right key and fast retries.
pub fn builder(emulator: &Emulator) -> GoogleBuilder {
    GoogleBuilder::new()
        .with_base_url(emulator.base_url())
        .with_api_key(EMULATOR_KEY)
        .with_retry(fast_retry())
        .with_read_timeout(Duration::from_secs(20))
}

/// A model on the emulator.
pub fn model(emulator: &Emulator, name: &str) -> Model {
    Model::from_provider(Arc::new(builder(emulator).build(name).expect("the provider builds")))
}

/// Starts an emulator on the test's runtime.
pub async fn emulator() -> Emulator {
    Emulator::start().await.expect("emulator")
}

/// The last generateContent request's JSON body.
pub fn last_body(emulator: &Emulator) -> serde_json::Value {
    emulator
        .generates()
        .pop()
        .and_then(|r| r.json().cloned())
        .expect("a generateContent request reached the emulator")
}

/// A textured PNG.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    msgflux_core::kit::testkit::sample_image(width, height)
}

/// The standard mask: opaque with a transparent (edit) middle.
pub fn mask(width: u32, height: u32) -> Vec<u8> {
    msgflux_core::kit::testkit::sample_mask(width, height)
}

/// Asserts that every request was well-formed and every answer fit the contract.
pub fn assert_clean(emulator: &Emulator) {
    let problems = emulator.problems();
    assert!(problems.is_empty(), "emulator saw problems: {problems:#?}");
}
