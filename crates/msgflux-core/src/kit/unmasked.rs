//! The keep-unmasked step's plug-in point. The pipeline in
//! [`Model`](crate::Model) decides when to paste the original back outside
//! the mask; the pixel work lives in `msgflux-image`, which registers itself
//! here at link time (core cannot depend on it: it depends on core).

use bytes::Bytes;

use crate::error::Result;
use crate::input::LoadedImage;
use crate::response::UnmaskedReport;

/// Pastes the original back outside the mask and measures what the provider
/// had changed there. Implemented once, by `msgflux-image`.
pub trait KeepUnmasked: Send + Sync + 'static {
    /// `original` is the first input image, `mask` the request's mask
    /// (transparent = edit), `result` the bytes of one result image; `what`
    /// names it in errors (`result 0`). Returns the composited image file
    /// and the report.
    fn keep_unmasked(
        &self,
        original: &LoadedImage,
        mask: &LoadedImage,
        result: &[u8],
        what: &str,
    ) -> Result<KeptUnmasked>;
}

/// A result with the original pasted back outside the mask.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeptUnmasked {
    /// The composited image file.
    pub bytes: Bytes,
    /// What the provider had changed outside the mask, and what was done.
    pub report: UnmaskedReport,
}

impl KeptUnmasked {
    /// A composited file and its report.
    pub fn new(bytes: impl Into<Bytes>, report: UnmaskedReport) -> Self {
        Self {
            bytes: bytes.into(),
            report,
        }
    }
}

#[doc(hidden)]
pub struct SubmittedKeepUnmasked(pub &'static dyn KeepUnmasked);

impl std::fmt::Debug for SubmittedKeepUnmasked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubmittedKeepUnmasked")
    }
}

inventory::collect!(SubmittedKeepUnmasked);

/// Registers the keep-unmasked implementation at link time (`msgflux-image` does, once).
#[macro_export]
macro_rules! register_keep_unmasked {
    ($implementation:expr $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::kit::SubmittedKeepUnmasked(&$implementation)
        }
    };
}

/// The linked implementation, if any.
pub(crate) fn linked() -> Option<&'static dyn KeepUnmasked> {
    inventory::iter::<SubmittedKeepUnmasked>.into_iter().next().map(|s| s.0)
}
