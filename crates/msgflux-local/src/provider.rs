//! The `local` provider: its models, configuration, builder, capability
//! tables and registration, and the edit that runs a fill off the async runtime.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use image::{DynamicImage, GrayImage, ImageBuffer, Pixel, RgbImage, RgbaImage};
use msgflux_core::{
    Capabilities, EditProvider, EditResponse, Error, GeneratedImage, LoadedImage, LoadedRequest, MaskConvention,
    MaskSupport, ProviderConfig, ProviderError, ProviderRegistration, Registry, ResponseFormat, Result, SizeRule,
    async_trait,
};
use serde_json::json;

use crate::cancel::CancelFlag;
use crate::hole::HoleMask;
use crate::options;
use crate::output::{Delivery, encode_png};
use crate::patchmatch::{self, PatchMatchSettings};
use crate::telea::{self, TeleaSettings};

/// The provider name: model ids read `local/<model>`.
pub const LOCAL_SCHEME: &str = "local";

/// The models: `local/patchmatch` and `local/telea`.
pub const LOCAL_MODELS: &[&str] = &["patchmatch", "telea"];

/// Setting ([`ProviderConfig::settings`]) naming a directory: `url` results
/// are written there as PNG files and returned as `file://` URLs.
pub const SETTING_OUTPUT_DIR: &str = "output_dir";

/// Setting ([`ProviderConfig::settings`]) bounding the image size, in pixels.
pub const SETTING_MAX_PIXELS: &str = "max_pixels";

/// Largest image filled by default: 4096x4096 pixels (about 0.5 GB of working memory).
pub const DEFAULT_MAX_PIXELS: u64 = 4096 * 4096;

/// Seed of `local/patchmatch` when the request sets none, so that results repeat.
pub const DEFAULT_SEED: u64 = 0;

/// Most variations (`n`) of `local/patchmatch` in one request.
pub const MAX_VARIATIONS: u32 = 10;

/// The fill a local model runs.
///
/// ```
/// use msgflux_local::Algorithm;
/// let algorithm: Algorithm = "patchmatch".parse()?;
/// assert_eq!(algorithm, Algorithm::PatchMatch);
/// assert!(!algorithm.capabilities().honours_prompt);
/// assert!("dall-e-2".parse::<Algorithm>().is_err());
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// `local/patchmatch`: multi-scale PatchMatch completion; copies texture and structure, stays sharp.
    PatchMatch,
    /// `local/telea`: fast marching; smooth and quick, blurry on large holes.
    Telea,
}

impl Algorithm {
    /// The model name (`patchmatch`, `telea`).
    pub fn name(self) -> &'static str {
        match self {
            Self::PatchMatch => LOCAL_MODELS[0],
            Self::Telea => LOCAL_MODELS[1],
        }
    }

    /// What the model accepts. Both ignore the prompt, need a mask (alpha 0 =
    /// fill) and keep the input size; only PatchMatch takes a seed and `n > 1`.
    pub fn capabilities(self) -> Capabilities {
        let common = Capabilities::new()
            .with_honours_prompt(false)
            .with_max_images(1)
            .with_mask(MaskSupport::Required)
            .with_mask_requires_alpha(true)
            .with_mask_convention(MaskConvention::TransparentIsEdit)
            .with_sizes(SizeRule::InputSize)
            .with_response_formats([ResponseFormat::Url, ResponseFormat::Base64]);
        match self {
            Self::PatchMatch => options::patchmatch_specs().into_iter().fold(
                common.with_n(1..=MAX_VARIATIONS).with_seed(true),
                Capabilities::with_option,
            ),
            Self::Telea => options::telea_specs()
                .into_iter()
                .fold(common.with_n(1..=1).with_seed(false), Capabilities::with_option),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "patchmatch" => Ok(Self::PatchMatch),
            "telea" => Ok(Self::Telea),
            other => Err(Error::invalid(
                "model",
                format!(
                    "`{LOCAL_SCHEME}/{other}` is not a local model; models: {}",
                    LOCAL_MODELS
                        .iter()
                        .map(|m| format!("{LOCAL_SCHEME}/{m}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

/// Settings of the local provider. It needs no key and no URL.
///
/// ```
/// use msgflux_core::ProviderConfig;
/// use msgflux_local::LocalConfig;
/// let config = LocalConfig::from_provider_config(&ProviderConfig::default().with_setting("output_dir", "out"))?;
/// assert_eq!(config.output_dir.as_deref(), Some(std::path::Path::new("out")));
/// # Ok::<(), msgflux_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalConfig {
    /// Where `url` results are written as PNG files (returned as `file://`
    /// URLs); without it, `url` results are `data:` URLs.
    pub output_dir: Option<PathBuf>,
    /// Largest image accepted, in pixels (default [`DEFAULT_MAX_PIXELS`]).
    pub max_pixels: u64,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            output_dir: None,
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

impl LocalConfig {
    /// Reads the settings `output_dir` and `max_pixels`; any other setting is
    /// an error rather than silently ignored. Keys and URLs are not used.
    pub fn from_provider_config(config: &ProviderConfig) -> Result<Self> {
        let mut local = Self::default();
        for (key, value) in &config.settings {
            match key.as_str() {
                SETTING_OUTPUT_DIR => local.output_dir = Some(PathBuf::from(value)),
                SETTING_MAX_PIXELS => {
                    local.max_pixels = value.trim().parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                        Error::config(format!(
                            "local setting {SETTING_MAX_PIXELS} must be a positive whole number of pixels, got `{value}`"
                        ))
                    })?;
                }
                other => {
                    return Err(Error::config(format!(
                        "local provider setting `{other}` is not known; known settings: {SETTING_OUTPUT_DIR}, {SETTING_MAX_PIXELS}"
                    )));
                }
            }
        }
        Ok(local)
    }

    /// Sets [`LocalConfig::output_dir`].
    pub fn with_output_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.output_dir = Some(dir.into());
        self
    }

    /// Sets [`LocalConfig::max_pixels`].
    pub fn with_max_pixels(mut self, pixels: u64) -> Self {
        self.max_pixels = pixels;
        self
    }
}

/// Builds a [`LocalProvider`].
///
/// ```
/// use msgflux_local::{Algorithm, LocalProvider};
/// let provider = LocalProvider::builder(Algorithm::PatchMatch).with_output_dir("out").build();
/// assert_eq!(provider.to_string(), "local/patchmatch");
/// ```
#[derive(Debug, Clone)]
pub struct LocalBuilder {
    algorithm: Algorithm,
    config: LocalConfig,
}

impl LocalBuilder {
    /// Replaces the whole configuration.
    pub fn with_config(mut self, config: LocalConfig) -> Self {
        self.config = config;
        self
    }

    /// Writes `url` results into this directory (see [`LocalConfig::output_dir`]).
    pub fn with_output_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config = self.config.with_output_dir(dir);
        self
    }

    /// Bounds the image size (see [`LocalConfig::max_pixels`]).
    pub fn with_max_pixels(mut self, pixels: u64) -> Self {
        self.config = self.config.with_max_pixels(pixels);
        self
    }

    /// The provider.
    pub fn build(self) -> LocalProvider {
        LocalProvider {
            algorithm: self.algorithm,
            capabilities: self.algorithm.capabilities(),
            config: self.config,
            fills: Arc::new(FillCounters::default()),
        }
    }
}

/// The offline content-aware fill provider, bound to one [`Algorithm`].
///
/// It fills the transparent area of the mask from the rest of the image and
/// does not read the prompt: responses say `prompt_used = false`. The fill
/// runs on tokio's blocking pool; dropping the edit's future (a timeout, a
/// cancelled task) stops it at its next check.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> msgflux_core::Result<()> {
/// use std::sync::Arc;
/// use msgflux_core::{Model, testkit::{sample_image, sample_mask}};
/// use msgflux_local::{Algorithm, LocalProvider};
///
/// let model = Model::from_provider(Arc::new(LocalProvider::new(Algorithm::PatchMatch)));
/// let response = model.edit("remove the square").image(sample_image(64, 64)).mask(sample_mask(64, 64)).seed(7).await?;
/// assert!(!response.prompt_used);
/// assert!(response.consume().as_one().unwrap().starts_with("data:image/png;base64,"));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LocalProvider {
    algorithm: Algorithm,
    capabilities: Capabilities,
    config: LocalConfig,
    fills: Arc<FillCounters>,
}

impl fmt::Display for LocalProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{LOCAL_SCHEME}/{}", self.algorithm)
    }
}

impl LocalProvider {
    /// A provider with the default configuration.
    pub fn new(algorithm: Algorithm) -> Self {
        Self::builder(algorithm).build()
    }

    /// A builder.
    pub fn builder(algorithm: Algorithm) -> LocalBuilder {
        LocalBuilder {
            algorithm,
            config: LocalConfig::default(),
        }
    }

    /// The provider for a model name (`patchmatch`, `telea`) and factory settings.
    pub fn from_config(model: &str, config: &ProviderConfig) -> Result<Self> {
        Ok(Self::builder(model.parse()?)
            .with_config(LocalConfig::from_provider_config(config)?)
            .build())
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The configuration.
    pub fn config(&self) -> &LocalConfig {
        &self.config
    }

    /// The registration record, for [`Registry::register`].
    pub const fn registration() -> ProviderRegistration {
        ProviderRegistration::new(LOCAL_SCHEME, env!("CARGO_PKG_NAME"), create_local, describe_local)
            .with_description("offline content-aware fill (PatchMatch, Telea): no key, no network, ignores the prompt")
            .with_models(LOCAL_MODELS)
    }
}

fn create_local(model: &str, config: &ProviderConfig) -> Result<Arc<dyn EditProvider>> {
    Ok(Arc::new(LocalProvider::from_config(model, config)?))
}

fn describe_local(model: &str) -> Result<Capabilities> {
    Ok(model.parse::<Algorithm>()?.capabilities())
}

msgflux_core::register_provider!(LocalProvider::registration());

/// Registers the `local` provider in `registry` explicitly (the global
/// registry already has it whenever this crate is linked).
///
/// ```
/// let registry = msgflux_core::Registry::new();
/// msgflux_local::register_local_provider(&registry)?;
/// assert_eq!(registry.names(), vec!["local".to_string()]);
/// # Ok::<(), msgflux_core::Error>(())
/// ```
pub fn register_local_provider(registry: &Registry) -> Result<()> {
    registry.register(LocalProvider::registration())
}

#[async_trait]
impl EditProvider for LocalProvider {
    fn name(&self) -> &str {
        LOCAL_SCHEME
    }

    fn model(&self) -> &str {
        self.algorithm.name()
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
        let image = request
            .images
            .first()
            .cloned()
            .ok_or_else(|| Error::invalid("image", "at least one input image is required"))?;
        let mask = request.mask.clone().ok_or_else(|| {
            Error::invalid(
                "mask",
                "this model only fills a masked area and needs a mask (alpha 0 = fill)",
            )
        })?;
        let pixels = u64::from(image.width) * u64::from(image.height);
        if pixels > self.config.max_pixels {
            return Err(Error::invalid(
                "image",
                format!(
                    "is {}x{} = {pixels} pixels; the local provider fills at most {} pixels (setting {SETTING_MAX_PIXELS})",
                    image.width, image.height, self.config.max_pixels
                ),
            ));
        }
        let job = FillJob::new(self.algorithm, &request)?;
        let delivery = Delivery::new(request.response_format, self.config.output_dir.as_deref());
        let cancel = CancelFlag::new();
        let _stop_when_dropped = cancel.cancel_on_drop();
        let fills = Arc::clone(&self.fills);
        let started = Instant::now();
        let done = tokio::task::spawn_blocking(move || fills.track(|| job.run(&image, &mask, &delivery, &cancel)))
            .await
            .map_err(|e| {
                Error::Server(Box::new(ProviderError::new(
                    LOCAL_SCHEME,
                    format!("the fill task failed: {e}"),
                )))
            })??;
        tracing::debug!(model = %self, elapsed = ?started.elapsed(), images = done.images.len(), "local fill done");
        Ok(EditResponse::new(LOCAL_SCHEME, self.algorithm.name(), done.images)
            .with_prompt_used(false)
            .with_metadata(done.metadata))
    }
}

/// Counts fills on the blocking pool and how they ended.
#[derive(Debug, Default)]
struct FillCounters {
    running: AtomicUsize,
    completed: AtomicUsize,
    cancelled: AtomicUsize,
}

impl FillCounters {
    fn track<T>(&self, fill: impl FnOnce() -> Result<T>) -> Result<T> {
        self.running.fetch_add(1, Ordering::SeqCst);
        let result = fill();
        match &result {
            Err(Error::Cancelled(_)) => self.cancelled.fetch_add(1, Ordering::SeqCst),
            _ => self.completed.fetch_add(1, Ordering::SeqCst),
        };
        self.running.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

/// The fill with its settings, read from the request.
#[derive(Debug, Clone, Copy)]
enum Fill {
    PatchMatch(PatchMatchSettings),
    Telea(TeleaSettings),
}

/// Everything a fill needs that can be checked before it starts: the settings and the seed of each variation.
#[derive(Debug)]
struct FillJob {
    fill: Fill,
    /// One entry per variation; `None` for the seedless Telea.
    seeds: Vec<Option<u64>>,
}

/// What a finished job hands back.
#[derive(Debug)]
struct Filled {
    images: Vec<GeneratedImage>,
    metadata: serde_json::Value,
}

impl FillJob {
    fn new(algorithm: Algorithm, request: &LoadedRequest) -> Result<Self> {
        Ok(match algorithm {
            Algorithm::PatchMatch => {
                let base = request.seed.unwrap_or(DEFAULT_SEED);
                Self {
                    fill: Fill::PatchMatch(options::patchmatch_settings(request)?),
                    seeds: (0..request.n).map(|i| Some(base.wrapping_add(u64::from(i)))).collect(),
                }
            }
            Algorithm::Telea => Self {
                fill: Fill::Telea(options::telea_settings(request)?),
                seeds: vec![None; request.n as usize],
            },
        })
    }

    fn run(&self, image: &LoadedImage, mask: &LoadedImage, delivery: &Delivery, cancel: &CancelFlag) -> Result<Filled> {
        let decode_started = Instant::now();
        let pixels = Pixels::from(image.decode()?);
        let hole = HoleMask::from_transparency(&mask.decode()?.to_rgba8());
        hole.check_fits(image.width, image.height)?;
        let decode_ms = decode_started.elapsed().as_secs_f64() * 1e3;
        let mut images = Vec::with_capacity(self.seeds.len());
        let (mut fill_ms, mut encode_ms) = (Vec::new(), Vec::new());
        for &seed in &self.seeds {
            let fill_started = Instant::now();
            let filled = pixels.fill(&self.fill, seed, &hole, cancel)?;
            fill_ms.push(fill_started.elapsed().as_secs_f64() * 1e3);
            let encode_started = Instant::now();
            let png = encode_png(&filled)?;
            let stem = match seed {
                Some(seed) => format!("{LOCAL_SCHEME}-{}-seed{seed}", self.algorithm()),
                None => format!("{LOCAL_SCHEME}-{}", self.algorithm()),
            };
            images.push(GeneratedImage::new(delivery.deliver(&png, &stem)?).with_seed(seed));
            encode_ms.push(encode_started.elapsed().as_secs_f64() * 1e3);
            cancel.check()?;
        }
        let mut metadata = json!({
            "prompt_used": false,
            "note": "the local provider fills the masked area from the rest of the image; it does not read the prompt",
            "algorithm": self.algorithm().name(),
            "image_size": format!("{}x{}", image.width, image.height),
            "hole_pixels": hole.hole_pixels(),
            "output": delivery.label(),
            "timings_ms": { "decode": decode_ms, "fill": fill_ms, "encode_and_deliver": encode_ms },
        });
        match self.fill {
            Fill::PatchMatch(settings) => {
                metadata["seeds"] = json!(self.seeds);
                metadata["patch_size"] = json!(settings.patch_size);
                metadata["iterations"] = json!(settings.iterations);
            }
            Fill::Telea(settings) => metadata["radius"] = json!(settings.radius),
        }
        Ok(Filled { images, metadata })
    }

    fn algorithm(&self) -> Algorithm {
        match self.fill {
            Fill::PatchMatch(_) => Algorithm::PatchMatch,
            Fill::Telea(_) => Algorithm::Telea,
        }
    }
}

/// The decoded input in the pixel type it is filled in: grey stays grey,
/// alpha is kept and filled like a colour channel, 16-bit becomes 8-bit.
#[derive(Debug)]
enum Pixels {
    Luma(GrayImage),
    Rgb(RgbImage),
    Rgba(RgbaImage),
}

impl From<DynamicImage> for Pixels {
    fn from(image: DynamicImage) -> Self {
        if image.color().has_alpha() {
            Self::Rgba(image.to_rgba8())
        } else if image.color().channel_count() == 1 {
            Self::Luma(image.to_luma8())
        } else {
            Self::Rgb(image.to_rgb8())
        }
    }
}

impl Pixels {
    fn fill(&self, fill: &Fill, seed: Option<u64>, hole: &HoleMask, cancel: &CancelFlag) -> Result<DynamicImage> {
        Ok(match self {
            Self::Luma(image) => DynamicImage::ImageLuma8(fill_buffer(image, fill, seed, hole, cancel)?),
            Self::Rgb(image) => DynamicImage::ImageRgb8(fill_buffer(image, fill, seed, hole, cancel)?),
            Self::Rgba(image) => DynamicImage::ImageRgba8(fill_buffer(image, fill, seed, hole, cancel)?),
        })
    }
}

fn fill_buffer<P: Pixel<Subpixel = u8>>(
    image: &ImageBuffer<P, Vec<u8>>,
    fill: &Fill,
    seed: Option<u64>,
    hole: &HoleMask,
    cancel: &CancelFlag,
) -> Result<ImageBuffer<P, Vec<u8>>> {
    match fill {
        Fill::PatchMatch(settings) => {
            let settings = settings.with_seed(seed.unwrap_or(DEFAULT_SEED));
            patchmatch::inpaint(image, hole, &settings, cancel)
        }
        Fill::Telea(settings) => telea::inpaint(image, hole, settings, cancel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use msgflux_core::Model;
    use msgflux_core::testkit::{sample_image, sample_mask};

    /// Polls every millisecond; gives up (failing the test) after 10 000 polls, so a bug cannot hang the suite.
    async fn wait_until(condition: impl Fn() -> bool) {
        for _ in 0..10_000 {
            if condition() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("condition not reached");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_edit_stops_the_fill_before_it_completes() {
        let provider = Arc::new(LocalProvider::new(Algorithm::PatchMatch));
        let fills = Arc::clone(&provider.fills);
        let model = Model::from_provider(provider);
        // Big enough that a full fill takes far longer than noticing the cancellation.
        let side = 384;
        let edit = tokio::spawn(
            model
                .edit("")
                .image(sample_image(side, side))
                .mask(sample_mask(side, side))
                .option("iterations", 20)
                .send(),
        );
        wait_until(|| fills.running.load(Ordering::SeqCst) == 1).await;
        edit.abort();
        wait_until(|| fills.running.load(Ordering::SeqCst) == 0).await;
        assert_eq!(
            fills.cancelled.load(Ordering::SeqCst),
            1,
            "the fill saw the cancellation"
        );
        assert_eq!(
            fills.completed.load(Ordering::SeqCst),
            0,
            "the fill did not run to the end"
        );
    }
}
