//! An emulator of OpenAI's `POST /v1/images/edits` (and of the Azure OpenAI
//! deployment route) on 127.0.0.1.
//!
//! It checks every request the way the service would: against the committed
//! extract of OpenAI's published OpenAPI description
//! (`specs/openai/images-edits.json`, through [`crate::engine::Contract`]),
//! and against the service's own rules (`image` vs `image[]`, MIME types,
//! per-model formats, sizes and fields, the mask's size and alpha). It
//! records each request, and answers with an edit (the input kept outside
//! the mask, the edit area painted) or with the next [`Fault`]. Its own
//! answers are checked against the contract's answer schemas too.
//!
//! dall-e-2 answers with URLs (served under `/files/`) when asked to; the
//! GPT image models answer with base64, or server-sent events when `stream=true`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use msgflux_emulators::Fault;
//! use msgflux_emulators::openai::{EMULATOR_KEY, Emulator};
//! let emulator = Emulator::start().await?;
//! // The first edit is rate limited, the second succeeds.
//! emulator.inject(Fault::rate_limited_ms(10));
//! println!("base URL {} key {EMULATOR_KEY}", emulator.base_url());
//! // ... run a client against it, then:
//! assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
//! # Ok(()) }
//! ```

// What the service checks beyond the contract.
mod rules;
// The routes, and the one place that reads, checks, records and answers a request.
mod server;
// Normal answers: edited images as JSON or server-sent events.
mod answers;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::engine::{Contract, Fault, Journal, Recorded, Script, Served, lock};

/// The key the emulator accepts (`Authorization: Bearer` or Azure `api-key`).
pub const EMULATOR_KEY: &str = "sk-emulator";
/// The Azure `api-version` the emulator accepts.
pub const EMULATOR_API_VERSION: &str = "2025-04-01-preview";

/// The operation name of an edit request (paid).
pub const EDIT: &str = "edit";
/// The operation name of a dall-e-2 result URL download.
pub const FILE: &str = "file";

/// The committed extract of OpenAI's OpenAPI description.
pub const CONTRACT_JSON: &str = include_str!("../../specs/openai/images-edits.json");

/// The contract the emulator checks against.
///
/// ```
/// use msgflux_emulators::engine::{Contract, Part};
/// let problems = msgflux_emulators::openai::contract().check_multipart(
///     &Contract::request_body("/images/edits", "post", "multipart/form-data"),
///     &[Part::text("prompt", "add a hat"), Part::text("n", "two")],
/// );
/// assert!(problems.iter().any(|p| p.contains("\"two\" is not of type")), "{problems:?}");
/// assert!(problems.iter().any(|p| p.contains("\"image\" is a required property")), "{problems:?}");
/// ```
pub fn contract() -> Contract {
    Contract::from_json("openai", CONTRACT_JSON)
}

pub(crate) struct State {
    contract: Contract,
    script: Script,
    journal: Journal,
    files: Mutex<BTreeMap<String, Vec<u8>>>,
    /// The URLs of the files above, in the order they were handed out.
    result_urls: Mutex<Vec<String>>,
    base: String,
    deployments: Mutex<BTreeMap<String, String>>,
    latency: Mutex<Duration>,
    leak: Mutex<u8>,
    /// JSON answers by request content, when answers are reused.
    reused: Mutex<Option<BTreeMap<u64, bytes::Bytes>>>,
}

/// A running emulator; stops when dropped.
#[derive(Debug)]
pub struct Emulator {
    served: Served,
    state: Arc<State>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

fn state(base: String) -> Arc<State> {
    Arc::new(State {
        contract: contract(),
        script: Script::default(),
        journal: Journal::new("req_emu_"),
        files: Mutex::new(BTreeMap::new()),
        result_urls: Mutex::new(Vec::new()),
        base,
        deployments: Mutex::new(BTreeMap::new()),
        latency: Mutex::new(Duration::ZERO),
        leak: Mutex::new(0),
        reused: Mutex::new(None),
    })
}

impl Emulator {
    crate::emulator_starts!(state, state, server::router);

    /// The address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.served.addr()
    }

    /// The OpenAI base URL (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr())
    }

    /// The Azure resource endpoint (`http://127.0.0.1:PORT`).
    pub fn azure_endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The key it accepts.
    pub fn key(&self) -> &'static str {
        EMULATOR_KEY
    }

    /// Declares an Azure deployment running `model` (by default a deployment
    /// runs the model it is named after, or gpt-image-1.5).
    pub fn deploy(&self, deployment: &str, model: &str) {
        lock(&self.state.deployments).insert(deployment.into(), model.into());
    }

    /// Makes the next edit fail (or behave) as `fault` says; after the
    /// queued faults, every edit is answered normally.
    pub fn inject(&self, fault: Fault) {
        self.state.script.next_paid(fault);
    }

    /// Queues several faults, one per edit in arrival order.
    pub fn inject_all(&self, faults: impl IntoIterator<Item = Fault>) {
        faults.into_iter().for_each(|f| self.inject(f));
    }

    /// Answers every later edit whose `prompt` contains `needle` with
    /// `fault`, before anything queued: for clients that send several edits
    /// at once, whose order a queue cannot know.
    pub fn inject_when_prompt_contains(&self, needle: &str, fault: Fault) {
        self.state.script.when_prompt_contains(needle, fault);
    }

    /// Makes every normal answer wait this long after the request was read:
    /// a simulated service time. Faults are answered at once.
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.state.latency) = latency;
    }

    /// Also changes every pixel outside the mask by `levels`, as the GPT
    /// image models do (they treat the mask as a hint and redraw the picture).
    pub fn set_leak(&self, levels: u8) {
        *lock(&self.state.leak) = levels;
    }

    /// With `true`, a normal JSON answer is computed once per distinct
    /// request content and then reused, with a new request id: a benchmark
    /// that sends the same edit many times then measures its client, not the
    /// emulator's PNG encoder. Every request is still read, checked and recorded.
    pub fn set_reuse_answers(&self, reuse: bool) {
        *lock(&self.state.reused) = reuse.then(BTreeMap::new);
    }

    /// Every request received so far (edits and result downloads).
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.journal.requests()
    }

    /// The edit requests received so far.
    pub fn edits(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.operation == EDIT).collect()
    }

    /// How many edit requests reached the emulator.
    pub fn edit_count(&self) -> usize {
        self.state.journal.count(EDIT)
    }

    /// The last edit request, if any.
    pub fn last_edit(&self) -> Option<Recorded> {
        self.edits().pop()
    }

    /// The URLs of the dall-e-2 results answered as URLs so far, in the order
    /// they were handed out (each serves its image until the emulator stops).
    pub fn result_urls(&self) -> Vec<String> {
        lock(&self.state.result_urls).clone()
    }

    /// Every problem seen: bad requests, and answers of the emulator that the contract would not allow.
    pub fn problems(&self) -> Vec<String> {
        self.state.journal.problems()
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
        vec![
            ("OPENAI_BASE_URL", self.base_url()),
            ("OPENAI_API_KEY", EMULATOR_KEY.into()),
        ]
    }
    fn paid_count(&self) -> usize {
        self.edit_count()
    }
    fn problems(&self) -> Vec<String> {
        self.problems()
    }
}
