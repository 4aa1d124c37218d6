//! The apps the emulator serves: each with its input schema (from
//! `specs/fal/`), how it reads its inputs, and the shape of its output.

use serde_json::{Value, json};

use crate::engine::MaskReading;

/// The shape of an app's output JSON, as the client's types give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputShape {
    /// `{images, seed, has_nsfw_concepts, prompt, timings}` (FLUX, Qwen).
    Flux,
    /// `{images, seed}` (Seedream).
    Seed,
    /// `{images, description}` (Nano Banana).
    Description,
}

/// An app the emulator serves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmulatedApp {
    /// The endpoint id (`fal-ai/flux-pro/kontext`).
    pub id: String,
    /// Its input's JSON Schema.
    pub input_schema: Value,
    /// The image input's name, and whether it is a list.
    pub image_input: (String, bool),
    /// The mask input's name and how the app reads it.
    pub mask_input: Option<(String, MaskReading)>,
    /// Its output's shape.
    pub output: OutputShape,
    /// The format it answers in when the input names none.
    pub default_format: &'static str,
}

impl EmulatedApp {
    /// An app from its endpoint id and input schema, reading `image_url` or
    /// `image_urls` (whichever the schema has) and `mask_url` if present
    /// (white = edit unless `mask` says otherwise).
    pub fn new(id: &str, input_schema: Value, output: OutputShape, default_format: &'static str) -> Self {
        let has = |name: &str| input_schema.pointer(&format!("/properties/{name}")).is_some();
        let image_input = if has("image_url") {
            ("image_url".to_string(), false)
        } else {
            ("image_urls".to_string(), true)
        };
        let mask_input = has("mask_url").then(|| ("mask_url".to_string(), MaskReading::WhiteIsEdit));
        Self {
            id: id.to_string(),
            input_schema,
            image_input,
            mask_input,
            output,
            default_format,
        }
    }

    /// The app's OpenAPI document, as fal's model search returns it with `expand=openapi-3.0`.
    pub fn openapi(&self) -> Value {
        json!({
            "openapi": "3.0.4",
            "info": {"title": "Queue OpenAPI for ".to_string() + &self.id, "version": "1.0.0"},
            "paths": {
                format!("/{}", self.id): {"post": {
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Input"}}}},
                    "responses": {"200": {"description": "The request status.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueStatus"}}}}}
                }}
            },
            "components": {"schemas": {
                "Input": self.input_schema,
                "QueueStatus": {"type": "object", "required": ["status", "request_id"], "properties": {"status": {"type": "string"}, "request_id": {"type": "string"}}}
            }}
        })
    }
}

fn schema(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| json!({"description": format!("unreadable schema: {e}")}))
}

/// The built-in apps of msgflux-fal.
pub fn default_catalogue() -> Vec<EmulatedApp> {
    let kontext = schema(include_str!("../../specs/fal/flux-pro-kontext.input.json"));
    vec![
        EmulatedApp::new("fal-ai/flux-pro/kontext", kontext.clone(), OutputShape::Flux, "jpeg"),
        EmulatedApp::new("fal-ai/flux-pro/kontext/max", kontext, OutputShape::Flux, "jpeg"),
        EmulatedApp::new(
            "fal-ai/flux-pro/v1/fill",
            schema(include_str!("../../specs/fal/flux-pro-v1-fill.input.json")),
            OutputShape::Flux,
            "jpeg",
        ),
        EmulatedApp::new(
            "fal-ai/qwen-image-edit",
            schema(include_str!("../../specs/fal/qwen-image-edit.input.json")),
            OutputShape::Flux,
            "png",
        ),
        EmulatedApp::new(
            "fal-ai/bytedance/seedream/v4/edit",
            schema(include_str!("../../specs/fal/seedream-v4-edit.input.json")),
            OutputShape::Seed,
            "png",
        ),
        EmulatedApp::new(
            "fal-ai/nano-banana/edit",
            schema(include_str!("../../specs/fal/nano-banana-edit.input.json")),
            OutputShape::Description,
            "png",
        ),
        EmulatedApp::new(
            "fal-ai/nano-banana-pro/edit",
            schema(include_str!("../../specs/fal/nano-banana-pro-edit.input.json")),
            OutputShape::Description,
            "png",
        ),
        odd_inpainter(),
    ]
}

/// An app no client knows in advance, for schema mapping: `acme/odd-inpainter`,
/// whose mask is black = edit (its description says so), with up to two
/// images per request, a `strength` number and a `style` choice.
pub fn odd_inpainter() -> EmulatedApp {
    let input = json!({
        "type": "object",
        "title": "OddInpainterInput",
        "required": ["prompt", "image_url", "mask_url"],
        "additionalProperties": false,
        "properties": {
            "prompt": {"type": "string", "description": "What to paint.", "x-order": 0},
            "image_url": {"type": "string", "description": "The image to edit.", "x-order": 1},
            "mask_url": {"type": "string", "description": "Black pixels will be inpainted, white pixels will be preserved.", "x-order": 2},
            "num_images": {"type": "integer", "minimum": 1, "maximum": 2, "default": 1, "x-order": 3},
            "seed": {"type": "integer", "x-order": 4},
            "strength": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.85, "x-order": 5},
            "style": {"type": "string", "enum": ["photo", "paint"], "default": "photo", "description": "Rendering style.", "x-order": 6},
            "sync_mode": {"type": "boolean", "default": false, "x-order": 7}
        }
    });
    let mut app = EmulatedApp::new("acme/odd-inpainter", input, OutputShape::Seed, "png");
    app.mask_input = Some(("mask_url".into(), MaskReading::BlackIsEdit));
    app
}
