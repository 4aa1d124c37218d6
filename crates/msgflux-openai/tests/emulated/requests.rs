//! What the provider sends, as the emulator (and the spec) sees it.

use msgflux_core::{ImageData, ImageInput, Model, ResponseFormat, Size};
use msgflux_openai::{AzureConfig, Background, InputFidelity, OpenAIBuilder, OpenAIEditOptions, OutputFormat, Quality};
use std::sync::Arc;

use msgflux_emulators::engine::Part;

use crate::support::{
    EMULATOR_API_VERSION, EMULATOR_KEY, assert_clean, asset, builder, emulator, fast_retry, jpeg, last_edit, mask,
    model, rgba_png, webp,
};

/// The `(filename, content type)` of a file part.
fn file_info(part: &Part) -> (String, String) {
    (
        part.filename().expect("a file part").to_owned(),
        part.content_type().expect("a file part").to_owned(),
    )
}

#[tokio::test]
async fn dall_e_2_gets_one_image_field_a_mask_and_response_format() {
    let emulator = emulator().await;
    let response = model(&emulator, "dall-e-2")
        .edit("Add a sunset sky")
        .image(rgba_png(64, 64))
        .mask(mask(64, 64))
        .await
        .expect("edit succeeds");
    let sent = last_edit(&emulator);
    assert_eq!(
        sent.names(),
        ["model", "prompt", "image", "mask", "n", "response_format"]
    );
    assert_eq!(sent.text("model"), Some("dall-e-2"));
    assert_eq!(sent.text("response_format"), Some("url"));
    assert_eq!(file_info(sent.files("image")[0]).1, "image/png");
    assert_eq!(
        file_info(sent.files("mask")[0]),
        ("mask.png".into(), "image/png".into())
    );
    assert!(matches!(&response.images[0].data, ImageData::Url(u) if u.starts_with("http://127.0.0.1")));
    assert_clean(&emulator);
}

#[tokio::test]
async fn dall_e_2_urls_point_at_downloadable_images() {
    let emulator = emulator().await;
    let response = model(&emulator, "dall-e-2")
        .edit("Add a hat")
        .image(rgba_png(64, 64))
        .mask(mask(64, 64))
        .await
        .expect("edit succeeds");
    let image = response.images[0]
        .to_image()
        .await
        .expect("the URL downloads and decodes");
    assert_eq!((image.width(), image.height()), (64, 64));
}

#[tokio::test]
async fn dall_e_2_base64_is_asked_for_as_b64_json() {
    let emulator = emulator().await;
    let response = model(&emulator, "dall-e-2")
        .edit("Add a hat")
        .image(rgba_png(64, 64))
        .mask(mask(64, 64))
        .response_format(ResponseFormat::Base64)
        .await
        .expect("edit succeeds");
    assert_eq!(last_edit(&emulator).text("response_format"), Some("b64_json"));
    assert!(matches!(response.images[0].data, ImageData::Base64(_)));
    assert_clean(&emulator);
}

#[tokio::test]
async fn several_images_go_as_image_brackets_each_with_its_own_mime_type() {
    let emulator = emulator().await;
    model(&emulator, "gpt-image-1")
        .edit("Put these products in one gift basket")
        .image(rgba_png(64, 64))
        .image(asset("rocket.jpg"))
        .image(webp(64, 64))
        .await
        .expect("edit succeeds");
    let sent = last_edit(&emulator);
    assert!(
        sent.files("image").is_empty(),
        "no plain `image` field with several images"
    );
    let parts: Vec<(String, String)> = sent.files("image[]").iter().copied().map(file_info).collect();
    assert_eq!(
        parts,
        [
            ("image_0.png".to_string(), "image/png".to_string()),
            ("rocket.jpg".to_string(), "image/jpeg".to_string()),
            ("image_2.webp".to_string(), "image/webp".to_string()),
        ]
    );
    assert_clean(&emulator);
}

#[tokio::test]
async fn a_single_jpeg_is_sent_as_image_jpeg_not_octet_stream() {
    let emulator = emulator().await;
    model(&emulator, "gpt-image-1.5")
        .edit("Make it night")
        .image(jpeg(48, 32))
        .await
        .expect("edit succeeds");
    let sent = last_edit(&emulator);
    assert_eq!(file_info(sent.files("image")[0]).1, "image/jpeg");
    assert_clean(&emulator);
}

#[tokio::test]
async fn gpt_models_never_get_response_format_and_urls_asked_are_data_urls() {
    let emulator = emulator().await;
    let response = model(&emulator, "gpt-image-1")
        .edit("Make it blue")
        .image(rgba_png(64, 64))
        .response_format(ResponseFormat::Url)
        .await
        .expect("edit succeeds");
    assert!(last_edit(&emulator).text("response_format").is_none());
    match &response.images[0].data {
        ImageData::Url(url) => assert!(url.starts_with("data:image/png;base64,"), "{}", &url[..40]),
        other => panic!("expected a data URL, got {other:?}"),
    }
    let decoded = response.images[0].to_image().await.expect("the data URL decodes");
    assert_eq!(decoded.width(), 64);
    assert_clean(&emulator);
}

#[tokio::test]
async fn base64_asked_of_a_gpt_model_is_base64() {
    let emulator = emulator().await;
    let response = model(&emulator, "gpt-image-1")
        .edit("Make it blue")
        .image(rgba_png(64, 64))
        .response_format(ResponseFormat::Base64)
        .await
        .expect("edit succeeds");
    assert!(matches!(response.images[0].data, ImageData::Base64(_)));
}

#[tokio::test]
async fn typed_options_are_sent_as_their_api_fields() {
    let emulator = emulator().await;
    let response = model(&emulator, "gpt-image-1")
        .edit("Studio lighting")
        .image(rgba_png(64, 64))
        .size(Size::new(1536, 1024))
        .options(
            OpenAIEditOptions::new()
                .with_quality(Quality::High)
                .with_background(Background::Opaque)
                .with_output_format(OutputFormat::Webp)
                .with_output_compression(70)
                .with_input_fidelity(InputFidelity::High)
                .with_user("user-42"),
        )
        .await
        .expect("edit succeeds");
    let sent = last_edit(&emulator);
    for (name, value) in [
        ("size", "1536x1024"),
        ("quality", "high"),
        ("background", "opaque"),
        ("output_format", "webp"),
        ("output_compression", "70"),
        ("input_fidelity", "high"),
        ("user", "user-42"),
    ] {
        assert_eq!(sent.text(name), Some(value), "{name}");
    }
    assert!(matches!(&response.images[0].data, ImageData::Url(u) if u.starts_with("data:image/webp;base64,")));
    assert_clean(&emulator);
}

#[tokio::test]
async fn usage_cost_request_id_and_settings_come_back() {
    let emulator = emulator().await;
    let response = model(&emulator, "gpt-image-1")
        .edit("Make it blue")
        .image(rgba_png(64, 64))
        .await
        .expect("edit succeeds");
    let usage = response.usage.clone().expect("usage");
    assert_eq!(
        (
            usage.input_tokens,
            usage.input_text_tokens,
            usage.input_image_tokens,
            usage.output_tokens
        ),
        (Some(50), Some(10), Some(40), Some(1000))
    );
    let cost = response.cost.clone().expect("a cost estimate");
    let expected = (10.0 * 5.0 + 40.0 * 10.0 + 1000.0 * 40.0) / 1_000_000.0;
    assert!((cost.usd - expected).abs() < 1e-12, "{cost:?}");
    assert!(cost.basis.contains(msgflux_openai::PRICES_AS_OF));
    assert_eq!(response.request_id.as_deref(), Some("req_emu_1"));
    assert_eq!(response.metadata["output_format"], "png");
    assert_eq!(response.provider, "openai");
    assert_eq!(response.model, "gpt-image-1");
}

#[tokio::test]
async fn n_results_come_back_in_order() {
    let emulator = emulator().await;
    let response = model(&emulator, "gpt-image-1-mini")
        .edit("Three takes")
        .image(rgba_png(32, 32))
        .n(3)
        .await
        .expect("edit succeeds");
    assert_eq!(last_edit(&emulator).text("n"), Some("3"));
    assert_eq!(response.images.len(), 3);
    assert_eq!(response.consume().len(), 3);
}

#[tokio::test]
async fn openai_headers_carry_the_key_organization_project_and_user_agent() {
    let emulator = emulator().await;
    let provider = builder(&emulator)
        .with_organization("org_emu")
        .with_project("proj_emu")
        .build("gpt-image-1")
        .expect("builds");
    Model::from_provider(Arc::new(provider))
        .edit("x")
        .image(rgba_png(16, 16))
        .await
        .expect("edit succeeds");
    let headers = last_edit(&emulator).headers;
    assert_eq!(headers["authorization"], format!("Bearer {EMULATOR_KEY}").as_str());
    assert_eq!(headers["openai-organization"], "org_emu");
    assert_eq!(headers["openai-project"], "proj_emu");
    assert!(headers["user-agent"].starts_with("msgflux-openai/"), "{headers:?}");
    assert!(
        headers["content-type"].starts_with("multipart/form-data"),
        "{headers:?}"
    );
}

#[tokio::test]
async fn azure_requests_use_the_deployment_route_the_api_key_header_and_no_model() {
    let emulator = emulator().await;
    let config = AzureConfig::new(emulator.azure_endpoint())
        .with_api_key(EMULATOR_KEY)
        .with_api_version(EMULATOR_API_VERSION);
    let provider = OpenAIBuilder::azure(config)
        .with_retry(fast_retry())
        .build("gpt-image-1")
        .expect("builds");
    let model = Model::from_provider(Arc::new(provider));
    assert_eq!(model.id(), "azure/gpt-image-1");
    model
        .edit("Make it snow")
        .image(rgba_png(32, 32))
        .mask(mask(32, 32))
        .await
        .expect("edit succeeds");
    let sent = last_edit(&emulator);
    assert_eq!(sent.path, "/openai/deployments/gpt-image-1/images/edits");
    assert_eq!(sent.query.as_deref(), Some("api-version=2025-04-01-preview"));
    assert_eq!(sent.headers["api-key"], EMULATOR_KEY);
    assert!(sent.header("authorization").is_none());
    assert!(sent.text("model").is_none());
    assert_clean(&emulator);
}

#[tokio::test]
async fn an_in_memory_image_is_sent_as_png_with_a_name() {
    let emulator = emulator().await;
    let img = image::RgbaImage::from_pixel(16, 16, image::Rgba([1, 2, 3, 255]));
    model(&emulator, "gpt-image-1")
        .edit("x")
        .image(ImageInput::from(img))
        .await
        .expect("edit succeeds");
    let (filename, mime) = file_info(last_edit(&emulator).files("image")[0]);
    assert_eq!((filename.as_str(), mime.as_str()), ("image.png", "image/png"));
}
