//! [`FalProvider`]: resolves the app's adapter once, then turns each request
//! into one queue request and its output into an [`EditResponse`].

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use msgflux_core::kit::http::redact_url;
use msgflux_core::kit::{EditProvider, LoadedRequest, SecretString, Violations, async_trait, read_header};
use msgflux_core::{
    Capabilities, EditResponse, Error, GeneratedImage, ImageData, ImageFormat, Progress, ProviderError, ResponseFormat,
    Result,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::builder::{FalBuilder, Settings};
use crate::client::{FalClient, Service, invalid_response};
use crate::files::input_values;
use crate::input::{InputValues, build_input};
use crate::models::{self, Adapter};
use crate::pricing;
use crate::queue::{self, Finished, Job};
use crate::registration::FAL_SCHEME;
use crate::schema::adapter_from_openapi;

/// Image edits through one fal app, over fal's queue.
///
/// Built-in adapters cover FLUX Kontext (pro and max), FLUX Fill pro,
/// Qwen-Image-Edit, Seedream 4 edit and Nano Banana (and Pro) edit; any
/// other app is mapped from its published OpenAPI schema, which
/// [`capabilities`](EditProvider::capabilities) reads once, on first use
/// (before any request is checked), and then keeps.
///
/// ```no_run
/// # async fn demo() -> msgflux_core::Result<()> {
/// use std::sync::Arc;
/// use msgflux_core::Model;
/// use msgflux_fal::FalProvider;
///
/// let provider = FalProvider::builder().build("fal-ai/flux-pro/v1/fill")?;
/// let model = Model::from_provider(Arc::new(provider));
/// let response = model.edit("a red brick chimney").image("house.png").mask("roof_mask.png").n(2).await?;
/// println!("{:?}", response.consume());
/// # Ok(()) }
/// ```
pub struct FalProvider {
    app: String,
    client: FalClient,
    settings: Settings,
    adapter: OnceCell<Adapter>,
}

impl fmt::Debug for FalProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FalProvider")
            .field("app", &self.app)
            .field("client", &self.client)
            .field("adapter", &self.adapter.get().map(|a| a.source.as_str()))
            .finish_non_exhaustive()
    }
}

impl fmt::Display for FalProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{FAL_SCHEME}/{}", self.app)
    }
}

/// One image of an app's output.
#[derive(Debug, Clone, Deserialize)]
struct OutputImage {
    url: String,
    #[serde(default)]
    width: Option<u32>,
    #[serde(default)]
    height: Option<u32>,
}

/// `owner/app[/path]`: at least two segments of letters, digits, `.`, `_` and `-`.
fn parse_app(model: &str) -> Result<String> {
    let app = model.trim().trim_matches('/');
    let segments: Vec<&str> = app.split('/').collect();
    let fine = segments.len() >= 2
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        });
    if fine {
        Ok(app.to_string())
    } else {
        Err(Error::config(format!(
            "`{model}` is not a fal endpoint id; write `owner/app[/path]`, for example fal-ai/flux-pro/kontext"
        )))
    }
}

impl FalProvider {
    pub(crate) fn new(
        model: &str,
        http: reqwest::Client,
        urls: (url::Url, url::Url, url::Url),
        key: SecretString,
        settings: Settings,
    ) -> Result<Self> {
        let app = parse_app(model)?;
        let client = FalClient::new(http, urls, key, settings.retry.clone(), settings.timeout);
        Ok(Self {
            app,
            client,
            settings,
            adapter: OnceCell::new(),
        })
    }

    /// A builder with the key and base URL read from the environment.
    ///
    /// ```
    /// let provider = msgflux_fal::FalProvider::builder()
    ///     .with_api_key("fal-example")
    ///     .build("fal-ai/nano-banana/edit")
    ///     .unwrap();
    /// assert_eq!(provider.app(), "fal-ai/nano-banana/edit");
    /// ```
    pub fn builder() -> FalBuilder {
        FalBuilder::from_env()
    }

    /// What an app with a built-in adapter accepts, without credentials or
    /// network. Other apps describe themselves in their OpenAPI schema, which
    /// only [`capabilities`](EditProvider::capabilities) reads.
    ///
    /// ```
    /// use msgflux_core::MaskConvention;
    /// let caps = msgflux_fal::FalProvider::describe("fal-ai/flux-pro/v1/fill").unwrap();
    /// assert_eq!(caps.mask_convention, MaskConvention::WhiteIsEdit);
    /// assert_eq!(*caps.n.end(), 4);
    /// assert!(msgflux_fal::FalProvider::describe("someone/their-app").is_err());
    /// ```
    pub fn describe(model: &str) -> Result<Capabilities> {
        let app = parse_app(model)?;
        models::builtin(&app).map(|a| a.capabilities).ok_or_else(|| {
            Error::config(format!(
                "fal/{app} has no built-in adapter: its capabilities come from its OpenAPI schema, read when the app is first used (Model::capabilities)"
            ))
        })
    }

    /// The endpoint id (`fal-ai/flux-pro/kontext`).
    pub fn app(&self) -> &str {
        &self.app
    }

    /// The app's adapter: built in, or read from its schema once.
    async fn adapter(&self) -> Result<&Adapter> {
        self.adapter
            .get_or_try_init(|| async {
                if let Some(adapter) = models::builtin(&self.app) {
                    return Ok(adapter);
                }
                let openapi = self.read_schema().await?;
                adapter_from_openapi(&self.app, &openapi, self.settings.mask_convention)
            })
            .await
    }

    /// The app's OpenAPI document from fal's Platform API.
    async fn read_schema(&self) -> Result<Value> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("endpoint_id", &self.app)
            .append_pair("expand", "openapi-3.0")
            .finish();
        let url = self.client.url(Service::Platform, &format!("models?{query}"));
        let (_, found) = self
            .client
            .get_json::<Value>(&url, "reading the app's OpenAPI schema")
            .await?;
        found
            .get("models")
            .and_then(Value::as_array)
            .and_then(|models| {
                models
                    .iter()
                    .find(|m| m.get("endpoint_id").and_then(Value::as_str) == Some(self.app.as_str()))
            })
            .and_then(|m| m.get("openapi"))
            .cloned()
            .ok_or_else(|| {
                Error::NotFound(Box::new(
                    ProviderError::new(
                        FAL_SCHEME,
                        format!(
                            "fal has no app `{}` (its model search found no such endpoint)",
                            self.app
                        ),
                    )
                    .with_code("unknown_app"),
                ))
            })
    }

    /// Every result: checked, downloaded within the call, as the requested format.
    async fn results(
        &self,
        request: &LoadedRequest,
        finished: &Finished,
    ) -> Result<(Vec<GeneratedImage>, Vec<(u32, u32)>, Vec<String>)> {
        let id = &finished.request_id;
        let with_id = |message: String| Error::InvalidResponse {
            provider: FAL_SCHEME.into(),
            message,
            request_id: Some(id.clone()),
        };
        let images: Vec<OutputImage> = finished
            .output
            .get("images")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| {
                with_id(format!(
                    "request {id} completed but its `images` are not image files: {e}"
                ))
            })?
            .ok_or_else(|| with_id(format!("request {id} completed without `images`")))?;
        if let Some(flags) = finished.output.get("has_nsfw_concepts").and_then(Value::as_array)
            && let Some(index) = flags.iter().position(|f| f.as_bool() == Some(true))
        {
            return Err(Error::ContentPolicy(Box::new(
                ProviderError::new(
                    FAL_SCHEME,
                    format!("fal's safety checker flagged result {index} of request {id} (has_nsfw_concepts); the request was billed"),
                )
                .with_code("has_nsfw_concepts")
                .with_request_id(id.clone()),
            )));
        }
        if images.len() < request.n as usize {
            return Err(with_id(format!(
                "request {id} was asked for {} image(s) and returned {}",
                request.n,
                images.len()
            )));
        }
        let seed = finished
            .output
            .get("seed")
            .and_then(Value::as_u64)
            .or(request.seed)
            .filter(|_| request.n == 1);
        let revised = finished
            .output
            .get("prompt")
            .and_then(Value::as_str)
            .filter(|p| *p != request.prompt)
            .map(str::to_string);
        let downloads = images
            .iter()
            .take(request.n as usize)
            .enumerate()
            .map(|(i, image)| async move {
                let what = format!("result {i} of request {id}");
                let bytes = self.fetch(&image.url, &what).await?;
                let format = ImageFormat::sniff(&bytes).ok_or_else(|| {
                    with_id(format!(
                        "{what} is not an image file (it starts with {})",
                        msgflux_core::kit::http::body_snippet(&bytes[..bytes.len().min(16)])
                    ))
                })?;
                let size = match (image.width, image.height) {
                    (Some(w), Some(h)) => (w, h),
                    _ => read_header(&bytes, format, &what).map(|h| (h.width, h.height))?,
                };
                let data = match request.response_format {
                    ResponseFormat::Base64 => ImageData::Bytes(bytes),
                    _ => ImageData::Url(image.url.clone()),
                };
                Ok::<_, Error>((data, size, redact_url(&image.url)))
            });
        let fetched = futures::future::try_join_all(downloads).await?;
        let mut results = Vec::with_capacity(fetched.len());
        let mut sizes = Vec::with_capacity(fetched.len());
        let mut urls = Vec::with_capacity(fetched.len());
        for (data, size, url) in fetched {
            results.push(
                GeneratedImage::new(data)
                    .with_seed(seed)
                    .with_revised_prompt(revised.clone()),
            );
            sizes.push(size);
            urls.push(url);
        }
        Ok((results, sizes, urls))
    }

    /// A result file's bytes: a data URI decoded, a URL downloaded.
    async fn fetch(&self, url: &str, what: &str) -> Result<Bytes> {
        match url.strip_prefix("data:") {
            Some(rest) => {
                let payload = rest.split_once(',').map(|(_, p)| p).unwrap_or_default();
                BASE64
                    .decode(payload.trim())
                    .map(Bytes::from)
                    .map_err(|e| invalid_response(format!("{what} is a data URI whose payload is not base64: {e}")))
            }
            None => self.client.download(url, what, self.settings.max_output_bytes).await,
        }
    }
}

#[async_trait]
impl EditProvider for FalProvider {
    fn name(&self) -> &str {
        FAL_SCHEME
    }

    fn model(&self) -> &str {
        &self.app
    }

    async fn capabilities(&self) -> Result<&Capabilities> {
        Ok(&self.adapter().await?.capabilities)
    }

    /// Builds the app's input with stand-ins for the files, so that every
    /// rule of the adapter (Seedream's smallest area and its 15 images in
    /// and out, required inputs of schema-mapped apps) is checked before
    /// any file is uploaded or any request submitted.
    fn check(&self, request: &LoadedRequest, violations: &mut Violations) -> Result<()> {
        let Some(adapter) = self.adapter.get() else {
            // The pipeline asks for the capabilities (which reads the adapter) before checking.
            return Err(Error::config("the app was checked before its capabilities were read"));
        };
        if let Err(err) = build_input(adapter, request, &InputValues::placeholders(request)) {
            violations.absorb(err)?;
        }
        Ok(())
    }

    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
        let deadline = Instant::now() + request.timeout.unwrap_or(self.settings.deadline);
        let adapter = self.adapter().await?;
        // `check` has built the input with stand-ins: files are uploaded only now.
        let values = input_values(
            &self.client,
            &request.images,
            request.mask.as_ref(),
            adapter.mask_convention(),
            &self.settings,
            request.progress.as_ref(),
        )
        .await?;
        let input = build_input(adapter, &request, &values)?;
        let finished = queue::run(
            self.client.clone(),
            self.settings.clone(),
            Job {
                app: self.app.clone(),
                input,
                deadline,
                progress: request.progress.clone(),
            },
        )
        .await?;
        // fal answers with file URLs: every result is fetched within the call.
        request.report(Progress::Downloading {
            images: request.n as usize,
        });
        let (images, sizes, urls) = self.results(&request, &finished).await?;
        let cost = pricing::estimate(&self.app, &sizes);
        let metadata = json!({
            "adapter": adapter.source.as_str(),
            "app": self.app,
            "request_id": finished.request_id,
            "polls": finished.polls,
            "queue_position": finished.first_queue_position,
            "inference_time": finished.inference_time,
            "result_urls": urls,
            "description": finished.output.get("description"),
        });
        Ok(EditResponse::new(FAL_SCHEME, self.app.clone(), images)
            .with_request_id(Some(finished.request_id.clone()))
            .with_cost(cost)
            .with_metadata(metadata))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_ids_need_an_owner_and_an_app() {
        assert_eq!(
            parse_app("fal-ai/flux-pro/kontext").expect("id"),
            "fal-ai/flux-pro/kontext"
        );
        assert_eq!(
            parse_app("/fal-ai/qwen-image-edit/").expect("id"),
            "fal-ai/qwen-image-edit"
        );
        for bad in ["flux", "fal-ai//x", "fal ai/x", "fal-ai/x?y=1"] {
            assert!(parse_app(bad).is_err(), "{bad}");
        }
    }
}
