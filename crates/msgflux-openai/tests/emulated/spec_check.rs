//! The contract checker itself (it must reject bad requests, or the other
//! tests prove nothing), and a sweep of every request shape the provider builds.

use msgflux_core::{EditBuilder, ResponseFormat, Size};
use msgflux_emulators::engine::{Contract, Part};
use msgflux_emulators::openai::contract;
use msgflux_openai::{Background, InputFidelity, OpenAIEditOptions, OutputFormat, Quality};

use crate::support::{assert_clean, bounded, emulator, jpeg, mask, model, rgba_png, rgba_png_with_hole, webp};

fn png() -> Vec<u8> {
    rgba_png(8, 8)
}

fn form() -> String {
    Contract::request_body("/images/edits", "post", "multipart/form-data")
}

fn check(parts: &[Part]) -> Vec<String> {
    contract().check_multipart(&form(), parts)
}

fn minimal() -> Vec<Part> {
    vec![
        Part::text("model", "gpt-image-1"),
        Part::text("prompt", "add a hat"),
        Part::file("image", "a.png", "image/png", png()),
    ]
}

fn problems_with(extra: Part) -> Vec<String> {
    let mut parts = minimal();
    parts.push(extra);
    check(&parts)
}

#[test]
fn the_checker_accepts_a_minimal_valid_request() {
    assert_eq!(check(&minimal()), Vec::<String>::new());
}

#[test]
fn the_contract_is_the_multipart_edit_operation() {
    let contract = contract();
    assert!(
        contract
            .request_media_types("/images/edits", "post")
            .contains(&"multipart/form-data".to_string())
    );
    let properties = contract
        .document()
        .pointer("/components/schemas/CreateImageEditRequest/properties")
        .and_then(serde_json::Value::as_object)
        .expect("the form's fields");
    for field in [
        "image",
        "prompt",
        "mask",
        "n",
        "size",
        "response_format",
        "quality",
        "partial_images",
    ] {
        assert!(properties.contains_key(field), "{field}");
    }
}

#[test]
fn the_checker_rejects_an_unknown_field() {
    let problems = problems_with(Part::text("moderation", "low"));
    assert_eq!(problems, ["unknown field `moderation`"]);
}

#[test]
fn the_checker_rejects_a_word_where_an_integer_belongs() {
    let problems = problems_with(Part::text("n", "two"));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("\"two\" is not of type") && p.contains("integer")),
        "{problems:?}"
    );
}

#[test]
fn the_checker_rejects_an_integer_out_of_range() {
    let problems = problems_with(Part::text("n", "11"));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("field /n") && p.contains("maximum of 10")),
        "{problems:?}"
    );
    let problems = problems_with(Part::text("partial_images", "4"));
    assert!(
        problems.iter().any(|p| p.contains("field /partial_images")),
        "{problems:?}"
    );
}

#[test]
fn the_checker_rejects_a_value_outside_an_enum() {
    let problems = problems_with(Part::text("quality", "ultra"));
    assert!(
        problems.iter().any(|p| p.contains("\"ultra\" is not one of")),
        "{problems:?}"
    );
}

#[test]
fn the_checker_rejects_a_bad_boolean_despite_nullable() {
    let problems = problems_with(Part::text("stream", "yes"));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("\"yes\" is not of type") && p.contains("boolean")),
        "{problems:?}"
    );
    let problems = problems_with(Part::text("stream", "null"));
    assert!(!problems.is_empty(), "a nullable field still takes no `null` text");
}

#[test]
fn the_checker_rejects_text_where_a_file_belongs() {
    let parts = vec![Part::text("prompt", "x"), Part::text("image", "iVBORw0KGgo=")];
    let problems = check(&parts);
    assert!(
        problems
            .iter()
            .any(|p| p == "`image`: text was sent where the contract wants a file"),
        "{problems:?}"
    );
}

#[test]
fn the_checker_rejects_a_file_where_text_belongs() {
    let problems = problems_with(Part::file("size", "size.txt", "text/plain", b"1024x1024".to_vec()));
    assert!(
        problems
            .iter()
            .any(|p| p == "`size`: a file was sent where the contract wants text"),
        "{problems:?}"
    );
}

#[test]
fn the_checker_rejects_a_repeated_plain_field() {
    let problems = problems_with(Part::file("image", "b.png", "image/png", png()));
    assert!(problems.iter().any(|p| p.contains("sent 2 times")), "{problems:?}");
}

#[test]
fn the_checker_rejects_brackets_on_a_field_that_is_not_an_array() {
    let problems = problems_with(Part::file("mask[]", "m.png", "image/png", png()));
    assert!(
        problems.iter().any(|p| p.contains("`mask` is not an array")),
        "{problems:?}"
    );
}

#[test]
fn the_checker_rejects_more_than_16_images() {
    let mut parts = vec![Part::text("prompt", "x")];
    parts.extend((0..16).map(|_| Part::file("image[]", "a.png", "image/png", png())));
    assert_eq!(check(&parts), Vec::<String>::new(), "16 images are allowed");
    parts.push(Part::file("image[]", "a.png", "image/png", png()));
    let problems = check(&parts);
    assert!(problems.iter().any(|p| p.contains("field /image")), "{problems:?}");
}

#[test]
fn the_checker_rejects_a_missing_prompt() {
    let parts = vec![Part::file("image", "a.png", "image/png", png())];
    let problems = check(&parts);
    assert_eq!(problems, ["\"prompt\" is a required property"]);
}

#[test]
fn the_answer_checker_rejects_a_wrong_type() {
    let contract = contract();
    let good = serde_json::json!({"created": 1, "data": [{"b64_json": "AAAA"}]});
    assert!(contract.check(&Contract::component("ImagesResponse"), &good).is_empty());
    let bad = serde_json::json!({"created": "yesterday", "data": [{"b64_json": 5}]});
    let problems = contract.check(&Contract::component("ImagesResponse"), &bad);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("at /created")), "{problems:?}");
    assert!(
        problems.iter().any(|p| p.contains("at /data/0/b64_json")),
        "{problems:?}"
    );
}

/// Every request shape the provider can produce, sent to the emulator,
/// which checks each against the spec (and the service's own rules).
#[tokio::test]
async fn every_request_shape_the_provider_builds_fits_the_spec() {
    let emulator = emulator().await;
    let dalle = model(&emulator, "dall-e-2");
    let gpt = model(&emulator, "gpt-image-1");
    let mini = model(&emulator, "gpt-image-1-mini");
    let gpt2 = model(&emulator, "gpt-image-2");
    let shapes: Vec<EditBuilder> = vec![
        dalle.edit("a").image(rgba_png(32, 32)).mask(mask(32, 32)),
        dalle
            .edit("b")
            .image(rgba_png_with_hole(32, 32))
            .response_format(ResponseFormat::Base64)
            .n(2),
        dalle
            .edit("c")
            .image(rgba_png(32, 32))
            .mask(mask(32, 32))
            .size(Size::square(256))
            .option("quality", "standard")
            .option("user", "u1"),
        gpt.edit("d").image(jpeg(24, 16)),
        gpt.edit("e")
            .images([png(), webp(8, 8), jpeg(8, 8)])
            .mask(mask(8, 8))
            .n(3),
        gpt.edit("f").image(png()).size(Size::new(1024, 1536)).options(
            OpenAIEditOptions::new()
                .with_quality(Quality::Low)
                .with_background(Background::Transparent)
                .with_output_format(OutputFormat::Webp)
                .with_output_compression(0)
                .with_input_fidelity(InputFidelity::Low)
                .with_user("u2"),
        ),
        gpt.edit("g")
            .image(png())
            .option("output_format", "jpeg")
            .option("output_compression", 100),
        mini.edit("h")
            .image(png())
            .option("quality", "auto")
            .response_format(ResponseFormat::Base64),
        gpt2.edit("i").image(png()).size(Size::new(2048, 1152)),
    ];
    for shape in shapes {
        bounded(shape.send()).await.expect("every shape succeeds");
    }
    // Streamed shapes.
    for partials in [0, 3] {
        let events = bounded(futures::StreamExt::collect::<Vec<_>>(
            gpt.edit("j")
                .image(png())
                .options(OpenAIEditOptions::new().with_partial_images(partials))
                .stream(),
        ))
        .await;
        assert!(events.iter().all(Result::is_ok), "{events:?}");
    }
    assert_eq!(emulator.edit_count(), 11);
    assert_clean(&emulator);
}
