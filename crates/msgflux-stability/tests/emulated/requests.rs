//! What reaches Stability: the multipart form the document describes, the
//! mask in Stability's convention, one generation per image with its seed.

use msgflux_core::ResponseFormat;
use msgflux_core::kit::testkit::sample_image;
use msgflux_emulators::stability::EMULATOR_KEY;

use crate::support::{assert_clean, emulator, masked, model, unmasked};

/// The colour the emulator paints its edits with.
const PAINT: [u8; 3] = [30, 144, 255];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mask_reaches_inpaint_as_white_is_edit_and_only_that_area_changes() {
    let emulator = emulator().await;
    let response = model(&emulator, "inpaint")
        .call(masked("a red door").response_format(ResponseFormat::Base64))
        .await
        .expect("edit");
    assert_clean(&emulator);
    let edit = emulator.last_edit().expect("an edit");
    let mask = image::load_from_memory(edit.files("mask")[0].file_bytes().expect("bytes"))
        .expect("mask decodes")
        .to_luma8();
    // The sample mask's edit area is the middle quarter.
    assert_eq!(mask.get_pixel(32, 32)[0], 255, "edit area is white");
    assert_eq!(mask.get_pixel(2, 2)[0], 0, "kept area is black");
    let result = response.images[0].to_image().await.expect("decodes").to_rgba8();
    assert_eq!(result.get_pixel(32, 32).0[..3], PAINT);
    let photo = image::load_from_memory(&msgflux_core::kit::testkit::sample_image(64, 64))
        .expect("photo")
        .to_rgba8();
    assert_eq!(result.get_pixel(2, 2), photo.get_pixel(2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_has_exactly_the_fields_the_document_names_and_one_accept_choice() {
    let emulator = emulator().await;
    model(&emulator, "search-and-replace")
        .call(
            unmasked("a golden retriever")
                .option("search_prompt", "the cat")
                .option("negative_prompt", "blurry")
                .option("grow_mask", 7)
                .option("output_format", "webp")
                .seed(11),
        )
        .await
        .expect("edit");
    assert_clean(&emulator);
    let edit = emulator.last_edit().expect("an edit");
    assert_eq!(
        edit.names(),
        [
            "image",
            "prompt",
            "search_prompt",
            "negative_prompt",
            "grow_mask",
            "output_format",
            "seed"
        ]
    );
    assert_eq!(edit.text("grow_mask"), Some("7"));
    assert_eq!(edit.files("image")[0].content_type(), Some("image/png"));
    assert_eq!(edit.header("accept"), Some("application/json"));
    assert_eq!(
        edit.header("authorization"),
        Some(format!("Bearer {EMULATOR_KEY}").as_str())
    );
    assert!(edit.header("stability-client-version").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erase_and_remove_background_send_no_prompt() {
    let emulator = emulator().await;
    model(&emulator, "erase").call(masked("ignored")).await.expect("erase");
    model(&emulator, "remove-background")
        .call(unmasked("ignored").option("output_format", "webp"))
        .await
        .expect("remove-background");
    assert_clean(&emulator);
    for edit in emulator.edits() {
        assert!(edit.text("prompt").is_none(), "{:?}", edit.names());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_images_are_n_generations_with_consecutive_seeds_and_their_cost() {
    let emulator = emulator().await;
    let response = model(&emulator, "inpaint")
        .call(masked("a red door").n(3).seed(7))
        .await
        .expect("three images");
    assert_eq!(response.images.len(), 3);
    assert_eq!(emulator.edit_count(), 3);
    let mut seeds: Vec<String> = emulator
        .edits()
        .iter()
        .filter_map(|e| e.text("seed").map(str::to_string))
        .collect();
    seeds.sort();
    assert_eq!(seeds, ["7", "8", "9"]);
    let mut reported: Vec<Option<u64>> = response.images.iter().map(|i| i.seed).collect();
    reported.sort();
    assert_eq!(reported, [Some(7), Some(8), Some(9)]);
    let cost = response.cost.expect("a cost estimate");
    assert!((cost.usd - 0.15).abs() < 1e-9, "3 x 5 credits at $0.01: {cost:?}");
    assert_clean(&emulator);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outpaint_grows_the_canvas_and_keeps_the_input() {
    let emulator = emulator().await;
    let response = model(&emulator, "outpaint")
        .call(unmasked("more of the table").option("left", 16).option("down", 8))
        .await
        .expect("outpaint");
    assert_clean(&emulator);
    let result = response.images[0].to_image().await.expect("decodes").to_rgba8();
    assert_eq!(result.dimensions(), (80, 72));
    assert_eq!(result.get_pixel(0, 0).0[..3], PAINT);
    let photo = image::load_from_memory(&msgflux_core::kit::testkit::sample_image(64, 64))
        .expect("photo")
        .to_rgba8();
    assert_eq!(result.get_pixel(16 + 5, 5), photo.get_pixel(5, 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relight_sends_the_prompt_as_the_background_prompt_and_its_options_as_the_document_spells_them() {
    let emulator = emulator().await;
    model(&emulator, "replace-background-and-relight")
        .call(
            unmasked("a sunny beach")
                .option("keep_original_background", false)
                .option("light_source_direction", "above")
                .option("light_source_strength", 0.7),
        )
        .await
        .expect("relight");
    assert_clean(&emulator);
    let edit = emulator.last_edit().expect("an edit");
    assert_eq!(edit.text("background_prompt"), Some("a sunny beach"));
    assert_eq!(edit.text("keep_original_background"), Some("false"));
    assert_eq!(edit.files("subject_image").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relight_sends_the_images_after_the_subject_as_background_then_light_reference() {
    let emulator = emulator().await;
    let request = unmasked("a sunny beach")
        .image(sample_image(64, 64))
        .image(sample_image(64, 64))
        .option("light_source_strength", 0.4);
    model(&emulator, "replace-background-and-relight")
        .call(request)
        .await
        .expect("relight with references");
    assert_clean(&emulator);
    let edit = emulator.last_edit().expect("an edit");
    assert_eq!(edit.files("subject_image").len(), 1);
    assert_eq!(edit.files("background_reference").len(), 1);
    assert_eq!(edit.files("light_reference").len(), 1);
    assert_eq!(edit.text("references"), None, "the roles are ours, not a form field");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relight_takes_a_single_light_reference_when_the_option_says_so() {
    let emulator = emulator().await;
    let request = unmasked("a sunny beach")
        .image(sample_image(64, 64))
        .option("references", "light");
    model(&emulator, "replace-background-and-relight")
        .call(request)
        .await
        .expect("relight with a light reference");
    assert_clean(&emulator);
    let edit = emulator.last_edit().expect("an edit");
    assert_eq!(edit.files("light_reference").len(), 1);
    assert!(edit.files("background_reference").is_empty());
}
