//! Test support (feature `testkit`): an in-memory provider, fixture images,
//! and the conformance suite every provider crate runs over itself.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::sync::Arc;
//! use msgflux_core::{Model, testkit::{MemoryProvider, conformance}};
//! let model = Model::from_provider(Arc::new(MemoryProvider::new("fill")));
//! conformance::run_all(&model).await;
//! # }
//! ```

use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use image::{DynamicImage, Rgba, RgbaImage};

use crate::capabilities::{Capabilities, OptionSpec};
use crate::error::{Error, ProviderError, Result};
use crate::provider::{EditProvider, ProviderConfig};
use crate::registry::ProviderRegistration;
use crate::request::{LoadedRequest, ResponseFormat};
use crate::response::{EditResponse, GeneratedImage, ImageData};

/// A provider that edits in memory: it paints the masked area (or the whole
/// image) a colour derived from the prompt, seed and variation index. It
/// counts calls and the peak number in flight, can wait (on tokio's clock,
/// so paused-time tests do not sleep) and can fail on demand.
pub struct MemoryProvider {
    model: String,
    capabilities: Capabilities,
    delay: Duration,
    fail_marker: Option<String>,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl fmt::Debug for MemoryProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryProvider")
            .field("model", &self.model)
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

/// The name [`MemoryProvider`] registers under.
pub const MEMORY_PROVIDER: &str = "memory";

impl MemoryProvider {
    /// A provider for `model` that accepts any size, an optional mask, `n` 1-10,
    /// a seed and one option (`tint`: `warm` or `cool`).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            capabilities: Capabilities::new().with_seed(true).with_option(OptionSpec::choice(
                "tint",
                &["warm", "cool"],
                "colour family of the fill",
            )),
            delay: Duration::ZERO,
            fail_marker: None,
            calls: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Replaces the capability table.
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Waits this long per call (tokio time).
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Fails with a server error when the prompt contains `marker`.
    pub fn failing_on(mut self, marker: impl Into<String>) -> Self {
        self.fail_marker = Some(marker.into());
        self
    }

    /// Calls started so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Calls in flight right now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Most calls that were in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// A registration for [`Registry::register`](crate::Registry::register).
    pub const fn registration() -> ProviderRegistration {
        ProviderRegistration::new(MEMORY_PROVIDER, env!("CARGO_PKG_NAME"), create_memory, describe_memory)
            .with_description("in-memory test provider")
            .with_models(&["fill"])
    }
}

fn create_memory(model: &str, _config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(MemoryProvider::new(model)))
}

fn describe_memory(model: &str) -> Result<Capabilities> {
    Ok(MemoryProvider::new(model).capabilities)
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl EditProvider for MemoryProvider {
    fn name(&self) -> &str {
        MEMORY_PROVIDER
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let _guard = InFlight(&self.in_flight);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        if let Some(marker) = &self.fail_marker
            && request.prompt.contains(marker.as_str())
        {
            return Err(Error::Server(Box::new(
                ProviderError::new(MEMORY_PROVIDER, format!("asked to fail on `{marker}`")).with_status(500),
            )));
        }
        let base = request.images[0].decode()?.to_rgba8();
        let mask = match &request.mask {
            Some(mask) => Some(mask.decode()?.to_rgba8()),
            None => None,
        };
        let tint = request
            .get_option("tint")
            .and_then(|v| v.as_str())
            .unwrap_or("warm")
            .to_string();
        let mut images = Vec::with_capacity(request.n as usize);
        for i in 0..request.n {
            let seed = request.seed.unwrap_or(0).wrapping_add(u64::from(i));
            let colour = fill_colour(&request.prompt, seed, &tint);
            let mut out = base.clone();
            for (x, y, px) in out.enumerate_pixels_mut() {
                let edit = mask.as_ref().is_none_or(|m| m.get_pixel(x, y)[3] == 0);
                if edit {
                    *px = colour;
                }
            }
            let mut png = Vec::new();
            DynamicImage::ImageRgba8(out)
                .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(|e| Error::decode("result", e))?;
            let data = match request.response_format {
                ResponseFormat::Base64 => ImageData::Base64(BASE64.encode(&png)),
                ResponseFormat::Url => ImageData::Url(format!("data:image/png;base64,{}", BASE64.encode(&png))),
            };
            images.push(GeneratedImage::new(data).with_seed(Some(seed)));
        }
        Ok(EditResponse::new(MEMORY_PROVIDER, self.model.clone(), images)
            .with_request_id(Some(format!("mem-{}", self.calls())))
            .with_metadata(serde_json::json!({ "tint": tint })))
    }
}

fn fill_colour(prompt: &str, seed: u64, tint: &str) -> Rgba<u8> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (prompt, seed).hash(&mut hasher);
    let h = hasher.finish().to_le_bytes();
    match tint {
        "cool" => Rgba([h[0] / 4, h[1] / 2, 128 + h[2] / 2, 255]),
        _ => Rgba([128 + h[0] / 2, h[1] / 2, h[2] / 4, 255]),
    }
}

/// A textured RGB test image (PNG bytes): gradients and a checkerboard.
pub fn sample_image(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |x, y| {
        let check = if (x / 8 + y / 8) % 2 == 0 { 40 } else { 0 };
        Rgba([
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
            (100 + check) as u8,
            255,
        ])
    });
    encode_png(&DynamicImage::ImageRgba8(img))
}

/// An OpenAI-style mask (PNG bytes): opaque, with a transparent (edit) rectangle
/// covering the middle quarter.
pub fn sample_mask(width: u32, height: u32) -> Vec<u8> {
    let (x0, x1, y0, y1) = (width / 4, width * 3 / 4, height / 4, height * 3 / 4);
    let img = RgbaImage::from_fn(width, height, |x, y| {
        let edit = (x0..x1).contains(&x) && (y0..y1).contains(&y);
        Rgba([0, 0, 0, if edit { 0 } else { 255 }])
    });
    encode_png(&DynamicImage::ImageRgba8(img))
}

fn encode_png(img: &DynamicImage) -> Vec<u8> {
    let mut buf = Vec::new();
    // Encoding an in-memory RGBA buffer to a Vec cannot fail.
    let _ = img.write_to(&mut Cursor::new(&mut buf), image::ImageFormat::Png);
    buf
}

/// Conformance checks: public functions over any [`Model`](crate::Model),
/// chosen by its capabilities. Provider crates call [`conformance::run_all`]
/// from a test against their emulator (or, for offline providers, directly).
pub mod conformance {
    use super::{sample_image, sample_mask};
    use crate::capabilities::MaskSupport;
    use crate::error::Error;
    use crate::model::Model;
    use crate::request::{EditRequest, ResponseFormat};
    use crate::response::Consumed;

    /// Side of the fixture images: square, small, a multiple of 64.
    pub const FIXTURE_SIDE: u32 = 64;

    fn request(model: &Model) -> EditRequest {
        let side = FIXTURE_SIDE;
        let request = EditRequest::new("fill the masked area with blue sky").image(sample_image(side, side));
        if model.capabilities().mask == MaskSupport::Unsupported {
            request
        } else {
            request.mask(sample_mask(side, side))
        }
    }

    /// One request with `n = 1` gives one image, and `consume()` a single string.
    pub async fn single_result_consumes_to_one_string(model: &Model) {
        let response = model.call(request(model)).await.expect("edit with n = 1");
        assert_eq!(response.images.len(), 1, "{}: n = 1 must give one image", model.id());
        assert!(
            matches!(response.consume(), Consumed::One(_)),
            "{}: consume() of one result",
            model.id()
        );
        assert!(!response.provider.is_empty() && !response.model.is_empty());
    }

    /// `n > 1` (where allowed) gives exactly `n` images and `consume()` a list.
    pub async fn several_results_consume_to_a_list(model: &Model) {
        let max = *model.capabilities().n.end();
        if max < 2 {
            return;
        }
        let response = model.call(request(model).n(2)).await.expect("edit with n = 2");
        assert_eq!(response.images.len(), 2, "{}: n = 2 must give two images", model.id());
        assert!(matches!(response.consume(), Consumed::Many(ref v) if v.len() == 2));
    }

    /// Base64 results (where offered) decode to images.
    pub async fn base64_results_decode_to_images(model: &Model) {
        if !model.capabilities().response_formats.contains(&ResponseFormat::Base64) {
            return;
        }
        let response = model
            .call(request(model).response_format(ResponseFormat::Base64))
            .await
            .expect("edit with base64");
        for image in &response.images {
            let decoded = image.to_image().await.expect("result decodes");
            assert!(decoded.width() > 0 && decoded.height() > 0);
        }
    }

    /// A mask of another size is refused before anything is sent, naming both sizes.
    pub async fn mask_of_another_size_is_refused(model: &Model) {
        if model.capabilities().mask == MaskSupport::Unsupported {
            return;
        }
        let side = FIXTURE_SIDE;
        let request = EditRequest::new("x")
            .image(sample_image(side, side))
            .mask(sample_mask(side / 2, side / 2));
        let err = model.call(request).await.expect_err("mask size mismatch");
        let text = err.to_string();
        assert!(
            matches!(err, Error::InvalidInput { ref param, .. } if param == "mask"),
            "{text}"
        );
        assert!(
            text.contains(&format!("{0}x{0}", side / 2)) && text.contains(&format!("{side}x{side}")),
            "{text}"
        );
    }

    /// `n` outside the model's range is refused, naming `n`.
    pub async fn n_out_of_range_is_refused(model: &Model) {
        let too_many = model.capabilities().n.end() + 1;
        let err = model.call(request(model).n(too_many)).await.expect_err("n too large");
        assert!(
            matches!(err, Error::InvalidInput { ref param, .. } if param == "n"),
            "{err}"
        );
    }

    /// An option the model does not declare is refused, never dropped.
    pub async fn unknown_option_is_refused(model: &Model) {
        let err = model
            .call(request(model).option("definitely_not_an_option", "x"))
            .await
            .expect_err("unknown option");
        assert!(err.to_string().contains("definitely_not_an_option"), "{err}");
    }

    /// A model that needs a mask says so when there is none.
    pub async fn missing_required_mask_is_refused(model: &Model) {
        if model.capabilities().mask != MaskSupport::Required {
            return;
        }
        let request = EditRequest::new("x").image(sample_image(FIXTURE_SIDE, FIXTURE_SIDE));
        let err = model.call(request).await.expect_err("mask required");
        assert!(
            matches!(err, Error::InvalidInput { ref param, .. } if param == "mask"),
            "{err}"
        );
    }

    /// Every check above.
    pub async fn run_all(model: &Model) {
        single_result_consumes_to_one_string(model).await;
        several_results_consume_to_a_list(model).await;
        base64_results_decode_to_images(model).await;
        mask_of_another_size_is_refused(model).await;
        n_out_of_range_is_refused(model).await;
        unknown_option_is_refused(model).await;
        missing_required_mask_is_refused(model).await;
    }
}
