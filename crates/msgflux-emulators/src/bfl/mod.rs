//! An emulator of Black Forest Labs' FLUX API on 127.0.0.1: submits to
//! `POST /v1/{model}` that answer `{id, polling_url}`, tasks whose duration
//! is counted in polls of `GET /v1/get_result?id=`, signed result URLs that
//! can be made to expire, and every [`Fault`] in BFL's own words.
//!
//! It checks every submit against the request schema of its path in BFL's
//! OpenAPI document (`specs/bfl/bfl-openapi.json`) through
//! [`crate::engine::Contract`], reports fields the schema does not list and
//! the service's own rules (images that decode, Fill's mask of the image's
//! size, FLUX.2 sides in multiples of 16, Kontext's aspect ratios), and
//! checks its own answers against `AsyncResponse` and `ResultResponse`.
//!
//! Results are real images: the input kept outside the area the mask marks
//! (read as Fill reads it: white = repaint) and that area painted; models
//! without a mask repaint the whole image; Expand paints the new border.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use msgflux_emulators::Fault;
//! use msgflux_emulators::bfl::Emulator;
//! let emulator = Emulator::start().await?;
//! emulator.inject(Fault::slow_job(3));
//! println!("base URL {} key {}", emulator.base_url(), emulator.key());
//! # Ok(()) }
//! ```

// The routes, the service's rules and how results are rendered.
mod server;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::engine::{Contract, Fault, JobEnd, Journal, Recorded, Script, Served};

/// The key the emulator accepts (header `x-key`).
pub const EMULATOR_KEY: &str = "bfl_emulator_key";

/// The operation name of a submit (paid).
pub const SUBMIT: &str = "submit";
/// The operation name of a poll of `get_result`.
pub const POLL: &str = "poll";
/// The operation name of a result download.
pub const DOWNLOAD: &str = "download";

/// The edit models it serves, as `POST /v1/{model}`.
pub const MODELS: &[&str] = &[
    "flux-kontext-pro",
    "flux-kontext-max",
    "flux-pro-1.0-fill",
    "flux-pro-1.0-expand",
    "flux-2-pro",
    "flux-2-max",
    "flux-2-flex",
    "flux-2-pro-preview",
    "flux-2-klein-4b",
    "flux-2-klein-9b",
    "flux-2-klein-9b-preview",
];

/// BFL's published API description, as committed in this crate.
pub const CONTRACT_JSON: &str = include_str!("../../specs/bfl/bfl-openapi.json");

/// The contract the emulator checks requests and its own answers against.
pub fn contract() -> Contract {
    Contract::from_json("bfl", CONTRACT_JSON)
}

/// A task as the emulator holds it.
#[derive(Debug)]
pub(crate) struct StoredTask {
    pub(crate) model: String,
    pub(crate) body: Value,
    pub(crate) polls_needed: u32,
    pub(crate) end: JobEnd,
    pub(crate) not_an_image: bool,
    /// Answers `Task not found` to every poll.
    pub(crate) lost: bool,
    pub(crate) polls: u32,
    pub(crate) status: &'static str,
    pub(crate) result: Value,
    pub(crate) details: Value,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) base: String,
    pub(crate) default_polls: u32,
    pub(crate) leak: u8,
    pub(crate) tasks: BTreeMap<String, StoredTask>,
    /// Result files by task id: bytes and content type.
    pub(crate) results: BTreeMap<String, (Vec<u8>, &'static str)>,
    pub(crate) results_expired: bool,
    /// Where `polling_url`s point when not at the emulator itself.
    pub(crate) polling_base: Option<String>,
    pub(crate) lose_next: bool,
    pub(crate) next_id: u64,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) inner: Mutex<Inner>,
    pub(crate) contract: Contract,
    pub(crate) script: Script,
    pub(crate) journal: Journal,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn shared(base: String) -> Arc<Shared> {
    Arc::new(Shared {
        inner: Mutex::new(Inner {
            base,
            ..Inner::default()
        }),
        contract: contract(),
        script: Script::default(),
        journal: Journal::new("req_bfl_"),
    })
}

/// A running emulator; stops when dropped.
pub struct Emulator {
    served: Served,
    shared: Arc<Shared>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl Emulator {
    crate::emulator_starts!(shared, shared, server::router);

    /// The address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.served.addr()
    }

    /// The base URL to give the provider (`http://127.0.0.1:PORT`, no `/v1`, as BFL's hosts).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The key it accepts.
    pub fn key(&self) -> &'static str {
        EMULATOR_KEY
    }

    /// Makes the next submit fail or behave as `fault` says (`Fault::Job`
    /// sets how many polls the task takes and how it ends; `ContentPolicy`
    /// is a task that ends `Request Moderated`; `JobEnd::Moderated` one that
    /// ends `Content Moderated`). Tasks without a fault are `Ready` after
    /// the default number of polls.
    pub fn inject(&self, fault: Fault) {
        self.shared.script.next_paid(fault);
    }

    /// Makes the next request of `operation` ([`POLL`], [`DOWNLOAD`]) fail as `fault` says.
    pub fn inject_on(&self, operation: &'static str, fault: Fault) {
        self.shared.script.next_of(operation, fault);
    }

    /// Answers every later submit whose `prompt` contains `needle` with `fault`.
    pub fn inject_when_prompt_contains(&self, needle: &str, fault: Fault) {
        self.shared.script.when_prompt_contains(needle, fault);
    }

    /// Polls a task without a fault takes before it is `Ready` (default 0: at the first poll).
    pub fn set_default_polls(&self, polls: u32) {
        self.shared.lock().default_polls = polls;
    }

    /// Also changes every pixel outside the mask by `levels` (models
    /// without a mask repaint the whole image anyway).
    pub fn set_leak(&self, levels: u8) {
        self.shared.lock().leak = levels;
    }

    /// Makes every result URL answer 403, as a signed delivery URL does once it expires.
    pub fn expire_results(&self) {
        self.shared.lock().results_expired = true;
    }

    /// Makes later `polling_url`s point at `base` instead of the emulator
    /// (a host a client must not follow).
    pub fn set_polling_base(&self, base: &str) {
        self.shared.lock().polling_base = Some(base.trim_end_matches('/').to_string());
    }

    /// Makes the next task unknown to `get_result` (`Task not found`), as an expired id is.
    pub fn lose_next_task(&self) {
        self.shared.lock().lose_next = true;
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.journal.requests()
    }

    /// How many requests of an operation arrived ([`SUBMIT`], [`POLL`], [`DOWNLOAD`]).
    pub fn count(&self, operation: &str) -> usize {
        self.shared.journal.count(operation)
    }

    /// The bodies of the submits received, in order.
    pub fn submit_bodies(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.operation == SUBMIT)
            .filter_map(|r| r.json().cloned())
            .collect()
    }

    /// Requests that broke the API description or the service's rules,
    /// and answers of the emulator that the description would not allow.
    pub fn problems(&self) -> Vec<String> {
        self.shared.journal.problems()
    }
}

impl crate::engine::Emulated for Emulator {
    fn base_url(&self) -> String {
        self.base_url()
    }
    fn key(&self) -> &'static str {
        EMULATOR_KEY
    }
    fn client_env(&self) -> Vec<(&'static str, String)> {
        vec![("BFL_BASE_URL", self.base_url()), ("BFL_API_KEY", EMULATOR_KEY.into())]
    }
    fn paid_count(&self) -> usize {
        self.count(SUBMIT)
    }
    fn problems(&self) -> Vec<String> {
        self.problems()
    }
}
