//! `Model`: `Model.image_text_to_image("provider/model", **settings)`, then
//! `model(prompt=..., image=..., ...)` (blocking) or `await model.acall(...)`.

use msgflux::RetryPolicy;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyTuple};

use crate::errors::IntoPyResult;
use crate::request::{edit_request, seconds};
use crate::response::Response;
use crate::runtime::{awaitable, block_on};

/// An image-editing model of some provider. Cheap to share between threads
/// and event loops: its clones share the provider's connections and limits.
#[pyclass(frozen, module = "msgflux_rs")]
pub(crate) struct Model {
    pub(crate) inner: msgflux::Model,
}

#[pymethods]
impl Model {
    /// The msgflux factory: `"provider/model"`; settings not given come from
    /// the provider's environment variables, as in Rust.
    #[staticmethod]
    #[pyo3(signature = (model_id, *, api_key=None, base_url=None, timeout=None, max_retries=None, concurrency_limit=None, **settings))]
    fn image_text_to_image(
        model_id: &str,
        api_key: Option<String>,
        base_url: Option<String>,
        timeout: Option<Bound<'_, PyAny>>,
        max_retries: Option<u32>,
        concurrency_limit: Option<usize>,
        settings: Option<Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let mut builder = msgflux::Model::builder(model_id);
        if let Some(key) = api_key {
            builder = builder.api_key(key);
        }
        if let Some(url) = base_url {
            builder = builder.base_url(url);
        }
        if let Some(timeout) = timeout {
            builder = builder.timeout(seconds(&timeout, "timeout")?);
        }
        if let Some(retries) = max_retries {
            builder = builder.retry(match retries {
                0 => RetryPolicy::none(),
                n => RetryPolicy::default().with_max_retries(n),
            });
        }
        if let Some(limit) = concurrency_limit {
            builder = builder.concurrency_limit(limit);
        }
        for (key, value) in settings.iter().flat_map(|settings| settings.iter()) {
            let value = if value.is_instance_of::<PyBool>() {
                // Settings are read the Rust way: `true`, not Python's `True`.
                value.extract::<bool>()?.to_string()
            } else {
                value.str()?.to_string()
            };
            builder = builder.setting(key.extract::<String>()?, value);
        }
        Ok(Self {
            inner: builder.build().into_py_result()?,
        })
    }

    /// `"provider/model"`.
    #[getter]
    fn id(&self) -> String {
        self.inner.id()
    }

    /// Runs one edit and waits for it, with the GIL released.
    #[pyo3(signature = (*args, **kwargs))]
    fn __call__(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Response> {
        let request = edit_request(args, kwargs)?;
        let response = block_on(py, self.inner.call(request))?.into_py_result()?;
        Ok(Response::new(response, self.inner.loader().clone()))
    }

    /// Runs one edit on the shared runtime; returns an asyncio awaitable.
    /// Cancelling it cancels the edit.
    #[pyo3(signature = (*args, **kwargs))]
    fn acall<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = edit_request(args, kwargs)?;
        let model = self.inner.clone();
        awaitable(py, async move {
            let response = model.call(request).await.into_py_result()?;
            Ok(Response::new(response, model.loader().clone()))
        })
    }

    fn __repr__(&self) -> String {
        format!("Model.image_text_to_image({:?})", self.inner.id())
    }
}
