//! One model per edit service: `stability/<service>`, its endpoint, its
//! capability table (as data), and the limits the table cannot express,
//! which [`crate::StabilityProvider`] checks before sending.
//!
//! Source: Stability AI's v2beta OpenAPI document (served at
//! `https://api.stability.ai/v2alpha/openapi`, `info.version` v2beta),
//! snapshot of 2026-09-22, and the reference pages at
//! platform.stability.ai/docs/api-reference; read on [`CAPABILITIES_READ_ON`].

use std::sync::OnceLock;

use msgflux_core::{Capabilities, ImageFormat, MaskConvention, MaskSupport, OptionSpec, ResponseFormat, SizeRule};

/// When the tables below were checked against the sources.
pub const CAPABILITIES_READ_ON: &str = "2026-12-01";

/// The model ids this crate knows, one per edit service.
pub const KNOWN_MODELS: &[&str] = &[
    "inpaint",
    "outpaint",
    "erase",
    "search-and-replace",
    "search-and-recolor",
    "remove-background",
    "replace-background-and-relight",
];

/// The 17 style presets the document lists.
const STYLE_PRESETS: &[&str] = &[
    "enhance",
    "anime",
    "photographic",
    "digital-art",
    "comic-book",
    "fantasy-art",
    "line-art",
    "analog-film",
    "neon-punk",
    "isometric",
    "low-poly",
    "origami",
    "modeling-compound",
    "cinematic",
    "3d-model",
    "pixel-art",
    "tile-texture",
];

/// Longest prompt (and negative, search, select prompt) the document allows.
pub(crate) const MAX_PROMPT_CHARS: usize = 10_000;
/// Largest seed; 0 asks for a random one.
pub(crate) const MAX_SEED: u64 = 4_294_967_294;
/// Largest request body the API takes (the document's 413: "larger than 10MiB").
pub(crate) const MAX_REQUEST_BYTES: u64 = 10 * 1024 * 1024;
/// Smallest side of an input.
pub(crate) const MIN_SIDE: u32 = 64;
/// Fewest pixels of an input.
pub(crate) const MIN_PIXELS: u64 = 4_096;

/// A Stability AI edit service (one model id each).
///
/// ```
/// use msgflux_stability::Service;
/// let service = Service::from_model("search-and-replace").unwrap();
/// assert_eq!(service.path(), "/v2beta/stable-image/edit/search-and-replace");
/// assert_eq!(service.credits(), 5.0);
/// assert!(Service::from_model("upscale").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Service {
    /// Fills a masked area from the prompt.
    Inpaint,
    /// Extends the canvas in up to four directions.
    Outpaint,
    /// Removes what the mask covers (no prompt).
    Erase,
    /// Replaces what `search_prompt` names with the prompt, no mask.
    SearchAndReplace,
    /// Recolours what `select_prompt` names as the prompt says, no mask.
    SearchAndRecolor,
    /// Makes the background transparent (no prompt).
    RemoveBackground,
    /// Replaces the background from the prompt and relights the subject (asynchronous).
    ReplaceBackgroundAndRelight,
}

impl Service {
    /// Every service, in [`KNOWN_MODELS`] order.
    pub const ALL: [Service; 7] = [
        Self::Inpaint,
        Self::Outpaint,
        Self::Erase,
        Self::SearchAndReplace,
        Self::SearchAndRecolor,
        Self::RemoveBackground,
        Self::ReplaceBackgroundAndRelight,
    ];

    /// The service of a model id (`inpaint`), if it is one.
    pub fn from_model(model: &str) -> Option<Self> {
        let model = model.trim();
        Self::ALL.into_iter().find(|s| s.model() == model)
    }

    /// The model id (the part after `stability/`).
    pub fn model(self) -> &'static str {
        match self {
            Self::Inpaint => "inpaint",
            Self::Outpaint => "outpaint",
            Self::Erase => "erase",
            Self::SearchAndReplace => "search-and-replace",
            Self::SearchAndRecolor => "search-and-recolor",
            Self::RemoveBackground => "remove-background",
            Self::ReplaceBackgroundAndRelight => "replace-background-and-relight",
        }
    }

    /// The endpoint path.
    pub fn path(self) -> String {
        format!("/v2beta/stable-image/edit/{}", self.model())
    }

    /// Whether the service answers with a generation id to poll.
    pub fn is_async(self) -> bool {
        self == Self::ReplaceBackgroundAndRelight
    }

    /// Credits per successful generation (failures are not charged).
    pub fn credits(self) -> f64 {
        match self {
            Self::Outpaint => 4.0,
            Self::ReplaceBackgroundAndRelight => 8.0,
            _ => 5.0,
        }
    }

    /// The multipart field of the input image.
    pub(crate) fn image_field(self) -> &'static str {
        if self.is_async() { "subject_image" } else { "image" }
    }

    /// Whether the prompt is sent (erase and remove-background take none).
    pub(crate) fn sends_prompt(self) -> bool {
        !matches!(self, Self::Erase | Self::RemoveBackground)
    }

    /// The multipart field the prompt goes in.
    pub(crate) fn prompt_field(self) -> &'static str {
        if self.is_async() { "background_prompt" } else { "prompt" }
    }

    /// The option this service cannot run without.
    pub(crate) fn required_option(self) -> Option<&'static str> {
        match self {
            Self::SearchAndReplace => Some("search_prompt"),
            Self::SearchAndRecolor => Some("select_prompt"),
            _ => None,
        }
    }

    /// Largest pixel count of the input.
    pub(crate) fn max_pixels(self) -> u64 {
        if self == Self::RemoveBackground {
            4_194_304
        } else {
            9_437_184
        }
    }

    /// Whether the input's aspect ratio must lie between 1:2.5 and 2.5:1.
    pub(crate) fn limits_aspect_ratio(self) -> bool {
        matches!(
            self,
            Self::Outpaint | Self::SearchAndReplace | Self::SearchAndRecolor | Self::ReplaceBackgroundAndRelight
        )
    }

    /// The capability table of the service's model.
    ///
    /// ```
    /// use msgflux_core::{MaskConvention, MaskSupport};
    /// use msgflux_stability::Service;
    /// let inpaint = Service::Inpaint.capabilities();
    /// assert_eq!(inpaint.mask, MaskSupport::Required);
    /// assert_eq!(inpaint.mask_convention, MaskConvention::WhiteIsEdit);
    /// assert!(inpaint.option("grow_mask").is_some());
    /// assert_eq!(Service::SearchAndReplace.capabilities().mask, MaskSupport::Unsupported);
    /// ```
    pub fn capabilities(self) -> &'static Capabilities {
        static TABLES: OnceLock<Vec<Capabilities>> = OnceLock::new();
        let tables = TABLES.get_or_init(|| Self::ALL.into_iter().map(table).collect());
        &tables[Self::ALL.iter().position(|s| *s == self).unwrap_or(0)]
    }
}

fn output_format(with_jpeg: bool) -> OptionSpec {
    let formats: &[&str] = if with_jpeg {
        &["png", "jpeg", "webp"]
    } else {
        &["png", "webp"]
    };
    OptionSpec::choice("output_format", formats, "format of the result (default png)")
}

/// The values of relight's `references` option: the roles of the images after the subject, in order.
pub(crate) const REFERENCE_ROLES: &[&str] = &["background", "light", "background,light"];

/// The form fields of relight's reference images, by role.
pub(crate) fn reference_field(role: &str) -> Option<&'static str> {
    match role {
        "background" => Some("background_reference"),
        "light" => Some("light_reference"),
        _ => None,
    }
}

fn style_preset() -> OptionSpec {
    OptionSpec::choice("style_preset", STYLE_PRESETS, "a style the result is guided towards")
}

fn negative_prompt() -> OptionSpec {
    OptionSpec::text(
        "negative_prompt",
        "what the result should not show (up to 10,000 characters)",
    )
}

fn grow_mask(max: i64) -> OptionSpec {
    OptionSpec::integer(
        "grow_mask",
        0..=max,
        "pixels the edit area grows by, with a blurred edge (default 5, or 3 for the search services)",
    )
}

fn table(service: Service) -> Capabilities {
    let base = Capabilities::new()
        .with_max_prompt_chars(MAX_PROMPT_CHARS)
        .with_max_images(1)
        .with_input_formats([ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Webp])
        .with_max_input_bytes(MAX_REQUEST_BYTES)
        .with_n(1..=4)
        // The service decides the size (inpaint and erase answer about 4 megapixels; outpaint grows).
        .with_sizes(SizeRule::InputSize)
        .with_auto_size(true)
        .with_response_formats([ResponseFormat::Url, ResponseFormat::Base64])
        .with_seed(service != Service::RemoveBackground)
        .with_mask(MaskSupport::Unsupported)
        .with_mask_convention(MaskConvention::WhiteIsEdit);
    let masked = |caps: Capabilities| {
        caps.with_mask(MaskSupport::Required).with_mask_formats([
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Webp,
        ])
    };
    match service {
        Service::Inpaint => masked(base)
            .with_option(negative_prompt())
            .with_option(grow_mask(100))
            .with_option(style_preset())
            .with_option(output_format(true)),
        Service::Erase => masked(base)
            .with_honours_prompt(false)
            .with_option(grow_mask(20))
            .with_option(output_format(true)),
        Service::Outpaint => {
            let mut caps = base;
            for side in ["left", "right", "up", "down"] {
                caps = caps.with_option(OptionSpec::integer(
                    side,
                    0..=2000,
                    "pixels to add on this side (at least one side above zero)",
                ));
            }
            caps.with_option(OptionSpec::number(
                "creativity",
                0.0..=1.0,
                "how much new detail the added area may invent (default 0.5)",
            ))
            .with_option(style_preset())
            .with_option(output_format(true))
        }
        Service::SearchAndReplace | Service::SearchAndRecolor => {
            let (name, help) = if service == Service::SearchAndReplace {
                (
                    "search_prompt",
                    "what to find and replace (required; up to 10,000 characters)",
                )
            } else {
                (
                    "select_prompt",
                    "what to find and recolour (required; up to 10,000 characters)",
                )
            };
            base.with_option(OptionSpec::text(name, help))
                .with_option(negative_prompt())
                .with_option(grow_mask(20))
                .with_option(style_preset())
                .with_option(output_format(true))
        }
        Service::RemoveBackground => base.with_honours_prompt(false).with_option(output_format(false)),
        Service::ReplaceBackgroundAndRelight => base
            // The subject, then up to two reference images (their roles: option `references`).
            .with_max_images(3)
            .with_option(OptionSpec::choice(
                "references",
                REFERENCE_ROLES,
                "what the images after the subject are: background (a style for the new background), light (where it is bright), or background,light (default by count: one image = background, two = background,light)",
            ))
            .with_option(OptionSpec::text(
                "foreground_prompt",
                "what the subject is, to keep it intact (up to 10,000 characters)",
            ))
            .with_option(negative_prompt())
            .with_option(OptionSpec::number(
                "preserve_original_subject",
                0.0..=1.0,
                "how closely the subject keeps its look (default 0.6)",
            ))
            .with_option(OptionSpec::number(
                "original_background_depth",
                0.0..=1.0,
                "how much of the original background's depth is kept (default 0.5)",
            ))
            .with_option(OptionSpec::bool(
                "keep_original_background",
                "relight only, keeping the background (default false)",
            ))
            .with_option(OptionSpec::choice(
                "light_source_direction",
                &["left", "right", "above", "below"],
                "where the new light comes from",
            ))
            .with_option(OptionSpec::number(
                "light_source_strength",
                0.0..=1.0,
                "strength of the light source (default 0.3; needs light_source_direction)",
            ))
            .with_option(output_format(true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_model_is_a_service_with_its_own_table() {
        for model in KNOWN_MODELS {
            let service = Service::from_model(model).expect("a service");
            assert_eq!(service.model(), *model);
            assert!(service.capabilities().options.iter().any(|o| o.name == "output_format"));
        }
    }

    #[test]
    fn only_inpaint_and_erase_take_a_mask() {
        for service in Service::ALL {
            let takes = service.capabilities().mask == MaskSupport::Required;
            assert_eq!(
                takes,
                matches!(service, Service::Inpaint | Service::Erase),
                "{service:?}"
            );
        }
    }
}
