//! What the gateway does for the studio page: the page and its files, the
//! off switch, what `GET /v1/models` says each model accepts, every broken
//! rule with its own parameter, and the keep-unmasked field.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use msgflux_emulators::openai::Emulator;
use reqwest::multipart::Form;
use serde_json::Value;

use crate::common::{
    Running, client, edit_form, error_of, file, get, mask, png, post_edit, start, start_before_openai, start_local,
    violation_params,
};

#[tokio::test]
async fn the_page_is_served_at_the_root_with_a_strict_content_security_policy() {
    let gateway = start_local().await;
    let response = get(&gateway, "/").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    for directive in [
        "default-src 'self'",
        "script-src 'self';",
        "img-src 'self' blob: data:",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} missing from {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let html = response.text().await.expect("text");
    assert!(
        html.contains(r#"<script src="/studio/studio.js" defer></script>"#),
        "{html}"
    );
    assert!(!html.contains("<script>"), "the page has an inline script");
}

#[tokio::test]
async fn the_page_needs_no_key_but_its_api_calls_do() {
    let gateway = start("", Some("studio-test-key-0123456789")).await;
    let page = get(&gateway, "/").await;
    assert_eq!(page.status(), 200);
    let models = get(&gateway, "/v1/models").await;
    assert_eq!(models.status(), 401);
}

#[tokio::test]
async fn the_script_and_styles_are_served_with_their_content_types() {
    let gateway = start_local().await;
    for (path, content_type) in [
        ("/studio/studio.js", "text/javascript; charset=utf-8"),
        ("/studio/studio.css", "text/css; charset=utf-8"),
    ] {
        let response = get(&gateway, path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], content_type, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
        assert!(!response.bytes().await.expect("body").is_empty(), "{path}");
    }
}

#[tokio::test]
async fn a_file_the_browser_already_has_is_answered_304_by_its_etag() {
    let gateway = start_local().await;
    let first = get(&gateway, "/studio/studio.js").await;
    let etag = first.headers()["etag"].clone();
    let again = client()
        .get(gateway.url("/studio/studio.js"))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag);
    assert!(again.bytes().await.expect("body").is_empty());
}

#[tokio::test]
async fn an_operator_can_turn_the_page_off() {
    let gateway = start("[studio]\nenabled = false", None).await;
    for path in ["/", "/studio/studio.js"] {
        let response = get(&gateway, path).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    let models = get(&gateway, "/v1/models").await;
    assert_eq!(models.status(), 200);
}

async fn model_entry(gateway: &Running, id: &str) -> Value {
    let body: Value = get(gateway, "/v1/models").await.json().await.expect("json");
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing from {body}"))
        .clone()
}

#[tokio::test]
async fn each_model_says_what_it_accepts() {
    let gateway = start_local().await;
    let caps = model_entry(&gateway, "local/telea").await["capabilities"].clone();
    assert_eq!(caps["mask"], "required");
    assert_eq!(caps["n"]["min"], 1);
    assert_eq!(caps["n"]["max"], 1);
    assert_eq!(caps["sizes"]["rule"], "input_size");
    assert_eq!(caps["honours_prompt"], false);
    let radius = &caps["options"][0];
    assert_eq!(radius["name"], "radius");
    assert_eq!(radius["type"], "integer");
}

#[tokio::test]
async fn an_alias_says_what_its_model_accepts() {
    let emulator = Emulator::start().await.expect("emulator");
    let gateway = start_before_openai(&emulator).await;
    let caps = model_entry(&gateway, "dall-e-2").await["capabilities"].clone();
    assert_eq!(caps["sizes"]["rule"], "one_of");
    assert!(
        caps["sizes"]["sizes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "512x512"),
        "{caps}"
    );
    assert_eq!(caps["n"]["max"], 10);
    assert_eq!(caps, model_entry(&gateway, "openai/dall-e-2").await["capabilities"]);
}

#[tokio::test]
async fn every_broken_rule_is_listed_with_its_own_parameter() {
    let gateway = start_local().await;
    let response = post_edit(&gateway, edit_form(&[("n", "3"), ("radius", "99")])).await;
    assert_eq!(response.status(), 400);
    let error = error_of(response).await;
    let params = violation_params(&error);
    assert!(
        params.contains(&"n".to_string()) && params.contains(&"option radius".to_string()),
        "{error}"
    );
    let n = error["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["param"] == "n")
        .unwrap();
    assert_eq!(n["message"], "must be between 1 and 1 for this model, got 3");
}

#[tokio::test]
async fn keep_unmasked_is_read_from_the_request() {
    let gateway = start_local().await;
    let form = Form::new()
        .part("image", file(png(64, 48), "photo.png"))
        .text("prompt", "remove it")
        .text("model", "local/telea")
        .text("keep_unmasked", "true");
    let response = post_edit(&gateway, form).await;
    let error = error_of(response).await;
    let params = violation_params(&error);
    assert!(params.contains(&"keep_unmasked".to_string()), "{error}");
    assert!(!params.contains(&"option keep_unmasked".to_string()), "{error}");
}

#[tokio::test]
async fn keep_unmasked_keeps_every_pixel_outside_the_mask_of_a_model_that_repaints_everything() {
    let emulator = Emulator::start().await.expect("emulator");
    let gateway = start_before_openai(&emulator).await;
    let (input, mask_png) = (png(64, 64), mask(64, 64));
    let form = Form::new()
        .part("image", file(input.clone(), "photo.png"))
        .part("mask", file(mask_png.clone(), "mask.png"))
        .text("prompt", "a lighthouse")
        .text("model", "gpt-image-1")
        .text("response_format", "b64_json")
        .text("keep_unmasked", "true");
    let response = post_edit(&gateway, form).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    let result = image::load_from_memory(&BASE64.decode(body["data"][0]["b64_json"].as_str().unwrap()).unwrap())
        .unwrap()
        .to_rgba8();
    let input = image::load_from_memory(&input).unwrap().to_rgba8();
    let mask_image = image::load_from_memory(&mask_png).unwrap().to_rgba8();
    assert_eq!(result.dimensions(), input.dimensions());
    for (x, y, keep) in mask_image.enumerate_pixels() {
        if keep[3] == 255 {
            assert_eq!(
                result.get_pixel(x, y).0[..3],
                input.get_pixel(x, y).0[..3],
                "pixel {x},{y} changed"
            );
        }
    }
}
