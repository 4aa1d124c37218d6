//! A task's life: polling with backoff, every terminal state, the polling
//! URL's host, expired result URLs, and deadlines (BFL tasks cannot be
//! cancelled, so nothing is cancelled and nothing resent).

mod common;

use std::time::Duration;

use common::{DOWNLOAD, FILL, KONTEXT, POLL, SUBMIT, assert_no_problems, emulator, masked_request, model};
use msgflux_core::kit::testkit::sample_image;
use msgflux_core::{EditRequest, Error};
use msgflux_emulators::{Fault, JobEnd};

fn fill_request() -> EditRequest {
    masked_request("a red door")
}

fn kontext_request() -> EditRequest {
    EditRequest::new("make it night").image(sample_image(64, 64))
}

#[tokio::test]
async fn a_slow_task_is_polled_until_ready() {
    let emulator = emulator().await;
    emulator.inject(Fault::slow_job(5));
    let response = model(&emulator, FILL)
        .call(fill_request())
        .await
        .expect("ready after 5 pending polls");
    assert_eq!(response.images.len(), 1);
    assert_eq!(emulator.count(POLL), 6, "5 Pending answers, then Ready");
    assert_eq!(response.metadata["tasks"][0]["polls"], 6);
    assert_eq!((emulator.count(SUBMIT), emulator.count(DOWNLOAD)), (1, 1));
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn a_slow_poll_answer_is_waited_for() {
    let emulator = emulator().await;
    emulator.inject_on(POLL, Fault::Delay(Duration::from_millis(50)));
    model(&emulator, FILL).call(fill_request()).await.expect("ready");
    assert_eq!(emulator.count(POLL), 1);
}

#[tokio::test]
async fn a_failed_poll_is_polled_again() {
    let emulator = emulator().await;
    emulator.inject_on(POLL, Fault::ServerError { status: 502 });
    model(&emulator, FILL).call(fill_request()).await.expect("ready");
    assert_eq!(emulator.count(SUBMIT), 1, "a poll failure never resubmits");
    assert_eq!(emulator.count(POLL), 2);
}

#[tokio::test]
async fn a_moderated_request_is_a_content_policy_error_with_the_reasons() {
    let emulator = emulator().await;
    emulator.inject(Fault::ContentPolicy);
    let err = model(&emulator, FILL)
        .call(fill_request())
        .await
        .expect_err("Request Moderated");
    assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
    let detail = err.provider_error().expect("detail");
    assert_eq!(detail.code.as_deref(), Some("request_moderated"));
    assert!(detail.message.contains("asked to refuse"), "{}", detail.message);
    assert_eq!(err.request_id(), Some("emu-task-000001"));
    assert_eq!(emulator.count(DOWNLOAD), 0);
}

#[tokio::test]
async fn moderated_content_is_a_content_policy_error() {
    let emulator = emulator().await;
    emulator.inject(Fault::Job {
        polls: 2,
        end: JobEnd::Moderated,
    });
    let err = model(&emulator, KONTEXT)
        .call(kontext_request())
        .await
        .expect_err("Content Moderated");
    assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
    assert_eq!(
        err.provider_error().and_then(|d| d.code.as_deref()),
        Some("content_moderated")
    );
    assert_eq!(emulator.count(SUBMIT), 1, "a moderated task is never resubmitted");
}

#[tokio::test]
async fn a_failed_task_is_a_server_error_with_bfls_details() {
    let emulator = emulator().await;
    emulator.inject(Fault::failed_job(1, "CUDA out of memory"));
    let err = model(&emulator, FILL).call(fill_request()).await.expect_err("Error");
    assert!(matches!(err, Error::Server(_)), "{err:?}");
    assert!(err.to_string().contains("CUDA out of memory"), "{err}");
    assert_eq!(emulator.count(SUBMIT), 1);
}

#[tokio::test]
async fn a_task_the_server_no_longer_knows_is_not_found() {
    let emulator = emulator().await;
    emulator.lose_next_task();
    let err = model(&emulator, FILL)
        .call(fill_request())
        .await
        .expect_err("Task not found");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(
        err.provider_error().and_then(|d| d.code.as_deref()),
        Some("task_not_found")
    );
}

#[tokio::test]
async fn an_expired_result_url_is_not_found_and_says_why() {
    let emulator = emulator().await;
    emulator.expire_results();
    let err = model(&emulator, FILL).call(fill_request()).await.expect_err("expired");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("10 minutes"), "{text}");
    assert!(!text.contains("sig=emulated"), "the signature is redacted: {text}");
    assert_eq!(emulator.count(SUBMIT), 1, "the task is not run again");
}

#[tokio::test]
async fn a_polling_url_on_another_host_is_never_fetched() {
    let emulator = emulator().await;
    emulator.set_polling_base("https://collector.example.net");
    let err = model(&emulator, FILL)
        .call(fill_request())
        .await
        .expect_err("untrusted host");
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("not fetched"), "{err}");
    assert!(err.may_have_been_billed());
    assert_eq!((emulator.count(SUBMIT), emulator.count(POLL)), (1, 0));
}

#[tokio::test]
async fn a_task_past_its_deadline_times_out_without_a_resubmit() {
    let emulator = emulator().await;
    emulator.inject(Fault::Job {
        polls: 0,
        end: JobEnd::Never,
    });
    let err = model(&emulator, FILL)
        .call(fill_request().timeout(Duration::from_millis(60)))
        .await
        .expect_err("never ready");
    assert!(matches!(err, Error::Timeout { maybe_billed: true, .. }), "{err:?}");
    assert_eq!(emulator.count(SUBMIT), 1);
    assert!(emulator.count(POLL) >= 1);
}

#[tokio::test]
async fn n_results_are_n_tasks_with_consecutive_seeds() {
    let emulator = emulator().await;
    let response = model(&emulator, FILL)
        .call(fill_request().n(3).seed(7))
        .await
        .expect("three tasks");
    assert_eq!(response.images.len(), 3);
    let mut seeds: Vec<u64> = emulator
        .submit_bodies()
        .iter()
        .filter_map(|b| b["seed"].as_u64())
        .collect();
    seeds.sort_unstable();
    assert_eq!(seeds, vec![7, 8, 9]);
    let ids = response.request_id.expect("ids");
    assert_eq!(ids.split(',').count(), 3, "{ids}");
    assert_no_problems(&emulator);
}
