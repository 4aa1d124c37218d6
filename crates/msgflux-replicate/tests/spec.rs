//! The emulator's checks against the published API description and the
//! models' schemas catch what they should; the other tests rely on them
//! (`assert_no_violations`) to say that our requests fit the spec.

mod common;

use serde_json::json;

async fn post(emulator: &msgflux_replicate::emulator::Emulator, path: &str, body: serde_json::Value) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/{path}", emulator.base_url()))
        .bearer_auth(emulator.token())
        .json(&body)
        .send()
        .await
        .expect("the emulator answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_create_body_the_published_spec_forbids_is_flagged() {
    let emulator = common::emulator().await;
    let status = post(
        &emulator,
        "predictions",
        json!({"model": "google/nano-banana", "input": {"prompt": "x"}}),
    )
    .await;
    assert_eq!(status, 400);
    let violations = emulator.violations().join("\n");
    assert!(violations.contains("`model` is not allowed"), "{violations}");
    assert!(violations.contains("`version` is missing"), "{violations}");
}

#[tokio::test]
async fn an_input_the_models_schema_forbids_is_flagged() {
    let emulator = common::emulator().await;
    let status = post(
        &emulator,
        "models/black-forest-labs/flux-fill-dev/predictions",
        json!({"input": {"prompt": "x", "image": "data:image/png;base64,AA==", "num_outputs": 9, "colour": "red"}}),
    )
    .await;
    assert_eq!(status, 422);
    let violations = emulator.violations().join("\n");
    assert!(violations.contains("above the maximum 4"), "{violations}");
    assert!(violations.contains("no such input"), "{violations}");
}

#[tokio::test]
async fn every_create_route_and_the_upload_fit_the_spec() {
    let emulator = common::emulator().await;
    let provider = common::builder(&emulator).with_upload_threshold(64);
    for model in [
        "stability-ai/stable-diffusion-inpainting",
        "black-forest-labs/flux-fill-pro",
        "deployments/acme/house-inpainter",
    ] {
        let model =
            msgflux_core::Model::from_provider(std::sync::Arc::new(provider.clone().build(model).expect("provider")));
        model
            .edit("a red door")
            .image(common::image())
            .mask(common::mask())
            .await
            .expect("edit");
    }
    let counts = emulator.counts();
    assert_eq!(counts.create_posts, 3);
    assert_eq!(counts.uploads, 6, "every image and mask went through the files API");
    common::assert_no_violations(&emulator);
}
