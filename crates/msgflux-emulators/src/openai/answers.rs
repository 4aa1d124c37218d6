//! Normal answers: the edited images, as JSON (base64, or dall-e-2 URLs) or
//! as server-sent events, each checked against the spec's answer schemas.

use axum::body::Body;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use image::{Rgba, RgbaImage};
use serde_json::{Value, json};

use super::State as EmulatorState;
use super::rules::dimensions;
use super::server::{Route, json_response, model_of, sse_response, text};
use crate::engine::{Contract, MaskReading, Part, PartValue, edit_area, encode, lock, paint};

/// What the request asked for, as far as the answer is concerned.
#[derive(Debug)]
pub(super) struct EditPlan {
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
    /// The first image's bytes.
    image: Option<Vec<u8>>,
    /// Where the edit goes: the mask's transparent area, or without a mask the image's own.
    area: Option<image::GrayImage>,
    /// Levels every pixel outside the area moves by.
    leak: u8,
    /// Answer with bytes that are not an image.
    not_an_image: bool,
}

impl EditPlan {
    pub(super) fn new(route: &Route, parts: &[Part], leak: u8) -> Self {
        let model = model_of(route, parts);
        let first = parts.iter().find(|p| p.name == "image" || p.name == "image[]");
        let (mut width, mut height) = first.and_then(|p| dimensions(p).ok()).unwrap_or((1024, 1024));
        if let Some((w, h)) = text(parts, "size").and_then(|s| s.split_once('x')) {
            width = w.parse().unwrap_or(width);
            height = h.parse().unwrap_or(height);
        }
        let image = first.and_then(Part::file_bytes).map(<[u8]>::to_vec);
        let area = parts
            .iter()
            .find(|p| p.name == "mask")
            .and_then(Part::file_bytes)
            .or(image.as_deref())
            .and_then(|bytes| edit_area(bytes, MaskReading::TransparentIsEdit).ok());
        Self {
            image,
            area,
            leak,
            not_an_image: false,
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
        if self.not_an_image {
            return b"this answer is not an image file".to_vec();
        }
        let shade = if partial { 60 } else { 200 };
        let colour = [shade, (index * 40 % 256) as u8, 255 - shade];
        // Like an edit: the input kept outside the mask, the edit area painted.
        let painted = self
            .image
            .as_deref()
            .and_then(|image| {
                paint(
                    image,
                    self.area.as_ref(),
                    colour,
                    self.leak,
                    Some((self.width, self.height)),
                )
                .ok()
            })
            .unwrap_or_else(|| {
                RgbaImage::from_pixel(self.width, self.height, Rgba([colour[0], colour[1], colour[2], 255]))
            });
        encode(painted, &self.output_format)
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
        state
            .journal
            .answer_problems(state.contract.check(&Contract::component(schema), &event));
        let kind = event["type"].as_str().unwrap_or_default().to_string();
        format!("event: {kind}\ndata: {event}\n\n")
    }

    pub(super) fn partial_events(&self, state: &EmulatorState, partials: u32) -> Vec<String> {
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

/// A normal answer to an accepted request (JSON, or server-sent events when `stream=true`).
pub(super) fn success(
    state: &EmulatorState,
    route: &Route,
    parts: &[Part],
    request_id: &str,
    not_an_image: bool,
) -> Response {
    let mut plan = EditPlan::new(route, parts, *lock(&state.leak));
    plan.not_an_image = not_an_image;
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
    let base = state.base.clone();
    let data: Vec<Value> = (0..plan.n)
        .map(|i| {
            let bytes = plan.image_bytes(i, false);
            if plan.family_dall_e_2 && plan.response_format == "url" {
                let name = format!("{request_id}-{i}.png");
                lock(&state.files).insert(name.clone(), bytes);
                let url = format!("{base}/files/{name}");
                lock(&state.result_urls).push(url.clone());
                json!({"url": url})
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
    state
        .journal
        .answer_problems(state.contract.check(&Contract::component("ImagesResponse"), &body));
    json_response(200, request_id, &body, &[])
}

/// [`success`], reusing the JSON answer of an earlier request with the same content.
pub(super) async fn reused_success(state: &EmulatorState, route: &Route, parts: &[Part], request_id: &str) -> Response {
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
    let known = lock(&state.reused)
        .as_ref()
        .and_then(|answers| answers.get(&key).cloned());
    if let Some(body) = known {
        return Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("x-request-id", request_id)
            .body(Body::from(body))
            .unwrap_or_default();
    }
    let response = success(state, route, parts, request_id, false);
    let json = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes() == b"application/json");
    if !json {
        return response;
    }
    let (head, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::default();
    };
    if let Some(answers) = lock(&state.reused).as_mut() {
        answers.insert(key, body.clone());
    }
    Response::from_parts(head, Body::from(body))
}
