//! What reaches BFL: the key header, each model's body, the mask in Fill's
//! convention, several reference images for FLUX.2, Expand's sides from
//! options or from a border mask, and results as data URLs or saved files.

mod common;

use common::{DOWNLOAD, EXPAND, FILL, FLUX2, SUBMIT, assert_no_problems, builder, emulator, masked_request, model};
use msgflux_core::kit::testkit::sample_image;
use msgflux_core::{EditRequest, ImageData, ResponseFormat, Size};

#[tokio::test]
async fn the_key_goes_in_x_key_to_the_api_and_never_to_the_delivery_host() {
    let emulator = emulator().await;
    model(&emulator, FILL).call(masked_request("x")).await.expect("edit");
    for request in emulator.requests() {
        let key = request.header("x-key");
        if request.operation == DOWNLOAD {
            assert_eq!(key, None, "{}", request.path);
        } else {
            assert_eq!(key, Some(emulator.key()), "{}", request.path);
        }
    }
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn fill_gets_the_mask_white_where_it_repaints() {
    let emulator = emulator().await;
    let response = model(&emulator, FILL)
        .call(
            masked_request("a red door")
                .option("output_format", "png")
                .response_format(ResponseFormat::Base64),
        )
        .await
        .expect("edit");
    let body = &emulator.submit_bodies()[0];
    let mask = image::load_from_memory(&base64_decode(body["mask"].as_str().expect("a mask")))
        .expect("the mask decodes")
        .to_luma8();
    assert_eq!((mask.get_pixel(32, 32)[0], mask.get_pixel(2, 2)[0]), (255, 0));
    // The emulator reads the mask as Fill does: the middle is painted, the corner kept.
    let result = response.images[0].to_image().await.expect("decodes").to_rgba8();
    let original = image::load_from_memory(&sample_image(64, 64))
        .expect("fixture")
        .to_rgba8();
    assert_eq!(result.get_pixel(2, 2), original.get_pixel(2, 2));
    assert_ne!(result.get_pixel(32, 32), original.get_pixel(32, 32));
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn flux2_takes_several_reference_images_and_the_size() {
    let emulator = emulator().await;
    let response = model(&emulator, FLUX2)
        .call(
            EditRequest::new("put the cat from image 2 and the hat from image 3 on the sofa")
                .image(sample_image(64, 64))
                .image(sample_image(48, 48))
                .image(sample_image(32, 32))
                .size(Size::new(128, 96))
                .option("safety_tolerance", 5)
                .response_format(ResponseFormat::Base64),
        )
        .await
        .expect("edit");
    let body = &emulator.submit_bodies()[0];
    for field in ["input_image", "input_image_2", "input_image_3"] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    assert!(body.get("input_image_4").is_none());
    assert_eq!((body["width"].as_u64(), body["height"].as_u64()), (Some(128), Some(96)));
    let result = response.images[0].to_image().await.expect("decodes");
    assert_eq!((result.width(), result.height()), (128, 96));
    let cost = response.cost.expect("cost");
    assert!(cost.basis.contains("reported"), "{}", cost.basis);
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn expand_sends_the_sides_it_is_given() {
    let emulator = emulator().await;
    let response = model(&emulator, EXPAND)
        .call(
            EditRequest::new("more beach")
                .image(sample_image(64, 64))
                .option("left", 16)
                .option("top", 32)
                .option("output_format", "png")
                .response_format(ResponseFormat::Base64),
        )
        .await
        .expect("edit");
    let body = &emulator.submit_bodies()[0];
    assert_eq!((body["left"].as_i64(), body["top"].as_i64()), (Some(16), Some(32)));
    let result = response.images[0].to_image().await.expect("decodes");
    assert_eq!((result.width(), result.height()), (80, 96));
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn expand_reads_a_padded_canvas_from_a_border_mask() {
    let emulator = emulator().await;
    // The photo sits in the middle 32x32 of a 64x64 canvas; the transparent border is new area.
    let border = image::RgbaImage::from_fn(64, 64, |x, y| {
        let keep = (16..48).contains(&x) && (8..40).contains(&y);
        image::Rgba([0, 0, 0, if keep { 255 } else { 0 }])
    });
    let mut mask = Vec::new();
    image::DynamicImage::ImageRgba8(border)
        .write_to(&mut std::io::Cursor::new(&mut mask), image::ImageFormat::Png)
        .expect("png");
    let response = model(&emulator, EXPAND)
        .call(
            EditRequest::new("more beach")
                .image(sample_image(64, 64))
                .mask(mask)
                .option("output_format", "png")
                .keep_unmasked(true)
                .response_format(ResponseFormat::Base64),
        )
        .await
        .expect("edit");
    let body = &emulator.submit_bodies()[0];
    let sides: Vec<i64> = ["top", "bottom", "left", "right"]
        .iter()
        .map(|s| body[*s].as_i64().expect("side"))
        .collect();
    assert_eq!(sides, vec![8, 24, 16, 16]);
    let sent = image::load_from_memory(&base64_decode(body["image"].as_str().expect("image"))).expect("decodes");
    assert_eq!(
        (sent.width(), sent.height()),
        (32, 32),
        "only the kept rectangle is sent"
    );
    let result = response.images[0].to_image().await.expect("decodes").to_rgba8();
    let original = image::load_from_memory(&sample_image(64, 64))
        .expect("fixture")
        .to_rgba8();
    assert_eq!(result.dimensions(), (64, 64));
    assert_eq!(
        result.get_pixel(20, 20),
        original.get_pixel(20, 20),
        "the kept photo is the input's"
    );
    assert_eq!(response.metadata["expand"]["bottom"], 24);
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn url_results_are_data_urls_because_bfls_expire() {
    let emulator = emulator().await;
    let response = model(&emulator, FILL).call(masked_request("x")).await.expect("edit");
    match &response.images[0].data {
        ImageData::Url(url) => assert!(url.starts_with("data:image/jpeg;base64,"), "{}", &url[..40]),
        other => panic!("expected a URL, got {other:?}"),
    }
    let cost = response.cost.expect("cost");
    assert!((cost.usd - 0.05).abs() < 1e-9, "{cost:?}");
}

#[tokio::test]
async fn url_results_are_saved_files_with_save_dir() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let provider = builder(&emulator)
        .with_save_dir(dir.path())
        .build(FILL)
        .expect("builds");
    let model = msgflux_core::Model::from_provider(std::sync::Arc::new(provider));
    let response = model.call(masked_request("x")).await.expect("edit");
    let ImageData::Url(url) = &response.images[0].data else {
        panic!("expected a URL");
    };
    assert!(url.starts_with("file://"), "{url}");
    let saved = dir.path().join("emu-task-000001.jpg");
    assert!(saved.exists(), "{url}");
    response.images[0].to_image().await.expect("the file decodes");
}

#[tokio::test]
async fn a_regional_setting_changes_only_where_requests_go() {
    use msgflux_core::kit::ProviderConfig;
    let config = ProviderConfig::default().with_api_key("k").with_setting("region", "eu");
    let provider = msgflux_bfl::BflBuilder::from_provider_config(&config)
        .expect("builder")
        .build(FLUX2)
        .expect("builds");
    assert!(format!("{provider:?}").contains("api.eu.bfl.ai"), "{provider:?}");
    let emulator = emulator().await;
    assert_eq!(emulator.count(SUBMIT), 0);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}
