//! Vertex AI: the same models at a project's route, with a bearer token.

use std::io::Cursor;
use std::sync::Arc;

use msgflux_core::kit::testkit::conformance;
use msgflux_core::{EditRequest, Error, Model};
use msgflux_google::{GoogleBuilder, VertexConfig};

use crate::support::{EMULATOR_TOKEN, Emulator, assert_clean, emulator, fast_retry, png};

fn vertex_model(emulator: &Emulator, model: &str) -> Model {
    let config = VertexConfig::new("emu-project")
        .with_location("us-central1")
        .with_access_token(EMULATOR_TOKEN)
        .with_base_url(emulator.base_url());
    let provider = GoogleBuilder::vertex(config)
        .with_retry(fast_retry())
        .build(model)
        .expect("builds");
    Model::from_provider(Arc::new(provider))
}

#[tokio::test]
async fn a_vertex_model_passes_the_conformance_suite_on_the_project_route() {
    let emulator = emulator().await;
    conformance::run_all(&vertex_model(&emulator, "gemini-2.5-flash-image")).await;
    let request = emulator.generates().pop().expect("a request");
    assert_eq!(
        request.path,
        "/v1/projects/emu-project/locations/us-central1/publishers/google/models/gemini-2.5-flash-image:generateContent"
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {EMULATOR_TOKEN}").as_str())
    );
    assert_eq!(request.header("x-goog-api-key"), None);
    assert_clean(&emulator);
}

#[tokio::test]
async fn vertex_refuses_inline_images_above_7_mb_before_sending() {
    let emulator = emulator().await;
    // Noise does not compress: about 8 MB of PNG.
    let mut state: u32 = 0x9E37_79B9;
    let noise = image::RgbaImage::from_fn(1450, 1450, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgba([a, b, c, 255])
    });
    let mut big = Vec::new();
    image::DynamicImage::ImageRgba8(noise)
        .write_to(&mut Cursor::new(&mut big), image::ImageFormat::Png)
        .expect("encode");
    assert!(big.len() > 7 * 1024 * 1024, "{}", big.len());
    let err = vertex_model(&emulator, "gemini-2.5-flash-image")
        .call(EditRequest::new("x").image(big).image(png(64, 64)))
        .await
        .expect_err("too large for Vertex AI inline");
    assert!(
        matches!(&err, Error::InvalidInput { param, .. } if param == "image[0]"),
        "{err:?}"
    );
    assert!(err.to_string().contains("7 MB"), "{err}");
    assert_eq!(emulator.generate_count(), 0);
}
