//! An emulator of fal.ai on 127.0.0.1: the queue (`POST /{app}`, then
//! `status`, result and `cancel` under `/{owner}/{app}/requests/{id}`), fal
//! storage's upload protocol (`POST /storage/upload/initiate`, a signed `PUT`,
//! files served from a CDN path), the Platform API's model search with each
//! app's OpenAPI schema (`GET /v1/models?endpoint_id=..&expand=openapi-3.0`),
//! and every [`Fault`] in fal's own words.
//!
//! Every submit is checked against the app's input schema (derived from the
//! official client's types, committed in `specs/fal/`), every upload and
//! queue answer against the protocol schemas, through
//! [`crate::engine::Contract`]. Outputs are real images: the input with the
//! area the mask marks (read as the app reads it: white = fill for FLUX
//! Fill) painted over, or, for apps that take no mask, all of it repainted.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use msgflux_emulators::Fault;
//! use msgflux_emulators::fal::Emulator;
//! let emulator = Emulator::start().await?;
//! emulator.inject(Fault::slow_job(5)); // five status polls, queue position counting down
//! println!("base URL {} key {}", emulator.base_url(), emulator.key());
//! # Ok(()) }
//! ```

// The apps it serves, with their input schemas.
mod catalogue;
// The routes, the queue's life and how outputs are rendered.
mod server;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

pub use catalogue::{EmulatedApp, OutputShape, default_catalogue, odd_inpainter};

use crate::engine::{Contract, Fault, JobEnd, Journal, Recorded, Script, Served};

/// The key the emulator accepts (`Authorization: Key fal_emulator_key`).
pub const EMULATOR_KEY: &str = "fal_emulator_key";

/// The operation name of a queue submit (paid).
pub const SUBMIT: &str = "submit";
/// The operation name of a status read.
pub const STATUS: &str = "status";
/// The operation name of a result read.
pub const RESULT: &str = "result";
/// The operation name of a cancel.
pub const CANCEL: &str = "cancel";
/// The operation name of `POST /storage/upload/initiate`.
pub const UPLOAD_INITIATE: &str = "upload_initiate";
/// The operation name of the `PUT` of an upload's bytes.
pub const UPLOAD: &str = "upload";
/// The operation name of `POST /storage/upload/initiate-multipart`.
pub const UPLOAD_INITIATE_MULTIPART: &str = "upload_initiate_multipart";
/// The operation name of the `PUT` of one part of a multipart upload.
pub const UPLOAD_PART: &str = "upload_part";
/// The operation name of the `POST .../complete` that ends a multipart upload.
pub const UPLOAD_COMPLETE: &str = "upload_complete";
/// The operation name of a model search (schema read).
pub const SCHEMA: &str = "schema";
/// The operation name of a result file download.
pub const DOWNLOAD: &str = "download";
/// The operation name of a fixture download (an input URL the emulator serves).
pub const FIXTURE: &str = "fixture";

/// The queue and storage protocol, as committed in this crate (derived from fal's JS client).
pub const PROTOCOL_JSON: &str = include_str!("../../specs/fal/fal-queue-protocol.json");

/// The contract of fal's queue and storage protocol.
pub fn contract() -> Contract {
    Contract::from_json("fal", PROTOCOL_JSON)
}

/// A queue request as the emulator holds it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmulatedRequest {
    /// Its id.
    pub id: String,
    /// The endpoint id it was submitted to (`fal-ai/flux-pro/kontext`).
    pub app: String,
    /// The input it was submitted with.
    pub input: Value,
    /// `IN_QUEUE`, `IN_PROGRESS`, `COMPLETED` or `CANCELLED`.
    pub status: String,
    /// Status polls it has answered.
    pub polls: u32,
}

#[derive(Debug)]
pub(crate) struct StoredRequest {
    pub(crate) id: String,
    pub(crate) app: String,
    /// `owner/app`, the part of the endpoint id its queue URLs use.
    pub(crate) owner_app: String,
    pub(crate) input: Value,
    pub(crate) polls_needed: u32,
    pub(crate) end: JobEnd,
    pub(crate) not_an_image: bool,
    pub(crate) polls: u32,
    pub(crate) status: &'static str,
    /// The result: the output JSON, or an error status and body.
    pub(crate) result: Option<Result<Value, (u16, Value)>>,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) base: String,
    pub(crate) apps: BTreeMap<String, EmulatedApp>,
    pub(crate) app_contracts: BTreeMap<String, Arc<Contract>>,
    pub(crate) default_polls: u32,
    pub(crate) leak: u8,
    pub(crate) requests: BTreeMap<String, StoredRequest>,
    /// Initiated uploads: token → (content type, file name).
    pub(crate) uploads: BTreeMap<String, (String, String)>,
    /// Multipart uploads in progress: token → the parts stored so far, by number.
    pub(crate) parts: BTreeMap<String, BTreeMap<u32, Vec<u8>>>,
    /// Files on the emulated CDN (uploads and outputs), by path under `/files/`.
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) fixtures: BTreeMap<String, Vec<u8>>,
    pub(crate) results_expired: bool,
    pub(crate) files_expired: bool,
    pub(crate) next_id: u64,
}

impl Inner {
    /// The contract of an app's input schema.
    pub(crate) fn app_contract(&mut self, app: &EmulatedApp) -> Arc<Contract> {
        self.app_contracts
            .entry(app.id.clone())
            .or_insert_with(|| {
                Arc::new(Contract::from_value(
                    &app.id,
                    serde_json::json!({"components": {"schemas": {"Input": app.input_schema}}}),
                ))
            })
            .clone()
    }
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

fn shared(base: String) -> Arc<Shared> {
    let inner = Inner {
        base,
        apps: default_catalogue().into_iter().map(|a| (a.id.clone(), a)).collect(),
        default_polls: 1,
        ..Inner::default()
    };
    Arc::new(Shared {
        inner: Mutex::new(inner),
        contract: contract(),
        script: Script::default(),
        journal: Journal::new("fal-req-"),
    })
}

impl Emulator {
    crate::emulator_starts!(shared, shared, server::router);

    /// The address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.served.addr()
    }

    /// The one origin a client points every fal service at (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The key it accepts.
    pub fn key(&self) -> &'static str {
        EMULATOR_KEY
    }

    /// Serves another app.
    pub fn add_app(&self, app: EmulatedApp) {
        self.shared.lock().apps.insert(app.id.clone(), app);
    }

    /// Makes the next submit fail or behave as `fault` says (`Fault::Job`
    /// sets how many status polls it takes and how it ends). Requests
    /// without a fault complete after the default number of polls.
    pub fn inject(&self, fault: Fault) {
        self.shared.script.next_paid(fault);
    }

    /// Makes the next request of `operation` ([`STATUS`], [`RESULT`], [`UPLOAD`], ...) fail as `fault` says.
    pub fn inject_on(&self, operation: &'static str, fault: Fault) {
        self.shared.script.next_of(operation, fault);
    }

    /// Answers every later submit whose `prompt` contains `needle` with `fault`.
    pub fn inject_when_prompt_contains(&self, needle: &str, fault: Fault) {
        self.shared.script.when_prompt_contains(needle, fault);
    }

    /// Status polls a request without a fault takes to complete (default 1; at least 1).
    pub fn set_default_polls(&self, polls: u32) {
        self.shared.lock().default_polls = polls.max(1);
    }

    /// Also changes every pixel outside the mask by `levels` (for apps
    /// without a mask the whole image is repainted anyway).
    pub fn set_leak(&self, levels: u8) {
        self.shared.lock().leak = levels;
    }

    /// Makes every result read answer 404, as fal does once a result's retention passed.
    pub fn expire_results(&self) {
        self.shared.lock().results_expired = true;
    }

    /// Makes every file on the emulated CDN answer 404, as expired media do.
    pub fn expire_files(&self) {
        self.shared.lock().files_expired = true;
    }

    /// Serves `bytes` at a URL of its own, to pass as an input URL.
    pub fn serve_file(&self, name: &str, bytes: Vec<u8>) -> String {
        let mut inner = self.shared.lock();
        inner.fixtures.insert(name.to_string(), bytes);
        format!("{}/fixtures/{name}", inner.base)
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.journal.requests()
    }

    /// How many requests of an operation arrived ([`SUBMIT`], [`STATUS`], ...).
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

    /// The queue requests it holds, in submit order.
    pub fn queue_requests(&self) -> Vec<EmulatedRequest> {
        let inner = self.shared.lock();
        let mut all: Vec<EmulatedRequest> = inner
            .requests
            .values()
            .map(|r| EmulatedRequest {
                id: r.id.clone(),
                app: r.app.clone(),
                input: r.input.clone(),
                status: r.status.to_string(),
                polls: r.polls,
            })
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// Requests that broke an app's input schema or the protocol, and
    /// answers of the emulator that the protocol would not allow.
    pub fn problems(&self) -> Vec<String> {
        self.shared.journal.problems()
    }

    /// Waits (in 1 ms steps, up to `limit`) until `condition` holds; returns whether it did.
    pub async fn wait_until(&self, limit: Duration, condition: impl Fn(&Emulator) -> bool) -> bool {
        crate::engine::wait_until(limit, || condition(self)).await
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
        vec![("FAL_BASE_URL", self.base_url()), ("FAL_KEY", EMULATOR_KEY.into())]
    }
    fn paid_count(&self) -> usize {
        self.count(SUBMIT)
    }
    fn problems(&self) -> Vec<String> {
        self.problems()
    }
}
