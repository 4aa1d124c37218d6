//! Core's conformance suite over the emulator, for one model of each kind
//! that takes the suite's fixture (Expand takes a border mask, not the
//! fixture's hole: its own tests are in `requests.rs`).

mod common;

use common::{FILL, FLUX2, KONTEXT, assert_no_problems, emulator, model};
use msgflux_core::kit::testkit::conformance;

#[tokio::test]
async fn fill_passes_the_conformance_suite() {
    let emulator = emulator().await;
    conformance::run_all(&model(&emulator, FILL)).await;
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn kontext_passes_the_conformance_suite() {
    let emulator = emulator().await;
    conformance::run_all(&model(&emulator, KONTEXT)).await;
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn flux2_passes_the_conformance_suite() {
    let emulator = emulator().await;
    conformance::run_all(&model(&emulator, FLUX2)).await;
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn fill_keeps_every_pixel_outside_the_mask_and_reports_the_leak() {
    let emulator = emulator().await;
    emulator.set_leak(40);
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(&emulator, FILL), 1.0).await;
    assert_no_problems(&emulator);
}

#[tokio::test]
async fn mask_less_models_get_the_original_pasted_back_outside_the_mask() {
    let emulator = emulator().await;
    for id in [KONTEXT, FLUX2] {
        // The emulator repaints the whole image, as a model without a mask may.
        conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(&emulator, id), 1.0).await;
    }
    assert_no_problems(&emulator);
}
