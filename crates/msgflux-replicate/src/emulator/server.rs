//! The emulator's HTTP routes and how it renders outputs.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use image::{DynamicImage, Rgba, RgbaImage};
use msgflux_core::MaskConvention;
use serde_json::{Value, json};

use super::spec;
use super::{
    EMULATOR_TOKEN, EmulatedModel, Fault, Inner, Outcome, RecordedRequest, Scenario, Shared, StoredPrediction,
};

type SharedState = Arc<Shared>;

pub(crate) fn router(shared: SharedState) -> Router {
    Router::new()
        .route("/v1/models/{owner}/{name}", get(read_model))
        .route("/v1/models/{owner}/{name}/versions/{version}", get(read_version))
        .route("/v1/models/{owner}/{name}/predictions", post(create_official))
        .route("/v1/deployments/{owner}/{name}", get(read_deployment))
        .route("/v1/deployments/{owner}/{name}/predictions", post(create_deployment))
        .route("/v1/predictions", post(create_version))
        .route("/v1/predictions/{id}", get(poll))
        .route("/v1/predictions/{id}/cancel", post(cancel))
        .route("/v1/files", post(upload))
        .route("/delivery/{id}/{file}", get(deliver))
        .route("/fixtures/{name}", get(fixture))
        .with_state(shared)
}

fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    problem_with(
        status,
        json!({"title": title, "detail": detail, "status": status.as_u16()}),
    )
}

fn problem_with(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

fn record(inner: &mut Inner, method: &str, path: &str, headers: &HeaderMap, body: Option<Value>) {
    let headers: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or("<binary>").to_string(),
            )
        })
        .collect();
    inner.requests.push(RecordedRequest {
        method: method.into(),
        path: path.into(),
        headers,
        body,
    });
}

/// How every `/v1` route starts: the request is recorded, then the token
/// checked; the 401 answer, if the token is wrong.
fn record_api_call(
    inner: &mut Inner,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: Option<Value>,
) -> Option<Response> {
    record(inner, method, path, headers, body);
    unauthorised(headers)
}

/// The token check: the 401 answer, if the token is wrong.
fn unauthorised(headers: &HeaderMap) -> Option<Response> {
    let expected = format!("Bearer {EMULATOR_TOKEN}");
    match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(value) if value == expected => None,
        _ => Some(problem(
            StatusCode::UNAUTHORIZED,
            "Unauthenticated",
            "You did not pass a valid authentication token",
        )),
    }
}

fn schema_document(model: &EmulatedModel) -> Value {
    json!({
        "id": model.version,
        "created_at": "2026-11-01T00:00:00Z",
        "cog_version": "0.9.0",
        "openapi_schema": model.openapi_schema,
    })
}

async fn read_model(
    State(shared): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = shared.lock();
    if let Some(denied) = record_api_call(&mut inner, "GET", &format!("/v1/models/{owner}/{name}"), &headers, None) {
        return denied;
    }
    inner.counts.model_reads += 1;
    let answer = match inner.models.get(&format!("{owner}/{name}")) {
        Some(model) => Json(json!({
            "url": format!("https://replicate.com/{owner}/{name}"),
            "owner": owner,
            "name": name,
            "description": "emulated model",
            "visibility": "public",
            "run_count": 0,
            "is_official": model.official,
            "latest_version": schema_document(model),
        })),
        None => return not_found(),
    };
    answer.into_response()
}

async fn read_version(
    State(shared): State<SharedState>,
    Path((owner, name, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = shared.lock();
    if let Some(denied) = record_api_call(
        &mut inner,
        "GET",
        &format!("/v1/models/{owner}/{name}/versions/{version}"),
        &headers,
        None,
    ) {
        return denied;
    }
    inner.counts.model_reads += 1;
    match inner.models.get(&format!("{owner}/{name}")) {
        Some(model) if model.version == version => Json(schema_document(model)).into_response(),
        _ => not_found(),
    }
}

async fn read_deployment(
    State(shared): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = shared.lock();
    if let Some(denied) = record_api_call(
        &mut inner,
        "GET",
        &format!("/v1/deployments/{owner}/{name}"),
        &headers,
        None,
    ) {
        return denied;
    }
    inner.counts.model_reads += 1;
    match inner.deployments.get(&format!("{owner}/{name}")) {
        Some(d) => Json(json!({
            "owner": d.owner,
            "name": d.name,
            "current_release": {"number": 1, "model": d.model, "version": d.version, "created_at": "2026-11-01T00:00:00Z",
                "created_by": {"type": "organization", "username": d.owner},
                "configuration": {"hardware": "gpu-a100-large", "min_instances": 0, "max_instances": 1}},
        }))
        .into_response(),
        None => not_found(),
    }
}

fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not found",
        "The requested resource could not be found.",
    )
}

struct Json(Value);

impl IntoResponse for Json {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], self.0.to_string()).into_response()
    }
}

/// Which create route was called.
enum CreateRoute {
    Official(String),
    Version,
    Deployment(String),
}

async fn create_official(
    State(shared): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(create(
        &shared,
        CreateRoute::Official(format!("{owner}/{name}")),
        &format!("/v1/models/{owner}/{name}/predictions"),
        "/models/{model_owner}/{model_name}/predictions",
        &headers,
        &body,
    ))
    .await
}

async fn create_deployment(
    State(shared): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(create(
        &shared,
        CreateRoute::Deployment(format!("{owner}/{name}")),
        &format!("/v1/deployments/{owner}/{name}/predictions"),
        "/deployments/{deployment_owner}/{deployment_name}/predictions",
        &headers,
        &body,
    ))
    .await
}

async fn create_version(State(shared): State<SharedState>, headers: HeaderMap, body: Bytes) -> Response {
    respond(create(
        &shared,
        CreateRoute::Version,
        "/v1/predictions",
        "/predictions",
        &headers,
        &body,
    ))
    .await
}

/// Sends a create answer, after holding it when a fault asked for that.
async fn respond((response, hold): (Response, Option<std::time::Duration>)) -> Response {
    if let Some(hold) = hold {
        tokio::time::sleep(hold).await;
    }
    response
}

fn create(
    shared: &Shared,
    route: CreateRoute,
    path: &str,
    spec_path: &str,
    headers: &HeaderMap,
    raw: &[u8],
) -> (Response, Option<std::time::Duration>) {
    let mut inner = shared.lock();
    let hold = match inner.take_fault(|f| matches!(f, Fault::HoldCreate { .. })) {
        Some(Fault::HoldCreate { millis }) => Some(std::time::Duration::from_millis(millis)),
        _ => None,
    };
    (create_now(&mut inner, route, path, spec_path, headers, raw), hold)
}

fn create_now(
    inner: &mut Inner,
    route: CreateRoute,
    path: &str,
    spec_path: &str,
    headers: &HeaderMap,
    raw: &[u8],
) -> Response {
    let body: Option<Value> = serde_json::from_slice(raw).ok();
    if let Some(denied) = record_api_call(inner, "POST", path, headers, body.clone()) {
        return denied;
    }
    inner.counts.create_posts += 1;
    let Some(body) = body else {
        inner.violations.push(format!("POST {path}: the body is not JSON"));
        return problem(StatusCode::BAD_REQUEST, "Bad request", "the body is not JSON");
    };
    let mut problems = header_problems(headers);
    if let Some(spec) = &inner.spec {
        match spec::request_body_schema(spec, spec_path, "post", "application/json") {
            Some(schema) => problems.extend(spec::validate(&body, schema, spec)),
            None => problems.push(format!("the API description has no request body for POST {spec_path}")),
        }
    }
    if !problems.is_empty() {
        let text = problems.join("; ");
        inner.violations.push(format!("POST {path}: {text}"));
        return problem(StatusCode::BAD_REQUEST, "Invalid request", &text);
    }
    let create_fault = |f: &Fault| {
        matches!(
            f,
            Fault::RateLimitCreate { .. }
                | Fault::ServerErrorOnCreate
                | Fault::RejectInputField { .. }
                | Fault::PaymentRequired
        )
    };
    match inner.take_fault(create_fault) {
        Some(Fault::RateLimitCreate { retry_after_secs }) => {
            let mut response = problem_with(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"title": "Request was throttled", "status": 429,
                    "detail": format!("Request was throttled. Expected available in {retry_after_secs} seconds."),
                    "retry_after": retry_after_secs}),
            );
            if let Ok(value) = retry_after_secs.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        Some(Fault::ServerErrorOnCreate) => {
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
                "something broke",
            );
        }
        Some(Fault::RejectInputField { field, description }) => {
            return problem_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"title": "Input validation failed", "status": 422,
                    "detail": format!("- {field}: {description}"),
                    "invalid_fields": [{"type": "invalid", "field": field, "description": description}]}),
            );
        }
        Some(Fault::PaymentRequired) => {
            return problem(
                StatusCode::PAYMENT_REQUIRED,
                "Insufficient credit",
                "You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to purchase credit.",
            );
        }
        _ => {}
    }

    let (model_id, route_name, version_shown) = match &route {
        CreateRoute::Official(id) => match inner.models.get(id) {
            Some(model) if model.official => (id.clone(), "official", "hidden".to_string()),
            // Community models cannot run without a version.
            _ => return not_found(),
        },
        CreateRoute::Deployment(id) => match inner.deployments.get(id) {
            Some(d) => (d.model.clone(), "deployment", d.version.clone()),
            None => return not_found(),
        },
        CreateRoute::Version => {
            let asked = body.get("version").and_then(Value::as_str).unwrap_or_default();
            let found = inner.models.values().find(|m| {
                asked == m.version || asked == format!("{}:{}", m.id(), m.version) || (m.official && asked == m.id())
            });
            match found {
                Some(model) => (model.id(), "version", model.version.clone()),
                None => {
                    return problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Invalid version or not permitted",
                        "The specified version does not exist (or perhaps you don't have permission to use it?)",
                    );
                }
            }
        }
    };
    let input = body.get("input").cloned().unwrap_or(Value::Null);
    let model = inner.models.get(&model_id).cloned().expect("resolved above");
    let invalid = input_problems(&model, &input);
    if !invalid.is_empty() {
        inner.violations.push(format!(
            "POST {path}: input breaks the {model_id} schema: {}",
            invalid.join("; ")
        ));
        let fields: Vec<Value> = invalid
            .iter()
            .map(|p| json!({"type": "invalid", "field": "input", "description": p}))
            .collect();
        return problem_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"title": "Input validation failed", "status": 422, "detail": invalid.join("\n"), "invalid_fields": fields}),
        );
    }

    inner.next_id += 1;
    let id = format!("emu{:06}", inner.next_id);
    let default_polls = inner.default_polls;
    let scenario = inner
        .scenarios
        .pop_front()
        .unwrap_or_else(|| Scenario::succeed_after(default_polls));
    let mut prediction = StoredPrediction {
        id: id.clone(),
        model: model_id,
        route: route_name,
        version: version_shown,
        input,
        scenario,
        polls: 0,
        status: "starting",
        output: Value::Null,
        error: Value::Null,
        predict_time: None,
    };
    if prediction.scenario.polls == 0 {
        complete(inner, &mut prediction);
    }
    let answer = prediction_json(&inner.base, &prediction);
    let status = if prediction.status == "starting" {
        StatusCode::ACCEPTED
    } else {
        StatusCode::CREATED
    };
    inner.predictions.insert(id, prediction);
    (status, Json(answer)).into_response()
}

/// `Prefer` must match `^wait(=([1-9]|[1-9][0-9]|60))?$` and `Cancel-After`
/// must be a duration of at least 5 s, as the API description says.
fn header_problems(headers: &HeaderMap) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(prefer) = headers.get("prefer").and_then(|v| v.to_str().ok()) {
        let fine = match prefer.strip_prefix("wait") {
            Some("") => true,
            Some(rest) => rest
                .strip_prefix('=')
                .is_some_and(|n| !n.starts_with('0') && n.parse::<u32>().is_ok_and(|n| (1..=60).contains(&n))),
            None => false,
        };
        if !fine {
            problems.push(format!("the Prefer header `{prefer}` does not match wait=1..60"));
        }
    }
    if let Some(after) = headers.get("cancel-after").and_then(|v| v.to_str().ok()) {
        match duration_secs(after) {
            Some(secs) if secs >= 5 => {}
            Some(_) => problems.push(format!("Cancel-After `{after}` is below the 5 s minimum")),
            None => problems.push(format!("Cancel-After `{after}` is not a duration")),
        }
    }
    problems
}

/// `90`, `90s`, `5m`, `1h30m45s` → seconds.
fn duration_secs(text: &str) -> Option<u64> {
    if let Ok(secs) = text.parse::<u64>() {
        return Some(secs);
    }
    let mut total = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total += digits.parse::<u64>().ok()? * unit;
        digits.clear();
    }
    digits.is_empty().then_some(total)
}

/// What is wrong with a prediction input, by the model's schema: types,
/// ranges, choices, required inputs, and inputs the model does not have.
fn input_problems(model: &EmulatedModel, input: &Value) -> Vec<String> {
    let schema = model.input_schema();
    let mut problems = spec::validate(input, schema, &model.openapi_schema);
    if let (Some(given), Some(known)) = (input.as_object(), schema.get("properties").and_then(Value::as_object)) {
        for name in given.keys().filter(|k| !known.contains_key(*k)) {
            problems.push(format!("$.{name}: {} has no such input", model.id()));
        }
    }
    problems
}

async fn poll(State(shared): State<SharedState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = shared.lock();
    if let Some(denied) = record_api_call(&mut inner, "GET", &format!("/v1/predictions/{id}"), &headers, None) {
        return denied;
    }
    inner.counts.polls += 1;
    if inner.take_fault(|f| *f == Fault::ServerErrorOnPoll).is_some() {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", "try again");
    }
    let Some(mut prediction) = inner.predictions.remove(&id) else {
        return not_found();
    };
    if !is_terminal(prediction.status) {
        prediction.polls += 1;
        prediction.status = "processing";
        if prediction.polls >= prediction.scenario.polls {
            complete(&mut inner, &mut prediction);
        }
    }
    let answer = prediction_json(&inner.base, &prediction);
    inner.predictions.insert(id, prediction);
    Json(answer).into_response()
}

async fn cancel(State(shared): State<SharedState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = shared.lock();
    if let Some(denied) = record_api_call(
        &mut inner,
        "POST",
        &format!("/v1/predictions/{id}/cancel"),
        &headers,
        None,
    ) {
        return denied;
    }
    inner.counts.cancels += 1;
    let base = inner.base.clone();
    match inner.predictions.get_mut(&id) {
        Some(prediction) => {
            if !is_terminal(prediction.status) {
                prediction.status = "canceled";
            }
            Json(prediction_json(&base, prediction)).into_response()
        }
        None => not_found(),
    }
}

async fn upload(State(shared): State<SharedState>, headers: HeaderMap, mut form: Multipart) -> Response {
    let mut content: Option<(Vec<u8>, Option<String>, Option<String>)> = None;
    let mut filename_field = None;
    let mut malformed = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().map(str::to_string);
                let mime = field.content_type().map(str::to_string);
                match field.bytes().await {
                    Ok(bytes) if name == "content" => content = Some((bytes.to_vec(), file_name, mime)),
                    Ok(bytes) if name == "filename" => {
                        filename_field = Some(String::from_utf8_lossy(&bytes).into_owned())
                    }
                    Ok(_) => {}
                    Err(e) => malformed = Some(e.to_string()),
                }
            }
            Ok(None) => break,
            Err(e) => {
                malformed = Some(e.to_string());
                break;
            }
        }
    }
    let mut inner = shared.lock();
    if let Some(denied) = record_api_call(&mut inner, "POST", "/v1/files", &headers, None) {
        return denied;
    }
    inner.counts.uploads += 1;
    if inner.take_fault(|f| *f == Fault::ServerErrorOnUpload).is_some() {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error", "try again");
    }
    let mut problems = Vec::new();
    if let Some(e) = malformed {
        problems.push(format!("the multipart body is malformed: {e}"));
    }
    let Some((bytes, part_name, mime)) = content else {
        inner
            .violations
            .push("POST /v1/files: the required part `content` is missing".into());
        return problem(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "the `content` part is required",
        );
    };
    if filename_field
        .as_ref()
        .or(part_name.as_ref())
        .is_some_and(|n| n.len() > 255)
    {
        problems.push("the filename is longer than 255 bytes".into());
    }
    if !mime.as_deref().is_some_and(|m| m.starts_with("image/")) {
        problems.push(format!("the content part is labelled {mime:?}, not an image type"));
    }
    if !problems.is_empty() {
        inner
            .violations
            .push(format!("POST /v1/files: {}", problems.join("; ")));
    }
    inner.next_id += 1;
    let id = format!("file{:06}", inner.next_id);
    let size = bytes.len();
    inner.files.insert(id.clone(), bytes);
    let url = format!("{}/v1/files/{id}", inner.base);
    (
        StatusCode::CREATED,
        Json(json!({
            "id": id,
            "name": filename_field.or(part_name).unwrap_or_default(),
            "content_type": mime.unwrap_or_default(),
            "size": size,
            "etag": "emulated",
            "checksums": {"sha256": "emulated"},
            "metadata": {},
            "created_at": "2026-11-28T00:00:00Z",
            "expires_at": "2026-11-29T00:00:00Z",
            "urls": {"get": url},
        })),
    )
        .into_response()
}

async fn deliver(
    State(shared): State<SharedState>,
    Path((id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = shared.lock();
    record(&mut inner, "GET", &format!("/delivery/{id}/{file}"), &headers, None);
    inner.counts.downloads += 1;
    if inner.outputs_expired {
        return (StatusCode::NOT_FOUND, "expired").into_response();
    }
    match inner.outputs.get(&format!("{id}/{file}")) {
        Some(bytes) => ([(header::CONTENT_TYPE, "image/png")], bytes.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, "no such output").into_response(),
    }
}

async fn fixture(State(shared): State<SharedState>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let mut inner = shared.lock();
    record(&mut inner, "GET", &format!("/fixtures/{name}"), &headers, None);
    match inner.fixtures.get(&name) {
        Some(bytes) => bytes.clone().into_response(),
        None => (StatusCode::NOT_FOUND, "no such fixture").into_response(),
    }
}

fn is_terminal(status: &str) -> bool {
    matches!(status, "succeeded" | "failed" | "canceled" | "aborted")
}

/// Ends a prediction the way its scenario says.
fn complete(inner: &mut Inner, prediction: &mut StoredPrediction) {
    match prediction.scenario.outcome.clone() {
        Outcome::Fail(error) => {
            prediction.status = "failed";
            prediction.error = Value::String(error);
        }
        Outcome::Cancel => prediction.status = "canceled",
        Outcome::Abort => prediction.status = "aborted",
        Outcome::Succeed => {
            let model = inner
                .models
                .get(&prediction.model)
                .cloned()
                .expect("created for a known model");
            match render(inner, &model, &prediction.input) {
                Ok(images) => {
                    let mut urls = Vec::new();
                    for (i, png) in images.into_iter().enumerate() {
                        inner.outputs.insert(format!("{}/out-{i}.png", prediction.id), png);
                        urls.push(Value::String(format!(
                            "{}/delivery/{}/out-{i}.png",
                            inner.base, prediction.id
                        )));
                    }
                    prediction.output = if model.output_list {
                        Value::Array(urls)
                    } else {
                        urls.into_iter().next().unwrap_or(Value::Null)
                    };
                    prediction.status = "succeeded";
                    prediction.predict_time = Some(1.25);
                }
                Err(error) => {
                    prediction.status = "failed";
                    prediction.error = Value::String(error);
                }
            }
        }
    }
}

fn prediction_json(base: &str, p: &StoredPrediction) -> Value {
    let mut answer = json!({
        "id": p.id,
        "model": p.model,
        "version": p.version,
        "input": p.input,
        "logs": "",
        "output": p.output,
        "data_removed": false,
        "error": p.error,
        "status": p.status,
        "source": "api",
        "created_at": "2026-11-28T00:00:00.000000Z",
        "urls": {
            "get": format!("{base}/v1/predictions/{}", p.id),
            "cancel": format!("{base}/v1/predictions/{}/cancel", p.id),
            "web": format!("https://replicate.com/p/{}", p.id),
        },
    });
    if is_terminal(p.status) {
        answer["completed_at"] = json!("2026-11-28T00:00:02.000000Z");
        answer["metrics"] = json!({"predict_time": p.predict_time.unwrap_or(0.0), "total_time": 2.0});
    }
    answer
}

/// The model's outputs: the input image with the mask's edit area painted
/// (read in the model's own convention), resized to the size inputs if any.
fn render(inner: &Inner, model: &EmulatedModel, input: &Value) -> Result<Vec<Vec<u8>>, String> {
    let (image_name, list) = &model.image_input;
    let image_value = if *list {
        input.get(image_name).and_then(|v| v.get(0))
    } else {
        input.get(image_name)
    }
    .and_then(Value::as_str)
    .ok_or_else(|| format!("{} needs `{image_name}`", model.id()))?;
    let base = decode(&fetch(inner, image_value)?)?.to_rgba8();
    let edit: Option<image::GrayImage> = match &model.mask_input {
        Some((name, convention)) => match input.get(name).and_then(Value::as_str) {
            Some(value) => {
                let mask = decode(&fetch(inner, value)?)?;
                if (mask.width(), mask.height()) != base.dimensions() {
                    return Err(format!(
                        "mask is {}x{} but image is {}x{}",
                        mask.width(),
                        mask.height(),
                        base.width(),
                        base.height()
                    ));
                }
                Some(edit_area(&mask, *convention))
            }
            None => None,
        },
        None => None,
    };
    let count = model
        .count_input
        .as_ref()
        .and_then(|name| input.get(name))
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let size = model.size_inputs.as_ref().and_then(|(w, h)| {
        Some((
            u32::try_from(input.get(w)?.as_u64()?).ok()?,
            u32::try_from(input.get(h)?.as_u64()?).ok()?,
        ))
    });
    (0..count)
        .map(|i| {
            let colour = Rgba([200, (40 + i * 50) as u8, 90, 255]);
            let mut out = base.clone();
            for (x, y, px) in out.enumerate_pixels_mut() {
                if edit.as_ref().is_none_or(|e| e.get_pixel(x, y)[0] > 127) {
                    *px = colour;
                }
            }
            let out = match size {
                Some((w, h)) if (w, h) != out.dimensions() => {
                    image::imageops::resize(&out, w, h, image::imageops::FilterType::Nearest)
                }
                _ => out,
            };
            encode(out)
        })
        .collect()
}

/// 255 where the model edits, 0 where it keeps.
fn edit_area(mask: &DynamicImage, convention: MaskConvention) -> image::GrayImage {
    let rgba = mask.to_rgba8();
    image::GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
        let Rgba([r, g, b, a]) = *rgba.get_pixel(x, y);
        let luma = ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000) as u8;
        let edit = match convention {
            MaskConvention::WhiteIsEdit => luma > 127,
            MaskConvention::BlackIsEdit => luma <= 127,
            MaskConvention::TransparentIsEdit => a < 128,
        };
        image::Luma([if edit { 255 } else { 0 }])
    })
}

/// An input file from a data URI or from one of the emulator's own URLs.
fn fetch(inner: &Inner, value: &str) -> Result<Vec<u8>, String> {
    if let Some(rest) = value.strip_prefix("data:") {
        let payload = rest.split_once(',').map(|(_, p)| p).unwrap_or_default();
        return BASE64
            .decode(payload)
            .map_err(|e| format!("a data URI input is not base64: {e}"));
    }
    let path = value
        .strip_prefix(&inner.base)
        .ok_or_else(|| format!("cannot fetch {value}: the emulator only reads its own URLs"))?;
    let found = if let Some(id) = path.strip_prefix("/v1/files/") {
        inner.files.get(id)
    } else if let Some(name) = path.strip_prefix("/fixtures/") {
        inner.fixtures.get(name)
    } else if let Some(key) = path.strip_prefix("/delivery/") {
        inner.outputs.get(key)
    } else {
        None
    };
    found.cloned().ok_or_else(|| format!("cannot fetch {value}: not found"))
}

fn decode(bytes: &[u8]) -> Result<DynamicImage, String> {
    image::load_from_memory(bytes).map_err(|e| format!("cannot decode an input image: {e}"))
}

fn encode(image: RgbaImage) -> Result<Vec<u8>, String> {
    let mut png = Vec::new();
    DynamicImage::ImageRgba8(image)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| format!("cannot encode the output: {e}"))?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_api_describes_them() {
        assert_eq!(duration_secs("30"), Some(30));
        assert_eq!(duration_secs("90s"), Some(90));
        assert_eq!(duration_secs("1h30m45s"), Some(5445));
        assert_eq!(duration_secs("5 minutes"), None);
    }

    #[test]
    fn prefer_headers_outside_one_to_sixty_are_flagged() {
        for (value, fine) in [
            ("wait", true),
            ("wait=60", true),
            ("wait=1", true),
            ("wait=61", false),
            ("wait=0", false),
            ("wait=05", false),
            ("respond-async", false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert("prefer", value.parse().expect("header"));
            assert_eq!(header_problems(&headers).is_empty(), fine, "{value}");
        }
    }

    #[test]
    fn emulated_predictions_match_the_published_response_schema() {
        let spec: Value =
            serde_json::from_str(&std::fs::read_to_string(super::super::SPEC_PATH).expect("spec copy")).expect("json");
        let schema = json!({"$ref": "#/components/schemas/schemas_prediction_response"});
        let prediction = StoredPrediction {
            id: "emu1".into(),
            model: "google/nano-banana".into(),
            route: "official",
            version: "hidden".into(),
            input: json!({"prompt": "x"}),
            scenario: Scenario::succeed_after(0),
            polls: 0,
            status: "succeeded",
            output: json!("http://127.0.0.1:1/delivery/emu1/out-0.png"),
            error: Value::Null,
            predict_time: Some(1.0),
        };
        let problems = spec::validate(&prediction_json("http://127.0.0.1:1", &prediction), &schema, &spec);
        assert!(problems.is_empty(), "{problems:?}");
    }
}
