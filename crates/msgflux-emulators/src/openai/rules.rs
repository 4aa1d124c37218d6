//! What the service checks beyond the schema: per-model formats, sizes,
//! colour types and fields, the mask, `image` vs `image[]`, Azure's
//! `api-version`.

use std::io::Cursor;

use image::ImageDecoder as _;

use super::EMULATOR_API_VERSION;
use super::server::{Route, model_of, text};
use crate::engine::{Part, PartValue};

/// Width and height of an image part.
pub(super) fn dimensions(part: &Part) -> Result<(u32, u32), String> {
    let PartValue::File { bytes, .. } = &part.value else {
        return Err("not a file".into());
    };
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    reader.into_dimensions().map_err(|e| e.to_string())
}

/// Colour type of an image part.
fn colour_type(bytes: &[u8]) -> Option<image::ColorType> {
    let reader = image::ImageReader::new(Cursor::new(bytes)).with_guessed_format().ok()?;
    Some(reader.into_decoder().ok()?.color_type())
}

const MB: usize = 1024 * 1024;
const GPT_ONLY_FIELDS: &[&str] = &[
    "background",
    "output_format",
    "output_compression",
    "input_fidelity",
    "stream",
    "partial_images",
];

/// What the service checks beyond the schema.
pub(super) fn service_rules(parts: &[Part], route: &Route, query: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    let model = model_of(route, parts);
    let dall_e_2 = model == "dall-e-2";
    match route {
        Route::OpenAI if text(parts, "model").is_none() => {
            problems.push("msgflux always names the model on OpenAI; `model` is missing".into())
        }
        Route::Azure { .. } if text(parts, "model").is_some() => {
            problems.push("Azure picks the model by deployment; `model` must not be sent".into())
        }
        Route::Azure { .. } if query != Some(&format!("api-version={EMULATOR_API_VERSION}")) => problems.push(format!(
            "Azure needs `api-version={EMULATOR_API_VERSION}`, got {query:?}"
        )),
        _ => {}
    }
    let singles: Vec<&Part> = parts.iter().filter(|p| p.name == "image").collect();
    let arrays: Vec<&Part> = parts.iter().filter(|p| p.name == "image[]").collect();
    let images: Vec<&Part> = singles.iter().chain(arrays.iter()).copied().collect();
    if arrays.len() == 1 {
        problems.push("one image must be sent as `image`, not `image[]`".into());
    }
    if dall_e_2 && !arrays.is_empty() {
        problems.push("dall-e-2 takes exactly one `image`".into());
    }
    for part in parts {
        if let PartValue::File {
            filename,
            content_type,
            bytes,
        } = &part.value
        {
            if filename.as_deref().is_none_or(str::is_empty) {
                problems.push(format!("`{}` has no filename", part.name));
            }
            let sniffed = image::guess_format(bytes).ok().map(|f| f.to_mime_type());
            if content_type.as_deref() != sniffed {
                problems.push(format!(
                    "`{}` is sent as {content_type:?} but its bytes are {sniffed:?}",
                    part.name
                ));
            }
        }
    }
    let prompt_chars = text(parts, "prompt").map_or(0, |p| p.chars().count());
    let max_prompt = if dall_e_2 { 1000 } else { 32_000 };
    if prompt_chars > max_prompt {
        problems.push(format!(
            "prompt has {prompt_chars} characters; {model} takes {max_prompt}"
        ));
    }
    for (i, image) in images.iter().enumerate() {
        let PartValue::File { bytes, .. } = &image.value else {
            continue;
        };
        let format = image::guess_format(bytes).ok();
        if dall_e_2 {
            if format != Some(image::ImageFormat::Png) {
                problems.push(format!("image {i}: dall-e-2 takes PNG"));
            }
            if bytes.len() > 4 * MB {
                problems.push(format!("image {i}: dall-e-2 takes files up to 4 MB"));
            }
            match dimensions(image) {
                Ok((w, h)) if w != h => problems.push(format!("image {i}: dall-e-2 takes square images, got {w}x{h}")),
                Err(e) => problems.push(format!("image {i}: {e}")),
                _ => {}
            }
            use image::ColorType::{L8, L16, La8, La16, Rgba8, Rgba16};
            if !matches!(colour_type(bytes), Some(Rgba8 | Rgba16 | La8 | La16 | L8 | L16)) {
                problems.push(format!("image {i}: format must be in ['RGBA', 'LA', 'L']"));
            }
        } else {
            if !matches!(
                format,
                Some(image::ImageFormat::Png | image::ImageFormat::Jpeg | image::ImageFormat::WebP)
            ) {
                problems.push(format!("image {i}: GPT image models take png, webp or jpg"));
            }
            if bytes.len() > 50 * MB {
                problems.push(format!("image {i}: files must be under 50 MB"));
            }
        }
    }
    if let Some(mask) = parts.iter().find(|p| p.name == "mask") {
        if let PartValue::File { bytes, .. } = &mask.value {
            if image::guess_format(bytes).ok() != Some(image::ImageFormat::Png) {
                problems.push("mask must be a PNG".into());
            }
            if !colour_type(bytes).is_some_and(|c| c.has_alpha()) {
                problems.push("mask must have an alpha channel".into());
            }
            if bytes.len() > 4 * MB {
                problems.push("mask must be under 4 MB".into());
            }
            if let (Ok(mask_size), Some(Ok(image_size))) = (dimensions(mask), images.first().map(|p| dimensions(p))) {
                if mask_size != image_size {
                    problems.push(format!("mask is {mask_size:?} but the image is {image_size:?}"));
                }
            }
        }
    }
    if dall_e_2 {
        for field in GPT_ONLY_FIELDS {
            if text(parts, field).is_some() {
                problems.push(format!("`{field}` is not supported by dall-e-2"));
            }
        }
        if let Some(size) = text(parts, "size")
            && !["256x256", "512x512", "1024x1024"].contains(&size)
        {
            problems.push(format!("dall-e-2 does not make {size}"));
        }
    } else {
        if text(parts, "response_format").is_some() {
            problems.push("`response_format` is only supported for dall-e-2".into());
        }
        if model.starts_with("gpt-image-1-mini") && text(parts, "input_fidelity").is_some() {
            problems.push("`input_fidelity` is not supported by gpt-image-1-mini".into());
        }
        if images.len() > 16 {
            problems.push("at most 16 images".into());
        }
    }
    problems
}
