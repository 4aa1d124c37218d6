//! Input files as a prediction takes them.
//!
//! - An image that came from an http(s) URL is passed through as that URL.
//! - Small files (up to the upload threshold, 256 KB by default) go inline
//!   as `data:` URIs, as Replicate advises.
//! - Larger files are uploaded once through `POST /files` (multipart field
//!   `content`) and passed as the file's `urls.get`.
//! - The mask is first converted from msgflux's convention (alpha 0 = edit)
//!   to the model's own, so it is always sent as new bytes.

use msgflux_core::kit::{Idempotency, report, resolve_inputs};
use msgflux_core::{Error, InputOrigin, LoadedImage, MaskConvention, Progress, ProgressSink, Result};
use serde::Deserialize;

use crate::client::{ReplicateClient, decode_json};
use crate::input::InputValues;
use crate::registration::REPLICATE_SCHEME;

#[derive(Debug, Deserialize)]
struct FileResponse {
    urls: FileUrls,
}

#[derive(Debug, Deserialize)]
struct FileUrls {
    get: String,
}

/// The values a prediction input takes for the request's images and mask.
/// Uploads are reported to `progress` as they start.
pub(crate) async fn input_values(
    client: &ReplicateClient,
    images: &[LoadedImage],
    mask: Option<&LoadedImage>,
    mask_convention: MaskConvention,
    upload_threshold: usize,
    progress: Option<&ProgressSink>,
) -> Result<InputValues> {
    let mask = mask
        .map(|mask| to_model_convention(mask, mask_convention))
        .transpose()?;
    let (images, mask) = resolve_inputs(images, mask.as_ref(), |image, param| {
        input_value(client, image, param, upload_threshold, progress)
    })
    .await?;
    Ok(InputValues { images, mask })
}

/// One file as a prediction input value.
async fn input_value(
    client: &ReplicateClient,
    image: &LoadedImage,
    param: String,
    upload_threshold: usize,
    progress: Option<&ProgressSink>,
) -> Result<String> {
    if let InputOrigin::Url(url) = &image.origin {
        return Ok(url.clone());
    }
    if image.bytes.len() <= upload_threshold {
        return Ok(image.to_data_uri());
    }
    report(
        progress,
        Progress::Uploading {
            input: param,
            bytes: image.bytes.len() as u64,
        },
    );
    upload(client, image).await
}

/// Uploads a file through the files API and returns the URL to pass as input.
async fn upload(client: &ReplicateClient, image: &LoadedImage) -> Result<String> {
    // An upload stores a file and bills nothing, so resending it is harmless.
    let answer = client
        .send(
            "uploading an input file",
            Idempotency::Idempotent,
            client.timeout(),
            || {
                let part = reqwest::multipart::Part::bytes(image.bytes.to_vec())
                    .file_name(image.filename.clone())
                    .mime_str(image.mime())
                    .map_err(|e| Error::config(format!("cannot label the upload as {}: {e}", image.mime())))?;
                let form = reqwest::multipart::Form::new()
                    .part("content", part)
                    .text("filename", image.filename.clone())
                    .text("type", image.mime());
                Ok(client.request(reqwest::Method::POST, "files").multipart(form))
            },
        )
        .await?;
    let file: FileResponse = decode_json(&answer, "reading the uploaded file's URL")?;
    if file.urls.get.is_empty() {
        return Err(Error::InvalidResponse {
            provider: REPLICATE_SCHEME.into(),
            message: "the files API answered without a URL for the upload".into(),
            request_id: None,
        });
    }
    Ok(file.urls.get)
}

/// Converts a msgflux mask (alpha 0 = edit) to the model's convention.
pub(crate) fn to_model_convention(mask: &LoadedImage, convention: MaskConvention) -> Result<LoadedImage> {
    if convention == MaskConvention::TransparentIsEdit {
        return Ok(mask.clone());
    }
    let png = msgflux_image::convert_mask(&mask.bytes, MaskConvention::TransparentIsEdit, convention)?;
    LoadedImage::from_bytes(png, Some("mask.png".into()), "mask")
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflux_core::kit::testkit::sample_mask;

    #[test]
    fn a_transparent_edit_area_becomes_white_for_white_is_edit_models() {
        let mask = LoadedImage::from_bytes(sample_mask(64, 64), None, "mask").expect("mask");
        let converted = to_model_convention(&mask, MaskConvention::WhiteIsEdit).expect("convert");
        let grey = converted.decode().expect("decode").to_luma8();
        assert_eq!(grey.get_pixel(32, 32)[0], 255, "the middle is the edit area");
        assert_eq!(grey.get_pixel(2, 2)[0], 0, "the corner is kept");
        assert_eq!(converted.mime(), "image/png");
    }

    #[test]
    fn black_is_edit_models_get_the_inverse() {
        let mask = LoadedImage::from_bytes(sample_mask(64, 64), None, "mask").expect("mask");
        let converted = to_model_convention(&mask, MaskConvention::BlackIsEdit).expect("convert");
        let grey = converted.decode().expect("decode").to_luma8();
        assert_eq!((grey.get_pixel(32, 32)[0], grey.get_pixel(2, 2)[0]), (0, 255));
    }
}
