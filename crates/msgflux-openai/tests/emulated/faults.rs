//! Faults injected by the emulator: what is retried, what is not, and what
//! the errors say. Billing rule: an answer with an error status was not
//! billed and may be resent; a request that was sent and then timed out or
//! lost its connection may have been billed and is never resent.
//!
//! The cases every HTTP provider shares (a refused connection, a rate
//! limit, a hung request, quota, a policy refusal, an answer that is not an
//! image) run through core's fault suite; the tests below it are OpenAI's own.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use msgflux_core::kit::testkit::conformance::faults::{self, FaultHarness, InjectedFault};
use msgflux_core::{Error, Model, RetryPolicy};
use msgflux_emulators::Fault;
use msgflux_emulators::engine::start_resetting_server;
use msgflux_openai::{OpenAIBuilder, default_retry_policy};

use crate::support::{EMULATOR_KEY, Emulator, bounded, builder, emulator, model, rgba_png};

/// Core's fault suite over the emulator, with gpt-image-1.
struct Harness {
    emulator: Emulator,
}

impl Harness {
    fn builder(&self) -> OpenAIBuilder {
        builder(&self.emulator)
            .with_read_timeout(Duration::from_millis(300))
            .with_retry(default_retry_policy().with_backoff(Duration::from_millis(1), Duration::from_millis(5)))
    }
}

impl FaultHarness for Harness {
    fn model(&self) -> Model {
        Model::from_provider(Arc::new(self.builder().build("gpt-image-1").expect("builds")))
    }

    fn model_without_server(&self) -> Model {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        drop(listener);
        let provider = self
            .builder()
            .with_base_url(format!("http://{addr}/v1"))
            .build("gpt-image-1")
            .expect("builds");
        Model::from_provider(Arc::new(provider))
    }

    fn paid_requests(&self) -> usize {
        self.emulator.edit_count()
    }

    fn inject(&self, fault: InjectedFault) {
        let fault = match fault {
            InjectedFault::RateLimited(wait) => Fault::RateLimited { retry_after: wait },
            InjectedFault::QuotaExceeded => Fault::QuotaExceeded,
            InjectedFault::ContentPolicy => Fault::ContentPolicy,
            InjectedFault::Hang => Fault::Hang,
            InjectedFault::NotAnImage => Fault::NotAnImage,
            other => panic!("the OpenAI harness does not know {other:?}"),
        };
        self.emulator.inject(fault);
    }
}

#[tokio::test]
async fn the_shared_fault_cases_pass() {
    let harness = Harness {
        emulator: emulator().await,
    };
    faults::run_all(&harness).await;
    // Every case that reached the emulator was one edit each, plus one retry after the rate limit.
    assert_eq!(harness.emulator.edit_count(), 6);
    crate::support::assert_clean(&harness.emulator);
}

fn with_policy(emulator: &Emulator, policy: RetryPolicy) -> Model {
    let provider = builder(emulator)
        .with_retry(policy)
        .build("gpt-image-1")
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

/// An OpenAI error body with this status and code, and extra headers.
fn status(status: u16, code: &str, headers: &[(&str, &str)]) -> Fault {
    Fault::Status {
        status,
        code: code.into(),
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

fn raw(status: u16, content_type: &str, body: &str) -> Fault {
    Fault::Raw {
        status,
        content_type: content_type.into(),
        body: body.into(),
    }
}

#[tokio::test]
async fn a_429_is_retried_after_the_retry_after_ms_the_server_asks_for() {
    let emulator = emulator().await;
    emulator.inject(Fault::rate_limited_ms(20));
    let response = edit(&with_policy(&emulator, patient_policy()))
        .await
        .expect("second attempt succeeds");
    assert_eq!(emulator.edit_count(), 2);
    assert_eq!(response.images.len(), 1);
    assert_eq!(
        emulator.edits()[1].header("x-stainless-retry-count"),
        Some("1"),
        "the retry says which attempt it is"
    );
}

#[tokio::test]
async fn a_429_with_retry_after_in_seconds_is_honoured() {
    let emulator = emulator().await;
    emulator.inject(status(429, "rate_limit_exceeded", &[("retry-after", "0")]));
    edit(&with_policy(&emulator, patient_policy()))
        .await
        .expect("second attempt succeeds");
    assert_eq!(emulator.edit_count(), 2);
}

#[tokio::test]
async fn a_500_is_retried_and_then_succeeds() {
    let emulator = emulator().await;
    emulator.inject(Fault::ServerError { status: 500 });
    edit(&model(&emulator, "gpt-image-1"))
        .await
        .expect("second attempt succeeds");
    assert_eq!(emulator.edit_count(), 2);
}

#[tokio::test]
async fn an_html_bad_gateway_page_is_a_server_error_and_is_retried() {
    let emulator = emulator().await;
    emulator.inject(raw(
        502,
        "text/html",
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
    ));
    edit(&model(&emulator, "gpt-image-1"))
        .await
        .expect("second attempt succeeds");
    assert_eq!(emulator.edit_count(), 2);
}

#[tokio::test]
async fn retries_stop_after_max_retries_and_the_error_counts_the_attempts() {
    let emulator = emulator().await;
    emulator.inject_all(std::iter::repeat_n(Fault::ServerError { status: 503 }, 5));
    let err = edit(&model(&emulator, "gpt-image-1"))
        .await
        .expect_err("every attempt fails");
    assert!(matches!(err, Error::Server(_)), "{err}");
    assert_eq!(emulator.edit_count(), 3, "the first attempt and 2 retries");
    assert_eq!(err.provider_error().expect("detail").attempts, 3);
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
}

#[tokio::test]
async fn x_should_retry_false_stops_retries() {
    let emulator = emulator().await;
    emulator.inject(status(500, "server_error", &[("x-should-retry", "false")]));
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("not retried");
    assert!(matches!(err, Error::Server(_)), "{err}");
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test]
async fn the_content_policy_violation_code_is_a_content_policy_error_with_its_request_id() {
    let emulator = emulator().await;
    emulator.inject(status(400, "content_policy_violation", &[]));
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("refused");
    assert!(matches!(err, Error::ContentPolicy(_)), "{err}");
    assert_eq!(err.request_id(), Some("req_emu_1"));
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test]
async fn a_wrong_key_is_unauthenticated_and_is_not_retried() {
    let emulator = emulator().await;
    let provider = builder(&emulator)
        .with_api_key("sk-wrong")
        .build("gpt-image-1")
        .expect("builds");
    let err = edit(&Model::from_provider(Arc::new(provider))).await.expect_err("401");
    assert!(matches!(err, Error::Unauthenticated(_)), "{err}");
    assert_eq!(err.status(), Some(401));
    assert!(
        !err.to_string().contains("sk-wrong"),
        "the key never appears in errors: {err}"
    );
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test]
async fn an_injected_401_is_unauthenticated() {
    let emulator = emulator().await;
    emulator.inject(status(401, "invalid_api_key", &[]));
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("401");
    assert!(matches!(err, Error::Unauthenticated(_)), "{err}");
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test]
async fn insufficient_quota_is_permanent_even_with_a_retry_after() {
    let emulator = emulator().await;
    emulator.inject(status(429, "insufficient_quota", &[("retry-after-ms", "1")]));
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("no credit");
    assert!(matches!(err, Error::QuotaExceeded(_)), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test]
async fn a_read_timeout_says_the_work_may_have_been_billed() {
    let emulator = emulator().await;
    emulator.inject(Fault::Hang);
    let provider = builder(&emulator)
        .with_read_timeout(Duration::from_millis(300))
        .build("gpt-image-1")
        .expect("builds");
    let err = edit(&Model::from_provider(Arc::new(provider)))
        .await
        .expect_err("times out");
    assert!(err.to_string().contains("may have done and billed"), "{err}");
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test]
async fn a_connection_reset_after_sending_is_not_resent() {
    let (addr, requests) = start_resetting_server().await.expect("resetting server");
    let provider = OpenAIBuilder::new()
        .with_base_url(format!("http://{addr}/v1"))
        .with_api_key(EMULATOR_KEY)
        .with_retry(crate::support::fast_retry())
        .build("gpt-image-1")
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
async fn a_truncated_json_body_is_an_invalid_response_that_may_have_been_billed() {
    let emulator = emulator().await;
    emulator.inject(raw(
        200,
        "application/json",
        r#"{"created": 1700000000, "data": [{"b64_json": "iVBORw0KGgoAAAANSUhE"#,
    ));
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("truncated");
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err}");
    assert!(err.to_string().contains("may have been done and billed"), "{err}");
    assert_eq!(err.request_id(), Some("req_emu_1"));
    assert_eq!(emulator.edit_count(), 1, "a billed answer is never resent");
}

#[tokio::test]
async fn an_html_page_with_status_200_is_an_invalid_response() {
    let emulator = emulator().await;
    emulator.inject(raw(
        200,
        "text/html",
        "<!DOCTYPE html><html><body>Sign in to the proxy</body></html>",
    ));
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("html");
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err}");
    assert!(err.to_string().contains("Sign in to the proxy"), "{err}");
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test]
async fn an_answer_without_images_is_an_invalid_response() {
    let emulator = emulator().await;
    emulator.inject(raw(200, "application/json", r#"{"created": 1700000000, "data": []}"#));
    let err = edit(&model(&emulator, "gpt-image-1")).await.expect_err("empty");
    assert!(err.to_string().contains("no images"), "{err}");
}
