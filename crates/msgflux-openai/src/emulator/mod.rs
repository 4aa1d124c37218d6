//! An in-process emulator of OpenAI's `POST /v1/images/edits` (and of the
//! Azure OpenAI deployment route) on 127.0.0.1.
//!
//! It checks every request the way the service would, plus what the spec
//! says (field names, `image` vs `image[]`, MIME types, formats, sizes, mask
//! presence, size and alpha, model-specific fields), records it, and answers
//! with the next scripted [`Reply`]: a normal answer (JSON, or server-sent
//! events when `stream=true`) or an injected fault. Its own answers are
//! checked against the spec's answer schemas, so the provider is tested
//! against answers shaped like the real ones.

use std::collections::{BTreeMap, VecDeque};
use std::io::Cursor;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::StreamExt as _;
use image::{DynamicImage, ImageDecoder as _, Rgba, RgbaImage};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt as _;

use super::spec::{Part, PartValue, Spec};

/// The key the emulator accepts (`Authorization: Bearer` or Azure `api-key`).
pub const EMULATOR_KEY: &str = "sk-emulator";
/// The Azure `api-version` the emulator accepts.
pub const EMULATOR_API_VERSION: &str = "2025-04-01-preview";

/// How the emulator answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A normal answer: JSON, or server-sent events when `stream=true`.
    Success,
    /// An OpenAI error body with this status, code and type, plus headers.
    Error {
        /// HTTP status.
        status: u16,
        /// `error.code`.
        code: &'static str,
        /// `error.type`.
        kind: &'static str,
        /// Extra headers (`retry-after-ms`, `x-should-retry`, ...).
        headers: Vec<(&'static str, &'static str)>,
    },
    /// Any status, content type and body.
    Raw {
        /// HTTP status.
        status: u16,
        /// Content-Type.
        content_type: &'static str,
        /// Body.
        body: &'static str,
    },
    /// Never answer (the client's read timeout must end the wait).
    Hang,
    /// Accept the request, wait this long, then answer normally: a stall
    /// past the client's read timeout when longer than it. The edit counts
    /// as done (and billed) whether or not the client is still there.
    SuccessAfter(std::time::Duration),
    /// Stream this many partial images, then stall without completing.
    StallAfterPartials(u32),
    /// Stream this many partial images, then an `error` event with this code.
    StreamErrorAfterPartials(u32, &'static str),
}

impl Reply {
    /// 429 `rate_limit_exceeded` asking to wait `retry_after_ms`.
    pub fn rate_limited_ms(retry_after_ms: &'static str) -> Self {
        Self::Error {
            status: 429,
            code: "rate_limit_exceeded",
            kind: "requests",
            headers: vec![("retry-after-ms", retry_after_ms)],
        }
    }

    /// An error without extra headers.
    pub fn error(status: u16, code: &'static str, kind: &'static str) -> Self {
        Self::Error {
            status,
            code,
            kind,
            headers: Vec::new(),
        }
    }
}

/// One request as the emulator received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Request path.
    pub path: String,
    /// Query string.
    pub query: Option<String>,
    /// Request headers.
    pub headers: HeaderMap,
    /// Multipart fields, in order.
    pub parts: Vec<Part>,
    /// What was wrong with it (empty for a good request).
    pub problems: Vec<String>,
}

impl Recorded {
    /// The text of a field.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.parts.iter().find(|p| p.name == name).and_then(Part::as_text)
    }

    /// The names of the fields, in order.
    pub fn names(&self) -> Vec<&str> {
        self.parts.iter().map(|p| p.name.as_str()).collect()
    }

    /// The file parts with a name.
    pub fn files(&self, name: &str) -> Vec<&Part> {
        self.parts
            .iter()
            .filter(|p| p.name == name && matches!(p.value, PartValue::File { .. }))
            .collect()
    }
}

struct EmulatorState {
    spec: Spec,
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    answer_problems: Mutex<Vec<String>>,
    files: Mutex<BTreeMap<String, Vec<u8>>>,
    base: Mutex<String>,
    counter: AtomicUsize,
    deployments: Mutex<BTreeMap<String, String>>,
    latency: Mutex<std::time::Duration>,
    /// JSON answers by request content, when answers are reused.
    reused: Mutex<Option<BTreeMap<u64, bytes::Bytes>>>,
}

/// A running emulator; stops when dropped.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<EmulatorState>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for EmulatorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorState").finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Emulator {
    /// Starts an emulator on 127.0.0.1 with a free port.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// Starts an emulator on an address (`127.0.0.1:0` picks a free port).
    pub async fn start_on(addr: &str) -> Self {
        let state = Arc::new(EmulatorState {
            spec: Spec::load(),
            script: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            answer_problems: Mutex::new(Vec::new()),
            files: Mutex::new(BTreeMap::new()),
            base: Mutex::new(String::new()),
            counter: AtomicUsize::new(0),
            deployments: Mutex::new(BTreeMap::new()),
            latency: Mutex::new(std::time::Duration::ZERO),
            reused: Mutex::new(None),
        });
        let router = Router::new()
            .route("/v1/images/edits", post(openai_edit))
            .route("/openai/deployments/{deployment}/images/edits", post(azure_edit))
            .route("/files/{name}", get(file))
            .layer(DefaultBodyLimit::max(256 * 1024 * 1024))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind the emulator");
        let addr = listener.local_addr().expect("emulator address");
        *state.base.lock().expect("lock") = format!("http://{addr}");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { addr, state, task }
    }

    /// The OpenAI base URL (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The Azure resource endpoint (`http://127.0.0.1:PORT`).
    pub fn azure_endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Declares an Azure deployment running `model` (by default a deployment
    /// runs the model it is named after, or gpt-image-1.5).
    pub fn deploy(&self, deployment: &str, model: &str) {
        self.state
            .deployments
            .lock()
            .expect("lock")
            .insert(deployment.into(), model.into());
    }

    /// Queues replies for the next requests; after them, every answer is [`Reply::Success`].
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.script.lock().expect("lock").extend(replies);
    }

    /// Makes every normal answer ([`Reply::Success`]) wait this long after
    /// the request was read: a simulated service time. Faults are answered
    /// at once, and [`Reply::SuccessAfter`] waits its own time instead.
    pub fn set_latency(&self, latency: std::time::Duration) {
        *self.state.latency.lock().expect("lock") = latency;
    }

    /// With `true`, a normal JSON answer is computed once per distinct
    /// request content (model, fields, image and mask bytes) and then
    /// reused, with a new request id: a benchmark that sends the same edit
    /// many times then measures its client, not the emulator's PNG encoder.
    /// Every request is still read, checked and recorded.
    pub fn set_reuse_answers(&self, reuse: bool) {
        *self.state.reused.lock().expect("lock") = reuse.then(BTreeMap::new);
    }

    /// Every edit request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().expect("lock").clone()
    }

    /// How many edit requests reached the emulator.
    pub fn post_count(&self) -> usize {
        self.state.requests.lock().expect("lock").len()
    }

    /// The last edit request.
    pub fn last(&self) -> Recorded {
        self.requests()
            .pop()
            .expect("at least one request reached the emulator")
    }

    /// Every problem seen: bad requests, and answers of the emulator that the spec would not allow.
    pub fn problems(&self) -> Vec<String> {
        let mut all: Vec<String> = self.requests().into_iter().flat_map(|r| r.problems).collect();
        all.extend(self.state.answer_problems.lock().expect("lock").iter().cloned());
        all
    }
}

/// A server that reads one whole request per connection and then closes the
/// connection without answering (a connection reset after the request was
/// sent). Returns its base URL and the number of requests it read.
pub async fn start_resetting_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                if read_whole_request(&mut socket).await {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                // Reset rather than close politely.
                let _ = socket.set_zero_linger();
                drop(socket);
            });
        }
    });
    (format!("http://{addr}/v1"), count)
}

/// Reads headers and a Content-Length (or chunked) body; true when a whole request arrived.
async fn read_whole_request(socket: &mut tokio::net::TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let Ok(n) = socket.read(&mut chunk).await else {
            return false;
        };
        if n == 0 {
            return false;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let body = &buf[end + 4..];
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        let done = match length {
            Some(length) => body.len() >= length,
            None => body.ends_with(b"0\r\n\r\n"),
        };
        if done {
            return true;
        }
    }
}

async fn openai_edit(
    State(state): State<Arc<EmulatorState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let authorised =
        headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {EMULATOR_KEY}"));
    handle(
        state,
        Route::OpenAI,
        "/v1/images/edits".into(),
        query,
        headers,
        multipart,
        authorised,
    )
    .await
}

async fn azure_edit(
    State(state): State<Arc<EmulatorState>>,
    Path(deployment): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let authorised = headers.get("api-key").and_then(|v| v.to_str().ok()) == Some(EMULATOR_KEY);
    let path = format!("/openai/deployments/{deployment}/images/edits");
    let model = state.deployments.lock().expect("lock").get(&deployment).cloned();
    let model = model.unwrap_or_else(|| {
        let known = [
            "dall-e-2",
            "gpt-image-1",
            "gpt-image-1-mini",
            "gpt-image-1.5",
            "gpt-image-2",
        ];
        if known.contains(&deployment.as_str()) {
            deployment.clone()
        } else {
            "gpt-image-1.5".into()
        }
    });
    handle(
        state,
        Route::Azure { model },
        path,
        query,
        headers,
        multipart,
        authorised,
    )
    .await
}

async fn file(State(state): State<Arc<EmulatorState>>, Path(name): Path<String>) -> Response {
    match state.files.lock().expect("lock").get(&name) {
        Some(bytes) => ([("content-type", "image/png")], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Route {
    OpenAI,
    /// An Azure deployment, and the model it runs.
    Azure {
        model: String,
    },
}

fn error_body(message: &str, kind: &str, code: Option<&str>, param: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

fn json_response(status: u16, request_id: &str, body: &Value, extra: &[(&str, &str)]) -> Response {
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-request-id", request_id);
    for (name, value) in extra {
        response = response.header(*name, *value);
    }
    response.body(Body::from(body.to_string())).expect("a valid response")
}

async fn read_parts(multipart: &mut Multipart) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(str::to_string);
        let bytes = field.bytes().await.map_err(|e| e.to_string())?.to_vec();
        let value = if filename.is_some() {
            PartValue::File {
                filename,
                content_type,
                bytes,
            }
        } else {
            PartValue::Text(String::from_utf8(bytes).map_err(|_| format!("field `{name}` is not UTF-8 text"))?)
        };
        parts.push(Part { name, value });
    }
    Ok(parts)
}

async fn handle(
    state: Arc<EmulatorState>,
    route: Route,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
    authorised: bool,
) -> Response {
    let k = state.counter.fetch_add(1, Ordering::SeqCst) + 1;
    let request_id = format!("req_emu_{k}");
    let mut problems = Vec::new();
    let parts = match multipart {
        Ok(mut multipart) => match read_parts(&mut multipart).await {
            Ok(parts) => parts,
            Err(e) => {
                problems.push(format!("unreadable multipart body: {e}"));
                Vec::new()
            }
        },
        Err(e) => {
            problems.push(format!(
                "the body is not multipart/form-data ({e}); the spec allows {:?}",
                state.spec.request_media_types()
            ));
            Vec::new()
        }
    };
    if !parts.is_empty() {
        problems.extend(state.spec.check_edit_multipart(&parts));
        problems.extend(service_rules(&parts, &route, query.as_deref()));
    }
    state.requests.lock().expect("lock").push(Recorded {
        path,
        query,
        headers,
        parts: parts.clone(),
        problems: problems.clone(),
    });
    if !authorised {
        let body = error_body(
            "Incorrect API key provided.",
            "invalid_request_error",
            Some("invalid_api_key"),
            None,
        );
        return json_response(401, &request_id, &body, &[]);
    }
    if !problems.is_empty() {
        let body = error_body(&problems.join("; "), "invalid_request_error", None, None);
        return json_response(400, &request_id, &body, &[]);
    }
    let reply = state.script.lock().expect("lock").pop_front().unwrap_or(Reply::Success);
    match reply {
        Reply::Success => {
            let latency = *state.latency.lock().expect("lock");
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            if state.reused.lock().expect("lock").is_some() {
                return reused_success(&state, &route, &parts, &request_id).await;
            }
            success(&state, &route, &parts, &request_id)
        }
        Reply::SuccessAfter(delay) => {
            tokio::time::sleep(delay).await;
            success(&state, &route, &parts, &request_id)
        }
        Reply::Error {
            status,
            code,
            kind,
            headers,
        } => {
            let body = error_body(&format!("emulated {code}"), kind, Some(code), None);
            json_response(status, &request_id, &body, &headers)
        }
        Reply::Raw {
            status,
            content_type,
            body,
        } => Response::builder()
            .status(status)
            .header("content-type", content_type)
            .header("x-request-id", &request_id)
            .body(Body::from(body))
            .expect("a valid response"),
        Reply::Hang => {
            std::future::pending::<()>().await;
            unreachable!("pending never completes")
        }
        Reply::StallAfterPartials(partials) => {
            let events = EditPlan::new(&route, &parts).partial_events(&state, partials);
            let stream = futures::stream::iter(events.into_iter().map(Ok::<_, std::io::Error>))
                .chain(futures::stream::pending());
            sse_response(&request_id, Body::from_stream(stream))
        }
        Reply::StreamErrorAfterPartials(partials, code) => {
            let mut events = EditPlan::new(&route, &parts).partial_events(&state, partials);
            let error = json!({"type": "error", "error": {"message": format!("emulated {code}"), "type": "image_generation_user_error", "param": null, "code": code}});
            events.push(format!("event: error\ndata: {error}\n\n"));
            sse_response(&request_id, Body::from(events.concat()))
        }
    }
}

/// [`success`], reusing the JSON answer of an earlier request with the same content.
async fn reused_success(state: &EmulatorState, route: &Route, parts: &[Part], request_id: &str) -> Response {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    format!("{route:?}").hash(&mut hasher);
    for part in parts {
        part.name.hash(&mut hasher);
        match &part.value {
            PartValue::Text(text) => text.hash(&mut hasher),
            PartValue::File { bytes, .. } => bytes.hash(&mut hasher),
        }
    }
    let key = hasher.finish();
    let known = state
        .reused
        .lock()
        .expect("lock")
        .as_ref()
        .and_then(|answers| answers.get(&key).cloned());
    if let Some(body) = known {
        return Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("x-request-id", request_id)
            .body(Body::from(body))
            .expect("a valid response");
    }
    let response = success(state, route, parts, request_id);
    let json = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes() == b"application/json");
    if !json {
        return response;
    }
    let (head, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("an in-memory answer");
    if let Some(answers) = state.reused.lock().expect("lock").as_mut() {
        answers.insert(key, body.clone());
    }
    Response::from_parts(head, Body::from(body))
}

fn sse_response(request_id: &str, body: Body) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("x-request-id", request_id)
        .body(body)
        .expect("a valid response")
}

/// What the request asked for, as far as the answer is concerned.
#[derive(Debug)]
struct EditPlan {
    family_dall_e_2: bool,
    n: usize,
    width: u32,
    height: u32,
    output_format: String,
    response_format: String,
    stream: bool,
    partial_images: u32,
    quality: String,
    background: String,
    /// The first image with its mask's edit area (alpha 0) marked, when both decode at the output size.
    input: Option<(RgbaImage, Option<RgbaImage>)>,
}

fn decoded(part: Option<&Part>) -> Option<RgbaImage> {
    let PartValue::File { bytes, .. } = &part?.value else {
        return None;
    };
    Some(image::load_from_memory(bytes).ok()?.to_rgba8())
}

fn text<'a>(parts: &'a [Part], name: &str) -> Option<&'a str> {
    parts.iter().find(|p| p.name == name).and_then(Part::as_text)
}

fn model_of(route: &Route, parts: &[Part]) -> String {
    match route {
        Route::OpenAI => text(parts, "model").unwrap_or("gpt-image-1.5").to_string(),
        Route::Azure { model } => model.clone(),
    }
}

impl EditPlan {
    fn new(route: &Route, parts: &[Part]) -> Self {
        let model = model_of(route, parts);
        let first = parts.iter().find(|p| p.name == "image" || p.name == "image[]");
        let (mut width, mut height) = first.and_then(|p| dimensions(p).ok()).unwrap_or((1024, 1024));
        if let Some((w, h)) = text(parts, "size").and_then(|s| s.split_once('x')) {
            width = w.parse().unwrap_or(width);
            height = h.parse().unwrap_or(height);
        }
        let input = decoded(first)
            .filter(|img| img.dimensions() == (width, height))
            .map(|img| (img, decoded(parts.iter().find(|p| p.name == "mask"))));
        Self {
            input,
            family_dall_e_2: model == "dall-e-2",
            n: text(parts, "n").and_then(|n| n.parse().ok()).unwrap_or(1),
            width,
            height,
            output_format: text(parts, "output_format").unwrap_or("png").to_string(),
            response_format: text(parts, "response_format").unwrap_or("url").to_string(),
            stream: text(parts, "stream") == Some("true"),
            partial_images: text(parts, "partial_images").and_then(|n| n.parse().ok()).unwrap_or(0),
            quality: match text(parts, "quality").unwrap_or("auto") {
                "auto" | "standard" => "medium".to_string(),
                other => other.to_string(),
            },
            background: match text(parts, "background").unwrap_or("auto") {
                "transparent" => "transparent".to_string(),
                _ => "opaque".to_string(),
            },
        }
    }

    fn image_bytes(&self, index: usize, partial: bool) -> Vec<u8> {
        let shade = if partial { 60 } else { 200 };
        let colour = Rgba([shade, (index * 40 % 256) as u8, 255 - shade, 255]);
        // Like an edit: the input kept outside the mask, the edit area painted.
        let pixels = match &self.input {
            Some((base, mask)) => {
                let mut out = base.clone();
                for (x, y, px) in out.enumerate_pixels_mut() {
                    let edit = match mask {
                        Some(mask) => mask.get_pixel(x, y)[3] == 0,
                        None => px[3] == 0,
                    };
                    if edit {
                        *px = colour;
                    }
                }
                out
            }
            None => RgbaImage::from_pixel(self.width, self.height, colour),
        };
        let img = DynamicImage::ImageRgba8(pixels);
        let (img, format) = match self.output_format.as_str() {
            "jpeg" => (DynamicImage::ImageRgb8(img.to_rgb8()), image::ImageFormat::Jpeg),
            "webp" => (img, image::ImageFormat::WebP),
            _ => (img, image::ImageFormat::Png),
        };
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), format)
            .expect("encode a result");
        out
    }

    /// `size` of an answer, where the spec's enum has it.
    fn size_field(&self) -> Option<String> {
        let size = format!("{}x{}", self.width, self.height);
        ["1024x1024", "1024x1536", "1536x1024"]
            .contains(&size.as_str())
            .then_some(size)
    }

    fn usage(&self) -> Value {
        json!({
            "input_tokens": 50, "output_tokens": 1000, "total_tokens": 1050,
            "input_tokens_details": {"text_tokens": 10, "image_tokens": 40}
        })
    }

    fn event(&self, state: &EmulatorState, schema: &str, mut event: Value) -> String {
        if let Some(size) = self.size_field() {
            event["size"] = json!(size);
        } else {
            event["size"] = json!("auto");
        }
        event["quality"] = json!(self.quality);
        event["background"] = json!(self.background);
        event["output_format"] = json!(self.output_format);
        event["created_at"] = json!(1_700_000_000);
        let problems = state.spec.check_json(schema, &event);
        state.answer_problems.lock().expect("lock").extend(problems);
        let kind = event["type"].as_str().unwrap_or_default().to_string();
        format!("event: {kind}\ndata: {event}\n\n")
    }

    fn partial_events(&self, state: &EmulatorState, partials: u32) -> Vec<String> {
        (0..partials)
            .map(|i| {
                let event = json!({
                    "type": "image_edit.partial_image",
                    "b64_json": BASE64.encode(self.image_bytes(i as usize, true)),
                    "partial_image_index": i,
                });
                self.event(state, "ImageEditPartialImageEvent", event)
            })
            .collect()
    }
}

fn success(state: &EmulatorState, route: &Route, parts: &[Part], request_id: &str) -> Response {
    let plan = EditPlan::new(route, parts);
    if plan.stream {
        let mut events = plan.partial_events(state, plan.partial_images);
        for i in 0..plan.n {
            let event = json!({
                "type": "image_edit.completed",
                "b64_json": BASE64.encode(plan.image_bytes(i, false)),
                "usage": plan.usage(),
            });
            events.push(plan.event(state, "ImageEditCompletedEvent", event));
        }
        return sse_response(request_id, Body::from(events.concat()));
    }
    let base = state.base.lock().expect("lock").clone();
    let data: Vec<Value> = (0..plan.n)
        .map(|i| {
            let bytes = plan.image_bytes(i, false);
            if plan.family_dall_e_2 && plan.response_format == "url" {
                let name = format!("{request_id}-{i}.png");
                state.files.lock().expect("lock").insert(name.clone(), bytes);
                json!({"url": format!("{base}/files/{name}")})
            } else {
                json!({"b64_json": BASE64.encode(bytes)})
            }
        })
        .collect();
    let mut body = json!({"created": 1_700_000_000, "data": data});
    if !plan.family_dall_e_2 {
        body["usage"] = plan.usage();
        body["output_format"] = json!(plan.output_format);
        body["quality"] = json!(plan.quality);
        body["background"] = json!(plan.background);
        if let Some(size) = plan.size_field() {
            body["size"] = json!(size);
        }
    }
    let problems = state.spec.check_json("ImagesResponse", &body);
    state.answer_problems.lock().expect("lock").extend(problems);
    json_response(200, request_id, &body, &[])
}

/// Width and height of an image part.
fn dimensions(part: &Part) -> Result<(u32, u32), String> {
    let PartValue::File { bytes, .. } = &part.value else {
        return Err("not a file".into());
    };
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    reader.into_dimensions().map_err(|e| e.to_string())
}

/// Colour type of an image part.
fn colour_type(bytes: &[u8]) -> Option<image::ColorType> {
    let reader = image::ImageReader::new(Cursor::new(bytes)).with_guessed_format().ok()?;
    Some(reader.into_decoder().ok()?.color_type())
}

const MB: usize = 1024 * 1024;
const GPT_ONLY_FIELDS: &[&str] = &[
    "background",
    "output_format",
    "output_compression",
    "input_fidelity",
    "stream",
    "partial_images",
];

/// What the service checks beyond the schema.
fn service_rules(parts: &[Part], route: &Route, query: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    let model = model_of(route, parts);
    let dall_e_2 = model == "dall-e-2";
    match route {
        Route::OpenAI if text(parts, "model").is_none() => {
            problems.push("msgflux always names the model on OpenAI; `model` is missing".into())
        }
        Route::Azure { .. } if text(parts, "model").is_some() => {
            problems.push("Azure picks the model by deployment; `model` must not be sent".into())
        }
        Route::Azure { .. } if query != Some(&format!("api-version={EMULATOR_API_VERSION}")) => problems.push(format!(
            "Azure needs `api-version={EMULATOR_API_VERSION}`, got {query:?}"
        )),
        _ => {}
    }
    let singles: Vec<&Part> = parts.iter().filter(|p| p.name == "image").collect();
    let arrays: Vec<&Part> = parts.iter().filter(|p| p.name == "image[]").collect();
    let images: Vec<&Part> = singles.iter().chain(arrays.iter()).copied().collect();
    if arrays.len() == 1 {
        problems.push("one image must be sent as `image`, not `image[]`".into());
    }
    if dall_e_2 && !arrays.is_empty() {
        problems.push("dall-e-2 takes exactly one `image`".into());
    }
    for part in parts {
        if let PartValue::File {
            filename,
            content_type,
            bytes,
        } = &part.value
        {
            if filename.as_deref().is_none_or(str::is_empty) {
                problems.push(format!("`{}` has no filename", part.name));
            }
            let sniffed = image::guess_format(bytes).ok().map(|f| f.to_mime_type());
            if content_type.as_deref() != sniffed {
                problems.push(format!(
                    "`{}` is sent as {content_type:?} but its bytes are {sniffed:?}",
                    part.name
                ));
            }
        }
    }
    let prompt_chars = text(parts, "prompt").map_or(0, |p| p.chars().count());
    let max_prompt = if dall_e_2 { 1000 } else { 32_000 };
    if prompt_chars > max_prompt {
        problems.push(format!(
            "prompt has {prompt_chars} characters; {model} takes {max_prompt}"
        ));
    }
    for (i, image) in images.iter().enumerate() {
        let PartValue::File { bytes, .. } = &image.value else {
            continue;
        };
        let format = image::guess_format(bytes).ok();
        if dall_e_2 {
            if format != Some(image::ImageFormat::Png) {
                problems.push(format!("image {i}: dall-e-2 takes PNG"));
            }
            if bytes.len() > 4 * MB {
                problems.push(format!("image {i}: dall-e-2 takes files up to 4 MB"));
            }
            match dimensions(image) {
                Ok((w, h)) if w != h => problems.push(format!("image {i}: dall-e-2 takes square images, got {w}x{h}")),
                Err(e) => problems.push(format!("image {i}: {e}")),
                _ => {}
            }
            use image::ColorType::{L8, L16, La8, La16, Rgba8, Rgba16};
            if !matches!(colour_type(bytes), Some(Rgba8 | Rgba16 | La8 | La16 | L8 | L16)) {
                problems.push(format!("image {i}: format must be in ['RGBA', 'LA', 'L']"));
            }
        } else {
            if !matches!(
                format,
                Some(image::ImageFormat::Png | image::ImageFormat::Jpeg | image::ImageFormat::WebP)
            ) {
                problems.push(format!("image {i}: GPT image models take png, webp or jpg"));
            }
            if bytes.len() > 50 * MB {
                problems.push(format!("image {i}: files must be under 50 MB"));
            }
        }
    }
    if let Some(mask) = parts.iter().find(|p| p.name == "mask") {
        if let PartValue::File { bytes, .. } = &mask.value {
            if image::guess_format(bytes).ok() != Some(image::ImageFormat::Png) {
                problems.push("mask must be a PNG".into());
            }
            if !colour_type(bytes).is_some_and(|c| c.has_alpha()) {
                problems.push("mask must have an alpha channel".into());
            }
            if bytes.len() > 4 * MB {
                problems.push("mask must be under 4 MB".into());
            }
            if let (Ok(mask_size), Some(Ok(image_size))) = (dimensions(mask), images.first().map(|p| dimensions(p))) {
                if mask_size != image_size {
                    problems.push(format!("mask is {mask_size:?} but the image is {image_size:?}"));
                }
            }
        }
    }
    if dall_e_2 {
        for field in GPT_ONLY_FIELDS {
            if text(parts, field).is_some() {
                problems.push(format!("`{field}` is not supported by dall-e-2"));
            }
        }
        if let Some(size) = text(parts, "size")
            && !["256x256", "512x512", "1024x1024"].contains(&size)
        {
            problems.push(format!("dall-e-2 does not make {size}"));
        }
    } else {
        if text(parts, "response_format").is_some() {
            problems.push("`response_format` is only supported for dall-e-2".into());
        }
        if model.starts_with("gpt-image-1-mini") && text(parts, "input_fidelity").is_some() {
            problems.push("`input_fidelity` is not supported by gpt-image-1-mini".into());
        }
        if images.len() > 16 {
            problems.push("at most 16 images".into());
        }
    }
    problems
}
