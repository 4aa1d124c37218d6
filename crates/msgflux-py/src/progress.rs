//! `on_progress=callable`: each step of one edit (checked, uploading,
//! submitted, queued with its position, running, downloading) handed to a
//! Python callable as a dict, `{"step": "queued", "position": 3, "message": ...}`.
//!
//! The steps arrive on the runtime's threads: the callable runs with the
//! GIL taken for it, and whatever it raises goes to `sys.unraisablehook`
//! (as Python does for errors in callbacks it cannot return to), never into
//! the edit: a progress display must not fail a paid request.

use msgflux::Progress;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A callback for [`msgflux::EditRequest::on_progress`] that calls `callable`.
pub(crate) fn forward_to(callable: Py<PyAny>) -> impl Fn(&Progress) + Send + Sync + 'static {
    move |step: &Progress| {
        Python::attach(|py| {
            let called = step_dict(py, step).and_then(|dict| callable.call1(py, (dict,)));
            if let Err(err) = called {
                err.write_unraisable(py, Some(callable.bind(py)));
            }
        });
    }
}

/// One step as the dict the callable receives.
fn step_dict<'py>(py: Python<'py>, step: &Progress) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    let name = match step {
        Progress::Checked => "checked",
        Progress::Uploading { input, bytes } => {
            dict.set_item("input", input)?;
            dict.set_item("bytes", bytes)?;
            "uploading"
        }
        Progress::Submitted { request_id } => {
            dict.set_item("request_id", request_id)?;
            "submitted"
        }
        Progress::Queued { position } => {
            dict.set_item("position", position)?;
            "queued"
        }
        Progress::Running => "running",
        Progress::PartialImage { index } => {
            dict.set_item("index", index)?;
            "partial_image"
        }
        Progress::Downloading { images } => {
            dict.set_item("images", images)?;
            "downloading"
        }
        _ => "other",
    };
    dict.set_item("step", name)?;
    dict.set_item("message", step.to_string())?;
    Ok(dict)
}
