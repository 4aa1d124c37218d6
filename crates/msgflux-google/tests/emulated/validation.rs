//! Rules checked before anything is sent: nothing is uploaded or billed when one breaks.

use std::sync::Arc;

use msgflux_core::{EditRequest, Error, Model, Size};
use msgflux_google::MaskHint;

use crate::support::{builder, emulator, mask, png};

#[tokio::test]
async fn a_size_without_a_gemini_aspect_ratio_sends_and_uploads_nothing() {
    let emulator = emulator().await;
    // A tiny inline limit: had the rule not run first, the image would have been uploaded.
    let provider = builder(&emulator)
        .with_inline_limit(10)
        .build("gemini-3-pro-image-preview")
        .expect("builds");
    let err = Model::from_provider(Arc::new(provider))
        .call(EditRequest::new("x").image(png(64, 64)).size(Size::new(1000, 300)))
        .await
        .expect_err("10:3 is not a Gemini ratio");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "size"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("21:9"),
        "the supported ratios are listed: {err}"
    );
    assert_eq!(emulator.generate_count(), 0);
    assert_eq!(emulator.upload_count(), 0);
}

#[tokio::test]
async fn every_broken_rule_is_listed_together() {
    let emulator = emulator().await;
    let provider = builder(&emulator).build("gemini-2.5-flash-image").expect("builds");
    let err = Model::from_provider(Arc::new(provider))
        .call(
            EditRequest::new("x")
                .images([png(64, 64), png(64, 64), png(64, 64), png(64, 64)])
                .size(Size::new(1000, 300))
                .n(9)
                .option("image_size", "2K"),
        )
        .await
        .expect_err("four rules");
    let params: Vec<String> = err.violations().into_iter().map(|v| v.param).collect();
    for expected in ["image", "size", "n", "option image_size"] {
        assert!(
            params.iter().any(|p| p == expected),
            "{expected} missing from {params:?}"
        );
    }
    assert_eq!(emulator.generate_count(), 0);
}

#[tokio::test]
async fn an_option_that_contradicts_the_size_is_refused() {
    let emulator = emulator().await;
    let provider = builder(&emulator).build("gemini-3-pro-image-preview").expect("builds");
    let err = Model::from_provider(Arc::new(provider))
        .call(
            EditRequest::new("x")
                .image(png(64, 64))
                .size(Size::new(1024, 1024))
                .option("aspect_ratio", "16:9"),
        )
        .await
        .expect_err("1:1 vs 16:9");
    assert!(err.to_string().contains("contradicts"), "{err}");
    assert_eq!(emulator.generate_count(), 0);
}

#[tokio::test]
async fn the_mask_hint_counts_as_an_image() {
    let emulator = emulator().await;
    let provider = builder(&emulator)
        .with_mask_hint(MaskHint::Tint)
        .build("gemini-2.5-flash-image")
        .expect("builds");
    let err = Model::from_provider(Arc::new(provider))
        .call(
            EditRequest::new("x")
                .images([png(64, 64), png(64, 64), png(64, 64)])
                .mask(mask(64, 64)),
        )
        .await
        .expect_err("three images and a hint");
    assert!(err.to_string().contains("mask_hint"), "{err}");
    assert_eq!(emulator.generate_count(), 0);
}

#[tokio::test]
async fn a_mask_without_keep_unmasked_is_refused_rather_than_dropped() {
    let emulator = emulator().await;
    let provider = builder(&emulator).build("gemini-2.5-flash-image").expect("builds");
    let err = Model::from_provider(Arc::new(provider))
        .call(
            EditRequest::new("x")
                .image(png(64, 64))
                .mask(mask(64, 64))
                .keep_unmasked(false),
        )
        .await
        .expect_err("the mask would be silently dropped");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "mask"),
        "{err:?}"
    );
    assert_eq!(emulator.generate_count(), 0);
}
