//! `Model`: the awaitable builder, `consume()`, validation before sending,
//! timeouts, streaming and the blocking API.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use msgflux_core::kit::testkit::{MemoryProvider, conformance, sample_image, sample_mask};
use msgflux_core::{
    Capabilities, Consumed, EditEvent, EditRequest, Error, ImageFormat, MaskSupport, Model, OptionSpec, ResponseFormat,
    Size, SizeRule,
};

fn model() -> (Model, Arc<MemoryProvider>) {
    let provider = Arc::new(MemoryProvider::new("fill"));
    (Model::from_provider(provider.clone()), provider)
}

fn dalle_like() -> (Model, Arc<MemoryProvider>) {
    let caps = Capabilities::new()
        .with_max_prompt_chars(1000)
        .with_max_images(1)
        .with_input_formats([ImageFormat::Png])
        .with_max_input_bytes(4 * 1024 * 1024)
        .with_square_input(true)
        .with_mask_formats([ImageFormat::Png])
        .with_mask_requires_alpha(true)
        .with_sizes(SizeRule::OneOf(vec![
            Size::square(256),
            Size::square(512),
            Size::square(1024),
        ]))
        .with_option(OptionSpec::integer("output_compression", 0..=100, "jpeg/webp quality"));
    let provider = Arc::new(MemoryProvider::new("strict").with_capabilities(caps));
    (Model::from_provider(provider.clone()), provider)
}

#[tokio::test]
async fn an_awaited_builder_runs_the_edit() {
    let (model, _) = model();
    let response = model
        .edit("paint")
        .image(sample_image(16, 16))
        .mask(sample_mask(16, 16))
        .await
        .expect("edit");
    assert_eq!(response.provider, "memory");
    assert!(matches!(response.consume(), Consumed::One(ref url) if url.starts_with("data:image/png;base64,")));
}

#[tokio::test]
async fn consume_gives_a_list_for_n_above_one() {
    let (model, _) = model();
    let response = model
        .edit("paint")
        .image(sample_image(16, 16))
        .n(3)
        .await
        .expect("edit");
    assert!(matches!(response.consume(), Consumed::Many(ref v) if v.len() == 3));
}

#[tokio::test]
async fn base64_responses_consume_to_bare_base64() {
    let (model, _) = model();
    let response = model
        .edit("paint")
        .image(sample_image(16, 16))
        .response_format(ResponseFormat::Base64)
        .await
        .expect("edit");
    let text = response.consume().into_vec().remove(0);
    assert!(
        text.starts_with("iVBOR"),
        "PNG base64 starts with iVBOR: {}",
        &text[..10]
    );
}

#[tokio::test]
async fn a_tuple_is_a_request() {
    let (model, _) = model();
    model.call(("paint", sample_image(8, 8))).await.expect("2-tuple");
    model
        .call(("paint", sample_image(8, 8), sample_mask(8, 8)))
        .await
        .expect("3-tuple");
}

#[tokio::test]
async fn invalid_requests_never_reach_the_provider() {
    let (model, provider) = dalle_like();
    let cases: Vec<(EditRequest, &str, &str)> = vec![
        (
            EditRequest::new("x").image(sample_image(32, 16)),
            "image",
            "needs a square image",
        ),
        (
            EditRequest::new("x")
                .image(sample_image(32, 32))
                .mask(sample_mask(16, 16)),
            "mask",
            "mask is 16x16 but image is 32x32",
        ),
        (
            EditRequest::new("y".repeat(1001)).image(sample_image(8, 8)),
            "prompt",
            "at most 1000",
        ),
        (
            EditRequest::new("x").image(sample_image(8, 8)).n(11),
            "n",
            "between 1 and 10",
        ),
        (
            EditRequest::new("x")
                .image(sample_image(8, 8))
                .image(sample_image(8, 8)),
            "image",
            "at most 1",
        ),
        (
            EditRequest::new("x").image(sample_image(8, 8)).size(Size::square(300)),
            "size",
            "256x256",
        ),
        (
            EditRequest::new(" ").image(sample_image(8, 8)),
            "prompt",
            "must not be empty",
        ),
        (EditRequest::new("x"), "image", "at least one"),
        (
            EditRequest::new("x")
                .image(sample_image(8, 8))
                .option("output_compression", 101),
            "option output_compression",
            "between 0 and 100",
        ),
        (
            EditRequest::new("x")
                .image(sample_image(8, 8))
                .option("quality", "high"),
            "option quality",
            "accepted: output_compression",
        ),
    ];
    for (request, param, rule) in cases {
        let err = model.call(request).await.expect_err(rule);
        let text = err.to_string();
        assert!(
            matches!(&err, Error::InvalidInput { param: p, .. } if p == param),
            "{param}: {text}"
        );
        assert!(text.contains(rule), "{param}: expected `{rule}` in `{text}`");
    }
    assert_eq!(provider.calls(), 0);
}

#[tokio::test]
async fn a_mask_without_alpha_is_refused_where_alpha_is_required() {
    let (model, _) = dalle_like();
    let mut opaque = Vec::new();
    image::RgbImage::new(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut opaque), image::ImageFormat::Png)
        .expect("encode");
    let err = model
        .call(("x", sample_image(8, 8), opaque))
        .await
        .expect_err("no alpha");
    assert!(err.to_string().contains("has no alpha channel"), "{err}");
}

#[tokio::test]
async fn a_jpeg_where_png_is_required_names_both_formats() {
    let (model, _) = dalle_like();
    let mut jpeg = Vec::new();
    image::RgbImage::new(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .expect("encode");
    let err = model.call(("x", jpeg)).await.expect_err("jpeg");
    assert!(err.to_string().contains("is JPEG; this model accepts PNG"), "{err}");
}

#[tokio::test]
async fn a_required_mask_must_be_given() {
    let caps = Capabilities::new()
        .with_mask(MaskSupport::Required)
        .with_honours_prompt(false);
    let model = Model::from_provider(Arc::new(MemoryProvider::new("fill").with_capabilities(caps)));
    let err = model.call(("", sample_image(8, 8))).await.expect_err("no mask");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "mask"),
        "{err}"
    );
}

#[tokio::test]
async fn a_prompt_free_model_accepts_an_empty_prompt() {
    let caps = Capabilities::new().with_honours_prompt(false);
    let model = Model::from_provider(Arc::new(MemoryProvider::new("fill").with_capabilities(caps)));
    model
        .call(("", sample_image(8, 8)))
        .await
        .expect("empty prompt is fine");
}

#[tokio::test(start_paused = true)]
async fn a_request_timeout_cancels_the_call() {
    let provider = Arc::new(MemoryProvider::new("fill").with_delay(Duration::from_secs(600)));
    let model = Model::from_provider(provider.clone());
    let err = model
        .edit("paint")
        .image(sample_image(8, 8))
        .timeout(Duration::from_secs(2))
        .await
        .expect_err("timeout");
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_secs(2)),
        "{err}"
    );
    assert_eq!(provider.in_flight(), 0);
}

#[tokio::test]
async fn a_stream_ends_with_the_completed_result() {
    let (model, _) = model();
    let events: Vec<_> = model.edit("paint").image(sample_image(8, 8)).stream().collect().await;
    assert_eq!(events.len(), 1);
    assert!(matches!(events[0], Ok(EditEvent::Completed(_))));
}

#[tokio::test]
async fn a_stream_reports_validation_errors_as_its_only_item() {
    let (model, _) = model();
    let events: Vec<_> = model.edit("paint").stream().collect().await;
    assert!(matches!(events.as_slice(), [Err(Error::InvalidInput { .. })]));
}

#[tokio::test]
async fn saved_results_land_atomically_in_the_directory() {
    let (model, _) = model();
    let dir = tempfile::tempdir().expect("tempdir");
    let response = model.edit("paint").image(sample_image(8, 8)).n(2).await.expect("edit");
    let paths = response.save_all(dir.path(), "result").await.expect("save");
    let names: Vec<_> = paths.iter().map(|p| p.file_name().expect("name").to_owned()).collect();
    assert_eq!(names, vec!["result-0.png", "result-1.png"]);
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("ls").count(),
        2,
        "no temporary files left"
    );
}

#[tokio::test]
async fn the_memory_provider_passes_the_conformance_suite() {
    let (model, _) = model();
    conformance::run_all(&model).await;
}

#[test]
fn the_blocking_api_runs_an_edit_without_a_runtime() {
    let model = msgflux_core::blocking::Model::new(Model::from_provider(Arc::new(MemoryProvider::new("fill"))))
        .expect("runtime");
    let response = model.edit("paint").image(sample_image(8, 8)).n(2).send().expect("edit");
    assert_eq!(response.images.len(), 2);
    let results = model.map_gather(
        vec![("a", sample_image(8, 8)), ("b", sample_image(8, 8))],
        Default::default(),
    );
    assert!(results.iter().all(Result::is_ok));
}

#[tokio::test]
async fn the_blocking_api_refuses_to_run_inside_a_runtime() {
    let model = msgflux_core::blocking::Model::new(Model::from_provider(Arc::new(MemoryProvider::new("fill"))))
        .expect("runtime");
    let err = model.call(("x", sample_image(8, 8))).expect_err("inside a runtime");
    assert!(err.to_string().contains("use the async API"), "{err}");
    // The blocking model owns a runtime; drop it outside this one.
    std::thread::spawn(move || drop(model)).join().expect("drop");
}
