//! Normal answers: the edited images, as JSON (base64, or dall-e-2 URLs) or
//! as server-sent events, each checked against the spec's answer schemas.

use std::io::Cursor;

use axum::body::Body;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use image::{DynamicImage, Rgba, RgbaImage};
use serde_json::{Value, json};

use super::rules::dimensions;
use super::server::{Route, json_response, model_of, sse_response, text};
use super::{EmulatorState, Part, PartValue, lock};

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
    /// The first image with its mask's edit area (alpha 0) marked, when both decode at the output size.
    input: Option<(RgbaImage, Option<RgbaImage>)>,
}

fn decoded(part: Option<&Part>) -> Option<RgbaImage> {
    let PartValue::File { bytes, .. } = &part?.value else {
        return None;
    };
    Some(image::load_from_memory(bytes).ok()?.to_rgba8())
}

impl EditPlan {
    pub(super) fn new(route: &Route, parts: &[Part]) -> Self {
        let model = model_of(route, parts);
        let first = parts.iter().find(|p| p.name == "image" || p.name == "image[]");
        let (mut width, mut height) = first.and_then(|p| dimensions(p).ok()).unwrap_or((1024, 1024));
        if let Some((w, h)) = text(parts, "size").and_then(|s| s.split_once('x')) {
            width = w.parse().unwrap_or(width);
            height = h.parse().unwrap_or(height);
        }
        let input = decoded(first)
            .filter(|img| img.dimensions() == (width, height))
            .map(|img| (img, decoded(parts.iter().find(|p| p.name == "mask"))));
        Self {
            input,
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
        let shade = if partial { 60 } else { 200 };
        let colour = Rgba([shade, (index * 40 % 256) as u8, 255 - shade, 255]);
        // Like an edit: the input kept outside the mask, the edit area painted.
        let pixels = match &self.input {
            Some((base, mask)) => {
                let mut out = base.clone();
                for (x, y, px) in out.enumerate_pixels_mut() {
                    let edit = match mask {
                        Some(mask) => mask.get_pixel(x, y)[3] == 0,
                        None => px[3] == 0,
                    };
                    if edit {
                        *px = colour;
                    }
                }
                out
            }
            None => RgbaImage::from_pixel(self.width, self.height, colour),
        };
        let img = DynamicImage::ImageRgba8(pixels);
        let (img, format) = match self.output_format.as_str() {
            "jpeg" => (DynamicImage::ImageRgb8(img.to_rgb8()), image::ImageFormat::Jpeg),
            "webp" => (img, image::ImageFormat::WebP),
            _ => (img, image::ImageFormat::Png),
        };
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), format)
            .expect("encode a result");
        out
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
        let problems = state.spec.check_json(schema, &event);
        lock(&state.answer_problems).extend(problems);
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
pub(super) fn success(state: &EmulatorState, route: &Route, parts: &[Part], request_id: &str) -> Response {
    let plan = EditPlan::new(route, parts);
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
    let problems = state.spec.check_json("ImagesResponse", &body);
    lock(&state.answer_problems).extend(problems);
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
            .expect("a valid response");
    }
    let response = success(state, route, parts, request_id);
    let json = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes() == b"application/json");
    if !json {
        return response;
    }
    let (head, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("an in-memory answer");
    if let Some(answers) = lock(&state.reused).as_mut() {
        answers.insert(key, body.clone());
    }
    Response::from_parts(head, Body::from(body))
}
