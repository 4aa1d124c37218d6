//! Requests that break a model's rules fail before anything is sent, with an
//! `InvalidInput` error naming every broken rule: the capability table's and
//! the provider's own (`EditProvider::check`).

use msgflux_core::{EditBuilder, EditRequest, Error, OutputSize, Size};
use msgflux_openai::{Background, InputFidelity, OpenAIEditOptions, OutputFormat};

use crate::support::{
    Emulator, asset, emulator, incompressible_png, jpeg, last_edit, mask, model, rgb_png, rgba_png, rgba_png_with_hole,
};

/// Runs the edit, expects a refusal, checks that nothing was sent, and
/// returns the error.
async fn refused(emulator: &Emulator, edit: EditBuilder) -> Error {
    let err = edit.await.expect_err("the request breaks a rule");
    assert_eq!(emulator.edit_count(), 0, "nothing may be sent: {err}");
    assert!(
        matches!(err, Error::InvalidInput { .. }),
        "expected InvalidInput, got {err:?}"
    );
    err
}

/// The rule broken by `param` (the first one, when it breaks several).
fn rule_of(err: &Error, param: &str) -> String {
    err.violations()
        .into_iter()
        .find(|v| v.param == param)
        .map(|v| v.rule)
        .unwrap_or_else(|| panic!("no broken rule for `{param}` in: {err}"))
}

/// Every rule broken by `param`, joined.
fn rules_of(err: &Error, param: &str) -> String {
    let rules: Vec<String> = err
        .violations()
        .into_iter()
        .filter(|v| v.param == param)
        .map(|v| v.rule)
        .collect();
    assert!(!rules.is_empty(), "no broken rule for `{param}` in: {err}");
    rules.join("; ")
}

#[tokio::test]
async fn dall_e_2_refuses_an_image_that_is_not_square() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2").edit("x").image(asset("coffee.png"));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "image");
    assert!(rule.contains("600x400") && rule.contains("square"), "{rule}");
}

#[tokio::test]
async fn dall_e_2_refuses_an_image_over_4_mb() {
    let emulator = emulator().await;
    let big = incompressible_png(1100);
    assert!(big.len() > 4 * 1024 * 1024, "the fixture must be over 4 MB");
    let edit = model(&emulator, "dall-e-2").edit("x").image(big).mask(mask(1100, 1100));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "image");
    assert!(rule.contains("4 MB"), "{rule}");
}

#[tokio::test]
async fn dall_e_2_refuses_a_mask_of_another_size() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2")
        .edit("x")
        .image(rgba_png(64, 64))
        .mask(mask(32, 32));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "mask");
    assert!(rule.contains("mask is 32x32 but image is 64x64"), "{rule}");
}

#[tokio::test]
async fn dall_e_2_refuses_a_mask_that_is_not_a_png() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2")
        .edit("x")
        .image(rgba_png(64, 64))
        .mask(jpeg(64, 64));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "mask");
    assert!(rule.contains("JPEG") && rule.contains("PNG"), "{rule}");
}

#[tokio::test]
async fn dall_e_2_refuses_a_prompt_over_1000_characters() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2")
        .edit("a".repeat(1001))
        .image(rgba_png(64, 64))
        .mask(mask(64, 64));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "prompt");
    assert!(rule.contains("1001") && rule.contains("1000"), "{rule}");
}

#[tokio::test]
async fn dall_e_2_refuses_an_rgb_png_without_alpha() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2")
        .edit("x")
        .image(rgb_png(64, 64))
        .mask(mask(64, 64));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "image");
    assert!(rule.contains("RGBA") && rule.contains("prepare"), "{rule}");
}

#[tokio::test]
async fn dall_e_2_without_a_mask_needs_transparent_pixels() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2").edit("x").image(rgba_png(64, 64));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "image");
    assert!(rule.contains("no transparent pixels"), "{rule}");
}

#[tokio::test]
async fn dall_e_2_without_a_mask_edits_an_image_with_transparent_pixels() {
    let emulator = emulator().await;
    model(&emulator, "dall-e-2")
        .edit("fill the hole")
        .image(rgba_png_with_hole(64, 64))
        .await
        .expect("the transparent area is the mask");
    assert!(last_edit(&emulator).files("mask").is_empty());
}

#[tokio::test]
async fn dall_e_2_refuses_a_mask_without_alpha() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2")
        .edit("x")
        .image(rgba_png(64, 64))
        .mask(rgb_png(64, 64));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "mask");
    assert!(rule.contains("alpha"), "{rule}");
}

#[tokio::test]
async fn dall_e_2_refuses_a_size_it_cannot_make() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2")
        .edit("x")
        .image(rgba_png(64, 64))
        .mask(mask(64, 64))
        .size(Size::new(1536, 1024));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "size");
    assert!(rule.contains("256x256, 512x512, 1024x1024"), "{rule}");
}

#[tokio::test]
async fn dall_e_2_refuses_gpt_only_options() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2")
        .edit("x")
        .image(rgba_png(64, 64))
        .mask(mask(64, 64))
        .options(OpenAIEditOptions::new().with_background(Background::Transparent));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "option background");
    assert!(rule.contains("not accepted by this model"), "{rule}");
}

#[tokio::test]
async fn dall_e_2_refuses_two_images() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2")
        .edit("x")
        .image(rgba_png(64, 64))
        .image(rgba_png(64, 64));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "image");
    assert!(rule.contains("at most 1"), "{rule}");
}

#[tokio::test]
async fn gpt_models_refuse_more_than_16_images() {
    let emulator = emulator().await;
    let images: Vec<Vec<u8>> = (0..17).map(|_| rgba_png(8, 8)).collect();
    let edit = model(&emulator, "gpt-image-1").edit("x").images(images);
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "image");
    assert!(rule.contains("17 images") && rule.contains("16"), "{rule}");
}

#[tokio::test]
async fn gpt_models_refuse_a_gif() {
    let emulator = emulator().await;
    let mut gif = Vec::new();
    image::DynamicImage::ImageRgba8(image::RgbaImage::new(8, 8))
        .write_to(&mut std::io::Cursor::new(&mut gif), image::ImageFormat::Gif)
        .expect("encode gif");
    let edit = model(&emulator, "gpt-image-1").edit("x").image(gif);
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "image");
    assert!(rule.contains("GIF"), "{rule}");
}

#[tokio::test]
async fn gpt_models_refuse_a_prompt_over_32000_characters() {
    let emulator = emulator().await;
    let edit = model(&emulator, "gpt-image-1.5")
        .edit("b".repeat(32_001))
        .image(rgba_png(8, 8));
    let err = refused(&emulator, edit).await;
    rule_of(&err, "prompt");
}

#[tokio::test]
async fn gpt_models_refuse_a_mask_over_4_mb() {
    let emulator = emulator().await;
    let big_mask = incompressible_png(1100);
    let edit = model(&emulator, "gpt-image-1")
        .edit("x")
        .image(rgba_png(1100, 1100))
        .mask(big_mask);
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "mask");
    assert!(rule.contains("4 MB"), "{rule}");
}

#[tokio::test]
async fn output_compression_needs_jpeg_or_webp_output() {
    let emulator = emulator().await;
    let edit = model(&emulator, "gpt-image-1")
        .edit("x")
        .image(rgba_png(8, 8))
        .options(OpenAIEditOptions::new().with_output_compression(50));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "option output_compression");
    assert!(rule.contains("jpeg or webp"), "{rule}");
}

#[tokio::test]
async fn a_transparent_background_cannot_be_jpeg() {
    let emulator = emulator().await;
    let edit = model(&emulator, "gpt-image-1").edit("x").image(rgba_png(8, 8)).options(
        OpenAIEditOptions::new()
            .with_background(Background::Transparent)
            .with_output_format(OutputFormat::Jpeg),
    );
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "option background");
    assert!(rule.contains("png or webp"), "{rule}");
}

#[tokio::test]
async fn gpt_image_1_mini_refuses_input_fidelity() {
    let emulator = emulator().await;
    let edit = model(&emulator, "gpt-image-1-mini")
        .edit("x")
        .image(rgba_png(8, 8))
        .options(OpenAIEditOptions::new().with_input_fidelity(InputFidelity::High));
    let err = refused(&emulator, edit).await;
    rule_of(&err, "option input_fidelity");
}

#[tokio::test]
async fn partial_images_need_a_streamed_edit() {
    let emulator = emulator().await;
    let edit = model(&emulator, "gpt-image-1")
        .edit("x")
        .image(rgba_png(8, 8))
        .options(OpenAIEditOptions::new().with_partial_images(2));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "option partial_images");
    assert!(rule.contains("stream"), "{rule}");
}

#[tokio::test]
async fn gpt_image_1_refuses_sizes_outside_its_list() {
    let emulator = emulator().await;
    let edit = model(&emulator, "gpt-image-1")
        .edit("x")
        .image(rgba_png(8, 8))
        .size(Size::new(1536, 864));
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "size");
    assert!(rule.contains("1024x1536"), "{rule}");
}

#[tokio::test]
async fn gpt_image_2_takes_a_custom_size_but_not_an_elongated_one() {
    let emulator = emulator().await;
    let gpt2 = model(&emulator, "gpt-image-2");
    gpt2.edit("x")
        .image(rgba_png(8, 8))
        .size(Size::new(1536, 864))
        .await
        .expect("1536x864 is fine for gpt-image-2");
    assert_eq!(last_edit(&emulator).text("size"), Some("1536x864"));
    let err = gpt2
        .edit("x")
        .image(rgba_png(8, 8))
        .size(Size::new(3200, 1024))
        .await
        .expect_err("wider than 3:1");
    assert!(
        matches!(err, Error::InvalidInput { ref param, .. } if param == "size"),
        "{err}"
    );
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test]
async fn n_over_10_is_refused() {
    let emulator = emulator().await;
    let edit = model(&emulator, "gpt-image-1").edit("x").image(rgba_png(8, 8)).n(11);
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "n");
    assert!(rule.contains("between 1 and 10"), "{rule}");
}

#[tokio::test]
async fn dall_e_2_lists_every_broken_rule_of_a_jpeg_that_is_not_square() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2")
        .edit("x")
        .image(jpeg(600, 400))
        .mask(mask(600, 400));
    let err = refused(&emulator, edit).await;
    assert!(err.violations().len() >= 2, "{err}");
    let rules = rules_of(&err, "image");
    assert!(rules.contains("is JPEG"), "the format rule: {rules}");
    assert!(rules.contains("square"), "the shape rule: {rules}");
    let text = err.to_string();
    assert!(text.contains("also invalid image"), "one message names both: {text}");
}

#[tokio::test]
async fn a_table_rule_and_a_provider_rule_are_listed_together() {
    let emulator = emulator().await;
    let edit = model(&emulator, "gpt-image-1")
        .edit("x")
        .image(rgba_png(8, 8))
        .n(11)
        .options(OpenAIEditOptions::new().with_output_compression(50));
    let err = refused(&emulator, edit).await;
    assert!(rules_of(&err, "n").contains("between 1 and 10"), "{err}");
    assert!(
        rules_of(&err, "option output_compression").contains("jpeg or webp"),
        "{err}"
    );
}

#[tokio::test]
async fn validate_runs_the_providers_own_rules_without_sending() {
    let emulator = emulator().await;
    let gpt2 = model(&emulator, "gpt-image-2");
    let request = EditRequest::new("x").image(rgba_png(8, 8)).size(Size::new(3200, 1024));
    let err = gpt2.validate(request).await.expect_err("wider than 3:1");
    assert!(rules_of(&err, "size").contains("3:1"), "{err}");
    let fine = EditRequest::new("x").image(rgba_png(8, 8)).size(Size::new(2048, 1152));
    gpt2.validate(fine).await.expect("2048x1152 is fine for gpt-image-2");
    assert_eq!(emulator.edit_count(), 0, "validate never sends");
}

#[tokio::test]
async fn size_auto_is_sent_as_auto_for_a_gpt_model() {
    let emulator = emulator().await;
    model(&emulator, "gpt-image-1")
        .edit("x")
        .image(rgba_png(8, 8))
        .size(OutputSize::Auto)
        .await
        .expect("gpt-image-1 picks its own size");
    assert_eq!(last_edit(&emulator).text("size"), Some("auto"));
    crate::support::assert_clean(&emulator);
}

#[tokio::test]
async fn size_auto_is_refused_for_dall_e_2() {
    let emulator = emulator().await;
    let edit = model(&emulator, "dall-e-2")
        .edit("x")
        .image(rgba_png(64, 64))
        .mask(mask(64, 64))
        .size(OutputSize::Auto);
    let err = refused(&emulator, edit).await;
    let rule = rules_of(&err, "size");
    assert!(rule.contains("no automatic size") && rule.contains("256x256"), "{rule}");
}
