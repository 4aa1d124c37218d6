//! The keep-unmasked step through the facade: msgflux-image's implementation
//! is linked into every program that uses `msgflux`, and core's pipeline runs it.

use std::sync::Arc;

use msgflux::kit::testkit::{MemoryProvider, conformance, sample_image, sample_mask};
use msgflux::{Capabilities, MaskSupport, Model};

#[tokio::test]
async fn the_original_is_pasted_back_outside_the_mask_and_the_leak_is_reported() {
    // A provider that, like the GPT image models, changes every pixel outside the mask by 40 levels.
    let model = Model::from_provider(Arc::new(MemoryProvider::new("hint").with_leak(40)));
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model, 1.0).await;
}

#[tokio::test]
async fn a_provider_that_keeps_the_unmasked_area_is_reported_clean() {
    let model = Model::from_provider(Arc::new(MemoryProvider::new("exact")));
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model, 0.0).await;
}

#[tokio::test]
async fn a_model_without_masks_gets_the_step_by_default_and_never_sees_the_mask() {
    let caps = Capabilities::new().with_mask(MaskSupport::Unsupported);
    // Without a mask the memory provider repaints the whole image: it proves the mask was not sent.
    let model = Model::from_provider(Arc::new(MemoryProvider::new("maskless").with_capabilities(caps)));
    let response = model
        .edit("add a hat")
        .image(sample_image(64, 64))
        .mask(sample_mask(64, 64))
        .await
        .expect("a mask is fine: it only says what may change");
    let report = response.images[0].unmasked.as_ref().expect("the step ran by default");
    assert_eq!(report.leak.changed_fraction, 1.0, "the provider repainted everything");
    let result = response.images[0].to_image().await.expect("decodes").to_rgba8();
    let original = image::load_from_memory(&sample_image(64, 64))
        .expect("fixture")
        .to_rgba8();
    assert_eq!(
        result.get_pixel(0, 0),
        original.get_pixel(0, 0),
        "outside the mask is the original"
    );
}

#[tokio::test]
async fn turning_the_step_off_for_a_model_without_masks_refuses_the_mask_before_sending() {
    let caps = Capabilities::new().with_mask(MaskSupport::Unsupported);
    let provider = Arc::new(MemoryProvider::new("maskless").with_capabilities(caps));
    let model = Model::from_provider(provider.clone());
    let err = model
        .edit("add a hat")
        .image(sample_image(64, 64))
        .mask(sample_mask(64, 64))
        .keep_unmasked(false)
        .await
        .expect_err("the mask cannot be honoured");
    assert!(err.to_string().contains("does not accept a mask"), "{err}");
    assert_eq!(provider.calls(), 0, "nothing was sent");
}
