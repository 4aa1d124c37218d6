//! The models the emulator serves, each with an input schema shaped like the
//! one Replicate publishes for it (cog's OpenAPI layout: enums as separate
//! schemas referenced through `allOf`), and the roles the emulator needs to
//! render an output: which input is the image, the mask and its convention,
//! the count and the size.

use crate::engine::MaskReading;
use serde_json::{Value, json};

/// The version id the emulator gives stability-ai/stable-diffusion-inpainting (its real latest one).
pub const SD_INPAINTING_VERSION: &str = "95b7223104132402a9ae91cc677285bc5eb997834bd2349fa486f53910fd68b3";

/// The version id of [`odd_inpainter`].
pub const ODD_INPAINTER_VERSION: &str = "0dd1a7e5000000000000000000000000000000000000000000000000000000aa";

/// A model the emulator can run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmulatedModel {
    /// Owner.
    pub owner: String,
    /// Name.
    pub name: String,
    /// Official models run through `/models/{owner}/{name}/predictions`; others need a version.
    pub official: bool,
    /// The latest version's id.
    pub version: String,
    /// The version's `openapi_schema` (with `components.schemas.Input`).
    pub openapi_schema: Value,
    /// Whether the output is a list of URLs (else a single URL).
    pub output_list: bool,
    /// The image input, and whether it is a list.
    pub image_input: (String, bool),
    /// The mask input and the convention the model reads it in.
    pub mask_input: Option<(String, MaskReading)>,
    /// The input that sets how many images to make.
    pub count_input: Option<String>,
    /// Width and height inputs; the output is resized to them.
    pub size_inputs: Option<(String, String)>,
}

impl EmulatedModel {
    /// A model from its input properties, required list and extra component
    /// schemas (enums referenced by the properties).
    pub fn new(id: &str, official: bool, version: &str, properties: Value, required: &[&str], extra: Value) -> Self {
        let (owner, name) = id.split_once('/').unwrap_or((id, id));
        let mut schemas = serde_json::Map::new();
        schemas.insert(
            "Input".into(),
            json!({"type": "object", "title": "Input", "required": required, "properties": properties}),
        );
        if let Value::Object(extra) = extra {
            schemas.extend(extra);
        }
        Self {
            owner: owner.to_string(),
            name: name.to_string(),
            official,
            version: version.to_string(),
            openapi_schema: json!({"openapi": "3.0.2", "info": {"title": "Cog", "version": "0.1.0"}, "components": {"schemas": schemas}}),
            output_list: false,
            image_input: ("image".into(), false),
            mask_input: None,
            count_input: None,
            size_inputs: None,
        }
    }

    /// `owner/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// Sets the image input.
    pub fn with_image(mut self, name: &str, list: bool) -> Self {
        self.image_input = (name.to_string(), list);
        self
    }

    /// Sets the mask input and its convention.
    pub fn with_mask(mut self, name: &str, convention: MaskReading) -> Self {
        self.mask_input = Some((name.to_string(), convention));
        self
    }

    /// Sets the count input.
    pub fn with_count(mut self, name: &str) -> Self {
        self.count_input = Some(name.to_string());
        self
    }

    /// Sets the width and height inputs.
    pub fn with_size(mut self, width: &str, height: &str) -> Self {
        self.size_inputs = Some((width.to_string(), height.to_string()));
        self
    }

    /// Makes the output a list of URLs.
    pub fn with_list_output(mut self) -> Self {
        self.output_list = true;
        self
    }

    /// The `Input` schema.
    pub fn input_schema(&self) -> &Value {
        &self.openapi_schema["components"]["schemas"]["Input"]
    }
}

fn uri(order: u32, description: &str) -> Value {
    json!({"type": "string", "format": "uri", "x-order": order, "description": description})
}

fn enumeration(name: &str, values: Value) -> Value {
    json!({name: {"type": "string", "title": name, "enum": values, "description": "An enumeration."}})
}

fn merge(parts: &[Value]) -> Value {
    let mut all = serde_json::Map::new();
    for part in parts {
        if let Value::Object(map) = part {
            all.extend(map.clone());
        }
    }
    Value::Object(all)
}

/// stability-ai/stable-diffusion-inpainting: a community model (needs a version).
pub fn stable_diffusion_inpainting() -> EmulatedModel {
    let sides: Vec<u32> = (1..=16).map(|i| i * 64).collect();
    EmulatedModel::new(
        "stability-ai/stable-diffusion-inpainting",
        false,
        SD_INPAINTING_VERSION,
        json!({
            "prompt": {"type": "string", "x-order": 0, "default": "a vision of paradise. unreal engine", "description": "Input prompt"},
            "negative_prompt": {"type": "string", "x-order": 1, "description": "Specify things to not see in the output"},
            "image": uri(2, "Initial image to generate variations of. Will be resized to height x width."),
            "mask": uri(3, "Black and white image to use as mask for inpainting over the image provided. White pixels are inpainted and black pixels are preserved."),
            "width": {"allOf": [{"$ref": "#/components/schemas/width"}], "default": 512, "x-order": 4, "description": "Width of generated image in pixels. Needs to be a multiple of 64"},
            "height": {"allOf": [{"$ref": "#/components/schemas/height"}], "default": 512, "x-order": 5, "description": "Height of generated image in pixels. Needs to be a multiple of 64"},
            "num_outputs": {"type": "integer", "minimum": 1, "maximum": 4, "default": 1, "x-order": 6, "description": "Number of images to generate."},
            "num_inference_steps": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50, "x-order": 7},
            "guidance_scale": {"type": "number", "minimum": 1, "maximum": 20, "default": 7.5, "x-order": 8},
            "scheduler": {"allOf": [{"$ref": "#/components/schemas/scheduler"}], "default": "DPMSolverMultistep", "x-order": 9},
            "seed": {"type": "integer", "x-order": 10, "description": "Random seed. Leave blank to randomize the seed"},
            "disable_safety_checker": {"type": "boolean", "default": false, "x-order": 11}
        }),
        &["image", "mask"],
        merge(&[
            json!({"width": {"type": "integer", "title": "width", "enum": sides.clone()}}),
            json!({"height": {"type": "integer", "title": "height", "enum": sides}}),
            enumeration(
                "scheduler",
                json!(["DDIM", "K_EULER", "DPMSolverMultistep", "K_EULER_ANCESTRAL", "PNDM", "KLMS"]),
            ),
        ]),
    )
    .with_mask("mask", MaskReading::WhiteIsEdit)
    .with_count("num_outputs")
    .with_size("width", "height")
    .with_list_output()
}

/// black-forest-labs/flux-fill-pro: official, one output URL.
pub fn flux_fill_pro() -> EmulatedModel {
    EmulatedModel::new(
        "black-forest-labs/flux-fill-pro",
        true,
        "9609ba7331ed872c99f81c92c69a9ee52a50d8aba99f636173e0674d997efd0c",
        json!({
            "prompt": {"type": "string", "x-order": 0, "description": "Text prompt for image generation"},
            "image": uri(1, "The image to inpaint. Can contain an alpha mask. Must be jpeg, png, gif, or webp."),
            "mask": uri(2, "A black-and-white image that describes the part of the image to inpaint. Black areas will be preserved while white areas will be inpainted. Must have the same size as image."),
            "outpaint": {"allOf": [{"$ref": "#/components/schemas/outpaint"}], "default": "None", "x-order": 3},
            "seed": {"type": "integer", "x-order": 4},
            "steps": {"type": "integer", "minimum": 1, "maximum": 50, "default": 50, "x-order": 5},
            "prompt_upsampling": {"type": "boolean", "default": false, "x-order": 6},
            "guidance": {"type": "number", "minimum": 2, "maximum": 5, "default": 3, "x-order": 7},
            "safety_tolerance": {"type": "integer", "minimum": 1, "maximum": 6, "default": 2, "x-order": 8},
            "output_format": {"allOf": [{"$ref": "#/components/schemas/output_format"}], "default": "jpg", "x-order": 9}
        }),
        &["image"],
        merge(&[
            enumeration(
                "outpaint",
                json!(["None", "Zoom out 1.5x", "Zoom out 2x", "Make square", "Left outpaint", "Right outpaint", "Top outpaint", "Bottom outpaint"]),
            ),
            enumeration("output_format", json!(["jpg", "png"])),
        ]),
    )
    .with_mask("mask", MaskReading::WhiteIsEdit)
}

/// black-forest-labs/flux-fill-dev: official, a list of outputs.
pub fn flux_fill_dev() -> EmulatedModel {
    EmulatedModel::new(
        "black-forest-labs/flux-fill-dev",
        true,
        "a053f84125613d83e65328a289e14eb6639e10725c243e8fb0c24128e5573f4c",
        json!({
            "prompt": {"type": "string", "x-order": 0},
            "image": uri(1, "The image to inpaint. Can contain alpha mask."),
            "mask": uri(2, "A black-and-white image that describes the part of the image to inpaint. Black areas will be preserved while white areas will be inpainted."),
            "num_outputs": {"type": "integer", "minimum": 1, "maximum": 4, "default": 1, "x-order": 3},
            "num_inference_steps": {"type": "integer", "minimum": 1, "maximum": 50, "default": 28, "x-order": 4},
            "guidance": {"type": "number", "minimum": 0, "maximum": 100, "default": 30, "x-order": 5},
            "seed": {"type": "integer", "x-order": 6},
            "megapixels": {"allOf": [{"$ref": "#/components/schemas/megapixels"}], "default": "1", "x-order": 7},
            "output_format": {"allOf": [{"$ref": "#/components/schemas/output_format"}], "default": "webp", "x-order": 8},
            "output_quality": {"type": "integer", "minimum": 0, "maximum": 100, "default": 80, "x-order": 9},
            "lora_weights": {"type": "string", "x-order": 10},
            "lora_scale": {"type": "number", "minimum": -1, "maximum": 3, "default": 1, "x-order": 11},
            "disable_safety_checker": {"type": "boolean", "default": false, "x-order": 12}
        }),
        &["prompt", "image"],
        merge(&[
            enumeration("megapixels", json!(["1", "match_input"])),
            enumeration("output_format", json!(["webp", "jpg", "png"])),
        ]),
    )
    .with_mask("mask", MaskReading::WhiteIsEdit)
    .with_count("num_outputs")
    .with_list_output()
}

/// black-forest-labs/flux-kontext-pro: official, instruction editing without a mask.
pub fn flux_kontext_pro() -> EmulatedModel {
    EmulatedModel::new(
        "black-forest-labs/flux-kontext-pro",
        true,
        "0a1381936934845a14efcc9f309ce7d031cb905867878b5c5830280e00e97606",
        json!({
            "prompt": {"type": "string", "x-order": 0, "description": "Text description of what you want to generate, or the instruction on how to edit the given image."},
            "input_image": uri(1, "Image to use as reference. Must be jpeg, png, gif, or webp."),
            "aspect_ratio": {"allOf": [{"$ref": "#/components/schemas/aspect_ratio"}], "default": "match_input_image", "x-order": 2},
            "prompt_upsampling": {"type": "boolean", "default": false, "x-order": 3},
            "seed": {"type": "integer", "x-order": 4},
            "output_format": {"allOf": [{"$ref": "#/components/schemas/output_format"}], "default": "png", "x-order": 5},
            "safety_tolerance": {"type": "integer", "minimum": 0, "maximum": 6, "default": 2, "x-order": 6}
        }),
        &["prompt"],
        merge(&[
            enumeration(
                "aspect_ratio",
                json!(["match_input_image", "1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "4:5", "5:4", "21:9", "9:21", "2:1", "1:2"]),
            ),
            enumeration("output_format", json!(["jpg", "png"])),
        ]),
    )
    .with_image("input_image", false)
}

/// google/nano-banana: official, images as a list, no mask.
pub fn nano_banana() -> EmulatedModel {
    EmulatedModel::new(
        "google/nano-banana",
        true,
        "f0a9d34b12ad1c1cd76269a844b218ff4e64e128ddaba93e15891f47368958a0",
        json!({
            "prompt": {"type": "string", "x-order": 0, "description": "A text description of the image you want to generate"},
            "image_input": {"type": "array", "items": {"type": "string", "format": "uri"}, "default": [], "x-order": 1,
                "description": "Input images to transform or use as reference (supports multiple images)"},
            "aspect_ratio": {"allOf": [{"$ref": "#/components/schemas/aspect_ratio"}], "default": "match_input_image", "x-order": 2},
            "output_format": {"allOf": [{"$ref": "#/components/schemas/output_format"}], "default": "jpg", "x-order": 3}
        }),
        &["prompt"],
        merge(&[
            enumeration(
                "aspect_ratio",
                json!(["match_input_image", "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]),
            ),
            enumeration("output_format", json!(["jpg", "png"])),
        ]),
    )
    .with_image("image_input", true)
}

/// acme/odd-inpainter: a community model with unusual input names
/// (`instruction`, `source_image`, `inpaint_mask` in black = edit,
/// `number_of_images`, `noise_seed`), for the schema mapping.
pub fn odd_inpainter() -> EmulatedModel {
    EmulatedModel::new(
        "acme/odd-inpainter",
        false,
        ODD_INPAINTER_VERSION,
        json!({
            "instruction": {"type": "string", "x-order": 0, "description": "What to paint"},
            "source_image": uri(1, "The picture to change"),
            "inpaint_mask": uri(2, "Black pixels are repainted, white pixels are kept."),
            "number_of_images": {"type": "integer", "minimum": 1, "maximum": 2, "default": 1, "x-order": 3},
            "noise_seed": {"type": "integer", "minimum": 0, "maximum": 4294967295u64, "x-order": 4},
            "strength": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.8, "x-order": 5},
            "sampler": {"allOf": [{"$ref": "#/components/schemas/sampler"}], "default": "euler", "x-order": 6}
        }),
        &["instruction", "source_image"],
        enumeration("sampler", json!(["euler", "ddim"])),
    )
    .with_image("source_image", false)
    .with_mask("inpaint_mask", MaskReading::BlackIsEdit)
    .with_count("number_of_images")
    .with_list_output()
}

/// Every model the emulator serves from the start.
pub fn default_catalogue() -> Vec<EmulatedModel> {
    vec![
        stable_diffusion_inpainting(),
        flux_fill_pro(),
        flux_fill_dev(),
        flux_kontext_pro(),
        nano_banana(),
        odd_inpainter(),
    ]
}

/// A deployment the emulator serves: `deployments/acme/house-inpainter`
/// runs stable-diffusion-inpainting.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmulatedDeployment {
    /// Owner.
    pub owner: String,
    /// Name.
    pub name: String,
    /// The model it runs (`owner/name`).
    pub model: String,
    /// The version it runs.
    pub version: String,
}

/// The deployments served from the start.
pub fn default_deployments() -> Vec<EmulatedDeployment> {
    vec![EmulatedDeployment {
        owner: "acme".into(),
        name: "house-inpainter".into(),
        model: "stability-ai/stable-diffusion-inpainting".into(),
        version: SD_INPAINTING_VERSION.into(),
    }]
}
