//! Errors in OpenAI's error body and status, so each SDK raises its own exception.

use msgflux_emulators::Fault;
use msgflux_emulators::openai::Emulator;
use reqwest::multipart::Form;

use crate::common::{Running, client, edit_form, error_of, file, mask, png, post_edit, start, start_local};

#[tokio::test]
async fn every_broken_field_is_one_400_naming_the_first() {
    let gateway = start_local().await;
    let response = post_edit(&gateway, edit_form(&[("n", "abc"), ("size", "huge")])).await;
    assert_eq!(response.status(), 400);
    let error = error_of(response).await;
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["param"], "n");
    assert!(
        error["message"].as_str().unwrap().contains("also invalid size"),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_prompt_and_image_are_both_named() {
    let gateway = start_local().await;
    let response = post_edit(&gateway, Form::new().text("model", "local/telea")).await;
    assert_eq!(response.status(), 400);
    let error = error_of(response).await;
    assert_eq!(error["param"], "prompt");
    assert!(error["message"].as_str().unwrap().contains("image"), "{error}");
}

#[tokio::test]
async fn an_unknown_model_is_404_model_not_found() {
    let gateway = start_local().await;
    let response = post_edit(&gateway, edit_form(&[("model", "nowhere/model")])).await;
    assert_eq!(response.status(), 404);
    let error = error_of(response).await;
    assert_eq!(error["code"], "model_not_found");
    assert_eq!(error["param"], "model");
}

#[tokio::test]
async fn a_rule_of_the_model_is_400_naming_the_parameter() {
    let gateway = start_local().await;
    let form = Form::new()
        .part("image", file(png(64, 48), "photo.png"))
        .part("mask", file(mask(32, 32), "mask.png"))
        .text("prompt", "remove it");
    let response = post_edit(&gateway, form).await;
    assert_eq!(response.status(), 400);
    let error = error_of(response).await;
    assert_eq!(error["param"], "mask");
    assert!(error["message"].as_str().unwrap().contains("32x32"), "{error}");
    assert_eq!(
        error["violations"][0]["message"], "mask is 32x32 but image is 64x48; they must be the same size",
        "each rule is also listed with its own param (error.violations)"
    );
}

#[tokio::test]
async fn a_part_that_is_not_an_image_is_400_for_image() {
    let gateway = start_local().await;
    let form = Form::new()
        .part("image", file(b"<html>not an image</html>".to_vec(), "photo.png"))
        .text("prompt", "remove it");
    let response = post_edit(&gateway, form).await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_of(response).await["param"], "image");
}

#[tokio::test]
async fn a_body_that_is_neither_multipart_nor_json_is_400() {
    let gateway = start_local().await;
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .header("content-type", "text/plain")
        .body("edit please")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 400);
    assert_eq!(error_of(response).await["param"], "content-type");
}

async fn before_openai(emulator: &Emulator, extra: &str) -> Running {
    start(
        &format!(
            r#"
            {extra}
            [providers.openai]
            base_url = "{}"
            api_key = "{}"
            max_retries = 0
            "#,
            emulator.base_url(),
            emulator.key()
        ),
        None,
    )
    .await
}

fn openai_edit() -> Form {
    crate::common::openai_form()
}

#[tokio::test]
async fn an_upstream_rate_limit_is_429_with_retry_after() {
    let emulator = Emulator::start().await.expect("emulator");
    emulator.inject(Fault::rate_limited_ms(1_500));
    let gateway = before_openai(&emulator, "").await;
    let response = post_edit(&gateway, openai_edit()).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "2");
    assert_eq!(response.headers()["retry-after-ms"], "1500");
    assert_eq!(response.headers()["x-should-retry"], "true");
    assert_eq!(error_of(response).await["code"], "rate_limit_exceeded");
}

#[tokio::test]
async fn an_upstream_content_refusal_is_400_with_the_providers_code() {
    let emulator = Emulator::start().await.expect("emulator");
    emulator.inject(Fault::ContentPolicy);
    let gateway = before_openai(&emulator, "").await;
    let response = post_edit(&gateway, openai_edit()).await;
    assert_eq!(response.status(), 400);
    let error = error_of(response).await;
    assert!(error["code"].as_str().is_some(), "{error}");
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test]
async fn an_upstream_failure_is_502_and_the_client_is_told_not_to_resend() {
    let emulator = Emulator::start().await.expect("emulator");
    emulator.inject(Fault::ServerError { status: 500 });
    let gateway = before_openai(&emulator, "").await;
    let response = post_edit(&gateway, openai_edit()).await;
    assert_eq!(response.status(), 502);
    assert_eq!(response.headers()["x-should-retry"], "false");
}

#[tokio::test]
async fn an_upstream_that_hangs_is_504_after_the_request_timeout_and_not_resent() {
    let emulator = Emulator::start().await.expect("emulator");
    emulator.inject(Fault::Hang);
    let gateway = before_openai(&emulator, "[limits]\nrequest_timeout_secs = 0.3").await;
    let response = post_edit(&gateway, openai_edit()).await;
    assert_eq!(response.status(), 504);
    assert_eq!(response.headers()["x-should-retry"], "false");
    assert_eq!(
        emulator.edit_count(),
        1,
        "a request that may have been billed is sent once"
    );
}
