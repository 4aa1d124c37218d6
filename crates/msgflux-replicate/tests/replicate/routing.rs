//! Which endpoint creates the prediction, decided from the adapter table or
//! the model's own record, never by trying a paid run.

use crate::common;

use common::{CREATE, Emulator, MODEL_READ, assert_no_problems, emulator, image, mask, model};
use msgflux_core::{EditRequest, Error};
use msgflux_emulators::replicate::{SD_INPAINTING_VERSION, odd_inpainter};

fn request() -> EditRequest {
    EditRequest::new("a red door").image(image()).mask(mask())
}

fn create_paths(emulator: &Emulator) -> Vec<String> {
    emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/predictions"))
        .map(|r| r.path)
        .collect()
}

#[tokio::test]
async fn stable_diffusion_inpainting_runs_through_its_latest_version() {
    let emulator = emulator().await;
    model(&emulator, "stability-ai/stable-diffusion-inpainting")
        .call(request())
        .await
        .expect("edit");
    assert_eq!(create_paths(&emulator), vec!["/v1/predictions"]);
    assert_eq!(emulator.create_bodies()[0]["version"], SD_INPAINTING_VERSION);
    assert_eq!(emulator.count(MODEL_READ), 1);
    assert_eq!(emulator.predictions()[0].route, "version");
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn the_model_is_read_once_for_many_calls() {
    let emulator = emulator().await;
    let model = model(&emulator, "stability-ai/stable-diffusion-inpainting");
    model.call(request()).await.expect("first");
    model.call(request()).await.expect("second");
    assert_eq!(emulator.count(MODEL_READ), 1);
    assert_eq!(emulator.count(CREATE), 2);
}

#[tokio::test]
async fn official_models_go_straight_to_their_own_route() {
    let emulator = emulator().await;
    model(&emulator, "black-forest-labs/flux-fill-pro")
        .call(request())
        .await
        .expect("edit");
    assert_eq!(
        create_paths(&emulator),
        vec!["/v1/models/black-forest-labs/flux-fill-pro/predictions"]
    );
    assert!(emulator.create_bodies()[0].get("version").is_none());
    assert_eq!(emulator.count(MODEL_READ), 0, "the adapter table already knows");
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn a_pinned_version_needs_no_model_read() {
    let emulator = emulator().await;
    let id = format!("stability-ai/stable-diffusion-inpainting:{SD_INPAINTING_VERSION}");
    model(&emulator, &id).call(request()).await.expect("edit");
    assert_eq!(emulator.count(MODEL_READ), 0);
    assert_eq!(emulator.create_bodies()[0]["version"], SD_INPAINTING_VERSION);
}

#[tokio::test]
async fn an_unknown_official_model_is_recognised_from_its_record() {
    let emulator = emulator().await;
    let mut official = odd_inpainter();
    official.owner = "acme".into();
    official.name = "official-inpainter".into();
    official.official = true;
    emulator.add_model(official);
    model(&emulator, "acme/official-inpainter")
        .call(EditRequest::new("a red door").image(image()))
        .await
        .expect("edit");
    assert_eq!(
        create_paths(&emulator),
        vec!["/v1/models/acme/official-inpainter/predictions"]
    );
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn a_deployment_runs_through_its_own_route_with_its_models_inputs() {
    let emulator = emulator().await;
    model(&emulator, "deployments/acme/house-inpainter")
        .call(request())
        .await
        .expect("edit");
    assert_eq!(
        create_paths(&emulator),
        vec!["/v1/deployments/acme/house-inpainter/predictions"]
    );
    let body = &emulator.create_bodies()[0];
    assert!(body.get("version").is_none());
    assert!(
        body["input"].get("num_outputs").is_some(),
        "stable-diffusion-inpainting's inputs: {body}"
    );
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn a_model_that_does_not_exist_is_not_found_and_nothing_runs() {
    let emulator = emulator().await;
    let err = model(&emulator, "nobody/nothing")
        .call(request())
        .await
        .expect_err("unknown model");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(emulator.count(CREATE), 0);
}
