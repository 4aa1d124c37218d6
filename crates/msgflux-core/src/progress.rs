//! Per-call progress: what one edit is doing while the caller waits.
//!
//! Asynchronous providers (a queue, a job that is polled, an upload before
//! the request) can take minutes; a caller that shows nothing looks hung.
//! A request carries an optional [`ProgressSink`]; the pipeline reports
//! [`Progress::Checked`] once every rule passed, and providers report what
//! only they know (uploads, queue position, running, downloads). Reporting is
//! synchronous and cheap: the callback must not block (hand work to a channel).

use std::fmt;
use std::sync::Arc;

/// One step of one edit, in the order they usually happen.
///
/// ```
/// use msgflux_core::Progress;
/// let step = Progress::Queued { position: Some(3) };
/// assert_eq!(step.to_string(), "waiting in the provider's queue (position 3)");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Progress {
    /// Every input was loaded and every rule passed: the request is about to
    /// be sent. Nothing has been sent or billed before this step.
    Checked,
    /// An input is being uploaded to the provider's storage before the request.
    Uploading {
        /// The input's parameter name (`image`, `image[1]`, `mask`).
        input: String,
        /// Its size in bytes.
        bytes: u64,
    },
    /// The provider accepted the job (billing may start from here).
    Submitted {
        /// The provider's id of the job, where it gives one.
        request_id: Option<String>,
    },
    /// Waiting in the provider's queue.
    Queued {
        /// Place in the queue (0 = next), where the provider says.
        position: Option<u64>,
    },
    /// The provider is working on the edit.
    Running,
    /// A partial image arrived (streaming providers).
    PartialImage {
        /// Which partial image (0-based).
        index: u32,
    },
    /// The results are being downloaded from the provider.
    Downloading {
        /// How many images.
        images: usize,
    },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Checked => f.write_str("checked; sending"),
            Self::Uploading { input, bytes } => {
                write!(f, "uploading {input} ({})", crate::format::human_bytes(*bytes))
            }
            Self::Submitted { request_id: Some(id) } => write!(f, "submitted (request {id})"),
            Self::Submitted { request_id: None } => f.write_str("submitted"),
            Self::Queued { position: Some(p) } => write!(f, "waiting in the provider's queue (position {p})"),
            Self::Queued { position: None } => f.write_str("waiting in the provider's queue"),
            Self::Running => f.write_str("running"),
            Self::PartialImage { index } => write!(f, "partial image {index} received"),
            Self::Downloading { images: 1 } => f.write_str("downloading the result"),
            Self::Downloading { images } => write!(f, "downloading {images} results"),
        }
    }
}

/// Where one request's [`Progress`] goes: a cheap, cloneable callback.
///
/// Set it with [`EditRequest::on_progress`](crate::EditRequest::on_progress);
/// providers report through [`ProgressSink::report`] (or
/// [`EditRequest::report`](crate::EditRequest::report)).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use msgflux_core::{Progress, ProgressSink};
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = ProgressSink::new({
///     let seen = seen.clone();
///     move |step: &Progress| seen.lock().unwrap().push(step.clone())
/// });
/// sink.report(Progress::Running);
/// assert_eq!(*seen.lock().unwrap(), vec![Progress::Running]);
/// ```
#[derive(Clone)]
pub struct ProgressSink(Arc<dyn Fn(&Progress) + Send + Sync>);

impl ProgressSink {
    /// A sink that calls `f` for every step.
    pub fn new(f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Reports one step.
    pub fn report(&self, step: Progress) {
        (self.0)(&step);
    }
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressSink")
    }
}

/// Reports `step` to `sink` when there is one (the form providers use with
/// the sink they cloned out of the request).
///
/// ```
/// msgflux_core::kit::report(None, msgflux_core::Progress::Running); // no sink: nothing happens
/// ```
pub fn report(sink: Option<&ProgressSink>, step: Progress) {
    if let Some(sink) = sink {
        sink.report(step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_reads_as_a_sentence() {
        let steps = [
            Progress::Checked,
            Progress::Uploading {
                input: "mask".into(),
                bytes: 2048,
            },
            Progress::Submitted {
                request_id: Some("r1".into()),
            },
            Progress::Queued { position: None },
            Progress::Running,
            Progress::PartialImage { index: 0 },
            Progress::Downloading { images: 2 },
        ];
        for step in steps {
            assert!(!step.to_string().is_empty(), "{step:?}");
        }
        assert_eq!(
            Progress::Uploading {
                input: "mask".into(),
                bytes: 2048
            }
            .to_string(),
            "uploading mask (2 KB)"
        );
    }
}
