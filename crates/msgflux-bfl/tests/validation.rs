//! Rules checked before anything is sent: BFL's own (Kontext's aspect
//! ratios, FLUX.2's 4 MP output and 9 MP of inputs, Expand's border mask),
//! the table's, and all of them listed together.

mod common;

use common::{EXPAND, FLUX2, KONTEXT, SUBMIT, emulator, model};
use msgflux_core::kit::testkit::{sample_image, sample_mask};
use msgflux_core::{EditRequest, Size};

fn params(err: &msgflux_core::Error) -> Vec<String> {
    err.violations().into_iter().map(|v| v.param).collect()
}

#[tokio::test]
async fn an_aspect_ratio_wider_than_21_9_sends_nothing() {
    let emulator = emulator().await;
    let err = model(&emulator, KONTEXT)
        .call(
            EditRequest::new("wider")
                .image(sample_image(64, 64))
                .option("aspect_ratio", "32:9"),
        )
        .await
        .expect_err("32:9");
    assert_eq!(params(&err), vec!["option aspect_ratio"]);
    assert!(err.to_string().contains("21:9 to 9:21"), "{err}");
    assert_eq!(emulator.requests().len(), 0, "nothing sent, nothing paid");
}

#[tokio::test]
async fn every_broken_rule_is_listed_together_and_nothing_is_sent() {
    let emulator = emulator().await;
    let err = model(&emulator, FLUX2)
        .call(
            EditRequest::new("x")
                .image(sample_image(64, 64))
                .size(Size::new(4096, 2048))
                .n(5)
                .option("safety_tolerance", 6)
                .option("guidance", 3.0),
        )
        .await
        .expect_err("four broken rules");
    let params = params(&err);
    for expected in ["size", "n", "option safety_tolerance", "option guidance"] {
        assert!(
            params.iter().any(|p| p == expected),
            "{expected} missing from {params:?}"
        );
    }
    assert!(err.to_string().contains("4 MP"), "{err}");
    assert_eq!(emulator.count(SUBMIT), 0);
}

#[tokio::test]
async fn more_reference_images_than_klein_takes_are_refused() {
    let emulator = emulator().await;
    let mut request = EditRequest::new("combine");
    for _ in 0..5 {
        request = request.image(sample_image(16, 16));
    }
    let err = model(&emulator, "flux-2-klein-4b")
        .call(request)
        .await
        .expect_err("5 images");
    assert!(err.to_string().contains("at most 4"), "{err}");
    assert_eq!(emulator.count(SUBMIT), 0);
}

#[tokio::test]
async fn a_mask_on_flux2_is_refused_unless_the_original_is_pasted_back() {
    let emulator = emulator().await;
    let err = model(&emulator, FLUX2)
        .call(
            EditRequest::new("x")
                .image(sample_image(64, 64))
                .mask(sample_mask(64, 64))
                .keep_unmasked(false),
        )
        .await
        .expect_err("mask without keep-unmasked");
    assert_eq!(params(&err), vec!["mask"]);
    assert_eq!(emulator.count(SUBMIT), 0);
}

#[tokio::test]
async fn expand_refuses_a_mask_that_is_not_a_border_and_nothing_to_expand() {
    let emulator = emulator().await;
    // The fixture mask is a hole in the middle, not a border.
    let err = model(&emulator, EXPAND)
        .call(
            EditRequest::new("x")
                .image(sample_image(64, 64))
                .mask(sample_mask(64, 64)),
        )
        .await
        .expect_err("a hole");
    assert!(err.to_string().contains("one rectangle"), "{err}");
    let err = model(&emulator, EXPAND)
        .call(EditRequest::new("x").image(sample_image(64, 64)))
        .await
        .expect_err("no sides");
    assert!(err.to_string().contains("nothing to expand"), "{err}");
    assert_eq!(emulator.count(SUBMIT), 0);
}
