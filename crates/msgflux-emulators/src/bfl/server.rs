//! The emulator's routes, BFL's rules on top of the contract, and how
//! results are rendered.

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use image::{GrayImage, Luma, RgbaImage};
use serde_json::{Value, json};

use super::{DOWNLOAD, EMULATOR_KEY, Inner, MODELS, POLL, SUBMIT, Shared, StoredTask};
use crate::engine::{Arrival, Contract, Fault, JobEnd, MaskReading, RecordedBody, edit_area, encode, paint};

type SharedState = Arc<Shared>;

pub(crate) fn router(shared: SharedState) -> Router {
    Router::new()
        .route("/v1/get_result", get(poll))
        .route("/v1/{model}", post(submit))
        .route("/delivery/{id}/{file}", get(deliver))
        .with_state(shared)
}

/// FastAPI's error body, `{"detail": ...}`.
fn detail(status: StatusCode, detail: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "detail": detail }).to_string(),
    )
        .into_response()
}

fn json_answer(body: &Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn with_retry_after(mut response: Response, wait: Duration) -> Response {
    // Fractions of a second, so that tests wait milliseconds.
    if let Ok(value) = format!("{}", wait.as_secs_f64()).parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// An arrival of `operation` (paid or not).
fn arrival<'a>(
    (operation, paid): (&'static str, bool),
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
) -> Arrival<'a> {
    Arrival {
        operation,
        paid,
        method,
        path,
        query,
        headers,
    }
}

/// The key check: the 403 answer FastAPI's API-key header gives, if the key is missing or wrong.
fn unauthorised(headers: &HeaderMap) -> Option<Response> {
    match headers.get("x-key").and_then(|v| v.to_str().ok()) {
        Some(EMULATOR_KEY) => None,
        Some(_) => Some(detail(StatusCode::FORBIDDEN, json!("Invalid API key"))),
        None => Some(detail(StatusCode::FORBIDDEN, json!("Not authenticated"))),
    }
}

/// Whether an answer waits before it is sent.
enum Hold {
    No,
    For(Duration),
    Forever,
}

async fn respond((response, hold): (Response, Hold)) -> Response {
    match hold {
        Hold::No => {}
        Hold::For(wait) => tokio::time::sleep(wait).await,
        Hold::Forever => std::future::pending::<()>().await,
    }
    response
}

async fn submit(
    State(shared): State<SharedState>,
    Path(model): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    respond(submit_now(&shared, &model, &headers, &raw)).await
}

fn submit_now(shared: &Shared, model: &str, headers: &HeaderMap, raw: &[u8]) -> (Response, Hold) {
    let path = format!("/v1/{model}");
    let body: Option<Value> = serde_json::from_slice(raw).ok();
    let known = MODELS.contains(&model);
    let mut problems = Vec::new();
    match (&body, known) {
        (None, _) => problems.push("the body is not JSON".to_string()),
        (Some(_), false) => problems.push(format!("no edit model is served at {path}")),
        (Some(body), true) => {
            problems.extend(
                shared
                    .contract
                    .check(&Contract::request_body(&path, "post", "application/json"), body),
            );
            problems.extend(unlisted_fields(&shared.contract, &path, body));
            problems.extend(service_rules(model, body));
        }
    }
    let recorded = body.clone().map_or(RecordedBody::Other(raw.len()), RecordedBody::Json);
    shared.journal.record(
        arrival((SUBMIT, true), "POST", &path, None, headers),
        recorded,
        problems.clone(),
    );
    if let Some(denied) = unauthorised(headers) {
        return (denied, Hold::No);
    }
    let Some(body) = body.filter(|_| known) else {
        return (detail(StatusCode::NOT_FOUND, json!("Not Found")), Hold::No);
    };
    if !problems.is_empty() {
        let items: Vec<Value> = problems
            .iter()
            .map(|p| json!({"loc": ["body"], "msg": p, "type": "value_error"}))
            .collect();
        return (detail(StatusCode::UNPROCESSABLE_ENTITY, Value::Array(items)), Hold::No);
    }
    let prompt = body.get("prompt").and_then(Value::as_str).map(str::to_string);
    let mut inner = shared.lock();
    let mut plan = (inner.default_polls, JobEnd::Succeed, false);
    let mut moderated_request = false;
    let mut hold = Hold::No;
    match shared.script.take(SUBMIT, true, prompt.as_deref()) {
        None => {}
        Some(Fault::RateLimited { retry_after }) => {
            let response = detail(
                StatusCode::TOO_MANY_REQUESTS,
                json!(
                    "You have exceeded the number of active tasks allowed for your account. Please wait for a task to finish and try again."
                ),
            );
            return (with_retry_after(response, retry_after), Hold::No);
        }
        Some(Fault::QuotaExceeded) => {
            return (
                detail(
                    StatusCode::PAYMENT_REQUIRED,
                    json!("Insufficient credits. Add credits at https://dashboard.bfl.ai to continue."),
                ),
                Hold::No,
            );
        }
        Some(Fault::ServerError { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (detail(status, json!("Internal Server Error")), Hold::No);
        }
        Some(Fault::Unavailable { retry_after }) => {
            let response = detail(StatusCode::SERVICE_UNAVAILABLE, json!("Service Unavailable"));
            return (with_retry_after(response, retry_after), Hold::No);
        }
        Some(Fault::Rejected { field, message }) => {
            let item = json!([{"loc": ["body", field], "msg": message, "type": "value_error"}]);
            return (detail(StatusCode::UNPROCESSABLE_ENTITY, item), Hold::No);
        }
        Some(Fault::Status { status, code, headers }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            let mut response = detail(status, json!(code));
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    header::HeaderName::from_bytes(name.as_bytes()),
                    header::HeaderValue::from_str(&value),
                ) {
                    response.headers_mut().insert(name, value);
                }
            }
            return (response, Hold::No);
        }
        Some(Fault::Raw {
            status,
            content_type,
            body,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return (
                (status, [(header::CONTENT_TYPE, content_type)], body).into_response(),
                Hold::No,
            );
        }
        Some(Fault::Hang) => hold = Hold::Forever,
        Some(Fault::Delay(wait)) => hold = Hold::For(wait),
        Some(Fault::ContentPolicy) => {
            moderated_request = true;
            plan.0 = 0;
        }
        Some(Fault::NotAnImage) => plan.2 = true,
        Some(Fault::Job { polls, end }) => {
            if matches!(end, JobEnd::Cancel | JobEnd::Abort) {
                shared.journal.answer_problems([format!(
                    "BFL tasks cannot be cancelled or aborted: {end:?} is rendered as an Error"
                )]);
            }
            plan = (polls, end, false);
        }
        Some(other) => shared
            .journal
            .answer_problems([format!("the BFL emulator cannot inject {other:?} on a submit")]),
    }
    inner.next_id += 1;
    let id = format!("emu-task-{:06}", inner.next_id);
    let lost = std::mem::take(&mut inner.lose_next);
    let (polls_needed, end, not_an_image) = plan;
    let mut task = StoredTask {
        model: model.to_string(),
        body: body.clone(),
        polls_needed,
        end,
        not_an_image,
        lost,
        polls: 0,
        status: "Pending",
        result: Value::Null,
        details: Value::Null,
    };
    if moderated_request {
        task.status = "Request Moderated";
        task.details = json!({"Moderation Reasons": ["the emulator was asked to refuse this request"]});
    }
    let polling_base = inner.polling_base.clone().unwrap_or_else(|| inner.base.clone());
    let (input_mp, output_mp) = megapixels(model, &body);
    let mut answer = json!({
        "id": id,
        "polling_url": format!("{polling_base}/v1/get_result?id={id}"),
        "input_mp": input_mp,
        "output_mp": output_mp,
    });
    // BFL reports the credits of megapixel-priced models; the emulator's are a stand-in.
    if model.starts_with("flux-2-") {
        answer["cost"] = json!(((input_mp + output_mp) * 100.0).round() / 100.0);
    }
    shared
        .journal
        .answer_problems(shared.contract.check(&Contract::component("AsyncResponse"), &answer));
    inner.tasks.insert(id, task);
    (json_answer(&answer), hold)
}

/// Fields of the body that the path's request schema does not list.
fn unlisted_fields(contract: &Contract, path: &str, body: &Value) -> Vec<String> {
    let pointer = Contract::request_body(path, "post", "application/json");
    let schema = contract
        .document()
        .pointer(pointer.strip_prefix('#').unwrap_or_default());
    let schema = match schema.and_then(|s| s.get("$ref")).and_then(Value::as_str) {
        Some(reference) => contract
            .document()
            .pointer(reference.strip_prefix('#').unwrap_or_default()),
        None => schema,
    };
    let Some(listed) = schema.and_then(|s| s.get("properties")).and_then(Value::as_object) else {
        return vec![format!("the contract has no request schema for {path}")];
    };
    body.as_object()
        .into_iter()
        .flat_map(|given| given.keys())
        .filter(|k| !listed.contains_key(*k))
        .map(|k| format!("{path} takes no field `{k}`"))
        .collect()
}

/// The image fields of a body, in order.
fn image_fields(model: &str) -> Vec<String> {
    if model.starts_with("flux-pro-1.0-") {
        return vec!["image".into()];
    }
    let count = if model.starts_with("flux-kontext") || model.starts_with("flux-2-klein") {
        4
    } else {
        8
    };
    (1..=count)
        .map(|i| {
            if i == 1 {
                "input_image".to_string()
            } else {
                format!("input_image_{i}")
            }
        })
        .collect()
}

/// A base64 field as an image, or why not.
fn image_of(body: &Value, field: &str) -> Option<Result<image::DynamicImage, String>> {
    let text = body.get(field)?.as_str()?;
    Some(if text.starts_with("http://") || text.starts_with("https://") {
        Err(format!(
            "`{field}` is a URL; the emulator fetches nothing and takes base64 only"
        ))
    } else {
        BASE64
            .decode(
                text.strip_prefix("data:")
                    .and_then(|r| r.split_once(','))
                    .map_or(text, |(_, p)| p),
            )
            .map_err(|e| format!("`{field}` is not base64: {e}"))
            .and_then(|bytes| image::load_from_memory(&bytes).map_err(|e| format!("`{field}` is not an image: {e}")))
    })
}

/// BFL's rules the document does not state as schema.
fn service_rules(model: &str, body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let fields = image_fields(model);
    let mut images = Vec::new();
    for field in &fields {
        match image_of(body, field) {
            Some(Ok(image)) => images.push(image),
            Some(Err(problem)) => problems.push(problem),
            None => {}
        }
    }
    if images.is_empty() {
        problems.push(format!("an edit with {model} needs `{}`", fields[0]));
    }
    if model == "flux-pro-1.0-fill"
        && let (Some(image), Some(mask)) = (images.first(), image_of(body, "mask"))
    {
        match mask {
            Ok(mask) if mask.width() != image.width() || mask.height() != image.height() => problems.push(format!(
                "the mask is {}x{} but the image is {}x{}",
                mask.width(),
                mask.height(),
                image.width(),
                image.height()
            )),
            Ok(_) => {}
            Err(problem) => problems.push(problem),
        }
    }
    if model.starts_with("flux-2-") {
        for side in ["width", "height"] {
            if let Some(v) = body.get(side).and_then(Value::as_u64)
                && v % 16 != 0
            {
                problems.push(format!("`{side}` {v} is not a multiple of 16"));
            }
        }
    }
    if let Some(ratio) = body.get("aspect_ratio").and_then(Value::as_str) {
        let fine = ratio
            .split_once(':')
            .and_then(|(w, h)| Some((w.parse::<f64>().ok()?, h.parse::<f64>().ok()?)))
            .is_some_and(|(w, h)| w > 0.0 && h > 0.0 && (9.0 / 21.0 - 1e-9..=21.0 / 9.0 + 1e-9).contains(&(w / h)));
        if !fine {
            problems.push(format!("aspect_ratio `{ratio}` is not between 21:9 and 9:21"));
        }
    }
    problems
}

/// Input and output megapixels of a task, as BFL reports them (2 decimals).
fn megapixels(model: &str, body: &Value) -> (f64, f64) {
    let mut input = 0u64;
    let mut first = (0u64, 0u64);
    for field in image_fields(model) {
        if let Some(Ok(image)) = image_of(body, &field) {
            if input == 0 {
                first = (u64::from(image.width()), u64::from(image.height()));
            }
            input += u64::from(image.width()) * u64::from(image.height());
        }
    }
    let side = |name: &str| body.get(name).and_then(Value::as_u64).unwrap_or(0);
    let output = match (side("width"), side("height")) {
        (w, h) if w > 0 && h > 0 => w * h,
        _ => (first.0 + side("left") + side("right")) * (first.1 + side("top") + side("bottom")),
    };
    let round = |pixels: u64| (pixels as f64 / 1e4).round() / 100.0;
    (round(input), round(output))
}

async fn poll(
    State(shared): State<SharedState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let id = query.get("id").cloned().unwrap_or_default();
    let query_text = format!("id={id}");
    shared.journal.record(
        arrival((POLL, false), "GET", "/v1/get_result", Some(&query_text), &headers),
        RecordedBody::Empty,
        Vec::new(),
    );
    let mut hold = Hold::No;
    match shared.script.take(POLL, false, None) {
        None => {}
        Some(Fault::ServerError { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return detail(status, json!("Internal Server Error"));
        }
        Some(Fault::RateLimited { retry_after }) => {
            return with_retry_after(
                detail(StatusCode::TOO_MANY_REQUESTS, json!("Too many requests")),
                retry_after,
            );
        }
        Some(Fault::Delay(wait)) => hold = Hold::For(wait),
        Some(Fault::Hang) => hold = Hold::Forever,
        Some(other) => shared
            .journal
            .answer_problems([format!("the BFL emulator cannot inject {other:?} on a poll")]),
    }
    let answer = {
        let mut inner = shared.lock();
        poll_answer(&mut inner, &id)
    };
    shared
        .journal
        .answer_problems(shared.contract.check(&Contract::component("ResultResponse"), &answer));
    respond((json_answer(&answer), hold)).await
}

fn poll_answer(inner: &mut Inner, id: &str) -> Value {
    let Some(mut task) = inner.tasks.remove(id) else {
        return json!({"id": id, "status": "Task not found", "result": null, "progress": null, "details": null, "preview": null});
    };
    if task.lost {
        inner.tasks.insert(id.to_string(), task);
        return json!({"id": id, "status": "Task not found", "result": null, "progress": null, "details": null, "preview": null});
    }
    if task.status == "Pending" {
        task.polls += 1;
        if task.polls > task.polls_needed && task.end != JobEnd::Never {
            complete(inner, id, &mut task);
        }
    }
    let progress = if task.status == "Pending" {
        json!((f64::from(task.polls) / f64::from(task.polls_needed.max(1))).min(0.99))
    } else {
        Value::Null
    };
    let answer = json!({
        "id": id,
        "status": task.status,
        "result": task.result,
        "progress": progress,
        "details": task.details,
        "preview": null,
    });
    inner.tasks.insert(id.to_string(), task);
    answer
}

fn complete(inner: &mut Inner, id: &str, task: &mut StoredTask) {
    match task.end.clone() {
        JobEnd::Fail(error) => {
            task.status = "Error";
            task.details = json!({"error": error});
        }
        JobEnd::Cancel | JobEnd::Abort => {
            task.status = "Error";
            task.details = json!({"error": "the task stopped"});
        }
        JobEnd::Moderated => {
            task.status = "Content Moderated";
            task.details = json!({"Moderation Reasons": ["the emulator withheld this result"]});
        }
        JobEnd::Never => {}
        _ => match render(inner, task) {
            Ok((bytes, format)) => {
                let (bytes, mime) = if task.not_an_image {
                    (b"<html><body>Service error</body></html>".to_vec(), "image/jpeg")
                } else {
                    (bytes, mime_of(format))
                };
                inner.results.insert(id.to_string(), (bytes, mime));
                let extension = if format == "jpeg" { "jpg" } else { format };
                task.status = "Ready";
                task.result = json!({
                    "sample": format!("{}/delivery/{id}/sample.{extension}?se=2026-12-01T00%3A10%3A00Z&sp=r&sig=emulated-{id}", inner.base),
                    "prompt": task.body.get("prompt").cloned().unwrap_or(Value::Null),
                    "seed": task.body.get("seed").cloned().unwrap_or(json!(1234)),
                    "start_time": 1_764_547_200.0,
                    "end_time": 1_764_547_203.5,
                    "duration": 3.5,
                });
            }
            Err(error) => {
                task.status = "Error";
                task.details = json!({"error": error});
            }
        },
    }
}

fn mime_of(format: &str) -> &'static str {
    match format {
        "png" => "image/png",
        "webp" => "image/webp",
        _ => "image/jpeg",
    }
}

/// The result of a task: the input with the edit area painted, in the format asked.
fn render(inner: &Inner, task: &StoredTask) -> Result<(Vec<u8>, &'static str), String> {
    let body = &task.body;
    let model = task.model.as_str();
    let first = &image_fields(model)[0];
    let image_b64 = body.get(first).and_then(Value::as_str).unwrap_or_default();
    let image = BASE64
        .decode(image_b64)
        .map_err(|e| format!("`{first}` is not base64: {e}"))?;
    let format = match body.get("output_format").and_then(Value::as_str) {
        Some("png") => "png",
        Some("webp") => "webp",
        Some(_) => "jpeg",
        None if model.starts_with("flux-kontext") => "png",
        None => "jpeg",
    };
    let colour = colour(body);
    let out = match model {
        "flux-pro-1.0-fill" => {
            let area = match body.get("mask").and_then(Value::as_str) {
                Some(mask) => {
                    let bytes = BASE64.decode(mask).map_err(|e| format!("`mask` is not base64: {e}"))?;
                    edit_area(&bytes, MaskReading::WhiteIsEdit)?
                }
                // Without a mask, Fill reads the image's alpha channel.
                None => edit_area(&image, MaskReading::TransparentIsEdit)?,
            };
            paint(&image, Some(&area), colour, inner.leak, None)?
        }
        "flux-pro-1.0-expand" => {
            let (canvas, area) = expanded(&image, body)?;
            paint(&encode(canvas, "png"), Some(&area), colour, inner.leak, None)?
        }
        _ => paint(&image, None, colour, inner.leak, output_size(model, body, &image)?)?,
    };
    Ok((encode(out, format), format))
}

/// The input placed on a larger canvas, and the new border as the area to paint.
fn expanded(image: &[u8], body: &Value) -> Result<(RgbaImage, GrayImage), String> {
    let input = image::load_from_memory(image)
        .map_err(|e| format!("the image does not decode: {e}"))?
        .to_rgba8();
    let side = |name: &str| body.get(name).and_then(Value::as_u64).unwrap_or(0) as u32;
    let (top, bottom, left, right) = (side("top"), side("bottom"), side("left"), side("right"));
    let (w, h) = (input.width() + left + right, input.height() + top + bottom);
    let mut canvas = RgbaImage::new(w, h);
    image::imageops::replace(&mut canvas, &input, i64::from(left), i64::from(top));
    let area = GrayImage::from_fn(w, h, |x, y| {
        let inside = (left..left + input.width()).contains(&x) && (top..top + input.height()).contains(&y);
        Luma([if inside { 0 } else { 255 }])
    });
    Ok((canvas, area))
}

/// The size of a mask-less model's result: FLUX.2's width and height, Kontext's aspect ratio.
fn output_size(model: &str, body: &Value, image: &[u8]) -> Result<Option<(u32, u32)>, String> {
    let side = |name: &str| body.get(name).and_then(Value::as_u64).filter(|v| *v > 0);
    if let (Some(w), Some(h)) = (side("width"), side("height")) {
        return Ok(Some((w as u32, h as u32)));
    }
    let Some(ratio) = body.get("aspect_ratio").and_then(Value::as_str) else {
        return Ok(None);
    };
    let _ = model;
    let (w, h) = ratio
        .split_once(':')
        .and_then(|(w, h)| Some((w.parse::<f64>().ok()?, h.parse::<f64>().ok()?)))
        .ok_or_else(|| format!("aspect_ratio `{ratio}` is not W:H"))?;
    let input = image::load_from_memory(image).map_err(|e| format!("the image does not decode: {e}"))?;
    let area = f64::from(input.width()) * f64::from(input.height());
    let width = ((area * w / h).sqrt() / 16.0).round().max(1.0) * 16.0;
    let height = ((area * h / w).sqrt() / 16.0).round().max(1.0) * 16.0;
    Ok(Some((width as u32, height as u32)))
}

/// A colour from the prompt and seed, so that different requests paint differently.
fn colour(body: &Value) -> [u8; 3] {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.get("prompt")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .hash(&mut hasher);
    body.get("seed").and_then(Value::as_u64).unwrap_or(0).hash(&mut hasher);
    let h = hasher.finish().to_le_bytes();
    [h[0], h[1], h[2]]
}

async fn deliver(
    State(shared): State<SharedState>,
    Path((id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut problems = Vec::new();
    if headers.contains_key("x-key") {
        problems.push("the API key was sent to the delivery host; result URLs are signed and need none".to_string());
    }
    let path = format!("/delivery/{id}/{file}");
    shared.journal.record(
        arrival((DOWNLOAD, false), "GET", &path, None, &headers),
        RecordedBody::Empty,
        problems,
    );
    match shared.script.take(DOWNLOAD, false, None) {
        None => {}
        Some(Fault::ServerError { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, "server error").into_response();
        }
        Some(other) => shared
            .journal
            .answer_problems([format!("the BFL emulator cannot inject {other:?} on a download")]),
    }
    let inner = shared.lock();
    if inner.results_expired {
        return (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/xml")],
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Signed expiry time has passed.</Message></Error>",
        )
            .into_response();
    }
    match inner.results.get(&id) {
        Some((bytes, mime)) => ([(header::CONTENT_TYPE, *mime)], bytes.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, "no such result").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_field_the_schema_does_not_list_is_a_problem() {
        let contract = super::super::contract();
        let problems = unlisted_fields(&contract, "/v1/flux-2-pro", &json!({"prompt": "x", "mask": "y"}));
        assert_eq!(problems, vec!["/v1/flux-2-pro takes no field `mask`".to_string()]);
        assert!(unlisted_fields(&contract, "/v1/flux-pro-1.0-fill", &json!({"image": "x", "mask": "y"})).is_empty());
    }

    #[test]
    fn the_answers_fit_the_contract() {
        let contract = super::super::contract();
        let submit = json!({"id": "a", "polling_url": "http://x/v1/get_result?id=a", "cost": 1.0, "input_mp": 0.0, "output_mp": 0.0});
        assert!(
            contract
                .check(&Contract::component("AsyncResponse"), &submit)
                .is_empty()
        );
        let mut inner = Inner::default();
        let answer = poll_answer(&mut inner, "missing");
        assert!(
            contract
                .check(&Contract::component("ResultResponse"), &answer)
                .is_empty(),
            "{answer}"
        );
    }
}
