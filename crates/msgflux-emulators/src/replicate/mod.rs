//! An emulator of the Replicate HTTP API on 127.0.0.1: predictions whose
//! duration is counted in polls, the files API, model and deployment reads
//! with input schemas, delivery URLs for outputs, and every [`Fault`].
//!
//! It checks every request body against Replicate's published API
//! description (`specs/replicate/replicate-openapi.json`) and every
//! prediction input against the model's own input schema, both through
//! [`crate::engine::Contract`], and records what it saw.
//!
//! Outputs are real images: the input image with the area the mask marks
//! (read in the model's own convention) painted over, so a test can tell
//! whether the mask reached the model the right way round.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use msgflux_emulators::Fault;
//! use msgflux_emulators::replicate::Emulator;
//! let emulator = Emulator::start().await?;
//! emulator.inject(Fault::slow_job(3));
//! println!("base URL {} token {}", emulator.base_url(), emulator.key());
//! # Ok(()) }
//! ```

// The models and deployments it serves.
mod catalogue;
// The routes, and how outputs are rendered.
mod server;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

pub use catalogue::{
    EmulatedDeployment, EmulatedModel, ODD_INPAINTER_VERSION, SD_INPAINTING_VERSION, default_catalogue,
    default_deployments, flux_fill_dev, flux_fill_pro, flux_kontext_pro, nano_banana, odd_inpainter,
    stable_diffusion_inpainting,
};

use crate::engine::{Contract, Fault, JobEnd, Journal, Recorded, Script, Served};

/// The token the emulator accepts.
pub const EMULATOR_TOKEN: &str = "r8_emulator_token";

/// The operation name of a prediction create (paid).
pub const CREATE: &str = "create";
/// The operation name of a prediction read (a poll).
pub const POLL: &str = "poll";
/// The operation name of a cancel.
pub const CANCEL: &str = "cancel";
/// The operation name of a file upload.
pub const UPLOAD: &str = "upload";
/// The operation name of a model, version or deployment read.
pub const MODEL_READ: &str = "model_read";
/// The operation name of an output download.
pub const DOWNLOAD: &str = "download";
/// The operation name of a fixture download (an input URL the emulator serves).
pub const FIXTURE: &str = "fixture";

/// Replicate's published API description, as committed in this crate.
pub const CONTRACT_JSON: &str = include_str!("../../specs/replicate/replicate-openapi.json");

/// The contract the emulator checks request bodies against.
pub fn contract() -> Contract {
    Contract::from_json("replicate", CONTRACT_JSON)
}

/// A prediction as the emulator holds it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmulatedPrediction {
    /// Its id.
    pub id: String,
    /// `owner/name`.
    pub model: String,
    /// How it was created: `official`, `version` or `deployment`.
    pub route: String,
    /// The input it was created with.
    pub input: Value,
    /// Its status.
    pub status: String,
    /// Polls it has answered.
    pub polls: u32,
}

#[derive(Debug)]
pub(crate) struct StoredPrediction {
    pub(crate) id: String,
    pub(crate) model: String,
    pub(crate) route: &'static str,
    pub(crate) version: String,
    pub(crate) input: Value,
    /// Polls it takes, and how it ends.
    pub(crate) polls_needed: u32,
    pub(crate) end: JobEnd,
    /// Whether its output files are not images.
    pub(crate) not_an_image: bool,
    pub(crate) polls: u32,
    pub(crate) status: &'static str,
    pub(crate) output: Value,
    pub(crate) error: Value,
    pub(crate) predict_time: Option<f64>,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) base: String,
    pub(crate) models: BTreeMap<String, EmulatedModel>,
    pub(crate) model_contracts: BTreeMap<String, Arc<Contract>>,
    pub(crate) deployments: BTreeMap<String, EmulatedDeployment>,
    pub(crate) default_polls: u32,
    pub(crate) leak: u8,
    pub(crate) predictions: BTreeMap<String, StoredPrediction>,
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) fixtures: BTreeMap<String, Vec<u8>>,
    pub(crate) outputs: BTreeMap<String, Vec<u8>>,
    pub(crate) outputs_expired: bool,
    pub(crate) next_id: u64,
}

impl Inner {
    /// The contract of a model's own input schema.
    pub(crate) fn model_contract(&mut self, model: &EmulatedModel) -> Arc<Contract> {
        self.model_contracts
            .entry(model.id())
            .or_insert_with(|| Arc::new(Contract::from_value(&model.id(), model.openapi_schema.clone())))
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
        models: default_catalogue().into_iter().map(|m| (m.id(), m)).collect(),
        deployments: default_deployments()
            .into_iter()
            .map(|d| (format!("{}/{}", d.owner, d.name), d))
            .collect(),
        ..Inner::default()
    };
    Arc::new(Shared {
        inner: Mutex::new(inner),
        contract: contract(),
        script: Script::default(),
        journal: Journal::new("req_rep_"),
    })
}

impl Emulator {
    crate::emulator_starts!(shared, shared, server::router);

    /// The address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.served.addr()
    }

    /// The base URL to give the provider (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr())
    }

    /// The token it accepts.
    pub fn key(&self) -> &'static str {
        EMULATOR_TOKEN
    }

    /// Serves another model.
    pub fn add_model(&self, model: EmulatedModel) {
        self.shared.lock().models.insert(model.id(), model);
    }

    /// Makes the next prediction create fail or behave as `fault` says
    /// (`Fault::Job` sets how many polls it takes and how it ends).
    /// Predictions without a fault succeed after the default number of polls.
    pub fn inject(&self, fault: Fault) {
        self.shared.script.next_paid(fault);
    }

    /// Makes the next request of `operation` ([`POLL`], [`UPLOAD`], ...) fail as `fault` says.
    pub fn inject_on(&self, operation: &'static str, fault: Fault) {
        self.shared.script.next_of(operation, fault);
    }

    /// Answers every later create whose `prompt` input contains `needle` with `fault`.
    pub fn inject_when_prompt_contains(&self, needle: &str, fault: Fault) {
        self.shared.script.when_prompt_contains(needle, fault);
    }

    /// Polls a prediction without a fault takes (default 0: done when created).
    pub fn set_default_polls(&self, polls: u32) {
        self.shared.lock().default_polls = polls;
    }

    /// Also changes every pixel outside the mask by `levels` (for models
    /// without a mask: the whole image is repainted anyway).
    pub fn set_leak(&self, levels: u8) {
        self.shared.lock().leak = levels;
    }

    /// Makes every output URL answer 404, as Replicate does once outputs expire.
    pub fn expire_outputs(&self) {
        self.shared.lock().outputs_expired = true;
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

    /// How many requests of an operation arrived ([`CREATE`], [`POLL`], ...).
    pub fn count(&self, operation: &str) -> usize {
        self.shared.journal.count(operation)
    }

    /// The bodies of the create calls received, in order.
    pub fn create_bodies(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.operation == CREATE)
            .filter_map(|r| r.json().cloned())
            .collect()
    }

    /// The predictions it holds, in creation order.
    pub fn predictions(&self) -> Vec<EmulatedPrediction> {
        let inner = self.shared.lock();
        let mut all: Vec<EmulatedPrediction> = inner
            .predictions
            .values()
            .map(|p| EmulatedPrediction {
                id: p.id.clone(),
                model: p.model.clone(),
                route: p.route.to_string(),
                input: p.input.clone(),
                status: p.status.to_string(),
                polls: p.polls,
            })
            .collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// Requests that broke the API description or a model's input schema,
    /// and answers of the emulator that the description would not allow.
    pub fn problems(&self) -> Vec<String> {
        self.shared.journal.problems()
    }

    /// Waits (in 1 ms steps, up to `limit`) until `condition` holds; returns whether it did.
    pub async fn wait_until(&self, limit: Duration, condition: impl Fn(&Emulator) -> bool) -> bool {
        let until = tokio::time::Instant::now() + limit;
        loop {
            if condition(self) {
                return true;
            }
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

impl crate::engine::Emulated for Emulator {
    fn base_url(&self) -> String {
        self.base_url()
    }
    fn key(&self) -> &'static str {
        EMULATOR_TOKEN
    }
    fn client_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("REPLICATE_BASE_URL", self.base_url()),
            ("REPLICATE_API_TOKEN", EMULATOR_TOKEN.into()),
        ]
    }
    fn paid_count(&self) -> usize {
        self.count(CREATE)
    }
    fn problems(&self) -> Vec<String> {
        self.problems()
    }
}
