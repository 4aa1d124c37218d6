//! The core conformance suites, run over the provider against the emulator:
//! the request checks, keep-unmasked, and (in `faults.rs`) the fault cases.

use std::sync::Arc;

use msgflux_core::Model;
use msgflux_core::kit::testkit::conformance;
use msgflux_openai::{AzureConfig, OpenAIBuilder};

use crate::support::{EMULATOR_API_VERSION, EMULATOR_KEY, assert_clean, emulator, fast_retry, model};

#[tokio::test]
async fn dall_e_2_passes_the_conformance_suite() {
    let emulator = emulator().await;
    conformance::run_all(&model(&emulator, "dall-e-2")).await;
    assert_clean(&emulator);
}

#[tokio::test]
async fn gpt_image_1_passes_the_conformance_suite() {
    let emulator = emulator().await;
    conformance::run_all(&model(&emulator, "gpt-image-1")).await;
    assert_clean(&emulator);
}

#[tokio::test]
async fn an_azure_deployment_passes_the_conformance_suite() {
    let emulator = emulator().await;
    let config = AzureConfig::new(emulator.azure_endpoint())
        .with_api_key(EMULATOR_KEY)
        .with_api_version(EMULATOR_API_VERSION);
    let provider = OpenAIBuilder::azure(config)
        .with_azure_model("gpt-image-1.5")
        .with_retry(fast_retry())
        .build("edits-deployment")
        .expect("builds");
    conformance::run_all(&Model::from_provider(Arc::new(provider))).await;
    assert_eq!(
        crate::support::last_edit(&emulator).path,
        "/openai/deployments/edits-deployment/images/edits"
    );
    assert_clean(&emulator);
}

#[tokio::test]
async fn keep_unmasked_restores_every_pixel_a_leaking_gpt_model_changed_outside_the_mask() {
    let emulator = emulator().await;
    emulator.set_leak(40);
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(&emulator, "gpt-image-1"), 1.0).await;
    assert_eq!(emulator.edit_count(), 1);
    assert_clean(&emulator);
}

#[tokio::test]
async fn keep_unmasked_reports_no_leak_when_nothing_outside_the_mask_changed() {
    let emulator = emulator().await;
    emulator.set_leak(0);
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(&emulator, "gpt-image-1"), 0.0).await;
    assert_eq!(emulator.edit_count(), 1);
    assert_clean(&emulator);
}
