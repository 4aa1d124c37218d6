//! The routes, and the one place that reads, checks, records and answers an
//! edit request.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt as _;
use serde_json::{Value, json};

use super::answers::{EditPlan, reused_success, success};
use super::rules::service_rules;
use super::{EMULATOR_KEY, EmulatorState, Part, PartValue, Recorded, Reply, lock};

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

async fn file(State(state): State<Arc<EmulatorState>>, Path(name): Path<String>) -> Response {
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

fn error_body(message: &str, kind: &str, code: Option<&str>, param: Option<&str>) -> Value {
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
    lock(&state.requests).push(Recorded {
        path,
        query,
        headers,
        parts: parts.clone(),
        problems: problems.clone(),
        request_id: request_id.clone(),
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
    let prompt = text(&parts, "prompt").unwrap_or_default();
    let ruled = lock(&state.prompt_rules)
        .iter()
        .find(|(needle, _)| prompt.contains(needle.as_str()))
        .map(|(_, reply)| reply.clone());
    let reply = ruled.unwrap_or_else(|| lock(&state.script).pop_front().unwrap_or(Reply::Success));
    match reply {
        Reply::Success => {
            let latency = *lock(&state.latency);
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            if lock(&state.reused).is_some() {
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

pub(super) fn sse_response(request_id: &str, body: Body) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("x-request-id", request_id)
        .body(body)
        .expect("a valid response")
}
