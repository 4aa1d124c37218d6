//! A blocking API for scripts (feature `blocking`).
//!
//! ```no_run
//! # fn demo() -> msgflux_core::Result<()> {
//! use msgflux_core::blocking::Model;
//! let model = Model::image_text_to_image("local/patchmatch")?;
//! let response = model.edit("remove the object").image("photo.png").mask("mask.png").send()?;
//! model.run(response.images[0].save("out.png"))?;
//! # Ok(()) }
//! ```
//!
//! Each blocking model owns a small single-threaded runtime. Calling it from
//! inside an async runtime is an error (use the async API there), not a panic.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::functional::BatchOptions;

use crate::request::EditRequest;
use crate::response::EditResponse;

/// A [`crate::Model`] with blocking calls.
#[derive(Clone)]
pub struct Model {
    inner: crate::Model,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("blocking::Model").field(&self.inner).finish()
    }
}

impl Model {
    /// `"provider/model"`, settings from the environment.
    pub fn image_text_to_image(id: &str) -> Result<Self> {
        Self::new(crate::Model::image_text_to_image(id)?)
    }

    /// Wraps an async model.
    pub fn new(inner: crate::Model) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::config(format!("cannot start the blocking runtime: {e}")))?;
        Ok(Self {
            inner,
            runtime: Arc::new(runtime),
        })
    }

    /// The async model inside.
    pub fn as_async(&self) -> &crate::Model {
        &self.inner
    }

    /// Runs any future of this crate to completion (for example `image.save(path)`).
    pub fn run<T>(&self, future: impl Future<Output = Result<T>>) -> Result<T> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::config(
                "the blocking API was called from inside an async runtime; use the async API (`.await`) there",
            ));
        }
        self.runtime.block_on(future)
    }

    /// Runs one edit.
    pub fn call(&self, request: impl Into<EditRequest>) -> Result<EditResponse> {
        self.run(self.inner.call(request))
    }

    /// Starts an edit; finish with [`EditBuilder::send`].
    pub fn edit(&self, prompt: impl Into<String>) -> EditBuilder<'_> {
        EditBuilder {
            model: self,
            request: EditRequest::new(prompt),
        }
    }

    /// Runs a batch; results in input order.
    pub fn map_gather<T: Into<EditRequest>>(
        &self,
        items: impl IntoIterator<Item = T>,
        options: BatchOptions,
    ) -> Vec<Result<EditResponse>> {
        let items: Vec<EditRequest> = items.into_iter().map(Into::into).collect();
        if tokio::runtime::Handle::try_current().is_ok() {
            return items
                .iter()
                .map(|_| {
                    Err(Error::config(
                        "the blocking API was called from inside an async runtime; use the async API there",
                    ))
                })
                .collect();
        }
        self.runtime
            .block_on(crate::functional::map_gather(&self.inner, items, options))
    }
}

/// A blocking edit being set up.
#[derive(Debug)]
#[must_use = "an edit does nothing until `send` is called"]
pub struct EditBuilder<'a> {
    model: &'a Model,
    request: EditRequest,
}

impl EditBuilder<'_> {
    crate::model::forward_request_setters!();

    /// Runs the edit and waits for it.
    pub fn send(self) -> Result<EditResponse> {
        self.model.call(self.request)
    }
}
