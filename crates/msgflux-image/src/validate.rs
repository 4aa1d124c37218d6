//! Checking a mask against its image and a provider's rules, before anything is sent.

use image::DynamicImage;
use msgflux_core::{Capabilities, DecodeLimits, Error, MaskConvention, Result, Size};

use crate::decode::decode;
use crate::mask::Mask;

/// What a provider accepts as a mask.
///
/// ```
/// use msgflux_core::Size;
/// use msgflux_image::{Mask, MaskRules, Rect};
/// let mask = Mask::rectangle(512, 512, Rect::new(0, 0, 10, 10));
/// let err = MaskRules::new().check(&mask, Size::square(1024)).unwrap_err();
/// assert_eq!(err.to_string(), "invalid mask: mask is 512x512 but image is 1024x1024; they must be the same size");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MaskRules {
    /// The mask file must carry an alpha channel (OpenAI).
    pub require_alpha: bool,
    /// A mask that edits nothing is refused (it would return the image unchanged, and still be billed).
    pub reject_empty: bool,
    /// A mask that edits everything is refused (for providers that want some context kept).
    pub reject_full: bool,
}

impl Default for MaskRules {
    fn default() -> Self {
        Self::new()
    }
}

impl MaskRules {
    /// Same size as the image and not empty; alpha not required; full allowed.
    pub fn new() -> Self {
        Self {
            require_alpha: false,
            reject_empty: true,
            reject_full: false,
        }
    }

    /// The rules a model states in its capabilities.
    pub fn from_capabilities(caps: &Capabilities) -> Self {
        Self {
            require_alpha: caps.mask_requires_alpha,
            ..Self::new()
        }
    }

    /// Sets [`MaskRules::require_alpha`].
    pub fn with_require_alpha(mut self, yes: bool) -> Self {
        self.require_alpha = yes;
        self
    }

    /// Sets [`MaskRules::reject_empty`].
    pub fn with_reject_empty(mut self, yes: bool) -> Self {
        self.reject_empty = yes;
        self
    }

    /// Sets [`MaskRules::reject_full`].
    pub fn with_reject_full(mut self, yes: bool) -> Self {
        self.reject_full = yes;
        self
    }

    /// Checks a mask against the size of its image and these rules.
    pub fn check(&self, mask: &Mask, image: Size) -> Result<()> {
        if mask.size() != image {
            return Err(Error::invalid(
                "mask",
                format!(
                    "mask is {} but image is {image}; they must be the same size",
                    mask.size()
                ),
            ));
        }
        if self.reject_empty && mask.is_empty() {
            return Err(Error::invalid(
                "mask",
                format!(
                    "edits nothing: no pixel of the {} mask is marked for editing (with transparent = edit, \
                     no pixel has alpha below 255)",
                    mask.size()
                ),
            ));
        }
        if self.reject_full && mask.is_full() {
            return Err(Error::invalid(
                "mask",
                format!(
                    "edits every pixel of the {} image; this model needs part of the image kept",
                    mask.size()
                ),
            ));
        }
        Ok(())
    }

    /// Checks a decoded mask image (in `convention`) against its image size and returns the mask.
    pub fn check_image(&self, mask: &DynamicImage, convention: MaskConvention, image: Size) -> Result<Mask> {
        if self.require_alpha && !mask.color().has_alpha() {
            return Err(Error::invalid(
                "mask",
                format!(
                    "the {}x{} mask has no alpha channel; this model needs a PNG whose transparent pixels \
                     (alpha 0) mark the area to edit",
                    mask.width(),
                    mask.height()
                ),
            ));
        }
        let size = Size::new(mask.width(), mask.height());
        if size != image {
            return Err(Error::invalid(
                "mask",
                format!("mask is {size} but image is {image}; they must be the same size"),
            ));
        }
        let mask = Mask::import(mask, convention, "mask")?;
        self.check(&mask, image)?;
        Ok(mask)
    }

    /// Decodes a mask file and checks it; see [`MaskRules::check_image`].
    pub fn check_file(&self, bytes: &[u8], convention: MaskConvention, image: Size) -> Result<Mask> {
        let decoded = decode(bytes, &DecodeLimits::default(), "mask")?;
        self.check_image(&decoded.image, convention, image)
    }
}
