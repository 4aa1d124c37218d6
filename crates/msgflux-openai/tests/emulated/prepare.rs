//! The opt-in prepare step: what can be converted is converted, reported in
//! the response metadata, and then passes the checks it would have failed.

use std::io::Cursor;

use msgflux_core::{Error, ImageFormat, LoadedImage, Size};

use crate::support::{Emulator, assert_clean, asset, emulator, last_edit, mask, model, rgb_png, rgba_png};

fn sent_image(emulator: &Emulator, field: &str) -> LoadedImage {
    let recorded = last_edit(emulator);
    let bytes = recorded.files(field)[0].file_bytes().expect("a file part").to_vec();
    LoadedImage::from_bytes(bytes, None, field).expect("the sent file is an image")
}

/// A mask as WebP with alpha: valid pixels, a container OpenAI refuses.
fn webp_mask(width: u32, height: u32) -> Vec<u8> {
    let img = image::load_from_memory(&mask(width, height)).expect("mask decodes");
    let mut webp = Vec::new();
    img.write_to(&mut Cursor::new(&mut webp), image::ImageFormat::WebP)
        .expect("encode webp");
    webp
}

#[tokio::test]
async fn dall_e_2_prepare_turns_a_jpeg_photo_and_its_mask_into_square_rgba_pngs() {
    let emulator = emulator().await;
    let response = model(&emulator, "dall-e-2")
        .edit("Add a sunset sky")
        .image(asset("rocket.jpg")) // 640x427 RGB JPEG
        .mask(mask(640, 427))
        .prepare(true)
        .await
        .expect("prepared, then accepted");
    let image = sent_image(&emulator, "image");
    assert_eq!(
        (image.format, image.width, image.height),
        (ImageFormat::Png, 1024, 1024)
    );
    assert!(image.has_alpha);
    assert!(image.bytes.len() <= 4 * 1024 * 1024);
    assert_eq!(last_edit(&emulator).files("image")[0].filename(), Some("rocket.png"));
    let sent_mask = sent_image(&emulator, "mask");
    assert_eq!(
        (sent_mask.width, sent_mask.height),
        (1024, 1024),
        "the mask follows the image"
    );
    let prepared = &response.metadata["prepared"][0];
    assert_eq!(prepared["input"], "image");
    let because = prepared["because"].to_string();
    assert!(
        because.contains("JPEG is not accepted") && because.contains("640x427 is not square"),
        "{because}"
    );
    assert!(
        prepared["summary"].as_str().expect("summary").contains("1024x1024"),
        "{prepared}"
    );
    assert_clean(&emulator);
}

#[tokio::test]
async fn dall_e_2_prepare_uses_the_requested_square_size() {
    let emulator = emulator().await;
    model(&emulator, "dall-e-2")
        .edit("x")
        .image(asset("coffee.png")) // 600x400 RGB PNG
        .mask(mask(600, 400))
        .size(Size::square(512))
        .prepare(true)
        .await
        .expect("prepared");
    let image = sent_image(&emulator, "image");
    assert_eq!((image.width, image.height), (512, 512));
}

#[tokio::test]
async fn dall_e_2_prepare_adds_alpha_to_a_square_rgb_png_and_keeps_its_size() {
    let emulator = emulator().await;
    let response = model(&emulator, "dall-e-2")
        .edit("x")
        .image(rgb_png(96, 96))
        .mask(mask(96, 96))
        .prepare(true)
        .await
        .expect("prepared");
    let image = sent_image(&emulator, "image");
    assert_eq!((image.width, image.height, image.has_alpha), (96, 96, true));
    assert!(
        response.metadata["prepared"][0]["because"]
            .to_string()
            .contains("alpha")
    );
}

#[tokio::test]
async fn prepare_leaves_inputs_that_fit_untouched() {
    let emulator = emulator().await;
    let original = rgba_png(64, 64);
    let response = model(&emulator, "dall-e-2")
        .edit("x")
        .image(original.clone())
        .mask(mask(64, 64))
        .prepare(true)
        .await
        .expect("accepted as is");
    assert_eq!(sent_image(&emulator, "image").bytes.as_ref(), original.as_slice());
    assert!(response.metadata.get("prepared").is_none(), "{}", response.metadata);
}

#[tokio::test]
async fn gpt_prepare_converts_a_gif_to_png_and_keeps_its_size() {
    let emulator = emulator().await;
    let mut gif = Vec::new();
    image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(40, 30, image::Rgba([9, 9, 9, 255])))
        .write_to(&mut Cursor::new(&mut gif), image::ImageFormat::Gif)
        .expect("encode gif");
    let response = model(&emulator, "gpt-image-1")
        .edit("x")
        .image(gif)
        .prepare(true)
        .await
        .expect("prepared");
    let image = sent_image(&emulator, "image");
    assert_eq!((image.format, image.width, image.height), (ImageFormat::Png, 40, 30));
    assert!(response.metadata["prepared"][0]["because"].to_string().contains("GIF"));
    assert_clean(&emulator);
}

#[tokio::test]
async fn prepare_turns_a_webp_mask_with_alpha_into_a_png() {
    let emulator = emulator().await;
    model(&emulator, "gpt-image-1")
        .edit("x")
        .image(rgba_png(32, 32))
        .mask(webp_mask(32, 32))
        .prepare(true)
        .await
        .expect("prepared");
    let sent_mask = sent_image(&emulator, "mask");
    assert_eq!(sent_mask.format, ImageFormat::Png);
    assert!(sent_mask.has_alpha);
    assert_clean(&emulator);
}

#[tokio::test]
async fn prepare_cannot_invent_alpha_for_a_mask_and_says_so() {
    let emulator = emulator().await;
    let err = model(&emulator, "dall-e-2")
        .edit("x")
        .image(rgba_png(32, 32))
        .mask(rgb_png(32, 32))
        .prepare(true)
        .await
        .expect_err("a mask without alpha means nothing to edit");
    assert!(
        matches!(err, Error::InvalidInput { ref param, .. } if param == "mask"),
        "{err}"
    );
    assert_eq!(emulator.edit_count(), 0);
}
