//! What the provider sends, and what it makes of the answers.

use std::sync::Arc;

use msgflux_core::kit::ProviderConfig;
use msgflux_core::{EditRequest, Model, Registry, ResponseFormat, Size};
use msgflux_google::MaskHint;

use crate::support::{EMULATOR_KEY, assert_clean, builder, emulator, last_body, mask, model, png};

#[tokio::test]
async fn the_prompt_goes_first_then_the_image_inline_with_the_key_in_a_header() {
    let emulator = emulator().await;
    let response = model(&emulator, "gemini-2.5-flash-image")
        .call(EditRequest::new("add a red scarf").image(png(64, 48)))
        .await
        .expect("edit");
    assert_eq!(response.images.len(), 1);
    let request = emulator.generates().pop().expect("a request");
    assert_eq!(request.path, "/v1beta/models/gemini-2.5-flash-image:generateContent");
    assert_eq!(request.header("x-goog-api-key"), Some(EMULATOR_KEY));
    assert!(
        request.query.as_deref().is_none_or(|q| !q.contains("key=")),
        "{:?}",
        request.query
    );
    let body = request.json().expect("JSON");
    let parts = body["contents"][0]["parts"].as_array().expect("parts");
    assert_eq!(parts[0]["text"], "add a red scarf");
    assert_eq!(parts[1]["inlineData"]["mimeType"], "image/png");
    assert_eq!(
        body["generationConfig"]["responseModalities"],
        serde_json::json!(["TEXT", "IMAGE"])
    );
    assert!(
        body["generationConfig"].get("imageConfig").is_none(),
        "no size, no imageConfig"
    );
    assert_clean(&emulator);
}

#[tokio::test]
async fn an_exact_size_becomes_the_aspect_ratio_and_tier_of_image_config() {
    let emulator = emulator().await;
    let response = model(&emulator, "gemini-3-pro-image-preview")
        .call(
            EditRequest::new("widen the view")
                .image(png(64, 64))
                .size(Size::new(1536, 1024))
                .response_format(ResponseFormat::Base64),
        )
        .await
        .expect("edit");
    let body = last_body(&emulator);
    assert_eq!(body["generationConfig"]["imageConfig"]["aspectRatio"], "3:2");
    assert_eq!(body["generationConfig"]["imageConfig"]["imageSize"], "1K");
    let result = response.images[0].to_image().await.expect("decodes");
    assert_eq!(
        (result.width(), result.height()),
        (1248, 832),
        "the model's 3:2 1K size"
    );
    assert_clean(&emulator);
}

#[tokio::test]
async fn the_aspect_ratio_and_image_size_options_go_to_image_config() {
    let emulator = emulator().await;
    model(&emulator, "gemini-3.1-flash-image")
        .call(
            EditRequest::new("make it a poster")
                .image(png(64, 64))
                .option("aspect_ratio", "9:16")
                .option("image_size", "512"),
        )
        .await
        .expect("edit");
    let body = last_body(&emulator);
    assert_eq!(body["generationConfig"]["imageConfig"]["aspectRatio"], "9:16");
    assert_eq!(body["generationConfig"]["imageConfig"]["imageSize"], "512");
    assert_clean(&emulator);
}

#[tokio::test]
async fn several_input_images_are_sent_in_order() {
    let emulator = emulator().await;
    model(&emulator, "gemini-2.5-flash-image")
        .call(
            EditRequest::new("put the hat from the second image on the dog in the first").images([
                png(64, 64),
                png(32, 32),
                png(48, 48),
            ]),
        )
        .await
        .expect("edit");
    let body = last_body(&emulator);
    let parts = body["contents"][0]["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 4, "the prompt and three images");
    assert!(parts[1..].iter().all(|p| p.get("inlineData").is_some()));
    assert_clean(&emulator);
}

#[tokio::test]
async fn n_is_sent_as_parallel_calls_each_billed_and_priced() {
    let emulator = emulator().await;
    let response = model(&emulator, "gemini-2.5-flash-image")
        .call(EditRequest::new("add snow").image(png(64, 64)).n(3))
        .await
        .expect("edit");
    assert_eq!(response.images.len(), 3);
    assert_eq!(emulator.generate_count(), 3, "one call per image");
    let usage = response.usage.expect("usage from usageMetadata");
    assert_eq!(usage.input_image_tokens, Some(3 * 258));
    assert_eq!(usage.output_tokens, Some(3 * (1290 + 6)));
    let cost = response.cost.expect("a cost estimate");
    let expected = 3.0 * (1290.0 * 30.0 + 6.0 * 2.5) / 1e6 + (usage.input_tokens.unwrap_or(0) as f64) * 0.30 / 1e6;
    assert!((cost.usd - expected).abs() < 1e-9, "{cost:?} vs {expected}");
    assert!(cost.basis.contains(msgflux_google::PRICES_AS_OF), "{}", cost.basis);
    assert_eq!(response.metadata["calls"], 3);
    assert_clean(&emulator);
}

#[tokio::test]
async fn a_seed_gives_each_parallel_call_its_own_seed() {
    let emulator = emulator().await;
    model(&emulator, "gemini-2.5-flash-image")
        .call(EditRequest::new("add snow").image(png(64, 64)).n(2).seed(41))
        .await
        .expect("edit");
    let mut seeds: Vec<i64> = emulator
        .generates()
        .iter()
        .filter_map(|r| r.json().and_then(|b| b["generationConfig"]["seed"].as_i64()))
        .collect();
    seeds.sort_unstable();
    assert_eq!(seeds, [41, 42]);
    assert_clean(&emulator);
}

#[tokio::test]
async fn images_above_the_inline_limit_are_uploaded_once_through_the_files_api() {
    let emulator = emulator().await;
    let provider = builder(&emulator)
        .with_inline_limit(1000)
        .build("gemini-3-pro-image-preview")
        .expect("builds");
    let response = Model::from_provider(Arc::new(provider))
        .call(EditRequest::new("add snow").images([png(64, 64), png(40, 40)]).n(2))
        .await
        .expect("edit");
    assert_eq!(response.images.len(), 2);
    assert_eq!(
        emulator.upload_count(),
        4,
        "start and upload for each of the two images, once for both calls"
    );
    assert_eq!(emulator.files().len(), 2);
    let body = last_body(&emulator);
    let parts = body["contents"][0]["parts"].as_array().expect("parts");
    assert!(
        parts[1]["fileData"]["fileUri"]
            .as_str()
            .is_some_and(|u| u.contains("/v1beta/files/")),
        "{parts:?}"
    );
    assert_eq!(parts[1]["fileData"]["mimeType"], "image/png");
    assert_eq!(response.metadata["uploaded"].as_array().map(Vec::len), Some(2));
    assert_clean(&emulator);
}

#[tokio::test]
async fn by_default_the_mask_is_not_sent_and_the_response_says_the_original_was_kept() {
    let emulator = emulator().await;
    let response = model(&emulator, "gemini-2.5-flash-image")
        .call(
            EditRequest::new("add a sunset sky")
                .image(png(64, 64))
                .mask(mask(64, 64)),
        )
        .await
        .expect("edit");
    let body = last_body(&emulator);
    assert_eq!(
        body["contents"][0]["parts"].as_array().map(Vec::len),
        Some(2),
        "prompt and image only"
    );
    let kept = response.images[0].unmasked.as_ref().expect("a keep-unmasked report");
    assert!(kept.leak.changed_fraction > 0.9, "{kept:?}");
    assert_clean(&emulator);
}

#[tokio::test]
async fn the_mask_hint_is_one_more_image_with_a_sentence_saying_what_it_marks() {
    let emulator = emulator().await;
    let provider = builder(&emulator)
        .with_mask_hint(MaskHint::Outline)
        .build("gemini-2.5-flash-image")
        .expect("builds");
    let response = Model::from_provider(Arc::new(provider))
        .call(
            EditRequest::new("add a sunset sky")
                .image(png(64, 64))
                .mask(mask(64, 64)),
        )
        .await
        .expect("edit");
    let body = last_body(&emulator);
    let parts = body["contents"][0]["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 4, "prompt, image, hint sentence, hint image");
    assert!(
        parts[2]["text"].as_str().is_some_and(|t| t.contains("outlined in red")),
        "{:?}",
        parts[2]
    );
    assert!(parts[3].get("inlineData").is_some());
    assert_eq!(response.metadata["mask"], "sent as a outline hint image");
    assert!(
        response.images[0].unmasked.is_none(),
        "with a hint, keep-unmasked follows the request"
    );
    assert_clean(&emulator);
}

#[tokio::test]
async fn the_registry_builds_the_provider_with_settings() {
    let emulator = emulator().await;
    let registry = Registry::new();
    msgflux_google::register(&registry).expect("registers");
    let config = ProviderConfig::default()
        .with_base_url(emulator.base_url())
        .with_api_key(EMULATOR_KEY)
        .with_setting("mask_hint", "tint");
    let provider = registry
        .create("google/gemini-2.5-flash-image", &config)
        .expect("creates");
    let model = Model::from_provider(provider);
    let caps = model.capabilities().await.expect("capabilities");
    assert_eq!(caps.mask, msgflux_core::MaskSupport::Optional);
    model
        .call(EditRequest::new("add a hat").image(png(64, 64)).mask(mask(64, 64)))
        .await
        .expect("edit");
    assert_clean(&emulator);
}
