//! The emulator's checks against the published API description and the
//! models' schemas catch what they should; the other tests rely on them
//! (`assert_no_problems`) to say that our requests fit the contract.

use crate::common;

use common::{CREATE, Emulator, UPLOAD, assert_no_problems, emulator};
use serde_json::json;

async fn post(emulator: &Emulator, path: &str, body: serde_json::Value) -> u16 {
    msgflux_core::kit::http::client_builder()
        .build()
        .expect("client")
        .post(format!("{}/{path}", emulator.base_url()))
        .bearer_auth(emulator.key())
        .json(&body)
        .send()
        .await
        .expect("the emulator answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_create_body_the_published_spec_forbids_is_flagged() {
    let emulator = emulator().await;
    let status = post(
        &emulator,
        "predictions",
        json!({"model": "google/nano-banana", "input": {"prompt": "x"}}),
    )
    .await;
    assert_eq!(status, 422);
    let problems = emulator.problems().join("\n");
    assert!(problems.contains("\"version\" is a required property"), "{problems}");
    assert!(problems.contains("('model' was unexpected)"), "{problems}");
}

#[tokio::test]
async fn an_input_the_models_schema_forbids_is_flagged() {
    let emulator = emulator().await;
    let status = post(
        &emulator,
        "models/black-forest-labs/flux-fill-dev/predictions",
        json!({"input": {"prompt": "x", "image": "data:image/png;base64,AA==", "num_outputs": 9, "colour": "red"}}),
    )
    .await;
    assert_eq!(status, 422);
    let problems = emulator.problems().join("\n");
    assert!(problems.contains("9 is greater than the maximum of 4"), "{problems}");
    assert!(problems.contains("has no input `colour`"), "{problems}");
}

#[tokio::test]
async fn every_create_route_and_the_upload_fit_the_spec() {
    let emulator = emulator().await;
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
    assert_eq!(emulator.count(CREATE), 3);
    assert_eq!(
        emulator.count(UPLOAD),
        6,
        "every image and mask went through the files API"
    );
    assert_no_problems(&emulator);
}
