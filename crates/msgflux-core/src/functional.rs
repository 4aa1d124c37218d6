//! Batch execution, after Python msgflux's `F.map_gather`: many edits with
//! bounded concurrency, per-item timeouts that really cancel, results in input
//! order, and one item's failure kept to that item.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use futures::stream::BoxStream;

use crate::error::Result;
use crate::model::Model;
use crate::pipeline::with_deadline;
use crate::request::EditRequest;
use crate::response::EditResponse;

/// How a batch runs.
///
/// ```
/// use std::time::Duration;
/// use msgflux_core::functional::BatchOptions;
/// let options = BatchOptions::default()
///     .concurrency(8)
///     .timeout(Duration::from_secs(120))
///     .on_progress(|p| eprintln!("{}/{} done", p.done, p.total));
/// assert_eq!(options.concurrency_limit(), 8);
/// ```
#[derive(Clone)]
pub struct BatchOptions {
    concurrency: usize,
    timeout: Option<Duration>,
    progress: Option<Arc<dyn Fn(BatchProgress) + Send + Sync>>,
}

impl fmt::Debug for BatchOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchOptions")
            .field("concurrency", &self.concurrency)
            .field("timeout", &self.timeout)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .finish()
    }
}

/// Four edits at a time: enough to hide latency, few enough to stay under
/// typical per-minute rate limits.
pub const DEFAULT_CONCURRENCY: usize = 4;

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            timeout: None,
            progress: None,
        }
    }
}

impl BatchOptions {
    /// Most items in flight at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Time limit per item; an item over it is cancelled and becomes an
    /// [`Error::Timeout`](crate::Error::Timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Called after each item finishes, from the task that runs the batch.
    pub fn on_progress(mut self, callback: impl Fn(BatchProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// The concurrency limit.
    pub fn concurrency_limit(&self) -> usize {
        self.concurrency
    }
}

/// Progress after one item finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchProgress {
    /// Index of the item that just finished.
    pub index: usize,
    /// Whether it succeeded.
    pub ok: bool,
    /// Items finished so far.
    pub done: usize,
    /// Of which failed.
    pub failed: usize,
    /// Items in the batch.
    pub total: usize,
    /// Time since the batch started.
    pub elapsed: Duration,
}

/// Runs every item through `model` and returns the results in input order.
///
/// Items are anything that converts into an [`EditRequest`]: a full request,
/// `(prompt, image)` or `(prompt, image, mask)`.
///
/// ```no_run
/// # async fn demo(model: msgflux_core::Model) {
/// use msgflux_core::functional::{map_gather, BatchOptions};
/// let jobs = vec![
///     ("Put this on a beach", "shoe.png", "shoe_mask.png"),
///     ("Put this on a beach", "bag.png", "bag_mask.png"),
/// ];
/// let results = map_gather(&model, jobs, BatchOptions::default().concurrency(2)).await;
/// for (job, result) in results.iter().enumerate() {
///     match result {
///         Ok(response) => println!("{job}: {:?}", response.consume()),
///         Err(err) => eprintln!("{job} failed: {err}"),
///     }
/// }
/// # }
/// ```
pub async fn map_gather<T>(
    model: &Model,
    items: impl IntoIterator<Item = T>,
    options: BatchOptions,
) -> Vec<Result<EditResponse>>
where
    T: Into<EditRequest>,
{
    let requests: Vec<EditRequest> = items.into_iter().map(Into::into).collect();
    let mut slots: Vec<Option<Result<EditResponse>>> = (0..requests.len()).map(|_| None).collect();
    let mut stream = map_stream(model, requests, options);
    while let Some((index, result)) = stream.next().await {
        slots[index] = Some(result);
    }
    slots
        .into_iter()
        .map(|slot| slot.unwrap_or_else(|| Err(crate::Error::config("batch item was never run"))))
        .collect()
}

/// Like [`map_gather`], but yields `(index, result)` as each item finishes,
/// for UIs that show results as they arrive.
pub fn map_stream<T>(
    model: &Model,
    items: impl IntoIterator<Item = T>,
    options: BatchOptions,
) -> BoxStream<'static, (usize, Result<EditResponse>)>
where
    T: Into<EditRequest>,
{
    let requests: Vec<EditRequest> = items.into_iter().map(Into::into).collect();
    let total = requests.len();
    let started = Instant::now();
    let model = model.clone();
    let BatchOptions {
        concurrency,
        timeout,
        progress,
    } = options;
    let provider = model.provider().name().to_string();
    let mut done = 0;
    let mut failed = 0;
    futures::stream::iter(requests.into_iter().enumerate())
        .map(move |(index, request)| {
            let model = model.clone();
            let provider = provider.clone();
            async move {
                let result = with_deadline(&provider, timeout, model.call(request)).await;
                (index, result)
            }
        })
        .buffer_unordered(concurrency)
        .map(move |(index, result)| {
            done += 1;
            if result.is_err() {
                failed += 1;
            }
            if let Some(callback) = &progress {
                callback(BatchProgress {
                    index,
                    ok: result.is_ok(),
                    done,
                    failed,
                    total,
                    elapsed: started.elapsed(),
                });
            }
            (index, result)
        })
        .boxed()
}
