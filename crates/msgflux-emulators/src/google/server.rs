//! The routes, the one place that reads, checks, records and answers a
//! request, and every [`Fault`] in Google's words (`google.rpc.Status`).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use image::GrayImage;
use serde_json::{Value, json};

use super::{EMULATOR_KEY, EMULATOR_TOKEN, FILE, GENERATE, State as EmulatorState, StoredFile, UPLOAD, UPLOAD_START};
use crate::engine::{Arrival, Contract, Fault, RecordedBody, encode, lock, paint};

type Shared = Arc<EmulatorState>;

/// The Gemini API's routes and Vertex AI's.
pub(super) fn router(state: Shared) -> Router {
    Router::new()
        .route("/v1beta/models/{call}", post(gemini_generate))
        .route(
            "/v1/projects/{project}/locations/{location}/publishers/google/models/{call}",
            post(vertex_generate),
        )
        .route("/upload/v1beta/files", post(upload))
        .route("/v1beta/files/{id}", get(file))
        .layer(DefaultBodyLimit::max(512 * 1024 * 1024))
        .with_state(state)
}

/// What a model accepts, as the service checks it.
struct ModelRules {
    max_images: usize,
    ratios: &'static [&'static str],
    sizes: &'static [&'static str],
    /// Output image tokens per image at 1K.
    tokens_1k: u64,
}

const TEN: &[&str] = &["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"];
const FOURTEEN: &[&str] = &[
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "1:4", "4:1", "1:8", "8:1",
];

fn model_rules(model: &str) -> Option<ModelRules> {
    Some(match model {
        "gemini-2.5-flash-image" | "gemini-2.5-flash-image-preview" => ModelRules {
            max_images: 3,
            ratios: TEN,
            sizes: &[],
            tokens_1k: 1290,
        },
        "gemini-3-pro-image" | "gemini-3-pro-image-preview" | "nano-banana-pro-preview" => ModelRules {
            max_images: 14,
            ratios: TEN,
            sizes: &["1K", "2K", "4K"],
            tokens_1k: 1120,
        },
        "gemini-3.1-flash-image" | "gemini-3.1-flash-image-preview" => ModelRules {
            max_images: 14,
            ratios: FOURTEEN,
            sizes: &["512", "1K", "2K", "4K"],
            tokens_1k: 1120,
        },
        "gemini-nano-banana-2.1" => ModelRules {
            max_images: 14,
            ratios: FOURTEEN,
            sizes: &["1K", "2K", "4K"],
            tokens_1k: 1120,
        },
        "gemini-3.1-flash-lite-image" => ModelRules {
            max_images: 14,
            ratios: TEN,
            sizes: &[],
            tokens_1k: 1120,
        },
        _ => return None,
    })
}

/// A `bytes` field as proto3's JSON mapping reads it: standard or URL-safe
/// base64, padded or not (Google's SDKs send URL-safe).
fn proto_bytes(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    BASE64
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .or_else(|_| STANDARD_NO_PAD.decode(text))
        .or_else(|_| URL_SAFE_NO_PAD.decode(text))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `{"error": google.rpc.Status}` with the canonical code's name for `status`.
fn status_body(code: u16, message: &str, details: Value) -> Value {
    let name = match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        500..=599 => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    };
    json!({"error": {"code": code, "message": message, "status": name, "details": details}})
}

fn json_response(status: u16, body: &Value, extra: &[(&str, &str)]) -> Response {
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=UTF-8");
    for (name, value) in extra {
        response = response.header(*name, *value);
    }
    response.body(Body::from(body.to_string())).unwrap_or_default()
}

fn retry_info(delay: std::time::Duration) -> Value {
    json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{:.3}s", delay.as_secs_f64())})
}

/// Which API a request came by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Gemini,
    Vertex,
}

async fn gemini_generate(
    State(state): State<Shared>,
    Path(call): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut problems = Vec::new();
    let by_header = header(&headers, "x-goog-api-key") == Some(EMULATOR_KEY);
    let in_query = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|p| p == format!("key={EMULATOR_KEY}")));
    if in_query {
        problems.push(
            "the API key was sent in the URL, where logs and proxies keep it (msgflux's rule: send x-goog-api-key)"
                .into(),
        );
    }
    let path = format!("/v1beta/models/{call}");
    generate(
        state,
        Api::Gemini,
        path,
        call,
        query,
        headers,
        body,
        by_header || in_query,
        problems,
    )
    .await
}

async fn vertex_generate(
    State(state): State<Shared>,
    Path((project, location, call)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorised = header(&headers, "authorization") == Some(&format!("Bearer {EMULATOR_TOKEN}"));
    let path = format!("/v1/projects/{project}/locations/{location}/publishers/google/models/{call}");
    generate(
        state,
        Api::Vertex,
        path,
        call,
        query,
        headers,
        body,
        authorised,
        Vec::new(),
    )
    .await
}

/// The images of a request, in order: bytes, and whether each is the mask hint.
struct Inputs {
    images: Vec<Vec<u8>>,
    hint: bool,
    prompt: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn generate(
    state: Shared,
    api: Api,
    path: String,
    call: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
    authorised: bool,
    mut problems: Vec<String>,
) -> Response {
    let (model, method) = call.split_once(':').unwrap_or((call.as_str(), ""));
    let model = model.to_string();
    if method != "generateContent" {
        problems.push(format!(
            "`{method}` is not generateContent (the emulator serves generateContent only)"
        ));
    }
    let json: Option<Value> = match serde_json::from_slice(&body) {
        Ok(value) => Some(value),
        Err(e) => {
            problems.push(format!("the body is not JSON: {e}"));
            None
        }
    };
    let mut inputs = Inputs {
        images: Vec::new(),
        hint: false,
        prompt: None,
    };
    if let Some(json) = &json {
        let pointer = Contract::request_body("/v1beta/models/{model}:generateContent", "post", "application/json");
        problems.extend(state.contract.check(&pointer, json));
        inputs = service_rules(&state, api, &model, json, &mut problems);
    }
    let request_id = state.journal.record(
        Arrival {
            operation: GENERATE,
            paid: true,
            method: "POST",
            path: &path,
            query: query.as_deref(),
            headers: &headers,
        },
        json.clone().map_or(RecordedBody::Other(body.len()), RecordedBody::Json),
        problems.clone(),
    );
    if !authorised {
        let body = match api {
            Api::Gemini => status_body(
                400,
                "API key not valid. Please pass a valid API key.",
                json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]),
            ),
            Api::Vertex => status_body(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED", "domain": "googleapis.com"}]),
            ),
        };
        let status = body["error"]["code"].as_u64().unwrap_or(400) as u16;
        return json_response(status, &body, &[]);
    }
    if !problems.is_empty() {
        let body = status_body(400, &problems.join("; "), json!([]));
        return json_response(400, &body, &[]);
    }
    let json = json.unwrap_or(Value::Null);
    match state.script.take(GENERATE, true, inputs.prompt.as_deref()) {
        None => {
            let latency = *lock(&state.latency);
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            success(&state, &model, &json, &inputs, &request_id, false)
        }
        Some(fault) => answer_fault(&state, &model, &json, &inputs, &request_id, fault).await,
    }
}

/// The service's rules beyond the contract; returns the request's images.
fn service_rules(state: &EmulatorState, api: Api, model: &str, json: &Value, problems: &mut Vec<String>) -> Inputs {
    let rules = model_rules(model);
    if rules.is_none() {
        problems.push(format!("models/{model} is not an image model the emulator knows"));
    }
    let config = &json["generationConfig"];
    let modalities: Vec<&str> = config["responseModalities"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !modalities.contains(&"IMAGE") {
        problems
            .push("generationConfig.responseModalities must include IMAGE, or the model answers with text only".into());
    }
    if let Some(rules) = &rules {
        if let Some(ratio) = config["imageConfig"]["aspectRatio"].as_str()
            && !rules.ratios.contains(&ratio)
        {
            problems.push(format!("{model} does not make aspect ratio {ratio}"));
        }
        if let Some(size) = config["imageConfig"]["imageSize"].as_str()
            && !rules.sizes.contains(&size)
        {
            problems.push(if rules.sizes.is_empty() {
                format!("{model} has one resolution and takes no imageSize (got {size})")
            } else {
                format!(
                    "{model} does not make imageSize {size}; it makes {}",
                    rules.sizes.join(", ")
                )
            });
        }
    }
    let contents = json["contents"].as_array().cloned().unwrap_or_default();
    if contents.len() != 1 {
        problems.push(format!("an edit is one user turn; got {} contents", contents.len()));
    }
    let mut inputs = Inputs {
        images: Vec::new(),
        hint: false,
        prompt: None,
    };
    let mut inline_bytes = 0usize;
    for content in &contents {
        if api == Api::Vertex && content["role"].as_str() != Some("user") {
            problems.push("Vertex AI needs contents[].role \"user\"".into());
        }
        for (i, part) in content["parts"].as_array().into_iter().flatten().enumerate() {
            if let Some(text) = part["text"].as_str() {
                if inputs.prompt.is_none() {
                    inputs.prompt = Some(text.to_string());
                } else if text.contains("tinted red") || text.contains("outlined in red") {
                    inputs.hint = true;
                }
            }
            if let Some(blob) = part.get("inlineData") {
                let mime = blob["mimeType"].as_str().unwrap_or("");
                match proto_bytes(blob["data"].as_str().unwrap_or("")) {
                    Ok(bytes) => {
                        inline_bytes += bytes.len();
                        check_image(&format!("parts[{i}].inlineData"), mime, &bytes, problems);
                        inputs.images.push(bytes);
                    }
                    Err(e) => problems.push(format!("parts[{i}].inlineData.data is not base64: {e}")),
                }
            }
            if let Some(data) = part.get("fileData") {
                let uri = data["fileUri"].as_str().unwrap_or("");
                let id = uri.strip_prefix(&format!("{}/v1beta/files/", state.base));
                if api == Api::Vertex {
                    problems.push(format!("Vertex AI cannot read a Gemini Files API URI ({uri})"));
                }
                match id.and_then(|id| lock(&state.files).get(id).cloned()) {
                    Some(file) => {
                        if let Some(mime) = data["mimeType"].as_str()
                            && mime != file.mime
                        {
                            problems.push(format!(
                                "parts[{i}].fileData.mimeType {mime} is not the file's {}",
                                file.mime
                            ));
                        }
                        inputs.images.push(file.bytes);
                    }
                    None => problems.push(format!("parts[{i}].fileData.fileUri {uri} names no uploaded file")),
                }
            }
        }
    }
    // The hint image is not an input to edit.
    let edited = inputs.images.len() - usize::from(inputs.hint && inputs.images.len() > 1);
    if let Some(rules) = &rules
        && inputs.images.len() > rules.max_images
    {
        problems.push(format!(
            "{model} takes at most {} images, got {}",
            rules.max_images,
            inputs.images.len()
        ));
    }
    if edited == 0 {
        problems.push("no input image: an edit needs an inlineData or fileData image part".into());
    }
    let limit = match api {
        Api::Gemini => 100 * 1024 * 1024,
        Api::Vertex => 7 * 1024 * 1024,
    };
    if inline_bytes * 4 / 3 > limit {
        problems.push(format!(
            "{} bytes of inline images pass the request limit; use the Files API (Gemini API) or smaller images",
            inline_bytes
        ));
    }
    inputs
}

fn check_image(what: &str, mime: &str, bytes: &[u8], problems: &mut Vec<String>) {
    let sniffed = match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => "image/png",
        Ok(image::ImageFormat::Jpeg) => "image/jpeg",
        Ok(image::ImageFormat::WebP) => "image/webp",
        _ => "",
    };
    if !matches!(
        mime,
        "image/png" | "image/jpeg" | "image/webp" | "image/heic" | "image/heif"
    ) {
        problems.push(format!("{what}.mimeType `{mime}` is not an image type Gemini reads"));
    } else if sniffed.is_empty() || sniffed != mime {
        problems.push(format!("{what}: the bytes are not {mime}"));
    }
}

fn colour(prompt: &str, k: u64) -> [u8; 3] {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ k;
    for b in prompt.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    let [a, b, c, ..] = hash.to_le_bytes();
    [a, b, c]
}

/// The output size `imageConfig` asks for, or `None` (the first input's size).
fn output_size(config: &Value) -> Option<(u32, u32)> {
    let ratio = config["imageConfig"]["aspectRatio"].as_str();
    let size = config["imageConfig"]["imageSize"].as_str();
    if ratio.is_none() && size.is_none() {
        return None;
    }
    let (w, h) = ratio.and_then(|r| r.split_once(':')).unwrap_or(("1", "1"));
    let r = w.parse::<f64>().unwrap_or(1.0) / h.parse::<f64>().unwrap_or(1.0);
    let side = match size {
        Some("512") => 512.0,
        Some("2K") => 2048.0,
        Some("4K") => 4096.0,
        _ => 1024.0,
    };
    let width = (side * r.sqrt() / 16.0).round() * 16.0;
    let height = (side / r.sqrt() / 16.0).round() * 16.0;
    Some((width.max(16.0) as u32, height.max(16.0) as u32))
}

/// The area a mask hint marks: where the hint image differs from the first image.
fn hint_area(first: &[u8], hint: &[u8]) -> Option<GrayImage> {
    let a = image::load_from_memory(first).ok()?.to_rgba8();
    let b = image::load_from_memory(hint).ok()?.to_rgba8();
    if a.dimensions() != b.dimensions() {
        return None;
    }
    let mut area = GrayImage::from_fn(a.width(), a.height(), |x, y| {
        let (p, q) = (a.get_pixel(x, y), b.get_pixel(x, y));
        let differs = (0..3).any(|c| p[c].abs_diff(q[c]) > 8);
        image::Luma([if differs { 255 } else { 0 }])
    });
    // An outline marks its inside too: fill each row between the outline's ends.
    for y in 0..area.height() {
        let marked: Vec<u32> = (0..area.width()).filter(|&x| area.get_pixel(x, y)[0] > 0).collect();
        if let (Some(&start), Some(&end)) = (marked.first(), marked.last()) {
            for x in start..=end {
                area.put_pixel(x, y, image::Luma([255]));
            }
        }
    }
    Some(area)
}

/// A normal answer: the first image repainted (whole, or inside the hinted area).
fn success(
    state: &EmulatorState,
    model: &str,
    json: &Value,
    inputs: &Inputs,
    request_id: &str,
    broken: bool,
) -> Response {
    let Some(first) = inputs.images.first() else {
        return json_response(400, &status_body(400, "no input image", json!([])), &[]);
    };
    let prompt = inputs.prompt.clone().unwrap_or_default();
    let k = {
        let mut counter = lock(&state.counter);
        *counter += 1;
        *counter
    };
    let size = output_size(&json["generationConfig"]);
    let area = match (inputs.hint, inputs.images.last()) {
        (true, Some(hint)) if inputs.images.len() > 1 => hint_area(first, hint),
        _ => None,
    };
    let leak = if area.is_some() { *lock(&state.leak) } else { 0 };
    let data = if broken {
        BASE64.encode(b"this is not an image")
    } else {
        match paint(first, area.as_ref(), colour(&prompt, k), leak, size) {
            Ok(image) => BASE64.encode(encode(image, "png")),
            Err(e) => {
                return json_response(
                    400,
                    &status_body(400, &format!("Unable to process input image: {e}"), json!([])),
                    &[],
                );
            }
        }
    };
    let rules = model_rules(model);
    let output_tokens = match (json["generationConfig"]["imageConfig"]["imageSize"].as_str(), &rules) {
        (Some("512"), _) => 747,
        (Some("4K"), _) => 2000,
        (_, Some(rules)) => rules.tokens_1k,
        _ => 1290,
    };
    let text_tokens = (prompt.len() / 4 + 1) as u64;
    let image_tokens = 258 * inputs.images.len() as u64;
    let answer = json!({
        "candidates": [{
            "content": {"role": "model", "parts": [
                {"text": "Here is the edited image."},
                {"inlineData": {"mimeType": "image/png", "data": data}}
            ]},
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": {
            "promptTokenCount": text_tokens + image_tokens,
            "candidatesTokenCount": output_tokens + 6,
            "totalTokenCount": text_tokens + image_tokens + output_tokens + 6,
            "promptTokensDetails": [
                {"modality": "TEXT", "tokenCount": text_tokens},
                {"modality": "IMAGE", "tokenCount": image_tokens}
            ],
            "candidatesTokensDetails": [
                {"modality": "TEXT", "tokenCount": 6},
                {"modality": "IMAGE", "tokenCount": output_tokens}
            ]
        },
        "modelVersion": model,
        "responseId": request_id,
    });
    check_answer(state, &answer);
    json_response(200, &answer, &[])
}

fn check_answer(state: &EmulatorState, answer: &Value) {
    let pointer = Contract::component("GenerateContentResponse");
    state.journal.answer_problems(
        state
            .contract
            .check(&pointer, answer)
            .into_iter()
            .map(|p| format!("the emulator's own answer breaks the contract: {p}")),
    );
}

/// A fault in Google's own words.
async fn answer_fault(
    state: &EmulatorState,
    model: &str,
    json: &Value,
    inputs: &Inputs,
    request_id: &str,
    fault: Fault,
) -> Response {
    match fault {
        Fault::Delay(delay) => {
            tokio::time::sleep(delay).await;
            success(state, model, json, inputs, request_id, false)
        }
        Fault::NotAnImage => success(state, model, json, inputs, request_id, true),
        Fault::Raw {
            status,
            content_type,
            body,
        } => {
            if status == 200
                && let Ok(answer) = serde_json::from_str::<Value>(&body)
            {
                check_answer(state, &answer);
            }
            Response::builder()
                .status(status)
                .header("content-type", content_type)
                .body(Body::from(body))
                .unwrap_or_default()
        }
        Fault::ContentPolicy => {
            let answer = json!({
                "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                "usageMetadata": {"promptTokenCount": 270, "totalTokenCount": 270},
                "modelVersion": model,
                "responseId": request_id,
            });
            check_answer(state, &answer);
            json_response(200, &answer, &[])
        }
        other => status_fault(state, GENERATE, other).await,
    }
}

/// 429 `RESOURCE_EXHAUSTED` with the `QuotaFailure` that was hit, a `Help` link and a `RetryInfo`.
fn resource_exhausted(metric: &str, quota_id: &str, value: &str, retry_after: std::time::Duration) -> Response {
    let details = json!([
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
            "quotaMetric": format!("generativelanguage.googleapis.com/{metric}"),
            "quotaId": quota_id,
            "quotaDimensions": {"location": "global", "model": "gemini-image"},
            "quotaValue": value
        }]},
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        retry_info(retry_after)
    ]);
    let message = "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.";
    json_response(429, &status_body(429, message, details), &[])
}

/// A fault answered with an error status, for any operation.
async fn status_fault(state: &EmulatorState, operation: &str, fault: Fault) -> Response {
    match fault {
        Fault::RateLimited { retry_after } => resource_exhausted(
            "generate_content_paid_tier_requests",
            "GenerateRequestsPerMinutePerProjectPerModel",
            "10",
            retry_after,
        ),
        // A daily free-tier quota of 0: the free tier offers no image model.
        Fault::QuotaExceeded => resource_exhausted(
            "generate_content_free_tier_requests",
            "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            "0",
            std::time::Duration::from_secs(41),
        ),
        Fault::ServerError { status } => json_response(
            status,
            &status_body(
                status,
                if status == 503 {
                    "The model is overloaded. Please try again later."
                } else {
                    "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
                },
                json!([]),
            ),
            &[],
        ),
        Fault::Unavailable { retry_after } => json_response(
            503,
            &status_body(
                503,
                "The model is overloaded. Please try again later.",
                json!([retry_info(retry_after)]),
            ),
            &[],
        ),
        Fault::Rejected { field, message } => json_response(
            400,
            &status_body(
                400,
                &format!("Invalid value at '{field}': {message}"),
                json!([{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": field, "description": message}]}]),
            ),
            &[],
        ),
        Fault::Status { status, code, headers } => {
            let mut body = status_body(status, &format!("emulated {code}"), json!([]));
            body["error"]["status"] = Value::from(code.clone());
            let extra: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            json_response(status, &body, &extra)
        }
        Fault::Raw {
            status,
            content_type,
            body,
        } => Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap_or_default(),
        Fault::Hang => {
            std::future::pending::<()>().await;
            Response::default()
        }
        other => {
            state.journal.answer_problems([format!(
                "the Gemini emulator cannot inject {other:?} on {operation}; answered 500"
            )]);
            json_response(500, &status_body(500, "unsupported emulated fault", json!([])), &[])
        }
    }
}

fn file_json(state: &EmulatorState, id: &str, file: &StoredFile, display_name: Option<&str>) -> Value {
    let mut value = json!({
        "name": format!("files/{id}"),
        "mimeType": file.mime,
        "sizeBytes": file.bytes.len().to_string(),
        "createTime": "2026-12-01T00:00:00.000000Z",
        "updateTime": "2026-12-01T00:00:00.000000Z",
        "expirationTime": "2026-12-03T00:00:00.000000Z",
        "uri": format!("{}/v1beta/files/{id}", state.base),
        "state": "ACTIVE",
        "source": "UPLOADED",
    });
    if let Some(name) = display_name {
        value["displayName"] = Value::from(name);
    }
    value
}

/// `POST /upload/v1beta/files`: the start of a resumable upload (JSON
/// metadata), or, with `upload_id`, its bytes (`upload, finalize`).
async fn upload(State(state): State<Shared>, RawQuery(query): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let session = query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("upload_id=")))
        .map(str::to_string);
    let authorised = header(&headers, "x-goog-api-key") == Some(EMULATOR_KEY);
    let command = header(&headers, "x-goog-upload-command").unwrap_or("").to_string();
    let mut problems = Vec::new();
    let (operation, recorded) = match &session {
        None => {
            if header(&headers, "x-goog-upload-protocol") != Some("resumable") {
                problems.push("X-Goog-Upload-Protocol must be `resumable`".to_string());
            }
            if command != "start" {
                problems.push(format!(
                    "X-Goog-Upload-Command is `{command}`; a new upload starts with `start`"
                ));
            }
            let length = header(&headers, "x-goog-upload-header-content-length").and_then(|v| v.parse::<usize>().ok());
            if length.is_none() {
                problems.push("X-Goog-Upload-Header-Content-Length must give the file's size".into());
            }
            let mime = header(&headers, "x-goog-upload-header-content-type").unwrap_or("");
            if !mime.starts_with("image/") {
                problems.push(format!(
                    "X-Goog-Upload-Header-Content-Type `{mime}` is not an image type"
                ));
            }
            let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if json.is_null() && !body.is_empty() {
                problems.push("the start body is not JSON".into());
            }
            if !json.is_null() {
                let pointer = Contract::request_body("/upload/v1beta/files", "post", "application/json");
                problems.extend(state.contract.check(&pointer, &json));
            }
            (UPLOAD_START, RecordedBody::Json(json))
        }
        Some(_) => {
            if command != "upload, finalize" {
                problems.push(format!(
                    "X-Goog-Upload-Command is `{command}`; one-piece uploads send `upload, finalize`"
                ));
            }
            if header(&headers, "x-goog-upload-offset") != Some("0") {
                problems.push("X-Goog-Upload-Offset must be 0 for a one-piece upload".into());
            }
            (UPLOAD, RecordedBody::Other(body.len()))
        }
    };
    if let Some(id) = &session {
        match lock(&state.sessions).get(id) {
            Some((length, _, _)) if *length != body.len() => problems.push(format!(
                "{} bytes uploaded, {length} announced by X-Goog-Upload-Header-Content-Length",
                body.len()
            )),
            Some(_) => {}
            None => problems.push(format!("upload_id {id} names no upload session")),
        }
    }
    state.journal.record(
        Arrival {
            operation,
            paid: false,
            method: "POST",
            path: "/upload/v1beta/files",
            query: query.as_deref(),
            headers: &headers,
        },
        recorded.clone(),
        problems.clone(),
    );
    if !authorised {
        let body = status_body(
            400,
            "API key not valid. Please pass a valid API key.",
            json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]),
        );
        return json_response(400, &body, &[]);
    }
    if !problems.is_empty() {
        return json_response(400, &status_body(400, &problems.join("; "), json!([])), &[]);
    }
    if let Some(fault) = state.script.take(operation, false, None) {
        return status_fault(&state, operation, fault).await;
    }
    match session {
        None => {
            let id = format!("emu{:06}", {
                let mut counter = lock(&state.counter);
                *counter += 1;
                *counter
            });
            let length = header(&headers, "x-goog-upload-header-content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mime = header(&headers, "x-goog-upload-header-content-type")
                .unwrap_or("")
                .to_string();
            let display = match &recorded {
                RecordedBody::Json(json) => json["file"]["displayName"].as_str().map(str::to_string),
                _ => None,
            };
            lock(&state.sessions).insert(id.clone(), (length, mime, display));
            let url = format!(
                "{}/upload/v1beta/files?upload_id={id}&upload_protocol=resumable",
                state.base
            );
            Response::builder()
                .status(200)
                .header("x-goog-upload-url", url)
                .header("x-goog-upload-status", "active")
                .header("x-goog-upload-chunk-granularity", "8388608")
                .body(Body::empty())
                .unwrap_or_default()
        }
        Some(id) => {
            let Some((_, mime, display)) = lock(&state.sessions).remove(&id) else {
                return json_response(404, &status_body(404, "upload session not found", json!([])), &[]);
            };
            let file = StoredFile {
                mime,
                bytes: body.to_vec(),
            };
            let answer = json!({"file": file_json(&state, &id, &file, display.as_deref())});
            lock(&state.files).insert(id, file);
            let problems = state
                .contract
                .check(&Contract::component("CreateFileResponse"), &answer);
            state.journal.answer_problems(
                problems
                    .into_iter()
                    .map(|p| format!("the emulator's upload answer breaks the contract: {p}")),
            );
            json_response(200, &answer, &[("x-goog-upload-status", "final")])
        }
    }
}

/// `GET /v1beta/files/{id}`.
async fn file(State(state): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/v1beta/files/{id}");
    state.journal.record(
        Arrival {
            operation: FILE,
            paid: false,
            method: "GET",
            path: &path,
            query: None,
            headers: &headers,
        },
        RecordedBody::Empty,
        Vec::new(),
    );
    if let Some(fault) = state.script.take(FILE, false, None) {
        return status_fault(&state, FILE, fault).await;
    }
    let found = lock(&state.files).get(&id).cloned();
    match found {
        Some(file) => json_response(200, &file_json(&state, &id, &file, None), &[]),
        None => json_response(
            404,
            &status_body(
                404,
                &format!("File {id} does not exist or you do not have permission to access it."),
                json!([]),
            ),
            &[],
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn inline_data_may_be_url_safe_base64_as_proto3_json_allows() {
        let bytes = vec![0xfb_u8, 0xff, 0xbf];
        assert_eq!(super::proto_bytes("-_-_").expect("url-safe"), bytes);
        assert_eq!(super::proto_bytes("+/+/").expect("standard"), bytes);
        assert!(super::proto_bytes("not base64!").is_err());
    }
}
