//! What the Python original (msgflux's `image_text_to_image`) gets wrong, one
//! test each, through the facade as a user calls it, against the providers'
//! emulators on 127.0.0.1 (the list, and why each matters: docs/python-original.md).
//!
//! 1. It sends `image[]` even for one image; dall-e-2 wants `image`.
//! 2. It sends byte parts as `application/octet-stream`; the API wants the image's MIME type.
//! 3. A `data:` URI input fails.
//! 4. A missing file path is silently decoded as base64 garbage.
//! 5. There is no client-side validation.
//! 6. The request timeout is off.
//! 7. Batch concurrency is unbounded and its timeout has no effect.
//! 8. The `(prompt, image, mask)` batch form fails.
//! 9. The Replicate editing class is not registered.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use msgflux::functional::{BatchOptions, map_gather};
use msgflux::{Error, Model};
use msgflux_core::kit::testkit::{sample_image, sample_mask};
use msgflux_emulators::Fault;
use msgflux_emulators::openai::{EMULATOR_KEY, Emulator};

fn asset(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets")
        .join(name)
}

/// `openai/<model>` built by name through the registry, as a user does, pointed at the emulator.
fn openai(emulator: &Emulator, model: &str) -> Model {
    Model::builder(format!("openai/{model}"))
        .base_url(emulator.base_url())
        .api_key(EMULATOR_KEY)
        .build()
        .expect("the registry builds openai models")
}

#[tokio::test]
async fn bug_1_one_image_goes_to_dall_e_2_as_image_not_image_brackets() {
    let emulator = Emulator::start().await.expect("the OpenAI emulator starts");
    openai(&emulator, "dall-e-2")
        .edit("Add a sunset sky")
        .image(sample_image(64, 64))
        .mask(sample_mask(64, 64))
        .await
        .expect("edit succeeds");
    let sent = emulator.last_edit().expect("an edit");
    assert_eq!(sent.files("image").len(), 1, "fields: {:?}", sent.names());
    assert!(sent.files("image[]").is_empty(), "fields: {:?}", sent.names());
    assert!(emulator.problems().is_empty(), "{:?}", emulator.problems());
}

#[tokio::test]
async fn bug_2_raw_jpeg_bytes_go_with_their_real_mime_type() {
    let emulator = Emulator::start().await.expect("the OpenAI emulator starts");
    let jpeg = std::fs::read(asset("rocket.jpg")).expect("a shipped photo");
    openai(&emulator, "gpt-image-1")
        .edit("Paint the rocket red")
        .image(jpeg)
        .await
        .expect("edit succeeds");
    let sent = emulator.last_edit().expect("an edit");
    let image = sent.files("image")[0];
    assert_eq!(image.content_type(), Some("image/jpeg"));
    let filename = image.filename().unwrap_or_default();
    assert!(filename.ends_with(".jpg") || filename.ends_with(".jpeg"), "{filename}");
    assert!(emulator.problems().is_empty(), "{:?}", emulator.problems());
}

#[tokio::test]
async fn bug_3_a_data_uri_is_an_image() {
    let emulator = Emulator::start().await.expect("the OpenAI emulator starts");
    let png = sample_image(64, 64);
    let uri = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    openai(&emulator, "dall-e-2")
        .edit("Add a hat")
        .image(uri)
        .mask(sample_mask(64, 64))
        .await
        .expect("edit succeeds");
    let sent = emulator.last_edit().expect("an edit");
    assert_eq!(
        sent.files("image")[0].file_bytes(),
        Some(png.as_slice()),
        "the decoded PNG is sent as it was"
    );
}

#[tokio::test]
async fn bug_4_a_missing_file_path_is_an_error_naming_it_and_nothing_is_sent() {
    let emulator = Emulator::start().await.expect("the OpenAI emulator starts");
    let err = openai(&emulator, "dall-e-2")
        .edit("Add a hat")
        .image("photos/product.png")
        .await
        .expect_err("the file does not exist");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "image"),
        "{err:?}"
    );
    assert!(err.to_string().contains("photos/product.png"), "{err}");
    assert_eq!(emulator.edit_count(), 0);
}

#[tokio::test]
async fn bug_5_a_mask_of_another_size_is_refused_before_sending() {
    let emulator = Emulator::start().await.expect("the OpenAI emulator starts");
    let err = openai(&emulator, "dall-e-2")
        .edit("Add a hat")
        .image(sample_image(64, 64))
        .mask(sample_mask(32, 32))
        .await
        .expect_err("sizes differ");
    let text = err.to_string();
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "mask"),
        "{err:?}"
    );
    assert!(text.contains("32x32") && text.contains("64x64"), "{text}");
    assert_eq!(emulator.edit_count(), 0);
}

#[tokio::test]
async fn bug_5_a_non_square_image_for_dall_e_2_is_refused_before_sending() {
    let emulator = Emulator::start().await.expect("the OpenAI emulator starts");
    let err = openai(&emulator, "dall-e-2")
        .edit("Add a hat")
        .image(sample_image(64, 48))
        .await
        .expect_err("dall-e-2 wants a square image");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "image"),
        "{err:?}"
    );
    assert!(err.to_string().contains("64x48"), "{err}");
    assert_eq!(emulator.edit_count(), 0);
}

#[tokio::test]
async fn bug_6_a_call_has_a_timeout_that_ends_a_silent_server() {
    let emulator = Emulator::start().await.expect("the OpenAI emulator starts");
    emulator.inject(Fault::Hang);
    let model = Model::builder("openai/dall-e-2")
        .base_url(emulator.base_url())
        .api_key(EMULATOR_KEY)
        .timeout(Duration::from_millis(300))
        .build()
        .expect("model");
    let started = Instant::now();
    let err = model
        .edit("Add a hat")
        .image(sample_image(64, 64))
        .mask(sample_mask(64, 64))
        .await
        .expect_err("the server never answers in time");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(emulator.edit_count(), 1, "a sent edit that timed out is not resent");
}

#[test]
fn bug_6_the_openai_read_timeout_is_on_by_default() {
    assert!(msgflux::providers::openai::DEFAULT_READ_TIMEOUT > Duration::ZERO);
    assert!(msgflux::providers::openai::DEFAULT_READ_TIMEOUT < Duration::from_secs(3600));
}

#[tokio::test]
async fn bug_7_a_batch_runs_no_more_than_its_concurrency_at_once() {
    let emulator = Emulator::start().await.expect("the OpenAI emulator starts");
    emulator.set_latency(Duration::from_millis(100));
    let model = openai(&emulator, "dall-e-2");
    let jobs: Vec<_> = (0..6)
        .map(|_| ("Add a hat", sample_image(64, 64), sample_mask(64, 64)))
        .collect();
    let started = Instant::now();
    let results = map_gather(&model, jobs, BatchOptions::default().concurrency(2)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // Six answers of 100 ms each, two at a time, cannot all be back before three rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert!(BatchOptions::default().concurrency_limit() <= 64);
}

#[tokio::test]
async fn bug_7_a_batch_item_timeout_ends_that_item_and_not_the_others() {
    let emulator = Emulator::start().await.expect("the OpenAI emulator starts");
    emulator.inject_when_prompt_contains("slow", Fault::Hang);
    let model = openai(&emulator, "dall-e-2");
    let jobs = vec![
        ("fast one", sample_image(64, 64), sample_mask(64, 64)),
        ("slow one", sample_image(64, 64), sample_mask(64, 64)),
    ];
    let started = Instant::now();
    let results = map_gather(
        &model,
        jobs,
        BatchOptions::default().timeout(Duration::from_millis(300)),
    )
    .await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(matches!(results[1], Err(Error::Timeout { .. })), "{:?}", results[1]);
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[tokio::test]
async fn bug_8_the_three_tuple_batch_form_sends_the_mask() {
    let emulator = Emulator::start().await.expect("the OpenAI emulator starts");
    let model = openai(&emulator, "dall-e-2");
    let results = map_gather(
        &model,
        vec![("Add a hat", sample_image(64, 64), sample_mask(64, 64))],
        BatchOptions::default(),
    )
    .await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert_eq!(emulator.last_edit().expect("an edit").files("mask").len(), 1);
}

#[tokio::test]
async fn bug_9_replicate_stable_diffusion_inpainting_is_registered_and_edits() {
    let emulator = msgflux_emulators::replicate::Emulator::start()
        .await
        .expect("emulator starts");
    emulator.set_default_polls(0);
    let model = Model::builder("replicate/stability-ai/stable-diffusion-inpainting")
        .base_url(emulator.base_url())
        .api_key(emulator.key())
        .build()
        .expect("the registry builds replicate models");
    let response = model
        .edit("a vase of flowers")
        .image(sample_image(64, 64))
        .mask(sample_mask(64, 64))
        .await
        .expect("edit succeeds");
    assert_eq!(response.images.len(), 1);
    assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
}
