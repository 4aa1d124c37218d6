//! OpenAI's wire format for image edits: requests in, answers and errors out.

// What each model accepts, for `GET /v1/models`.
pub(crate) mod capabilities;
// Errors in OpenAI's error body, and the one mapping from `msgflux_core::Error`.
mod error;
// JSON bodies.
pub(crate) mod json;
// multipart/form-data bodies.
pub(crate) mod multipart;
// The request fields, read with one set of rules.
pub(crate) mod request;
// ImagesResponse and the stream events.
pub(crate) mod response;

pub(crate) use error::ApiError;
