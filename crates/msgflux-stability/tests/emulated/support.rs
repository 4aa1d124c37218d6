//! Providers and models pointed at the emulator, with timeouts and retries in milliseconds.

use std::sync::Arc;
use std::time::Duration;

use msgflux_core::kit::testkit::{sample_image, sample_mask};
use msgflux_core::{EditRequest, Model, RetryPolicy};
use msgflux_emulators::stability::Emulator;
use msgflux_stability::{StabilityBuilder, default_retry_policy};

/// The read timeout of every test model.
pub const READ_TIMEOUT: Duration = Duration::from_millis(300);

/// Retries that wait milliseconds.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .with_max_retry_after(Duration::from_millis(50))
}

/// A builder for the emulator at `base_url`, polling every few milliseconds.
pub fn builder(base_url: &str) -> StabilityBuilder {
    StabilityBuilder::new()
        .with_api_key(msgflux_emulators::stability::EMULATOR_KEY)
        .with_base_url(base_url)
        .with_timeout(READ_TIMEOUT)
        .with_retry(fast_retry())
        .with_poll_interval(Duration::from_millis(1), Duration::from_millis(4))
}

/// A model of `service` on the emulator.
pub fn model(emulator: &Emulator, service: &str) -> Model {
    Model::from_provider(Arc::new(
        builder(&emulator.base_url()).build(service).expect("provider builds"),
    ))
}

/// A model of `service` on the emulator with the crate's default retry policy (milliseconds of backoff).
pub fn model_with_default_retries(emulator: &Emulator, service: &str) -> Model {
    let retry = default_retry_policy()
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .with_max_retry_after(Duration::from_millis(50));
    let provider = builder(&emulator.base_url())
        .with_retry(retry)
        .build(service)
        .expect("provider builds");
    Model::from_provider(Arc::new(provider))
}

/// A started emulator.
pub async fn emulator() -> Emulator {
    Emulator::start().await.expect("the emulator starts")
}

/// A 64x64 sample photo with the sample mask (the middle quarter is the edit area).
pub fn masked(prompt: &str) -> EditRequest {
    EditRequest::new(prompt)
        .image(sample_image(64, 64))
        .mask(sample_mask(64, 64))
}

/// A 64x64 sample photo without a mask.
pub fn unmasked(prompt: &str) -> EditRequest {
    EditRequest::new(prompt).image(sample_image(64, 64))
}

/// Asserts the emulator saw no broken rule.
pub fn assert_clean(emulator: &Emulator) {
    assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
}
