//! The routes; the one place that reads, checks, records and answers a
//! request; the rules the published document states in prose; every fault
//! in Stability's own words (`{id, name, errors[]}`); and the painted answers.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use image::{GrayImage, Rgba, RgbaImage};
use serde_json::{Value, json};

use super::{EDIT, EMULATOR_KEY, Generation, POLL, State as EmulatorState, form_pointer};
use crate::engine::{
    Arrival, Contract, Fault, JobEnd, MaskReading, Part, RecordedBody, edit_area, encode, lock, paint,
};

/// The seven edit services.
const SERVICES: &[&str] = &[
    "erase",
    "inpaint",
    "outpaint",
    "search-and-replace",
    "search-and-recolor",
    "remove-background",
    "replace-background-and-relight",
];

/// The one asynchronous service.
const ASYNC_SERVICE: &str = "replace-background-and-relight";

/// The colour every edit paints (so a test can find it).
pub const PAINT: [u8; 3] = [30, 144, 255];

/// Requests above this many bytes are refused with 413 (the document's 10 MiB).
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

pub(super) fn router(state: Arc<EmulatorState>) -> Router {
    Router::new()
        .route("/v2beta/stable-image/edit/{service}", post(edit))
        .route("/v2beta/results/{id}", get(result))
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(state)
}

fn text<'a>(parts: &'a [Part], name: &str) -> Option<&'a str> {
    parts.iter().find(|p| p.name == name).and_then(Part::as_text)
}

fn file<'a>(parts: &'a [Part], name: &str) -> Option<&'a [u8]> {
    parts.iter().find(|p| p.name == name).and_then(Part::file_bytes)
}

fn authorised(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {EMULATOR_KEY}"))
}

fn accept(headers: &HeaderMap) -> Option<&str> {
    headers.get("accept").and_then(|v| v.to_str().ok())
}

/// `{id, name, errors}` with a status, as every Stability error answer is.
fn error(state: &EmulatorState, status: u16, request_id: &str, name: &str, errors: &[String]) -> Response {
    let body = json!({"id": request_id, "name": name, "errors": errors});
    state
        .journal
        .answer_problems(state.contract.check(&Contract::component("Error"), &body));
    json_response(status, request_id, &body, &[])
}

/// A fault this emulator cannot render: recorded as a problem, answered 500.
fn unsupported(state: &EmulatorState, request_id: &str, problem: String) -> Response {
    state.journal.answer_problems([problem]);
    error(
        state,
        500,
        request_id,
        "internal_error",
        &["unsupported emulated fault".into()],
    )
}

/// An unknown or expired generation, in the document's words.
fn generation_not_found(state: &EmulatorState, request_id: &str) -> Response {
    let errors = ["id: the generation either does not exist or has expired.".to_string()];
    error(state, 404, request_id, "generation_not_found", &errors)
}

fn json_response(status: u16, request_id: &str, body: &Value, extra: &[(&str, &str)]) -> Response {
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-request-id", request_id);
    for (name, value) in extra {
        response = response.header(*name, *value);
    }
    response.body(Body::from(body.to_string())).unwrap_or_default()
}

/// The rules the document states in prose, per service.
fn service_rules(service: &str, parts: &[Part], headers: &HeaderMap) -> Vec<String> {
    let mut problems = Vec::new();
    if service != ASYNC_SERVICE
        && let Some(accept) = accept(headers)
        && !["image/*", "application/json"].contains(&accept)
    {
        problems.push(format!(
            "accept: `{accept}` is neither `image/*` nor `application/json`"
        ));
    }
    for part in parts {
        if let Some(kind) = part.content_type()
            && part.file_bytes().is_some()
            && !["image/png", "image/jpeg", "image/webp"].contains(&kind)
        {
            problems.push(format!(
                "{}: the file part is sent as `{kind}`, not as an image type",
                part.name
            ));
        }
    }
    let main = if service == ASYNC_SERVICE {
        "subject_image"
    } else {
        "image"
    };
    if let Some(bytes) = file(parts, main) {
        match image::load_from_memory(bytes) {
            Err(e) => problems.push(format!("{main}: does not decode as jpeg, png or webp: {e}")),
            Ok(decoded) => {
                let (w, h) = (decoded.width(), decoded.height());
                let pixels = u64::from(w) * u64::from(h);
                let max = if service == "remove-background" {
                    4_194_304
                } else {
                    9_437_184
                };
                if w < 64 || h < 64 {
                    problems.push(format!("{main}: every side must be at least 64 pixels, got {w}x{h}"));
                }
                if !(4096..=max).contains(&pixels) {
                    problems.push(format!(
                        "{main}: total pixel count must be between 4,096 and {max}, got {pixels}"
                    ));
                }
                let ratio_limited = ["outpaint", "search-and-replace", "search-and-recolor", ASYNC_SERVICE];
                let ratio = f64::from(w) / f64::from(h);
                if ratio_limited.contains(&service) && !(1.0 / 2.5..=2.5).contains(&ratio) {
                    problems.push(format!(
                        "{main}: the aspect ratio must be between 1:2.5 and 2.5:1, got {w}x{h}"
                    ));
                }
            }
        }
    }
    if let Some(mask) = file(parts, "mask")
        && image::load_from_memory(mask).is_err()
    {
        problems.push("mask: does not decode as an image".into());
    }
    if service == "outpaint"
        && ["left", "right", "up", "down"]
            .iter()
            .all(|d| text(parts, d).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0) == 0)
    {
        problems.push("at least one of left, right, up or down must be above zero".into());
    }
    if service == ASYNC_SERVICE {
        if text(parts, "background_prompt").is_none() && file(parts, "background_reference").is_none() {
            problems.push("background_prompt or background_reference is required".into());
        }
        if text(parts, "light_source_strength").is_some()
            && text(parts, "light_source_direction").is_none()
            && file(parts, "light_reference").is_none()
        {
            problems.push("light_source_strength needs light_source_direction or light_reference".into());
        }
    }
    problems
}

/// The answer image: the edit of the request's image, as Stability's services shape it.
fn render(service: &str, parts: &[Part], leak: u8) -> Result<RgbaImage, String> {
    let main = if service == ASYNC_SERVICE {
        "subject_image"
    } else {
        "image"
    };
    let image = file(parts, main).ok_or_else(|| format!("no `{main}` to edit"))?;
    match service {
        "inpaint" | "erase" => {
            let decoded = image::load_from_memory(image).map_err(|e| e.to_string())?;
            // Stability reads `mask` as white = edit; without one, the image's transparent pixels.
            let area = match file(parts, "mask") {
                Some(mask) => edit_area(mask, MaskReading::WhiteIsEdit)?,
                None => edit_area(image, MaskReading::TransparentIsEdit)?,
            };
            // A mask of another size is resized to the image's, as the service does.
            let area = if area.dimensions() == (decoded.width(), decoded.height()) {
                area
            } else {
                image::imageops::resize(
                    &area,
                    decoded.width(),
                    decoded.height(),
                    image::imageops::FilterType::Nearest,
                )
            };
            paint(image, Some(&area), PAINT, leak, None)
        }
        "outpaint" => {
            let decoded = image::load_from_memory(image).map_err(|e| e.to_string())?;
            let keep = GrayImage::new(decoded.width(), decoded.height());
            let kept = paint(image, Some(&keep), PAINT, leak, None)?;
            let side = |name: &str| text(parts, name).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
            let (left, right, up, down) = (side("left"), side("right"), side("up"), side("down"));
            let mut canvas = RgbaImage::from_pixel(
                kept.width() + left + right,
                kept.height() + up + down,
                Rgba([PAINT[0], PAINT[1], PAINT[2], 255]),
            );
            image::imageops::replace(&mut canvas, &kept, i64::from(left), i64::from(up));
            Ok(canvas)
        }
        // Segmenting by prompt, removing or replacing the background: the whole picture is redrawn.
        _ => paint(image, None, PAINT, leak, None),
    }
}

/// What a successful answer carries.
struct Finished {
    image: Vec<u8>,
    format: String,
    seed: u64,
    finish_reason: String,
}

impl Finished {
    fn new(state: &EmulatorState, service: &str, parts: &[Part]) -> Result<Self, String> {
        let leak = *lock(&state.leak);
        let format = text(parts, "output_format").unwrap_or("png").to_string();
        let seed = match text(parts, "seed").and_then(|s| s.parse::<f64>().ok()) {
            Some(seed) if seed > 0.0 => seed as u64,
            _ => {
                let mut counter = lock(&state.counter);
                *counter += 1;
                1_000 + *counter
            }
        };
        Ok(Self {
            image: encode(render(service, parts, leak)?, &format),
            format,
            seed,
            finish_reason: "SUCCESS".into(),
        })
    }

    /// The answer in the form `accept` asks for: JSON, or the bytes with two headers.
    fn respond(self, state: &EmulatorState, request_id: &str, accept: Option<&str>) -> Response {
        if accept == Some("application/json") {
            let body = json!({
                "image": BASE64.encode(&self.image),
                "finish_reason": self.finish_reason,
                "seed": self.seed,
            });
            state
                .journal
                .answer_problems(state.contract.check(&Contract::component("ImageJSONResponse"), &body));
            let content_type = format!("application/json; type=image/{}", self.format);
            return Response::builder()
                .status(200)
                .header("content-type", content_type)
                .header("x-request-id", request_id)
                .body(Body::from(body.to_string()))
                .unwrap_or_default();
        }
        Response::builder()
            .status(200)
            .header("content-type", format!("image/{}", self.format))
            .header("x-request-id", request_id)
            .header("finish-reason", self.finish_reason)
            .header("seed", self.seed.to_string())
            .body(Body::from(self.image))
            .unwrap_or_default()
    }
}

async fn edit(
    State(state): State<Arc<EmulatorState>>,
    Path(service): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let path = format!("/v2beta/stable-image/edit/{service}");
    let mut problems = Vec::new();
    let parts = match multipart {
        Ok(mut multipart) => match crate::engine::read_multipart(&mut multipart).await {
            Ok(parts) => parts,
            Err(e) => {
                problems.push(format!("unreadable multipart body: {e}"));
                Vec::new()
            }
        },
        Err(e) => {
            problems.push(format!("the body is not multipart/form-data: {e}"));
            Vec::new()
        }
    };
    let known = SERVICES.contains(&service.as_str());
    if !known {
        problems.push(format!("`{service}` is not an edit service"));
    } else if !parts.is_empty() {
        problems.extend(state.contract.check_multipart(&form_pointer(&service), &parts));
        problems.extend(service_rules(&service, &parts, &headers));
    }
    let size: usize = parts.iter().filter_map(Part::file_bytes).map(<[u8]>::len).sum();
    if size > MAX_REQUEST_BYTES {
        problems.push(format!(
            "the request is {size} bytes; payloads cannot be larger than 10MiB"
        ));
    }
    let request_id = state.journal.record(
        Arrival {
            operation: EDIT,
            paid: known,
            method: "POST",
            path: &path,
            query: None,
            headers: &headers,
        },
        RecordedBody::Multipart(parts.clone()),
        problems.clone(),
    );
    if !authorised(&headers) {
        return error(
            &state,
            401,
            &request_id,
            "unauthorized",
            &["authorization: invalid or missing API key".into()],
        );
    }
    if !known {
        return error(&state, 404, &request_id, "not_found", &problems);
    }
    if size > MAX_REQUEST_BYTES {
        return error(
            &state,
            413,
            &request_id,
            "payload_too_large",
            &["body: payloads cannot be larger than 10MiB in size".into()],
        );
    }
    if !problems.is_empty() {
        return error(&state, 400, &request_id, "bad_request", &problems);
    }
    let fault = state.script.take(EDIT, true, text(&parts, "prompt"));
    if service == ASYNC_SERVICE {
        return start(&state, &parts, &request_id, fault).await;
    }
    let outcome = match fault {
        None => Outcome::Image {
            not_an_image: false,
            finish_reason: None,
        },
        Some(fault) => outcome_of(&state, &request_id, fault).await,
    };
    match outcome {
        Outcome::Answered(response) => response,
        Outcome::Job { .. } => unsupported(
            &state,
            &request_id,
            format!("{service} is synchronous: a job fault cannot be injected; answered 500"),
        ),
        Outcome::Image {
            not_an_image,
            finish_reason,
        } => match Finished::new(&state, &service, &parts) {
            Ok(mut finished) => {
                if not_an_image {
                    finished.image = b"this answer is not an image file".to_vec();
                }
                if let Some(reason) = finish_reason {
                    finished.finish_reason = reason;
                }
                finished.respond(&state, &request_id, accept(&headers))
            }
            Err(e) => error(&state, 500, &request_id, "internal_error", &[e]),
        },
    }
}

/// What a fault makes of a request.
enum Outcome {
    /// An answer already made (an error, a raw body).
    Answered(Response),
    /// The normal image, maybe not an image, maybe with another finish reason.
    Image {
        not_an_image: bool,
        finish_reason: Option<String>,
    },
    /// An asynchronous generation that takes `polls` polls and ends so.
    Job { polls: u32, end: JobEnd },
}

/// A fault in Stability's words.
async fn outcome_of(state: &EmulatorState, request_id: &str, fault: Fault) -> Outcome {
    let answered = |status: u16, name: &str, message: &str| {
        Outcome::Answered(error(state, status, request_id, name, &[message.to_string()]))
    };
    match fault {
        Fault::RateLimited { .. } => answered(
            429,
            "rate_limit_exceeded",
            "You have exceeded the rate limit of 150 requests within a 10 second period, and have been timed out for 60 seconds.",
        ),
        Fault::QuotaExceeded => answered(
            402,
            "payment_required",
            "Your account lacks sufficient credits to make this request; add credits at platform.stability.ai/account/credits.",
        ),
        Fault::ContentPolicy => answered(
            403,
            "content_moderation",
            "Your request was flagged by our content moderation system, as a result your request was denied and you were not charged.",
        ),
        Fault::ServerError { status } => answered(
            status,
            "internal_error",
            "An unexpected server error has occurred, please try again later.",
        ),
        Fault::Unavailable { retry_after } => {
            let secs = retry_after.as_secs_f64().to_string();
            let body = json!({"id": request_id, "name": "service_unavailable", "errors": ["The service is temporarily overloaded; try again shortly."]});
            Outcome::Answered(json_response(503, request_id, &body, &[("retry-after", secs.as_str())]))
        }
        Fault::Rejected { field, message } => answered(400, "bad_request", &format!("{field}: {message}")),
        Fault::Status { status: 200, code, .. } => Outcome::Image {
            not_an_image: false,
            finish_reason: Some(code),
        },
        Fault::Status { status, code, headers } => {
            let extra: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let body = json!({"id": request_id, "name": code, "errors": [format!("emulated {code}")]});
            Outcome::Answered(json_response(status, request_id, &body, &extra))
        }
        Fault::Raw {
            status,
            content_type,
            body,
        } => Outcome::Answered(
            Response::builder()
                .status(status)
                .header("content-type", content_type)
                .header("x-request-id", request_id)
                .body(Body::from(body))
                .unwrap_or_default(),
        ),
        Fault::Hang => {
            std::future::pending::<()>().await;
            Outcome::Answered(Response::default())
        }
        Fault::Delay(delay) => {
            tokio::time::sleep(delay).await;
            Outcome::Image {
                not_an_image: false,
                finish_reason: None,
            }
        }
        Fault::NotAnImage => Outcome::Image {
            not_an_image: true,
            finish_reason: None,
        },
        Fault::Job { polls, end } => Outcome::Job { polls, end },
        other => Outcome::Answered(unsupported(
            state,
            request_id,
            format!("the Stability emulator cannot inject {other:?}; answered 500"),
        )),
    }
}

/// Starts an asynchronous generation: `200 {id}`, the result kept for polls.
async fn start(state: &EmulatorState, parts: &[Part], request_id: &str, fault: Option<Fault>) -> Response {
    let polls = *lock(&state.default_polls);
    let (polls, end, not_an_image, finish_reason) = match fault {
        None => (polls, JobEnd::Succeed, false, None),
        Some(fault) => match outcome_of(state, request_id, fault).await {
            Outcome::Answered(response) => return response,
            Outcome::Image {
                not_an_image,
                finish_reason,
            } => (polls, JobEnd::Succeed, not_an_image, finish_reason),
            Outcome::Job { polls, end } => (polls, end, false, None),
        },
    };
    let end = match end {
        JobEnd::Succeed => None,
        JobEnd::Never => {
            // In progress for as long as anyone polls.
            Some(Fault::Hang)
        }
        JobEnd::Fail(message) => Some(Fault::Raw {
            status: 500,
            content_type: "application/json".into(),
            body: json!({"id": request_id, "name": "internal_error", "errors": [message]}).to_string(),
        }),
        JobEnd::Moderated => Some(Fault::ContentPolicy),
        other => {
            state.journal.answer_problems([format!(
                "the Stability emulator cannot end a generation with {other:?} (Stability has no cancel); it succeeds"
            )]);
            None
        }
    };
    let mut finished = match Finished::new(state, ASYNC_SERVICE, parts) {
        Ok(finished) => finished,
        Err(e) => return error(state, 500, request_id, "internal_error", &[e]),
    };
    if not_an_image {
        finished.image = b"this answer is not an image file".to_vec();
    }
    if let Some(reason) = finish_reason {
        finished.finish_reason = reason;
    }
    let id = generation_id(request_id);
    let never = end == Some(Fault::Hang);
    lock(&state.generations).insert(
        id.clone(),
        Generation {
            polls_left: if never { u32::MAX } else { polls },
            end,
            image: finished.image,
            format: finished.format,
            seed: finished.seed,
            finish_reason: finished.finish_reason,
        },
    );
    let body = json!({"id": id});
    state.journal.answer_problems(
        state
            .contract
            .check(&Contract::component("AsyncGenerationResponse"), &body),
    );
    json_response(200, request_id, &body, &[])
}

/// A 64-character id, as the document's `GenerationID` is.
fn generation_id(request_id: &str) -> String {
    let digits: String = request_id.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{digits:0>64}").chars().rev().take(64).collect()
}

async fn result(State(state): State<Arc<EmulatorState>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/v2beta/results/{id}");
    let mut problems = Vec::new();
    if let Some(accept) = accept(&headers)
        && !["*/*", "application/json"].contains(&accept)
    {
        problems.push(format!("accept: `{accept}` is neither `*/*` nor `application/json`"));
    }
    let request_id = state.journal.record(
        Arrival {
            operation: POLL,
            paid: false,
            method: "GET",
            path: &path,
            query: None,
            headers: &headers,
        },
        RecordedBody::Empty,
        problems,
    );
    if !authorised(&headers) {
        // The document: a result is only found with the key that started it.
        return generation_not_found(&state, &request_id);
    }
    if let Some(fault) = state.script.take(POLL, false, None) {
        return match outcome_of(&state, &request_id, fault).await {
            Outcome::Answered(response) => response,
            _ => unsupported(
                &state,
                &request_id,
                "a poll fault must be an error answer; answered 500".into(),
            ),
        };
    }
    let generation = {
        let mut generations = lock(&state.generations);
        let Some(generation) = generations.get_mut(&id) else {
            drop(generations);
            return generation_not_found(&state, &request_id);
        };
        if generation.polls_left > 0 {
            generation.polls_left = generation
                .polls_left
                .saturating_sub(u32::from(generation.polls_left != u32::MAX));
            None
        } else {
            Some(generation.clone())
        }
    };
    let Some(generation) = generation else {
        let body = json!({"id": id, "status": "in-progress"});
        let pointer = "#/paths/~1v2beta~1results~1{id}/get/responses/202/content/application~1json/schema";
        state.journal.answer_problems(state.contract.check(pointer, &body));
        return json_response(202, &request_id, &body, &[]);
    };
    match generation.end {
        Some(fault) => match outcome_of(&state, &request_id, fault).await {
            Outcome::Answered(response) => response,
            _ => unsupported(&state, &request_id, "a generation must end with an error answer".into()),
        },
        None => Finished {
            image: generation.image,
            format: generation.format,
            seed: generation.seed,
            finish_reason: generation.finish_reason,
        }
        .respond(&state, &request_id, accept(&headers)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_ids_have_the_documented_length() {
        assert_eq!(generation_id("stab_req_1").len(), 64);
        assert_ne!(generation_id("stab_req_1"), generation_id("stab_req_2"));
    }

    #[test]
    fn outpaint_keeps_the_input_and_paints_the_new_border() {
        let input = encode(RgbaImage::from_pixel(64, 64, Rgba([10, 20, 30, 255])), "png");
        let parts = [
            Part::file("image", "i.png", "image/png", input),
            Part::text("left", "16"),
        ];
        let out = render("outpaint", &parts, 0).expect("render");
        assert_eq!(out.dimensions(), (80, 64));
        assert_eq!(out.get_pixel(0, 0).0, [PAINT[0], PAINT[1], PAINT[2], 255]);
        assert_eq!(out.get_pixel(20, 5).0, [10, 20, 30, 255]);
    }
}
