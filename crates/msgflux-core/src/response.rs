//! What an edit returns, and `consume()`, which mirrors Python msgflux: one
//! result gives one string, several give a list.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use image::DynamicImage;
use serde::{Deserialize, Serialize};

use crate::durable::write_atomic;
use crate::error::{Error, Result};
use crate::format::ImageFormat;
use crate::input::{InputLoader, LoadedImage};
use crate::kit::http::redact_url;
use crate::size::Size;

/// The pixels of one result, in the form the provider gave them.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageData {
    /// A URL (http(s), `data:` or `file://`). Provider delivery URLs expire; save them soon.
    Url(String),
    /// Base64 of the image file.
    Base64(String),
    /// The image file's bytes.
    Bytes(Bytes),
}

impl fmt::Debug for ImageData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(u) if u.starts_with("data:") => write!(f, "Url(data: {} chars)", u.len()),
            Self::Url(u) => f.debug_tuple("Url").field(&redact_url(u)).finish(),
            Self::Base64(s) => write!(f, "Base64({} chars)", s.len()),
            Self::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
        }
    }
}

/// One result image.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GeneratedImage {
    /// The pixels, as URL, base64 or bytes.
    pub data: ImageData,
    /// The prompt the provider actually used, when it rewrote it.
    pub revised_prompt: Option<String>,
    /// The seed that produced it, when known.
    pub seed: Option<u64>,
    /// What the keep-unmasked step found and did, when it ran.
    pub unmasked: Option<UnmaskedReport>,
}

impl GeneratedImage {
    /// A result from its data.
    pub fn new(data: ImageData) -> Self {
        Self {
            data,
            revised_prompt: None,
            seed: None,
            unmasked: None,
        }
    }

    /// Sets the revised prompt.
    pub fn with_revised_prompt(mut self, prompt: Option<String>) -> Self {
        self.revised_prompt = prompt;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: Option<u64>) -> Self {
        self.seed = seed;
        self
    }

    /// The string `consume()` returns for this image: the URL, or the base64.
    pub fn as_consumed(&self) -> String {
        match &self.data {
            ImageData::Url(u) => u.clone(),
            ImageData::Base64(s) => s.clone(),
            ImageData::Bytes(b) => crate::base64_text::encode(b),
        }
    }

    /// The image file's bytes; URLs are downloaded with the default [`InputLoader`].
    pub async fn bytes(&self) -> Result<Bytes> {
        self.bytes_with(&InputLoader::default()).await
    }

    /// The image file's bytes; URLs are downloaded with this loader's client and limits.
    pub async fn bytes_with(&self, loader: &InputLoader) -> Result<Bytes> {
        match &self.data {
            ImageData::Bytes(b) => Ok(b.clone()),
            ImageData::Base64(s) => crate::base64_text::decode_strict(s.trim())
                .map(Bytes::from)
                .map_err(|e| Error::decode("result", format!("invalid base64: {e}"))),
            ImageData::Url(u) => {
                if u.starts_with("data:") || u.starts_with("file://") {
                    let input = if let Some(path) = u.strip_prefix("file://") {
                        crate::ImageInput::Path(PathBuf::from(path))
                    } else {
                        crate::ImageInput::DataUri(u.clone())
                    };
                    Ok(loader.load(&input, "result").await?.bytes)
                } else {
                    loader.download(u, "result").await
                }
            }
        }
    }

    /// The result loaded and sniffed (format, size, MIME type). Bytes that
    /// are not an image are an [`Error::InvalidResponse`]: the provider
    /// answered, so the call may have been billed.
    pub async fn load(&self) -> Result<LoadedImage> {
        checked_image(self.bytes().await?, "result", "provider", None)
    }

    /// The decoded pixels.
    pub async fn to_image(&self) -> Result<DynamicImage> {
        self.load().await?.decode()
    }

    /// Saves the image file to `path` atomically: written to a temporary file
    /// beside it, then renamed, so a crash never leaves half a file.
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<PathBuf> {
        let bytes = checked_image(self.bytes().await?, "result", "provider", None)?.bytes;
        let path = path.as_ref().to_path_buf();
        let target = path.clone();
        crate::kit::local_io::run(move || write_atomic(&target, &bytes))
            .await
            .map_err(|e| Error::io(&path, e))??;
        Ok(path)
    }

    /// The format of the image, sniffed from its bytes, where that needs no download.
    pub fn format_hint(&self) -> Option<ImageFormat> {
        match &self.data {
            ImageData::Bytes(b) => ImageFormat::sniff(b),
            // 32 base64 characters decode to the first 24 bytes, enough for any magic number.
            ImageData::Base64(s) => BASE64
                .decode(s.trim().get(..32).unwrap_or(s.trim()))
                .ok()
                .and_then(|b| ImageFormat::sniff(&b)),
            ImageData::Url(u) => {
                let media = u.strip_prefix("data:")?.split([';', ',']).next()?;
                ImageFormat::from_name(media)
            }
        }
    }
}

/// Sniffs a result file: an image, or an [`Error::InvalidResponse`] naming
/// the provider (the request was sent, so it may have been billed).
pub(crate) fn checked_image(bytes: Bytes, what: &str, provider: &str, request_id: Option<&str>) -> Result<LoadedImage> {
    LoadedImage::from_bytes(bytes.clone(), None, what).map_err(|err| Error::InvalidResponse {
        provider: provider.to_string(),
        message: format!(
            "{what} is not an image file ({}); nothing was saved. The answer began {}",
            match &err {
                Error::InvalidInput { rule, .. } => rule.clone(),
                other => other.to_string(),
            },
            crate::kit::http::body_snippet(&bytes[..bytes.len().min(64)])
        ),
        request_id: request_id.map(str::to_string),
    })
}

/// Token counts reported by the provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Input tokens (text and image).
    pub input_tokens: Option<u64>,
    /// Of which image tokens.
    pub input_image_tokens: Option<u64>,
    /// Of which text tokens.
    pub input_text_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
    /// Total tokens.
    pub total_tokens: Option<u64>,
}

/// An estimate of what the call cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cost {
    /// US dollars.
    pub usd: f64,
    /// How it was computed and from which price table (with its date).
    pub basis: String,
}

impl Cost {
    /// A cost in US dollars with the basis of the estimate.
    pub fn usd(usd: f64, basis: impl Into<String>) -> Self {
        Self {
            usd,
            basis: basis.into(),
        }
    }
}

/// The result of one edit call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EditResponse {
    /// Registered provider name.
    pub provider: String,
    /// Model name.
    pub model: String,
    /// The result images, in the provider's order.
    pub images: Vec<GeneratedImage>,
    /// The provider's request or prediction id.
    pub request_id: Option<String>,
    /// Whether the prompt steered the result (false for content-aware fill).
    pub prompt_used: bool,
    /// Token counts, where the provider reports them.
    pub usage: Option<Usage>,
    /// Cost estimate, where a price is known.
    pub cost: Option<Cost>,
    /// Wall-clock time of the call.
    pub elapsed: Duration,
    /// Provider metadata that has no typed field (metrics, warnings, what `prepare` changed).
    pub metadata: serde_json::Value,
}

/// How much an edit changed outside its mask.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LeakReport {
    /// A pixel counts as changed when some channel moved by more than this (0-255).
    pub threshold: u8,
    /// Pixels outside the mask (strength 0).
    pub outside_pixels: u64,
    /// Of those, how many changed beyond the threshold.
    pub changed_outside: u64,
    /// `changed_outside / outside_pixels` (0.0 when there is nothing outside).
    pub changed_fraction: f64,
    /// Mean change outside the mask, in levels (0-255, largest channel per pixel).
    pub mean_change_outside: f64,
    /// Largest change outside the mask.
    pub max_change_outside: u8,
    /// Mean change inside the mask, for comparison.
    pub mean_change_inside: f64,
}

impl LeakReport {
    /// A report from its counts; `changed_fraction` is computed.
    pub fn new(
        threshold: u8,
        outside_pixels: u64,
        changed_outside: u64,
        mean_change_outside: f64,
        max_change_outside: u8,
        mean_change_inside: f64,
    ) -> Self {
        Self {
            threshold,
            outside_pixels,
            changed_outside,
            changed_fraction: if outside_pixels == 0 {
                0.0
            } else {
                changed_outside as f64 / outside_pixels as f64
            },
            mean_change_outside,
            max_change_outside,
            mean_change_inside,
        }
    }

    /// True when nothing outside the mask changed beyond the threshold.
    pub fn is_clean(&self) -> bool {
        self.changed_outside == 0
    }
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.2}% of the {} pixels outside the mask changed by more than {} levels \
             (mean change {:.2}, max {}; inside the mask: mean {:.2})",
            self.changed_fraction * 100.0,
            self.outside_pixels,
            self.threshold,
            self.mean_change_outside,
            self.max_change_outside,
            self.mean_change_inside
        )
    }
}

/// What the keep-unmasked step did to one result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnmaskedReport {
    /// How much the provider's answer had changed outside the mask, measured
    /// before the original was pasted back (after resizing it back, if needed).
    pub leak: LeakReport,
    /// The size the provider answered at, when it differed from the input's:
    /// the result was resized back to the input size.
    pub resized_from: Option<Size>,
    /// The seam width inside the mask, as a Gaussian sigma in pixels; outside
    /// the mask every pixel is the original's, bit for bit.
    pub feather: f32,
}

impl UnmaskedReport {
    /// A report.
    pub fn new(leak: LeakReport, resized_from: Option<Size>, feather: f32) -> Self {
        Self {
            leak,
            resized_from,
            feather,
        }
    }
}

impl EditResponse {
    /// A response with images; other fields empty.
    pub fn new(provider: impl Into<String>, model: impl Into<String>, images: Vec<GeneratedImage>) -> Self {
        Self {
            provider: provider.into(),
            model: model.into(),
            images,
            request_id: None,
            prompt_used: true,
            usage: None,
            cost: None,
            elapsed: Duration::ZERO,
            metadata: serde_json::Value::Null,
        }
    }

    /// Sets the request id.
    pub fn with_request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }

    /// Sets whether the prompt was used.
    pub fn with_prompt_used(mut self, used: bool) -> Self {
        self.prompt_used = used;
        self
    }

    /// Sets the usage.
    pub fn with_usage(mut self, usage: Option<Usage>) -> Self {
        self.usage = usage;
        self
    }

    /// Sets the cost estimate.
    pub fn with_cost(mut self, cost: Option<Cost>) -> Self {
        self.cost = cost;
        self
    }

    /// Sets the metadata.
    pub fn with_metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = metadata;
        self
    }

    /// Mirrors Python msgflux's `response.consume()`: exactly one image gives
    /// [`Consumed::One`], several give [`Consumed::Many`]. Each string is a
    /// URL, or base64 when `response_format` was `base64`.
    ///
    /// ```
    /// use msgflux_core::{Consumed, EditResponse, GeneratedImage, ImageData};
    /// let one = EditResponse::new("p", "m", vec![GeneratedImage::new(ImageData::Url("https://x/1.png".into()))]);
    /// assert_eq!(one.consume(), Consumed::One("https://x/1.png".into()));
    /// ```
    pub fn consume(&self) -> Consumed {
        let mut all: Vec<String> = self.images.iter().map(GeneratedImage::as_consumed).collect();
        if all.len() == 1 {
            Consumed::One(all.remove(0))
        } else {
            Consumed::Many(all)
        }
    }

    /// The first image, if any.
    pub fn first(&self) -> Option<&GeneratedImage> {
        self.images.first()
    }

    /// Saves every image into `dir` as `{stem}.{ext}` (one) or `{stem}-{i}.{ext}` (several),
    /// atomically, and returns the paths in order.
    pub async fn save_all(&self, dir: impl AsRef<Path>, stem: &str) -> Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        let mut paths = Vec::with_capacity(self.images.len());
        // Check every result before writing any, so that a bad answer leaves no files.
        let mut files = Vec::with_capacity(self.images.len());
        for (i, image) in self.images.iter().enumerate() {
            let what = format!("result {i}");
            files.push(checked_image(
                image.bytes().await?,
                &what,
                &self.provider,
                self.request_id.as_deref(),
            )?);
        }
        for (i, file) in files.into_iter().enumerate() {
            let bytes = file.bytes;
            let ext = file.format.extension();
            let name = if self.images.len() == 1 {
                format!("{stem}.{ext}")
            } else {
                format!("{stem}-{i}.{ext}")
            };
            let path = dir.join(name);
            let target = path.clone();
            crate::kit::local_io::run(move || write_atomic(&target, &bytes))
                .await
                .map_err(|e| Error::io(&path, e))??;
            paths.push(path);
        }
        Ok(paths)
    }
}

/// What `consume()` returns: one string, or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Consumed {
    /// Exactly one result.
    One(String),
    /// Zero or several results.
    Many(Vec<String>),
}

impl Consumed {
    /// The single result, if there is exactly one.
    pub fn as_one(&self) -> Option<&str> {
        match self {
            Self::One(s) => Some(s),
            Self::Many(_) => None,
        }
    }

    /// Every result as a list, whichever form it is.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }

    /// How many results.
    pub fn len(&self) -> usize {
        match self {
            Self::One(_) => 1,
            Self::Many(v) => v.len(),
        }
    }

    /// True when there are no results.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One event of a streamed edit.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EditEvent {
    /// A partial image (lower quality, arrives while the final one renders).
    Partial {
        /// Which partial image (0-based).
        index: u32,
        /// The partial image.
        image: GeneratedImage,
    },
    /// The final result; always the last event.
    Completed(EditResponse),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> GeneratedImage {
        GeneratedImage::new(ImageData::Url(u.into()))
    }

    #[test]
    fn consume_returns_a_list_for_several_results() {
        let response = EditResponse::new("p", "m", vec![url("a"), url("b")]);
        assert_eq!(response.consume(), Consumed::Many(vec!["a".into(), "b".into()]));
        assert_eq!(response.consume().len(), 2);
    }

    #[test]
    fn consume_returns_base64_for_bytes() {
        let response = EditResponse::new(
            "p",
            "m",
            vec![GeneratedImage::new(ImageData::Bytes(Bytes::from_static(b"hi")))],
        );
        assert_eq!(response.consume(), Consumed::One("aGk=".into()));
    }

    #[test]
    fn consumed_serialises_as_a_string_or_a_list() {
        assert_eq!(
            serde_json::to_string(&Consumed::One("a".into())).expect("json"),
            "\"a\""
        );
        assert_eq!(
            serde_json::to_string(&Consumed::Many(vec!["a".into()])).expect("json"),
            "[\"a\"]"
        );
    }

    #[tokio::test]
    async fn save_writes_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let png = png(3, 2);
        let image = GeneratedImage::new(ImageData::Base64(BASE64.encode(&png)));
        let path = image.save(dir.path().join("out.png")).await.expect("save");
        assert_eq!(std::fs::read(&path).expect("read"), png);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.png")]);
    }

    #[tokio::test]
    async fn a_result_that_is_not_an_image_is_an_invalid_response_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let response = EditResponse::new(
            "p",
            "m",
            vec![
                GeneratedImage::new(ImageData::Bytes(Bytes::from(png(2, 2)))),
                GeneratedImage::new(ImageData::Base64(BASE64.encode(b"<html>not an image</html>"))),
            ],
        );
        let err = response.save_all(dir.path(), "edited").await.expect_err("not an image");
        assert!(
            matches!(err, Error::InvalidResponse { ref provider, .. } if provider == "p"),
            "{err:?}"
        );
        assert!(err.to_string().contains("result 1 is not an image file"), "{err}");
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("ls").count(),
            0,
            "nothing is written"
        );
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::RgbImage::new(width, height)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("encode");
        out
    }

    #[tokio::test]
    async fn a_failed_save_leaves_no_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let image = GeneratedImage::new(ImageData::Base64("not base64 !!!".into()));
        let target = dir.path().join("out.png");
        assert!(image.save(&target).await.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
    }
}
