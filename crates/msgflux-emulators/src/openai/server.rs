//! The routes, and the one place that reads, checks, records and answers an
//! edit request.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt as _;
use serde_json::{Value, json};

use super::State as EmulatorState;
use super::answers::{EditPlan, reused_success, success};
use super::rules::service_rules;
use super::{EDIT, EMULATOR_KEY, FILE};
use crate::engine::{Arrival, Contract, Fault, Part, RecordedBody, lock, read_multipart};

/// The emulator's routes: OpenAI's, Azure's, and `/files/` for dall-e-2 result URLs.
pub(super) fn router(state: Arc<EmulatorState>) -> Router {
    Router::new()
        .route("/v1/images/edits", post(openai_edit))
        .route("/openai/deployments/{deployment}/images/edits", post(azure_edit))
        .route("/files/{name}", get(file))
        .layer(DefaultBodyLimit::max(256 * 1024 * 1024))
        .with_state(state)
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
    let model = lock(&state.deployments).get(&deployment).cloned();
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

async fn file(State(state): State<Arc<EmulatorState>>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/files/{name}");
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
    match lock(&state.files).get(&name) {
        Some(bytes) => ([("content-type", "image/png")], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Which route a request came by.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Route {
    OpenAI,
    /// An Azure deployment, and the model it runs.
    Azure {
        model: String,
    },
}

/// The text of a field.
pub(super) fn text<'a>(parts: &'a [Part], name: &str) -> Option<&'a str> {
    parts.iter().find(|p| p.name == name).and_then(Part::as_text)
}

/// The model a request is for: its `model` field on OpenAI, the deployment's model on Azure.
pub(super) fn model_of(route: &Route, parts: &[Part]) -> String {
    match route {
        Route::OpenAI => text(parts, "model").unwrap_or("gpt-image-1.5").to_string(),
        Route::Azure { model } => model.clone(),
    }
}

pub(super) fn error_body(message: &str, kind: &str, code: Option<&str>, param: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

pub(super) fn json_response(status: u16, request_id: &str, body: &Value, extra: &[(&str, &str)]) -> Response {
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-request-id", request_id);
    for (name, value) in extra {
        response = response.header(*name, *value);
    }
    response.body(Body::from(body.to_string())).unwrap_or_default()
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
    let mut problems = Vec::new();
    let parts = match multipart {
        Ok(mut multipart) => match read_multipart(&mut multipart).await {
            Ok(parts) => parts,
            Err(e) => {
                problems.push(format!("unreadable multipart body: {e}"));
                Vec::new()
            }
        },
        Err(e) => {
            problems.push(format!(
                "the body is not multipart/form-data ({e}); the contract allows {:?}",
                state.contract.request_media_types("/images/edits", "post")
            ));
            Vec::new()
        }
    };
    if !parts.is_empty() {
        let form = Contract::request_body("/images/edits", "post", "multipart/form-data");
        problems.extend(state.contract.check_multipart(&form, &parts));
        problems.extend(service_rules(&parts, &route, query.as_deref()));
    }
    let request_id = state.journal.record(
        Arrival {
            operation: EDIT,
            paid: true,
            method: "POST",
            path: &path,
            query: query.as_deref(),
            headers: &headers,
        },
        RecordedBody::Multipart(parts.clone()),
        problems.clone(),
    );
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
    match state.script.take(EDIT, true, text(&parts, "prompt")) {
        None => {
            let latency = *lock(&state.latency);
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            if lock(&state.reused).is_some() {
                return reused_success(&state, &route, &parts, &request_id).await;
            }
            success(&state, &route, &parts, &request_id, false)
        }
        Some(fault) => answer_fault(&state, &route, &parts, &request_id, fault).await,
    }
}

/// A fault in OpenAI's own words.
async fn answer_fault(
    state: &EmulatorState,
    route: &Route,
    parts: &[Part],
    request_id: &str,
    fault: Fault,
) -> Response {
    let error = |status: u16, message: &str, kind: &str, code: &str, extra: &[(&str, &str)]| {
        json_response(status, request_id, &error_body(message, kind, Some(code), None), extra)
    };
    match fault {
        Fault::RateLimited { retry_after } => {
            let ms = retry_after.as_millis().to_string();
            error(
                429,
                "Rate limit reached for images",
                "requests",
                "rate_limit_exceeded",
                &[("retry-after-ms", ms.as_str())],
            )
        }
        Fault::QuotaExceeded => error(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
            &[],
        ),
        Fault::ContentPolicy => error(
            400,
            "Your request was rejected by the safety system.",
            "image_generation_user_error",
            "moderation_blocked",
            &[],
        ),
        Fault::ServerError { status } => error(
            status,
            "The server had an error while processing your request.",
            "server_error",
            "server_error",
            &[],
        ),
        Fault::Unavailable { retry_after } => {
            let secs = retry_after.as_secs_f64().to_string();
            error(
                503,
                "The engine is currently overloaded.",
                "server_error",
                "overloaded",
                &[("retry-after", secs.as_str())],
            )
        }
        Fault::Rejected { field, message } => json_response(
            400,
            request_id,
            &error_body(&message, "invalid_request_error", Some("invalid_value"), Some(&field)),
            &[],
        ),
        Fault::Status { status, code, headers } => {
            let extra: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            error(
                status,
                &format!("emulated {code}"),
                "invalid_request_error",
                &code,
                &extra,
            )
        }
        Fault::Raw {
            status,
            content_type,
            body,
        } => Response::builder()
            .status(status)
            .header("content-type", content_type)
            .header("x-request-id", request_id)
            .body(Body::from(body))
            .unwrap_or_default(),
        Fault::Hang => {
            std::future::pending::<()>().await;
            Response::default()
        }
        Fault::Delay(delay) => {
            tokio::time::sleep(delay).await;
            success(state, route, parts, request_id, false)
        }
        Fault::NotAnImage => success(state, route, parts, request_id, true),
        Fault::StallAfterPartials(partials) => {
            let events = EditPlan::new(route, parts, 0).partial_events(state, partials);
            let stream = futures::stream::iter(events.into_iter().map(Ok::<_, std::io::Error>))
                .chain(futures::stream::pending());
            sse_response(request_id, Body::from_stream(stream))
        }
        Fault::StreamErrorAfterPartials(partials, code) => {
            let mut events = EditPlan::new(route, parts, 0).partial_events(state, partials);
            let error = json!({"type": "error", "error": {"message": format!("emulated {code}"), "type": "image_generation_user_error", "param": null, "code": code}});
            events.push(format!("event: error\ndata: {error}\n\n"));
            sse_response(request_id, Body::from(events.concat()))
        }
        other => {
            state
                .journal
                .answer_problems([format!("the OpenAI emulator cannot inject {other:?}; answered 500")]);
            error(500, "unsupported emulated fault", "server_error", "server_error", &[])
        }
    }
}

pub(super) fn sse_response(request_id: &str, body: Body) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("x-request-id", request_id)
        .body(body)
        .unwrap_or_default()
}
