//! Shared test support: fixtures, and a provider pointed at the emulator
//! (`msgflux_emulators::openai`).

#![allow(dead_code)]

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};
use msgflux_core::{Model, RetryPolicy};
use msgflux_openai::{OpenAIBuilder, default_retry_policy};

pub use msgflux_emulators::openai::{EMULATOR_API_VERSION, EMULATOR_KEY, Emulator};

/// OpenAI's retry policy with millisecond backoffs, so tests never wait long.
pub fn fast_retry() -> RetryPolicy {
    default_retry_policy().with_backoff(Duration::from_millis(1), Duration::from_millis(4))
}

/// A builder pointed at the emulator, with the right key and fast retries.
pub fn builder(emulator: &Emulator) -> OpenAIBuilder {
    OpenAIBuilder::new()
        .with_base_url(emulator.base_url())
        .with_api_key(EMULATOR_KEY)
        .with_retry(fast_retry())
        .with_read_timeout(Duration::from_secs(20))
}

/// A model on the emulator.
pub fn model(emulator: &Emulator, name: &str) -> Model {
    Model::from_provider(Arc::new(builder(emulator).build(name).expect("the provider builds")))
}

/// Starts an emulator on the test's runtime.
pub async fn emulator() -> Emulator {
    Emulator::start().await.expect("emulator")
}

/// The last edit request the emulator received.
pub fn last_edit(emulator: &Emulator) -> msgflux_emulators::Recorded {
    emulator.last_edit().expect("an edit request reached the emulator")
}

/// A sample photo shipped in the repository's assets/.
pub fn asset(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets")
        .join(name)
}

fn encode(img: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format)
        .expect("encode a fixture");
    out
}

/// An RGBA PNG, opaque.
pub fn rgba_png(width: u32, height: u32) -> Vec<u8> {
    msgflux_core::kit::testkit::sample_image(width, height)
}

/// An RGBA PNG whose middle quarter is transparent (dall-e-2 edits there without a mask).
pub fn rgba_png_with_hole(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |x, y| {
        let hole = (width / 4..width * 3 / 4).contains(&x) && (height / 4..height * 3 / 4).contains(&y);
        Rgba([120, 80, 40, if hole { 0 } else { 255 }])
    });
    encode(&DynamicImage::ImageRgba8(img), image::ImageFormat::Png)
}

/// An RGB PNG (no alpha channel).
pub fn rgb_png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    encode(&DynamicImage::ImageRgb8(img), image::ImageFormat::Png)
}

/// A JPEG.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, 60, (y % 256) as u8]));
    encode(&DynamicImage::ImageRgb8(img), image::ImageFormat::Jpeg)
}

/// A (lossless) WebP.
pub fn webp(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |x, y| Rgba([30, (x % 256) as u8, (y % 256) as u8, 255]));
    encode(&DynamicImage::ImageRgba8(img), image::ImageFormat::WebP)
}

/// The standard mask: opaque with a transparent (edit) middle.
pub fn mask(width: u32, height: u32) -> Vec<u8> {
    msgflux_core::kit::testkit::sample_mask(width, height)
}

/// An RGBA PNG of noise, which PNG cannot compress: about `4 * side * side` bytes.
pub fn incompressible_png(side: u32) -> Vec<u8> {
    let mut state: u32 = 0x9E37_79B9;
    let img = RgbaImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        Rgba([a, b, c, 255])
    });
    encode(&DynamicImage::ImageRgba8(img), image::ImageFormat::Png)
}

/// Fails the test instead of hanging when something never finishes.
pub async fn bounded<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), work)
        .await
        .expect("finished within 30 s (the provider must never hang)")
}

/// Asserts that every request was well-formed and every answer fit the spec.
pub fn assert_clean(emulator: &Emulator) {
    let problems = emulator.problems();
    assert!(problems.is_empty(), "emulator saw problems: {problems:#?}");
}
