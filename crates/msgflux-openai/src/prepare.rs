//! The opt-in `prepare` step (`request.prepare = true`): inputs that break the
//! model's rules but can be converted are converted with msgflux-image, and
//! the response's metadata (`prepared`) says what changed and why.
//!
//! - dall-e-2: a non-square image becomes a square (the requested square
//!   size, else 1024x1024, Lanczos, stretched as the msgflux docs do), every
//!   image becomes an RGBA PNG, and the file is brought under 4 MB; the mask
//!   gets the same geometry.
//! - GPT image models: an input in another format (GIF, BMP, TIFF) becomes a
//!   PNG, and a file over 50 MB is brought under it; sizes are kept.
//! - Masks that are not PNG (WebP with alpha, say) become PNG.
//!
//! What cannot be converted (a mask without alpha, a mask of another size
//! than an image that needs no change) is left for validation to refuse.

use msgflux_core::kit::LoadedRequest;
use msgflux_core::{ImageFormat, LoadedImage, Result, Size};
use msgflux_image::{PrepareTarget, TargetSize, prepare_loaded};
use serde_json::{Value, json};

use crate::models::{ModelFamily, ModelSpec, SMALL_FILE_LIMIT, colour_type, dall_e_2_reads_colour};

/// Prepares every input that needs it; inputs that already fit are untouched.
pub(crate) fn prepare_request(spec: &ModelSpec, mut request: LoadedRequest) -> Result<LoadedRequest> {
    let count = request.images.len();
    let mut reports = Vec::new();
    for i in 0..count {
        let mask = if i == 0 { request.mask.as_ref() } else { None };
        let image = &request.images[i];
        let mut reasons = image_reasons(spec, image)?;
        if let Some(mask) = mask {
            reasons.extend(mask_reasons(mask));
        }
        if reasons.is_empty() {
            continue;
        }
        let target = target_for(spec, image, request.size.and_then(msgflux_core::OutputSize::exact));
        let prepared = prepare_loaded(image, mask, &target)?;
        let input = if count == 1 {
            "image".to_string()
        } else {
            format!("image[{i}]")
        };
        tracing::info!(input, report = %prepared.report, "prepared an input for {}", spec.name());
        reports.push(json!({
            "input": input,
            "because": reasons,
            "summary": prepared.report.to_string(),
            "report": prepared.report,
        }));
        request.images[i] = prepared.image;
        if let Some(mask) = prepared.mask {
            request.mask = Some(mask);
        }
    }
    if !reports.is_empty() {
        request.prepare_report = Some(Value::from(reports));
    }
    Ok(request)
}

/// Why an image must change for this model; empty when it fits.
fn image_reasons(spec: &ModelSpec, image: &LoadedImage) -> Result<Vec<String>> {
    let caps = spec.capabilities();
    let mut reasons = Vec::new();
    if !caps.input_formats.contains(&image.format) {
        reasons.push(format!("{} is not accepted", image.format));
    }
    if let Some(max) = caps.max_input_bytes
        && image.bytes.len() as u64 > max
    {
        reasons.push(format!("{} bytes is over the {} byte limit", image.bytes.len(), max));
    }
    if caps.square_input && image.width != image.height {
        reasons.push(format!("{}x{} is not square", image.width, image.height));
    }
    if spec.family() == ModelFamily::DallE2 && !dall_e_2_reads_colour(colour_type(image)?) {
        reasons.push("the pixels have no alpha channel (dall-e-2 needs RGBA)".into());
    }
    Ok(reasons)
}

/// Why the mask must be re-encoded; empty when it fits (or cannot be helped).
fn mask_reasons(mask: &LoadedImage) -> Vec<String> {
    let mut reasons = Vec::new();
    if mask.format != ImageFormat::Png {
        reasons.push(format!("the mask is {}, not PNG", mask.format));
    }
    if mask.bytes.len() as u64 > SMALL_FILE_LIMIT {
        reasons.push(format!("the mask is {} bytes, over 4 MB", mask.bytes.len()));
    }
    reasons
}

/// What an image becomes for this model.
fn target_for(spec: &ModelSpec, image: &LoadedImage, requested: Option<Size>) -> PrepareTarget {
    let caps = spec.capabilities();
    let mut target = PrepareTarget::from_capabilities(caps, requested.filter(|s| s.width == s.height));
    match spec.family() {
        // An image that is square already keeps its side; others become the target square.
        ModelFamily::DallE2 if image.width == image.height => target.size = TargetSize::Keep,
        ModelFamily::DallE2 => {}
        // GPT image models take any size: keep it, and keep an accepted format.
        _ => {
            target.size = TargetSize::Keep;
            if caps.input_formats.contains(&image.format) {
                target.format = image.format;
            }
        }
    }
    target
}
