//! Test support (feature `testkit`): an in-memory provider, fixture images,
//! and the conformance suite every provider crate runs over itself.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::sync::Arc;
//! use msgflux_core::{Model, kit::testkit::{MemoryProvider, conformance}};
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
use crate::error::{Error, ProviderError, Result, Violations};
use crate::input::LoadedImage;
use crate::kit::provider::{EditProvider, ProviderConfig};
use crate::registry::ProviderRegistration;
use crate::request::{EditRequest, LoadedRequest, ResponseFormat};
use crate::response::{EditResponse, GeneratedImage, ImageData};

/// A rule of the provider's own, checked by [`EditProvider::check`].
pub type ProviderRule = fn(&LoadedRequest, &mut Violations);

/// A provider that edits in memory: it paints the masked area (or the whole
/// image) a colour derived from the prompt, seed and variation index. It
/// counts calls and the peak number in flight, can wait (on tokio's clock,
/// so paused-time tests do not sleep) and can fail on demand.
pub struct MemoryProvider {
    model: String,
    capabilities: Capabilities,
    delay: Duration,
    fail_marker: Option<String>,
    rule: Option<ProviderRule>,
    leak: u8,
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
            rule: None,
            leak: 0,
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

    /// Adds a rule of the provider's own (run by [`EditProvider::check`]).
    pub fn with_rule(mut self, rule: ProviderRule) -> Self {
        self.rule = Some(rule);
        self
    }

    /// Also changes every pixel outside the mask by this many levels, as
    /// providers that treat the mask as a hint do (0, the default: none).
    pub fn with_leak(mut self, levels: u8) -> Self {
        self.leak = levels;
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

    async fn capabilities(&self) -> Result<&Capabilities> {
        Ok(&self.capabilities)
    }

    fn check(&self, request: &LoadedRequest, violations: &mut Violations) -> Result<()> {
        if let Some(rule) = self.rule {
            rule(request, violations);
        }
        Ok(())
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
                } else if self.leak > 0 {
                    for c in 0..3 {
                        px[c] = px[c].saturating_add(self.leak);
                    }
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

/// Response headers from name/value pairs, for tests of error mapping.
///
/// ```
/// let headers = msgflux_core::kit::testkit::headers(&[("retry-after", "2")]);
/// assert_eq!(headers["retry-after"], "2");
/// ```
pub fn headers(pairs: &[(&'static str, &'static str)]) -> reqwest::header::HeaderMap {
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, reqwest::header::HeaderValue::from_static(value));
    }
    map
}

/// A loaded request for `sample_image(width, height)` with no mask, for
/// tests of checks that need no I/O.
pub fn loaded_request(width: u32, height: u32) -> LoadedRequest {
    let image = LoadedImage::from_bytes(sample_image(width, height), None, "image").expect("the sample image loads");
    EditRequest::new("test").with_inputs(vec![image], None)
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
/// from a test against their emulator (or, for offline providers, directly),
/// and [`conformance::faults::run_all`] with a [`conformance::faults::FaultHarness`]
/// over their emulator.
pub mod conformance {
    use super::{sample_image, sample_mask};
    use crate::capabilities::{Capabilities, MaskSupport};
    use crate::error::Error;
    use crate::model::Model;
    use crate::request::{EditRequest, OptionValue, ResponseFormat};
    use crate::response::Consumed;

    /// Side of the fixture images: square, small, a multiple of 64.
    pub const FIXTURE_SIDE: u32 = 64;

    async fn caps(model: &Model) -> Capabilities {
        model.capabilities().await.expect("capabilities").clone()
    }

    /// What a model cannot run without beyond the fixture's image, mask and
    /// prompt: provider options (a search prompt, a direction to grow in).
    ///
    /// ```
    /// use msgflux_core::kit::testkit::conformance::Fixture;
    /// let fixture = Fixture::new().option("search_prompt", "the cat");
    /// # let _ = fixture;
    /// ```
    #[derive(Debug, Clone, Default)]
    pub struct Fixture {
        options: Vec<(String, OptionValue)>,
    }

    impl Fixture {
        /// No extra options.
        pub fn new() -> Self {
            Self::default()
        }

        /// Adds an option every fixture request carries.
        pub fn option(mut self, name: impl Into<String>, value: impl Into<OptionValue>) -> Self {
            self.options.push((name.into(), value.into()));
            self
        }

        fn apply(&self, request: EditRequest) -> EditRequest {
            request.options(self.options.clone())
        }
    }

    /// The fixture request: a sample image, and the sample mask where the model takes one.
    pub async fn request(model: &Model) -> EditRequest {
        request_with(model, &Fixture::new()).await
    }

    /// The fixture request with the fixture's options.
    pub async fn request_with(model: &Model, fixture: &Fixture) -> EditRequest {
        let side = FIXTURE_SIDE;
        let request =
            fixture.apply(EditRequest::new("fill the masked area with blue sky").image(sample_image(side, side)));
        if caps(model).await.mask == MaskSupport::Unsupported {
            request
        } else {
            request.mask(sample_mask(side, side))
        }
    }

    /// One request with `n = 1` gives one image, and `consume()` a single string.
    pub async fn single_result_consumes_to_one_string(model: &Model, fixture: &Fixture) {
        let response = model
            .call(request_with(model, fixture).await)
            .await
            .expect("edit with n = 1");
        assert_eq!(response.images.len(), 1, "{}: n = 1 must give one image", model.id());
        assert!(
            matches!(response.consume(), Consumed::One(_)),
            "{}: consume() of one result",
            model.id()
        );
        assert!(!response.provider.is_empty() && !response.model.is_empty());
    }

    /// `n > 1` (where allowed) gives exactly `n` images and `consume()` a list.
    pub async fn several_results_consume_to_a_list(model: &Model, fixture: &Fixture) {
        if *caps(model).await.n.end() < 2 {
            return;
        }
        let response = model
            .call(request_with(model, fixture).await.n(2))
            .await
            .expect("edit with n = 2");
        assert_eq!(response.images.len(), 2, "{}: n = 2 must give two images", model.id());
        assert!(matches!(response.consume(), Consumed::Many(ref v) if v.len() == 2));
    }

    /// Base64 results (where offered) decode to images.
    pub async fn base64_results_decode_to_images(model: &Model, fixture: &Fixture) {
        if !caps(model).await.response_formats.contains(&ResponseFormat::Base64) {
            return;
        }
        let response = model
            .call(
                request_with(model, fixture)
                    .await
                    .response_format(ResponseFormat::Base64),
            )
            .await
            .expect("edit with base64");
        for image in &response.images {
            let decoded = image.to_image().await.expect("result decodes");
            assert!(decoded.width() > 0 && decoded.height() > 0);
        }
    }

    /// A mask of another size is refused before anything is sent, naming both sizes.
    pub async fn mask_of_another_size_is_refused(model: &Model, fixture: &Fixture) {
        let side = FIXTURE_SIDE;
        let request = fixture
            .apply(EditRequest::new("x"))
            .image(sample_image(side, side))
            .mask(sample_mask(side / 2, side / 2))
            .keep_unmasked(true);
        let err = model.call(request).await.expect_err("mask size mismatch");
        let text = err.to_string();
        assert!(
            err.violations().iter().any(|v| v.param == "mask"),
            "{}: {text}",
            model.id()
        );
        assert!(
            text.contains(&format!("{0}x{0}", side / 2)) && text.contains(&format!("{side}x{side}")),
            "{text}"
        );
    }

    /// `n` outside the model's range is refused, naming `n`.
    pub async fn n_out_of_range_is_refused(model: &Model, fixture: &Fixture) {
        let too_many = caps(model).await.n.end() + 1;
        let err = model
            .call(request_with(model, fixture).await.n(too_many))
            .await
            .expect_err("n too large");
        assert!(err.violations().iter().any(|v| v.param == "n"), "{err}");
    }

    /// An option the model does not declare is refused, never dropped.
    pub async fn unknown_option_is_refused(model: &Model, fixture: &Fixture) {
        let err = model
            .call(
                request_with(model, fixture)
                    .await
                    .option("definitely_not_an_option", "x"),
            )
            .await
            .expect_err("unknown option");
        assert!(err.to_string().contains("definitely_not_an_option"), "{err}");
    }

    /// Several broken rules are reported together, each naming its parameter.
    pub async fn every_broken_rule_is_listed(model: &Model, fixture: &Fixture) {
        let too_many = caps(model).await.n.end() + 1;
        let err = model
            .call(
                request_with(model, fixture)
                    .await
                    .n(too_many)
                    .option("definitely_not_an_option", "x"),
            )
            .await
            .expect_err("two broken rules");
        let params: Vec<String> = err.violations().into_iter().map(|v| v.param).collect();
        assert!(
            params.iter().any(|p| p == "n") && params.iter().any(|p| p == "option definitely_not_an_option"),
            "{}: both rules must be listed, got {params:?}",
            model.id()
        );
    }

    /// A model that needs a mask says so when there is none.
    pub async fn missing_required_mask_is_refused(model: &Model, fixture: &Fixture) {
        if caps(model).await.mask != MaskSupport::Required {
            return;
        }
        let request = fixture
            .apply(EditRequest::new("x"))
            .image(sample_image(FIXTURE_SIDE, FIXTURE_SIDE));
        let err = model.call(request).await.expect_err("mask required");
        assert!(
            matches!(err, Error::InvalidInput { ref param, .. } if param == "mask"),
            "{err}"
        );
    }

    /// With `keep_unmasked`, every pixel outside the mask is the input's, and
    /// the response reports what the provider had changed there:
    /// `expected_leak` is the fraction of outside pixels the provider (or
    /// emulator) is known to change.
    pub async fn keep_unmasked_keeps_every_pixel_outside_the_mask(model: &Model, expected_leak: f64) {
        let side = FIXTURE_SIDE;
        let original = image::load_from_memory(&sample_image(side, side))
            .expect("fixture")
            .to_rgba8();
        let mask = image::load_from_memory(&sample_mask(side, side))
            .expect("fixture")
            .to_rgba8();
        let request = EditRequest::new("fill the masked area with blue sky")
            .image(sample_image(side, side))
            .mask(sample_mask(side, side))
            .keep_unmasked(true)
            .response_format(ResponseFormat::Base64);
        let response = model.call(request).await.expect("edit with keep_unmasked");
        for (i, image) in response.images.iter().enumerate() {
            let report = image.unmasked.as_ref().expect("a keep-unmasked report");
            assert!(
                (report.leak.changed_fraction - expected_leak).abs() < 0.02,
                "{}: result {i}: reported leak {} but the provider changed {expected_leak}",
                model.id(),
                report.leak.changed_fraction
            );
            let result = image.to_image().await.expect("result decodes").to_rgba8();
            assert_eq!(
                result.dimensions(),
                original.dimensions(),
                "{}: result size",
                model.id()
            );
            for (x, y, px) in result.enumerate_pixels() {
                if mask.get_pixel(x, y)[3] == 255 {
                    assert_eq!(
                        px.0[..3],
                        original.get_pixel(x, y).0[..3],
                        "{}: result {i} changed pixel ({x}, {y}) outside the mask",
                        model.id()
                    );
                }
            }
        }
    }

    /// The progress callback hears `Checked` once, before anything the
    /// provider reports, and nothing at all for a refused request.
    pub async fn progress_starts_with_checked_and_refusals_report_nothing(model: &Model, fixture: &Fixture) {
        use std::sync::{Arc, Mutex};

        use crate::progress::Progress;
        let recorder = || {
            let steps = Arc::new(Mutex::new(Vec::<Progress>::new()));
            let sink = steps.clone();
            (steps, move |step: &Progress| {
                sink.lock().expect("steps").push(step.clone())
            })
        };
        let (steps, record) = recorder();
        model
            .call(request_with(model, fixture).await.on_progress(record))
            .await
            .expect("edit with a progress callback");
        let steps = steps.lock().expect("steps").clone();
        assert_eq!(steps.first(), Some(&Progress::Checked), "{}: {steps:?}", model.id());
        assert_eq!(
            steps.iter().filter(|s| **s == Progress::Checked).count(),
            1,
            "{}: {steps:?}",
            model.id()
        );

        let (refused, record) = recorder();
        let too_many = caps(model).await.n.end() + 1;
        model
            .call(request_with(model, fixture).await.n(too_many).on_progress(record))
            .await
            .expect_err("n too large");
        assert!(
            refused.lock().expect("steps").is_empty(),
            "{}: a refused request reports nothing",
            model.id()
        );
    }

    /// Every check above that needs no fault injection.
    pub async fn run_all(model: &Model) {
        run_all_with(model, &Fixture::new()).await;
    }

    /// Every check above that needs no fault injection, each request
    /// carrying the fixture's options (for models that need some).
    pub async fn run_all_with(model: &Model, fixture: &Fixture) {
        single_result_consumes_to_one_string(model, fixture).await;
        several_results_consume_to_a_list(model, fixture).await;
        base64_results_decode_to_images(model, fixture).await;
        mask_of_another_size_is_refused(model, fixture).await;
        n_out_of_range_is_refused(model, fixture).await;
        unknown_option_is_refused(model, fixture).await;
        every_broken_rule_is_listed(model, fixture).await;
        missing_required_mask_is_refused(model, fixture).await;
        progress_starts_with_checked_and_refusals_report_nothing(model, fixture).await;
    }

    /// The fault cases every HTTP provider must handle the same way, over a
    /// harness the provider's tests implement with their emulator.
    pub mod faults {
        use std::time::Duration;

        use super::request;
        use crate::error::Error;
        use crate::model::Model;

        /// A fault the harness makes its emulator inject into the next paid
        /// request (an edit POST, a prediction create).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum InjectedFault {
            /// 429 asking to wait this long.
            RateLimited(Duration),
            /// The account is out of credit or over its quota.
            QuotaExceeded,
            /// The provider refuses the prompt or image on policy grounds.
            ContentPolicy,
            /// Accept the request and never answer.
            Hang,
            /// A success whose image bytes are not an image.
            NotAnImage,
        }

        /// What the fault suite needs from a provider's tests.
        pub trait FaultHarness {
            /// A model talking to the emulator, with a read timeout of at most
            /// a second and retries that wait milliseconds, not seconds.
            fn model(&self) -> Model;
            /// The same model, pointed at a port where nothing listens.
            fn model_without_server(&self) -> Model;
            /// Paid requests the emulator has received so far.
            fn paid_requests(&self) -> usize;
            /// Makes the next paid request fail with `fault`.
            fn inject(&self, fault: InjectedFault);
        }

        /// A refused connection sends nothing: a network error that says so, nothing billed.
        pub async fn a_refused_connection_bills_nothing(harness: &impl FaultHarness) {
            let model = harness.model_without_server();
            let before = harness.paid_requests();
            let err = model.call(request(&model).await).await.expect_err("nothing listens");
            assert!(
                matches!(
                    err,
                    Error::Network {
                        request_sent: false,
                        ..
                    }
                ),
                "{}: {err:?}",
                model.id()
            );
            assert!(!err.may_have_been_billed(), "{err}");
            assert_eq!(harness.paid_requests(), before);
        }

        /// A rate limit is waited out and the request resent once.
        pub async fn a_rate_limit_is_retried(harness: &impl FaultHarness) {
            let model = harness.model();
            let before = harness.paid_requests();
            harness.inject(InjectedFault::RateLimited(Duration::from_millis(20)));
            model
                .call(request(&model).await)
                .await
                .expect("succeeds after the rate limit");
            assert_eq!(harness.paid_requests() - before, 2, "{}: one retry", model.id());
        }

        /// Injects `fault`, makes one call, checks that exactly one paid
        /// request was sent (never resent), and returns the error.
        async fn fails_once(
            harness: &impl FaultHarness,
            fault: InjectedFault,
            request: crate::EditRequest,
        ) -> (String, Error) {
            let model = harness.model();
            let before = harness.paid_requests();
            harness.inject(fault);
            let err = model.call(request).await.expect_err("the fault fails the call");
            assert_eq!(
                harness.paid_requests() - before,
                1,
                "{}: {fault:?} must be sent once and never resent",
                model.id()
            );
            (model.id(), err)
        }

        /// An answer that never comes is a timeout that may have been billed, never resent.
        pub async fn a_hung_paid_request_is_not_resent(harness: &impl FaultHarness) {
            let (id, err) = fails_once(harness, InjectedFault::Hang, request(&harness.model()).await).await;
            assert!(
                matches!(err, Error::Timeout { maybe_billed: true, .. }),
                "{id}: {err:?}"
            );
            assert!(err.may_have_been_billed());
        }

        /// Quota errors are final.
        pub async fn quota_is_not_retried(harness: &impl FaultHarness) {
            let (id, err) = fails_once(harness, InjectedFault::QuotaExceeded, request(&harness.model()).await).await;
            assert!(matches!(err, Error::QuotaExceeded(_)), "{id}: {err:?}");
        }

        /// A policy refusal is `ContentPolicy` with the provider's message, never retried.
        pub async fn a_policy_refusal_is_content_policy(harness: &impl FaultHarness) {
            let (id, err) = fails_once(harness, InjectedFault::ContentPolicy, request(&harness.model()).await).await;
            assert!(matches!(err, Error::ContentPolicy(_)), "{id}: {err:?}");
            assert!(!err.provider_error().expect("detail").message.is_empty());
        }

        /// An answer whose image is not an image is an invalid response, not a file.
        pub async fn a_result_that_is_not_an_image_is_an_invalid_response(harness: &impl FaultHarness) {
            let request = request(&harness.model())
                .await
                .response_format(crate::ResponseFormat::Base64);
            let (id, err) = fails_once(harness, InjectedFault::NotAnImage, request).await;
            assert!(matches!(err, Error::InvalidResponse { .. }), "{id}: {err:?}");
            assert!(err.may_have_been_billed());
        }

        /// Every fault case.
        pub async fn run_all(harness: &impl FaultHarness) {
            a_refused_connection_bills_nothing(harness).await;
            a_rate_limit_is_retried(harness).await;
            a_hung_paid_request_is_not_resent(harness).await;
            quota_is_not_retried(harness).await;
            a_policy_refusal_is_content_policy(harness).await;
            a_result_that_is_not_an_image_is_an_invalid_response(harness).await;
        }
    }
}
