//! Typed OpenAI edit options. They become the request's provider options
//! (name → value), which the model's capability table checks before sending.

use std::collections::BTreeMap;
use std::fmt;

use msgflux_core::{IntoOptions, OptionValue};

/// The option names, as the API spells the multipart fields.
pub(crate) mod names {
    pub const QUALITY: &str = "quality";
    pub const BACKGROUND: &str = "background";
    pub const OUTPUT_FORMAT: &str = "output_format";
    pub const OUTPUT_COMPRESSION: &str = "output_compression";
    pub const INPUT_FIDELITY: &str = "input_fidelity";
    pub const USER: &str = "user";
    pub const PARTIAL_IMAGES: &str = "partial_images";
}

macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// The word the API uses.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum!(
    /// Rendering quality (`quality`). GPT image models take `low`, `medium`,
    /// `high` or `auto`; dall-e-2 only `standard`.
    ///
    /// ```
    /// assert_eq!(msgflux_openai::Quality::High.as_str(), "high");
    /// ```
    Quality {
        /// dall-e-2's only quality.
        Standard => "standard",
        /// Fastest and cheapest.
        Low => "low",
        /// Balanced.
        Medium => "medium",
        /// Best and most expensive.
        High => "high",
        /// The model decides (the default).
        Auto => "auto",
    }
);

word_enum!(
    /// Background of the result (`background`, GPT image models). `transparent`
    /// needs a `png` or `webp` output format.
    ///
    /// ```
    /// assert_eq!(msgflux_openai::Background::Transparent.to_string(), "transparent");
    /// ```
    Background {
        /// Keep transparency.
        Transparent => "transparent",
        /// Always opaque.
        Opaque => "opaque",
        /// The model decides (the default).
        Auto => "auto",
    }
);

word_enum!(
    /// File format of the result (`output_format`, GPT image models; default `png`).
    ///
    /// ```
    /// assert_eq!(msgflux_openai::OutputFormat::Webp.as_str(), "webp");
    /// ```
    OutputFormat {
        /// PNG (lossless; the default).
        Png => "png",
        /// JPEG (lossy; takes `output_compression`).
        Jpeg => "jpeg",
        /// WebP (lossy; takes `output_compression`).
        Webp => "webp",
    }
);

word_enum!(
    /// How closely the model follows the input images' details, faces
    /// especially (`input_fidelity`; GPT image models except gpt-image-1-mini).
    ///
    /// ```
    /// assert_eq!(msgflux_openai::InputFidelity::High.as_str(), "high");
    /// ```
    InputFidelity {
        /// Keep details (more input tokens).
        High => "high",
        /// The default.
        Low => "low",
    }
);

/// Every OpenAI-specific edit option, typed. Unset fields are not sent.
///
/// Hand it to [`EditBuilder::options`](msgflux_core::EditBuilder::options) or
/// [`EditRequest::options`](msgflux_core::EditRequest::options); the model's
/// capability table then checks each value, so an option the model does not
/// take (such as `input_fidelity` on gpt-image-1-mini) is an error before
/// anything is sent.
///
/// ```
/// use msgflux_core::{EditRequest, OptionValue};
/// use msgflux_openai::{OpenAIEditOptions, OutputFormat, Quality};
///
/// let request = EditRequest::new("Add a sunset sky").image("photo.png").options(
///     OpenAIEditOptions::new()
///         .with_quality(Quality::High)
///         .with_output_format(OutputFormat::Webp)
///         .with_output_compression(80),
/// );
/// assert_eq!(request.get_option("quality"), Some(&OptionValue::Text("high".into())));
/// assert_eq!(request.get_option("output_compression"), Some(&OptionValue::Integer(80)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenAIEditOptions {
    /// `quality`.
    pub quality: Option<Quality>,
    /// `background`.
    pub background: Option<Background>,
    /// `output_format`.
    pub output_format: Option<OutputFormat>,
    /// `output_compression`, 0-100 (only with `jpeg` or `webp`).
    pub output_compression: Option<u8>,
    /// `input_fidelity`.
    pub input_fidelity: Option<InputFidelity>,
    /// `user`: an end-user id that helps OpenAI detect abuse.
    pub user: Option<String>,
    /// `partial_images`, 0-3: partial images to stream (only for streamed edits).
    pub partial_images: Option<u8>,
}

impl OpenAIEditOptions {
    /// No options set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `quality`.
    pub fn with_quality(mut self, quality: Quality) -> Self {
        self.quality = Some(quality);
        self
    }

    /// Sets `background`.
    pub fn with_background(mut self, background: Background) -> Self {
        self.background = Some(background);
        self
    }

    /// Sets `output_format`.
    pub fn with_output_format(mut self, format: OutputFormat) -> Self {
        self.output_format = Some(format);
        self
    }

    /// Sets `output_compression` (0-100).
    pub fn with_output_compression(mut self, percent: u8) -> Self {
        self.output_compression = Some(percent);
        self
    }

    /// Sets `input_fidelity`.
    pub fn with_input_fidelity(mut self, fidelity: InputFidelity) -> Self {
        self.input_fidelity = Some(fidelity);
        self
    }

    /// Sets `user`.
    pub fn with_user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Sets `partial_images` (0-3).
    pub fn with_partial_images(mut self, count: u8) -> Self {
        self.partial_images = Some(count);
        self
    }
}

impl IntoOptions for OpenAIEditOptions {
    fn into_options(self) -> BTreeMap<String, OptionValue> {
        let mut options = BTreeMap::new();
        let mut put = |name: &str, value: Option<OptionValue>| {
            if let Some(value) = value {
                options.insert(name.to_string(), value);
            }
        };
        put(names::QUALITY, self.quality.map(|v| v.as_str().into()));
        put(names::BACKGROUND, self.background.map(|v| v.as_str().into()));
        put(names::OUTPUT_FORMAT, self.output_format.map(|v| v.as_str().into()));
        put(
            names::OUTPUT_COMPRESSION,
            self.output_compression.map(|v| OptionValue::Integer(v.into())),
        );
        put(names::INPUT_FIDELITY, self.input_fidelity.map(|v| v.as_str().into()));
        put(names::USER, self.user.map(OptionValue::Text));
        put(
            names::PARTIAL_IMAGES,
            self.partial_images.map(|v| OptionValue::Integer(v.into())),
        );
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_options_are_left_out() {
        assert!(OpenAIEditOptions::new().into_options().is_empty());
    }

    #[test]
    fn every_typed_option_becomes_its_api_field() {
        let options = OpenAIEditOptions::new()
            .with_quality(Quality::Low)
            .with_background(Background::Opaque)
            .with_output_format(OutputFormat::Jpeg)
            .with_output_compression(50)
            .with_input_fidelity(InputFidelity::High)
            .with_user("user-1")
            .with_partial_images(2)
            .into_options();
        let names: Vec<&str> = options.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "background",
                "input_fidelity",
                "output_compression",
                "output_format",
                "partial_images",
                "quality",
                "user"
            ]
        );
        assert_eq!(options["output_format"], OptionValue::Text("jpeg".into()));
        assert_eq!(options["partial_images"], OptionValue::Integer(2));
    }
}
