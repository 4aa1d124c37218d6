//! [`ReplicateProvider`]: resolves the model once, then turns each request
//! into one or more predictions and their outputs into an [`EditResponse`].

use std::fmt;

use msgflux_core::kit::{EditProvider, LoadedRequest, SecretString, Violations, async_trait};
use msgflux_core::{Capabilities, EditResponse, GeneratedImage, Progress, ResponseFormat, Result};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::builder::{ReplicateBuilder, Settings};
use crate::client::ReplicateClient;
use crate::files::input_values;
use crate::input::{InputValues, build_input, output_size, plan_predictions};
use crate::lifecycle::{Prediction, PredictionJob, run_prediction};
use crate::models;
use crate::output::{image_data, output_files};
use crate::pricing;
use crate::registration::REPLICATE_SCHEME;
use crate::routing::{ModelRef, Resolved, Route, resolve};

/// Image edits through one Replicate model.
///
/// Built-in adapters cover stable-diffusion-inpainting, flux-fill-pro,
/// flux-fill-dev, flux-kontext-pro and nano-banana; any other model is
/// mapped from its published input schema, which
/// [`capabilities`](EditProvider::capabilities) reads once, on first use
/// (before any request is checked), and then keeps.
///
/// ```no_run
/// # async fn demo() -> msgflux_core::Result<()> {
/// use std::sync::Arc;
/// use msgflux_core::Model;
/// use msgflux_replicate::ReplicateProvider;
///
/// let provider = ReplicateProvider::builder().build("stability-ai/stable-diffusion-inpainting")?;
/// let model = Model::from_provider(Arc::new(provider));
/// let response = model.edit("a red brick chimney").image("house.png").mask("roof_mask.png").n(2).await?;
/// println!("{:?}", response.consume());
/// # Ok(()) }
/// ```
pub struct ReplicateProvider {
    model_id: String,
    reference: ModelRef,
    client: ReplicateClient,
    settings: Settings,
    resolved: OnceCell<Resolved>,
}

impl fmt::Debug for ReplicateProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplicateProvider")
            .field("model", &self.model_id)
            .field("client", &self.client)
            .field("route", &self.resolved.get().map(|r| &r.route))
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ReplicateProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{REPLICATE_SCHEME}/{}", self.model_id)
    }
}

impl ReplicateProvider {
    pub(crate) fn new(
        model: &str,
        http: reqwest::Client,
        base_url: url::Url,
        token: SecretString,
        settings: Settings,
    ) -> Result<Self> {
        let reference = ModelRef::parse(model)?;
        let client = ReplicateClient::new(http, base_url, token, settings.retry.clone(), settings.timeout);
        Ok(Self {
            model_id: model.trim().to_string(),
            reference,
            client,
            settings,
            resolved: OnceCell::new(),
        })
    }

    /// A builder with the token and base URL read from the environment.
    ///
    /// ```
    /// let provider = msgflux_replicate::ReplicateProvider::builder()
    ///     .with_api_token("r8_example")
    ///     .build("google/nano-banana")
    ///     .unwrap();
    /// assert_eq!(provider.model_id(), "google/nano-banana");
    /// ```
    pub fn builder() -> ReplicateBuilder {
        ReplicateBuilder::from_env()
    }

    /// What a model with a built-in adapter accepts, without credentials or
    /// network. Other models describe themselves in their input schema, which
    /// only [`capabilities`](EditProvider::capabilities) reads.
    ///
    /// ```
    /// use msgflux_core::MaskConvention;
    /// let caps = msgflux_replicate::ReplicateProvider::describe("stability-ai/stable-diffusion-inpainting").unwrap();
    /// assert_eq!(caps.mask_convention, MaskConvention::WhiteIsEdit);
    /// assert_eq!(*caps.n.end(), 10);
    /// assert!(msgflux_replicate::ReplicateProvider::describe("someone/their-model").is_err());
    /// ```
    pub fn describe(model: &str) -> Result<Capabilities> {
        let reference = ModelRef::parse(model)?;
        reference
            .model_name()
            .as_deref()
            .and_then(models::builtin)
            .map(|adapter| adapter.capabilities)
            .ok_or_else(|| {
                msgflux_core::Error::config(format!(
                    "{model} has no built-in adapter: its capabilities come from its input schema, read when the model is first used (Model::capabilities)"
                ))
            })
    }

    /// The model id as given (`owner/name`, `owner/name:version` or `deployments/owner/name`).
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// Reads what the API must tell about the model (its version, its
    /// schema), once; later calls reuse the answer.
    async fn resolve(&self) -> Result<&Resolved> {
        self.resolved
            .get_or_try_init(|| resolve(&self.client, &self.reference, &self.settings))
            .await
    }
}

#[async_trait]
impl EditProvider for ReplicateProvider {
    fn name(&self) -> &str {
        REPLICATE_SCHEME
    }

    fn model(&self) -> &str {
        &self.model_id
    }

    async fn capabilities(&self) -> Result<&Capabilities> {
        Ok(&self.resolve().await?.adapter.capabilities)
    }

    /// Builds every prediction's input with stand-ins for the files, so
    /// that each rule of the model's adapter (seed range, required inputs,
    /// options that clash with request fields or leave the schema's list) is
    /// checked before any file is uploaded or any prediction created.
    fn check(&self, request: &LoadedRequest, violations: &mut Violations) -> Result<()> {
        let Some(resolved) = self.resolved.get() else {
            // The pipeline asks for the capabilities (which resolves the model) before checking.
            return Err(msgflux_core::Error::config(
                "the model was checked before its capabilities were read",
            ));
        };
        let adapter = &resolved.adapter;
        let size = output_size(adapter, request);
        let placeholders = InputValues::placeholders(request);
        for plan in plan_predictions(request.n, adapter.per_prediction_max(), request.seed) {
            if let Err(err) = build_input(adapter, request, &placeholders, &plan, size) {
                violations.absorb(err)?;
            }
        }
        Ok(())
    }

    async fn edit(&self, request: LoadedRequest) -> Result<EditResponse> {
        let deadline = Instant::now() + request.timeout.unwrap_or(self.settings.deadline);
        let resolved = self.resolve().await?;
        let adapter = &resolved.adapter;
        // `check` has built every input with stand-ins: files are uploaded only now.
        let values = input_values(
            &self.client,
            &request.images,
            request.mask.as_ref(),
            adapter.mask_convention(),
            self.settings.upload_threshold,
            request.progress.as_ref(),
        )
        .await?;
        let size = output_size(adapter, &request);
        let plans = plan_predictions(request.n, adapter.per_prediction_max(), request.seed);
        // Every input is built before the first prediction is created.
        let jobs = plans
            .iter()
            .map(|plan| {
                Ok(PredictionJob {
                    route: resolved.route.clone(),
                    input: build_input(adapter, &request, &values, plan, size)?,
                    deadline,
                    progress: request.progress.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let predictions = futures::future::try_join_all(
            jobs.into_iter()
                .map(|job| run_prediction(self.client.clone(), self.settings.clone(), job)),
        )
        .await?;

        let mut files = Vec::with_capacity(request.n as usize);
        for (plan, prediction) in plans.iter().zip(&predictions) {
            let outputs = output_files(prediction)?;
            if outputs.len() < plan.count as usize {
                return Err(msgflux_core::Error::InvalidResponse {
                    provider: REPLICATE_SCHEME.into(),
                    message: format!(
                        "prediction {} was asked for {} image(s) and returned {} (models drop outputs their safety checker flags)",
                        prediction.id,
                        plan.count,
                        outputs.len()
                    ),
                    request_id: Some(prediction.id.clone()),
                });
            }
            let seed = plan.seed.filter(|_| plan.count == 1);
            files.extend(outputs.into_iter().take(plan.count as usize).map(|file| (file, seed)));
        }
        if request.response_format == ResponseFormat::Base64 {
            request.report(Progress::Downloading { images: files.len() });
        }
        let images = futures::future::try_join_all(files.iter().enumerate().map(|(i, (file, seed))| async move {
            let what = format!("result {i}");
            let data = image_data(
                &self.client,
                file,
                request.response_format,
                self.settings.max_output_bytes,
                &what,
            )
            .await?;
            Ok::<_, msgflux_core::Error>(GeneratedImage::new(data).with_seed(*seed))
        }))
        .await?;

        let predict_time: Option<f64> = predictions
            .iter()
            .map(|p| p.metrics.as_ref().and_then(|m| m.predict_time))
            .sum();
        let cost = pricing::estimate(&adapter.model, images.len(), predict_time);
        let ids: Vec<&str> = predictions.iter().map(|p| p.id.as_str()).collect();
        let metadata = json!({
            "adapter": adapter.source.as_str(),
            "model": adapter.model,
            "route": route_name(&resolved.route),
            "size": size.map(|s| s.to_string()),
            "predict_time": predict_time,
            "predictions": predictions.iter().map(prediction_summary).collect::<Vec<_>>(),
            "output_expiry": "Replicate removes prediction outputs about an hour after they are made; save results soon",
        });
        Ok(EditResponse::new(REPLICATE_SCHEME, self.model_id.clone(), images)
            .with_request_id(Some(ids.join(",")))
            .with_cost(cost)
            .with_metadata(metadata))
    }
}

fn route_name(route: &Route) -> &'static str {
    match route {
        Route::Official { .. } => "official",
        Route::Version { .. } => "version",
        Route::Deployment { .. } => "deployment",
    }
}

fn prediction_summary(prediction: &Prediction) -> Value {
    let metrics = prediction.metrics.clone().unwrap_or_default();
    json!({
        "id": prediction.id,
        "status": prediction.status.as_str(),
        "model": prediction.model,
        "version": prediction.version,
        "predict_time": metrics.predict_time,
        "total_time": metrics.total_time,
        "web": prediction.urls.as_ref().and_then(|u| u.web.clone()),
    })
}
