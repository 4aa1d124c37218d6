//! Edits through the gateway, in every form OpenAI's endpoint takes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use msgflux_emulators::openai::Emulator;
use serde_json::{Value, json};

use crate::common::{client, edit_form, edit_form_sized, file, mask, png, start, start_before_openai, start_local};

fn decoded(b64: &str) -> image::DynamicImage {
    image::load_from_memory(&BASE64.decode(b64).expect("base64")).expect("an image")
}

#[tokio::test]
async fn a_multipart_edit_answers_b64_json_with_the_input_size() {
    let gateway = start_local().await;
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .multipart(edit_form(&[("response_format", "b64_json")]))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-msgflux-model"], "local/telea");
    let body: Value = response.json().await.expect("json");
    assert!(body["created"].as_u64().is_some());
    assert_eq!(body["output_format"], "png");
    let result = decoded(body["data"][0]["b64_json"].as_str().expect("b64_json"));
    assert_eq!((result.width(), result.height()), (64, 48));
}

#[tokio::test]
async fn a_url_result_is_served_by_the_gateway_without_a_key() {
    let gateway = start_local().await;
    let body: Value = client()
        .post(gateway.url("/v1/images/edits"))
        .multipart(edit_form(&[]))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let url = body["data"][0]["url"].as_str().expect("url");
    assert!(url.starts_with(&format!("{}/v1/results/", gateway.base)), "{url}");
    let image = client().get(url).send().await.expect("fetch");
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    image::load_from_memory(&image.bytes().await.expect("bytes")).expect("an image");
}

#[tokio::test]
async fn an_unknown_result_token_is_404() {
    let gateway = start_local().await;
    let response = client()
        .get(gateway.url("/v1/results/0123456789abcdef.png"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_json_form_takes_data_uris() {
    let gateway = start_local().await;
    let data_uri = |bytes: Vec<u8>| format!("data:image/png;base64,{}", BASE64.encode(bytes));
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .json(&json!({
            "prompt": "remove the object",
            "images": [{ "image_url": data_uri(png(40, 40)) }],
            "mask": { "image_url": data_uri(mask(40, 40)) },
            "response_format": "b64_json",
        }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let result = decoded(body["data"][0]["b64_json"].as_str().expect("b64_json"));
    assert_eq!(result.width(), 40);
}

#[tokio::test]
async fn a_stream_from_a_provider_that_does_not_stream_is_one_completed_event() {
    let gateway = start_local().await;
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .multipart(edit_form(&[("stream", "true")]))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = response.text().await.expect("text");
    let events: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(events, ["image_edit.completed"], "{text}");
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).expect("data");
    let event: Value = serde_json::from_str(data).expect("json");
    assert_eq!(event["size"], "64x48");
    assert_eq!(event["output_format"], "png");
    decoded(event["b64_json"].as_str().expect("b64_json"));
}

#[tokio::test]
async fn an_unmodified_sdk_model_name_reaches_openai_through_its_alias() {
    let emulator = Emulator::start().await.expect("emulator");
    let gateway = start_before_openai(&emulator).await;
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .multipart(edit_form_sized(
            64,
            64,
            &[
                ("model", "dall-e-2"),
                ("response_format", "b64_json"),
                ("size", "256x256"),
            ],
        ))
        .send()
        .await
        .expect("send");
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    assert_eq!(emulator.edit_count(), 1);
    assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
}

#[tokio::test]
async fn several_images_reach_a_model_that_takes_several() {
    let emulator = Emulator::start().await.expect("emulator");
    let gateway = start_before_openai(&emulator).await;
    let form = reqwest::multipart::Form::new()
        .part("image[]", file(png(64, 64), "a.png"))
        .part("image[]", file(png(64, 64), "b.png"))
        .text("prompt", "put them side by side")
        .text("model", "gpt-image-1")
        .text("quality", "low");
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .multipart(form)
        .send()
        .await
        .expect("send");
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"][0]["b64_json"].is_string() || body["data"][0]["url"].is_string(),
        "{body}"
    );
    assert!(body["usage"]["total_tokens"].as_u64().is_some(), "{body}");
    assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
}

#[tokio::test]
async fn partial_images_stream_before_the_completed_one() {
    let emulator = Emulator::start().await.expect("emulator");
    let gateway = start_before_openai(&emulator).await;
    let form = reqwest::multipart::Form::new()
        .part("image", file(png(64, 64), "a.png"))
        .text("prompt", "a lighthouse")
        .text("model", "gpt-image-1")
        .text("stream", "true")
        .text("partial_images", "2");
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    let events: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(
        events,
        [
            "image_edit.partial_image",
            "image_edit.partial_image",
            "image_edit.completed"
        ],
        "{text}"
    );
    assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
}

#[tokio::test]
async fn a_replicate_model_is_reached_and_its_result_served_by_the_gateway() {
    let emulator = msgflux_emulators::replicate::Emulator::start().await.expect("emulator");
    emulator.set_default_polls(1);
    let gateway = start(
        &format!(
            r#"
            [providers.replicate]
            base_url = "{}"
            api_key = "{}"
            [providers.replicate.settings]
            poll_interval_ms = 5
            "#,
            emulator.base_url(),
            emulator.key()
        ),
        None,
    )
    .await;
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .multipart(edit_form_sized(
            64,
            64,
            &[("model", "replicate/black-forest-labs/flux-fill-pro")],
        ))
        .send()
        .await
        .expect("send");
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    // Replicate's delivery URL is not public https here, so the gateway serves the file itself.
    let url = body["data"][0]["url"].as_str().expect("url");
    assert!(url.starts_with(&gateway.base), "{url}");
    let image = client().get(url).send().await.expect("fetch");
    image::load_from_memory(&image.bytes().await.expect("bytes")).expect("an image");
    assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
}
