//! The service's own behaviours and faults: moderation in both of its
//! forms, the asynchronous generation polled to its end, an expired result,
//! a failed generation, retries that never bill twice, errors in Stability's words.

use std::time::Duration;

use msgflux_core::Error;
use msgflux_emulators::Fault;
use msgflux_emulators::stability::POLL;

use crate::support::{assert_clean, builder, emulator, masked, model, model_with_default_retries, unmasked};

const RELIGHT: &str = "replace-background-and-relight";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_filtered_result_is_a_content_policy_error_not_a_blurred_image() {
    let emulator = emulator().await;
    emulator.inject_content_filtered();
    let err = model(&emulator, "inpaint")
        .call(masked("x"))
        .await
        .expect_err("filtered");
    assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
    assert!(err.to_string().contains("CONTENT_FILTERED"), "{err}");
    assert_eq!(emulator.edit_count(), 1, "never resent");
    assert_clean(&emulator);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_asynchronous_result_is_a_content_policy_error_too() {
    let emulator = emulator().await;
    emulator.inject_content_filtered();
    let err = model(&emulator, RELIGHT)
        .call(unmasked("a beach"))
        .await
        .expect_err("filtered");
    assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
    assert_clean(&emulator);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_asynchronous_service_is_polled_until_its_image_is_ready() {
    let emulator = emulator().await;
    emulator.set_default_polls(3);
    let response = model(&emulator, RELIGHT)
        .call(unmasked("a snowy mountain"))
        .await
        .expect("relight");
    assert_eq!(response.images.len(), 1);
    assert_eq!(emulator.edit_count(), 1);
    assert_eq!(emulator.count(POLL), 4, "three answers in progress, then the image");
    assert!((response.cost.expect("cost").usd - 0.08).abs() < 1e-9, "8 credits");
    assert_clean(&emulator);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_generation_past_the_request_timeout_may_have_been_billed() {
    let emulator = emulator().await;
    emulator.inject(Fault::slow_job(1_000_000));
    let err = model(&emulator, RELIGHT)
        .call(unmasked("a beach").timeout(Duration::from_millis(60)))
        .await
        .expect_err("too slow");
    assert!(matches!(err, Error::Timeout { maybe_billed: true, .. }), "{err:?}");
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_generation_keeps_stability_s_message() {
    let emulator = emulator().await;
    emulator.inject(Fault::failed_job(1, "the generation could not be completed"));
    let err = model(&emulator, RELIGHT)
        .call(unmasked("a beach"))
        .await
        .expect_err("failed");
    assert!(matches!(err, Error::Server(_)), "{err:?}");
    assert!(err.to_string().contains("could not be completed"), "{err}");
    assert_eq!(emulator.edit_count(), 1, "a poll may be retried, the start is not");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_result_is_not_found() {
    let emulator = emulator().await;
    emulator.inject_on(
        POLL,
        Fault::Status {
            status: 404,
            code: "generation_not_found".into(),
            headers: Vec::new(),
        },
    );
    let err = model(&emulator, RELIGHT)
        .call(unmasked("a beach"))
        .await
        .expect_err("expired");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(
        err.provider_error().and_then(|d| d.code.as_deref()),
        Some("generation_not_found")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_poll_is_polled_again() {
    let emulator = emulator().await;
    emulator.inject_on(POLL, Fault::ServerError { status: 502 });
    model(&emulator, RELIGHT)
        .call(unmasked("a beach"))
        .await
        .expect("the poll is retried");
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_resent_by_default_because_failed_generations_are_not_charged() {
    let emulator = emulator().await;
    emulator.inject(Fault::ServerError { status: 500 });
    model_with_default_retries(&emulator, "inpaint")
        .call(masked("x"))
        .await
        .expect("succeeds on the second try");
    assert_eq!(emulator.edit_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_final_under_core_s_default_policy() {
    let emulator = emulator().await;
    emulator.inject(Fault::ServerError { status: 500 });
    let err = model(&emulator, "inpaint").call(masked("x")).await.expect_err("500");
    assert!(matches!(err, Error::Server(_)), "{err:?}");
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_with_retry_after_is_waited_out() {
    let emulator = emulator().await;
    emulator.inject(Fault::Unavailable {
        retry_after: Duration::from_millis(10),
    });
    model(&emulator, "erase")
        .call(masked(""))
        .await
        .expect("after the wait");
    assert_eq!(emulator.edit_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_credits_is_quota_exceeded_and_never_resent() {
    let emulator = emulator().await;
    emulator.inject(Fault::QuotaExceeded);
    let err = model_with_default_retries(&emulator, "inpaint")
        .call(masked("x"))
        .await
        .expect_err("no credits");
    assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
    assert_eq!(emulator.edit_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_field_becomes_invalid_input_naming_it() {
    let emulator = emulator().await;
    emulator.inject(Fault::Rejected {
        field: "image".into(),
        message: "the image could not be read".into(),
    });
    let err = model(&emulator, "inpaint")
        .call(masked("x"))
        .await
        .expect_err("rejected");
    assert!(err.violations().iter().any(|v| v.param == "image"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_unauthenticated_and_the_key_is_never_shown() {
    let emulator = emulator().await;
    let provider = builder(&emulator.base_url())
        .with_api_key("sk-wrong-secret")
        .build("inpaint")
        .expect("builds");
    assert!(!format!("{provider:?}").contains("sk-wrong-secret"));
    let model = msgflux_core::Model::from_provider(std::sync::Arc::new(provider));
    let err = model.call(masked("x")).await.expect_err("401");
    assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("sk-wrong-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_are_data_urls_of_the_image_stability_sent() {
    let emulator = emulator().await;
    let response = model(&emulator, "inpaint")
        .call(masked("x").option("output_format", "jpeg"))
        .await
        .expect("edit");
    let url = match &response.images[0].data {
        msgflux_core::ImageData::Url(url) => url.clone(),
        other => panic!("expected a URL, got {other:?}"),
    };
    assert!(url.starts_with("data:image/jpeg;base64,"), "{}", &url[..40]);
}
