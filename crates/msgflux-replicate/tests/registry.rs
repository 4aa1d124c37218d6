//! The provider through msgflux's registry: `replicate/owner/name` ids,
//! settings, and descriptions without credentials.

mod common;

use msgflux_core::{EditRequest, MaskConvention, Model, Registry};
use msgflux_replicate as _;

#[test]
fn linking_the_crate_registers_replicate() {
    assert!(Registry::global().names().contains(&"replicate".to_string()));
}

#[test]
fn models_are_described_without_a_token() {
    let caps = Registry::global()
        .describe("replicate/black-forest-labs/flux-fill-dev")
        .expect("describe");
    assert_eq!(caps.mask_convention, MaskConvention::WhiteIsEdit);
    assert!(caps.option("num_inference_steps").is_some());
}

#[test]
fn a_malformed_model_id_names_the_forms_accepted() {
    let err = Registry::global()
        .describe("replicate/flux-fill-pro")
        .expect_err("no owner");
    assert!(err.to_string().contains("owner/name"), "{err}");
}

#[tokio::test]
async fn image_text_to_image_works_through_the_registry() {
    let emulator = common::emulator().await;
    let model = Model::builder("replicate/stability-ai/stable-diffusion-inpainting")
        .api_key(emulator.token())
        .base_url(emulator.base_url())
        .setting("poll_interval_ms", "1")
        .setting("max_poll_interval_ms", "2")
        .build()
        .expect("model");
    assert_eq!(model.id(), "replicate/stability-ai/stable-diffusion-inpainting");
    let response = model
        .edit("a red door")
        .image(common::image())
        .mask(common::mask())
        .n(2)
        .await
        .expect("edit");
    assert_eq!(response.consume().len(), 2);
    common::assert_no_violations(&emulator);
}

#[tokio::test]
async fn a_schema_mapped_model_checks_options_before_its_first_call() {
    let emulator = common::emulator().await;
    let model = Model::builder("replicate/acme/odd-inpainter")
        .api_key(emulator.token())
        .base_url(emulator.base_url())
        .build()
        .expect("model");
    let err = model
        .call(EditRequest::new("x").image(common::image()).option("sampler", "karras"))
        .await
        .expect_err("not a sampler of this model");
    assert!(err.to_string().contains("euler, ddim"), "{err}");
    assert_eq!(emulator.counts().create_posts, 0);
    assert_eq!(model.capabilities().mask_convention, MaskConvention::BlackIsEdit);
}
