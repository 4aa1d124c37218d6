//! The one pipeline every edit goes through, in this order:
//!
//! 1. the model's capabilities (asked once; a provider that reads them from
//!    its API does so here, before anything else);
//! 2. every input loaded (paths, URLs, base64), all failures reported together;
//! 3. the provider's `prepare`, when the request asks for it;
//! 4. the capability table's rules, then the provider's own
//!    [`check`](crate::kit::EditProvider::check): every broken rule is
//!    reported at once, and nothing is sent or billed when any is;
//! 5. the provider's `edit` (a model that takes no mask is sent none);
//! 6. the answer checked: a result that is not an image is an
//!    [`Error::InvalidResponse`], never a file;
//! 7. the keep-unmasked step, when on: the original pasted back outside the
//!    mask and the provider's changes there reported.
//!
//! [`Model::call`](crate::Model::call) and [`Model::stream`](crate::Model::stream)
//! both run it; [`Model::validate`](crate::Model::validate) runs steps 1 to 4.

use std::time::Duration;

use crate::capabilities::MaskSupport;
use crate::durable::write_atomic;
use crate::error::{Error, Result, Violations};
use crate::input::{InputLoader, LoadedImage};
use crate::kit::provider::EditProvider;
use crate::kit::unmasked::{self, KeepUnmasked};
use crate::request::{EditRequest, LoadedRequest, ResponseFormat};
use crate::response::{EditResponse, ImageData, checked_image};

/// A request that passed every check, and what the last step needs.
pub(crate) struct Validated {
    /// What the provider receives.
    pub(crate) request: LoadedRequest,
    /// Set when the original is to be pasted back outside the mask.
    pub(crate) keep: Option<KeepStep>,
}

/// What the keep-unmasked step needs after the provider answers.
#[derive(Clone)]
pub(crate) struct KeepStep {
    original: LoadedImage,
    mask: LoadedImage,
    format: ResponseFormat,
    step: &'static dyn KeepUnmasked,
}

/// Steps 1 to 4: capabilities, loading, prepare, every rule.
pub(crate) async fn validate(
    provider: &dyn EditProvider,
    loader: &InputLoader,
    request: EditRequest,
) -> Result<Validated> {
    let caps = provider.capabilities().await?;
    let loaded = request.load(loader).await?;
    let mut loaded = if loaded.prepare {
        provider.prepare(loaded).await?
    } else {
        loaded
    };
    let mut violations = Violations::new();
    caps.check(&loaded, &mut violations);
    let kept = match (caps.keeps_unmasked(&loaded), loaded.images.first(), &loaded.mask) {
        (true, Some(original), Some(mask)) => Some((original.clone(), mask.clone())),
        _ => None,
    };
    if caps.mask == MaskSupport::Unsupported {
        // The mask only says what the result may change: neither the
        // provider's checks nor the model ever see it.
        loaded.mask = None;
    }
    provider.check(&loaded, &mut violations)?;
    violations.into_result()?;
    let keep = match kept {
        Some((original, mask)) => Some(KeepStep {
            original,
            mask,
            format: loaded.response_format,
            step: unmasked::linked().ok_or_else(|| {
                Error::config(
                    "keep_unmasked needs the msgflux-image crate in the program (every provider crate and the `msgflux` crate include it); nothing was sent",
                )
            })?,
        }),
        None => None,
    };
    Ok(Validated { request: loaded, keep })
}

/// Steps 6 and 7: every result checked, and the original pasted back where asked.
pub(crate) async fn finish(
    mut response: EditResponse,
    keep: Option<KeepStep>,
    loader: &InputLoader,
) -> Result<EditResponse> {
    let provider = response.provider.clone();
    let request_id = response.request_id.clone();
    for (i, image) in response.images.iter_mut().enumerate() {
        let what = format!("result {i}");
        match &keep {
            Some(keep) => {
                let bytes = image.bytes_with(loader).await?;
                checked_image(bytes.clone(), &what, &provider, request_id.as_deref())?;
                let job = keep.clone();
                let label = what.clone();
                let kept = tokio::task::spawn_blocking(move || {
                    job.step.keep_unmasked(&job.original, &job.mask, &bytes, &label)
                })
                .await
                .map_err(|e| Error::decode(&what, format!("the keep-unmasked step stopped unexpectedly: {e}")))??;
                image.data = redeliver(&image.data, kept.bytes, keep.format).await?;
                image.unmasked = Some(kept.report);
            }
            None => check_inline(&image.data, &what, &provider, request_id.as_deref())?,
        }
    }
    Ok(response)
}

/// How much of an inline result is decoded to check its header: headers
/// (with EXIF, ICC and XMP blocks) almost always fit; one that does not is
/// checked from the whole file.
const RESULT_HEAD_BYTES: usize = 64 * 1024;

/// Checks a result that needs no download (base64, bytes, `data:` URLs):
/// base64 valid throughout, and an image file. Only the head is decoded;
/// the whole file is decoded once, by whoever saves or uses it.
fn check_inline(data: &ImageData, what: &str, provider: &str, request_id: Option<&str>) -> Result<()> {
    let text = match data {
        ImageData::Bytes(bytes) => return checked_image(bytes.clone(), what, provider, request_id).map(drop),
        ImageData::Base64(text) => text.trim(),
        ImageData::Url(url) => match url.strip_prefix("data:").and_then(|rest| rest.split_once(',')) {
            Some((_, payload)) => payload.trim(),
            None => return Ok(()),
        },
    };
    let invalid = |e: String| Error::decode("result", format!("invalid base64: {e}"));
    let head = crate::base64_text::check_strict_and_decode_head(text, RESULT_HEAD_BYTES).map_err(invalid)?;
    match checked_image(head.bytes.into(), what, provider, request_id) {
        Ok(_) => Ok(()),
        Err(err) if head.is_whole => Err(err),
        Err(_) => {
            let bytes = crate::base64_text::decode_strict(text).map_err(invalid)?;
            checked_image(bytes.into(), what, provider, request_id).map(drop)
        }
    }
}

/// A composited result delivered the way the original one was: base64 as
/// base64, a `file://` result rewritten in place, any other URL as a `data:` URL.
async fn redeliver(data: &ImageData, bytes: bytes::Bytes, format: ResponseFormat) -> Result<ImageData> {
    if let ImageData::Url(url) = data
        && let Some(path) = url.strip_prefix("file://")
    {
        let path = std::path::PathBuf::from(path);
        let target = path.clone();
        crate::kit::local_io::run(move || write_atomic(&target, &bytes))
            .await
            .map_err(|e| Error::io(&path, e))??;
        return Ok(data.clone());
    }
    let mime = crate::format::ImageFormat::sniff(&bytes).map_or("image/png", crate::format::ImageFormat::mime);
    Ok(match (data, format) {
        (ImageData::Bytes(_), _) => ImageData::Bytes(bytes),
        (ImageData::Base64(_), _) | (_, ResponseFormat::Base64) => {
            ImageData::Base64(crate::base64_text::encode(&bytes))
        }
        (ImageData::Url(_), ResponseFormat::Url) => {
            ImageData::Url(format!("data:{mime};base64,{}", crate::base64_text::encode(&bytes)))
        }
    })
}

/// Runs `work` within `timeout`, if any. Dropping the future cancels the
/// provider's work (and remote jobs, where the provider supports that).
pub(crate) async fn with_deadline<T>(
    provider: &str,
    timeout: Option<Duration>,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match timeout {
        None => work.await,
        Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
            Err(Error::Timeout {
                provider: provider.into(),
                after: limit,
                maybe_billed: true,
                message: "for the whole edit (the call was cancelled)".into(),
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::RgbImage::new(width, height)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Jpeg)
            .expect("encode");
        out
    }

    /// A JPEG whose frame header comes after `blocks` application blocks of
    /// 60,000 bytes each (what large EXIF, ICC or XMP data looks like).
    fn jpeg_with_blocks_before_the_header(blocks: usize) -> Vec<u8> {
        let plain = jpeg(4, 4);
        let mut out = plain[..2].to_vec();
        for _ in 0..blocks {
            let payload = 60_000u16;
            out.extend_from_slice(&[0xFF, 0xEF]);
            out.extend_from_slice(&(payload + 2).to_be_bytes());
            out.extend(std::iter::repeat_n(0u8, payload.into()));
        }
        out.extend_from_slice(&plain[2..]);
        out
    }

    fn check(data: ImageData) -> Result<()> {
        check_inline(&data, "result 0", "p", None)
    }

    #[test]
    fn a_base64_image_result_passes_the_check() {
        assert!(check(ImageData::Base64(crate::base64_text::encode(&jpeg(8, 8)))).is_ok());
        let url = format!("data:image/jpeg;base64,{}", crate::base64_text::encode(&jpeg(8, 8)));
        assert!(check(ImageData::Url(url)).is_ok());
    }

    #[test]
    fn a_result_whose_header_lies_beyond_the_decoded_head_is_checked_whole() {
        let file = jpeg_with_blocks_before_the_header(2);
        assert!(file.len() > RESULT_HEAD_BYTES);
        assert!(
            checked_image(file[..RESULT_HEAD_BYTES].to_vec().into(), "head", "p", None).is_err(),
            "the head alone is not enough, so this takes the whole-file path"
        );
        assert!(check(ImageData::Base64(crate::base64_text::encode(&file))).is_ok());
    }

    #[test]
    fn a_result_with_broken_base64_after_the_head_is_refused() {
        let file = jpeg_with_blocks_before_the_header(3);
        let mut text = crate::base64_text::encode(&file);
        let late = text.len() - 100;
        text.replace_range(late..late + 1, "*");
        let err = check(ImageData::Base64(text)).expect_err("broken base64");
        assert!(err.to_string().contains("invalid base64"), "{err}");
    }

    #[test]
    fn a_result_that_is_not_an_image_is_an_invalid_response() {
        let err = check(ImageData::Base64(crate::base64_text::encode(b"<html>busy</html>"))).expect_err("not an image");
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
        let long = vec![b'x'; 3 * RESULT_HEAD_BYTES];
        let err = check(ImageData::Base64(crate::base64_text::encode(&long))).expect_err("not an image");
        assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    }
}
