//! The provider through msgflux's registry: `replicate/owner/name` ids,
//! settings, and descriptions without credentials.

use crate::common;

use common::{CREATE, MODEL_READ, assert_no_problems, emulator, image, mask};
use msgflux_core::kit::ProviderConfig;
use msgflux_core::{EditRequest, MaskConvention, Model, Registry};

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
    let emulator = emulator().await;
    let model = Model::builder("replicate/stability-ai/stable-diffusion-inpainting")
        .api_key(emulator.key())
        .base_url(emulator.base_url())
        .setting("poll_interval_ms", "1")
        .setting("max_poll_interval_ms", "2")
        .build()
        .expect("model");
    assert_eq!(model.id(), "replicate/stability-ai/stable-diffusion-inpainting");
    let response = model
        .edit("a red door")
        .image(image())
        .mask(mask())
        .n(2)
        .await
        .expect("edit");
    assert_eq!(response.consume().len(), 2);
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn a_schema_mapped_model_checks_options_before_its_first_call() {
    let emulator = emulator().await;
    let model = Model::builder("replicate/acme/odd-inpainter")
        .api_key(emulator.key())
        .base_url(emulator.base_url())
        .build()
        .expect("model");
    let err = model
        .call(EditRequest::new("x").image(image()).option("sampler", "karras"))
        .await
        .expect_err("not a sampler of this model");
    assert!(err.to_string().contains("euler, ddim"), "{err}");
    assert_eq!(emulator.count(CREATE), 0);
    assert_eq!(
        emulator.count(MODEL_READ),
        1,
        "the schema is read once, before the check"
    );
    assert_eq!(
        model.capabilities().await.expect("capabilities").mask_convention,
        MaskConvention::BlackIsEdit
    );
    assert_eq!(emulator.count(MODEL_READ), 1, "and then kept");
}

#[test]
fn a_model_without_a_built_in_adapter_cannot_be_described_offline() {
    let err = Registry::global()
        .describe("replicate/acme/odd-inpainter")
        .expect_err("its capabilities come from its schema");
    assert!(err.to_string().contains("no built-in adapter"), "{err}");
}

#[test]
fn registering_in_a_new_registry_makes_replicate_models_available() {
    let registry = Registry::new();
    msgflux_replicate::register(&registry).expect("registers");
    assert_eq!(registry.names(), vec!["replicate".to_string()]);
    let config = ProviderConfig::default().with_api_key("r8_x");
    let provider = registry
        .create("replicate/google/nano-banana", &config)
        .expect("creates");
    assert_eq!(provider.model(), "google/nano-banana");
}

#[test]
fn an_unknown_setting_is_refused_listing_the_known_ones() {
    let config = ProviderConfig::default()
        .with_api_key("r8_x")
        .with_setting("poll_every", "5");
    let err = Registry::global()
        .create("replicate/google/nano-banana", &config)
        .expect_err("unknown setting");
    let text = err.to_string();
    assert!(
        text.contains("unknown field `poll_every`") && text.contains("`poll_interval_ms`"),
        "{text}"
    );
}
