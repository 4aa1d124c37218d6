//! The `local` provider through msgflux's public API: registration,
//! validation, responses and the core conformance suite.

use std::io::Cursor;
use std::sync::Arc;

use image::{DynamicImage, Rgba, RgbaImage};
use msgflux_core::kit::ProviderConfig;
use msgflux_core::kit::testkit::{conformance, sample_image, sample_mask};
use msgflux_core::{Error, ImageData, Model, Registry, ResponseFormat};
use msgflux_local::{Algorithm, LOCAL_SCHEME, LocalBuilder, LocalEditOptions, LocalProvider, register};

const SIDE: u32 = 64;

fn model(algorithm: Algorithm) -> Model {
    Model::from_provider(Arc::new(LocalProvider::new(algorithm)))
}

fn png(image: RgbaImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    DynamicImage::ImageRgba8(image)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("encode");
    bytes
}

fn mask_with_alpha(alpha: impl Fn(u32, u32) -> u8) -> Vec<u8> {
    png(RgbaImage::from_fn(SIDE, SIDE, |x, y| Rgba([0, 0, 0, alpha(x, y)])))
}

#[tokio::test]
async fn patchmatch_passes_the_core_conformance_suite() {
    conformance::run_all(&model(Algorithm::PatchMatch)).await;
}

#[tokio::test]
async fn telea_passes_the_core_conformance_suite() {
    conformance::run_all(&model(Algorithm::Telea)).await;
}

#[tokio::test]
async fn keep_unmasked_finds_nothing_changed_outside_the_mask_of_a_local_fill() {
    // The local fills copy every pixel outside the hole back exactly, so the step reports no leak.
    conformance::keep_unmasked_keeps_every_pixel_outside_the_mask(&model(Algorithm::Telea), 0.0).await;
}

#[tokio::test]
async fn an_image_over_the_pixel_budget_is_refused_together_with_the_other_broken_rules() {
    let provider = LocalBuilder::new()
        .with_max_pixels(1000)
        .build_for(Algorithm::Telea)
        .expect("builds");
    let err = Model::from_provider(Arc::new(provider))
        .edit("")
        .image(sample_image(SIDE, SIDE))
        .mask(sample_mask(SIDE, SIDE))
        .n(2)
        .await
        .expect_err("two broken rules");
    let mut params: Vec<String> = err.violations().into_iter().map(|v| v.param).collect();
    params.sort();
    assert_eq!(params, ["image", "n"], "{err}");
}

#[tokio::test]
async fn the_global_registry_knows_local_with_both_models() {
    let model = Model::image_text_to_image("local/patchmatch").expect("linked and registered");
    assert_eq!(model.id(), "local/patchmatch");
    let registration = Registry::global().get(LOCAL_SCHEME).expect("registered");
    assert_eq!(registration.models, &["patchmatch", "telea"]);
    assert!(
        !Registry::global()
            .describe("local/telea")
            .expect("describe")
            .honours_prompt
    );
}

#[test]
fn explicit_registration_works_in_a_fresh_registry_and_refuses_a_second_one() {
    let registry = Registry::new();
    register(&registry).expect("first");
    let provider = registry
        .create("local/telea", &ProviderConfig::default())
        .expect("provider");
    assert_eq!(Model::from_provider(provider).id(), "local/telea");
    assert!(matches!(register(&registry), Err(Error::DuplicateProvider { .. })));
}

#[test]
fn an_unknown_model_is_refused_listing_the_models() {
    let err = Registry::global()
        .create("local/lama", &ProviderConfig::default())
        .expect_err("unknown model");
    let text = err.to_string();
    assert!(text.contains("local/patchmatch, local/telea"), "{text}");
}

#[test]
fn an_unknown_setting_is_refused_rather_than_ignored() {
    let config = ProviderConfig::default().with_setting("outdir", "x");
    let err = Registry::global()
        .create("local/patchmatch", &config)
        .expect_err("typo");
    assert!(matches!(err, Error::Config { .. }), "{err}");
    assert!(err.to_string().contains("output_dir"), "{err}");
}

#[tokio::test]
async fn a_request_without_a_mask_is_refused_naming_the_mask() {
    let err = model(Algorithm::PatchMatch)
        .edit("remove it")
        .image(sample_image(SIDE, SIDE))
        .await
        .expect_err("no mask");
    assert!(
        matches!(err, Error::InvalidInput { ref param, .. } if param == "mask"),
        "{err}"
    );
}

#[tokio::test]
async fn an_opaque_mask_is_refused_as_empty() {
    let err = model(Algorithm::PatchMatch)
        .edit("remove it")
        .image(sample_image(SIDE, SIDE))
        .mask(mask_with_alpha(|_, _| 255))
        .await
        .expect_err("empty mask");
    assert!(
        matches!(err, Error::InvalidInput { ref param, .. } if param == "mask"),
        "{err}"
    );
    assert!(err.to_string().contains("mask is empty: nothing to fill"), "{err}");
}

#[tokio::test]
async fn a_fully_transparent_mask_is_refused_as_leaving_nothing_to_sample() {
    let err = model(Algorithm::Telea)
        .edit("remove it")
        .image(sample_image(SIDE, SIDE))
        .mask(mask_with_alpha(|_, _| 0))
        .await
        .expect_err("full mask");
    assert!(
        err.to_string()
            .contains("mask covers the whole image: nothing to sample from"),
        "{err}"
    );
}

#[tokio::test]
async fn the_response_says_the_prompt_was_not_used() {
    let response = model(Algorithm::PatchMatch)
        .edit("add a rainbow")
        .image(sample_image(SIDE, SIDE))
        .mask(sample_mask(SIDE, SIDE))
        .seed(3)
        .await
        .expect("edit");
    assert!(!response.prompt_used);
    assert_eq!(response.metadata["prompt_used"], false);
    assert_eq!(response.metadata["algorithm"], "patchmatch");
    assert_eq!(response.metadata["seeds"], serde_json::json!([3]));
    assert!(response.metadata["timings_ms"]["fill"][0].as_f64().is_some());
}

#[tokio::test]
async fn pixels_outside_the_mask_come_back_exactly() {
    let image = sample_image(SIDE, SIDE);
    let response = model(Algorithm::PatchMatch)
        .edit("")
        .image(image.clone())
        .mask(sample_mask(SIDE, SIDE))
        .response_format(ResponseFormat::Base64)
        .await
        .expect("edit");
    let before = image::load_from_memory(&image).expect("decode").to_rgba8();
    let after = response.images[0].to_image().await.expect("decode").to_rgba8();
    let mask = image::load_from_memory(&sample_mask(SIDE, SIDE))
        .expect("mask")
        .to_rgba8();
    let mut filled = 0;
    for (x, y, keep) in mask.enumerate_pixels() {
        if keep[3] == 255 {
            assert_eq!(before.get_pixel(x, y), after.get_pixel(x, y), "({x}, {y}) changed");
        } else {
            filled += 1;
        }
    }
    assert!(filled > 0);
}

#[tokio::test]
async fn variations_use_consecutive_seeds_and_differ() {
    let response = model(Algorithm::PatchMatch)
        .edit("")
        .image(sample_image(SIDE, SIDE))
        .mask(sample_mask(SIDE, SIDE))
        .n(2)
        .seed(40)
        .await
        .expect("edit");
    let seeds: Vec<_> = response.images.iter().map(|i| i.seed).collect();
    assert_eq!(seeds, vec![Some(40), Some(41)]);
    assert_ne!(response.images[0].data, response.images[1].data);
}

#[tokio::test]
async fn an_output_directory_turns_urls_into_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let provider = LocalBuilder::new()
        .with_output_dir(dir.path())
        .build_for(Algorithm::Telea)
        .expect("builds");
    let response = Model::from_provider(Arc::new(provider))
        .edit("")
        .image(sample_image(SIDE, SIDE))
        .mask(sample_mask(SIDE, SIDE))
        .await
        .expect("edit");
    let ImageData::Url(url) = &response.images[0].data else {
        panic!("expected a URL, got {:?}", response.images[0].data);
    };
    let path = url.strip_prefix("file://").expect("a file URL");
    assert!(path.starts_with(&dir.path().display().to_string()), "{path}");
    let written = image::open(path).expect("a PNG file");
    assert_eq!((written.width(), written.height()), (SIDE, SIDE));
    assert_eq!(response.metadata["output"], "file");
}

#[tokio::test]
async fn urls_without_an_output_directory_are_data_urls() {
    let response = model(Algorithm::Telea)
        .edit("")
        .image(sample_image(SIDE, SIDE))
        .mask(sample_mask(SIDE, SIDE))
        .await
        .expect("edit");
    let url = response.consume().as_one().expect("one").to_string();
    assert!(url.starts_with("data:image/png;base64,"), "{}", &url[..40]);
}

#[tokio::test]
async fn an_even_patch_size_is_refused_before_any_fill() {
    let err = model(Algorithm::PatchMatch)
        .edit("")
        .image(sample_image(SIDE, SIDE))
        .mask(sample_mask(SIDE, SIDE))
        .options(LocalEditOptions::default().with_patch_size(8))
        .await
        .expect_err("even");
    assert!(
        matches!(err, Error::InvalidInput { ref param, .. } if param == "option patch_size"),
        "{err}"
    );
}

#[tokio::test]
async fn telea_refuses_a_seed_and_a_patch_size() {
    let telea = model(Algorithm::Telea);
    let request = || {
        telea
            .edit("")
            .image(sample_image(SIDE, SIDE))
            .mask(sample_mask(SIDE, SIDE))
    };
    let err = request().seed(1).await.expect_err("seed");
    assert!(
        matches!(err, Error::InvalidInput { ref param, .. } if param == "seed"),
        "{err}"
    );
    let err = request().option("patch_size", 7).await.expect_err("patch size");
    assert!(err.to_string().contains("patch_size"), "{err}");
}

#[tokio::test]
async fn an_image_over_max_pixels_is_refused_naming_the_limit() {
    let provider = LocalBuilder::new()
        .with_max_pixels(1000)
        .build_for(Algorithm::Telea)
        .expect("builds");
    let err = Model::from_provider(Arc::new(provider))
        .edit("")
        .image(sample_image(SIDE, SIDE))
        .mask(sample_mask(SIDE, SIDE))
        .await
        .expect_err("too big");
    assert!(err.to_string().contains("at most 1000 pixels"), "{err}");
}
