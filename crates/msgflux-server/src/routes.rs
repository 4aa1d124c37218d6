//! The endpoints. An edit goes: key, server capacity, the key's limits,
//! body (within its time limit), fields, model, inputs (fetched and
//! measured), then the model's own checks and the provider. Each step
//! refuses with its own status before the next one costs anything.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt as _;
use msgflux_core::{EditEvent, EditRequest, InputLoader, LoadedImage, Model, ResponseFormat};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::Keys;
use crate::catalog::Catalog;
use crate::config::Limits;
use crate::metrics::Metrics;
use crate::results::ResultStore;
use crate::wire::request::{ResultFormat, WireEdit};
use crate::wire::response::{self, Delivery};
use crate::wire::{ApiError, json, multipart};

/// Everything a request handler reads.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) catalog: Catalog,
    pub(crate) keys: Keys,
    pub(crate) limits: Limits,
    pub(crate) in_flight: Arc<Semaphore>,
    pub(crate) results: ResultStore,
    pub(crate) metrics: Metrics,
    /// Fetches `image_url` inputs: public addresses only, within size and time caps.
    pub(crate) url_loader: Option<InputLoader>,
    pub(crate) public_url: Option<String>,
    pub(crate) pass_through: bool,
    /// Whether the studio page is served at `/`.
    pub(crate) studio: bool,
    pub(crate) shutting_down: AtomicBool,
}

/// The OpenAPI document of the gateway.
const OPENAPI: &str = include_str!("../openapi.json");

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.limits.max_body_bytes;
    let pages = if state.studio {
        crate::studio::routes()
    } else {
        Router::new()
    };
    Router::new()
        .merge(pages)
        .route("/v1/images/edits", post(edit))
        .route("/v1/models", get(models))
        .route("/v1/inputs/fetch", post(fetch_input))
        .route("/v1/results/{file}", get(result))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
        .fallback(|| async { ApiError::not_found("no such endpoint; see GET /openapi.json") })
        // The edit handler reads its body with the same limit itself.
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if state.shutting_down.load(Ordering::Relaxed) {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    } else {
        "ready".into_response()
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
        .into_response()
}

async fn models(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, ApiError> {
    state.keys.authenticate(&headers)?;
    Ok(axum::Json(state.catalog.list()).into_response())
}

async fn result(State(state): State<Arc<AppState>>, Path(file): Path<String>) -> Result<Response, ApiError> {
    let token = file.split('.').next().unwrap_or_default();
    let (bytes, format) = state
        .results
        .get(token)
        .ok_or_else(|| ApiError::not_found("this result URL has expired or never existed"))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(format.mime())),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=600")),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /v1/images/edits`.
async fn edit(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let mut model_label = "unknown".to_string();
    let outcome = run_edit(&state, request, &mut model_label).await;
    let (response, error_kind) = match outcome {
        Ok(response) => (response, None),
        Err(err) => {
            tracing::info!(model = %model_label, status = err.status.as_u16(), kind = err.metric_kind, "edit refused or failed");
            let kind = err.metric_kind;
            (err.into_response(), Some(kind))
        }
    };
    state.metrics.record(
        &model_label,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
        error_kind,
    );
    response
}

async fn run_edit(state: &Arc<AppState>, request: Request, model_label: &mut String) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let (caller, server_slot, key_slot) = match admit(state, &parts.headers).await {
        Ok(admitted) => admitted,
        Err(err) => {
            // Read what the client is still sending: closing a connection with
            // unread data resets it, and the client would lose this answer.
            discard(body, state.limits.max_body_bytes, state.limits.body_timeout()).await;
            return Err(err);
        }
    };
    let base_url = base_url(state, &parts.headers);

    // The whole body, then the parsers: images are held in memory anyway,
    // and a body read to its end leaves nothing unread on the connection.
    let body = tokio::time::timeout(
        state.limits.body_timeout(),
        axum::body::to_bytes(body, state.limits.max_body_bytes),
    )
    .await
    .map_err(|_| ApiError::body_timeout(state.limits.body_timeout()))?
    .map_err(|e| too_large_or_malformed(&e))?;
    let mut wire = parse_body(parts, body).await?;
    if !wire.violations.is_empty() {
        return Err(all_violations(std::mem::take(&mut wire.violations)));
    }

    let asked = wire.model.clone();
    let id = state.catalog.resolve_name(asked.as_deref()).to_string();
    if !caller.may_use(asked.as_deref().unwrap_or(&id), &id) {
        return Err(ApiError::forbidden(format!(
            "key `{}` may not use model `{id}`",
            caller.name
        )));
    }
    let model = state.catalog.model(&id)?;
    // Labelled only once the model exists: client-chosen names must not grow the metrics.
    *model_label = id.clone();
    let edit = load_inputs(state, &model, wire).await?;

    let guard = InFlight::new(state, server_slot, key_slot);
    if edit.stream {
        stream_edit(state.clone(), model, edit, guard).await
    } else {
        let delivery = Delivery {
            format: edit.format,
            results: &state.results,
            base_url,
            pass_through: state.pass_through,
        };
        let response = model.call(edit.request).await?;
        let body = response::images_response(&response, &delivery).await?;
        state
            .metrics
            .record_result(&id, response.images.len(), response.cost.as_ref().map(|c| c.usd));
        drop(guard);
        let mut answer = axum::Json(body).into_response();
        add_response_headers(answer.headers_mut(), &id, &response);
        Ok(answer)
    }
}

/// Holds the capacity slots and the in-flight gauge for as long as the edit runs.
struct InFlight {
    state: Arc<AppState>,
    _server: OwnedSemaphorePermit,
    _key: OwnedSemaphorePermit,
}

impl InFlight {
    fn new(state: &Arc<AppState>, server: OwnedSemaphorePermit, key: OwnedSemaphorePermit) -> Self {
        state.metrics.in_flight().inc();
        Self {
            state: state.clone(),
            _server: server,
            _key: key,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.state.metrics.in_flight().dec();
    }
}

/// Who is calling, and room for the edit on the server and in the caller's
/// limits; all decided from the headers, before the body is read.
async fn admit(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Arc<crate::auth::Caller>, OwnedSemaphorePermit, OwnedSemaphorePermit), ApiError> {
    let caller = state.keys.authenticate(headers)?;
    if state.shutting_down.load(Ordering::Relaxed) {
        return Err(ApiError::overloaded(
            "the gateway is shutting down; retry on another replica",
        ));
    }
    let server_slot = state.in_flight.clone().try_acquire_owned().map_err(|_| {
        ApiError::overloaded(format!(
            "the gateway has its most edits in flight ({}); retry shortly",
            state.limits.max_in_flight
        ))
    })?;
    let key_slot = caller.admit().await?;
    Ok((caller, server_slot, key_slot))
}

/// Reads and drops a body, up to a size and a time.
async fn discard(mut body: Body, limit: usize, timeout: Duration) {
    use http_body_util::BodyExt as _;
    let drain = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len());
            if seen > limit {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(timeout, drain).await;
}

/// Parses a read body by its content type.
async fn parse_body(parts: axum::http::request::Parts, body: bytes::Bytes) -> Result<WireEdit, ApiError> {
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let request = Request::from_parts(parts, Body::from(body));
        let form = Multipart::from_request(request, &())
            .await
            .map_err(|e| ApiError::invalid("body", format!("is not valid multipart/form-data: {}", e.body_text())))?;
        multipart::read(form).await
    } else if content_type.starts_with("application/json") {
        json::read(&body)
    } else {
        Err(ApiError::invalid(
            "content-type",
            format!("must be multipart/form-data or application/json, got `{content_type}`"),
        ))
    }
}

fn too_large_or_malformed(err: &axum::Error) -> ApiError {
    let text = err.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return ApiError::too_large("the request body is over the gateway's limit");
        }
        source = e.source();
    }
    ApiError::invalid("body", format!("could not be read: {text}"))
}

fn all_violations(violations: Vec<msgflux_core::Violation>) -> ApiError {
    ApiError::from(
        msgflux_core::Error::invalid_all(violations)
            .unwrap_or_else(|| msgflux_core::Error::invalid("body", "is invalid")),
    )
}

/// The body of `POST /v1/inputs/fetch`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchInput {
    url: String,
}

/// The largest body `POST /v1/inputs/fetch` reads: one URL.
const FETCH_BODY_BYTES: usize = 16 * 1024;

/// `POST /v1/inputs/fetch {"url": ...}`: the image at a URL, fetched by the
/// gateway under the same rules as an `image_url` input (public addresses
/// only, the size, time and pixel caps), so the studio can show and mask a
/// picture it may not load itself. Authenticated and counted like an edit.
async fn fetch_input(State(state): State<Arc<AppState>>, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let _admitted = match admit(&state, &parts.headers).await {
        Ok(admitted) => admitted,
        Err(err) => {
            discard(body, FETCH_BODY_BYTES, state.limits.body_timeout()).await;
            return Err(err);
        }
    };
    let body = tokio::time::timeout(
        state.limits.body_timeout(),
        axum::body::to_bytes(body, FETCH_BODY_BYTES),
    )
    .await
    .map_err(|_| ApiError::body_timeout(state.limits.body_timeout()))?
    .map_err(|e| too_large_or_malformed(&e))?;
    let wanted: FetchInput = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid("url", format!("the body must be {{\"url\": \"https://...\"}}: {e}")))?;
    if !(wanted.url.starts_with("https://") || wanted.url.starts_with("http://")) {
        return Err(ApiError::invalid("url", "must be an http(s) URL"));
    }
    let Some(loader) = &state.url_loader else {
        return Err(ApiError::invalid(
            "url",
            "URL inputs are turned off on this gateway ([url_inputs] enabled = false)",
        ));
    };
    let image = match loader.load(&msgflux_core::ImageInput::Url(wanted.url), "url").await {
        Ok(image) => image,
        Err(err @ msgflux_core::Error::InvalidInput { .. }) => return Err(ApiError::from(err)),
        Err(msgflux_core::Error::Decode { message, .. }) => {
            return Err(ApiError::invalid(
                "url",
                format!("is not an image this gateway can read: {message}"),
            ));
        }
        Err(other) => return Err(ApiError::from(other)),
    };
    if let Some(over) = over_pixel_budget(&state, &image, "url") {
        return Err(all_violations(vec![over]));
    }
    Ok((
        [
            (header::CONTENT_TYPE, image.mime()),
            (header::CACHE_CONTROL, "no-store"),
        ],
        image.bytes,
    )
        .into_response())
}

/// The broken rule of an input above the gateway's pixel budget, if it is.
fn over_pixel_budget(state: &AppState, image: &LoadedImage, param: &str) -> Option<msgflux_core::Violation> {
    let pixels = u64::from(image.width) * u64::from(image.height);
    (pixels > state.limits.max_pixels).then(|| {
        msgflux_core::Violation::new(
            param,
            format!(
                "is {}x{} ({pixels} pixels); this gateway takes at most {} pixels per image",
                image.width, image.height, state.limits.max_pixels
            ),
        )
    })
}

/// A validated request, ready for the model.
struct ReadyEdit {
    request: EditRequest,
    format: ResultFormat,
    stream: bool,
    echo: crate::wire::request::Echo,
}

/// Loads every input (URL inputs through the guarded loader), checks each
/// against the pixel budget, and builds the library request. Every broken
/// rule is listed together.
async fn load_inputs(state: &AppState, model: &Model, wire: WireEdit) -> Result<ReadyEdit, ApiError> {
    let mut violations = Vec::new();
    let count = wire.images.len();
    let parts: Vec<(String, crate::wire::request::WireImage)> = wire
        .images
        .into_iter()
        .enumerate()
        .map(|(i, image)| (msgflux_core::kit::image_param(i, count), image))
        .chain(wire.mask.map(|mask| ("mask".to_string(), mask)))
        .collect();
    let mut loaded: Vec<LoadedImage> = Vec::with_capacity(count);
    let mut mask = None;
    for (param, image) in parts {
        let input = image.into_input();
        let loader = match (&input, &state.url_loader) {
            (msgflux_core::ImageInput::Url(_), Some(loader)) => loader.clone(),
            (msgflux_core::ImageInput::Url(_), None) => {
                violations.push(msgflux_core::Violation::new(
                    param,
                    "URL inputs are turned off on this gateway; send the image itself or a data: URL",
                ));
                continue;
            }
            _ => InputLoader::default().with_max_bytes(state.limits.max_body_bytes as u64),
        };
        match loader.load(&input, &param).await {
            Ok(image) => {
                if let Some(over) = over_pixel_budget(state, &image, &param) {
                    violations.push(over);
                } else if param == "mask" {
                    mask = Some(image);
                } else {
                    loaded.push(image);
                }
            }
            Err(err @ msgflux_core::Error::InvalidInput { .. }) => violations.extend(err.violations()),
            Err(msgflux_core::Error::Decode { what, message }) => {
                violations.push(msgflux_core::Violation::new(
                    what,
                    format!("cannot be decoded: {message}"),
                ));
            }
            Err(other) => return Err(ApiError::from(other)),
        }
    }
    if !violations.is_empty() {
        return Err(all_violations(violations));
    }

    let prompt = wire.prompt.unwrap_or_default();
    let mut request = EditRequest::new(prompt)
        .images(loaded)
        .n(wire.n.unwrap_or(1))
        .response_format(match wire.format {
            ResultFormat::B64Json => ResponseFormat::Base64,
            ResultFormat::Url => ResponseFormat::Url,
        })
        .timeout(state.limits.request_timeout());
    if let Some(mask) = mask {
        request = request.mask(mask);
    }
    if let Some(size) = wire.size {
        request = request.size(size);
    }
    if let Some(seed) = wire.seed {
        request = request.seed(seed);
    }
    if let Some(keep) = wire.keep_unmasked {
        request = request.keep_unmasked(keep);
    }
    let mut options = wire.options;
    // `user` is OpenAI's end-user id: passed on where the model takes it, dropped elsewhere.
    if let Some(user) = wire.user {
        let takes_user = model
            .capabilities()
            .await
            .map(|caps| caps.options.iter().any(|o| o.name == "user"))
            .unwrap_or(false);
        if takes_user {
            options.insert("user".into(), msgflux_core::OptionValue::Text(user));
        }
    }
    for (name, value) in options {
        request = request.option(name, value);
    }
    Ok(ReadyEdit {
        request,
        format: wire.format,
        stream: wire.stream,
        echo: wire.echo,
    })
}

/// `stream=true`: server-sent events in OpenAI's format. The first item is
/// awaited before answering, so a refused request is an HTTP error, not a
/// stream that opens and fails.
async fn stream_edit(
    state: Arc<AppState>,
    model: Model,
    edit: ReadyEdit,
    guard: InFlight,
) -> Result<Response, ApiError> {
    let id = model.id();
    let mut events = model.stream(edit.request);
    let first = events.next().await;
    let first = match first {
        Some(Err(err)) => return Err(ApiError::from(err)),
        other => other,
    };
    let echo = edit.echo;
    let rest = futures::stream::iter(first).chain(events);
    let sse = rest
        .then(move |item| {
            let echo = echo.clone();
            let state = state.clone();
            let id = id.clone();
            async move { render_event(&state, &id, item, &echo).await }
        })
        .flat_map(futures::stream::iter)
        // The capacity slots are held for as long as the stream lives.
        .map(move |event| {
            let _ = &guard;
            Ok::<_, Infallible>(event)
        });
    Ok(Sse::new(sse).keep_alive(KeepAlive::default()).into_response())
}

/// One library event as zero or more SSE events.
async fn render_event(
    state: &AppState,
    id: &str,
    item: msgflux_core::Result<EditEvent>,
    echo: &crate::wire::request::Echo,
) -> Vec<Event> {
    let rendered: Result<Vec<Event>, ApiError> = async {
        match item? {
            EditEvent::Partial { index, image } => {
                let file = response::result_file(&image).await?;
                Ok(vec![sse_event(
                    "image_edit.partial_image",
                    &response::partial_event(&file, index, echo),
                )])
            }
            EditEvent::Completed(done) => {
                let mut out = Vec::with_capacity(done.images.len());
                for image in &done.images {
                    let file = response::result_file(image).await?;
                    out.push(sse_event(
                        "image_edit.completed",
                        &response::completed_event(&file, done.usage.as_ref(), echo),
                    ));
                }
                state
                    .metrics
                    .record_result(id, done.images.len(), done.cost.as_ref().map(|c| c.usd));
                Ok(out)
            }
            _ => Ok(Vec::new()),
        }
    }
    .await;
    rendered.unwrap_or_else(|err| vec![sse_event("error", &response::error_event(&err))])
}

fn sse_event(kind: &str, data: &serde_json::Value) -> Event {
    Event::default().event(kind).data(data.to_string())
}

/// The gateway's extension headers: which model answered, its cost and the upstream request id.
fn add_response_headers(headers: &mut HeaderMap, id: &str, response: &msgflux_core::EditResponse) {
    if let Ok(v) = HeaderValue::from_str(id) {
        headers.insert("x-msgflux-model", v);
    }
    if let Some(cost) = &response.cost
        && let Ok(v) = HeaderValue::from_str(&format!("{:.6}", cost.usd))
    {
        headers.insert("x-msgflux-cost-usd", v);
    }
    if let Some(request_id) = &response.request_id
        && let Ok(v) = HeaderValue::from_str(request_id)
    {
        headers.insert("x-msgflux-upstream-request-id", v);
    }
}

/// Where result URLs point: the configured public URL, else the host the client used.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}
