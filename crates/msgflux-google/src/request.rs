//! The body of `generateContent` for one edit: the prompt as a text part,
//! each input image inline (`inlineData`) or uploaded (`fileData`), the
//! optional mask hint as one more image, and `generationConfig` with
//! `responseModalities` and `imageConfig`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use image::{DynamicImage, Rgba};
use msgflux_core::{DecodeLimits, LoadedImage, MaskConvention, Result};
use serde_json::{Map, Value, json};

use crate::client::UploadedFile;
use crate::config::MaskHint;

/// One input image as the request carries it.
#[derive(Debug, Clone)]
pub(crate) enum ImagePart {
    /// Base64 in the request (`inlineData`).
    Inline {
        /// `image/png`, ...
        mime: &'static str,
        /// The file's bytes.
        bytes: Bytes,
    },
    /// A Files API upload (`fileData`).
    Uploaded(UploadedFile),
}

impl ImagePart {
    fn to_json(&self) -> Value {
        match self {
            Self::Inline { mime, bytes } => json!({"inlineData": {"mimeType": mime, "data": BASE64.encode(bytes)}}),
            Self::Uploaded(file) => json!({"fileData": {"mimeType": file.mime, "fileUri": file.uri}}),
        }
    }
}

/// What one `generateContent` call asks for, besides the images.
#[derive(Debug, Clone, Default)]
pub(crate) struct Generation {
    /// `imageConfig.aspectRatio`.
    pub aspect_ratio: Option<String>,
    /// `imageConfig.imageSize`.
    pub image_size: Option<String>,
    /// `generationConfig.seed`.
    pub seed: Option<i64>,
}

/// The sentence that says what the hint image marks.
pub(crate) fn hint_sentence(hint: MaskHint) -> &'static str {
    match hint {
        MaskHint::Outline => {
            "The last image is a copy of the first one with the area to edit outlined in red. Change only the inside of that outline, and return the edited first image without the red outline."
        }
        _ => {
            "The last image is a copy of the first one with the area to edit tinted red. Change only that area, and return the edited first image without the red tint."
        }
    }
}

/// The `generateContent` body.
pub(crate) fn body(
    prompt: &str,
    images: &[ImagePart],
    hint: Option<(MaskHint, &ImagePart)>,
    generation: &Generation,
) -> Value {
    let mut parts = vec![json!({"text": prompt})];
    parts.extend(images.iter().map(ImagePart::to_json));
    if let Some((kind, image)) = hint {
        parts.push(json!({"text": hint_sentence(kind)}));
        parts.push(image.to_json());
    }
    let mut image_config = Map::new();
    if let Some(ratio) = &generation.aspect_ratio {
        image_config.insert("aspectRatio".into(), Value::from(ratio.clone()));
    }
    if let Some(size) = &generation.image_size {
        image_config.insert("imageSize".into(), Value::from(size.clone()));
    }
    let mut config = Map::new();
    config.insert("responseModalities".into(), json!(["TEXT", "IMAGE"]));
    if !image_config.is_empty() {
        config.insert("imageConfig".into(), Value::Object(image_config));
    }
    if let Some(seed) = generation.seed {
        config.insert("seed".into(), Value::from(seed));
    }
    json!({
        "contents": [{"role": "user", "parts": parts}],
        "generationConfig": config,
    })
}

/// The first image with the mask's edit area (transparent = edit) tinted
/// or outlined in red, as PNG bytes.
pub(crate) fn hint_image(first: &LoadedImage, mask: &LoadedImage, hint: MaskHint) -> Result<Bytes> {
    let limits = DecodeLimits::default();
    let picture = msgflux_image::decode(&first.bytes, &limits, "image")?.image.to_rgba8();
    let mask_image = msgflux_image::decode(&mask.bytes, &limits, "mask")?.image;
    let mask = msgflux_image::Mask::import(&mask_image, MaskConvention::TransparentIsEdit, "mask")?;
    let (width, height) = picture.dimensions();
    let edit = |x: u32, y: u32| x < mask.width() && y < mask.height() && mask.get(x, y) >= 128;
    let mut out = picture.clone();
    for (x, y, px) in out.enumerate_pixels_mut() {
        if !edit(x, y) {
            continue;
        }
        match hint {
            MaskHint::Outline => {
                // A 3-pixel red line along the inside of the area's border.
                let near_outside = (-3i64..=3).any(|dy| {
                    (-3i64..=3).any(|dx| {
                        let (nx, ny) = (i64::from(x) + dx, i64::from(y) + dy);
                        nx < 0
                            || ny < 0
                            || nx >= i64::from(width)
                            || ny >= i64::from(height)
                            || !edit(nx as u32, ny as u32)
                    })
                });
                if near_outside {
                    *px = Rgba([255, 0, 0, 255]);
                }
            }
            _ => {
                let Rgba([r, g, b, _]) = *px;
                *px = Rgba([((u16::from(r) + 255) / 2) as u8, g / 2, b / 2, 255]);
            }
        }
    }
    Ok(Bytes::from(msgflux_image::encode_png(&DynamicImage::ImageRgba8(out))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_the_prompt_first_then_the_images_and_the_image_config() {
        let image = ImagePart::Inline {
            mime: "image/png",
            bytes: Bytes::from_static(b"png"),
        };
        let generation = Generation {
            aspect_ratio: Some("3:2".into()),
            image_size: Some("2K".into()),
            seed: Some(7),
        };
        let body = body("add a hat", &[image], None, &generation);
        assert_eq!(body["contents"][0]["parts"][0]["text"], "add a hat");
        assert_eq!(
            body["contents"][0]["parts"][1]["inlineData"]["data"],
            BASE64.encode(b"png")
        );
        assert_eq!(body["generationConfig"]["imageConfig"]["aspectRatio"], "3:2");
        assert_eq!(body["generationConfig"]["imageConfig"]["imageSize"], "2K");
        assert_eq!(body["generationConfig"]["seed"], 7);
        assert_eq!(body["generationConfig"]["responseModalities"], json!(["TEXT", "IMAGE"]));
    }

    #[test]
    fn an_uploaded_image_is_file_data() {
        let file = ImagePart::Uploaded(UploadedFile {
            name: "files/a".into(),
            uri: "https://x/v1beta/files/a".into(),
            mime: "image/jpeg".into(),
        });
        let body = body("x", &[file], None, &Generation::default());
        assert_eq!(
            body["contents"][0]["parts"][1]["fileData"]["fileUri"],
            "https://x/v1beta/files/a"
        );
        assert!(body["generationConfig"].get("imageConfig").is_none());
    }
}
