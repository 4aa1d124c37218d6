//! Core's fault suite over the emulator: a refused connection, a rate
//! limit, a submit that never answers, an exhausted balance, a content
//! policy refusal and a result that is not an image, handled as every HTTP
//! provider must. fal's own faults (slow queue, failed request, expired
//! result, cancel on drop, 5xx) are in `queue.rs`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Emulator, FILL, SUBMIT, assert_no_problems, emulator, fast_retries};
use msgflux_core::Model;
use msgflux_core::kit::testkit::conformance::faults::{self, FaultHarness, InjectedFault};
use msgflux_emulators::Fault;
use msgflux_fal::FalBuilder;

struct Harness {
    emulator: Emulator,
}

impl Harness {
    /// Answers within 300 ms, millisecond backoffs. fal's `retry-after` is
    /// in whole seconds, so it falls back to the backoff instead of sleeping.
    fn builder(&self) -> FalBuilder {
        FalBuilder::new()
            .with_api_key(self.emulator.key())
            .with_base_url(self.emulator.base_url())
            .with_poll_interval(Duration::from_millis(1), Duration::from_millis(4))
            .with_timeout(Duration::from_millis(300))
            .with_retry(fast_retries())
    }
}

impl FaultHarness for Harness {
    fn model(&self) -> Model {
        Model::from_provider(Arc::new(self.builder().build(FILL).expect("provider builds")))
    }

    fn model_without_server(&self) -> Model {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let provider = self
            .builder()
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
            other => panic!("the fal harness does not know {other:?}"),
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
    // One submit per case that reached the emulator, plus one after the rate limit.
    assert_eq!(harness.emulator.count(SUBMIT), 6);
    assert_no_problems(&harness.emulator);
}
