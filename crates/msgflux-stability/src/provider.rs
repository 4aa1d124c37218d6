//! [`StabilityProvider`]: one edit service; the rules its table cannot
//! express; the request as the service's multipart form (mask converted to
//! white = edit); one generation per requested image, the asynchronous one
//! polled to completion; the JSON answers as images.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use msgflux_core::kit::{EditProvider, LoadedRequest, SecretString, Violations, async_trait, report};
use msgflux_core::{
    Capabilities, EditResponse, Error, GeneratedImage, ImageData, ImageFormat, MaskConvention, OptionValue, Progress,
    ProgressSink, ResponseFormat, Result,
};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use crate::builder::{Settings, StabilityBuilder};
use crate::client::{Answer, Field, StabilityClient};
use crate::error::{content_filtered, request_id};
use crate::models::{
    KNOWN_MODELS, MAX_PROMPT_CHARS, MAX_REQUEST_BYTES, MAX_SEED, MIN_PIXELS, MIN_SIDE, Service, reference_field,
};
use crate::pricing::estimate_cost;
use crate::registration::STABILITY_SCHEME;

/// Options sent as free text, each at most [`MAX_PROMPT_CHARS`] characters.
const TEXT_OPTIONS: &[&str] = &["negative_prompt", "search_prompt", "select_prompt", "foreground_prompt"];

/// Image edits through one Stability AI v2beta edit service.
///
/// Each requested image is one generation (one request, one charge); `n`
/// of them run at once, with seeds `seed`, `seed + 1`, ... when a seed is
/// given. Masks arrive in msgflux's convention (transparent = edit) and are
/// sent as the black-and-white image Stability reads (white = edit).
/// replace-background-and-relight is asynchronous: it is started, then
/// `GET /v2beta/results/{id}` is polled until the image is ready.
///
/// ```no_run
/// # async fn demo() -> msgflux_core::Result<()> {
/// use std::sync::Arc;
/// use msgflux_core::Model;
/// use msgflux_stability::StabilityProvider;
///
/// let provider = StabilityProvider::builder().build("inpaint")?;
/// let model = Model::from_provider(Arc::new(provider));
/// let response = model
///     .edit("a red brick chimney")
///     .image("house.png")
///     .mask("roof_mask.png")
///     .option("grow_mask", 10)
///     .await?;
/// println!("{:?}", response.consume());
/// # Ok(()) }
/// ```
pub struct StabilityProvider {
    service: Service,
    client: StabilityClient,
    settings: Settings,
}

impl fmt::Debug for StabilityProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StabilityProvider")
            .field("service", &self.service)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for StabilityProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{STABILITY_SCHEME}/{}", self.service.model())
    }
}

/// The JSON answer of a finished generation (`ImageJSONResponse`).
#[derive(Debug, Deserialize)]
struct ImageAnswer {
    image: String,
    finish_reason: Option<String>,
    seed: Option<f64>,
}

/// The answer that starts an asynchronous generation (`AsyncGenerationResponse`).
#[derive(Debug, Deserialize)]
struct Started {
    id: String,
}

/// One finished generation.
#[derive(Debug)]
struct Generated {
    bytes: Bytes,
    seed: Option<u64>,
    request_id: Option<String>,
}

impl StabilityProvider {
    pub(crate) fn new(
        service: Service,
        http: reqwest::Client,
        base_url: url::Url,
        key: SecretString,
        client_headers: HeaderMap,
        settings: Settings,
    ) -> Self {
        let client = StabilityClient::new(
            http,
            base_url,
            key,
            settings.retry.clone(),
            settings.timeout,
            client_headers,
        );
        Self {
            service,
            client,
            settings,
        }
    }

    /// A builder with the key and base URL read from the environment.
    ///
    /// ```
    /// let provider = msgflux_stability::StabilityProvider::builder()
    ///     .with_api_key("sk-example")
    ///     .build("erase")?;
    /// assert_eq!(provider.service(), msgflux_stability::Service::Erase);
    /// # Ok::<(), msgflux_core::Error>(())
    /// ```
    pub fn builder() -> StabilityBuilder {
        StabilityBuilder::from_env()
    }

    /// What a service's model accepts, without credentials or network.
    ///
    /// ```
    /// let caps = msgflux_stability::StabilityProvider::describe("outpaint")?;
    /// assert!(caps.option("left").is_some());
    /// assert!(msgflux_stability::StabilityProvider::describe("upscale").is_err());
    /// # Ok::<(), msgflux_core::Error>(())
    /// ```
    pub fn describe(model: &str) -> Result<Capabilities> {
        Ok(Self::service_of(model)?.capabilities().clone())
    }

    /// The service a model id names, or an error listing the known ones.
    pub(crate) fn service_of(model: &str) -> Result<Service> {
        Service::from_model(model).ok_or_else(|| {
            Error::invalid(
                "model",
                format!(
                    "`{model}` is not a Stability AI edit service; known: {}",
                    KNOWN_MODELS.join(", ")
                ),
            )
        })
    }

    /// The service this provider edits with.
    pub fn service(&self) -> Service {
        self.service
    }

    /// The form of one generation, without its seed.
    fn fields(&self, request: &LoadedRequest) -> Result<Vec<Field>> {
        let service = self.service;
        let mut fields = Vec::new();
        let image = &request.images[0];
        fields.push(Field::File {
            name: service.image_field(),
            filename: format!("image.{}", image.format.extension()),
            mime: image.format.mime(),
            bytes: image.bytes.clone(),
        });
        for (role, reference) in reference_roles(request).iter().zip(&request.images[1..]) {
            let name =
                reference_field(role).ok_or_else(|| Error::config(format!("no form field for reference `{role}`")))?;
            fields.push(Field::File {
                name,
                filename: format!("{name}.{}", reference.format.extension()),
                mime: reference.format.mime(),
                bytes: reference.bytes.clone(),
            });
        }
        if let Some(mask) = &request.mask {
            // Ours: transparent = edit. Stability's: white = edit, black = keep.
            let converted = msgflux_image::convert_mask(
                &mask.bytes,
                MaskConvention::TransparentIsEdit,
                MaskConvention::WhiteIsEdit,
            )?;
            fields.push(Field::File {
                name: "mask",
                filename: "mask.png".into(),
                mime: ImageFormat::Png.mime(),
                bytes: converted.into(),
            });
        }
        if service.sends_prompt() && !request.prompt.trim().is_empty() {
            fields.push(Field::Text(service.prompt_field(), request.prompt.clone()));
        }
        let caps = service.capabilities();
        // In the table's order, so the form is the same for the same request.
        for spec in &caps.options {
            let Some(value) = request.get_option(&spec.name).filter(|_| spec.name != "references") else {
                // `references` says which field each reference image goes in; it is no field itself.
                continue;
            };
            let name = KNOWN_FIELDS
                .iter()
                .copied()
                .find(|n| *n == spec.name)
                .ok_or_else(|| Error::config(format!("option {} has no form field", spec.name)))?;
            fields.push(Field::Text(name, option_text(value)));
        }
        Ok(fields)
    }

    /// Runs one generation to its image.
    async fn generate(
        &self,
        mut fields: Vec<Field>,
        seed: Option<u64>,
        deadline: Instant,
        progress: Option<&ProgressSink>,
    ) -> Result<Generated> {
        if let Some(seed) = seed {
            fields.push(Field::Text("seed", seed.to_string()));
        }
        let path = self.service.path();
        let answer = self.client.post_form(&path, &fields).await?;
        let answer = if self.service.is_async() {
            let started: Started = decode_json(&answer, "the start of the generation")?;
            tracing::debug!(id = %started.id, "stability generation started");
            report(
                progress,
                Progress::Submitted {
                    request_id: Some(started.id.clone()),
                },
            );
            report(progress, Progress::Running);
            self.poll(&started.id, deadline).await?
        } else {
            answer
        };
        image_of(&answer)
    }

    /// Polls `GET /v2beta/results/{id}` until it is no longer `202 in-progress`.
    async fn poll(&self, id: &str, deadline: Instant) -> Result<Answer> {
        let started = Instant::now();
        let mut pause = self.settings.poll_initial;
        let mut polls: u32 = 0;
        let mut last_error: Option<Error> = None;
        loop {
            let now = Instant::now();
            if now >= deadline {
                let mut message = format!(
                    "waiting for generation {id} ({polls} polls over {:.1} s); it may still finish and be billed",
                    started.elapsed().as_secs_f64()
                );
                if let Some(err) = last_error {
                    message.push_str(&format!("; the last poll failed: {err}"));
                }
                return Err(Error::Timeout {
                    provider: STABILITY_SCHEME.into(),
                    after: deadline.saturating_duration_since(started),
                    maybe_billed: true,
                    message,
                });
            }
            tokio::time::sleep(pause.min(deadline.saturating_duration_since(now))).await;
            polls += 1;
            match self.client.get_result(id).await {
                Ok(answer) if answer.status == 202 => {
                    tracing::debug!(id, polls, "stability generation in progress");
                }
                Ok(answer) => return Ok(answer),
                // A poll the network or the rate limit spoiled (after its own retries) does not
                // end the generation; an error answer about the generation does.
                Err(err @ (Error::Network { .. } | Error::Timeout { .. } | Error::RateLimited(_))) => {
                    tracing::warn!(id, error = %err, "poll failed; polling again");
                    last_error = Some(err);
                }
                Err(err) => return Err(err),
            }
            pause = pause.mul_f64(1.5).min(self.settings.poll_max);
        }
    }
}

/// Every option's multipart field name, as the document spells it.
const KNOWN_FIELDS: &[&str] = &[
    "negative_prompt",
    "grow_mask",
    "style_preset",
    "output_format",
    "left",
    "right",
    "up",
    "down",
    "creativity",
    "search_prompt",
    "select_prompt",
    "foreground_prompt",
    "preserve_original_subject",
    "original_background_depth",
    "keep_original_background",
    "light_source_direction",
    "light_source_strength",
];

/// The roles of relight's images after the subject: option `references`,
/// or by count (one = background, two = background then light).
fn reference_roles(request: &LoadedRequest) -> Vec<&str> {
    let given = request.images.len().saturating_sub(1);
    match request.get_option("references").and_then(OptionValue::as_str) {
        Some(roles) => roles.split(',').map(str::trim).collect(),
        None => ["background", "light"].into_iter().take(given).collect(),
    }
}

/// Relight's rules on its references and light: as many images as roles,
/// and a light strength only with a light (a direction or a reference).
fn check_references(request: &LoadedRequest, violations: &mut Violations) {
    let roles = reference_roles(request);
    let given = request.images.len().saturating_sub(1);
    if roles.len() != given {
        violations.push(
            "option references",
            format!(
                "names {} reference image(s) ({}) but {given} image(s) follow the subject",
                roles.len(),
                roles.join(",")
            ),
        );
    }
    let has = |role: &str| roles.iter().take(given).any(|r| *r == role);
    if request.get_option("light_source_strength").is_some()
        && request.get_option("light_source_direction").is_none()
        && !has("light")
    {
        violations.push(
            "option light_source_strength",
            "needs option light_source_direction or a light reference image (where the light comes from)",
        );
    }
}

/// A typed option as the text a form field carries (`true`/`false` for flags, as the document's enum).
fn option_text(value: &OptionValue) -> String {
    match value {
        OptionValue::Bool(b) => b.to_string(),
        OptionValue::Integer(i) => i.to_string(),
        OptionValue::Number(n) => n.to_string(),
        other => other.as_str().map(str::to_string).unwrap_or_else(|| other.to_string()),
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(answer: &Answer, what: &str) -> Result<T> {
    serde_json::from_slice(&answer.body).map_err(|e| Error::InvalidResponse {
        provider: STABILITY_SCHEME.into(),
        message: format!(
            "{what} is not the expected JSON ({e}); the generation may have been billed. Body starts: {}",
            msgflux_core::kit::http::body_snippet(&answer.body)
        ),
        request_id: request_id(&answer.headers),
    })
}

/// The image of a finished generation: JSON (the `accept` this crate
/// sends), or bytes with `finish-reason` and `seed` headers from a server
/// that answers `image/*` anyway. `CONTENT_FILTERED` is a refusal.
fn image_of(answer: &Answer) -> Result<Generated> {
    let id = request_id(&answer.headers);
    let content_type = answer
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (bytes, finish_reason, seed) = if content_type.starts_with("image/") {
        let header = |name: &str| {
            answer
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let seed = header("seed").and_then(|s| s.parse::<u64>().ok());
        (answer.body.clone(), header("finish-reason"), seed)
    } else {
        let parsed: ImageAnswer = decode_json(answer, "the edit answer")?;
        let bytes = BASE64.decode(parsed.image.trim()).map_err(|e| Error::InvalidResponse {
            provider: STABILITY_SCHEME.into(),
            message: format!("the edit answer's image is not base64 ({e}); the generation may have been billed"),
            request_id: id.clone(),
        })?;
        let seed = parsed.seed.filter(|s| s.is_finite() && *s >= 0.0).map(|s| s as u64);
        (Bytes::from(bytes), parsed.finish_reason, seed)
    };
    if finish_reason.as_deref() == Some("CONTENT_FILTERED") {
        return Err(content_filtered(id, seed));
    }
    Ok(Generated {
        bytes,
        seed,
        request_id: id,
    })
}

/// Base64 as asked, or a `data:` URL when URLs are asked for (Stability sends no URLs).
fn deliver(bytes: &[u8], format: ResponseFormat) -> ImageData {
    let b64 = BASE64.encode(bytes);
    match format {
        ResponseFormat::Url => {
            let mime = ImageFormat::sniff(bytes).map_or("image/png", ImageFormat::mime);
            ImageData::Url(format!("data:{mime};base64,{b64}"))
        }
        _ => ImageData::Base64(b64),
    }
}

#[async_trait]
impl EditProvider for StabilityProvider {
    fn name(&self) -> &str {
        STABILITY_SCHEME
    }

    fn model(&self) -> &str {
        self.service.model()
    }

    async fn capabilities(&self) -> Result<&Capabilities> {
        Ok(self.service.capabilities())
    }

    /// The rules the table cannot express, all recorded: the input's sides,
    /// pixel count and aspect ratio; the option a service needs; outpaint's
    /// directions; a light strength without a light; the seed range; text
    /// lengths; the 10 MiB request limit.
    fn check(&self, request: &LoadedRequest, violations: &mut Violations) -> Result<()> {
        let service = self.service;
        let field = service.image_field();
        if let Some(image) = request.images.first() {
            let (w, h) = (image.width, image.height);
            let pixels = u64::from(w) * u64::from(h);
            if w < MIN_SIDE || h < MIN_SIDE {
                violations.push(
                    "image",
                    format!("is {w}x{h}; Stability's {field} needs every side at least {MIN_SIDE} pixels"),
                );
            }
            let max = service.max_pixels();
            if !(MIN_PIXELS..=max).contains(&pixels) {
                violations.push(
                    "image",
                    format!(
                        "is {w}x{h} ({pixels} pixels); {} takes {MIN_PIXELS} to {max} pixels",
                        service.model()
                    ),
                );
            }
            let ratio = f64::from(w) / f64::from(h.max(1));
            if service.limits_aspect_ratio() && !(1.0 / 2.5..=2.5).contains(&ratio) {
                violations.push(
                    "image",
                    format!(
                        "is {w}x{h}; {} needs an aspect ratio between 1:2.5 and 2.5:1",
                        service.model()
                    ),
                );
            }
            let files = request.images.iter().chain(&request.mask);
            let total: u64 = files.map(|file| file.bytes.len() as u64).sum();
            if total > MAX_REQUEST_BYTES {
                violations.push(
                    "image",
                    format!("the input files are {total} bytes together; Stability takes requests up to 10 MiB"),
                );
            }
        }
        if let Some(name) = service.required_option()
            && request
                .get_option(name)
                .and_then(OptionValue::as_str)
                .is_none_or(|v| v.trim().is_empty())
        {
            violations.push(
                format!("option {name}"),
                format!("{} needs it: the text that names what to change", service.model()),
            );
        }
        for name in TEXT_OPTIONS {
            if let Some(text) = request.get_option(name).and_then(OptionValue::as_str)
                && text.chars().count() > MAX_PROMPT_CHARS
            {
                violations.push(
                    format!("option {name}"),
                    format!("is longer than {MAX_PROMPT_CHARS} characters"),
                );
            }
        }
        if service == Service::Outpaint {
            let grows = ["left", "right", "up", "down"]
                .iter()
                .any(|side| request.get_option(side).and_then(OptionValue::as_i64).unwrap_or(0) > 0);
            if !grows {
                violations.push(
                    "option left",
                    "outpaint needs at least one of left, right, up or down above zero (pixels to add)",
                );
            }
            if request.keep_unmasked == Some(true) {
                violations.push(
                    "keep_unmasked",
                    "outpaint grows the canvas: pasting the original back would shrink the result to the input",
                );
            }
        }
        if service == Service::ReplaceBackgroundAndRelight {
            check_references(request, violations);
        }
        if let Some(seed) = request.seed {
            let last = seed.saturating_add(u64::from(request.n.saturating_sub(1)));
            if last > MAX_SEED {
                violations.push(
                    "seed",
                    format!(
                        "must be at most {MAX_SEED} (with n = {}, at most {})",
                        request.n,
                        MAX_SEED - u64::from(request.n.saturating_sub(1))
                    ),
                );
            }
        }
        Ok(())
    }

    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
        let deadline = Instant::now() + request.timeout.unwrap_or(self.settings.deadline);
        let fields = self.fields(&request)?;
        let seeds: Vec<Option<u64>> = (0..request.n).map(|i| request.seed.map(|s| s + u64::from(i))).collect();
        let generated = futures::future::try_join_all(
            seeds
                .iter()
                .map(|seed| self.generate(fields.clone(), *seed, deadline, request.progress.as_ref())),
        )
        .await?;
        let ids: Vec<String> = generated.iter().filter_map(|g| g.request_id.clone()).collect();
        let images = generated
            .iter()
            .map(|g| GeneratedImage::new(deliver(&g.bytes, request.response_format)).with_seed(g.seed))
            .collect::<Vec<_>>();
        let metadata = json!({
            "service": self.service.model(),
            "endpoint": self.service.path(),
            "asynchronous": self.service.is_async(),
            "seeds": generated.iter().map(|g| g.seed).collect::<Vec<_>>(),
            "credits": self.service.credits() * images.len() as f64,
        });
        Ok(EditResponse::new(STABILITY_SCHEME, self.service.model(), images)
            .with_request_id((!ids.is_empty()).then(|| ids.join(",")))
            .with_cost(Some(estimate_cost(self.service, generated.len())))
            .with_metadata(metadata))
    }
}
