//! [`Model`]: the user-facing handle. It loads inputs, checks them against the
//! capability table, applies time and concurrency limits, and calls the provider.

use std::fmt;
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::capabilities::Capabilities;
use crate::error::{Error, Result};
use crate::input::InputLoader;
use crate::kit::provider::{EditProvider, ProviderConfig};
use crate::pipeline::{self, with_deadline};
use crate::progress::Progress;
use crate::registry::Registry;
use crate::request::{EditRequest, LoadedRequest};
use crate::response::{EditEvent, EditResponse};
use crate::retry::RetryPolicy;

/// An image-editing model of some provider.
///
/// Cheap to clone; clones share the provider, its HTTP connections and any
/// concurrency limit.
///
/// ```no_run
/// # async fn demo() -> msgflux_core::Result<()> {
/// use msgflux_core::Model;
/// let model = Model::image_text_to_image("openai/dall-e-2")?;
/// let response = model.edit("Add a sunset sky").image("photo.png").mask("sky_mask.png").n(4).await?;
/// for url in response.consume().into_vec() {
///     println!("{url}");
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Model {
    provider: Arc<dyn EditProvider>,
    loader: InputLoader,
    limiter: Option<Arc<Semaphore>>,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("id", &self.id())
            .field("provider", &self.provider)
            .field("concurrency_limit", &self.limiter.as_ref().map(|_| "set"))
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

impl Model {
    /// The Python msgflux factory: `"provider/model"`, settings from the environment.
    ///
    /// Fails with [`Error::ProviderUnavailable`] (listing what is registered and
    /// the cargo feature that would add the provider) when the provider is not
    /// linked into the program.
    pub fn image_text_to_image(id: &str) -> Result<Self> {
        Self::builder(id).build()
    }

    /// A builder for settings other than the environment's.
    ///
    /// ```no_run
    /// # fn demo() -> msgflux_core::Result<()> {
    /// let model = msgflux_core::Model::builder("openai/gpt-image-1")
    ///     .api_key("sk-...")
    ///     .base_url("http://127.0.0.1:8080/v1")
    ///     .timeout(std::time::Duration::from_secs(300))
    ///     .concurrency_limit(4)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder(id: impl Into<String>) -> ModelBuilder {
        ModelBuilder {
            id: id.into(),
            config: ProviderConfig::default(),
            registry: None,
            loader: InputLoader::default(),
            concurrency_limit: None,
        }
    }

    /// Wraps a provider instance directly, bypassing the registry.
    pub fn from_provider(provider: Arc<dyn EditProvider>) -> Self {
        Self {
            provider,
            loader: InputLoader::default(),
            limiter: None,
        }
    }

    /// Limits how many calls through this model (and its clones) run at once.
    pub fn with_concurrency_limit(mut self, limit: usize) -> Self {
        self.limiter = Some(Arc::new(Semaphore::new(limit.max(1))));
        self
    }

    /// Uses this loader for paths, URLs and base64 inputs.
    pub fn with_loader(mut self, loader: InputLoader) -> Self {
        self.loader = loader;
        self
    }

    /// `"provider/model"`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.provider.name(), self.provider.model())
    }

    /// The provider instance.
    pub fn provider(&self) -> &Arc<dyn EditProvider> {
        &self.provider
    }

    /// What the model accepts. Most providers know it at once; a provider
    /// that reads it from its API (Replicate, for models outside its built-in
    /// table) asks on the first call and reuses the answer.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> msgflux_core::Result<()> {
    /// let model = msgflux_core::Model::from_provider(std::sync::Arc::new(msgflux_core::kit::testkit::MemoryProvider::new("fill")));
    /// assert!(model.capabilities().await?.n.contains(&4));
    /// # Ok(()) }
    /// ```
    pub async fn capabilities(&self) -> Result<&Capabilities> {
        self.provider.capabilities().await
    }

    /// The input loader.
    pub fn loader(&self) -> &InputLoader {
        &self.loader
    }

    /// Starts an edit; chain settings, then `.await` it.
    pub fn edit(&self, prompt: impl Into<String>) -> EditBuilder {
        EditBuilder {
            model: self.clone(),
            request: EditRequest::new(prompt),
        }
    }

    /// Runs everything that happens before sending, without sending: loads
    /// the inputs, prepares them if asked, and checks every rule of the model
    /// and its provider. Every broken rule is reported in one
    /// [`Error::InvalidInput`].
    pub async fn validate(&self, request: impl Into<EditRequest>) -> Result<LoadedRequest> {
        Ok(pipeline::validate(self.provider.as_ref(), &self.loader, request.into())
            .await?
            .request)
    }

    /// Runs one edit. `(prompt, image)` and `(prompt, image, mask)` tuples work too.
    pub async fn call(&self, request: impl Into<EditRequest>) -> Result<EditResponse> {
        let request = request.into();
        let timeout = request.timeout;
        let span = tracing::info_span!("msgflux.edit", model = %self.id(), n = request.n);
        let work = async {
            let _permit = self.acquire().await?;
            let started = Instant::now();
            let validated = pipeline::validate(self.provider.as_ref(), &self.loader, request).await?;
            validated.request.report(Progress::Checked);
            let response = self.provider.edit(validated.request).await?;
            let mut response = pipeline::finish(response, validated.keep, &self.loader).await?;
            response.elapsed = started.elapsed();
            tracing::info!(elapsed = ?response.elapsed, images = response.images.len(), "edit done");
            Ok(response)
        };
        with_deadline(self.provider.name(), timeout, work)
            .instrument(span)
            .await
    }

    /// Alias of [`Model::call`], for readers coming from Python's `acall`.
    pub async fn acall(&self, request: impl Into<EditRequest>) -> Result<EditResponse> {
        self.call(request).await
    }

    /// Runs one edit, streaming partial images where the provider can; the
    /// last event is [`EditEvent::Completed`], after the same checks and
    /// keep-unmasked step as [`Model::call`].
    pub fn stream(&self, request: impl Into<EditRequest>) -> BoxStream<'static, Result<EditEvent>> {
        let model = self.clone();
        let mut request = request.into();
        request.streaming = true;
        let setup = async move {
            let permit = model.acquire().await?;
            let started = Instant::now();
            let validated = pipeline::validate(model.provider.as_ref(), &model.loader, request).await?;
            validated.request.report(Progress::Checked);
            let keep = validated.keep;
            let loader = model.loader.clone();
            let progress = validated.request.progress.clone();
            let inner = model.provider.clone().edit_stream(validated.request);
            // Keep the permit for as long as the stream lives.
            Ok::<_, Error>(inner.then(move |item| {
                let _ = &permit;
                let keep = keep.clone();
                let loader = loader.clone();
                let progress = progress.clone();
                async move {
                    match item? {
                        EditEvent::Completed(response) => {
                            let mut response = pipeline::finish(response, keep, &loader).await?;
                            response.elapsed = started.elapsed();
                            Ok(EditEvent::Completed(response))
                        }
                        partial @ EditEvent::Partial { index, .. } => {
                            crate::progress::report(progress.as_ref(), Progress::PartialImage { index });
                            Ok(partial)
                        }
                    }
                }
            }))
        };
        Box::pin(
            futures::stream::once(setup)
                .map(|setup| match setup {
                    Ok(inner) => inner.boxed(),
                    Err(err) => futures::stream::once(async move { Err(err) }).boxed(),
                })
                .flatten(),
        )
    }

    async fn acquire(&self) -> Result<Option<tokio::sync::OwnedSemaphorePermit>> {
        match &self.limiter {
            Some(sem) => sem
                .clone()
                .acquire_owned()
                .await
                .map(Some)
                .map_err(|_| Error::config("the model's concurrency limiter was closed")),
            None => Ok(None),
        }
    }
}

/// Settings for a [`Model`] other than the environment's.
#[derive(Debug)]
pub struct ModelBuilder {
    id: String,
    config: ProviderConfig,
    registry: Option<&'static Registry>,
    loader: InputLoader,
    concurrency_limit: Option<usize>,
}

impl ModelBuilder {
    /// API key or token.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config = self.config.with_api_key(key);
        self
    }

    /// Base URL (emulators, proxies, OpenAI-compatible servers).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config = self.config.with_base_url(url);
        self
    }

    /// A shared HTTP client.
    ///
    /// Build it from [`crate::kit::http::client_builder`], which installs the
    /// rustls provider this workspace compiles (ring).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.config = self.config.with_http_client(client);
        self
    }

    /// Time limit for one HTTP answer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config = self.config.with_timeout(timeout);
        self
    }

    /// Retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config = self.config.with_retry(retry);
        self
    }

    /// A provider-specific setting.
    pub fn setting(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config = self.config.with_setting(key, value);
        self
    }

    /// Replaces the whole provider configuration.
    pub fn config(mut self, config: ProviderConfig) -> Self {
        self.config = config;
        self
    }

    /// Looks the provider up in this registry instead of the global one.
    pub fn registry(mut self, registry: &'static Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Input loader (download limits, client).
    pub fn loader(mut self, loader: InputLoader) -> Self {
        self.loader = loader;
        self
    }

    /// Most calls in flight at once through the built model.
    pub fn concurrency_limit(mut self, limit: usize) -> Self {
        self.concurrency_limit = Some(limit);
        self
    }

    /// Builds the model.
    pub fn build(self) -> Result<Model> {
        let registry = self.registry.unwrap_or_else(Registry::global);
        let mut model = Model::from_provider(registry.create(&self.id, &self.config)?).with_loader(self.loader);
        if let Some(limit) = self.concurrency_limit {
            model = model.with_concurrency_limit(limit);
        }
        Ok(model)
    }
}

/// An edit being set up; `.await` it to run.
///
/// ```no_run
/// # async fn demo(model: msgflux_core::Model) -> msgflux_core::Result<()> {
/// let response = model
///     .edit("Replace the background with a beach")
///     .image("product.jpg")
///     .mask("background_mask.png")
///     .n(2)
///     .response_format(msgflux_core::ResponseFormat::Base64)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "an edit does nothing until it is awaited"]
pub struct EditBuilder {
    model: Model,
    request: EditRequest,
}

/// The settings both edit builders (this one and the blocking one) forward
/// to [`EditRequest`], written once.
macro_rules! forward_request_setters {
    () => {
        /// Adds an input image.
        pub fn image(mut self, image: impl Into<crate::ImageInput>) -> Self {
            self.request = self.request.image(image);
            self
        }

        /// Adds several input images.
        pub fn images<T: Into<crate::ImageInput>>(mut self, images: impl IntoIterator<Item = T>) -> Self {
            self.request = self.request.images(images);
            self
        }

        /// Sets the mask (alpha 0 = edit).
        pub fn mask(mut self, mask: impl Into<crate::ImageInput>) -> Self {
            self.request = self.request.mask(mask);
            self
        }

        /// Number of variations.
        pub fn n(mut self, n: u32) -> Self {
            self.request = self.request.n(n);
            self
        }

        /// URLs or base64.
        pub fn response_format(mut self, format: crate::ResponseFormat) -> Self {
            self.request = self.request.response_format(format);
            self
        }

        /// Output size: a [`Size`](crate::Size), or [`OutputSize::Auto`](crate::OutputSize::Auto).
        pub fn size(mut self, size: impl Into<crate::OutputSize>) -> Self {
            self.request = self.request.size(size);
            self
        }

        /// Pastes the original back outside the mask after the provider
        /// answers, and reports what the provider had changed there (on by
        /// default for models that take no mask).
        pub fn keep_unmasked(mut self, yes: bool) -> Self {
            self.request = self.request.keep_unmasked(yes);
            self
        }

        /// Seed.
        pub fn seed(mut self, seed: u64) -> Self {
            self.request = self.request.seed(seed);
            self
        }

        /// One provider-specific option.
        pub fn option(mut self, name: impl Into<String>, value: impl Into<crate::OptionValue>) -> Self {
            self.request = self.request.option(name, value);
            self
        }

        /// A set of provider-specific options.
        pub fn options(mut self, options: impl crate::IntoOptions) -> Self {
            self.request = self.request.options(options);
            self
        }

        /// Lets the provider convert inputs that break its rules.
        pub fn prepare(mut self, yes: bool) -> Self {
            self.request = self.request.prepare(yes);
            self
        }

        /// Time limit for the whole call.
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.request = self.request.timeout(timeout);
            self
        }

        /// Calls `f` with every step of the call's [`Progress`](crate::Progress).
        pub fn on_progress(mut self, f: impl Fn(&crate::Progress) + Send + Sync + 'static) -> Self {
            self.request = self.request.on_progress(f);
            self
        }
    };
}
#[cfg(feature = "blocking")]
pub(crate) use forward_request_setters;

impl EditBuilder {
    forward_request_setters!();

    /// The request as built so far.
    pub fn request(&self) -> &EditRequest {
        &self.request
    }

    /// Takes the request out.
    pub fn into_request(self) -> EditRequest {
        self.request
    }

    /// Runs the edit as a stream of partial images and the final result.
    pub fn stream(self) -> BoxStream<'static, Result<EditEvent>> {
        self.model.stream(self.request)
    }

    /// Runs the edit (same as `.await`).
    pub async fn send(self) -> Result<EditResponse> {
        self.model.call(self.request).await
    }
}

impl IntoFuture for EditBuilder {
    type Output = Result<EditResponse>;
    type IntoFuture = BoxFuture<'static, Result<EditResponse>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.model.call(self.request).await })
    }
}
