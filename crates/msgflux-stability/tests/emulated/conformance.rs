//! The testkit's suites over every service; the services that cannot run
//! without an option get it through the suite's fixture.

use msgflux_core::Model;
use msgflux_core::kit::testkit::conformance;
use msgflux_core::kit::testkit::conformance::Fixture;
use msgflux_core::kit::testkit::conformance::faults::{FaultHarness, InjectedFault, run_all};
use msgflux_emulators::Fault;
use msgflux_emulators::stability::Emulator;

use crate::support::{assert_clean, builder, emulator, model};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_passes_for_inpaint_erase_remove_background_and_relight() {
    let emulator = emulator().await;
    for service in [
        "inpaint",
        "erase",
        "remove-background",
        "replace-background-and-relight",
    ] {
        conformance::run_all(&model(&emulator, service)).await;
    }
    assert_clean(&emulator);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_passes_for_the_services_that_need_an_option() {
    let emulator = emulator().await;
    let services = [
        ("outpaint", Fixture::new().option("left", 16)),
        ("search-and-replace", Fixture::new().option("search_prompt", "the cat")),
        ("search-and-recolor", Fixture::new().option("select_prompt", "the door")),
    ];
    for (service, fixture) in services {
        conformance::run_all_with(&model(&emulator, service), &fixture).await;
    }
    assert_clean(&emulator);
}

struct Harness {
    emulator: Emulator,
    service: &'static str,
}

impl FaultHarness for Harness {
    fn model(&self) -> Model {
        model(&self.emulator, self.service)
    }

    fn model_without_server(&self) -> Model {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let provider = builder(&format!("http://127.0.0.1:{port}"))
            .build(self.service)
            .expect("provider builds");
        Model::from_provider(std::sync::Arc::new(provider))
    }

    fn paid_requests(&self) -> usize {
        self.emulator.edit_count()
    }

    fn inject(&self, fault: InjectedFault) {
        self.emulator.inject(match fault {
            InjectedFault::RateLimited(wait) => Fault::RateLimited { retry_after: wait },
            InjectedFault::QuotaExceeded => Fault::QuotaExceeded,
            InjectedFault::ContentPolicy => Fault::ContentPolicy,
            InjectedFault::Hang => Fault::Hang,
            InjectedFault::NotAnImage => Fault::NotAnImage,
            other => panic!("the Stability harness does not know {other:?}"),
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_suite_passes_for_a_synchronous_and_the_asynchronous_service() {
    for service in ["inpaint", "replace-background-and-relight"] {
        let harness = Harness {
            emulator: emulator().await,
            service,
        };
        run_all(&harness).await;
        assert_clean(&harness.emulator);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_unmasked_keeps_every_pixel_outside_the_mask_of_a_leaking_inpaint() {
    let emulator = emulator().await;
    emulator.set_leak(40);
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(&emulator, "inpaint"), 1.0).await;
    assert_clean(&emulator);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_unmasked_pastes_the_original_back_around_a_maskless_service() {
    let emulator = emulator().await;
    // remove-background takes no mask and redraws the whole picture: every outside pixel changed.
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(&emulator, "remove-background"), 1.0).await;
    assert!(
        emulator.edits().iter().all(|r| r.files("mask").is_empty()),
        "no mask is sent"
    );
    assert_clean(&emulator);
}
