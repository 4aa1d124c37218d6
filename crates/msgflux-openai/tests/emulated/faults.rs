//! Faults injected by the emulator: what is retried, what is not, and what
//! the errors say. Billing rule: an answer with an error status was not
//! billed and may be resent; a request that was sent and then timed out or
//! lost its connection may have been billed and is never resent.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use msgflux_core::{Error, Model, RetryPolicy};
use msgflux_openai::{OpenAIBuilder, default_retry_policy};

use crate::support::{bounded, builder, model, rgba_png};
use msgflux_openai::emulator::{EMULATOR_KEY, Emulator, Reply, start_resetting_server};

fn with_policy(emulator: &Emulator, policy: RetryPolicy) -> Model {
    let provider = builder(emulator, "gpt-image-1")
        .with_retry(policy)
        .build()
        .expect("builds");
    Model::from_provider(Arc::new(provider))
}

async fn edit(model: &Model) -> msgflux_core::Result<msgflux_core::EditResponse> {
    bounded(model.edit("Make it blue").image(rgba_png(16, 16)).send()).await
}

/// A policy whose own backoff would take 30 s: a quick success proves the
/// server's wait was used instead.
fn patient_policy() -> RetryPolicy {
    default_retry_policy().with_backoff(Duration::from_secs(30), Duration::from_secs(30))
}

#[tokio::test]
async fn a_429_is_retried_after_the_retry_after_ms_the_server_asks_for() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::rate_limited_ms("20")]);
    let response = edit(&with_policy(&emulator, patient_policy()))
        .await
        .expect("second attempt succeeds");
    assert_eq!(emulator.post_count(), 2);
    assert_eq!(response.images.len(), 1);
    assert_eq!(
        emulator.requests()[1].headers["x-stainless-retry-count"],
        "1",
        "the retry says which attempt it is"
    );
}

#[tokio::test]
async fn a_429_with_retry_after_in_seconds_is_honoured() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::Error {
        status: 429,
        code: "rate_limit_exceeded",
        kind: "requests",
        headers: vec![("retry-after", "0")],
    }]);
    edit(&with_policy(&emulator, patient_policy()))
        .await
        .expect("second attempt succeeds");
    assert_eq!(emulator.post_count(), 2);
}

#[tokio::test]
async fn a_500_is_retried_and_then_succeeds() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::error(500, "server_error", "server_error")]);
    edit(&model(&emulator, "gpt-image-1"))
        .await
        .expect("second attempt succeeds");
    assert_eq!(emulator.post_count(), 2);
}

#[tokio::test]
async fn an_html_bad_gateway_page_is_a_server_error_and_is_retried() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::Raw {
        status: 502,
        content_type: "text/html",
        body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
    }]);
    edit(&model(&emulator, "gpt-image-1"))
        .await
        .expect("second attempt succeeds");
    assert_eq!(emulator.post_count(), 2);
}

#[tokio::test]
async fn retries_stop_after_max_retries_and_the_error_counts_the_attempts() {
    let emulator = Emulator::start().await;
    emulator.script(std::iter::repeat_n(
        Reply::error(503, "server_error", "server_error"),
        5,
    ));
    let err = edit(&model(&emulator, "gpt-image-1"))
        .await
        .expect_err("every attempt fails");
    assert!(matches!(err, Error::Server(_)), "{err}");
    assert_eq!(emulator.post_count(), 3, "the first attempt and 2 retries");
    assert_eq!(err.provider_error().expect("detail").attempts, 3);
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
}

#[tokio::test]
async fn x_should_retry_false_stops_retries() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::Error {
        status: 500,
        code: "server_error",
        kind: "server_error",
        headers: vec![("x-should-retry", "false")],
    }]);
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("not retried");
    assert!(matches!(err, Error::Server(_)), "{err}");
    assert_eq!(emulator.post_count(), 1);
}

#[tokio::test]
async fn a_content_policy_refusal_is_a_content_policy_error_and_is_not_retried() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::error(400, "content_policy_violation", "invalid_request_error")]);
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("refused");
    assert!(matches!(err, Error::ContentPolicy(_)), "{err}");
    assert_eq!(err.request_id(), Some("req_emu_1"));
    assert_eq!(emulator.post_count(), 1);
}

#[tokio::test]
async fn moderation_blocked_is_a_content_policy_error() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::error(400, "moderation_blocked", "image_generation_user_error")]);
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("refused");
    assert!(matches!(err, Error::ContentPolicy(_)), "{err}");
}

#[tokio::test]
async fn a_wrong_key_is_unauthenticated_and_is_not_retried() {
    let emulator = Emulator::start().await;
    let provider = OpenAIBuilder::new()
        .with_base_url(emulator.base_url())
        .with_api_key("sk-wrong")
        .with_model("gpt-image-1")
        .with_retry(crate::support::fast_retry())
        .build()
        .expect("builds");
    let err = edit(&Model::from_provider(Arc::new(provider))).await.expect_err("401");
    assert!(matches!(err, Error::Unauthenticated(_)), "{err}");
    assert_eq!(err.status(), Some(401));
    assert!(
        !err.to_string().contains("sk-wrong"),
        "the key never appears in errors: {err}"
    );
    assert_eq!(emulator.post_count(), 1);
}

#[tokio::test]
async fn an_injected_401_is_unauthenticated() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::error(401, "invalid_api_key", "invalid_request_error")]);
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("401");
    assert!(matches!(err, Error::Unauthenticated(_)), "{err}");
    assert_eq!(emulator.post_count(), 1);
}

#[tokio::test]
async fn insufficient_quota_is_permanent_even_with_a_retry_after() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::Error {
        status: 429,
        code: "insufficient_quota",
        kind: "insufficient_quota",
        headers: vec![("retry-after-ms", "1")],
    }]);
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("no credit");
    assert!(matches!(err, Error::QuotaExceeded(_)), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(emulator.post_count(), 1);
}

#[tokio::test]
async fn a_slow_answer_past_the_read_timeout_is_not_resent_and_may_have_been_billed() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::Hang]);
    let provider = builder(&emulator, "gpt-image-1")
        .with_read_timeout(Duration::from_millis(300))
        .build()
        .expect("builds");
    let err = edit(&Model::from_provider(Arc::new(provider)))
        .await
        .expect_err("times out");
    assert!(matches!(err, Error::Timeout { maybe_billed: true, .. }), "{err}");
    assert!(err.may_have_been_billed());
    assert!(err.to_string().contains("may have done and billed"), "{err}");
    assert_eq!(emulator.post_count(), 1, "exactly one POST reached the server");
}

#[tokio::test]
async fn a_connection_reset_after_sending_is_not_resent() {
    let (base_url, requests) = start_resetting_server().await;
    let provider = OpenAIBuilder::new()
        .with_base_url(base_url)
        .with_api_key(EMULATOR_KEY)
        .with_model("gpt-image-1")
        .with_retry(crate::support::fast_retry())
        .build()
        .expect("builds");
    let err = edit(&Model::from_provider(Arc::new(provider)))
        .await
        .expect_err("reset");
    assert!(matches!(err, Error::Network { request_sent: true, .. }), "{err:?}");
    assert!(err.may_have_been_billed());
    assert!(err.to_string().contains("after the request was sent"), "{err}");
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "exactly one request reached the server"
    );
}

#[tokio::test]
async fn a_refused_connection_fails_before_sending_and_says_so() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    let provider = OpenAIBuilder::new()
        .with_base_url(format!("http://{addr}/v1"))
        .with_model("gpt-image-1")
        .with_retry(crate::support::fast_retry())
        .build()
        .expect("builds");
    let err = edit(&Model::from_provider(Arc::new(provider)))
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(
            err,
            Error::Network {
                request_sent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.may_have_been_billed());
}

#[tokio::test]
async fn a_truncated_json_body_is_an_invalid_response_that_may_have_been_billed() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::Raw {
        status: 200,
        content_type: "application/json",
        body: r#"{"created": 1700000000, "data": [{"b64_json": "iVBORw0KGgoAAAANSUhE"#,
    }]);
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("truncated");
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err}");
    assert!(err.to_string().contains("may have been done and billed"), "{err}");
    assert_eq!(err.request_id(), Some("req_emu_1"));
    assert_eq!(emulator.post_count(), 1, "a billed answer is never resent");
}

#[tokio::test]
async fn an_html_page_with_status_200_is_an_invalid_response() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::Raw {
        status: 200,
        content_type: "text/html",
        body: "<!DOCTYPE html><html><body>Sign in to the proxy</body></html>",
    }]);
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("html");
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err}");
    assert!(err.to_string().contains("Sign in to the proxy"), "{err}");
    assert_eq!(emulator.post_count(), 1);
}

#[tokio::test]
async fn an_answer_without_images_is_an_invalid_response() {
    let emulator = Emulator::start().await;
    emulator.script([Reply::Raw {
        status: 200,
        content_type: "application/json",
        body: r#"{"created": 1700000000, "data": []}"#,
    }]);
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("empty");
    assert!(err.to_string().contains("no images"), "{err}");
}
