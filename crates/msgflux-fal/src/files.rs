//! Input files as a fal app takes them (URLs in the JSON input):
//!
//! - an image that came from an http(s) URL is passed through as that URL;
//! - small files (up to the upload threshold, 256 KB by default) go inline
//!   as `data:` URIs, which fal's apps accept;
//! - larger files go through fal storage the way the official client does
//!   it: `POST /storage/upload/initiate?storage_type=fal-cdn-v3` with
//!   `{content_type, file_name}` answers `{upload_url, file_url}`, the bytes
//!   are `PUT` to `upload_url` (signed: no key), and `file_url` is sent;
//! - the mask is first converted from msgflux's convention (alpha 0 = edit)
//!   to the app's own (FLUX Fill: white = edit).

use bytes::Bytes;
use msgflux_core::kit::{Idempotency, report, resolve_inputs};
use msgflux_core::{InputOrigin, LoadedImage, MaskConvention, Progress, ProgressSink, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::builder::Settings;
use crate::client::{FalClient, Service, decode_json, invalid_response};
use crate::input::InputValues;

#[derive(Debug, Deserialize)]
struct InitiatedUpload {
    upload_url: String,
    file_url: String,
}

/// The values the app's input takes for the request's images and mask.
/// Uploads are reported to `progress` as they start.
pub(crate) async fn input_values(
    client: &FalClient,
    images: &[LoadedImage],
    mask: Option<&LoadedImage>,
    mask_convention: MaskConvention,
    settings: &Settings,
    progress: Option<&ProgressSink>,
) -> Result<InputValues> {
    let mask = mask.map(|mask| to_app_convention(mask, mask_convention)).transpose()?;
    let (images, mask) = resolve_inputs(images, mask.as_ref(), |image, param| {
        input_value(client, image, param, settings, progress)
    })
    .await?;
    Ok(InputValues { images, mask })
}

/// One file as an input value.
async fn input_value(
    client: &FalClient,
    image: &LoadedImage,
    param: String,
    settings: &Settings,
    progress: Option<&ProgressSink>,
) -> Result<String> {
    if let InputOrigin::Url(url) = &image.origin
        && (url.starts_with("https://") || url.starts_with("http://"))
    {
        return Ok(url.clone());
    }
    if image.bytes.len() <= settings.upload_threshold {
        return Ok(image.to_data_uri());
    }
    report(
        progress,
        Progress::Uploading {
            input: param,
            bytes: image.bytes.len() as u64,
        },
    );
    let file = File {
        bytes: image.bytes.clone(),
        mime: image.mime(),
        name: &image.filename,
    };
    if image.bytes.len() > settings.multipart_threshold {
        upload_in_parts(client, file, settings.part_size).await
    } else {
        upload(client, file).await
    }
}

/// One file to store.
struct File<'a> {
    bytes: Bytes,
    mime: &'a str,
    name: &'a str,
}

/// Starts an upload (`initiate` or `initiate-multipart`) and returns where
/// the bytes go and the URL the file will have.
async fn initiate(client: &FalClient, file: &File<'_>, endpoint: &str) -> Result<(url::Url, String)> {
    let url = client.url(
        Service::Storage,
        &format!("storage/upload/{endpoint}?storage_type=fal-cdn-v3"),
    );
    let body = json!({"content_type": file.mime, "file_name": file.name});
    let answer = client
        .send("starting an upload to fal storage", Idempotency::Idempotent, || {
            Ok(client.authorised(reqwest::Method::POST, &url)?.json(&body))
        })
        .await?;
    let initiated: InitiatedUpload = decode_json(&answer, "reading the upload URLs")?;
    if initiated.file_url.is_empty() || initiated.upload_url.is_empty() {
        return Err(invalid_response(
            "fal storage answered without an upload or file URL".into(),
        ));
    }
    let upload_url = url::Url::parse(&initiated.upload_url)
        .map_err(|e| invalid_response(format!("the upload URL is not a URL: {e}")))?;
    Ok((upload_url, initiated.file_url))
}

/// Uploads a file to fal storage in one `PUT` and returns its `file_url`.
/// Storing a file bills nothing, so both steps are resent after transient failures.
async fn upload(client: &FalClient, file: File<'_>) -> Result<String> {
    let (upload_url, file_url) = initiate(client, &file, "initiate").await?;
    client.put_upload(&upload_url, file.bytes.clone(), file.mime).await?;
    tracing::debug!(bytes = file.bytes.len(), "uploaded an input file to fal storage");
    Ok(file_url)
}

/// A stored part of a multipart upload, as the part's `PUT` answers it.
#[derive(Debug, Deserialize, Serialize)]
struct StoredPart {
    #[serde(rename = "partNumber")]
    part_number: u32,
    etag: String,
}

/// Uploads a large file the way fal's client does above 90 MB: parts of
/// `part_size` bytes, each `PUT` to `{upload_url path}/{part number}` (from
/// 1, the URL's query kept), then `POST {upload_url path}/complete` with every
/// part's number and etag. Parts go one at a time, as the official client
/// sends them, so memory stays at the file plus one answer.
async fn upload_in_parts(client: &FalClient, file: File<'_>, part_size: usize) -> Result<String> {
    let (upload_url, file_url) = initiate(client, &file, "initiate-multipart").await?;
    let at = |leaf: &str| {
        let mut url = upload_url.clone();
        url.set_path(&format!("{}/{leaf}", upload_url.path().trim_end_matches('/')));
        url
    };
    let part_size = part_size.max(1);
    let mut parts = Vec::with_capacity(file.bytes.len().div_ceil(part_size));
    for (i, start) in (0..file.bytes.len()).step_by(part_size).enumerate() {
        let number = u32::try_from(i + 1).map_err(|_| invalid_response("too many upload parts".into()))?;
        let chunk = file.bytes.slice(start..(start + part_size).min(file.bytes.len()));
        let answer = client.put_upload(&at(&number.to_string()), chunk, file.mime).await?;
        let part: StoredPart = decode_json(&answer, "reading a stored part's etag")?;
        if part.part_number != number {
            return Err(invalid_response(format!(
                "fal storage answered part {} for part {number} of a multipart upload",
                part.part_number
            )));
        }
        parts.push(part);
    }
    client
        .post_signed_json(&at("complete"), &json!({ "parts": parts }))
        .await?;
    tracing::debug!(
        bytes = file.bytes.len(),
        parts = parts.len(),
        "uploaded an input file to fal storage in parts"
    );
    Ok(file_url)
}

/// Converts a msgflux mask (alpha 0 = edit) to the app's convention.
pub(crate) fn to_app_convention(mask: &LoadedImage, convention: MaskConvention) -> Result<LoadedImage> {
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
    fn a_transparent_edit_area_becomes_white_for_fill() {
        let mask = LoadedImage::from_bytes(sample_mask(64, 64), None, "mask").expect("mask");
        let converted = to_app_convention(&mask, MaskConvention::WhiteIsEdit).expect("convert");
        let grey = converted.decode().expect("decode").to_luma8();
        assert_eq!(grey.get_pixel(32, 32)[0], 255, "the middle is the edit area");
        assert_eq!(grey.get_pixel(2, 2)[0], 0, "the corner is kept");
        assert_eq!(converted.mime(), "image/png");
    }
}
