//! The emulator's routes, the life of a queue request, and how outputs are
//! rendered. fal's paths nest arbitrarily (`/fal-ai/bytedance/seedream/v4/edit`),
//! so one handler reads the method and path and dispatches.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{
    CANCEL, DOWNLOAD, EMULATOR_KEY, EmulatedApp, FIXTURE, Inner, OutputShape, RESULT, SCHEMA, STATUS, SUBMIT, Shared,
    StoredRequest, UPLOAD, UPLOAD_COMPLETE, UPLOAD_INITIATE, UPLOAD_INITIATE_MULTIPART, UPLOAD_PART,
};
use crate::engine::{Arrival, Contract, Fault, JobEnd, RecordedBody, data_uri_bytes, edit_area, encode, paint};

type SharedState = Arc<Shared>;

pub(crate) fn router(shared: SharedState) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// A JSON answer with fal's request id header.
fn json_answer(status: StatusCode, body: &Value, request_id: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::HeaderName::from_static("x-fal-request-id"), request_id),
        ],
        body.to_string(),
    )
        .into_response()
}

/// fal's error body: `{"detail": ...}`.
fn detail(status: StatusCode, detail: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"detail": detail}).to_string(),
    )
        .into_response()
}

/// A 422 naming one field, as fal's validation answers do.
fn field_error(field: &str, message: &str, kind: &str) -> Value {
    json!([{"loc": ["body", field], "msg": message, "type": kind}])
}

/// The token check: the 401 answer, if the key is wrong.
fn unauthorised(headers: &HeaderMap) -> Option<Response> {
    let expected = format!("Key {EMULATOR_KEY}");
    match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(value) if value == expected => None,
        _ => Some(detail(
            StatusCode::UNAUTHORIZED,
            json!("No user found for Key ID and Secret"),
        )),
    }
}

struct Call<'a> {
    method: &'a Method,
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
}

impl Call<'_> {
    fn record(
        &self,
        shared: &Shared,
        operation: &'static str,
        paid: bool,
        body: RecordedBody,
        problems: Vec<String>,
    ) -> String {
        shared.journal.record(
            Arrival {
                operation,
                paid,
                method: self.method.as_str(),
                path: self.path,
                query: self.query,
                headers: self.headers,
            },
            body,
            problems,
        )
    }
}

async fn handle(
    State(shared): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let call = Call {
        method: &method,
        path: &path,
        query: uri.query(),
        headers: &headers,
    };
    if method == Method::GET && path == "/v1/models" {
        return models(&shared, &call);
    }
    if method == Method::POST && path == "/storage/upload/initiate" {
        return initiate_upload(&shared, &call, &body, false);
    }
    if method == Method::POST && path == "/storage/upload/initiate-multipart" {
        return initiate_upload(&shared, &call, &body, true);
    }
    if let Some(rest) = path.strip_prefix("/uploads/") {
        match (&method, rest.split_once('/')) {
            (&Method::PUT, None) => return put_upload(&shared, &call, rest, &body),
            (&Method::POST, Some((token, "complete"))) => return complete_upload(&shared, &call, token, &body),
            (&Method::PUT, Some((token, number))) => return put_part(&shared, &call, token, number, &body),
            _ => {}
        }
    }
    if method == Method::GET
        && let Some(name) = path.strip_prefix("/files/")
    {
        return file(&shared, &call, name);
    }
    if method == Method::GET
        && let Some(name) = path.strip_prefix("/fixtures/")
    {
        return fixture(&shared, &call, name);
    }
    if let Some((owner_app, rest)) = path.trim_start_matches('/').split_once("/requests/") {
        let (id, action) = match rest.split_once('/') {
            Some((id, action)) => (id, action),
            None => (rest, ""),
        };
        return match (method.clone(), action) {
            (Method::GET, "status") => status(&shared, &call, owner_app, id),
            (Method::GET, "") => result(&shared, &call, owner_app, id),
            (Method::PUT, "cancel") => cancel(&shared, &call, owner_app, id),
            _ => detail(StatusCode::METHOD_NOT_ALLOWED, json!("Method not allowed")),
        };
    }
    if method == Method::POST {
        let (response, hold) = submit(&shared, &call, path.trim_start_matches('/'), &body);
        return match hold {
            Hold::No => response,
            Hold::For(wait) => {
                tokio::time::sleep(wait).await;
                response
            }
            Hold::Forever => {
                std::future::pending::<()>().await;
                response
            }
        };
    }
    detail(StatusCode::NOT_FOUND, json!("Not Found"))
}

/// Whether a submit answer waits before it is sent.
enum Hold {
    No,
    For(Duration),
    Forever,
}

/// An error answer for a queued fault on a free operation, or `None`.
fn faulted(shared: &Shared, operation: &'static str) -> Option<Response> {
    match shared.script.take(operation, false, None)? {
        Fault::ServerError { status } => Some(detail(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            json!("Internal Server Error"),
        )),
        Fault::RateLimited { retry_after } => Some(rate_limited(retry_after)),
        other => {
            shared
                .journal
                .answer_problems([format!("the fal emulator cannot inject {other:?} on {operation}")]);
            None
        }
    }
}

fn rate_limited(retry_after: Duration) -> Response {
    let mut response = detail(
        StatusCode::TOO_MANY_REQUESTS,
        json!("Rate limit exceeded. Too many concurrent requests; wait and try again."),
    );
    if let Ok(value) = retry_after.as_secs_f64().ceil().max(1.0).to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Headers the queue reads: `x-fal-request-timeout` (seconds above 0) and
/// `x-fal-queue-priority` (`normal` or `low`).
fn header_problems(headers: &HeaderMap) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(timeout) = headers.get("x-fal-request-timeout").and_then(|v| v.to_str().ok())
        && !timeout.parse::<f64>().is_ok_and(|t| t > 0.0)
    {
        problems.push(format!(
            "x-fal-request-timeout `{timeout}` is not a number of seconds above 0"
        ));
    }
    if let Some(priority) = headers.get("x-fal-queue-priority").and_then(|v| v.to_str().ok())
        && !matches!(priority, "normal" | "low")
    {
        problems.push(format!("x-fal-queue-priority `{priority}` is not normal or low"));
    }
    if !headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"))
    {
        problems.push("a submit must be sent as application/json".into());
    }
    problems
}

/// `owner/app` of an endpoint id: the part the queue's request URLs use.
fn owner_app(app: &str) -> String {
    app.split('/').take(2).collect::<Vec<_>>().join("/")
}

fn queue_urls(base: &str, owner_app: &str, id: &str) -> Value {
    json!({
        "response_url": format!("{base}/{owner_app}/requests/{id}"),
        "status_url": format!("{base}/{owner_app}/requests/{id}/status"),
        "cancel_url": format!("{base}/{owner_app}/requests/{id}/cancel"),
    })
}

fn submit(shared: &Shared, call: &Call<'_>, app_id: &str, raw: &[u8]) -> (Response, Hold) {
    let body: Option<Value> = serde_json::from_slice(raw).ok();
    let prompt = body
        .as_ref()
        .and_then(|b| b.get("prompt"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut problems = header_problems(call.headers);
    let mut inner = shared.lock();
    let app = inner.apps.get(app_id).cloned();
    match (&body, &app) {
        (None, _) => problems.push("the body is not JSON".into()),
        (Some(body), Some(app)) => {
            let invalid = inner.app_contract(app).check(&Contract::component("Input"), body);
            if !invalid.is_empty() {
                problems.push(format!(
                    "the input breaks the {} schema: {}",
                    app.id,
                    invalid.join("; ")
                ));
            }
        }
        (Some(_), None) => {}
    }
    let recorded = body.clone().map_or(RecordedBody::Other(raw.len()), RecordedBody::Json);
    let request_id = call.record(shared, SUBMIT, true, recorded, problems.clone());
    if let Some(denied) = unauthorised(call.headers) {
        return (denied, Hold::No);
    }
    let Some(app) = app else {
        return (
            detail(
                StatusCode::NOT_FOUND,
                json!(format!("Application '{app_id}' not found")),
            ),
            Hold::No,
        );
    };
    let Some(body) = body else {
        return (detail(StatusCode::BAD_REQUEST, json!("Invalid JSON body")), Hold::No);
    };
    if !problems.is_empty() {
        let fields: Vec<Value> = problems
            .iter()
            .map(|p| json!({"loc": ["body"], "msg": p, "type": "value_error"}))
            .collect();
        return (detail(StatusCode::UNPROCESSABLE_ENTITY, Value::Array(fields)), Hold::No);
    }
    let mut plan = (inner.default_polls, JobEnd::Succeed, false);
    let mut hold = Hold::No;
    match shared.script.take(SUBMIT, true, prompt.as_deref()) {
        None => {}
        Some(Fault::RateLimited { retry_after }) => return (rate_limited(retry_after), Hold::No),
        Some(Fault::QuotaExceeded) => {
            let response = detail(
                StatusCode::FORBIDDEN,
                json!("User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing."),
            );
            return (response, Hold::No);
        }
        Some(Fault::ServerError { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (detail(status, json!("Internal Server Error")), Hold::No);
        }
        Some(Fault::Unavailable { retry_after }) => {
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::HeaderName::from_static("x-fal-error-type"), "runner_scheduling_failure"),
                ],
                json!({"detail": "No runner could be scheduled for the request; try again later.", "error_type": "runner_scheduling_failure"}).to_string(),
            )
                .into_response();
            if let Ok(value) = retry_after.as_secs().max(1).to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return (response, Hold::No);
        }
        Some(Fault::Rejected { field, message }) => {
            return (
                detail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    field_error(&field, &message, "value_error"),
                ),
                Hold::No,
            );
        }
        Some(Fault::Status { status, code, headers }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            let mut response = detail(status, json!(format!("emulated {code}")));
            if let Ok(value) = code.parse() {
                response.headers_mut().insert("x-fal-error-type", value);
            }
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
        Some(Fault::ContentPolicy) => plan.1 = JobEnd::Moderated,
        Some(Fault::NotAnImage) => plan.2 = true,
        Some(Fault::Job { polls, end }) => plan = (polls.max(1), end, false),
        Some(other) => shared
            .journal
            .answer_problems([format!("the fal emulator cannot inject {other:?} on a submit")]),
    }
    if matches!(plan.1, JobEnd::Cancel | JobEnd::Abort) {
        shared.journal.answer_problems([format!(
            "the fal emulator has no {:?} end: fal requests end COMPLETED (with a result or an error)",
            plan.1
        )]);
        plan.1 = JobEnd::Succeed;
    }
    let owner_app = owner_app(&app.id);
    let (polls_needed, end, not_an_image) = plan;
    let stored = StoredRequest {
        id: request_id.clone(),
        app: app.id.clone(),
        owner_app: owner_app.clone(),
        input: body,
        polls_needed,
        end,
        not_an_image,
        polls: 0,
        status: "IN_QUEUE",
        result: None,
    };
    let mut answer = json!({
        "status": "IN_QUEUE",
        "request_id": request_id,
        "queue_position": queue_position(&stored),
    });
    merge(&mut answer, queue_urls(&inner.base, &owner_app, &request_id));
    shared.journal.answer_problems(
        shared
            .contract
            .check(&Contract::component("InQueueQueueStatus"), &answer)
            .into_iter()
            .map(|p| format!("submit answer: {p}")),
    );
    inner.requests.insert(request_id.clone(), stored);
    (json_answer(StatusCode::OK, &answer, &request_id), hold)
}

fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}

/// Polls still ahead of a request, less the one it spends in progress.
fn queue_position(request: &StoredRequest) -> u32 {
    request.polls_needed.saturating_sub(request.polls).saturating_sub(2)
}

/// How a status, result or cancel call starts: recorded (with a problem if
/// the URL is not the request's own), the key checked, a queued fault
/// answered; then the request is taken out of the state (and put back after).
fn request_call(
    shared: &Shared,
    call: &Call<'_>,
    operation: &'static str,
    owner_app: &str,
    id: &str,
    inner: &mut Inner,
) -> Result<StoredRequest, Box<Response>> {
    let mut problems = Vec::new();
    if let Some(known) = inner.requests.get(id)
        && known.owner_app != owner_app
    {
        problems.push(format!(
            "request {id} belongs to `{}`; its URLs use owner/app only, not `{owner_app}` (use the URLs the submit answered)",
            known.owner_app
        ));
    }
    call.record(shared, operation, false, RecordedBody::Empty, problems);
    if let Some(denied) = unauthorised(call.headers) {
        return Err(Box::new(denied));
    }
    if let Some(fault) = faulted(shared, operation) {
        return Err(Box::new(fault));
    }
    inner
        .requests
        .remove(id)
        .ok_or_else(|| Box::new(detail(StatusCode::NOT_FOUND, json!(format!("Request {id} not found")))))
}

fn status(shared: &Shared, call: &Call<'_>, owner_app: &str, id: &str) -> Response {
    let mut inner = shared.lock();
    let mut request = match request_call(shared, call, STATUS, owner_app, id, &mut inner) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    if matches!(request.status, "IN_QUEUE" | "IN_PROGRESS") {
        request.polls += 1;
        request.status = if request.end == JobEnd::Never {
            "IN_QUEUE"
        } else if request.polls >= request.polls_needed {
            "COMPLETED"
        } else if request.polls + 1 == request.polls_needed {
            "IN_PROGRESS"
        } else {
            "IN_QUEUE"
        };
    }
    let mut answer = json!({"status": request.status, "request_id": request.id});
    merge(&mut answer, queue_urls(&inner.base, &request.owner_app, &request.id));
    let code = match request.status {
        "IN_QUEUE" => {
            answer["queue_position"] = json!(queue_position(&request));
            StatusCode::ACCEPTED
        }
        "IN_PROGRESS" => {
            answer["logs"] = json!([log("running the model")]);
            StatusCode::ACCEPTED
        }
        _ => {
            // A cancelled request reads as completed too; its result is the error.
            answer["status"] = json!("COMPLETED");
            answer["logs"] = json!([log("done")]);
            answer["metrics"] = json!({"inference_time": 1.25});
            StatusCode::OK
        }
    };
    if request.status == "COMPLETED" && request.result.is_none() {
        let outcome = complete(&mut inner, &request);
        request.result = Some(outcome);
    }
    inner.requests.insert(request.id.clone(), request);
    shared.journal.answer_problems(
        shared
            .contract
            .check(&Contract::component("QueueStatus"), &answer)
            .into_iter()
            .map(|p| format!("status answer: {p}")),
    );
    json_answer(code, &answer, id)
}

fn log(message: &str) -> Value {
    json!({"message": message, "level": "INFO", "source": "USER", "timestamp": "2026-12-01T00:00:00.000Z"})
}

fn result(shared: &Shared, call: &Call<'_>, owner_app: &str, id: &str) -> Response {
    let mut inner = shared.lock();
    let request = match request_call(shared, call, RESULT, owner_app, id, &mut inner) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let response = if inner.results_expired {
        detail(
            StatusCode::NOT_FOUND,
            json!(format!("Request {id} not found: its result is no longer stored")),
        )
    } else {
        match &request.result {
            None => detail(
                StatusCode::BAD_REQUEST,
                json!(format!(
                    "Request {id} is still {}; read its status until COMPLETED",
                    request.status
                )),
            ),
            Some(Ok(output)) => json_answer(StatusCode::OK, output, id),
            Some(Err((status, body))) => {
                let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut response = json_answer(status, body, id);
                response
                    .headers_mut()
                    .insert("x-fal-retryable", header::HeaderValue::from_static("false"));
                response
            }
        }
    };
    inner.requests.insert(request.id.clone(), request);
    response
}

fn cancel(shared: &Shared, call: &Call<'_>, owner_app: &str, id: &str) -> Response {
    let mut inner = shared.lock();
    let mut request = match request_call(shared, call, CANCEL, owner_app, id, &mut inner) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    // Only requests that have not started can be cancelled.
    let response = if request.status == "IN_QUEUE" {
        request.status = "CANCELLED";
        request.result = Some(Err((400, json!({"detail": format!("Request {id} was cancelled")}))));
        json_answer(StatusCode::ACCEPTED, &json!({"status": "CANCELLATION_REQUESTED"}), id)
    } else {
        json_answer(StatusCode::BAD_REQUEST, &json!({"status": "ALREADY_COMPLETED"}), id)
    };
    inner.requests.insert(request.id.clone(), request);
    response
}

/// Ends a request the way its plan says: its output (the files it made go
/// onto the emulated CDN), or its error as fal answers it at the result URL.
fn complete(inner: &mut Inner, request: &StoredRequest) -> Result<Value, (u16, Value)> {
    match &request.end {
        JobEnd::Fail(error) => return Err((500, json!({"detail": error}))),
        JobEnd::Moderated => {
            return Err((
                422,
                json!({"detail": [{
                    "loc": ["body", "prompt"],
                    "msg": "The content could not be processed because it contained material flagged by a content checker.",
                    "type": "content_policy_violation",
                    "url": "https://docs.fal.ai/errors#content_policy_violation"
                }]}),
            ));
        }
        _ => {}
    }
    let Some(app) = inner.apps.get(&request.app).cloned() else {
        return Err((404, json!({"detail": "the app is gone"})));
    };
    let rendered = match render(inner, &app, &request.input, request.not_an_image) {
        Ok(rendered) => rendered,
        Err(message) => {
            return Err((
                422,
                json!({"detail": [{"loc": ["body", app.image_input.0], "msg": message, "type": "file_download_error"}]}),
            ));
        }
    };
    let mut images = Vec::new();
    for (i, (bytes, (width, height), format)) in rendered.into_iter().enumerate() {
        let name = format!("{}/result-{i}.{format}", request.id);
        images.push(json!({
            "url": format!("{}/files/{name}", inner.base),
            "content_type": format!("image/{format}"),
            "file_name": format!("result-{i}.{format}"),
            "file_size": bytes.len(),
            "width": width,
            "height": height,
        }));
        inner.files.insert(name, bytes);
    }
    let count = images.len();
    let seed = request.input.get("seed").and_then(Value::as_u64).unwrap_or(42);
    let prompt = request.input.get("prompt").cloned().unwrap_or(Value::Null);
    Ok(match app.output {
        OutputShape::Flux => json!({
            "images": images,
            "seed": seed,
            "has_nsfw_concepts": vec![false; count],
            "prompt": prompt,
            "timings": {"inference": 1.25},
        }),
        OutputShape::Seed => json!({"images": images, "seed": seed}),
        OutputShape::Description => json!({"images": images, "description": "Here is the edited image."}),
    })
}

/// One rendered result: its bytes, size and format.
type Rendered = (Vec<u8>, (u32, u32), String);

/// The app's images (bytes, size, format): the first input with the mask's
/// edit area painted (read as the app reads it), or all of it repainted
/// when the app takes no mask; at `image_size` when given.
fn render(inner: &Inner, app: &EmulatedApp, input: &Value, not_an_image: bool) -> Result<Vec<Rendered>, String> {
    let (image_name, list) = &app.image_input;
    let first = if *list {
        input.get(image_name).and_then(|v| v.get(0))
    } else {
        input.get(image_name)
    }
    .and_then(Value::as_str)
    .ok_or_else(|| format!("{} needs `{image_name}`", app.id))?;
    let base = fetch(inner, first)?;
    let area = match &app.mask_input {
        Some((name, reading)) => match input.get(name).and_then(Value::as_str) {
            Some(value) => Some(edit_area(&fetch(inner, value)?, *reading)?),
            None => None,
        },
        None => None,
    };
    let count = input.get("num_images").and_then(Value::as_u64).unwrap_or(1);
    let size = input.get("image_size").and_then(|s| {
        Some((
            u32::try_from(s.get("width")?.as_u64()?).ok()?,
            u32::try_from(s.get("height")?.as_u64()?).ok()?,
        ))
    });
    let format = input
        .get("output_format")
        .and_then(Value::as_str)
        .unwrap_or(app.default_format)
        .to_string();
    (0..count)
        .map(|i| {
            let colour = [90, (40 + i * 50) as u8, 200];
            let image = paint(&base, area.as_ref(), colour, inner.leak, size)?;
            let dimensions = image.dimensions();
            let bytes = if not_an_image {
                b"<html>this result is not an image file</html>".to_vec()
            } else {
                encode(image, &format)
            };
            Ok((bytes, dimensions, format.clone()))
        })
        .collect()
}

/// An input file from a data URI or from one of the emulator's own URLs (a
/// file uploaded to its storage, a fixture); anything else cannot be fetched.
fn fetch(inner: &Inner, value: &str) -> Result<Vec<u8>, String> {
    if let Some(bytes) = data_uri_bytes(value) {
        return bytes;
    }
    let path = value
        .strip_prefix(&inner.base)
        .ok_or_else(|| format!("cannot download {value}: the emulator only reads its own URLs"))?;
    let found = if let Some(name) = path.strip_prefix("/files/") {
        inner.files.get(name)
    } else if let Some(name) = path.strip_prefix("/fixtures/") {
        inner.fixtures.get(name)
    } else {
        None
    };
    found
        .cloned()
        .ok_or_else(|| format!("cannot download {value}: not found"))
}

fn initiate_upload(shared: &Shared, call: &Call<'_>, raw: &[u8], multipart: bool) -> Response {
    let operation = if multipart {
        UPLOAD_INITIATE_MULTIPART
    } else {
        UPLOAD_INITIATE
    };
    let body: Option<Value> = serde_json::from_slice(raw).ok();
    let mut problems = Vec::new();
    match &body {
        None => problems.push("the body is not JSON".into()),
        Some(body) => problems.extend(shared.contract.check(&Contract::component("InitiateUploadData"), body)),
    }
    if !call
        .query
        .is_some_and(|q| q.split('&').any(|pair| pair == "storage_type=fal-cdn-v3"))
    {
        problems.push("the official client asks for `storage_type=fal-cdn-v3`".into());
    }
    let recorded = body.clone().map_or(RecordedBody::Other(raw.len()), RecordedBody::Json);
    call.record(shared, operation, false, recorded, problems.clone());
    if let Some(denied) = unauthorised(call.headers) {
        return denied;
    }
    if let Some(fault) = faulted(shared, operation) {
        return fault;
    }
    let Some(body) = body.filter(|_| problems.is_empty()) else {
        return detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            field_error("file_name", "invalid upload request", "value_error"),
        );
    };
    let content_type = body
        .get("content_type")
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream");
    let file_name = body.get("file_name").and_then(Value::as_str).unwrap_or("file");
    let mut inner = shared.lock();
    inner.next_id += 1;
    let token = format!("up{:06}", inner.next_id);
    let safe_name: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    inner.uploads.insert(
        token.clone(),
        (content_type.to_string(), format!("{token}/{safe_name}")),
    );
    if multipart {
        inner.parts.insert(token.clone(), BTreeMap::new());
    }
    let answer = json!({
        "upload_url": format!("{}/uploads/{token}?signature=emulated", inner.base),
        "file_url": format!("{}/files/{token}/{safe_name}", inner.base),
    });
    shared.journal.answer_problems(
        shared
            .contract
            .check(&Contract::component("InitiateUploadResult"), &answer)
            .into_iter()
            .map(|p| format!("upload answer: {p}")),
    );
    json_answer(StatusCode::OK, &answer, &token)
}

fn put_upload(shared: &Shared, call: &Call<'_>, token: &str, body: &[u8]) -> Response {
    let mut problems = Vec::new();
    if call.headers.contains_key(header::AUTHORIZATION) {
        problems
            .push("the key was sent to a signed upload URL; the official client sends it only to fal's APIs".into());
    }
    let mut inner = shared.lock();
    let expected = inner.uploads.get(token).cloned();
    let content_type = call.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if inner.parts.contains_key(token) {
        problems.push(format!(
            "upload {token} is multipart: its bytes go to {{upload_url}}/{{part number}}, then {{upload_url}}/complete"
        ));
    }
    match &expected {
        None => problems.push(format!("upload {token} was never initiated")),
        Some((wanted, _)) if content_type != Some(wanted.as_str()) => problems.push(format!(
            "the upload is labelled {content_type:?}, but was initiated as `{wanted}`"
        )),
        Some(_) => {}
    }
    call.record(shared, UPLOAD, false, RecordedBody::Other(body.len()), problems);
    if let Some(fault) = faulted(shared, UPLOAD) {
        return fault;
    }
    match expected {
        Some((_, name)) => {
            inner.files.insert(name, body.to_vec());
            StatusCode::OK.into_response()
        }
        None => (StatusCode::FORBIDDEN, "<Error><Code>AccessDenied</Code></Error>").into_response(),
    }
}

/// Problems every signed-URL call of a multipart upload may have: the key
/// sent, a token that was not initiated as multipart, a lost query.
fn multipart_problems(inner: &Inner, call: &Call<'_>, token: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if call.headers.contains_key(header::AUTHORIZATION) {
        problems
            .push("the key was sent to a signed upload URL; the official client sends it only to fal's APIs".into());
    }
    if !inner.parts.contains_key(token) {
        problems.push(format!("upload {token} was not initiated as a multipart upload"));
    }
    if call.query != Some("signature=emulated") {
        problems.push("the upload URL's query (its signature) was not kept".into());
    }
    problems
}

fn put_part(shared: &Shared, call: &Call<'_>, token: &str, number: &str, body: &[u8]) -> Response {
    let mut inner = shared.lock();
    let mut problems = multipart_problems(&inner, call, token);
    let number = match number.parse::<u32>() {
        Ok(n) if n >= 1 => Some(n),
        _ => {
            problems.push(format!("part number `{number}` is not a whole number from 1"));
            None
        }
    };
    call.record(shared, UPLOAD_PART, false, RecordedBody::Other(body.len()), problems);
    if let Some(fault) = faulted(shared, UPLOAD_PART) {
        return fault;
    }
    match (number, inner.parts.get_mut(token)) {
        (Some(number), Some(parts)) => {
            parts.insert(number, body.to_vec());
            let answer = json!({"partNumber": number, "etag": format!("\"{token}-{number}\"")});
            json_answer(StatusCode::OK, &answer, token)
        }
        _ => (StatusCode::FORBIDDEN, "<Error><Code>AccessDenied</Code></Error>").into_response(),
    }
}

fn complete_upload(shared: &Shared, call: &Call<'_>, token: &str, raw: &[u8]) -> Response {
    let mut inner = shared.lock();
    let mut problems = multipart_problems(&inner, call, token);
    let body: Option<Value> = serde_json::from_slice(raw).ok();
    let listed: Vec<(u64, String)> = body
        .as_ref()
        .and_then(|b| b.get("parts"))
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .map(|p| {
                    let number = p.get("partNumber").and_then(Value::as_u64).unwrap_or(0);
                    (number, p.get("etag").and_then(Value::as_str).unwrap_or("").to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let stored = inner.parts.get(token).cloned().unwrap_or_default();
    let expected: Vec<(u64, String)> = stored
        .keys()
        .map(|n| (u64::from(*n), format!("\"{token}-{n}\"")))
        .collect();
    if listed != expected {
        problems.push(format!(
            "complete lists parts {listed:?}, but the parts stored are {expected:?} (every part's number and etag, in order)"
        ));
    }
    if !stored.keys().copied().eq(1..=stored.len() as u32) {
        problems.push(format!("the parts stored are not numbered 1..{}", stored.len()));
    }
    let recorded = body.map_or(RecordedBody::Other(raw.len()), RecordedBody::Json);
    call.record(shared, UPLOAD_COMPLETE, false, recorded, problems);
    if let Some(fault) = faulted(shared, UPLOAD_COMPLETE) {
        return fault;
    }
    let Some(parts) = inner.parts.remove(token) else {
        return (StatusCode::FORBIDDEN, "<Error><Code>AccessDenied</Code></Error>").into_response();
    };
    if let Some((_, name)) = inner.uploads.get(token).cloned() {
        inner.files.insert(name, parts.into_values().flatten().collect());
    }
    StatusCode::OK.into_response()
}

fn file(shared: &Shared, call: &Call<'_>, name: &str) -> Response {
    call.record(shared, DOWNLOAD, false, RecordedBody::Empty, Vec::new());
    if let Some(fault) = faulted(shared, DOWNLOAD) {
        return fault;
    }
    let inner = shared.lock();
    if inner.files_expired {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    match inner.files.get(name) {
        Some(bytes) => {
            let mime = match name.rsplit('.').next() {
                Some("jpeg" | "jpg") => "image/jpeg",
                Some("webp") => "image/webp",
                _ => "image/png",
            };
            ([(header::CONTENT_TYPE, mime)], bytes.clone()).into_response()
        }
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

fn fixture(shared: &Shared, call: &Call<'_>, name: &str) -> Response {
    call.record(shared, FIXTURE, false, RecordedBody::Empty, Vec::new());
    match shared.lock().fixtures.get(name) {
        Some(bytes) => bytes.clone().into_response(),
        None => (StatusCode::NOT_FOUND, "no such fixture").into_response(),
    }
}

/// fal's model search: `?endpoint_id=..&expand=openapi-3.0` gives each app's OpenAPI document.
fn models(shared: &Shared, call: &Call<'_>) -> Response {
    let pairs: Vec<(String, String)> = call
        .query
        .map(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_string(), percent_decode(v)))
                .collect()
        })
        .unwrap_or_default();
    let wanted: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "endpoint_id")
        .map(|(_, v)| v.as_str())
        .collect();
    let expand = pairs.iter().any(|(k, v)| k == "expand" && v == "openapi-3.0");
    let mut problems = Vec::new();
    if wanted.is_empty() {
        problems.push("a schema read names its app with `endpoint_id`".into());
    }
    if !expand {
        problems.push("without `expand=openapi-3.0` the model search carries no schema".into());
    }
    call.record(shared, SCHEMA, false, RecordedBody::Empty, problems);
    if let Some(fault) = faulted(shared, SCHEMA) {
        return fault;
    }
    let inner = shared.lock();
    let found: Vec<Value> = wanted
        .iter()
        .filter_map(|id| inner.apps.get(*id))
        .map(|app| {
            let mut model = json!({
                "endpoint_id": app.id,
                "metadata": {"display_name": app.id, "category": "image-to-image", "status": "active"},
            });
            if expand {
                model["openapi"] = app.openapi();
            }
            model
        })
        .collect();
    json_answer(
        StatusCode::OK,
        &json!({"models": found, "has_more": false, "next_cursor": null}),
        "search",
    )
}

/// `%2F` and friends decoded (the query of a model search names endpoint ids with slashes).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or(())
                {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_use_owner_and_app_only() {
        assert_eq!(owner_app("fal-ai/bytedance/seedream/v4/edit"), "fal-ai/bytedance");
        assert_eq!(owner_app("fal-ai/qwen-image-edit"), "fal-ai/qwen-image-edit");
    }

    #[test]
    fn endpoint_ids_in_queries_are_decoded() {
        assert_eq!(percent_decode("fal-ai%2Fflux-pro%2Fkontext"), "fal-ai/flux-pro/kontext");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn every_app_schema_is_readable_json_schema() {
        for app in super::super::default_catalogue() {
            assert!(app.input_schema.get("properties").is_some(), "{}", app.id);
            let contract =
                Contract::from_value(&app.id, json!({"components": {"schemas": {"Input": app.input_schema}}}));
            let problems = contract.check(&Contract::component("Input"), &json!({}));
            assert!(
                problems.iter().any(|p| p.contains("prompt")),
                "{}: {problems:?}",
                app.id
            );
        }
    }
}
