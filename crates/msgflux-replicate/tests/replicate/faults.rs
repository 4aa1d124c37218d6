//! Core's fault suite over the emulator: a refused connection, a rate
//! limit, a create that never answers, quota, a moderation refusal and an
//! output that is not an image, handled as every HTTP provider must.
//! Replicate's own faults (failed, cancelled and aborted predictions, poll
//! errors, deadlines) are in `lifecycle.rs`.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{CREATE, Emulator, assert_no_problems, emulator};
use msgflux_core::kit::testkit::conformance::faults::{self, FaultHarness, InjectedFault};
use msgflux_core::{Model, RetryPolicy};
use msgflux_emulators::Fault;
use msgflux_replicate::ReplicateBuilder;

const FILL_PRO: &str = "black-forest-labs/flux-fill-pro";

struct Harness {
    emulator: Emulator,
}

impl Harness {
    /// Answers within 300 ms (no `Prefer: wait` hold), millisecond backoffs.
    /// Replicate's `Retry-After` header is in whole seconds, so longer asks
    /// fall back to the backoff instead of sleeping a second.
    fn builder(&self) -> ReplicateBuilder {
        ReplicateBuilder::new()
            .with_api_token(self.emulator.key())
            .with_base_url(self.emulator.base_url())
            .with_poll_interval(Duration::from_millis(1), Duration::from_millis(4))
            .with_prefer_wait(None)
            .with_timeout(Duration::from_millis(300))
            .with_retry(
                RetryPolicy::default()
                    .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
                    .with_max_retry_after(Duration::from_millis(100)),
            )
    }
}

impl FaultHarness for Harness {
    fn model(&self) -> Model {
        Model::from_provider(Arc::new(self.builder().build(FILL_PRO).expect("provider builds")))
    }

    fn model_without_server(&self) -> Model {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let provider = self
            .builder()
            .with_base_url(format!("http://127.0.0.1:{port}/v1"))
            .build(FILL_PRO)
            .expect("provider builds");
        Model::from_provider(Arc::new(provider))
    }

    fn paid_requests(&self) -> usize {
        self.emulator.count(CREATE)
    }

    fn inject(&self, fault: InjectedFault) {
        let fault = match fault {
            InjectedFault::RateLimited(wait) => Fault::RateLimited { retry_after: wait },
            InjectedFault::QuotaExceeded => Fault::QuotaExceeded,
            InjectedFault::ContentPolicy => Fault::ContentPolicy,
            InjectedFault::Hang => Fault::Hang,
            InjectedFault::NotAnImage => Fault::NotAnImage,
            other => panic!("the Replicate harness does not know {other:?}"),
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
    // One create per case that reached the emulator, plus one after the rate limit.
    assert_eq!(harness.emulator.count(CREATE), 6);
    assert_no_problems(&harness.emulator);
}
