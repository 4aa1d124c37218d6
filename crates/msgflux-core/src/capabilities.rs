//! What a model accepts, as data. Validation reads this table in one place
//! ([`Capabilities::check`]) before anything is sent.

use std::fmt;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, Violations};
use crate::format::ImageFormat;
use crate::request::{LoadedRequest, OptionValue, ResponseFormat, image_param};
use crate::size::{OutputSize, Size};

/// Which pixels of a mask mean "edit here".
///
/// Masks given to msgflux always follow [`MaskConvention::TransparentIsEdit`]
/// (the OpenAI convention); providers whose API wants another convention
/// convert automatically, and [`Capabilities::mask_convention`] tells which
/// one a provider speaks natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskConvention {
    /// Alpha 0 = edit, opaque = keep (OpenAI).
    TransparentIsEdit,
    /// White = edit, black = keep (Stable Diffusion inpainting, FLUX fill).
    WhiteIsEdit,
    /// Black = edit, white = keep (a few inverted models).
    BlackIsEdit,
}

impl fmt::Display for MaskConvention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TransparentIsEdit => "transparent = edit",
            Self::WhiteIsEdit => "white = edit",
            Self::BlackIsEdit => "black = edit",
        })
    }
}

/// Whether a model takes a mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskSupport {
    /// A mask is an error.
    Unsupported,
    /// With a mask only the masked area changes; without, the whole image may.
    Optional,
    /// Without a mask there is nothing to do (inpainting-only models).
    Required,
}

/// Which output sizes a model accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SizeRule {
    /// The model picks the size (or follows the input); an explicit size is an error.
    InputSize,
    /// One of a fixed list.
    OneOf(Vec<Size>),
    /// Each side a multiple of `step` within `min..=max`.
    MultipleOf {
        /// Side step in pixels.
        step: u32,
        /// Smallest side.
        min: u32,
        /// Largest side.
        max: u32,
    },
    /// Any size up to `max_side` on each side.
    Any {
        /// Largest side.
        max_side: u32,
    },
}

impl SizeRule {
    fn check(&self, size: Size) -> std::result::Result<(), String> {
        match self {
            Self::InputSize => Err(format!(
                "this model keeps the input size; drop the size parameter (asked for {size})"
            )),
            Self::OneOf(sizes) if sizes.contains(&size) => Ok(()),
            Self::OneOf(sizes) => Err(format!(
                "{size} is not supported; supported sizes: {}",
                sizes.iter().map(Size::to_string).collect::<Vec<_>>().join(", ")
            )),
            Self::MultipleOf { step, min, max } => {
                for side in [size.width, size.height] {
                    if side % step != 0 || side < *min || side > *max {
                        return Err(format!(
                            "{size} is not supported; each side must be a multiple of {step} between {min} and {max}"
                        ));
                    }
                }
                Ok(())
            }
            Self::Any { max_side } if size.width <= *max_side && size.height <= *max_side => Ok(()),
            Self::Any { max_side } => Err(format!("{size} is too large; each side must be at most {max_side}")),
        }
    }
}

impl fmt::Display for SizeRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InputSize => f.write_str("same as input"),
            Self::OneOf(sizes) => {
                let list: Vec<_> = sizes.iter().map(Size::to_string).collect();
                f.write_str(&list.join(", "))
            }
            Self::MultipleOf { step, min, max } => write!(f, "multiples of {step} from {min} to {max}"),
            Self::Any { max_side } => write!(f, "any up to {max_side}x{max_side}"),
        }
    }
}

/// The type and range of a provider-specific option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OptionKind {
    /// One of these words.
    Choice(Vec<String>),
    /// A whole number in a range.
    Integer {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
    },
    /// A number in a range.
    Number {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
    },
    /// `true` or `false`.
    Bool,
    /// Free text (an end-user id, a negative prompt).
    Text,
}

/// One provider-specific option a model accepts, with its type.
///
/// Options outside a model's list are rejected, never silently dropped.
///
/// ```
/// use msgflux_core::{OptionSpec, OptionValue};
/// let quality = OptionSpec::choice("quality", &["low", "medium", "high", "auto"], "rendering quality");
/// assert_eq!(quality.parse("high").unwrap(), OptionValue::Text("high".into()));
/// assert!(quality.parse("ultra").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OptionSpec {
    /// The option's name as the provider spells it (`quality`).
    pub name: String,
    /// Its type.
    pub kind: OptionKind,
    /// One line of help.
    pub help: String,
}

impl OptionSpec {
    /// An option with a type.
    pub fn new(name: impl Into<String>, kind: OptionKind, help: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind,
            help: help.into(),
        }
    }

    /// An option that takes one of a few words.
    pub fn choice(name: &str, choices: &[&str], help: &str) -> Self {
        Self::new(
            name,
            OptionKind::Choice(choices.iter().map(|c| c.to_string()).collect()),
            help,
        )
    }

    /// An option that takes a whole number in `range`.
    pub fn integer(name: &str, range: RangeInclusive<i64>, help: &str) -> Self {
        Self::new(
            name,
            OptionKind::Integer {
                min: *range.start(),
                max: *range.end(),
            },
            help,
        )
    }

    /// An option that takes a number in `range`.
    pub fn number(name: &str, range: RangeInclusive<f64>, help: &str) -> Self {
        Self::new(
            name,
            OptionKind::Number {
                min: *range.start(),
                max: *range.end(),
            },
            help,
        )
    }

    /// A `true`/`false` option.
    pub fn bool(name: &str, help: &str) -> Self {
        Self::new(name, OptionKind::Bool, help)
    }

    /// A free-text option.
    pub fn text(name: &str, help: &str) -> Self {
        Self::new(name, OptionKind::Text, help)
    }

    /// Parses a command-line value (`high`, `80`, `true`) into a typed value and checks it.
    pub fn parse(&self, raw: &str) -> Result<OptionValue> {
        let value = match &self.kind {
            OptionKind::Choice(_) | OptionKind::Text => OptionValue::Text(raw.to_string()),
            OptionKind::Integer { .. } => OptionValue::Integer(raw.trim().parse().map_err(|_| {
                Error::invalid(
                    format!("option {}", self.name),
                    format!("expected a whole number, got `{raw}`"),
                )
            })?),
            OptionKind::Number { .. } => OptionValue::Number(raw.trim().parse().map_err(|_| {
                Error::invalid(
                    format!("option {}", self.name),
                    format!("expected a number, got `{raw}`"),
                )
            })?),
            OptionKind::Bool => OptionValue::Bool(match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => true,
                "false" | "no" | "0" | "off" => false,
                _ => {
                    return Err(Error::invalid(
                        format!("option {}", self.name),
                        format!("expected true or false, got `{raw}`"),
                    ));
                }
            }),
        };
        self.check(&value)?;
        Ok(value)
    }

    /// Checks a typed value against this option's type and range.
    pub fn check(&self, value: &OptionValue) -> Result<()> {
        let param = || format!("option {}", self.name);
        match (&self.kind, value) {
            (OptionKind::Choice(choices), OptionValue::Text(v)) => {
                if choices.iter().any(|c| c == v) {
                    Ok(())
                } else {
                    Err(Error::invalid(
                        param(),
                        format!("`{v}` is not one of {}", choices.join(", ")),
                    ))
                }
            }
            (OptionKind::Integer { min, max }, OptionValue::Integer(v)) => {
                if (*min..=*max).contains(v) {
                    Ok(())
                } else {
                    Err(Error::invalid(
                        param(),
                        format!("must be between {min} and {max}, got {v}"),
                    ))
                }
            }
            (OptionKind::Number { min, max }, OptionValue::Number(v)) => {
                if v.is_finite() && *v >= *min && *v <= *max {
                    Ok(())
                } else {
                    Err(Error::invalid(
                        param(),
                        format!("must be between {min} and {max}, got {v}"),
                    ))
                }
            }
            (OptionKind::Number { .. }, OptionValue::Integer(v)) => self.check(&OptionValue::Number(*v as f64)),
            (OptionKind::Bool, OptionValue::Bool(_)) | (OptionKind::Text, OptionValue::Text(_)) => Ok(()),
            (kind, value) => Err(Error::invalid(
                param(),
                format!("expected {}, got {value}", kind_name(kind)),
            )),
        }
    }
}

fn kind_name(kind: &OptionKind) -> String {
    match kind {
        OptionKind::Choice(choices) => format!("one of {}", choices.join(", ")),
        OptionKind::Integer { .. } => "a whole number".into(),
        OptionKind::Number { .. } => "a number".into(),
        OptionKind::Bool => "true or false".into(),
        OptionKind::Text => "text".into(),
    }
}

/// What one model accepts: the table that validation, `msgflux providers`
/// and the CLI's option parsing all read.
///
/// Build one with [`Capabilities::new`] and the `with_*` methods:
///
/// ```
/// use msgflux_core::{Capabilities, ImageFormat, MaskSupport, Size, SizeRule};
/// let caps = Capabilities::new()
///     .with_max_images(1)
///     .with_input_formats([ImageFormat::Png])
///     .with_max_input_bytes(4 * 1024 * 1024)
///     .with_square_input(true)
///     .with_sizes(SizeRule::OneOf(vec![Size::square(256), Size::square(512), Size::square(1024)]))
///     .with_n(1..=10)
///     .with_mask(MaskSupport::Optional);
/// assert_eq!(caps.max_images, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Whether the text prompt steers the result (false for content-aware fill).
    pub honours_prompt: bool,
    /// Longest prompt, in characters.
    pub max_prompt_chars: Option<usize>,
    /// Most input images in one request.
    pub max_images: usize,
    /// Accepted input formats (sniffed from bytes, not names).
    pub input_formats: Vec<ImageFormat>,
    /// Largest input file, in bytes.
    pub max_input_bytes: Option<u64>,
    /// Whether inputs must be square.
    pub square_input: bool,
    /// Whether a mask is accepted or required.
    pub mask: MaskSupport,
    /// Accepted mask formats.
    pub mask_formats: Vec<ImageFormat>,
    /// Whether the mask file must carry an alpha channel (OpenAI).
    pub mask_requires_alpha: bool,
    /// The convention the provider's own API uses (ours is always transparent = edit).
    pub mask_convention: MaskConvention,
    /// Accepted `n`.
    pub n: RangeInclusive<u32>,
    /// Accepted output sizes.
    pub sizes: SizeRule,
    /// Whether the model picks a size itself when asked for `auto`
    /// ([`OutputSize::Auto`]); false for models with a fixed default (dall-e-2).
    pub auto_size: bool,
    /// Accepted response formats.
    pub response_formats: Vec<ResponseFormat>,
    /// Whether a fixed seed gives repeatable output.
    pub seed: bool,
    /// Whether partial images can be streamed.
    pub streaming: bool,
    /// Provider-specific options, with their types.
    pub options: Vec<OptionSpec>,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self::new()
    }
}

impl Capabilities {
    /// A permissive starting point: one to sixteen images of any format, optional mask, `n` 1-10.
    pub fn new() -> Self {
        Self {
            honours_prompt: true,
            max_prompt_chars: None,
            max_images: 16,
            input_formats: ImageFormat::ALL.to_vec(),
            max_input_bytes: None,
            square_input: false,
            mask: MaskSupport::Optional,
            mask_formats: ImageFormat::ALL.to_vec(),
            mask_requires_alpha: false,
            mask_convention: MaskConvention::TransparentIsEdit,
            n: 1..=10,
            sizes: SizeRule::Any { max_side: 4096 },
            auto_size: true,
            response_formats: vec![ResponseFormat::Url, ResponseFormat::Base64],
            seed: false,
            streaming: false,
            options: Vec::new(),
        }
    }

    /// Sets [`Capabilities::honours_prompt`].
    pub fn with_honours_prompt(mut self, value: bool) -> Self {
        self.honours_prompt = value;
        self
    }
    /// Sets [`Capabilities::max_prompt_chars`].
    pub fn with_max_prompt_chars(mut self, value: usize) -> Self {
        self.max_prompt_chars = Some(value);
        self
    }
    /// Sets [`Capabilities::max_images`].
    pub fn with_max_images(mut self, value: usize) -> Self {
        self.max_images = value;
        self
    }
    /// Sets [`Capabilities::input_formats`].
    pub fn with_input_formats(mut self, values: impl IntoIterator<Item = ImageFormat>) -> Self {
        self.input_formats = values.into_iter().collect();
        self
    }
    /// Sets [`Capabilities::max_input_bytes`].
    pub fn with_max_input_bytes(mut self, value: u64) -> Self {
        self.max_input_bytes = Some(value);
        self
    }
    /// Sets [`Capabilities::square_input`].
    pub fn with_square_input(mut self, value: bool) -> Self {
        self.square_input = value;
        self
    }
    /// Sets [`Capabilities::mask`].
    pub fn with_mask(mut self, value: MaskSupport) -> Self {
        self.mask = value;
        self
    }
    /// Sets [`Capabilities::mask_formats`].
    pub fn with_mask_formats(mut self, values: impl IntoIterator<Item = ImageFormat>) -> Self {
        self.mask_formats = values.into_iter().collect();
        self
    }
    /// Sets [`Capabilities::mask_requires_alpha`].
    pub fn with_mask_requires_alpha(mut self, value: bool) -> Self {
        self.mask_requires_alpha = value;
        self
    }
    /// Sets [`Capabilities::mask_convention`].
    pub fn with_mask_convention(mut self, value: MaskConvention) -> Self {
        self.mask_convention = value;
        self
    }
    /// Sets [`Capabilities::n`].
    pub fn with_n(mut self, value: RangeInclusive<u32>) -> Self {
        self.n = value;
        self
    }
    /// Sets [`Capabilities::sizes`].
    pub fn with_sizes(mut self, value: SizeRule) -> Self {
        self.sizes = value;
        self
    }
    /// Sets [`Capabilities::auto_size`].
    pub fn with_auto_size(mut self, value: bool) -> Self {
        self.auto_size = value;
        self
    }
    /// Sets [`Capabilities::response_formats`].
    pub fn with_response_formats(mut self, values: impl IntoIterator<Item = ResponseFormat>) -> Self {
        self.response_formats = values.into_iter().collect();
        self
    }
    /// Sets [`Capabilities::seed`].
    pub fn with_seed(mut self, value: bool) -> Self {
        self.seed = value;
        self
    }
    /// Sets [`Capabilities::streaming`].
    pub fn with_streaming(mut self, value: bool) -> Self {
        self.streaming = value;
        self
    }
    /// Adds a provider-specific option.
    pub fn with_option(mut self, spec: OptionSpec) -> Self {
        self.options.push(spec);
        self
    }

    /// The spec of a provider-specific option, by name.
    pub fn option(&self, name: &str) -> Option<&OptionSpec> {
        self.options.iter().find(|o| o.name == name)
    }

    /// Whether the original is pasted back outside the mask after the
    /// provider answers: the request's `keep_unmasked` when set, otherwise on
    /// exactly for models that take no mask (the mask then only says what
    /// may change).
    pub fn keeps_unmasked<I>(&self, request: &crate::request::EditRequest<I>) -> bool {
        request.keep_unmasked.unwrap_or(self.mask == MaskSupport::Unsupported)
    }

    /// Checks a loaded request against this table and records every broken
    /// rule, each naming the parameter and the value that breaks it.
    ///
    /// ```
    /// use msgflux_core::{Capabilities, ImageFormat, kit::Violations};
    /// # let request = msgflux_core::kit::testkit::loaded_request(600, 400);
    /// let caps = Capabilities::new().with_input_formats([ImageFormat::Jpeg]).with_square_input(true);
    /// let mut violations = Violations::new();
    /// caps.check(&request, &mut violations);
    /// assert_eq!(violations.len(), 2); // PNG where JPEG is needed, and not square
    /// ```
    pub fn check(&self, request: &LoadedRequest, violations: &mut Violations) {
        if let Some(max) = self.max_prompt_chars {
            let chars = request.prompt.chars().count();
            if chars > max {
                violations.push(
                    "prompt",
                    format!("is {chars} characters long; this model accepts at most {max}"),
                );
            }
        }
        if self.honours_prompt && request.prompt.trim().is_empty() {
            violations.push("prompt", "must not be empty");
        }
        if request.images.is_empty() {
            violations.push("image", "at least one input image is required");
        }
        if request.images.len() > self.max_images {
            violations.push(
                "image",
                format!(
                    "{} images given; this model accepts at most {}",
                    request.images.len(),
                    self.max_images
                ),
            );
        }
        for (i, image) in request.images.iter().enumerate() {
            let param = image_param(i, request.images.len());
            if !self.input_formats.contains(&image.format) {
                violations.push(
                    &param,
                    format!(
                        "is {}; this model accepts {}",
                        image.format,
                        format_list(&self.input_formats)
                    ),
                );
            }
            if let Some(max) = self.max_input_bytes
                && image.bytes.len() as u64 > max
            {
                violations.push(
                    &param,
                    format!(
                        "is {} bytes; this model accepts at most {} bytes ({})",
                        image.bytes.len(),
                        max,
                        crate::format::human_bytes(max)
                    ),
                );
            }
            if self.square_input && image.width != image.height {
                violations.push(
                    &param,
                    format!("is {}x{}; this model needs a square image", image.width, image.height),
                );
            }
        }
        self.check_mask(request, violations);
        if !self.n.contains(&request.n) {
            violations.push(
                "n",
                format!(
                    "must be between {} and {} for this model, got {}",
                    self.n.start(),
                    self.n.end(),
                    request.n
                ),
            );
        }
        if !self.response_formats.contains(&request.response_format) {
            violations.push(
                "response_format",
                format!(
                    "`{}` is not supported; this model returns {}",
                    request.response_format,
                    self.response_formats
                        .iter()
                        .map(ResponseFormat::to_string)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            );
        }
        match request.size {
            Some(OutputSize::Exact(size)) => {
                if let Err(rule) = self.sizes.check(size) {
                    violations.push("size", rule);
                }
            }
            Some(OutputSize::Auto) if !self.auto_size => violations.push(
                "size",
                format!("this model has no automatic size; choose one of: {}", self.sizes),
            ),
            _ => {}
        }
        if request.seed.is_some() && !self.seed {
            violations.push("seed", "this model does not accept a seed");
        }
        for (name, value) in &request.options {
            let Some(spec) = self.option(name) else {
                let known: Vec<&str> = self.options.iter().map(|o| o.name.as_str()).collect();
                violations.push(
                    format!("option {name}"),
                    if known.is_empty() {
                        "this model accepts no provider options".to_string()
                    } else {
                        format!("is not accepted by this model; accepted: {}", known.join(", "))
                    },
                );
                continue;
            };
            if let Err(err) = spec.check(value) {
                violations.extend(err.violations());
            }
        }
    }

    fn check_mask(&self, request: &LoadedRequest, violations: &mut Violations) {
        let keep = self.keeps_unmasked(request);
        let Some(mask) = &request.mask else {
            if self.mask == MaskSupport::Required {
                violations.push(
                    "mask",
                    "this model only fills a masked area and needs a mask (alpha 0 = edit)",
                );
            }
            if request.keep_unmasked == Some(true) {
                violations.push(
                    "keep_unmasked",
                    "needs a mask: it keeps the pixels the mask marks as opaque (alpha 255)",
                );
            }
            return;
        };
        if let Some(first) = request.images.first()
            && (mask.width, mask.height) != (first.width, first.height)
        {
            violations.push(
                "mask",
                format!(
                    "mask is {}x{} but image is {}x{}; they must be the same size",
                    mask.width, mask.height, first.width, first.height
                ),
            );
        }
        if keep && !mask.has_alpha {
            violations.push(
                "mask",
                "has no alpha channel; to keep the rest of the image, the mask's transparent pixels (alpha 0) must mark the area to edit",
            );
        }
        if self.mask == MaskSupport::Unsupported {
            // The mask never reaches such a provider: it only says which
            // pixels the result may change, so it is fine in any format.
            if !keep {
                violations.push(
                    "mask",
                    "this model does not accept a mask; set keep_unmasked to paste the original back outside it instead",
                );
            }
            return;
        }
        if !self.mask_formats.contains(&mask.format) {
            violations.push(
                "mask",
                format!(
                    "is {}; this model accepts {}",
                    mask.format,
                    format_list(&self.mask_formats)
                ),
            );
        }
        if self.mask_requires_alpha && !mask.has_alpha {
            violations.push(
                "mask",
                "has no alpha channel; the mask must be a PNG whose transparent pixels (alpha 0) mark the area to edit",
            );
        }
        if let Some(max) = self.max_input_bytes
            && mask.bytes.len() as u64 > max
        {
            violations.push(
                "mask",
                format!(
                    "is {} bytes; this model accepts at most {}",
                    mask.bytes.len(),
                    crate::format::human_bytes(max)
                ),
            );
        }
    }
}

fn format_list(formats: &[ImageFormat]) -> String {
    formats
        .iter()
        .map(ImageFormat::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
