//! An in-process emulator of the Replicate HTTP API (feature `emulator`):
//! predictions with durations counted in polls, the files API, model and
//! deployment reads with input schemas, delivery URLs for outputs, and faults
//! to inject. It checks every request body against the published API
//! description (when loaded with [`Emulator::load_spec`]) and every prediction
//! input against the model's own schema, and records what it saw.
//!
//! Outputs are real images: the input image with the area the mask marks
//! (read in the model's own convention) painted over, so a test can tell
//! whether the mask reached the model the right way round.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use msgflux_replicate::emulator::{Emulator, Scenario};
//! let emulator = Emulator::start().await?;
//! emulator.next_prediction(Scenario::succeed_after(3));
//! println!("base URL {} token {}", emulator.base_url(), emulator.token());
//! # Ok(()) }
//! ```

mod catalogue;
mod server;
mod spec;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

pub use catalogue::{
    EmulatedDeployment, EmulatedModel, ODD_INPAINTER_VERSION, SD_INPAINTING_VERSION, default_catalogue,
    default_deployments, flux_fill_dev, flux_fill_pro, flux_kontext_pro, nano_banana, odd_inpainter,
    stable_diffusion_inpainting,
};

/// The token the emulator accepts.
pub const EMULATOR_TOKEN: &str = "r8_emulator_token";

/// The published API description, as committed in this repository
/// (`specs/replicate/replicate-openapi.json`).
pub const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../specs/replicate/replicate-openapi.json"
);

/// How a prediction ends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// `succeeded`, with rendered outputs.
    Succeed,
    /// `failed`, with this error text.
    Fail(String),
    /// `canceled` (as when a `Cancel-After` deadline passes while running).
    Cancel,
    /// `aborted` (terminated before it started).
    Abort,
}

/// How the next prediction behaves: how many polls it takes and how it ends.
///
/// ```
/// use msgflux_replicate::emulator::Scenario;
/// let slow_failure = Scenario::fail_after(40, "CUDA out of memory");
/// # let _ = slow_failure;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub(crate) polls: u32,
    pub(crate) outcome: Outcome,
}

impl Scenario {
    /// Succeeds after this many polls (0: already done when the create call answers).
    pub fn succeed_after(polls: u32) -> Self {
        Self {
            polls,
            outcome: Outcome::Succeed,
        }
    }

    /// Fails with `error` after this many polls.
    pub fn fail_after(polls: u32, error: &str) -> Self {
        Self {
            polls,
            outcome: Outcome::Fail(error.to_string()),
        }
    }

    /// Ends `canceled` after this many polls.
    pub fn cancel_after(polls: u32) -> Self {
        Self {
            polls,
            outcome: Outcome::Cancel,
        }
    }

    /// Ends `aborted` after this many polls.
    pub fn abort_after(polls: u32) -> Self {
        Self {
            polls,
            outcome: Outcome::Abort,
        }
    }

    /// Never ends on its own (only a cancel stops it).
    pub fn never_ends() -> Self {
        Self::succeed_after(u32::MAX)
    }
}

/// A one-shot fault, used by the first request it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The next create answers 429 with `retry_after` (body) and `Retry-After` (header).
    RateLimitCreate {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The next create answers 500 (after the prediction may have started: never resend).
    ServerErrorOnCreate,
    /// The next create answers 422 naming this input field.
    RejectInputField {
        /// The field, as Replicate names it (`input.num_outputs`).
        field: String,
        /// Why.
        description: String,
    },
    /// The next create answers 402 (out of credit).
    PaymentRequired,
    /// The next create holds its answer this long (the prediction exists meanwhile).
    HoldCreate {
        /// Milliseconds to hold.
        millis: u64,
    },
    /// The next poll answers 500.
    ServerErrorOnPoll,
    /// The next upload answers 500.
    ServerErrorOnUpload,
}

/// One request as the emulator received it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`.
    pub method: String,
    /// The path, such as `/v1/predictions`.
    pub path: String,
    /// Headers, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The JSON body, when there was one.
    pub body: Option<Value>,
}

impl RecordedRequest {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
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

/// Counts of what the emulator answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Create calls received, faulted ones included.
    pub create_posts: usize,
    /// `GET /predictions/{id}` calls.
    pub polls: usize,
    /// `POST /predictions/{id}/cancel` calls.
    pub cancels: usize,
    /// `POST /files` calls.
    pub uploads: usize,
    /// `GET /models/...` and `GET /deployments/...` calls.
    pub model_reads: usize,
    /// Output downloads.
    pub downloads: usize,
}

#[derive(Debug)]
pub(crate) struct StoredPrediction {
    pub(crate) id: String,
    pub(crate) model: String,
    pub(crate) route: &'static str,
    pub(crate) version: String,
    pub(crate) input: Value,
    pub(crate) scenario: Scenario,
    pub(crate) polls: u32,
    pub(crate) status: &'static str,
    pub(crate) output: Value,
    pub(crate) error: Value,
    pub(crate) predict_time: Option<f64>,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub(crate) base: String,
    pub(crate) spec: Option<Value>,
    pub(crate) models: BTreeMap<String, EmulatedModel>,
    pub(crate) deployments: BTreeMap<String, EmulatedDeployment>,
    pub(crate) scenarios: VecDeque<Scenario>,
    pub(crate) default_polls: u32,
    pub(crate) faults: VecDeque<Fault>,
    pub(crate) predictions: BTreeMap<String, StoredPrediction>,
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) fixtures: BTreeMap<String, Vec<u8>>,
    pub(crate) outputs: BTreeMap<String, Vec<u8>>,
    pub(crate) outputs_expired: bool,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) violations: Vec<String>,
    pub(crate) counts: Counts,
    pub(crate) next_id: u64,
}

impl Inner {
    /// Takes the first queued fault that `applies`.
    pub(crate) fn take_fault(&mut self, applies: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let index = self.faults.iter().position(applies)?;
        self.faults.remove(index)
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) inner: Mutex<Inner>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running emulator; stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url())
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Emulator {
    /// Starts on a free port of 127.0.0.1 with the default catalogue.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on `addr` (port 0 picks a free one).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inner = Inner {
            base: format!("http://{addr}"),
            models: default_catalogue().into_iter().map(|m| (m.id(), m)).collect(),
            deployments: default_deployments()
                .into_iter()
                .map(|d| (format!("{}/{}", d.owner, d.name), d))
                .collect(),
            ..Inner::default()
        };
        let shared = Arc::new(Shared {
            inner: Mutex::new(inner),
        });
        let router = server::router(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::error!(%err, "the Replicate emulator stopped");
            }
        });
        Ok(Self { addr, shared, server })
    }

    /// Checks request bodies against an API description (the JSON of
    /// Replicate's OpenAPI document) from now on.
    pub fn check_against(&self, spec: Value) {
        self.shared.lock().spec = Some(spec);
    }

    /// Loads the API description from a file and checks request bodies against it.
    pub fn load_spec(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let text = std::fs::read_to_string(path)?;
        let spec: Value = serde_json::from_str(&text).map_err(std::io::Error::other)?;
        self.check_against(spec);
        Ok(())
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give the provider (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The token it accepts.
    pub fn token(&self) -> &'static str {
        EMULATOR_TOKEN
    }

    /// Serves another model.
    pub fn add_model(&self, model: EmulatedModel) {
        self.shared.lock().models.insert(model.id(), model);
    }

    /// Queues how the next prediction behaves; unqueued predictions succeed
    /// after the default number of polls.
    pub fn next_prediction(&self, scenario: Scenario) {
        self.shared.lock().scenarios.push_back(scenario);
    }

    /// Polls an unqueued prediction takes (default 0: done when created).
    pub fn set_default_polls(&self, polls: u32) {
        self.shared.lock().default_polls = polls;
    }

    /// Queues a one-shot fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.push_back(fault);
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
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The bodies of the create calls received, in order.
    pub fn create_bodies(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/predictions"))
            .filter_map(|r| r.body)
            .collect()
    }

    /// What it answered so far.
    pub fn counts(&self) -> Counts {
        self.shared.lock().counts
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

    /// Requests that broke the API description or a model's input schema.
    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
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
