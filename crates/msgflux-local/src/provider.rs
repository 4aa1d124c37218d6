//! The `local` provider: the edit that runs a fill off the async runtime,
//! and the provider's own rules (image size, option combinations).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use image::{DynamicImage, GrayImage, ImageBuffer, Pixel, RgbImage, RgbaImage};
use msgflux_core::kit::{EditProvider, LoadedRequest, Violations, async_trait};
use msgflux_core::{Capabilities, EditResponse, Error, GeneratedImage, LoadedImage, ProviderError, Result};
use serde_json::json;

use crate::cancel::CancelFlag;
use crate::config::{LocalConfig, SETTING_MAX_PIXELS};
use crate::hole::HoleMask;
use crate::models::{Algorithm, DEFAULT_SEED};
use crate::options;
use crate::output::{Delivery, encode_png};
use crate::patchmatch::{self, PatchMatchSettings};
use crate::registration::LOCAL_SCHEME;
use crate::telea::{self, TeleaSettings};

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
/// use msgflux_core::{Model, kit::testkit::{sample_image, sample_mask}};
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
        Self::new_with(algorithm, LocalConfig::default())
    }

    pub(crate) fn new_with(algorithm: Algorithm, config: LocalConfig) -> Self {
        Self {
            algorithm,
            capabilities: algorithm.capabilities(),
            config,
            fills: Arc::new(FillCounters::default()),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The configuration.
    pub fn config(&self) -> &LocalConfig {
        &self.config
    }
}

#[async_trait]
impl EditProvider for LocalProvider {
    fn name(&self) -> &str {
        LOCAL_SCHEME
    }

    fn model(&self) -> &str {
        self.algorithm.name()
    }

    async fn capabilities(&self) -> Result<&Capabilities> {
        Ok(&self.capabilities)
    }

    fn check(&self, request: &LoadedRequest, violations: &mut Violations) -> Result<()> {
        if let Some(image) = request.images.first() {
            let pixels = u64::from(image.width) * u64::from(image.height);
            if pixels > self.config.max_pixels {
                violations.push(
                    "image",
                    format!(
                        "is {}x{} = {pixels} pixels; the local provider fills at most {} pixels (setting {SETTING_MAX_PIXELS})",
                        image.width, image.height, self.config.max_pixels
                    ),
                );
            }
        }
        if let Err(err) = FillJob::new(self.algorithm, request) {
            violations.absorb(err)?;
        }
        Ok(())
    }

    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
        let (Some(image), Some(mask)) = (request.images.first().cloned(), request.mask.clone()) else {
            return Err(Error::invalid(
                "mask",
                "this model only fills a masked area and needs an image and a mask (alpha 0 = fill)",
            ));
        };
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
    use msgflux_core::kit::testkit::{sample_image, sample_mask};

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
