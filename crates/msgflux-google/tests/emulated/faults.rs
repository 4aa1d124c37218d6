//! Core's fault suite over the emulator, and the faults Google adds.

use std::sync::Arc;
use std::time::Duration;

use msgflux_core::kit::testkit::conformance::faults::{self, FaultHarness, InjectedFault};
use msgflux_core::{Error, Model, RetryPolicy};
use msgflux_emulators::Fault;
use msgflux_google::GoogleBuilder;

use crate::support::{Emulator, assert_clean, builder, emulator, png};

struct Harness {
    emulator: Emulator,
}

impl Harness {
    fn builder(&self) -> GoogleBuilder {
        builder(&self.emulator)
            .with_read_timeout(Duration::from_millis(300))
            .with_retry(
                RetryPolicy::default()
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
                    .with_max_retry_after(Duration::from_millis(200)),
            )
    }
}

impl FaultHarness for Harness {
    fn model(&self) -> Model {
        Model::from_provider(Arc::new(
            self.builder().build("gemini-2.5-flash-image").expect("builds"),
        ))
    }

    fn model_without_server(&self) -> Model {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        drop(listener);
        let provider = self
            .builder()
            .with_base_url(format!("http://{addr}"))
            .build("gemini-2.5-flash-image")
            .expect("builds");
        Model::from_provider(Arc::new(provider))
    }

    fn paid_requests(&self) -> usize {
        self.emulator.generate_count()
    }

    fn inject(&self, fault: InjectedFault) {
        let fault = match fault {
            InjectedFault::RateLimited(wait) => Fault::RateLimited { retry_after: wait },
            InjectedFault::QuotaExceeded => Fault::QuotaExceeded,
            InjectedFault::ContentPolicy => Fault::ContentPolicy,
            InjectedFault::Hang => Fault::Hang,
            InjectedFault::NotAnImage => Fault::NotAnImage,
            other => panic!("the Google harness does not know {other:?}"),
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
    // Five faults sent once each, plus one retry after the rate limit.
    assert_eq!(harness.emulator.generate_count(), 6);
    assert_clean(&harness.emulator);
}

fn edit(model: &Model) -> msgflux_core::EditRequest {
    let _ = model;
    msgflux_core::EditRequest::new("add a red scarf").image(png(64, 64))
}

#[tokio::test]
async fn resource_exhausted_is_retried_after_the_retry_info_delay() {
    let emulator = emulator().await;
    let model = crate::support::model(&emulator, "gemini-2.5-flash-image");
    emulator.inject(Fault::rate_limited_ms(30));
    let started = std::time::Instant::now();
    model.call(edit(&model)).await.expect("succeeds after the rate limit");
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(emulator.generate_count(), 2);
    assert_clean(&emulator);
}

#[tokio::test]
async fn a_rate_limit_that_persists_is_rate_limited_with_the_delay() {
    let emulator = emulator().await;
    let model = crate::support::model(&emulator, "gemini-2.5-flash-image");
    emulator.inject_all_rate_limits(3, 15);
    let err = model
        .call(edit(&model))
        .await
        .expect_err("still limited after two retries");
    assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_millis(15)));
    assert_eq!(
        err.provider_error().and_then(|d| d.code.as_deref()),
        Some("RESOURCE_EXHAUSTED")
    );
    assert_eq!(emulator.generate_count(), 3);
}

#[tokio::test]
async fn a_daily_quota_is_quota_exceeded_and_never_resent() {
    let emulator = emulator().await;
    let model = crate::support::model(&emulator, "gemini-2.5-flash-image");
    emulator.inject(Fault::QuotaExceeded);
    let err = model.call(edit(&model)).await.expect_err("quota");
    assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
    assert!(err.to_string().contains("exceeded your current quota"), "{err}");
    assert_eq!(emulator.generate_count(), 1);
}

#[tokio::test]
async fn an_internal_error_is_not_resent_because_the_edit_may_have_run() {
    let emulator = emulator().await;
    let model = crate::support::model(&emulator, "gemini-2.5-flash-image");
    emulator.inject(Fault::ServerError { status: 500 });
    let err = model.call(edit(&model)).await.expect_err("500");
    assert!(matches!(err, Error::Server(_)), "{err:?}");
    assert_eq!(err.provider_error().and_then(|d| d.code.as_deref()), Some("INTERNAL"));
    assert_eq!(emulator.generate_count(), 1);
}

#[tokio::test]
async fn an_overloaded_503_with_a_retry_delay_is_resent() {
    let emulator = emulator().await;
    let model = crate::support::model(&emulator, "gemini-2.5-flash-image");
    emulator.inject(Fault::Unavailable {
        retry_after: Duration::from_millis(10),
    });
    model.call(edit(&model)).await.expect("succeeds after the 503");
    assert_eq!(emulator.generate_count(), 2);
    assert_clean(&emulator);
}

#[tokio::test]
async fn a_rejected_field_names_the_field() {
    let emulator = emulator().await;
    let model = crate::support::model(&emulator, "gemini-2.5-flash-image");
    emulator.inject(Fault::Rejected {
        field: "generation_config.image_config.aspect_ratio".into(),
        message: "unsupported".into(),
    });
    let err = model.call(edit(&model)).await.expect_err("400");
    assert!(matches!(err, Error::Rejected(_)), "{err:?}");
    assert_eq!(
        err.provider_error().and_then(|d| d.param.as_deref()),
        Some("generation_config.image_config.aspect_ratio")
    );
}

trait RateLimits {
    fn inject_all_rate_limits(&self, times: usize, ms: u64);
}

impl RateLimits for Emulator {
    fn inject_all_rate_limits(&self, times: usize, ms: u64) {
        for _ in 0..times {
            self.inject(Fault::rate_limited_ms(ms));
        }
    }
}
