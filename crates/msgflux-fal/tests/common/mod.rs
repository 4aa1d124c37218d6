//! Shared set-up for the tests: an emulator of fal (which checks every
//! request against the apps' input schemas and the queue protocol), and
//! providers tuned to poll and back off in milliseconds.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use msgflux_core::{Model, RetryPolicy};
use msgflux_fal::{FalBuilder, FalProvider};

// Each test file uses some of these.
#[allow(unused_imports)]
pub use msgflux_emulators::fal::{
    CANCEL, DOWNLOAD, Emulator, FIXTURE, RESULT, SCHEMA, STATUS, SUBMIT, UPLOAD, UPLOAD_INITIATE,
};

pub const FILL: &str = "fal-ai/flux-pro/v1/fill";
pub const KONTEXT: &str = "fal-ai/flux-pro/kontext";
pub const SEEDREAM: &str = "fal-ai/bytedance/seedream/v4/edit";

/// An emulator on the test's runtime.
pub async fn emulator() -> Emulator {
    Emulator::start().await.expect("emulator")
}

/// Retries that wait a millisecond instead of seconds (a server's long
/// `retry-after` falls back to the backoff).
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .with_max_retry_after(Duration::from_millis(100))
}

/// A builder pointed at the emulator, polling every 1-4 ms.
pub fn builder(emulator: &Emulator) -> FalBuilder {
    FalBuilder::new()
        .with_api_key(emulator.key())
        .with_base_url(emulator.base_url())
        .with_poll_interval(Duration::from_millis(1), Duration::from_millis(4))
        .with_retry(fast_retries())
}

pub fn provider(emulator: &Emulator, app: &str) -> FalProvider {
    builder(emulator).build(app).expect("provider builds")
}

pub fn model(emulator: &Emulator, app: &str) -> Model {
    Model::from_provider(Arc::new(provider(emulator, app)))
}

pub fn model_from(builder: FalBuilder, app: &str) -> Model {
    Model::from_provider(Arc::new(builder.build(app).expect("provider builds")))
}

/// A textured 64x64 PNG, and the msgflux mask whose transparent middle quarter is the edit area.
pub fn image() -> Vec<u8> {
    msgflux_core::kit::testkit::sample_image(64, 64)
}

pub fn mask() -> Vec<u8> {
    msgflux_core::kit::testkit::sample_mask(64, 64)
}

/// Every request the emulator saw fits the apps' schemas and the protocol,
/// and every answer it gave fits the protocol.
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
