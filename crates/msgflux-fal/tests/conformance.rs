//! Core's provider conformance suites, run over every built-in app and a
//! schema-mapped one through the emulator: the request checks, and
//! keep-unmasked on the fill app (which takes the mask) and on mask-less ones.

mod common;

use common::{FILL, KONTEXT, SUBMIT, assert_no_problems, emulator, model};
use msgflux_core::kit::testkit::conformance;

async fn conforms(app: &str) {
    let emulator = emulator().await;
    conformance::run_all(&model(&emulator, app)).await;
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn flux_kontext_conforms() {
    conforms(KONTEXT).await;
}

#[tokio::test]
async fn flux_kontext_max_conforms() {
    conforms("fal-ai/flux-pro/kontext/max").await;
}

#[tokio::test]
async fn flux_fill_conforms() {
    conforms(FILL).await;
}

#[tokio::test]
async fn qwen_image_edit_conforms() {
    conforms("fal-ai/qwen-image-edit").await;
}

#[tokio::test]
async fn seedream_edit_conforms() {
    conforms("fal-ai/bytedance/seedream/v4/edit").await;
}

#[tokio::test]
async fn nano_banana_edit_conforms() {
    conforms("fal-ai/nano-banana/edit").await;
}

#[tokio::test]
async fn nano_banana_pro_edit_conforms() {
    conforms("fal-ai/nano-banana-pro/edit").await;
}

#[tokio::test]
async fn a_schema_mapped_app_conforms() {
    conforms("acme/odd-inpainter").await;
}

#[tokio::test]
async fn keep_unmasked_restores_what_a_leaking_fill_changed_outside_the_mask() {
    let emulator = emulator().await;
    emulator.set_leak(40);
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(&emulator, FILL), 1.0).await;
    assert_eq!(emulator.count(SUBMIT), 1);
    assert!(
        emulator.submit_bodies()[0].get("mask_url").is_some(),
        "fill gets the mask"
    );
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn keep_unmasked_reports_no_leak_from_a_fill_that_kept_the_rest() {
    let emulator = emulator().await;
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(&emulator, FILL), 0.0).await;
    assert_no_problems(&emulator);
}

/// An app without a mask input repaints the whole image: keep-unmasked (on
/// by default for such apps) pastes the original back outside the mask,
/// reports that every pixel there had changed, and never sends the mask.
async fn keeps_unmasked_without_sending_the_mask(app: &str) {
    let emulator = emulator().await;
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(&emulator, app), 1.0).await;
    let bodies = emulator.submit_bodies();
    assert_eq!(bodies.len(), 1);
    let input = bodies[0].as_object().expect("an input object");
    assert!(
        input.keys().all(|name| !name.contains("mask")),
        "{app} must not be sent a mask: {:?}",
        input.keys().collect::<Vec<_>>()
    );
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn keep_unmasked_on_kontext_keeps_the_original_and_sends_no_mask() {
    keeps_unmasked_without_sending_the_mask(KONTEXT).await;
}

#[tokio::test]
async fn keep_unmasked_on_qwen_keeps_the_original_and_sends_no_mask() {
    keeps_unmasked_without_sending_the_mask("fal-ai/qwen-image-edit").await;
}

#[tokio::test]
async fn keep_unmasked_on_seedream_keeps_the_original_and_sends_no_mask() {
    keeps_unmasked_without_sending_the_mask("fal-ai/bytedance/seedream/v4/edit").await;
}

#[tokio::test]
async fn keep_unmasked_on_nano_banana_keeps_the_original_and_sends_no_mask() {
    keeps_unmasked_without_sending_the_mask("fal-ai/nano-banana/edit").await;
}
