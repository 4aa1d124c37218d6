//! A small in-process emulator of OpenAI's `POST /v1/images/edits` (as
//! published in the OpenAPI spec), for driving `msgflux --base-url` without
//! a key or a network. It checks what the real API checks and records each
//! request; the prompt picks the behaviour:
//!
//! - contains `refuse`: 400 `content_policy_violation` with `x-request-id: req_refused`;
//! - contains `hang`: never answers (for timeouts and Ctrl-C);
//! - otherwise: `n` results (URLs for dall-e-2 with `response_format=url`,
//!   base64 otherwise), or server-sent events with `partial_images` partial
//!   images when `stream=true`; always with an `x-request-id`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

/// The key the emulator accepts.
pub const KEY: &str = "sk-emulator-key";

/// One multipart field as received.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// A text field.
    Text(String),
    /// A file part.
    File {
        /// Its file name.
        filename: Option<String>,
        /// Its content type.
        content_type: Option<String>,
        /// Its length.
        bytes: usize,
    },
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct ReceivedEdit {
    /// The fields, in order.
    pub fields: Vec<(String, Received)>,
}

impl ReceivedEdit {
    /// The text of a field.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields.iter().find_map(|(n, v)| match v {
            Received::Text(t) if n == name => Some(t.as_str()),
            _ => None,
        })
    }

    /// Field names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|(n, _)| n.as_str()).collect()
    }
}

#[derive(Clone)]
struct Shared {
    base_url: String,
    received: Arc<Mutex<Vec<ReceivedEdit>>>,
    counter: Arc<AtomicU64>,
    result_png: Arc<Vec<u8>>,
}

/// A running emulator; it lives as long as the test process.
pub struct OpenAiEmulator {
    /// `http://127.0.0.1:PORT/v1`, for `--base-url`.
    pub base_url: String,
    received: Arc<Mutex<Vec<ReceivedEdit>>>,
}

impl OpenAiEmulator {
    /// Starts an emulator on a free port of 127.0.0.1.
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let base_url = format!("http://{addr}/v1");
        let received = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            base_url: base_url.clone(),
            received: received.clone(),
            counter: Arc::new(AtomicU64::new(0)),
            result_png: Arc::new(result_png()),
        };
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let app = Router::new()
                    .route("/v1/images/edits", post(edit))
                    .route("/v1/files/{name}", get(file))
                    .with_state(shared);
                axum::serve(listener, app).await.expect("serve");
            });
        });
        Self { base_url, received }
    }

    /// The edit requests received so far.
    pub fn received(&self) -> Vec<ReceivedEdit> {
        self.received.lock().expect("lock").clone()
    }
}

/// An 8x8 red PNG: the emulator's result.
fn result_png() -> Vec<u8> {
    let image = image::RgbaImage::from_pixel(8, 8, image::Rgba([200, 30, 30, 255]));
    let mut bytes = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("encode png");
    bytes
}

fn error(status: StatusCode, request_id: &str, code: &str, message: &str, param: Option<&str>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-request-id", request_id)
        .body(Body::from(
            json!({ "error": { "message": message, "type": "invalid_request_error", "param": param, "code": code } })
                .to_string(),
        ))
        .expect("response")
}

async fn edit(State(shared): State<Shared>, headers: HeaderMap, mut multipart: Multipart) -> Response {
    let request_id = format!("req_{}", shared.counter.fetch_add(1, Ordering::SeqCst) + 1);
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}")) {
        return error(
            StatusCode::UNAUTHORIZED,
            &request_id,
            "invalid_api_key",
            "Incorrect API key provided",
            None,
        );
    }
    let mut fields = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let filename = field.file_name().map(str::to_string);
                let content_type = field.content_type().map(str::to_string);
                let data = field.bytes().await.unwrap_or_default();
                let value = if filename.is_some() {
                    Received::File {
                        filename,
                        content_type,
                        bytes: data.len(),
                    }
                } else {
                    Received::Text(String::from_utf8_lossy(&data).into_owned())
                };
                fields.push((name, value));
            }
            Ok(None) => break,
            Err(err) => {
                let message = format!("malformed multipart body: {err}");
                return error(StatusCode::BAD_REQUEST, &request_id, "invalid_request", &message, None);
            }
        }
    }
    let received = ReceivedEdit { fields };
    shared.received.lock().expect("lock").push(received.clone());

    for (name, value) in &received.fields {
        if let Received::File {
            filename, content_type, ..
        } = value
        {
            let image_type = content_type
                .as_deref()
                .is_some_and(|t| matches!(t, "image/png" | "image/jpeg" | "image/webp"));
            if filename.is_none() || !image_type {
                let message = format!("Invalid file '{name}': unsupported mimetype ('{content_type:?}')");
                return error(
                    StatusCode::BAD_REQUEST,
                    &request_id,
                    "invalid_image_format",
                    &message,
                    Some(name),
                );
            }
        }
    }
    let model = received.text("model").unwrap_or("dall-e-2").to_string();
    let Some(prompt) = received.text("prompt").map(str::to_string) else {
        return error(
            StatusCode::BAD_REQUEST,
            &request_id,
            "missing_required_parameter",
            "prompt is required",
            Some("prompt"),
        );
    };
    if prompt.contains("refuse") {
        let message = "Your request was rejected as a result of our safety system.";
        return error(
            StatusCode::BAD_REQUEST,
            "req_refused",
            "content_policy_violation",
            message,
            None,
        );
    }
    if prompt.contains("hang") {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let n: usize = received.text("n").and_then(|n| n.parse().ok()).unwrap_or(1);
    let b64 = BASE64.encode(shared.result_png.as_slice());
    let usage = json!({
        "total_tokens": 300, "input_tokens": 100, "output_tokens": 200,
        "input_tokens_details": { "text_tokens": 10, "image_tokens": 90 }
    });

    if received.text("stream") == Some("true") {
        let partials: u32 = received
            .text("partial_images")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let mut body = String::new();
        for index in 0..partials {
            let event = json!({ "type": "image_edit.partial_image", "b64_json": b64, "partial_image_index": index, "created_at": 1 });
            body.push_str(&format!("event: image_edit.partial_image\ndata: {event}\n\n"));
        }
        let done = json!({ "type": "image_edit.completed", "b64_json": b64, "created_at": 1, "usage": usage });
        body.push_str(&format!("event: image_edit.completed\ndata: {done}\n\n"));
        return Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream")
            .header("x-request-id", &request_id)
            .body(Body::from(body))
            .expect("response");
    }

    let data: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            if model == "dall-e-2" && received.text("response_format") == Some("url") {
                json!({ "url": format!("{}/files/result-{i}.png", shared.base_url) })
            } else {
                json!({ "b64_json": b64 })
            }
        })
        .collect();
    let mut answer = json!({ "created": 1, "data": data });
    if model != "dall-e-2" {
        answer["usage"] = usage;
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-request-id", &request_id)
        .body(Body::from(answer.to_string()))
        .expect("response")
}

async fn file(State(shared): State<Shared>, Path(_name): Path<String>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "image/png")
        .body(Body::from(shared.result_png.as_ref().clone()))
        .expect("response")
}
