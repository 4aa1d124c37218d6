//! fal's queue as the provider lives it: a slow queue reported and waited
//! out, a failed request, an expired result, 5xx and 503 submits, status
//! polls that fail, the deadline, and the cancel when the caller goes away.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    CANCEL, FILL, KONTEXT, RESULT, SEEDREAM, STATUS, SUBMIT, assert_no_problems, builder, emulator, image, mask, model,
    model_from,
};
use msgflux_core::{EditRequest, Error, Progress, ResponseFormat};
use msgflux_emulators::{Fault, JobEnd};

fn fill_request() -> EditRequest {
    EditRequest::new("blue sky").image(image()).mask(mask())
}

#[tokio::test]
async fn a_slow_queue_is_polled_with_its_position_until_it_completes() {
    let emulator = emulator().await;
    emulator.inject(Fault::slow_job(5));
    let response = model(&emulator, FILL).call(fill_request()).await.expect("completes");
    assert_eq!(response.images.len(), 1);
    assert_eq!(emulator.count(STATUS), 5);
    assert_eq!(emulator.count(RESULT), 1);
    assert_eq!(response.metadata["polls"], 5);
    assert_eq!(response.metadata["queue_position"], 3, "the position at submit");
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn the_queue_position_reaches_the_progress_callback() {
    let emulator = emulator().await;
    emulator.inject(Fault::slow_job(5));
    let steps = Arc::new(Mutex::new(Vec::new()));
    let record = {
        let steps = steps.clone();
        move |step: &Progress| steps.lock().expect("steps").push(step.clone())
    };
    let response = model(&emulator, FILL)
        .call(fill_request().on_progress(record))
        .await
        .expect("completes");
    let queued = |position| Progress::Queued {
        position: Some(position),
    };
    assert_eq!(
        *steps.lock().expect("steps"),
        vec![
            Progress::Checked,
            Progress::Submitted {
                request_id: response.request_id.clone()
            },
            queued(3),
            queued(2),
            queued(1),
            queued(0),
            Progress::Running,
            Progress::Downloading { images: 1 },
        ]
    );
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn dropping_the_call_mid_queue_cancels_the_request() {
    let emulator = emulator().await;
    emulator.inject(Fault::Job {
        polls: 1,
        end: JobEnd::Never,
    });
    let model = model(&emulator, FILL);
    let call = tokio::spawn(async move { model.call(fill_request()).await });
    assert!(
        emulator
            .wait_until(Duration::from_secs(5), |e| e.count(STATUS) >= 2)
            .await,
        "the request waits in the queue"
    );
    call.abort();
    assert!(
        emulator
            .wait_until(Duration::from_secs(5), |e| e.count(CANCEL) == 1)
            .await,
        "a PUT to the cancel URL follows the drop"
    );
    assert_eq!(emulator.queue_requests()[0].status, "CANCELLED");
    assert_eq!(emulator.count(SUBMIT), 1);
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn a_request_past_its_deadline_is_cancelled_and_may_have_been_billed() {
    let emulator = emulator().await;
    emulator.inject(Fault::Job {
        polls: 1,
        end: JobEnd::Never,
    });
    let err = model(&emulator, FILL)
        .call(fill_request().timeout(Duration::from_millis(150)))
        .await
        .expect_err("the deadline passes");
    assert!(matches!(err, Error::Timeout { maybe_billed: true, .. }), "{err:?}");
    // The pipeline's deadline drops the call; the queue task cancels on its way out.
    assert!(
        emulator
            .wait_until(Duration::from_secs(5), |e| e.count(CANCEL) == 1)
            .await
    );
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn a_failed_request_keeps_fals_message_and_is_not_read_again() {
    let emulator = emulator().await;
    emulator.inject(Fault::failed_job(2, "CUDA out of memory"));
    let err = model(&emulator, FILL).call(fill_request()).await.expect_err("fails");
    assert!(matches!(err, Error::Server(_)), "{err:?}");
    assert!(err.to_string().contains("CUDA out of memory"), "{err}");
    assert_eq!(emulator.count(SUBMIT), 1);
    assert_eq!(emulator.count(RESULT), 1, "X-Fal-Retryable: false stops the retries");
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn a_filtered_result_is_content_policy_in_fals_words() {
    let emulator = emulator().await;
    emulator.inject(Fault::ContentPolicy);
    let err = model(&emulator, KONTEXT)
        .call(EditRequest::new("x").image(image()))
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::ContentPolicy(_)), "{err:?}");
    assert!(err.to_string().contains("content checker"), "{err}");
    assert_eq!(
        err.provider_error().and_then(|d| d.code.clone()).as_deref(),
        Some("content_policy_violation")
    );
}

#[tokio::test]
async fn an_expired_result_is_not_found_and_says_how_long_results_are_kept() {
    let emulator = emulator().await;
    emulator.expire_results();
    let err = model(&emulator, FILL).call(fill_request()).await.expect_err("expired");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert!(err.to_string().contains("six minutes"), "{err}");
}

#[tokio::test]
async fn an_expired_result_file_is_not_found() {
    let emulator = emulator().await;
    emulator.expire_files();
    let err = model(&emulator, FILL)
        .call(fill_request().response_format(ResponseFormat::Base64))
        .await
        .expect_err("expired");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(
        err.provider_error().and_then(|d| d.code.clone()).as_deref(),
        Some("result_expired")
    );
}

#[tokio::test]
async fn a_server_error_on_submit_is_not_resent() {
    let emulator = emulator().await;
    emulator.inject(Fault::ServerError { status: 500 });
    let err = model(&emulator, FILL).call(fill_request()).await.expect_err("5xx");
    assert!(matches!(err, Error::Server(_)), "{err:?}");
    assert_eq!(
        emulator.count(SUBMIT),
        1,
        "a submit that failed with 5xx may have been queued"
    );
}

#[tokio::test]
async fn a_503_with_retry_after_is_resent_once() {
    let emulator = emulator().await;
    emulator.inject(Fault::Unavailable {
        retry_after: Duration::from_millis(10),
    });
    model(&emulator, FILL)
        .call(fill_request())
        .await
        .expect("succeeds on the second submit");
    assert_eq!(emulator.count(SUBMIT), 2);
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn a_failed_status_poll_is_polled_again() {
    let emulator = emulator().await;
    emulator.inject_on(STATUS, Fault::ServerError { status: 502 });
    model(&emulator, FILL).call(fill_request()).await.expect("succeeds");
    assert_eq!(emulator.count(SUBMIT), 1);
    assert!(emulator.count(STATUS) >= 2);
}

#[tokio::test]
async fn a_rejected_field_names_it() {
    let emulator = emulator().await;
    emulator.inject(Fault::Rejected {
        field: "image_url".into(),
        message: "Failed to download the file".into(),
    });
    let err = model(&emulator, FILL).call(fill_request()).await.expect_err("rejected");
    assert!(
        matches!(err, Error::InvalidInput { ref param, .. } if param == "image_url"),
        "{err:?}"
    );
}

#[tokio::test]
async fn apps_with_sub_paths_are_polled_at_the_urls_fal_answered() {
    let emulator = emulator().await;
    emulator.inject(Fault::slow_job(3));
    model(&emulator, SEEDREAM)
        .call(EditRequest::new("x").image(image()))
        .await
        .expect("seedream");
    let status_paths: Vec<String> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.operation == STATUS)
        .map(|r| r.path)
        .collect();
    assert!(
        status_paths
            .iter()
            .all(|p| p.starts_with("/fal-ai/bytedance/requests/")),
        "{status_paths:?}"
    );
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn the_key_priority_and_start_timeout_are_sent_with_the_submit() {
    let emulator = emulator().await;
    let model = model_from(builder(&emulator).with_priority("low"), FILL);
    model.call(fill_request()).await.expect("edit");
    let submit = emulator
        .requests()
        .into_iter()
        .find(|r| r.operation == SUBMIT)
        .expect("a submit");
    assert_eq!(submit.header("authorization"), Some("Key fal_emulator_key"));
    assert_eq!(submit.header("x-fal-queue-priority"), Some("low"));
    assert!(
        submit
            .header("x-fal-request-timeout")
            .is_some_and(|t| t.parse::<u64>().is_ok())
    );
    assert_no_problems(&emulator);
}
