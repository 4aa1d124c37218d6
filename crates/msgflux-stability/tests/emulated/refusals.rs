//! Rules the capability table cannot express, checked before anything is
//! sent: nothing reaches the emulator, nothing is uploaded or billed.

use msgflux_core::Error;
use msgflux_core::kit::testkit::sample_image;

use crate::support::{emulator, masked, model, unmasked};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_and_replace_without_a_search_prompt_sends_nothing() {
    let emulator = emulator().await;
    let err = model(&emulator, "search-and-replace")
        .call(unmasked("a golden retriever"))
        .await
        .expect_err("search_prompt is required");
    assert!(
        err.violations().iter().any(|v| v.param == "option search_prompt"),
        "{err}"
    );
    assert_eq!(emulator.edit_count(), 0, "no paid request");
    assert!(emulator.requests().is_empty(), "nothing at all was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_broken_rule_of_an_outpaint_is_listed_together() {
    let emulator = emulator().await;
    let request = msgflux_core::EditRequest::new("more beach")
        .image(sample_image(200, 40))
        .seed(4_294_967_294)
        .n(2)
        .option("creativity", 1.5)
        .option("grow_mask", 3)
        .keep_unmasked(true);
    let err = model(&emulator, "outpaint")
        .call(request)
        .await
        .expect_err("many rules broken");
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    let params: Vec<String> = err.violations().into_iter().map(|v| v.param).collect();
    for expected in [
        "image",             // 200x40: a side under 64, an aspect ratio over 2.5:1
        "option left",       // no direction to grow
        "option creativity", // above 1
        "option grow_mask",  // not an outpaint option
        "seed",              // 4294967294 + 1 is past the largest seed
        "keep_unmasked",     // the canvas grows
    ] {
        assert!(
            params.iter().any(|p| p == expected),
            "missing {expected} in {params:?}: {err}"
        );
    }
    assert!(emulator.requests().is_empty(), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inpaint_without_a_mask_and_a_mask_on_search_and_recolor_are_refused_before_sending() {
    let emulator = emulator().await;
    let err = model(&emulator, "inpaint")
        .call(unmasked("x"))
        .await
        .expect_err("mask required");
    assert!(err.violations().iter().any(|v| v.param == "mask"), "{err}");
    let err = model(&emulator, "search-and-recolor")
        .call(
            masked("bright red")
                .option("select_prompt", "the cup")
                .keep_unmasked(false),
        )
        .await
        .expect_err("no mask on search-and-recolor");
    assert!(err.violations().iter().any(|v| v.param == "mask"), "{err}");
    assert!(emulator.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_light_strength_without_a_light_direction_is_refused() {
    let emulator = emulator().await;
    let err = model(&emulator, "replace-background-and-relight")
        .call(unmasked("a sunny beach").option("light_source_strength", 0.5))
        .await
        .expect_err("strength needs a direction");
    assert!(
        err.violations()
            .iter()
            .any(|v| v.param == "option light_source_strength"),
        "{err}"
    );
    assert!(emulator.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_background_refuses_an_input_over_its_pixel_limit() {
    let emulator = emulator().await;
    // 2100 x 2100 = 4,410,000 pixels: inpaint would take it, remove-background (4,194,304) does not.
    let request = msgflux_core::EditRequest::new("").image(sample_image(2100, 2100));
    let err = model(&emulator, "remove-background")
        .call(request)
        .await
        .expect_err("too many pixels");
    assert!(err.to_string().contains("4194304"), "{err}");
    assert!(emulator.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relight_refuses_references_that_do_not_match_the_images_and_sends_nothing() {
    let emulator = emulator().await;
    let request = unmasked("a sunny beach")
        .image(sample_image(64, 64))
        .option("references", "background,light");
    let err = model(&emulator, "replace-background-and-relight")
        .call(request)
        .await
        .expect_err("two roles, one reference image");
    let text = err.to_string();
    assert!(
        err.violations().iter().any(|v| v.param == "option references"),
        "{text}"
    );
    assert!(
        text.contains("names 2 reference image(s)") && text.contains("1 image(s) follow"),
        "{text}"
    );
    assert!(emulator.requests().is_empty());
}
