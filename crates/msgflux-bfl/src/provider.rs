//! [`BflProvider`]: checks a request against the model's table and BFL's
//! own rules, turns it into the model's JSON body (masks converted, an
//! Expand mask turned into pixel counts), runs one task per result, and
//! downloads every result within the call.

use std::fmt;
use std::io::Cursor;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use msgflux_core::kit::{EditProvider, LoadedRequest, SecretString, Violations, async_trait, report, sniff_format};
use msgflux_core::{
    Capabilities, EditResponse, Error, GeneratedImage, ImageData, LoadedImage, MaskConvention, OptionValue, OutputSize,
    Progress, ProgressSink, ResponseFormat, Result,
};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::builder::{BflBuilder, Settings};
use crate::client::{BflClient, Polling};
use crate::error::invalid_response;
use crate::models::{
    BUILTIN_MODELS, EXPAND_MAX_SIDE, FLUX2_MAX_INPUT_PIXELS, FLUX2_MAX_OUTPUT_PIXELS, Family, ModelSpec, spec,
};
use crate::pricing::{self, TaskUse};
use crate::registration::BFL_SCHEME;

/// Image edits through one model of Black Forest Labs' API.
///
/// Each result is one task: submitted to `POST /v1/{model}`, polled at the
/// `polling_url` BFL returns until `Ready`, and its signed result URL
/// downloaded at once (it expires after ten minutes). `n` results are `n`
/// tasks, run at once and each billed.
///
/// ```no_run
/// # async fn demo() -> msgflux_core::Result<()> {
/// use std::sync::Arc;
/// use msgflux_core::Model;
/// use msgflux_bfl::BflProvider;
///
/// let provider = BflProvider::builder().build("flux-pro-1.0-fill")?;
/// let model = Model::from_provider(Arc::new(provider));
/// let response = model.edit("a red brick chimney").image("house.png").mask("roof_mask.png").await?;
/// println!("{:?}", response.consume());
/// # Ok(()) }
/// ```
pub struct BflProvider {
    spec: ModelSpec,
    capabilities: Capabilities,
    client: BflClient,
    settings: Settings,
}

impl fmt::Debug for BflProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BflProvider")
            .field("model", &self.spec.id)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for BflProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{BFL_SCHEME}/{}", self.spec.id)
    }
}

impl BflProvider {
    pub(crate) fn new(
        model: &str,
        http: reqwest::Client,
        base_url: url::Url,
        key: SecretString,
        settings: Settings,
    ) -> Result<Self> {
        let spec = known(model)?;
        let client = BflClient::new(http, base_url, key, settings.retry.clone(), settings.timeout);
        Ok(Self {
            spec,
            capabilities: spec.capabilities(),
            client,
            settings,
        })
    }

    /// A builder with the key and base URL read from the environment.
    ///
    /// ```
    /// let provider = msgflux_bfl::BflProvider::builder()
    ///     .with_api_key("bfl_example")
    ///     .build("flux-2-pro")
    ///     .unwrap();
    /// assert_eq!(provider.model_id(), "flux-2-pro");
    /// ```
    pub fn builder() -> BflBuilder {
        BflBuilder::from_env()
    }

    /// What a model accepts, without credentials or network.
    ///
    /// ```
    /// use msgflux_core::{MaskConvention, MaskSupport};
    /// let fill = msgflux_bfl::BflProvider::describe("flux-pro-1.0-fill").unwrap();
    /// assert_eq!(fill.mask_convention, MaskConvention::WhiteIsEdit);
    /// let kontext = msgflux_bfl::BflProvider::describe("flux-kontext-pro").unwrap();
    /// assert_eq!(kontext.mask, MaskSupport::Unsupported);
    /// assert!(msgflux_bfl::BflProvider::describe("flux-9").is_err());
    /// ```
    pub fn describe(model: &str) -> Result<Capabilities> {
        Ok(known(model)?.capabilities())
    }

    /// The model id (`flux-2-pro`).
    pub fn model_id(&self) -> &str {
        self.spec.id
    }
}

fn known(model: &str) -> Result<ModelSpec> {
    spec(model.trim()).ok_or_else(|| {
        Error::config(format!(
            "`{model}` is not a BFL edit model this crate knows; known: {}",
            BUILTIN_MODELS.join(", ")
        ))
    })
}

#[async_trait]
impl EditProvider for BflProvider {
    fn name(&self) -> &str {
        BFL_SCHEME
    }

    fn model(&self) -> &str {
        self.spec.id
    }

    async fn capabilities(&self) -> Result<&Capabilities> {
        Ok(&self.capabilities)
    }

    /// BFL's rules the table cannot express: Kontext's aspect-ratio range,
    /// FLUX.2's 4 MP output and 9 MP of inputs, and what Expand needs (pixel
    /// counts or a border mask, not both).
    fn check(&self, request: &LoadedRequest, violations: &mut Violations) -> Result<()> {
        match self.spec.family {
            Family::Kontext => {
                if let Some(value) = request.get_option("aspect_ratio")
                    && let Err(rule) = aspect_ratio(value)
                {
                    violations.push("option aspect_ratio", rule);
                }
            }
            Family::Flux2 => {
                if let Some(OutputSize::Exact(size)) = request.size {
                    let pixels = u64::from(size.width) * u64::from(size.height);
                    if pixels > FLUX2_MAX_OUTPUT_PIXELS {
                        violations.push(
                            "size",
                            format!(
                                "{size} is {:.1} MP; FLUX.2 makes at most 4 MP ({FLUX2_MAX_OUTPUT_PIXELS} pixels)",
                                pixels as f64 / 1_048_576.0
                            ),
                        );
                    }
                }
                let inputs: u64 = request
                    .images
                    .iter()
                    .map(|i| u64::from(i.width) * u64::from(i.height))
                    .sum();
                if inputs > FLUX2_MAX_INPUT_PIXELS {
                    violations.push(
                        "image",
                        format!(
                            "the input images total {:.1} MP; FLUX.2 takes at most 9 MP of reference images",
                            inputs as f64 / 1_048_576.0
                        ),
                    );
                }
            }
            Family::Expand => {
                let sides: Vec<&str> = SIDES
                    .iter()
                    .copied()
                    .filter(|s| request.get_option(s).is_some())
                    .collect();
                match (&request.mask, request.images.first()) {
                    (Some(_), _) if !sides.is_empty() => violations.push(
                        "mask",
                        format!(
                            "give either a mask whose edit area is a border or the options {}, not both",
                            sides.join(", ")
                        ),
                    ),
                    (Some(mask), Some(image)) if (mask.width, mask.height) == (image.width, image.height) => {
                        if let Err(rule) = border(mask) {
                            violations.push("mask", rule);
                        }
                    }
                    (None, _) if sides.iter().all(|s| request.get_option(s).and_then(OptionValue::as_i64) == Some(0)) => {
                        violations.push(
                            "option top",
                            "nothing to expand: give top, bottom, left or right (pixels to add), or a mask whose transparent border marks the new area",
                        )
                    }
                    _ => {}
                }
            }
            Family::Fill => {}
        }
        Ok(())
    }

    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
        let deadline = Instant::now() + request.timeout.unwrap_or(self.settings.deadline);
        let (body, input_pixels) = self.body(&request)?;
        let output_pixels = self.output_pixels(&request, &body);
        let polling = Polling {
            initial: self.settings.poll_initial,
            max: self.settings.poll_max,
            deadline,
        };
        let seeds: Vec<Option<u64>> = (0..request.n)
            .map(|i| request.seed.map(|s| s.wrapping_add(u64::from(i))))
            .collect();
        let outcomes = futures::future::try_join_all(seeds.iter().enumerate().map(|(i, seed)| {
            let mut body = body.clone();
            if let Some(seed) = seed {
                body.insert("seed".into(), json!(seed));
            }
            self.run_task(body, i, polling, request.response_format, request.progress.as_ref())
        }))
        .await?;

        let mut images = Vec::with_capacity(outcomes.len());
        let mut uses = Vec::with_capacity(outcomes.len());
        let mut tasks = Vec::with_capacity(outcomes.len());
        for (outcome, seed) in outcomes.into_iter().zip(seeds) {
            uses.push(TaskUse {
                credits: outcome.submitted.cost,
                input_mp: outcome.submitted.input_mp.unwrap_or(input_pixels as f64 / 1e6),
                output_mp: outcome.submitted.output_mp.unwrap_or(output_pixels as f64 / 1e6),
            });
            tasks.push(json!({
                "id": outcome.submitted.id,
                "polls": outcome.polls,
                "cost_credits": outcome.submitted.cost,
                "input_mp": outcome.submitted.input_mp,
                "output_mp": outcome.submitted.output_mp,
            }));
            images.push(GeneratedImage::new(outcome.data).with_seed(outcome.seed.or(seed)));
        }
        let ids: Vec<String> = tasks
            .iter()
            .filter_map(|t| t["id"].as_str().map(str::to_string))
            .collect();
        let mut metadata = json!({
            "model": self.spec.id,
            "tasks": tasks,
            "results": "downloaded within the call: BFL's result URLs expire after 10 minutes",
        });
        if let Some(sides) = expand_sides(&body) {
            metadata["expand"] = sides;
        }
        Ok(EditResponse::new(BFL_SCHEME, self.spec.id, images)
            .with_request_id(Some(ids.join(",")))
            .with_cost(pricing::estimate(self.spec.id, &uses))
            .with_metadata(metadata))
    }
}

/// Expand's sides, in the order BFL lists them.
const SIDES: [&str; 4] = ["top", "bottom", "left", "right"];

/// One finished task.
struct Outcome {
    submitted: crate::client::Submitted,
    polls: u32,
    seed: Option<u64>,
    data: ImageData,
}

impl BflProvider {
    /// Submits one task, waits for it and downloads its result.
    async fn run_task(
        &self,
        body: Map<String, Value>,
        index: usize,
        polling: Polling,
        format: ResponseFormat,
        progress: Option<&ProgressSink>,
    ) -> Result<Outcome> {
        let submitted = self.client.submit(self.spec.id, &body).await?;
        report(
            progress,
            Progress::Submitted {
                request_id: Some(submitted.id.clone()),
            },
        );
        let finished = self.client.wait(&submitted, polling).await?;
        report(progress, Progress::Downloading { images: 1 });
        let what = format!("result {index}");
        let bytes = self
            .client
            .download(&finished.sample, &what, self.settings.max_output_bytes, &submitted.id)
            .await?;
        let kind = sniff_format(&bytes, &what).map_err(|e| {
            invalid_response(
                format!("{what} of task {} is not an image file: {e}", submitted.id),
                Some(&submitted.id),
            )
        })?;
        let data = match (format, &self.settings.save_dir) {
            (ResponseFormat::Base64, _) => ImageData::Base64(BASE64.encode(&bytes)),
            (ResponseFormat::Url, Some(dir)) => {
                let path = dir.join(format!("{}.{}", submitted.id, kind.extension()));
                msgflux_core::write_atomic(&path, &bytes)?;
                ImageData::Url(file_url(&path)?)
            }
            (ResponseFormat::Url, None) => {
                ImageData::Url(format!("data:{};base64,{}", kind.mime(), BASE64.encode(&bytes)))
            }
        };
        Ok(Outcome {
            polls: finished.polls,
            seed: finished.seed,
            submitted,
            data,
        })
    }

    /// The model's JSON body (without the seed), and the input pixels it carries.
    fn body(&self, request: &LoadedRequest) -> Result<(Map<String, Value>, u64)> {
        let mut body = Map::new();
        let pixels = |image: &LoadedImage| u64::from(image.width) * u64::from(image.height);
        let mut input_pixels: u64 = request.images.iter().map(pixels).sum();
        if !request.prompt.is_empty() || matches!(self.spec.family, Family::Kontext | Family::Flux2) {
            body.insert("prompt".into(), json!(request.prompt));
        }
        match self.spec.family {
            Family::Kontext | Family::Flux2 => {
                for (i, image) in request.images.iter().enumerate() {
                    let name = if i == 0 {
                        "input_image".to_string()
                    } else {
                        format!("input_image_{}", i + 1)
                    };
                    body.insert(name, json!(BASE64.encode(&image.bytes)));
                }
                if let Some(OutputSize::Exact(size)) = request.size {
                    body.insert("width".into(), json!(size.width));
                    body.insert("height".into(), json!(size.height));
                }
            }
            Family::Fill => {
                let image = first_image(request)?;
                body.insert("image".into(), json!(BASE64.encode(&image.bytes)));
                if let Some(mask) = &request.mask {
                    let converted = msgflux_image::convert_mask(
                        &mask.bytes,
                        MaskConvention::TransparentIsEdit,
                        MaskConvention::WhiteIsEdit,
                    )?;
                    body.insert("mask".into(), json!(BASE64.encode(converted)));
                }
            }
            Family::Expand => {
                let image = first_image(request)?;
                match &request.mask {
                    Some(mask) => {
                        let frame = border(mask).map_err(|rule| Error::invalid("mask", rule))?;
                        let cropped = crop(image, &frame)?;
                        input_pixels = u64::from(frame.width) * u64::from(frame.height);
                        body.insert("image".into(), json!(BASE64.encode(cropped)));
                        for (side, value) in SIDES.iter().zip([frame.top, frame.bottom, frame.left, frame.right]) {
                            body.insert((*side).into(), json!(value));
                        }
                    }
                    None => {
                        body.insert("image".into(), json!(BASE64.encode(&image.bytes)));
                    }
                }
            }
        }
        for (name, value) in &request.options {
            body.insert(name.clone(), option_json(value));
        }
        Ok((body, input_pixels))
    }

    /// The pixels of one result, as far as the request tells.
    fn output_pixels(&self, request: &LoadedRequest, body: &Map<String, Value>) -> u64 {
        if let Some(OutputSize::Exact(size)) = request.size {
            return u64::from(size.width) * u64::from(size.height);
        }
        let Some(first) = request.images.first() else { return 0 };
        let side = |name: &str| body.get(name).and_then(Value::as_u64).unwrap_or(0);
        match self.spec.family {
            Family::Expand if request.mask.is_none() => {
                (u64::from(first.width) + side("left") + side("right"))
                    * (u64::from(first.height) + side("top") + side("bottom"))
            }
            _ => u64::from(first.width) * u64::from(first.height),
        }
    }
}

fn first_image(request: &LoadedRequest) -> Result<&LoadedImage> {
    request
        .images
        .first()
        .ok_or_else(|| Error::invalid("image", "at least one input image is required"))
}

fn option_json(value: &OptionValue) -> Value {
    match value {
        OptionValue::Bool(v) => json!(v),
        OptionValue::Integer(v) => json!(v),
        OptionValue::Number(v) => json!(v),
        OptionValue::Text(v) => json!(v),
    }
}

fn expand_sides(body: &Map<String, Value>) -> Option<Value> {
    let sides: Map<String, Value> = SIDES
        .iter()
        .filter_map(|s| body.get(*s).map(|v| ((*s).to_string(), v.clone())))
        .collect();
    (!sides.is_empty()).then_some(Value::Object(sides))
}

/// Checks `W:H` against Kontext's range (21:9 to 9:21).
fn aspect_ratio(value: &OptionValue) -> std::result::Result<(), String> {
    let text = value.as_str().unwrap_or_default();
    let parsed = text
        .split_once(':')
        .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)))
        .filter(|(w, h)| *w > 0 && *h > 0);
    let Some((w, h)) = parsed else {
        return Err(format!("`{text}` is not W:H such as 16:9"));
    };
    let ratio = f64::from(w) / f64::from(h);
    if !(9.0 / 21.0 - 1e-9..=21.0 / 9.0 + 1e-9).contains(&ratio) {
        return Err(format!("{w}:{h} is outside the range Kontext takes, 21:9 to 9:21"));
    }
    Ok(())
}

/// The kept rectangle of an Expand mask and the border around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frame {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    top: u32,
    bottom: u32,
    left: u32,
    right: u32,
}

/// Reads an Expand mask (alpha 0 = new area): its opaque pixels must be
/// one rectangle, and its transparent ones the border around it.
fn border(mask: &LoadedImage) -> std::result::Result<Frame, String> {
    let rgba = mask.decode().map_err(|e| e.to_string())?.to_rgba8();
    let (w, h) = rgba.dimensions();
    let keep = |x: u32, y: u32| rgba.get_pixel(x, y)[3] >= 128;
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, _) in rgba.enumerate_pixels() {
        if keep(x, y) {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
        }
    }
    if x0 == u32::MAX {
        return Err("the mask marks the whole image as new area; Expand needs the kept image (opaque) inside a transparent border".into());
    }
    if (x0..x1).any(|x| (y0..y1).any(|y| !keep(x, y))) {
        return Err("Expand takes a mask whose kept (opaque) pixels form one rectangle with the new area (transparent) around it; this mask marks other pixels too".into());
    }
    let frame = Frame {
        x: x0,
        y: y0,
        width: x1 - x0,
        height: y1 - y0,
        top: y0,
        bottom: h - y1,
        left: x0,
        right: w - x1,
    };
    if [frame.top, frame.bottom, frame.left, frame.right] == [0; 4] {
        return Err("the mask marks nothing to add: its transparent border is empty".into());
    }
    if [frame.top, frame.bottom, frame.left, frame.right]
        .iter()
        .any(|s| i64::from(*s) > EXPAND_MAX_SIDE)
    {
        return Err(format!("Expand adds at most {EXPAND_MAX_SIDE} pixels on a side"));
    }
    Ok(frame)
}

/// The kept rectangle of the image, as PNG.
fn crop(image: &LoadedImage, frame: &Frame) -> Result<Vec<u8>> {
    let decoded = image.decode()?;
    let part = decoded.crop_imm(frame.x, frame.y, frame.width, frame.height);
    let mut png = Vec::new();
    part.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| Error::decode("image", e))?;
    Ok(png)
}

fn file_url(path: &Path) -> Result<String> {
    let absolute =
        std::path::absolute(path).map_err(|e| Error::config(format!("cannot resolve {}: {e}", path.display())))?;
    url::Url::from_file_path(&absolute)
        .map(String::from)
        .map_err(|()| Error::config(format!("{} cannot be a file:// URL", absolute.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, Rgba, RgbaImage};

    fn png(img: RgbaImage) -> LoadedImage {
        let mut bytes = Vec::new();
        DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .expect("png");
        LoadedImage::from_bytes(bytes, None, "mask").expect("loads")
    }

    #[test]
    fn a_border_mask_becomes_pixel_counts() {
        let mask = png(RgbaImage::from_fn(20, 10, |x, y| {
            let keep = (3..15).contains(&x) && (2..10).contains(&y);
            Rgba([0, 0, 0, if keep { 255 } else { 0 }])
        }));
        let frame = border(&mask).expect("a border");
        assert_eq!((frame.top, frame.bottom, frame.left, frame.right), (2, 0, 3, 5));
        assert_eq!((frame.width, frame.height), (12, 8));
    }

    #[test]
    fn a_mask_with_a_hole_is_not_a_border() {
        let mask = png(RgbaImage::from_fn(20, 20, |x, y| {
            let hole = (8..12).contains(&x) && (8..12).contains(&y);
            Rgba([0, 0, 0, if hole { 0 } else { 255 }])
        }));
        assert!(border(&mask).expect_err("a hole").contains("one rectangle"));
    }

    #[test]
    fn kontext_aspect_ratios_stay_between_21_9_and_9_21() {
        assert!(aspect_ratio(&"21:9".into()).is_ok());
        assert!(aspect_ratio(&"9:21".into()).is_ok());
        assert!(aspect_ratio(&"32:9".into()).is_err());
        assert!(aspect_ratio(&"wide".into()).is_err());
    }
}
