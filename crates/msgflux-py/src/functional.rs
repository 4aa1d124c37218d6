//! What `msgflux_rs.nn.functional.map_gather` (and `amap_gather`) run: many edits
//! through one model, with bounded concurrency, a per-item timeout that
//! cancels the item, results in input order, and one item's failure kept
//! to that item.

use std::future::Future;

use msgflux::functional::{BatchOptions, DEFAULT_CONCURRENCY, map_gather as gather};
use msgflux::{EditRequest, EditResponse, InputLoader};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::errors::{batch_error, exception, invalid};
use crate::model::Model;
use crate::request::{edit_request, seconds};
use crate::response::Response;
use crate::runtime::{awaitable, block_on};

/// A batch with its requests built (while the GIL is held): what
/// `map_gather` and `amap_gather` (thin Python functions in
/// `msgflux_rs/nn/functional.py`) run.
#[pyclass(frozen, module = "msgflux_rs")]
pub(crate) struct Batch {
    model: msgflux::Model,
    requests: Vec<EditRequest>,
    options: BatchOptions,
    return_exceptions: bool,
}

#[pymethods]
impl Batch {
    #[new]
    #[pyo3(signature = (model, args_list=None, kwargs_list=None, concurrency=DEFAULT_CONCURRENCY, timeout=None, return_exceptions=false))]
    fn new(
        model: &Bound<'_, Model>,
        args_list: Option<Bound<'_, PyAny>>,
        kwargs_list: Option<Bound<'_, PyAny>>,
        concurrency: usize,
        timeout: Option<Bound<'_, PyAny>>,
        return_exceptions: bool,
    ) -> PyResult<Self> {
        let py = model.py();
        let args: Vec<Bound<'_, PyAny>> = args_list.map(|a| a.extract()).transpose()?.unwrap_or_default();
        let kwargs: Vec<Bound<'_, PyAny>> = kwargs_list.map(|k| k.extract()).transpose()?.unwrap_or_default();
        if !args.is_empty() && !kwargs.is_empty() && args.len() != kwargs.len() {
            return Err(invalid(
                "kwargs_list",
                format!("has {} items but args_list has {}", kwargs.len(), args.len()),
            ));
        }
        let empty = PyTuple::empty(py);
        let requests = (0..args.len().max(kwargs.len()))
            .map(|i| {
                let item_args = match args.get(i) {
                    Some(item) if item.is_instance_of::<PyTuple>() || item.is_instance_of::<PyList>() => {
                        PyTuple::new(py, item.extract::<Vec<Bound<'_, PyAny>>>()?)?
                    }
                    Some(item) => PyTuple::new(py, [item])?,
                    None => empty.clone(),
                };
                let item_kwargs = kwargs.get(i).map(|k| k.cast::<PyDict>()).transpose()?;
                edit_request(&item_args, item_kwargs)
            })
            .collect::<PyResult<Vec<_>>>()?;
        let mut options = BatchOptions::default().concurrency(concurrency);
        if let Some(timeout) = timeout {
            options = options.timeout(seconds(&timeout, "timeout")?);
        }
        Ok(Self {
            model: model.get().inner.clone(),
            requests,
            options,
            return_exceptions,
        })
    }

    /// Runs every item and waits for all of them, with the GIL released.
    fn gather<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        block_on(py, self.run())?.into_pyobject(py)
    }

    /// Runs every item on the shared runtime; returns an asyncio awaitable
    /// (cancelling it cancels the items still running).
    fn agather<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let run = self.run();
        awaitable(py, async move { Ok(run.await) })
    }
}

impl Batch {
    /// The batch's work, owning what it needs (so it can outlive `self`).
    fn run(&self) -> impl Future<Output = Gathered> + Send + 'static {
        let model = self.model.clone();
        let requests = self.requests.clone();
        let options = self.options.clone();
        let return_exceptions = self.return_exceptions;
        async move {
            let results = gather(&model, requests, options).await;
            Gathered {
                results,
                loader: model.loader().clone(),
                return_exceptions,
            }
        }
    }
}

/// A finished batch, turned into Python objects once the GIL is back.
struct Gathered {
    results: Vec<msgflux::Result<EditResponse>>,
    loader: InputLoader,
    return_exceptions: bool,
}

impl<'py> IntoPyObject<'py> for Gathered {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let slots = PyList::empty(py);
        let mut failures = Vec::new();
        for (index, result) in self.results.into_iter().enumerate() {
            match result {
                Ok(response) => slots.append(Response::new(response, self.loader.clone()))?,
                Err(err) => {
                    let exc = exception(py, &err)?;
                    slots.append(&exc)?;
                    failures.push((index, exc));
                }
            }
        }
        // A tuple, as the original's map_gather returns.
        let slots = slots.to_tuple();
        if failures.is_empty() || self.return_exceptions {
            Ok(slots.into_any())
        } else {
            Err(batch_error(py, slots, failures)?)
        }
    }
}
