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
use msgflux_core::kit::Idempotency;
use msgflux_core::{InputOrigin, LoadedImage, MaskConvention, Result};
use serde::Deserialize;
use serde_json::json;

use crate::client::{FalClient, Service, decode_json, invalid_response};
use crate::input::InputValues;

#[derive(Debug, Deserialize)]
struct InitiatedUpload {
    upload_url: String,
    file_url: String,
}

/// The values the app's input takes for the request's images and mask.
pub(crate) async fn input_values(
    client: &FalClient,
    images: &[LoadedImage],
    mask: Option<&LoadedImage>,
    mask_convention: MaskConvention,
    upload_threshold: usize,
) -> Result<InputValues> {
    let images = futures::future::try_join_all(images.iter().map(|img| input_value(client, img, upload_threshold)));
    let mask = async {
        match mask {
            Some(mask) => {
                let converted = to_app_convention(mask, mask_convention)?;
                input_value(client, &converted, upload_threshold).await.map(Some)
            }
            None => Ok(None),
        }
    };
    let (images, mask) = futures::future::try_join(images, mask).await?;
    Ok(InputValues { images, mask })
}

/// One file as an input value.
async fn input_value(client: &FalClient, image: &LoadedImage, upload_threshold: usize) -> Result<String> {
    if let InputOrigin::Url(url) = &image.origin
        && (url.starts_with("https://") || url.starts_with("http://"))
    {
        return Ok(url.clone());
    }
    if image.bytes.len() <= upload_threshold {
        return Ok(image.to_data_uri());
    }
    upload(client, image.bytes.clone(), image.mime(), &image.filename).await
}

/// Uploads a file to fal storage and returns its `file_url`. Storing a file
/// bills nothing, so both steps are resent after transient failures.
async fn upload(client: &FalClient, bytes: Bytes, mime: &str, file_name: &str) -> Result<String> {
    let url = client.url(Service::Storage, "storage/upload/initiate?storage_type=fal-cdn-v3");
    let body = json!({"content_type": mime, "file_name": file_name});
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
    client.put_upload(&initiated.upload_url, bytes.clone(), mime).await?;
    tracing::debug!(bytes = bytes.len(), "uploaded an input file to fal storage");
    Ok(initiated.file_url)
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
