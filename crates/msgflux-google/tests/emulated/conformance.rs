//! The core conformance suites over the provider against the emulator.

use msgflux_core::kit::testkit::conformance;
use msgflux_google::MaskHint;

use crate::support::{assert_clean, builder, emulator, model};

#[tokio::test]
async fn gemini_2_5_flash_image_passes_the_conformance_suite() {
    let emulator = emulator().await;
    conformance::run_all(&model(&emulator, "gemini-2.5-flash-image")).await;
    assert_clean(&emulator);
}

#[tokio::test]
async fn gemini_3_pro_image_passes_the_conformance_suite() {
    let emulator = emulator().await;
    conformance::run_all(&model(&emulator, "gemini-3-pro-image-preview")).await;
    assert_clean(&emulator);
}

#[tokio::test]
async fn keep_unmasked_restores_every_pixel_the_maskless_model_repainted() {
    // Gemini takes no mask: the emulated model repaints the whole picture,
    // so every pixel outside the mask changed and is pasted back.
    let emulator = emulator().await;
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(&emulator, "gemini-2.5-flash-image"), 1.0)
        .await;
    assert_eq!(emulator.generate_count(), 1);
    assert_clean(&emulator);
}

#[tokio::test]
async fn with_a_tint_hint_keep_unmasked_restores_what_a_leaking_model_changed() {
    let emulator = emulator().await;
    emulator.set_leak(40);
    let provider = builder(&emulator)
        .with_mask_hint(MaskHint::Tint)
        .build("gemini-2.5-flash-image")
        .expect("builds");
    let model = msgflux_core::Model::from_provider(std::sync::Arc::new(provider));
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model, 1.0).await;
    assert_clean(&emulator);
}

#[tokio::test]
async fn with_a_tint_hint_the_model_edits_only_the_hinted_area() {
    let emulator = emulator().await;
    let provider = builder(&emulator)
        .with_mask_hint(MaskHint::Tint)
        .build("gemini-3.1-flash-image")
        .expect("builds");
    let model = msgflux_core::Model::from_provider(std::sync::Arc::new(provider));
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model, 0.0).await;
    assert_clean(&emulator);
}
