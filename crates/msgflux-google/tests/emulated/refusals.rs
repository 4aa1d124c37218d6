//! Refusals inside successful answers: never an empty success.

use msgflux_core::{EditRequest, Error};
use msgflux_emulators::google::{blocked_prompt, finished, text_only};

use crate::support::{assert_clean, emulator, model, png};

fn request() -> EditRequest {
    EditRequest::new("add a red scarf").image(png(64, 64))
}

#[tokio::test]
async fn a_blocked_prompt_is_content_policy_naming_the_reason() {
    let emulator = emulator().await;
    emulator.inject(blocked_prompt("SAFETY"));
    let err = model(&emulator, "gemini-2.5-flash-image")
        .call(request())
        .await
        .expect_err("blocked");
    assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
    assert!(err.to_string().contains("SAFETY"), "{err}");
    assert_eq!(emulator.generate_count(), 1);
    assert_clean(&emulator);
}

#[tokio::test]
async fn an_image_safety_finish_is_content_policy_with_the_models_words() {
    let emulator = emulator().await;
    emulator.inject(finished("IMAGE_SAFETY", "Unable to show the generated image."));
    let err = model(&emulator, "gemini-3-pro-image-preview")
        .call(request())
        .await
        .expect_err("stopped");
    assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
    assert!(err.to_string().contains("Unable to show the generated image."), "{err}");
    assert_eq!(
        err.provider_error().and_then(|d| d.code.as_deref()),
        Some("IMAGE_SAFETY")
    );
    assert_clean(&emulator);
}

#[tokio::test]
async fn a_prohibited_content_finish_is_content_policy() {
    let emulator = emulator().await;
    emulator.inject(finished(
        "PROHIBITED_CONTENT",
        "The request contains prohibited content.",
    ));
    let err = model(&emulator, "gemini-2.5-flash-image")
        .call(request())
        .await
        .expect_err("stopped");
    assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
    assert_clean(&emulator);
}

#[tokio::test]
async fn a_text_only_answer_is_an_invalid_response_with_the_models_words() {
    let emulator = emulator().await;
    emulator.inject(text_only("I can describe the scarf, but I cannot draw it."));
    let err = model(&emulator, "gemini-2.5-flash-image")
        .call(request())
        .await
        .expect_err("no image");
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("I cannot draw it."), "{err}");
    assert!(err.may_have_been_billed());
    assert_eq!(emulator.generate_count(), 1, "a billed answer is not resent");
    assert_clean(&emulator);
}

#[tokio::test]
async fn a_no_image_finish_is_an_invalid_response() {
    let emulator = emulator().await;
    emulator.inject(finished("NO_IMAGE", "No image was generated."));
    let err = model(&emulator, "gemini-3.1-flash-image")
        .call(request())
        .await
        .expect_err("no image");
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("NO_IMAGE"), "{err}");
    assert_clean(&emulator);
}
