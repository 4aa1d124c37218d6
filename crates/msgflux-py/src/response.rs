//! `Response`: what a call returns. `consume()` is msgflux's (one string for
//! one result, a list for several); the rest is what the original leaves to
//! `requests` and Pillow: the images as bytes, `save`, usage, cost, request id.

use std::path::{Path, PathBuf};

use msgflux::{Consumed, EditResponse, InputLoader};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde::Serialize;

use crate::errors::IntoPyResult;
use crate::runtime::block_on;

/// The result of an edit.
#[pyclass(frozen, module = "msgflux_rs")]
pub(crate) struct Response {
    inner: EditResponse,
    /// The model's loader: result URLs are downloaded with its client and limits.
    loader: InputLoader,
}

impl Response {
    pub(crate) fn new(inner: EditResponse, loader: InputLoader) -> Self {
        Self { inner, loader }
    }
}

#[pymethods]
impl Response {
    /// One result: its URL (or base64 with `response_format="base64"`);
    /// several: a list of them.
    fn consume<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.inner.consume() {
            Consumed::One(one) => Ok(one.into_pyobject(py)?.into_any()),
            Consumed::Many(many) => many.into_pyobject(py),
        }
    }

    /// The result files' bytes, in order (URLs are downloaded, with the GIL released).
    fn image_bytes<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyBytes>>> {
        let images = &self.inner.images;
        let loader = &self.loader;
        let files = block_on(py, async {
            let mut files = Vec::with_capacity(images.len());
            for image in images {
                files.push(image.bytes_with(loader).await?);
            }
            Ok::<_, msgflux::Error>(files)
        })?
        .into_py_result()?;
        Ok(files.iter().map(|file| PyBytes::new(py, file)).collect())
    }

    /// Saves the result atomically. One result goes to `path` exactly; several
    /// go beside it as `{stem}-{i}.{ext}`. Returns the path, or the list of paths.
    fn save<'py>(&self, py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
        let response = &self.inner;
        if let [only] = &response.images[..] {
            let saved = block_on(py, only.save(&path))?.into_py_result()?;
            return saved.into_pyobject(py).map(Bound::into_any);
        }
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let stem = path
            .file_stem()
            .map_or("result".into(), |s| s.to_string_lossy().into_owned());
        let saved = block_on(py, response.save_all(dir, &stem))?.into_py_result()?;
        saved.into_pyobject(py)
    }

    /// Registered provider name.
    #[getter]
    fn provider(&self) -> &str {
        &self.inner.provider
    }

    /// The model id within the provider.
    #[getter]
    fn model(&self) -> &str {
        &self.inner.model
    }

    /// The provider's request id, for support tickets.
    #[getter]
    fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// Token usage, when the provider reports it (GPT image models).
    #[getter]
    fn usage<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.usage)
    }

    /// The estimated cost: `{"usd": ..., "basis": ...}`, when a price is known.
    #[getter]
    fn cost<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.cost)
    }

    /// Seconds the call took.
    #[getter]
    fn elapsed(&self) -> f64 {
        self.inner.elapsed.as_secs_f64()
    }

    /// Whether the model followed the prompt (the local fill ignores it).
    #[getter]
    fn prompt_used(&self) -> bool {
        self.inner.prompt_used
    }

    /// The prompt the provider used for each result, when it rewrote it.
    #[getter]
    fn revised_prompts(&self) -> Vec<Option<String>> {
        self.inner.images.iter().map(|i| i.revised_prompt.clone()).collect()
    }

    /// For each result, what the keep-unmasked step measured and did (the
    /// leak report), or `None` when it did not run.
    #[getter]
    fn unmasked<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let reports: Vec<_> = self.inner.images.iter().map(|i| &i.unmasked).collect();
        to_python(py, &reports)
    }

    /// The provider's own details (prepare report, notes, ids).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.metadata)
    }

    fn __len__(&self) -> usize {
        self.inner.images.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<Response {}/{}: {} image(s), request id {:?}>",
            self.inner.provider,
            self.inner.model,
            self.inner.images.len(),
            self.inner.request_id
        )
    }
}

/// A serialisable value as plain Python data (dicts, lists, numbers, `None`).
pub(crate) fn to_python<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(value).map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (json,))
}
