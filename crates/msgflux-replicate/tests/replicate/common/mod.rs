//! Shared set-up for the tests: an emulator (which checks every request
//! against the committed API description and the models' input schemas),
//! and providers tuned to poll and back off in milliseconds.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use msgflux_core::{Model, RetryPolicy};
use msgflux_replicate::{ReplicateBuilder, ReplicateProvider};

// Each test file uses some of these.
#[allow(unused_imports)]
pub use msgflux_emulators::replicate::{CANCEL, CREATE, DOWNLOAD, Emulator, MODEL_READ, POLL, UPLOAD};

/// An emulator on the test's runtime.
pub async fn emulator() -> Emulator {
    Emulator::start().await.expect("emulator")
}

/// Retries that wait a millisecond instead of seconds (a server's long
/// `retry_after` falls back to the backoff).
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(4))
        .with_max_retry_after(Duration::ZERO)
}

/// A builder pointed at the emulator, polling every 1-4 ms.
pub fn builder(emulator: &Emulator) -> ReplicateBuilder {
    ReplicateBuilder::new()
        .with_api_token(emulator.key())
        .with_base_url(emulator.base_url())
        .with_poll_interval(Duration::from_millis(1), Duration::from_millis(4))
        .with_retry(fast_retries())
}

pub fn provider(emulator: &Emulator, model: &str) -> ReplicateProvider {
    builder(emulator).build(model).expect("provider builds")
}

pub fn model(emulator: &Emulator, model: &str) -> Model {
    Model::from_provider(Arc::new(provider(emulator, model)))
}

/// A textured 64x64 PNG and the OpenAI-style mask whose transparent middle quarter is the edit area.
pub fn image() -> Vec<u8> {
    msgflux_core::kit::testkit::sample_image(64, 64)
}

pub fn mask() -> Vec<u8> {
    msgflux_core::kit::testkit::sample_mask(64, 64)
}

/// A sample photo from the repository's assets.
pub fn asset(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets")
        .join(name)
}

/// Every request the emulator saw fits the API description and the models'
/// schemas, and every answer it gave fits the description.
pub fn assert_no_problems(emulator: &Emulator) {
    let problems = emulator.problems();
    assert!(problems.is_empty(), "requests broke the contract: {problems:#?}");
}

/// Decodes a `data:` URI input.
pub fn decode_data_uri(value: &serde_json::Value) -> image::DynamicImage {
    use base64::Engine as _;
    let text = value.as_str().expect("a string input");
    let payload = text
        .strip_prefix("data:")
        .and_then(|r| r.split_once(','))
        .map(|(_, p)| p)
        .expect("a data URI");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .expect("base64");
    image::load_from_memory(&bytes).expect("an image")
}
