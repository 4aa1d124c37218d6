//! Core's fault suite over the emulator (a refused connection, a rate
//! limit, a submit that never answers, quota, a moderated request, a result
//! that is not an image), and BFL's own faults: 5xx, 503 with a wait, a
//! field the server rejects.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Emulator, FILL, SUBMIT, assert_no_problems, builder, emulator, masked_request, model};
use msgflux_core::kit::testkit::conformance::faults::{self, FaultHarness, InjectedFault};
use msgflux_core::{EditRequest, Error, Model};
use msgflux_emulators::Fault;

struct Harness {
    emulator: Emulator,
}

impl FaultHarness for Harness {
    fn model(&self) -> Model {
        model(&self.emulator, FILL)
    }

    fn model_without_server(&self) -> Model {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let provider = builder(&self.emulator)
            .with_base_url(format!("http://127.0.0.1:{port}"))
            .build(FILL)
            .expect("provider builds");
        Model::from_provider(Arc::new(provider))
    }

    fn paid_requests(&self) -> usize {
        self.emulator.count(SUBMIT)
    }

    fn inject(&self, fault: InjectedFault) {
        let fault = match fault {
            InjectedFault::RateLimited(wait) => Fault::RateLimited { retry_after: wait },
            InjectedFault::QuotaExceeded => Fault::QuotaExceeded,
            InjectedFault::ContentPolicy => Fault::ContentPolicy,
            InjectedFault::Hang => Fault::Hang,
            InjectedFault::NotAnImage => Fault::NotAnImage,
            other => panic!("the BFL harness does not know {other:?}"),
        };
        self.emulator.inject(fault);
    }
}

fn request() -> EditRequest {
    masked_request("a red door")
}

#[tokio::test]
async fn the_shared_fault_cases_pass() {
    let harness = Harness {
        emulator: emulator().await,
    };
    faults::run_all(&harness).await;
    assert_no_problems(&harness.emulator);
}

#[tokio::test]
async fn a_server_error_on_submit_is_not_resent() {
    let emulator = emulator().await;
    emulator.inject(Fault::ServerError { status: 500 });
    let err = model(&emulator, FILL).call(request()).await.expect_err("500");
    assert!(matches!(err, Error::Server(_)), "{err:?}");
    assert_eq!(
        emulator.count(SUBMIT),
        1,
        "a submit that failed with 500 may have started a task"
    );
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn a_503_that_says_when_to_come_back_is_resent_once() {
    let emulator = emulator().await;
    emulator.inject(Fault::Unavailable {
        retry_after: Duration::from_millis(10),
    });
    model(&emulator, FILL)
        .call(request())
        .await
        .expect("succeeds on the second submit");
    assert_eq!(emulator.count(SUBMIT), 2);
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn too_many_active_tasks_twice_is_waited_out_twice() {
    let emulator = emulator().await;
    emulator.inject(Fault::rate_limited_ms(5));
    emulator.inject(Fault::rate_limited_ms(5));
    model(&emulator, FILL)
        .call(request())
        .await
        .expect("third submit succeeds");
    assert_eq!(emulator.count(SUBMIT), 3);
}

#[tokio::test]
async fn a_rate_limit_that_outlasts_the_retries_is_rate_limited_with_the_wait() {
    let emulator = emulator().await;
    for _ in 0..3 {
        emulator.inject(Fault::rate_limited_ms(5));
    }
    let err = model(&emulator, FILL).call(request()).await.expect_err("429 x3");
    assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_millis(5)));
    assert!(err.to_string().contains("active tasks"), "{err}");
    assert_eq!(emulator.count(SUBMIT), 3, "the default policy retries twice");
}

#[tokio::test]
async fn out_of_credits_is_quota_exceeded_in_bfls_words() {
    let emulator = emulator().await;
    emulator.inject(Fault::QuotaExceeded);
    let err = model(&emulator, FILL).call(request()).await.expect_err("402");
    assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
    assert!(err.to_string().contains("Insufficient credits"), "{err}");
    assert_eq!(emulator.count(SUBMIT), 1);
}

#[tokio::test]
async fn a_field_the_server_rejects_is_invalid_input_naming_it() {
    let emulator = emulator().await;
    emulator.inject(Fault::Rejected {
        field: "steps".into(),
        message: "Input should be less than or equal to 50".into(),
    });
    let err = model(&emulator, FILL).call(request()).await.expect_err("422");
    match err {
        Error::InvalidInput { param, rule, .. } => {
            assert_eq!(param, "steps");
            assert!(rule.contains("less than or equal to 50"), "{rule}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}
