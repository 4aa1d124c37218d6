//! The edit request: one type for what users build ([`EditRequest`], with
//! inputs as given) and what providers receive ([`LoadedRequest`], with every
//! input loaded, sniffed and checked against the model's capabilities).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, Violations};
use crate::input::{ImageInput, InputLoader, LoadedImage};
use crate::progress::{Progress, ProgressSink};
use crate::size::OutputSize;

/// The parameter name of input image `index` of `count`: `image` for a
/// single input, `image[i]` when there are several (as errors name them).
///
/// ```
/// assert_eq!(msgflux_core::kit::image_param(0, 1), "image");
/// assert_eq!(msgflux_core::kit::image_param(1, 3), "image[1]");
/// ```
pub fn image_param(index: usize, count: usize) -> String {
    if count == 1 {
        "image".to_string()
    } else {
        format!("image[{index}]")
    }
}

/// Turns every input file of a request into the value an API takes for it
/// (a `data:` URI, a passed-through URL, an uploaded file's URL), all at
/// once, each named by its parameter (`image`, `image[1]`, ..., `mask`) for
/// errors and progress. `mask` is the mask already converted to the
/// provider's convention.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> msgflux_core::Result<()> {
/// use msgflux_core::kit::resolve_inputs;
/// let image = msgflux_core::LoadedImage::from_image(&image::DynamicImage::new_rgba8(8, 8), "image")?;
/// let images = [image.clone(), image];
/// let (images, mask) = resolve_inputs(&images, None, |_, param| async move { Ok::<_, msgflux_core::Error>(param) }).await?;
/// assert_eq!(images, ["image[0]", "image[1]"]);
/// assert_eq!(mask, None);
/// # Ok(()) }
/// ```
pub async fn resolve_inputs<'a, T, F, Fut>(
    images: &'a [LoadedImage],
    mask: Option<&'a LoadedImage>,
    value: F,
) -> Result<(Vec<T>, Option<T>)>
where
    F: Fn(&'a LoadedImage, String) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let count = images.len();
    let images = futures::future::try_join_all(
        images
            .iter()
            .enumerate()
            .map(|(i, image)| value(image, image_param(i, count))),
    );
    let mask = async {
        match mask {
            Some(mask) => value(mask, "mask".to_string()).await.map(Some),
            None => Ok(None),
        }
    };
    futures::future::try_join(images, mask).await
}

/// How result images come back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseFormat {
    /// A URL per image (the default). Providers that only return bytes give a `data:` URL.
    #[default]
    Url,
    /// Base64 of each image file (`b64_json` at OpenAI).
    Base64,
}

impl fmt::Display for ResponseFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Url => "url",
            Self::Base64 => "base64",
        })
    }
}

impl FromStr for ResponseFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "url" => Ok(Self::Url),
            "base64" | "b64_json" | "b64" => Ok(Self::Base64),
            other => Err(Error::invalid(
                "response_format",
                format!("expected url or base64, got `{other}`"),
            )),
        }
    }
}

/// A typed value of a provider-specific option.
///
/// Values are checked against the model's [`OptionSpec`](crate::OptionSpec)s before
/// anything is sent; a name the model does not know is an error, never dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OptionValue {
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// A number.
    Number(f64),
    /// A word or text.
    Text(String),
}

impl OptionValue {
    /// The text, if this is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The whole number, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Integer(v) => Some(*v),
            _ => None,
        }
    }

    /// The number, if this is a number or a whole number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(v) => Some(*v),
            Self::Integer(v) => Some(*v as f64),
            _ => None,
        }
    }

    /// The flag, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(v) => Some(*v),
            _ => None,
        }
    }
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(v) => write!(f, "{v}"),
            Self::Integer(v) => write!(f, "{v}"),
            Self::Number(v) => write!(f, "{v}"),
            Self::Text(v) => write!(f, "`{v}`"),
        }
    }
}

impl From<bool> for OptionValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<i64> for OptionValue {
    fn from(v: i64) -> Self {
        Self::Integer(v)
    }
}
impl From<i32> for OptionValue {
    fn from(v: i32) -> Self {
        Self::Integer(v.into())
    }
}
impl From<u32> for OptionValue {
    fn from(v: u32) -> Self {
        Self::Integer(v.into())
    }
}
impl From<f64> for OptionValue {
    fn from(v: f64) -> Self {
        Self::Number(v)
    }
}
impl From<&str> for OptionValue {
    fn from(v: &str) -> Self {
        Self::Text(v.to_string())
    }
}
impl From<String> for OptionValue {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

/// A set of typed provider options, usually produced by a provider crate's
/// own typed options struct (for example `OpenAIEditOptions`).
pub trait IntoOptions {
    /// The options as name/value pairs.
    fn into_options(self) -> BTreeMap<String, OptionValue>;
}

impl IntoOptions for BTreeMap<String, OptionValue> {
    fn into_options(self) -> BTreeMap<String, OptionValue> {
        self
    }
}

impl<K: Into<String>, V: Into<OptionValue>> IntoOptions for Vec<(K, V)> {
    fn into_options(self) -> BTreeMap<String, OptionValue> {
        self.into_iter().map(|(k, v)| (k.into(), v.into())).collect()
    }
}

/// One image edit: a prompt, one or more images, an optional mask and settings.
///
/// `I` is the image type: [`ImageInput`] as users build it, [`LoadedImage`]
/// once loaded ([`LoadedRequest`], what providers receive).
///
/// ```
/// use msgflux_core::{EditRequest, ResponseFormat};
/// let request = EditRequest::new("Add a sunset sky")
///     .image("photo.png")
///     .mask("sky_mask.png")
///     .n(4)
///     .response_format(ResponseFormat::Base64);
/// assert_eq!(request.n, 4);
/// assert_eq!(request.images.len(), 1);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EditRequest<I = ImageInput> {
    /// What to change.
    pub prompt: String,
    /// Input images; the first one is the one the mask applies to.
    pub images: Vec<I>,
    /// Where to edit: transparent (alpha 0) pixels are edited, opaque ones kept.
    pub mask: Option<I>,
    /// Number of variations.
    pub n: u32,
    /// URLs or base64.
    pub response_format: ResponseFormat,
    /// Output size: exact, or `auto` (the model picks); `None` leaves the
    /// provider's default (usually the input size).
    pub size: Option<OutputSize>,
    /// Seed for repeatable results, where the model supports one.
    pub seed: Option<u64>,
    /// Provider-specific options, checked against the model's option table.
    pub options: BTreeMap<String, OptionValue>,
    /// Let the provider convert inputs that break its rules (resize, re-encode) instead of refusing them.
    pub prepare: bool,
    /// Give up after this long (the call is cancelled, remote jobs too where the provider can).
    pub timeout: Option<Duration>,
    /// Paste the original back outside the mask after the provider answers,
    /// and report how much the provider had changed there. `None` means on
    /// for models that take no mask, off for the others
    /// ([`Capabilities::keeps_unmasked`](crate::Capabilities::keeps_unmasked)).
    pub keep_unmasked: Option<bool>,
    /// Whether the edit is streamed ([`Model::stream`](crate::Model::stream)
    /// sets it), for rules that differ between streamed and plain calls.
    pub streaming: bool,
    /// What [`EditProvider::prepare`](crate::kit::EditProvider::prepare) changed, in the
    /// provider's own words; the provider copies it into [`EditResponse::metadata`](crate::EditResponse::metadata).
    /// `None` when nothing was prepared.
    pub prepare_report: Option<serde_json::Value>,
    /// Where this call's [`Progress`] goes (queue position, uploads,
    /// running); `None` reports nothing.
    pub progress: Option<ProgressSink>,
}

/// A request whose inputs are loaded: what [`EditProvider::edit`](crate::kit::EditProvider::edit) receives.
pub type LoadedRequest = EditRequest<LoadedImage>;

impl EditRequest<ImageInput> {
    /// A request with a prompt and defaults: no images yet, `n = 1`, URLs.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            images: Vec::new(),
            mask: None,
            n: 1,
            response_format: ResponseFormat::Url,
            size: None,
            seed: None,
            options: BTreeMap::new(),
            prepare: false,
            timeout: None,
            keep_unmasked: None,
            streaming: false,
            prepare_report: None,
            progress: None,
        }
    }

    /// Adds an input image.
    pub fn image(mut self, image: impl Into<ImageInput>) -> Self {
        self.images.push(image.into());
        self
    }

    /// Adds several input images.
    pub fn images<T: Into<ImageInput>>(mut self, images: impl IntoIterator<Item = T>) -> Self {
        self.images.extend(images.into_iter().map(Into::into));
        self
    }

    /// Sets the mask (alpha 0 = edit).
    pub fn mask(mut self, mask: impl Into<ImageInput>) -> Self {
        self.mask = Some(mask.into());
        self
    }

    /// Loads every input (files, URLs, base64) and names each in errors:
    /// `image` (or `image[i]` when there are several) and `mask`. Every
    /// input is tried, so one error lists all that cannot be read.
    pub async fn load(self, loader: &InputLoader) -> Result<LoadedRequest> {
        let count = self.images.len();
        let images = futures::future::join_all(
            self.images
                .iter()
                .enumerate()
                .map(|(i, img)| async move { loader.load(img, &image_param(i, count)).await }),
        );
        let mask = async {
            match &self.mask {
                Some(mask) => Some(loader.load(mask, "mask").await),
                None => None,
            }
        };
        let (images, mask) = futures::future::join(images, mask).await;
        let mut violations = Violations::new();
        let mut loaded = Vec::with_capacity(images.len());
        for image in images {
            match image {
                Ok(image) => loaded.push(image),
                Err(err) => violations.absorb(err)?,
            }
        }
        let mask = match mask {
            Some(Ok(mask)) => Some(mask),
            Some(Err(err)) => {
                violations.absorb(err)?;
                None
            }
            None => None,
        };
        violations.into_result()?;
        Ok(self.with_inputs(loaded, mask))
    }
}

impl<I> EditRequest<I> {
    /// The same request with other inputs (for steps that convert them).
    pub fn with_inputs<J>(self, images: Vec<J>, mask: Option<J>) -> EditRequest<J> {
        EditRequest {
            prompt: self.prompt,
            images,
            mask,
            n: self.n,
            response_format: self.response_format,
            size: self.size,
            seed: self.seed,
            options: self.options,
            prepare: self.prepare,
            timeout: self.timeout,
            keep_unmasked: self.keep_unmasked,
            streaming: self.streaming,
            prepare_report: self.prepare_report,
            progress: self.progress,
        }
    }

    /// Sets the number of variations.
    pub fn n(mut self, n: u32) -> Self {
        self.n = n;
        self
    }

    /// Sets the response format.
    pub fn response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = format;
        self
    }

    /// Sets the output size: a [`Size`](crate::Size), or [`OutputSize::Auto`].
    pub fn size(mut self, size: impl Into<OutputSize>) -> Self {
        self.size = Some(size.into());
        self
    }

    /// Pastes the original back outside the mask after the provider answers
    /// (see [`EditRequest::keep_unmasked`]).
    pub fn keep_unmasked(mut self, yes: bool) -> Self {
        self.keep_unmasked = Some(yes);
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets one provider-specific option.
    pub fn option(mut self, name: impl Into<String>, value: impl Into<OptionValue>) -> Self {
        self.options.insert(name.into(), value.into());
        self
    }

    /// Merges a set of provider-specific options.
    pub fn options(mut self, options: impl IntoOptions) -> Self {
        self.options.extend(options.into_options());
        self
    }

    /// Lets the provider convert inputs that break its rules.
    pub fn prepare(mut self, yes: bool) -> Self {
        self.prepare = yes;
        self
    }

    /// Sets a time limit for the whole call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Calls `f` with every step of this call's [`Progress`] (checked,
    /// uploading, submitted, queued, running, downloading). The callback runs
    /// on the runtime's threads: keep it short, or send the step to a channel.
    ///
    /// ```
    /// use msgflux_core::{EditRequest, Progress};
    /// let request = EditRequest::new("a red door")
    ///     .image("door.png")
    ///     .on_progress(|step: &Progress| eprintln!("{step}"));
    /// assert!(request.progress.is_some());
    /// ```
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressSink::new(f));
        self
    }

    /// Reports one step to the request's progress callback, if it has one.
    pub fn report(&self, step: Progress) {
        crate::progress::report(self.progress.as_ref(), step);
    }

    /// A provider option, by name.
    pub fn get_option(&self, name: &str) -> Option<&OptionValue> {
        self.options.get(name)
    }
}

impl<P: Into<String>, I: Into<ImageInput>> From<(P, I)> for EditRequest {
    fn from((prompt, image): (P, I)) -> Self {
        EditRequest::new(prompt).image(image)
    }
}

impl<P: Into<String>, I: Into<ImageInput>, M: Into<ImageInput>> From<(P, I, M)> for EditRequest {
    fn from((prompt, image, mask): (P, I, M)) -> Self {
        EditRequest::new(prompt).image(image).mask(mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_tuple_form_carries_the_mask() {
        let request: EditRequest = ("make it blue", "a.png", "m.png").into();
        assert_eq!(request.prompt, "make it blue");
        assert_eq!(request.images.len(), 1);
        assert!(request.mask.is_some());
    }

    #[test]
    fn response_format_accepts_the_openai_spelling() {
        assert_eq!(
            "b64_json".parse::<ResponseFormat>().expect("parse"),
            ResponseFormat::Base64
        );
        assert!("jpeg".parse::<ResponseFormat>().is_err());
    }
}
