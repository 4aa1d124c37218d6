//! The one place a Rust [`Error`] becomes a Python exception.
//!
//! The classes live in `msgflux_rs/errors.py`, because several have two
//! bases (`InvalidInputError` is also a `ValueError`, `ProviderUnavailableError`
//! an `ImportError`) so that the docs' `except ValueError:` and
//! `except ImportError:` catch them; here each variant picks its class and
//! the attributes it carries.

use msgflux::Error;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// The Python module that defines the exception classes.
const ERRORS_MODULE: &str = "msgflux_rs.errors";

/// `Result<T, Error>` → `PyResult<T>`, for `?` at the boundary.
pub(crate) trait IntoPyResult<T> {
    /// Converts the error, if any, into the matching Python exception.
    fn into_py_result(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for msgflux::Result<T> {
    fn into_py_result(self) -> PyResult<T> {
        self.map_err(|err| to_py_err(&err))
    }
}

/// An `InvalidInputError` for a rule the Python side checks (argument kinds and shapes).
pub(crate) fn invalid(param: &str, rule: impl Into<String>) -> PyErr {
    to_py_err(&Error::invalid(param, rule.into()))
}

/// The Python exception for `err`.
pub(crate) fn to_py_err(err: &Error) -> PyErr {
    Python::attach(|py| exception(py, err).map_or_else(|failed| failed, PyErr::from_value))
}

/// The exception instance for `err`: its class, `str()` the full message,
/// and the attributes its variant carries.
pub(crate) fn exception<'py>(py: Python<'py>, err: &Error) -> PyResult<Bound<'py, PyAny>> {
    let attrs = PyDict::new(py);
    let class = match err {
        Error::ProviderUnavailable {
            provider,
            registered,
            hint,
        } => {
            attrs.set_item("provider", provider)?;
            attrs.set_item("registered", registered)?;
            attrs.set_item("hint", *hint)?;
            "ProviderUnavailableError"
        }
        Error::InvalidInput { param, rule, .. } => {
            attrs.set_item("param", param)?;
            attrs.set_item("rule", rule)?;
            let all: Vec<(String, String)> = err.violations().into_iter().map(|v| (v.param, v.rule)).collect();
            attrs.set_item("violations", all)?;
            "InvalidInputError"
        }
        Error::Config { .. } | Error::DuplicateProvider { .. } => "ConfigurationError",
        Error::Unauthenticated(_) => "AuthenticationError",
        Error::PermissionDenied(_) => "PermissionDeniedError",
        Error::ContentPolicy(_) => "ContentPolicyError",
        Error::RateLimited(_) => "RateLimitError",
        Error::QuotaExceeded(_) => "QuotaExceededError",
        Error::NotFound(_) => "NotFoundError",
        Error::Rejected(_) => "RejectedError",
        Error::Server(_) => "ServerError",
        Error::Cancelled(_) => "CancelledError",
        Error::Timeout { provider, after, .. } => {
            attrs.set_item("provider", provider)?;
            attrs.set_item("after", after.as_secs_f64())?;
            "EditTimeoutError"
        }
        Error::Network {
            provider, request_sent, ..
        } => {
            attrs.set_item("provider", provider)?;
            attrs.set_item("request_sent", *request_sent)?;
            "NetworkError"
        }
        Error::InvalidResponse { provider, .. } => {
            attrs.set_item("provider", provider)?;
            "InvalidResponseError"
        }
        Error::Decode { what, .. } => {
            attrs.set_item("param", what)?;
            "ImageDecodeError"
        }
        Error::Io { path, .. } => {
            attrs.set_item("path", path.display().to_string())?;
            "FileError"
        }
        _ => "MsgfluxError",
    };
    if let Some(detail) = err.provider_error() {
        attrs.set_item("provider", &detail.provider)?;
        attrs.set_item("provider_message", &detail.message)?;
        attrs.set_item("status", detail.status)?;
        attrs.set_item("code", &detail.code)?;
    }
    attrs.set_item("request_id", err.request_id())?;
    attrs.set_item("retry_after", err.retry_after().map(|wait| wait.as_secs_f64()))?;
    attrs.set_item("retryable", err.is_retryable())?;
    attrs.set_item("maybe_billed", err.may_have_been_billed())?;
    py.import(ERRORS_MODULE)?
        .getattr(class)?
        .call((err.to_string(),), Some(&attrs))
}

/// The `BatchError` of a `map_gather` with failed items: the first failure's
/// message, every slot in `.results` (a response or an exception) and the
/// failures in `.errors` as `(index, exception)`.
pub(crate) fn batch_error(
    py: Python<'_>,
    results: Bound<'_, PyTuple>,
    errors: Vec<(usize, Bound<'_, PyAny>)>,
) -> PyResult<PyErr> {
    let (first_index, first) = errors.first().expect("a batch error has a failure");
    let message = format!(
        "{} of {} batch items failed; item {first_index}: {first}",
        errors.len(),
        results.len()
    );
    let attrs = PyDict::new(py);
    attrs.set_item("results", results)?;
    attrs.set_item("errors", errors)?;
    let exc = py
        .import(ERRORS_MODULE)?
        .getattr("BatchError")?
        .call((message,), Some(&attrs))?;
    Ok(PyErr::from_value(exc))
}
