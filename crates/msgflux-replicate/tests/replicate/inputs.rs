//! How requests become prediction inputs: each model's input names, masks in
//! the model's convention, data URIs, uploads, URLs passed through, and
//! values checked before anything is sent.

use crate::common;

use common::{
    CREATE, MODEL_READ, UPLOAD, assert_no_problems, asset, builder, decode_data_uri, emulator, image, mask, model,
};
use msgflux_core::{EditRequest, Error, Model, ResponseFormat};
use msgflux_emulators::replicate::EmulatedModel;
use serde_json::json;

#[tokio::test]
async fn stable_diffusion_inpainting_receives_a_white_is_repaint_mask() {
    let emulator = emulator().await;
    model(&emulator, "stability-ai/stable-diffusion-inpainting")
        .call(EditRequest::new("a red door").image(image()).mask(mask()))
        .await
        .expect("edit");
    let input = &emulator.create_bodies()[0]["input"];
    let sent = decode_data_uri(&input["mask"]).to_luma8();
    assert_eq!(sent.dimensions(), (64, 64));
    assert_eq!(sent.get_pixel(32, 32)[0], 255, "the area to repaint is white");
    assert_eq!(sent.get_pixel(2, 2)[0], 0, "the area to keep is black");
    assert_eq!(input["prompt"], "a red door");
    assert_eq!(input["num_outputs"], 1);
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn only_the_masked_area_changes_in_the_result() {
    let emulator = emulator().await;
    let response = model(&emulator, "black-forest-labs/flux-fill-pro")
        .call(
            EditRequest::new("a red door")
                .image(image())
                .mask(mask())
                .response_format(ResponseFormat::Base64),
        )
        .await
        .expect("edit");
    let result = response.images[0].to_image().await.expect("decode").to_rgba8();
    let original = image::load_from_memory(&image()).expect("decode").to_rgba8();
    assert_ne!(
        result.get_pixel(32, 32),
        original.get_pixel(32, 32),
        "the edit area was painted"
    );
    assert_eq!(
        result.get_pixel(2, 2),
        original.get_pixel(2, 2),
        "outside the mask is kept"
    );
}

#[tokio::test]
async fn a_model_with_unusual_input_names_is_mapped_from_its_schema() {
    let emulator = emulator().await;
    let response = model(&emulator, "acme/odd-inpainter")
        .call(
            EditRequest::new("a red door")
                .image(image())
                .mask(mask())
                .n(2)
                .seed(42)
                .option("strength", 0.5)
                .option("sampler", "ddim")
                .response_format(ResponseFormat::Base64),
        )
        .await
        .expect("edit");
    let body = &emulator.create_bodies()[0];
    let input = body["input"].as_object().expect("input");
    let mut names: Vec<&str> = input.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        vec![
            "inpaint_mask",
            "instruction",
            "noise_seed",
            "number_of_images",
            "sampler",
            "source_image",
            "strength"
        ]
    );
    assert_eq!(input["number_of_images"], 2);
    assert_eq!(input["noise_seed"], 42);
    let sent = decode_data_uri(&input["inpaint_mask"]).to_luma8();
    assert_eq!(
        (sent.get_pixel(32, 32)[0], sent.get_pixel(2, 2)[0]),
        (0, 255),
        "this model repaints black"
    );
    let result = response.images[0].to_image().await.expect("decode").to_rgba8();
    let original = image::load_from_memory(&image()).expect("decode").to_rgba8();
    assert_ne!(result.get_pixel(32, 32), original.get_pixel(32, 32));
    assert_eq!(result.get_pixel(2, 2), original.get_pixel(2, 2));
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn options_are_checked_against_the_models_schema_before_sending() {
    let emulator = emulator().await;
    let model = model(&emulator, "acme/odd-inpainter");
    let err = model
        .call(EditRequest::new("x").image(image()).option("strength", 1.5))
        .await
        .expect_err("strength above 1");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "option strength"),
        "{err:?}"
    );
    let err = model
        .call(EditRequest::new("x").image(image()).option("sampler", "karras"))
        .await
        .expect_err("no such sampler");
    assert!(err.to_string().contains("euler, ddim"), "{err}");
    let err = model
        .call(EditRequest::new("x").image(image()).option("guidance", 3))
        .await
        .expect_err("no such input");
    assert!(err.to_string().contains("guidance"), "{err}");
    assert_eq!(emulator.count(CREATE), 0);
}

#[tokio::test]
async fn large_inputs_are_uploaded_through_the_files_api() {
    let emulator = emulator().await;
    let photo = asset("coffee.png");
    let size = std::fs::metadata(&photo).expect("asset").len();
    assert!(size > 256 * 1024, "the photo is above the inline limit");
    let response = model(&emulator, "black-forest-labs/flux-kontext-pro")
        .call(EditRequest::new("make it a watercolour").image(photo))
        .await
        .expect("edit");
    assert_eq!(emulator.count(UPLOAD), 1);
    let input = &emulator.create_bodies()[0]["input"];
    let url = input["input_image"].as_str().expect("a URL");
    assert!(url.starts_with(&format!("{}/files/", emulator.base_url())), "{url}");
    assert_eq!(response.images.len(), 1);
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn small_inputs_go_inline_as_data_uris() {
    let emulator = emulator().await;
    model(&emulator, "black-forest-labs/flux-kontext-pro")
        .call(EditRequest::new("make it a watercolour").image(image()))
        .await
        .expect("edit");
    assert_eq!(emulator.count(UPLOAD), 0);
    let input = &emulator.create_bodies()[0]["input"];
    assert!(
        input["input_image"]
            .as_str()
            .is_some_and(|v| v.starts_with("data:image/png;base64,"))
    );
}

#[tokio::test]
async fn url_inputs_are_passed_through_as_they_are() {
    let emulator = emulator().await;
    let url = emulator.serve_file("photo.png", image());
    model(&emulator, "black-forest-labs/flux-kontext-pro")
        .call(EditRequest::new("make it a watercolour").image(url.as_str()))
        .await
        .expect("edit");
    assert_eq!(emulator.create_bodies()[0]["input"]["input_image"], url.as_str());
    assert_eq!(emulator.count(UPLOAD), 0);
}

#[tokio::test]
async fn nano_banana_takes_its_images_as_a_list() {
    let emulator = emulator().await;
    model(&emulator, "google/nano-banana")
        .call(
            EditRequest::new("put the cat on the sofa")
                .image(image())
                .image(msgflux_core::kit::testkit::sample_image(32, 48))
                .option("aspect_ratio", "match_input_image"),
        )
        .await
        .expect("edit");
    let input = &emulator.create_bodies()[0]["input"];
    assert_eq!(input["image_input"].as_array().map(Vec::len), Some(2));
    assert_eq!(input["aspect_ratio"], "match_input_image");
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn kontext_refuses_a_mask_without_keep_unmasked_before_anything_is_sent() {
    let emulator = emulator().await;
    let err = model(&emulator, "black-forest-labs/flux-kontext-pro")
        .call(EditRequest::new("x").image(image()).mask(mask()).keep_unmasked(false))
        .await
        .expect_err("kontext takes no mask, and nothing would honour it");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "mask"),
        "{err:?}"
    );
    assert_eq!(emulator.count(CREATE), 0);
}

#[tokio::test]
async fn a_mask_without_alpha_is_refused_before_sending() {
    let emulator = emulator().await;
    let opaque = image::RgbImage::new(64, 64);
    let err = model(&emulator, "black-forest-labs/flux-fill-pro")
        .call(
            EditRequest::new("x")
                .image(image())
                .mask(image::DynamicImage::ImageRgb8(opaque)),
        )
        .await
        .expect_err("no alpha");
    assert!(err.to_string().contains("alpha"), "{err}");
    assert_eq!(emulator.count(CREATE), 0);
}

#[tokio::test]
async fn the_output_size_of_stable_diffusion_follows_the_input() {
    let emulator = emulator().await;
    let response = model(&emulator, "stability-ai/stable-diffusion-inpainting")
        .call(
            EditRequest::new("a red door")
                .image(msgflux_core::kit::testkit::sample_image(128, 64))
                .mask(msgflux_core::kit::testkit::sample_mask(128, 64))
                .response_format(ResponseFormat::Base64),
        )
        .await
        .expect("edit");
    let input = &emulator.create_bodies()[0]["input"];
    assert_eq!(
        (input["width"].as_u64(), input["height"].as_u64()),
        (Some(128), Some(64))
    );
    let result = response.images[0].to_image().await.expect("decode");
    assert_eq!((result.width(), result.height()), (128, 64));
    assert_eq!(response.metadata["size"], "128x64");
}

#[tokio::test]
async fn a_size_off_the_grid_is_refused_naming_the_rule() {
    let emulator = emulator().await;
    let err = model(&emulator, "stability-ai/stable-diffusion-inpainting")
        .call(
            EditRequest::new("x")
                .image(image())
                .mask(mask())
                .size(msgflux_core::Size::new(500, 500)),
        )
        .await
        .expect_err("500 is not a multiple of 64");
    assert!(err.to_string().contains("multiple of 64"), "{err}");
    assert_eq!(emulator.count(CREATE), 0);
}

/// A provider whose every input, however small, is uploaded through the files API.
fn uploading(emulator: &common::Emulator, model_id: &str) -> Model {
    let provider = builder(emulator)
        .with_upload_threshold(0)
        .build(model_id)
        .expect("provider builds");
    Model::from_provider(std::sync::Arc::new(provider))
}

#[tokio::test]
async fn a_seed_above_the_schema_maximum_uploads_and_creates_nothing() {
    let emulator = emulator().await;
    let err = uploading(&emulator, "acme/odd-inpainter")
        .call(
            EditRequest::new("a red door")
                .image(image())
                .mask(mask())
                .seed(u64::from(u32::MAX) + 1),
        )
        .await
        .expect_err("noise_seed is at most 4294967295");
    let seed = err.violations().into_iter().find(|v| v.param == "seed");
    assert!(seed.is_some_and(|v| v.rule.contains("at most 4294967295")), "{err}");
    assert_eq!(emulator.count(UPLOAD), 0, "no file is uploaded for a refused request");
    assert_eq!(emulator.count(CREATE), 0);
}

#[tokio::test]
async fn an_option_that_clashes_with_a_request_field_uploads_and_creates_nothing() {
    let emulator = emulator().await;
    let err = uploading(&emulator, "stability-ai/stable-diffusion-inpainting")
        .call(
            EditRequest::new("a red door")
                .image(image())
                .mask(mask())
                .option("num_outputs", 2),
        )
        .await
        .expect_err("num_outputs comes from n");
    assert!(
        err.violations().iter().any(|v| v.param == "option num_outputs"),
        "{err}"
    );
    assert_eq!(emulator.count(UPLOAD), 0);
    assert_eq!(emulator.count(CREATE), 0);
}

#[tokio::test]
async fn a_required_input_left_unset_uploads_and_creates_nothing() {
    let emulator = emulator().await;
    emulator.add_model(EmulatedModel::new(
        "acme/styled-inpainter",
        false,
        "5171ed00000000000000000000000000000000000000000000000000000000aa",
        json!({
            "prompt": {"type": "string", "x-order": 0},
            "image": {"type": "string", "format": "uri", "x-order": 1},
            "style": {"allOf": [{"$ref": "#/components/schemas/style"}], "x-order": 2}
        }),
        &["prompt", "image", "style"],
        json!({"style": {"type": "string", "title": "style", "enum": ["oil", "ink"]}}),
    ));
    let styled = uploading(&emulator, "acme/styled-inpainter");
    let err = styled
        .call(EditRequest::new("a red door").image(image()))
        .await
        .expect_err("style is required");
    let rule = err
        .violations()
        .into_iter()
        .find(|v| v.param == "option style")
        .map(|v| v.rule)
        .unwrap_or_default();
    assert!(rule.contains("requires this input"), "{err}");
    assert_eq!(emulator.count(UPLOAD), 0);
    assert_eq!(emulator.count(CREATE), 0);
    // With the input given, the same request goes through, its image uploaded.
    styled
        .call(EditRequest::new("a red door").image(image()).option("style", "ink"))
        .await
        .expect("edit");
    assert_eq!((emulator.count(UPLOAD), emulator.count(CREATE)), (1, 1));
    assert_eq!(emulator.create_bodies()[0]["input"]["style"], "ink");
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn every_broken_rule_is_listed_and_nothing_is_uploaded_or_created() {
    let emulator = emulator().await;
    let err = uploading(&emulator, "acme/odd-inpainter")
        .call(
            EditRequest::new("a red door")
                .image(image())
                .mask(mask())
                .seed(u64::from(u32::MAX) + 1)
                .option("sampler", "karras")
                .option("strength", 1.5),
        )
        .await
        .expect_err("three broken rules");
    let params: Vec<String> = err.violations().into_iter().map(|v| v.param).collect();
    for param in ["seed", "option sampler", "option strength"] {
        assert!(params.iter().any(|p| p == param), "`{param}` missing from {params:?}");
    }
    assert!(err.to_string().contains("also invalid"), "{err}");
    assert_eq!(emulator.count(MODEL_READ), 1, "only the schema was read");
    assert_eq!(emulator.count(UPLOAD), 0);
    assert_eq!(emulator.count(CREATE), 0);
}
