//! A prediction's life against the emulator: polls, the four terminal
//! statuses, faults, retries of the create call, deadlines and cancellation.
//! The faults every provider shares are in `faults.rs` (core's fault suite).

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{CANCEL, CREATE, POLL, assert_no_problems, emulator, image, mask, model};
use msgflux_core::{EditRequest, Error, Progress, ResponseFormat};
use msgflux_emulators::{Fault, JobEnd};

const FILL_PRO: &str = "black-forest-labs/flux-fill-pro";

fn never_ends() -> Fault {
    Fault::Job {
        polls: 0,
        end: JobEnd::Never,
    }
}

fn request() -> EditRequest {
    EditRequest::new("a red door").image(image()).mask(mask())
}

#[tokio::test]
async fn a_prediction_that_needs_many_polls_succeeds() {
    let emulator = emulator().await;
    emulator.inject(Fault::slow_job(40));
    let response = model(&emulator, FILL_PRO).call(request()).await.expect("edit");
    assert_eq!(response.images.len(), 1);
    assert_eq!(emulator.count(CREATE), 1);
    assert!(emulator.count(POLL) >= 40, "{} polls", emulator.count(POLL));
    assert_eq!(emulator.predictions()[0].status, "succeeded");
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn each_status_change_reaches_the_progress_callback_once() {
    let emulator = emulator().await;
    emulator.inject(Fault::slow_job(3));
    let steps = Arc::new(Mutex::new(Vec::new()));
    let record = {
        let steps = steps.clone();
        move |step: &Progress| steps.lock().expect("steps").push(step.clone())
    };
    let request = request().response_format(ResponseFormat::Base64).on_progress(record);
    let response = model(&emulator, FILL_PRO).call(request).await.expect("edit");
    assert_eq!(
        *steps.lock().expect("steps"),
        vec![
            Progress::Checked,
            Progress::Submitted {
                request_id: response.request_id.clone()
            },
            Progress::Queued { position: None },
            Progress::Running,
            Progress::Downloading { images: 1 },
        ]
    );
}

#[tokio::test]
async fn a_failed_prediction_keeps_its_error_text() {
    let emulator = emulator().await;
    emulator.inject(Fault::failed_job(3, "CUDA out of memory"));
    let err = model(&emulator, FILL_PRO).call(request()).await.expect_err("failed");
    assert!(matches!(err, Error::Server(_)), "{err:?}");
    assert!(err.to_string().contains("CUDA out of memory"), "{err}");
    assert_eq!(err.request_id(), Some(emulator.predictions()[0].id.as_str()));
    assert_eq!(emulator.count(CREATE), 1, "a failed prediction is not run again");
}

#[tokio::test]
async fn a_canceled_prediction_is_a_cancellation() {
    let emulator = emulator().await;
    emulator.inject(Fault::Job {
        polls: 2,
        end: JobEnd::Cancel,
    });
    let err = model(&emulator, FILL_PRO).call(request()).await.expect_err("canceled");
    assert!(matches!(err, Error::Cancelled(_)), "{err:?}");
    assert!(err.to_string().contains("canceled"), "{err}");
    assert_eq!(emulator.count(CREATE), 1);
}

#[tokio::test]
async fn an_aborted_prediction_is_a_cancellation() {
    let emulator = emulator().await;
    emulator.inject(Fault::Job {
        polls: 2,
        end: JobEnd::Abort,
    });
    let err = model(&emulator, FILL_PRO).call(request()).await.expect_err("aborted");
    assert!(matches!(err, Error::Cancelled(_)), "{err:?}");
    assert!(err.to_string().contains("aborted"), "{err}");
    assert_eq!(emulator.count(CREATE), 1);
}

#[tokio::test]
async fn a_rate_limit_that_lasts_reports_the_wait_asked_and_the_attempts() {
    let emulator = emulator().await;
    for _ in 0..3 {
        emulator.inject(Fault::RateLimited {
            retry_after: Duration::from_secs(7),
        });
    }
    let err = model(&emulator, FILL_PRO)
        .call(request())
        .await
        .expect_err("still limited");
    assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(err.provider_error().map(|d| d.attempts), Some(3));
    assert_eq!(emulator.count(CREATE), 3);
}

#[tokio::test]
async fn a_server_error_on_create_is_never_sent_again() {
    let emulator = emulator().await;
    emulator.inject(Fault::ServerError { status: 500 });
    let err = model(&emulator, FILL_PRO).call(request()).await.expect_err("500");
    assert!(matches!(err, Error::Server(_)), "{err:?}");
    assert_eq!(
        emulator.count(CREATE),
        1,
        "the prediction may have started: never resent"
    );
}

#[tokio::test]
async fn a_server_error_on_a_poll_does_not_end_the_prediction() {
    let emulator = emulator().await;
    emulator.inject(Fault::slow_job(5));
    emulator.inject_on(POLL, Fault::ServerError { status: 500 });
    let response = model(&emulator, FILL_PRO).call(request()).await.expect("edit");
    assert_eq!(response.images.len(), 1);
    assert_eq!(emulator.count(CREATE), 1);
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn an_input_the_api_rejects_is_named() {
    let emulator = emulator().await;
    emulator.inject(Fault::Rejected {
        field: "input.mask".into(),
        message: "Mask and image must have the same size".into(),
    });
    let err = model(&emulator, FILL_PRO).call(request()).await.expect_err("422");
    assert!(
        matches!(&err, Error::InvalidInput { param, rule, .. } if param == "mask" && rule.contains("same size")),
        "{err:?}"
    );
    assert_eq!(emulator.count(CREATE), 1);
}

#[tokio::test]
async fn a_wrong_token_is_unauthenticated_and_never_printed() {
    let emulator = emulator().await;
    let provider = common::builder(&emulator)
        .with_api_token("r8_wrong_secret")
        .build(FILL_PRO)
        .expect("provider");
    assert!(!format!("{provider:?}").contains("r8_wrong_secret"));
    let model = msgflux_core::Model::from_provider(std::sync::Arc::new(provider));
    let err = model.call(request()).await.expect_err("401");
    assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
    assert!(!err.to_string().contains("r8_wrong_secret"), "{err}");
    assert!(!format!("{err:?}").contains("r8_wrong_secret"), "{err:?}");
}

#[tokio::test]
async fn create_asks_to_wait_and_to_cancel_after_the_request_deadline() {
    let emulator = emulator().await;
    model(&emulator, FILL_PRO)
        .call(request().timeout(Duration::from_secs(90)))
        .await
        .expect("edit");
    let create = emulator
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/predictions"))
        .expect("a create call");
    assert_eq!(create.header("prefer"), Some("wait=60"));
    assert_eq!(create.header("cancel-after"), Some("90s"));
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn dropping_the_future_cancels_the_prediction() {
    let emulator = emulator().await;
    emulator.inject(never_ends());
    let model = model(&emulator, FILL_PRO);
    let call = model.call(request());
    tokio::select! {
        _ = call => panic!("a prediction that never ends cannot finish"),
        created = emulator.wait_until(Duration::from_secs(10), |e| e.count(POLL) >= 2) => assert!(created),
    }
    // `call` is dropped here, with the prediction still running.
    assert!(
        emulator
            .wait_until(Duration::from_secs(10), |e| e.count(CANCEL) == 1)
            .await,
        "the prediction was not cancelled: {:?}",
        emulator.predictions()
    );
    assert_eq!(emulator.predictions()[0].status, "canceled");
    assert_eq!(emulator.count(CREATE), 1);
}

#[tokio::test]
async fn dropping_the_future_during_the_create_call_cancels_once_the_id_is_known() {
    let emulator = emulator().await;
    // The create answer is held; the prediction it starts runs until cancelled.
    emulator.set_default_polls(u32::MAX);
    emulator.inject(Fault::Delay(Duration::from_millis(200)));
    let model = model(&emulator, FILL_PRO);
    let call = model.call(request());
    tokio::select! {
        _ = call => panic!("a prediction that never ends cannot finish"),
        seen = emulator.wait_until(Duration::from_secs(10), |e| e.count(CREATE) == 1) => assert!(seen),
    }
    // `call` is dropped while the create answer (and with it the id) is still held.
    assert_eq!(emulator.count(CANCEL), 0);
    assert!(
        emulator
            .wait_until(Duration::from_secs(10), |e| e.count(CANCEL) == 1)
            .await,
        "the prediction was not cancelled: {:?}",
        emulator.predictions()
    );
    assert_eq!(emulator.predictions()[0].status, "canceled");
}

#[tokio::test]
async fn a_request_timeout_cancels_the_prediction() {
    let emulator = emulator().await;
    emulator.inject(never_ends());
    let err = model(&emulator, FILL_PRO)
        .call(request().timeout(Duration::from_millis(300)))
        .await
        .expect_err("timeout");
    assert!(matches!(err, Error::Timeout { maybe_billed: true, .. }), "{err:?}");
    assert!(
        emulator
            .wait_until(Duration::from_secs(10), |e| e.count(CANCEL) == 1)
            .await
    );
    assert_eq!(emulator.predictions()[0].status, "canceled");
}

#[tokio::test]
async fn the_deadline_stops_polling_and_reports_polls_and_elapsed_time() {
    let emulator = emulator().await;
    emulator.inject(never_ends());
    let provider = common::builder(&emulator)
        .with_deadline(Duration::from_millis(60))
        .build(FILL_PRO)
        .expect("provider");
    let err = msgflux_core::Model::from_provider(std::sync::Arc::new(provider))
        .call(request())
        .await
        .expect_err("deadline");
    let text = err.to_string();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        text.contains("polls over") && text.contains("it was cancelled"),
        "{text}"
    );
    assert!(!text.contains("http://"), "no URLs in the message: {text}");
    assert_eq!(emulator.count(CANCEL), 1);
}

#[tokio::test]
async fn when_one_of_several_predictions_fails_the_others_are_cancelled() {
    let emulator = emulator().await;
    emulator.inject(Fault::failed_job(2, "CUDA out of memory"));
    emulator.inject(never_ends());
    emulator.inject(never_ends());
    let err = model(&emulator, FILL_PRO)
        .call(request().n(3))
        .await
        .expect_err("one failed");
    assert!(err.to_string().contains("CUDA out of memory"), "{err}");
    assert!(
        emulator
            .wait_until(Duration::from_secs(10), |e| e.count(CANCEL) == 2)
            .await,
        "{:?}",
        emulator.predictions()
    );
    let statuses: Vec<String> = emulator.predictions().into_iter().map(|p| p.status).collect();
    assert_eq!(statuses.iter().filter(|s| *s == "canceled").count(), 2, "{statuses:?}");
    assert_eq!(emulator.count(CREATE), 3);
}
