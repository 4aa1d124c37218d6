//! How inputs reach fal: data URIs when small, fal storage above the
//! threshold, URLs passed through, the mask converted for FLUX Fill; the
//! rules checked before anything is sent; and apps mapped from their schema.

mod common;

use common::{
    FILL, KONTEXT, SCHEMA, SEEDREAM, SUBMIT, UPLOAD, UPLOAD_INITIATE, assert_no_problems, builder, decode_data_uri,
    emulator, image, mask, model, model_from,
};
use msgflux_core::{EditRequest, Error, MaskConvention, MaskSupport, ResponseFormat, Size};
use msgflux_emulators::fal::{UPLOAD_COMPLETE, UPLOAD_INITIATE_MULTIPART, UPLOAD_PART};

#[tokio::test]
async fn small_inputs_go_inline_as_data_uris() {
    let emulator = emulator().await;
    model(&emulator, FILL)
        .call(EditRequest::new("x").image(image()).mask(mask()))
        .await
        .expect("edit");
    let body = &emulator.submit_bodies()[0];
    assert!(
        body["image_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("data:image/png;base64,"))
    );
    assert_eq!(emulator.count(UPLOAD_INITIATE), 0);
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn large_inputs_are_uploaded_to_fal_storage_first() {
    let emulator = emulator().await;
    let model = model_from(builder(&emulator).with_upload_threshold(10), FILL);
    model
        .call(EditRequest::new("x").image(image()).mask(mask()))
        .await
        .expect("edit");
    assert_eq!(emulator.count(UPLOAD_INITIATE), 2, "the image and the mask");
    assert_eq!(emulator.count(UPLOAD), 2);
    let body = &emulator.submit_bodies()[0];
    let files = format!("{}/files/", emulator.base_url());
    assert!(
        body["image_url"].as_str().is_some_and(|u| u.starts_with(&files)),
        "{body}"
    );
    assert!(
        body["mask_url"].as_str().is_some_and(|u| u.starts_with(&files)),
        "{body}"
    );
    // The signed PUT never carries the key (the emulator records it as a problem if it does).
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn inputs_above_the_multipart_threshold_are_uploaded_in_numbered_parts_then_completed() {
    let emulator = emulator().await;
    let photo = image();
    let part = photo.len() / 3 + 1;
    let model = model_from(
        builder(&emulator)
            .with_upload_threshold(10)
            .with_multipart_upload(100, part),
        FILL,
    );
    let response = model
        .call(
            EditRequest::new("x")
                .image(photo.clone())
                .mask(mask())
                .response_format(ResponseFormat::Base64),
        )
        .await
        .expect("edit");
    assert_eq!(emulator.count(UPLOAD_INITIATE_MULTIPART), 2, "the image and the mask");
    assert_eq!(emulator.count(UPLOAD_INITIATE), 0);
    assert_eq!(emulator.count(UPLOAD), 0, "no single PUT");
    assert!(emulator.count(UPLOAD_PART) >= 3, "the photo goes in three parts");
    assert_eq!(emulator.count(UPLOAD_COMPLETE), 2);
    // The emulator painted the file it assembled from the parts: the parts were whole and in order.
    assert_eq!(response.images.len(), 1);
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn an_input_given_as_a_url_is_passed_through() {
    let emulator = emulator().await;
    let url = emulator.serve_file("photo.png", image());
    model(&emulator, KONTEXT)
        .call(EditRequest::new("x").image(url.as_str()))
        .await
        .expect("edit");
    assert_eq!(emulator.submit_bodies()[0]["image_url"], url.as_str());
    assert_eq!(emulator.count(UPLOAD_INITIATE), 0);
}

#[tokio::test]
async fn the_mask_reaches_flux_fill_as_white_is_edit() {
    let emulator = emulator().await;
    model(&emulator, FILL)
        .call(EditRequest::new("x").image(image()).mask(mask()))
        .await
        .expect("edit");
    let sent = decode_data_uri(&emulator.submit_bodies()[0]["mask_url"]).to_luma8();
    assert_eq!(sent.get_pixel(32, 32)[0], 255, "the edit area is white");
    assert_eq!(sent.get_pixel(1, 1)[0], 0, "the kept area is black");
}

#[tokio::test]
async fn results_are_downloaded_within_the_call_for_base64() {
    let emulator = emulator().await;
    let response = model(&emulator, FILL)
        .call(
            EditRequest::new("x")
                .image(image())
                .mask(mask())
                .n(2)
                .response_format(ResponseFormat::Base64),
        )
        .await
        .expect("edit");
    assert_eq!(response.images.len(), 2);
    emulator.expire_files();
    for image in &response.images {
        image.to_image().await.expect("the bytes are already here");
    }
    assert!(response.cost.as_ref().is_some_and(|c| c.basis.contains("2026-12-01")));
}

#[tokio::test]
async fn seedreams_smallest_area_is_refused_before_anything_is_sent() {
    let emulator = emulator().await;
    let model = model_from(builder(&emulator).with_upload_threshold(0), SEEDREAM);
    let err = model
        .call(EditRequest::new("x").image(image()).size(Size::new(640, 640)))
        .await
        .expect_err("too small");
    assert!(
        matches!(err, Error::InvalidInput { ref param, .. } if param == "size"),
        "{err:?}"
    );
    assert!(err.to_string().contains("921600"), "{err}");
    assert_eq!(emulator.count(SUBMIT), 0, "nothing is paid");
    assert_eq!(emulator.count(UPLOAD_INITIATE), 0, "nothing is uploaded");
}

#[tokio::test]
async fn every_broken_rule_is_listed_together() {
    let emulator = emulator().await;
    let model = model(&emulator, SEEDREAM);
    let err = model
        .call(
            EditRequest::new("x")
                .images(vec![image(); 10])
                .n(6)
                .size(Size::new(640, 640))
                .option("guidance_scale", 3.0),
        )
        .await
        .expect_err("four rules");
    let params: Vec<String> = err.violations().into_iter().map(|v| v.param).collect();
    for wanted in ["size", "n", "option guidance_scale"] {
        assert!(params.iter().any(|p| p == wanted), "{wanted} missing from {params:?}");
    }
    assert_eq!(emulator.count(SUBMIT), 0);
}

#[tokio::test]
async fn a_mask_for_an_app_without_one_is_never_sent() {
    let emulator = emulator().await;
    model(&emulator, KONTEXT)
        .call(EditRequest::new("x").image(image()).mask(mask()))
        .await
        .expect("edit");
    assert!(emulator.submit_bodies()[0].get("mask_url").is_none());
}

#[tokio::test]
async fn an_unknown_app_is_mapped_from_its_schema_read_once() {
    let emulator = emulator().await;
    let model = model(&emulator, "acme/odd-inpainter");
    let caps = model
        .capabilities()
        .await
        .expect("capabilities from the schema")
        .clone();
    assert_eq!(caps.mask, MaskSupport::Required);
    assert_eq!(
        caps.mask_convention,
        MaskConvention::BlackIsEdit,
        "read from the mask's description"
    );
    assert_eq!(*caps.n.end(), 2);
    for _ in 0..2 {
        model
            .call(
                EditRequest::new("x")
                    .image(image())
                    .mask(mask())
                    .option("strength", 0.5)
                    .option("style", "paint"),
            )
            .await
            .expect("edit");
    }
    assert_eq!(emulator.count(SCHEMA), 1, "the schema is read once");
    let body = &emulator.submit_bodies()[0];
    assert_eq!(body["strength"], 0.5);
    assert_eq!(body["style"], "paint");
    let sent = decode_data_uri(&body["mask_url"]).to_luma8();
    assert_eq!(sent.get_pixel(32, 32)[0], 0, "black is the edit area for this app");
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn an_app_fal_does_not_know_is_not_found() {
    let emulator = emulator().await;
    let err = model(&emulator, "nobody/nothing")
        .call(EditRequest::new("x").image(image()))
        .await
        .expect_err("unknown app");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(emulator.count(SUBMIT), 0);
}
