//! Core's provider conformance suites, run over every built-in model and a
//! schema-mapped one through the emulator: the request checks, and
//! keep-unmasked on a mask model and on mask-less ones.

use crate::common;

use common::{CREATE, assert_no_problems, emulator, model};
use msgflux_core::kit::testkit::conformance;

async fn conforms(model_id: &str) {
    let emulator = emulator().await;
    // Schema-mapped models learn their capabilities from the API on first use.
    conformance::run_all(&model(&emulator, model_id)).await;
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn stable_diffusion_inpainting_conforms() {
    conforms("stability-ai/stable-diffusion-inpainting").await;
}

#[tokio::test]
async fn flux_fill_pro_conforms() {
    conforms("black-forest-labs/flux-fill-pro").await;
}

#[tokio::test]
async fn flux_fill_dev_conforms() {
    conforms("black-forest-labs/flux-fill-dev").await;
}

#[tokio::test]
async fn flux_kontext_pro_conforms() {
    conforms("black-forest-labs/flux-kontext-pro").await;
}

#[tokio::test]
async fn nano_banana_conforms() {
    conforms("google/nano-banana").await;
}

#[tokio::test]
async fn a_schema_mapped_model_conforms() {
    conforms("acme/odd-inpainter").await;
}

#[tokio::test]
async fn keep_unmasked_restores_what_a_leaking_fill_model_changed_outside_the_mask() {
    let emulator = emulator().await;
    emulator.set_leak(40);
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(
        &model(&emulator, "black-forest-labs/flux-fill-pro"),
        1.0,
    )
    .await;
    assert_eq!(emulator.count(CREATE), 1);
    assert!(
        emulator.create_bodies()[0]["input"].get("mask").is_some(),
        "a fill model gets the mask"
    );
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn keep_unmasked_reports_no_leak_from_a_fill_model_that_kept_the_rest() {
    let emulator = emulator().await;
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(
        &model(&emulator, "stability-ai/stable-diffusion-inpainting"),
        0.0,
    )
    .await;
    assert_eq!(emulator.count(CREATE), 1);
    assert_no_problems(&emulator);
}

/// A model without a mask input repaints the whole image: keep-unmasked
/// (on by default for such models) pastes the original back outside the
/// mask, reports that every pixel there had changed, and never sends the mask.
async fn keeps_unmasked_without_sending_the_mask(model_id: &str) {
    let emulator = emulator().await;
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(&emulator, model_id), 1.0).await;
    let bodies = emulator.create_bodies();
    assert_eq!(bodies.len(), 1);
    let input = bodies[0]["input"].as_object().expect("an input object");
    assert!(
        input.keys().all(|name| !name.contains("mask")),
        "{model_id} must not be sent a mask: {:?}",
        input.keys().collect::<Vec<_>>()
    );
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn keep_unmasked_on_flux_kontext_keeps_the_original_and_sends_no_mask() {
    keeps_unmasked_without_sending_the_mask("black-forest-labs/flux-kontext-pro").await;
}

#[tokio::test]
async fn keep_unmasked_on_nano_banana_keeps_the_original_and_sends_no_mask() {
    keeps_unmasked_without_sending_the_mask("google/nano-banana").await;
}
