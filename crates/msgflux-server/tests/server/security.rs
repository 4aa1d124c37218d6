//! Hostile and careless requests: each gets its clear status, the server
//! keeps serving, and no answer carries an upstream key.

use std::time::Duration;

use axum::response::Redirect;
use msgflux_emulators::openai::Emulator;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::{Running, client, edit_form, error_of, file, openai_form, png, start};

const KEY: &str = "gw-test-key-0123456789";

async fn keyed(extra: &str) -> Running {
    start(&format!("default_model = \"local/telea\"\n{extra}"), Some(KEY)).await
}

async fn edit_with(gateway: &Running, auth: Option<&str>) -> reqwest::Response {
    let mut request = client().post(gateway.url("/v1/images/edits")).multipart(edit_form(&[]));
    if let Some(auth) = auth {
        request = request.bearer_auth(auth);
    }
    request.send().await.expect("send")
}

#[tokio::test]
async fn a_request_without_a_key_is_401() {
    let gateway = keyed("").await;
    let response = edit_with(&gateway, None).await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await["type"], "authentication_error");
}

#[tokio::test]
async fn a_wrong_key_is_401_and_the_right_one_works() {
    let gateway = keyed("").await;
    assert_eq!(edit_with(&gateway, Some("gw-test-key-0123456788")).await.status(), 401);
    assert_eq!(edit_with(&gateway, Some(KEY)).await.status(), 200);
}

#[tokio::test]
async fn a_key_limited_to_some_models_gets_403_for_others() {
    let gateway = start(
        r#"
        default_model = "local/patchmatch"
        [[keys]]
        name = "fills-only"
        key = "telea-only-key-0123456789"
        models = ["local/telea"]
        "#,
        None,
    )
    .await;
    let response = edit_with(&gateway, Some("telea-only-key-0123456789")).await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let gateway = keyed("[limits]\nmax_body_bytes = 20000").await;
    let form = reqwest::multipart::Form::new()
        .part("image", file(vec![7u8; 50_000], "big.png"))
        .text("prompt", "remove it");
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 413);
    let json_response = client()
        .post(gateway.url("/v1/images/edits"))
        .bearer_auth(KEY)
        .json(&json!({ "prompt": "x".repeat(30_000), "images": [] }))
        .send()
        .await
        .expect("send");
    assert_eq!(json_response.status(), 413);
    assert_eq!(
        edit_with(&gateway, Some(KEY)).await.status(),
        200,
        "the server keeps serving"
    );
}

/// A PNG of 10000x10000 black pixels at one bit each: about 20 KB on the
/// wire, 400 MB once decoded to RGBA.
fn decompression_bomb() -> Vec<u8> {
    let (width, height) = (10_000u32, 10_000u32);
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().expect("header");
    writer
        .write_image_data(&vec![0u8; (width as usize).div_ceil(8) * height as usize])
        .expect("data");
    drop(writer);
    bytes
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_from_its_header() {
    let gateway = keyed("").await;
    let form = reqwest::multipart::Form::new()
        .part("image", file(decompression_bomb(), "bomb.png"))
        .text("prompt", "remove it");
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 400);
    let error = error_of(response).await;
    assert_eq!(error["param"], "image");
    assert!(error["message"].as_str().unwrap().contains("pixels"), "{error}");
}

async fn url_edit(gateway: &Running, url: &str) -> serde_json::Value {
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .bearer_auth(KEY)
        .json(&json!({ "prompt": "remove it", "images": [{ "image_url": url }] }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 400, "{url}");
    error_of(response).await
}

#[tokio::test]
async fn image_urls_to_loopback_metadata_and_private_addresses_are_refused() {
    let gateway = keyed("").await;
    for url in [
        format!("http://{}/healthz", gateway.addr),
        "http://169.254.169.254/latest/meta-data/iam".to_string(),
        format!("http://localhost:{}/v1/models", gateway.addr.port()),
        "http://10.0.0.7/photo.png".to_string(),
        "http://[::1]/photo.png".to_string(),
    ] {
        let error = url_edit(&gateway, &url).await;
        assert!(
            error["message"].as_str().unwrap().contains("not a public address"),
            "{url}: {error}"
        );
    }
}

#[tokio::test]
async fn a_redirect_to_a_private_address_is_refused() {
    // A server on an allowed network that redirects to the private network.
    let app = axum::Router::new().route(
        "/photo.png",
        axum::routing::get(|| async { Redirect::temporary("http://192.168.1.1/admin.png") }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let gateway = keyed("[url_inputs]\nallow_networks = [\"127.0.0.1/32\"]").await;
    let error = url_edit(&gateway, &format!("http://{addr}/photo.png")).await;
    assert!(error["message"].as_str().unwrap().contains("192.168.1.1"), "{error}");
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_cut_off() {
    let gateway = keyed("[limits]\nheader_timeout_secs = 0.2").await;
    let mut stream = tokio::net::TcpStream::connect(gateway.addr).await.expect("connect");
    stream
        .write_all(b"POST /v1/images/edits HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(ended.is_ok(), "the connection must be closed, not held open");
    assert_eq!(
        edit_with(&gateway, Some(KEY)).await.status(),
        200,
        "the server keeps serving"
    );
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_408() {
    let gateway = keyed("[limits]\nbody_timeout_secs = 0.2").await;
    let mut stream = tokio::net::TcpStream::connect(gateway.addr).await.expect("connect");
    let head = format!(
        "POST /v1/images/edits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nhi"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("an answer, not a hang")
        .expect("read");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn a_flood_above_the_in_flight_limit_gets_503_with_retry_after() {
    let emulator = Emulator::start().await.expect("emulator");
    emulator.set_latency(Duration::from_millis(400));
    let gateway = start(
        &format!(
            "[limits]\nmax_in_flight = 1\n[providers.openai]\nbase_url = \"{}\"\napi_key = \"{}\"",
            emulator.base_url(),
            emulator.key()
        ),
        None,
    )
    .await;
    let send = || {
        client()
            .post(gateway.url("/v1/images/edits"))
            .multipart(openai_form())
            .send()
    };
    let first = tokio::spawn(send());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = send().await.expect("send");
    assert_eq!(second.status(), 503);
    assert_eq!(second.headers()["retry-after"], "1");
    assert_eq!(second.headers()["x-should-retry"], "true");
    assert_eq!(first.await.expect("join").expect("send").status(), 200);
    assert_eq!(send().await.expect("send").status(), 200, "the server keeps serving");
    assert_eq!(emulator.edit_count(), 2, "the refused request was never sent upstream");
}

#[tokio::test]
async fn a_key_over_its_concurrency_gets_429() {
    let emulator = Emulator::start().await.expect("emulator");
    emulator.set_latency(Duration::from_millis(400));
    let gateway = start(
        &format!(
            "[limits]\nper_key_concurrency = 1\n[providers.openai]\nbase_url = \"{}\"\napi_key = \"{}\"",
            emulator.base_url(),
            emulator.key()
        ),
        Some(KEY),
    )
    .await;
    let send = || {
        client()
            .post(gateway.url("/v1/images/edits"))
            .bearer_auth(KEY)
            .multipart(openai_form())
            .send()
    };
    let first = tokio::spawn(send());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = send().await.expect("send");
    assert_eq!(second.status(), 429);
    assert_eq!(first.await.expect("join").expect("send").status(), 200);
}

#[tokio::test]
async fn an_upstream_key_never_appears_in_an_answer_or_the_metrics() {
    let emulator = Emulator::start().await.expect("emulator");
    let secret = "sk-upstream-secret-do-not-leak-42";
    let gateway = start(
        &format!(
            "[providers.openai]\nbase_url = \"{}\"\napi_key = \"{secret}\"",
            emulator.base_url()
        ),
        None,
    )
    .await;
    let response = client()
        .post(gateway.url("/v1/images/edits"))
        .multipart(openai_form())
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 502, "the emulator refuses the key");
    let headers = format!("{:?}", response.headers());
    let body = response.text().await.expect("text");
    assert!(!body.contains(secret) && !headers.contains(secret), "{body}");
    let metrics = client().get(gateway.url("/metrics")).send().await.expect("metrics");
    assert!(!metrics.text().await.expect("text").contains(secret));
}

async fn fetch(gateway: &Running, key: Option<&str>, url: &str) -> reqwest::Response {
    let request = client()
        .post(gateway.url("/v1/inputs/fetch"))
        .json(&json!({ "url": url }));
    let request = match key {
        Some(key) => request.bearer_auth(key),
        None => request,
    };
    request.send().await.expect("send")
}

/// A server on 127.0.0.1 with one picture, for the tests that allow loopback.
async fn picture_server(bytes: Vec<u8>) -> std::net::SocketAddr {
    let app = axum::Router::new().route(
        "/photo.png",
        axum::routing::get(move || {
            let bytes = bytes.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "image/png")], bytes) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn fetching_an_input_returns_the_image_from_an_allowed_address() {
    let photo = png(48, 32);
    let addr = picture_server(photo.clone()).await;
    let gateway = keyed("[url_inputs]\nallow_networks = [\"127.0.0.1/32\"]").await;
    let response = fetch(&gateway, Some(KEY), &format!("http://{addr}/photo.png")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.bytes().await.expect("body").to_vec(), photo);
}

#[tokio::test]
async fn fetching_an_input_refuses_loopback_metadata_and_private_addresses() {
    let gateway = keyed("").await;
    for url in [
        format!("http://{}/healthz", gateway.addr),
        "http://169.254.169.254/latest/meta-data/iam".to_string(),
        "http://10.0.0.7/photo.png".to_string(),
    ] {
        let response = fetch(&gateway, Some(KEY), &url).await;
        assert_eq!(response.status(), 400, "{url}");
        let error = error_of(response).await;
        assert_eq!(error["param"], "url", "{error}");
        assert!(
            error["message"].as_str().unwrap().contains("not a public address"),
            "{url}: {error}"
        );
    }
}

#[tokio::test]
async fn fetching_an_input_needs_the_key_and_an_http_url() {
    let gateway = keyed("").await;
    assert_eq!(fetch(&gateway, None, "https://example.com/a.png").await.status(), 401);
    let response = fetch(&gateway, Some(KEY), "file:///etc/passwd").await;
    assert_eq!(response.status(), 400);
    let error = error_of(response).await;
    assert_eq!(error["param"], "url");
    assert!(error["message"].as_str().unwrap().contains("http(s)"), "{error}");
}

#[tokio::test]
async fn fetching_an_input_is_refused_when_url_inputs_are_off() {
    let addr = picture_server(png(8, 8)).await;
    let gateway = keyed("[url_inputs]\nenabled = false").await;
    let response = fetch(&gateway, Some(KEY), &format!("http://{addr}/photo.png")).await;
    assert_eq!(response.status(), 400);
    assert!(
        error_of(response).await["message"]
            .as_str()
            .unwrap()
            .contains("turned off"),
        "the switch names itself"
    );
}

#[tokio::test]
async fn fetching_an_input_over_the_pixel_budget_is_refused() {
    let addr = picture_server(png(64, 64)).await;
    let gateway = keyed("[url_inputs]\nallow_networks = [\"127.0.0.1/32\"]\n[limits]\nmax_pixels = 1000").await;
    let response = fetch(&gateway, Some(KEY), &format!("http://{addr}/photo.png")).await;
    assert_eq!(response.status(), 400);
    let error = error_of(response).await;
    assert!(error["message"].as_str().unwrap().contains("4096 pixels"), "{error}");
}
