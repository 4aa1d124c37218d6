//! [`GoogleProvider`]: the `EditProvider` for Gemini's image models: the
//! model's rules, the request as parts (inline or uploaded), `n` parallel
//! calls each billed, and the answers as one response.

use std::fmt;
use std::time::Duration;

use futures::future::{join_all, try_join_all};
use msgflux_core::kit::{EditProvider, LoadedRequest, Violations, async_trait, image_param};
use msgflux_core::{Capabilities, EditResponse, Progress, Result, RetryPolicy};
use serde_json::{Map, Value};

use crate::client::GoogleClient;
use crate::config::MaskHint;
use crate::models::ModelSpec;
use crate::request::{Generation, ImagePart, body, hint_image};
use crate::response::{Answer, parse_answer};

/// Image edits through Google's Gemini image models (`google/<model>`), on
/// the Gemini API or Vertex AI.
///
/// Build one with [`GoogleBuilder`](crate::GoogleBuilder), or let the
/// registry do it (`Model::image_text_to_image("google/gemini-2.5-flash-image")`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> msgflux_core::Result<()> {
/// use std::sync::Arc;
/// use msgflux_core::{MaskSupport, Model};
/// use msgflux_google::GoogleBuilder;
///
/// let provider = GoogleBuilder::new().with_api_key("AIza-test").build("gemini-3-pro-image-preview")?;
/// let model = Model::from_provider(Arc::new(provider));
/// assert_eq!(model.id(), "google/gemini-3-pro-image-preview");
/// let caps = model.capabilities().await?;
/// assert_eq!(caps.max_images, 14);
/// assert_eq!(caps.mask, MaskSupport::Unsupported); // the original is kept outside a mask
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct GoogleProvider {
    client: GoogleClient,
    model: String,
    spec: ModelSpec,
    inline_limit: u64,
}

impl fmt::Display for GoogleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} at {}",
            crate::GOOGLE_SCHEME,
            self.model,
            self.client.describe()
        )
    }
}

impl GoogleProvider {
    pub(crate) fn new(client: GoogleClient, model: String, spec: ModelSpec, inline_limit: u64) -> Self {
        Self {
            client,
            model,
            spec,
            inline_limit,
        }
    }

    /// The model's rules.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// How long the provider waits for an answer.
    pub fn read_timeout(&self) -> Duration {
        self.client.read_timeout()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        self.client.retry()
    }

    /// Input images above this many bytes in total are uploaded (Gemini API).
    pub fn inline_limit(&self) -> u64 {
        self.inline_limit
    }

    /// The input images as parts: inline, or all uploaded through the Files
    /// API when together they pass the inline limit (once per edit, shared
    /// by its `n` calls).
    async fn image_parts(&self, request: &LoadedRequest) -> Result<(Vec<ImagePart>, Vec<String>)> {
        let total: u64 = request.images.iter().map(|i| i.bytes.len() as u64).sum();
        if self.client.is_vertex() || total <= self.inline_limit {
            let parts = request
                .images
                .iter()
                .map(|i| ImagePart::Inline {
                    mime: i.format.mime(),
                    bytes: i.bytes.clone(),
                })
                .collect();
            return Ok((parts, Vec::new()));
        }
        tracing::debug!(
            total,
            limit = self.inline_limit,
            "uploading the inputs through the Files API"
        );
        let count = request.images.len();
        let uploads = request.images.iter().enumerate().map(|(index, i)| {
            request.report(Progress::Uploading {
                input: image_param(index, count),
                bytes: i.bytes.len() as u64,
            });
            self.client.upload(i.bytes.clone(), i.format.mime(), &i.filename)
        });
        let files = try_join_all(uploads).await?;
        let names = files.iter().map(|f| f.name.clone()).collect();
        Ok((files.into_iter().map(ImagePart::Uploaded).collect(), names))
    }
}

#[async_trait]
impl EditProvider for GoogleProvider {
    fn name(&self) -> &str {
        crate::GOOGLE_SCHEME
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn capabilities(&self) -> Result<&Capabilities> {
        Ok(self.spec.capabilities())
    }

    fn check(&self, request: &LoadedRequest, violations: &mut Violations) -> Result<()> {
        self.spec.check_request(request, self.client.is_vertex(), violations);
        Ok(())
    }

    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
        let hint = match (self.spec.mask_hint(), &request.mask, request.images.first()) {
            (MaskHint::None, _, _) | (_, None, _) | (_, _, None) => None,
            (kind, Some(mask), Some(first)) => {
                let (first, mask) = (first.clone(), mask.clone());
                let bytes = tokio::task::spawn_blocking(move || hint_image(&first, &mask, kind))
                    .await
                    .map_err(|e| {
                        msgflux_core::Error::decode("mask", format!("the mask hint stopped unexpectedly: {e}"))
                    })??;
                Some((
                    kind,
                    ImagePart::Inline {
                        mime: "image/png",
                        bytes,
                    },
                ))
            }
        };
        let (images, uploaded) = self.image_parts(&request).await?;
        let (aspect_ratio, image_size) = self.spec.image_config(&request);
        let bodies: Vec<Value> = (0..request.n)
            .map(|i| {
                let generation = Generation {
                    aspect_ratio: aspect_ratio.clone(),
                    image_size: image_size.clone(),
                    // One seed per variation, or n equal images.
                    seed: request.seed.map(|s| (s as i64).wrapping_add(i64::from(i))),
                };
                body(
                    &request.prompt,
                    &images,
                    hint.as_ref().map(|(k, p)| (*k, p)),
                    &generation,
                )
            })
            .collect();
        // One image per call: n calls at once, each billed.
        let calls = bodies.iter().map(|b| async move {
            let (id, answer) = self.client.generate(&self.model, b).await?;
            parse_answer(crate::GOOGLE_SCHEME, id, &answer)
        });
        let results = join_all(calls).await;
        let done = results.iter().filter(|r| r.is_ok()).count();
        let mut answers = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(answer) => answers.push(answer),
                Err(err) => {
                    if done > 0 {
                        tracing::warn!(
                            model = %self.model,
                            done,
                            n = request.n,
                            "one of the parallel calls failed; the {done} that succeeded were billed"
                        );
                    }
                    return Err(err);
                }
            }
        }
        let mut notes = Map::new();
        if !uploaded.is_empty() {
            notes.insert("uploaded".into(), Value::from(uploaded));
        }
        if let Some((kind, _)) = &hint {
            notes.insert("mask".into(), Value::from(format!("sent as a {kind} hint image")));
        }
        Ok(Answer {
            model: self.model.clone(),
            response_format: request.response_format,
            notes,
        }
        .finish(answers))
    }
}
