//! What the tests share: the emulator, a builder pointed at it with
//! millisecond polls and backoffs, and fixtures.
#![allow(dead_code, unused_imports)]

use std::sync::Arc;
use std::time::Duration;

use msgflux_bfl::BflBuilder;
use msgflux_core::kit::testkit::{sample_image, sample_mask};
use msgflux_core::{EditRequest, Model, RetryPolicy};
pub use msgflux_emulators::bfl::{DOWNLOAD, Emulator, POLL, SUBMIT};

pub const FILL: &str = "flux-pro-1.0-fill";
pub const KONTEXT: &str = "flux-kontext-pro";
pub const FLUX2: &str = "flux-2-pro";
pub const EXPAND: &str = "flux-pro-1.0-expand";

pub async fn emulator() -> Emulator {
    Emulator::start().await.expect("the emulator starts")
}

/// Polls every 1 ms growing to 4 ms, answers within 300 ms, backoffs of
/// milliseconds, and a server's wait honoured up to 100 ms.
pub fn builder(emulator: &Emulator) -> BflBuilder {
    BflBuilder::new()
        .with_api_key(emulator.key())
        .with_base_url(emulator.base_url())
        .with_poll_interval(Duration::from_millis(1), Duration::from_millis(4))
        .with_timeout(Duration::from_millis(300))
        .with_retry(
            RetryPolicy::default()
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
                .with_max_retry_after(Duration::from_millis(100)),
        )
}

pub fn model(emulator: &Emulator, id: &str) -> Model {
    Model::from_provider(Arc::new(builder(emulator).build(id).expect("the provider builds")))
}

pub fn assert_no_problems(emulator: &Emulator) {
    let problems = emulator.problems();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A 64x64 sample photo with the sample mask (a transparent middle quarter).
pub fn masked_request(prompt: &str) -> EditRequest {
    EditRequest::new(prompt)
        .image(sample_image(64, 64))
        .mask(sample_mask(64, 64))
}
