//! Stopping a fill that nobody waits for any more.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use msgflux_core::{Error, ProviderError, Result};

use crate::registration::LOCAL_SCHEME;

/// A flag that asks a running fill to stop. Clones share the flag.
///
/// The fills check it between passes (and between strips of rows inside a
/// pass), so a cancelled fill returns [`Error::Cancelled`] within one
/// strip's work, a few milliseconds on a megapixel image.
///
/// ```
/// use msgflux_local::CancelFlag;
/// let flag = CancelFlag::new();
/// let seen_by_worker = flag.clone();
/// flag.cancel();
/// assert!(seen_by_worker.is_cancelled());
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the fill to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once [`CancelFlag::cancel`] was called on this flag or a clone.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Error::Cancelled)` once cancelled.
    pub(crate) fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled(Box::new(ProviderError::new(
                LOCAL_SCHEME,
                "the fill was cancelled before it finished",
            ))))
        } else {
            Ok(())
        }
    }

    /// A guard that sets the flag when dropped: held by the future that waits
    /// for a fill, so dropping that future (a timeout, a cancelled task) stops the fill.
    pub(crate) fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Sets its flag when dropped.
#[derive(Debug)]
pub(crate) struct CancelOnDrop(CancelFlag);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}
