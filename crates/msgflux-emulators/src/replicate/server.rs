//! The emulator's HTTP routes and how it renders outputs.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::{
    CANCEL, CREATE, DOWNLOAD, EMULATOR_TOKEN, EmulatedModel, FIXTURE, Inner, MODEL_READ, POLL, Shared,
    StoredPrediction, UPLOAD,
};
use crate::engine::{Arrival, Contract, Fault, JobEnd, RecordedBody, edit_area, encode, paint};

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

/// Records a request with its problems; the request id.
fn record(
    shared: &Shared,
    (operation, paid): (&'static str, bool),
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: RecordedBody,
    problems: Vec<String>,
) -> String {
    shared.journal.record(
        Arrival {
            operation,
            paid,
            method,
            path,
            query: None,
            headers,
        },
        body,
        problems,
    )
}

/// How every `/v1` read starts: the request is recorded, then the token
/// checked; the 401 answer, if the token is wrong.
fn record_api_call(
    shared: &Shared,
    operation: &'static str,
    method: &str,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    record(
        shared,
        (operation, false),
        method,
        path,
        headers,
        RecordedBody::Empty,
        Vec::new(),
    );
    unauthorised(headers)
}

/// A 500 problem when a fault was queued for this operation.
fn faulted(shared: &Shared, operation: &'static str) -> Option<Response> {
    match shared.script.take(operation, false, None)? {
        Fault::ServerError { status } => Some(problem(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "Internal server error",
            "try again",
        )),
        other => {
            shared
                .journal
                .answer_problems([format!("the Replicate emulator cannot inject {other:?} on {operation}")]);
            None
        }
    }
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

/// A model, version or deployment read: recorded, the token checked, then answered from the catalogue.
fn read_call(
    shared: &Shared,
    path: &str,
    headers: &HeaderMap,
    answer: impl FnOnce(&Inner) -> Option<Value>,
) -> Response {
    if let Some(denied) = record_api_call(shared, MODEL_READ, "GET", path, headers) {
        return denied;
    }
    match answer(&shared.lock()) {
        Some(body) => Json(body).into_response(),
        None => not_found(),
    }
}

async fn read_model(
    State(shared): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    read_call(&shared, &format!("/v1/models/{owner}/{name}"), &headers, |inner| {
        let model = inner.models.get(&format!("{owner}/{name}"))?;
        Some(json!({
            "url": format!("https://replicate.com/{owner}/{name}"),
            "owner": owner,
            "name": name,
            "description": "emulated model",
            "visibility": "public",
            "run_count": 0,
            "is_official": model.official,
            "latest_version": schema_document(model),
        }))
    })
}

async fn read_version(
    State(shared): State<SharedState>,
    Path((owner, name, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/models/{owner}/{name}/versions/{version}");
    read_call(&shared, &path, &headers, |inner| {
        let model = inner.models.get(&format!("{owner}/{name}"))?;
        (model.version == version).then(|| schema_document(model))
    })
}

async fn read_deployment(
    State(shared): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    read_call(&shared, &format!("/v1/deployments/{owner}/{name}"), &headers, |inner| {
        let d = inner.deployments.get(&format!("{owner}/{name}"))?;
        Some(json!({
            "owner": d.owner,
            "name": d.name,
            "current_release": {"number": 1, "model": d.model, "version": d.version, "created_at": "2026-11-01T00:00:00Z",
                "created_by": {"type": "organization", "username": d.owner},
                "configuration": {"hardware": "gpu-a100-large", "min_instances": 0, "max_instances": 1}},
        }))
    })
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
    create_for(shared, CreateRoute::Official(format!("{owner}/{name}")), headers, body).await
}

async fn create_deployment(
    State(shared): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create_for(
        shared,
        CreateRoute::Deployment(format!("{owner}/{name}")),
        headers,
        body,
    )
    .await
}

/// A create on any route: its path, and the contract's path template.
async fn create_for(shared: SharedState, route: CreateRoute, headers: HeaderMap, body: Bytes) -> Response {
    let (path, template) = match &route {
        CreateRoute::Official(id) => (
            format!("/v1/models/{id}/predictions"),
            "/models/{model_owner}/{model_name}/predictions",
        ),
        CreateRoute::Deployment(id) => (
            format!("/v1/deployments/{id}/predictions"),
            "/deployments/{deployment_owner}/{deployment_name}/predictions",
        ),
        CreateRoute::Version => ("/v1/predictions".to_string(), "/predictions"),
    };
    respond(create(&shared, route, &path, template, &headers, &body)).await
}

async fn create_version(State(shared): State<SharedState>, headers: HeaderMap, body: Bytes) -> Response {
    create_for(shared, CreateRoute::Version, headers, body).await
}

/// Sends a create answer, after holding it when a fault asked for that.
async fn respond((response, hold): (Response, Hold)) -> Response {
    match hold {
        Hold::No => response,
        Hold::For(wait) => {
            tokio::time::sleep(wait).await;
            response
        }
        Hold::Forever => {
            std::future::pending::<()>().await;
            response
        }
    }
}

/// Whether a create answer waits before it is sent.
enum Hold {
    No,
    For(std::time::Duration),
    Forever,
}

fn create(
    shared: &Shared,
    route: CreateRoute,
    path: &str,
    contract_path: &str,
    headers: &HeaderMap,
    raw: &[u8],
) -> (Response, Hold) {
    let body: Option<Value> = serde_json::from_slice(raw).ok();
    let prompt = body
        .as_ref()
        .and_then(|b| b.pointer("/input/prompt"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut problems = header_problems(headers);
    match &body {
        None => problems.push("the body is not JSON".into()),
        Some(body) => problems.extend(
            shared
                .contract
                .check(&Contract::request_body(contract_path, "post", "application/json"), body),
        ),
    }
    let mut inner = shared.lock();
    let resolved = body.as_ref().map(|body| resolve_create(&inner, &route, body));
    if let (Some(Ok((model_id, _, _))), Some(body)) = (&resolved, &body) {
        let model = inner.models.get(model_id).cloned();
        if let Some(model) = model {
            let input = body.get("input").cloned().unwrap_or(Value::Null);
            let invalid = input_problems(&mut inner, &model, &input);
            if !invalid.is_empty() {
                problems.push(format!("input breaks the {model_id} schema: {}", invalid.join("; ")));
            }
        }
    }
    let recorded = body.clone().map_or(RecordedBody::Other(raw.len()), RecordedBody::Json);
    record(
        shared,
        (CREATE, true),
        "POST",
        path,
        headers,
        recorded,
        problems.clone(),
    );
    if let Some(denied) = unauthorised(headers) {
        return (denied, Hold::No);
    }
    if !problems.is_empty() {
        let fields: Vec<Value> = problems
            .iter()
            .map(|p| json!({"type": "invalid", "field": "input", "description": p}))
            .collect();
        let response = problem_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"title": "Input validation failed", "status": 422, "detail": problems.join("\n"), "invalid_fields": fields}),
        );
        return (response, Hold::No);
    }
    let (Some(body), Some(resolved)) = (body, resolved) else {
        return (
            problem(StatusCode::BAD_REQUEST, "Bad request", "the body is not JSON"),
            Hold::No,
        );
    };
    let (model_id, route_name, version_shown) = match resolved {
        Ok(found) => found,
        Err(response) => return (*response, Hold::No),
    };
    let default_polls = inner.default_polls;
    let mut plan = (default_polls, JobEnd::Succeed, false);
    let mut hold = Hold::No;
    match shared.script.take(CREATE, true, prompt.as_deref()) {
        None => {}
        Some(Fault::RateLimited { retry_after }) => {
            let secs = retry_after.as_secs_f64();
            let mut response = problem_with(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"title": "Request was throttled", "status": 429,
                    "detail": format!("Request was throttled. Expected available in {secs} seconds."),
                    "retry_after": secs}),
            );
            if let Ok(value) = secs.ceil().to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return (response, Hold::No);
        }
        Some(Fault::ServerError { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (problem(status, "Internal server error", "something broke"), Hold::No);
        }
        Some(Fault::Unavailable { retry_after }) => {
            let mut response = problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "try again later",
            );
            if let Ok(value) = retry_after.as_secs().max(1).to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return (response, Hold::No);
        }
        Some(Fault::Rejected { field, message }) => {
            let response = problem_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"title": "Input validation failed", "status": 422,
                    "detail": format!("- {field}: {message}"),
                    "invalid_fields": [{"type": "invalid", "field": field, "description": message}]}),
            );
            return (response, Hold::No);
        }
        Some(Fault::QuotaExceeded) => {
            let response = problem(
                StatusCode::PAYMENT_REQUIRED,
                "Insufficient credit",
                "You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to purchase credit.",
            );
            return (response, Hold::No);
        }
        Some(Fault::Status { status, code, .. }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return (problem(status, &code, &format!("emulated {code}")), Hold::No);
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
        Some(Fault::ContentPolicy) => plan = (0, JobEnd::Moderated, false),
        Some(Fault::NotAnImage) => plan.2 = true,
        Some(Fault::Job { polls, end }) => plan = (polls, end, false),
        Some(other) => shared
            .journal
            .answer_problems([format!("the Replicate emulator cannot inject {other:?} on a create")]),
    }
    let input = body.get("input").cloned().unwrap_or(Value::Null);
    inner.next_id += 1;
    let id = format!("emu{:06}", inner.next_id);
    let (polls_needed, end, not_an_image) = plan;
    let mut prediction = StoredPrediction {
        id: id.clone(),
        model: model_id,
        route: route_name,
        version: version_shown,
        input,
        polls_needed,
        end,
        not_an_image,
        polls: 0,
        status: "starting",
        output: Value::Null,
        error: Value::Null,
        predict_time: None,
    };
    if prediction.polls_needed == 0 {
        complete(&mut inner, &mut prediction);
    }
    let answer = prediction_json(&inner.base, &prediction);
    shared.journal.answer_problems(
        shared
            .contract
            .check(&Contract::component("schemas_prediction_response"), &answer),
    );
    let status = if prediction.status == "starting" {
        StatusCode::ACCEPTED
    } else {
        StatusCode::CREATED
    };
    inner.predictions.insert(id, prediction);
    ((status, Json(answer)).into_response(), hold)
}

/// The model a create is for, how it was routed, and the version it shows.
fn resolve_create(
    inner: &Inner,
    route: &CreateRoute,
    body: &Value,
) -> Result<(String, &'static str, String), Box<Response>> {
    match route {
        CreateRoute::Official(id) => match inner.models.get(id) {
            Some(model) if model.official => Ok((id.clone(), "official", "hidden".to_string())),
            // Community models cannot run without a version.
            _ => Err(Box::new(not_found())),
        },
        CreateRoute::Deployment(id) => match inner.deployments.get(id) {
            Some(d) => Ok((d.model.clone(), "deployment", d.version.clone())),
            None => Err(Box::new(not_found())),
        },
        CreateRoute::Version => {
            let asked = body.get("version").and_then(Value::as_str).unwrap_or_default();
            let found = inner.models.values().find(|m| {
                asked == m.version || asked == format!("{}:{}", m.id(), m.version) || (m.official && asked == m.id())
            });
            match found {
                Some(model) => Ok((model.id(), "version", model.version.clone())),
                None => Err(Box::new(problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Invalid version or not permitted",
                    "The specified version does not exist (or perhaps you don't have permission to use it?)",
                ))),
            }
        }
    }
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
fn input_problems(inner: &mut Inner, model: &EmulatedModel, input: &Value) -> Vec<String> {
    let mut problems = inner.model_contract(model).check(&Contract::component("Input"), input);
    if let (Some(given), Some(known)) = (
        input.as_object(),
        model.input_schema().get("properties").and_then(Value::as_object),
    ) {
        for name in given.keys().filter(|k| !known.contains_key(*k)) {
            problems.push(format!("{} has no input `{name}`", model.id()));
        }
    }
    problems
}

async fn poll(State(shared): State<SharedState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(denied) = record_api_call(&shared, POLL, "GET", &format!("/v1/predictions/{id}"), &headers) {
        return denied;
    }
    if let Some(fault) = faulted(&shared, POLL) {
        return fault;
    }
    let mut inner = shared.lock();
    let Some(mut prediction) = inner.predictions.remove(&id) else {
        return not_found();
    };
    if !is_terminal(prediction.status) {
        prediction.polls += 1;
        prediction.status = "processing";
        if prediction.polls >= prediction.polls_needed && prediction.end != JobEnd::Never {
            complete(&mut inner, &mut prediction);
        }
    }
    let answer = prediction_json(&inner.base, &prediction);
    inner.predictions.insert(id, prediction);
    Json(answer).into_response()
}

async fn cancel(State(shared): State<SharedState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(denied) = record_api_call(
        &shared,
        CANCEL,
        "POST",
        &format!("/v1/predictions/{id}/cancel"),
        &headers,
    ) {
        return denied;
    }
    let mut inner = shared.lock();
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
    let mut problems = Vec::new();
    if let Some(e) = malformed {
        problems.push(format!("the multipart body is malformed: {e}"));
    }
    match &content {
        None => problems.push("the required part `content` is missing".into()),
        Some((_, part_name, mime)) => {
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
        }
    }
    let size = content.as_ref().map_or(0, |(bytes, _, _)| bytes.len());
    record(
        &shared,
        (UPLOAD, false),
        "POST",
        "/v1/files",
        &headers,
        RecordedBody::Other(size),
        problems,
    );
    if let Some(denied) = unauthorised(&headers) {
        return denied;
    }
    if let Some(fault) = faulted(&shared, UPLOAD) {
        return fault;
    }
    let Some((bytes, part_name, mime)) = content else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            "the `content` part is required",
        );
    };
    let mut inner = shared.lock();
    inner.next_id += 1;
    let id = format!("file{:06}", inner.next_id);
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
    record(
        &shared,
        (DOWNLOAD, false),
        "GET",
        &format!("/delivery/{id}/{file}"),
        &headers,
        RecordedBody::Empty,
        Vec::new(),
    );
    let inner = shared.lock();
    if inner.outputs_expired {
        return (StatusCode::NOT_FOUND, "expired").into_response();
    }
    match inner.outputs.get(&format!("{id}/{file}")) {
        Some(bytes) => ([(header::CONTENT_TYPE, "image/png")], bytes.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, "no such output").into_response(),
    }
}

async fn fixture(State(shared): State<SharedState>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    record(
        &shared,
        (FIXTURE, false),
        "GET",
        &format!("/fixtures/{name}"),
        &headers,
        RecordedBody::Empty,
        Vec::new(),
    );
    let inner = shared.lock();
    match inner.fixtures.get(&name) {
        Some(bytes) => bytes.clone().into_response(),
        None => (StatusCode::NOT_FOUND, "no such fixture").into_response(),
    }
}

fn is_terminal(status: &str) -> bool {
    matches!(status, "succeeded" | "failed" | "canceled" | "aborted")
}

/// Ends a prediction the way its plan says.
fn complete(inner: &mut Inner, prediction: &mut StoredPrediction) {
    match prediction.end.clone() {
        JobEnd::Fail(error) => {
            prediction.status = "failed";
            prediction.error = Value::String(error);
        }
        JobEnd::Moderated => {
            prediction.status = "failed";
            prediction.error =
                Value::String("NSFW content detected. Try running it again, or try a different prompt.".into());
        }
        JobEnd::Cancel => prediction.status = "canceled",
        JobEnd::Abort => prediction.status = "aborted",
        JobEnd::Never => {}
        _ => {
            let Some(model) = inner.models.get(&prediction.model).cloned() else {
                prediction.status = "failed";
                prediction.error = Value::String("the model is gone".into());
                return;
            };
            match render(inner, &model, &prediction.input, prediction.not_an_image) {
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
fn render(inner: &Inner, model: &EmulatedModel, input: &Value, not_an_image: bool) -> Result<Vec<Vec<u8>>, String> {
    let (image_name, list) = &model.image_input;
    let image_value = if *list {
        input.get(image_name).and_then(|v| v.get(0))
    } else {
        input.get(image_name)
    }
    .and_then(Value::as_str)
    .ok_or_else(|| format!("{} needs `{image_name}`", model.id()))?;
    let base = fetch(inner, image_value)?;
    let area = match &model.mask_input {
        Some((name, reading)) => match input.get(name).and_then(Value::as_str) {
            Some(value) => Some(edit_area(&fetch(inner, value)?, *reading)?),
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
            if not_an_image {
                return Ok(b"this output is not an image file".to_vec());
            }
            let colour = [200, (40 + i * 50) as u8, 90];
            paint(&base, area.as_ref(), colour, inner.leak, size).map(|image| encode(image, "png"))
        })
        .collect()
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
        let prediction = StoredPrediction {
            id: "emu1".into(),
            model: "google/nano-banana".into(),
            route: "official",
            version: "hidden".into(),
            input: json!({"prompt": "x"}),
            polls_needed: 0,
            end: JobEnd::Succeed,
            not_an_image: false,
            polls: 0,
            status: "succeeded",
            output: json!("http://127.0.0.1:1/delivery/emu1/out-0.png"),
            error: Value::Null,
            predict_time: Some(1.0),
        };
        let problems = super::super::contract().check(
            &Contract::component("schemas_prediction_response"),
            &prediction_json("http://127.0.0.1:1", &prediction),
        );
        assert!(problems.is_empty(), "{problems:?}");
    }
}
