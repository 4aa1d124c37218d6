//! One multi-threaded Tokio runtime for the whole process (pyo3-async-runtimes'),
//! so blocking calls, `acall`s from any event loop and batches share its
//! worker threads and the providers' connection pools.

use std::future::Future;
use std::time::Duration;

use pyo3::prelude::*;

/// How often a blocking call looks for Ctrl-C while it waits.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Runs `work` to completion on the shared runtime with the GIL released, so
/// other Python threads run meanwhile. Ctrl-C (a pending `KeyboardInterrupt`)
/// drops `work`, which cancels it.
pub(crate) fn block_on<F>(py: Python<'_>, work: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    py.detach(|| {
        pyo3_async_runtimes::tokio::get_runtime().block_on(async {
            let mut work = std::pin::pin!(work);
            loop {
                tokio::select! {
                    output = &mut work => return Ok(output),
                    () = tokio::time::sleep(SIGNAL_CHECK_INTERVAL) => {
                        Python::attach(|py| py.check_signals())?;
                    }
                }
            }
        })
    })
}

/// An asyncio awaitable for `work`, run on the shared runtime; cancelling the
/// awaitable drops `work`.
pub(crate) fn awaitable<'py, F, T>(py: Python<'py>, work: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    pyo3_async_runtimes::tokio::future_into_py(py, work)
}
