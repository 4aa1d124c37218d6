//! What comes back: delivery URLs or base64, `n` spread over several
//! predictions in order, expired outputs, metrics and cost.

use crate::common;

use common::{CREATE, DOWNLOAD, assert_no_problems, emulator, image, mask, model};
use msgflux_core::{Consumed, EditRequest, Error, ResponseFormat};

fn request() -> EditRequest {
    EditRequest::new("a red door").image(image()).mask(mask())
}

#[tokio::test]
async fn url_results_are_the_delivery_urls() {
    let emulator = emulator().await;
    let response = model(&emulator, "black-forest-labs/flux-fill-pro")
        .call(request())
        .await
        .expect("edit");
    match response.consume() {
        Consumed::One(url) => assert!(url.contains("/delivery/"), "{url}"),
        other => panic!("one result gives one string, got {other:?}"),
    }
    assert_eq!(emulator.count(DOWNLOAD), 0, "url results are not downloaded");
}

#[tokio::test]
async fn base64_results_are_downloaded_and_decode() {
    let emulator = emulator().await;
    let response = model(&emulator, "black-forest-labs/flux-fill-dev")
        .call(request().n(2).response_format(ResponseFormat::Base64))
        .await
        .expect("edit");
    assert_eq!(response.images.len(), 2);
    for result in &response.images {
        let decoded = result.to_image().await.expect("decodes");
        assert_eq!((decoded.width(), decoded.height()), (64, 64));
    }
    assert_eq!(emulator.count(DOWNLOAD), 2);
}

#[tokio::test]
async fn n_above_the_models_maximum_runs_several_predictions_in_order() {
    let emulator = emulator().await;
    let response = model(&emulator, "stability-ai/stable-diffusion-inpainting")
        .call(request().n(6).seed(10).response_format(ResponseFormat::Base64))
        .await
        .expect("edit");
    assert_eq!(response.images.len(), 6);
    let mut plans: Vec<(u64, u64)> = emulator
        .create_bodies()
        .iter()
        .map(|b| {
            (
                b["input"]["seed"].as_u64().expect("seed"),
                b["input"]["num_outputs"].as_u64().expect("count"),
            )
        })
        .collect();
    plans.sort_unstable();
    assert_eq!(plans, vec![(10, 4), (14, 2)]);
    // The emulator paints output i of each prediction a different shade: the
    // merged list keeps each prediction's order, first prediction first.
    let mut greens = Vec::new();
    for result in &response.images {
        greens.push(result.to_image().await.expect("decode").to_rgba8().get_pixel(32, 32)[1]);
    }
    assert_eq!(greens, vec![40, 90, 140, 190, 40, 90]);
    assert_eq!(
        response.request_id.as_deref().map(|ids| ids.split(',').count()),
        Some(2)
    );
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn a_model_without_a_count_input_runs_one_prediction_per_image() {
    let emulator = emulator().await;
    let response = model(&emulator, "black-forest-labs/flux-fill-pro")
        .call(request().n(3).seed(7))
        .await
        .expect("edit");
    assert_eq!(response.images.len(), 3);
    assert_eq!(emulator.count(CREATE), 3);
    let seeds: Vec<Option<u64>> = response.images.iter().map(|i| i.seed).collect();
    assert_eq!(seeds, vec![Some(7), Some(8), Some(9)]);
}

#[tokio::test]
async fn an_expired_output_is_not_found_and_says_outputs_expire() {
    let emulator = emulator().await;
    emulator.expire_outputs();
    let err = model(&emulator, "black-forest-labs/flux-fill-pro")
        .call(request().response_format(ResponseFormat::Base64))
        .await
        .expect_err("expired");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert!(err.to_string().contains("about an hour"), "{err}");
    assert_eq!(
        emulator.count(CREATE),
        1,
        "an expired download never re-runs the prediction"
    );
}

#[tokio::test]
async fn predict_time_and_a_cost_estimate_are_reported() {
    let emulator = emulator().await;
    let response = model(&emulator, "black-forest-labs/flux-fill-pro")
        .call(request().n(2))
        .await
        .expect("edit");
    let cost = response.cost.expect("flux-fill-pro has a price");
    assert!((cost.usd - 0.10).abs() < 1e-9, "{cost:?}");
    assert_eq!(response.metadata["predict_time"], 2.5);
    assert_eq!(response.metadata["predictions"].as_array().map(Vec::len), Some(2));
    assert_eq!(response.metadata["route"], "official");
    assert_eq!(response.metadata["adapter"], "built-in");
}

#[tokio::test]
async fn time_billed_models_are_priced_by_their_predict_time() {
    let emulator = emulator().await;
    let response = model(&emulator, "stability-ai/stable-diffusion-inpainting")
        .call(request())
        .await
        .expect("edit");
    let cost = response.cost.expect("priced by GPU time");
    assert!((cost.usd - 1.25 * 0.0014).abs() < 1e-9, "{cost:?}");
    assert!(cost.basis.contains("A100"), "{}", cost.basis);
}

#[tokio::test]
async fn models_without_a_known_price_report_no_cost() {
    let emulator = emulator().await;
    let response = model(&emulator, "acme/odd-inpainter")
        .call(request())
        .await
        .expect("edit");
    assert!(response.cost.is_none());
    assert_eq!(response.metadata["adapter"], "schema");
}
