//! What an operator reads and does: models, health, metrics, the OpenAPI
//! document, and shutdown.

use std::time::Duration;

use msgflux_emulators::openai::Emulator;
use serde_json::Value;

use crate::common::{client, edit_form, openai_form, start, start_local};

#[tokio::test]
async fn models_lists_the_providers_that_need_no_key_and_the_configured_ones() {
    let emulator = Emulator::start().await.expect("emulator");
    let gateway = start(
        &format!(
            "[providers.openai]\nbase_url = \"{}\"\napi_key = \"{}\"",
            emulator.base_url(),
            emulator.key()
        ),
        None,
    )
    .await;
    let body: Value = client()
        .get(gateway.url("/v1/models"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    for id in ["local/patchmatch", "openai/dall-e-2", "dall-e-2"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert_eq!(body["object"], "list");
}

#[tokio::test]
async fn health_and_readiness_answer_without_a_key() {
    let gateway = start("", Some("gw-test-key-0123456789")).await;
    for path in ["/healthz", "/readyz"] {
        assert_eq!(
            client().get(gateway.url(path)).send().await.expect("send").status(),
            200,
            "{path}"
        );
    }
}

#[tokio::test]
async fn metrics_count_requests_by_model_and_status() {
    let gateway = start_local().await;
    let ok = client()
        .post(gateway.url("/v1/images/edits"))
        .multipart(edit_form(&[]))
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), 200);
    let text = client()
        .get(gateway.url("/metrics"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(r#"msgflux_gateway_edit_requests_total{model="local/telea",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains("msgflux_gateway_edit_duration_seconds_bucket"), "{text}");
    assert!(
        text.contains(r#"msgflux_gateway_images_total{model="local/telea"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_edit_endpoint() {
    let gateway = start_local().await;
    let doc: Value = client()
        .get(gateway.url("/openapi.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/images/edits"]["post"].is_object());
}

#[tokio::test]
async fn shutdown_lets_an_edit_in_flight_finish() {
    let emulator = Emulator::start().await.expect("emulator");
    emulator.set_latency(Duration::from_millis(300));
    let mut gateway = start(
        &format!(
            "[providers.openai]\nbase_url = \"{}\"\napi_key = \"{}\"",
            emulator.base_url(),
            emulator.key()
        ),
        None,
    )
    .await;
    let url = gateway.url("/v1/images/edits");
    let in_flight = tokio::spawn(async move { client().post(url).multipart(openai_form()).send().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    gateway.begin_shutdown();
    let answer = in_flight.await.expect("join").expect("the edit is answered");
    assert_eq!(answer.status(), 200);
    gateway.shut_down().await;
}

#[test]
fn the_shipped_container_settings_parse() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/gateway.toml");
    let config = msgflux_server::ServerConfig::from_file(&path).expect("deploy/gateway.toml");
    assert_eq!(config.listen.port(), 8080);
    assert_eq!(config.aliases["dall-e-2"], "openai/dall-e-2");
}

#[tokio::test]
async fn unknown_model_names_do_not_become_metric_labels() {
    let gateway = start_local().await;
    for name in ["nowhere/a", "nowhere/b"] {
        let response = client()
            .post(gateway.url("/v1/images/edits"))
            .multipart(edit_form(&[("model", name)]))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 404);
    }
    let text = client()
        .get(gateway.url("/metrics"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(!text.contains("nowhere"), "{text}");
    assert!(
        text.contains(r#"msgflux_gateway_edit_requests_total{model="unknown",status="404"} 2"#),
        "{text}"
    );
}
