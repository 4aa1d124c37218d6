//! An in-process emulator of OpenAI's `POST /v1/images/edits` (and of the
//! Azure OpenAI deployment route) on 127.0.0.1 (feature `emulator`), for
//! tests, examples and benchmarks that must run without a key or the network.
//!
//! It checks every request the way the service would, plus what the spec
//! says (field names, `image` vs `image[]`, MIME types, formats, sizes, mask
//! presence, size and alpha, model-specific fields), records it, and answers
//! with the next scripted [`Reply`]: a normal answer (JSON, or server-sent
//! events when `stream=true`) or an injected fault. Its own answers are
//! checked against the spec's answer schemas, so a client is tested against
//! answers shaped like the real ones.
//!
//! A normal answer is an edit: the input image kept outside the mask and the
//! edit area painted, in the requested output format. dall-e-2 answers with
//! URLs (served by the emulator under `/files/`) when asked to; the GPT image
//! models answer with base64.
//!
//! The spec is the committed extract of OpenAI's published OpenAPI
//! description (`specs/openai/images-edits.json`), compiled in; see [`Spec`].
//!
//! ```no_run
//! # async fn demo() {
//! use msgflux_openai::emulator::{EMULATOR_KEY, Emulator, Reply};
//! let emulator = Emulator::start().await;
//! // The first edit is rate limited, the second succeeds.
//! emulator.script([Reply::rate_limited_ms("10")]);
//! println!("base URL {} key {EMULATOR_KEY}", emulator.base_url());
//! // ... run a client against it, then:
//! assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
//! # }
//! ```
//!
//! The program `openai-emulator` (`cargo run -p msgflux-openai --features
//! emulator --bin openai-emulator -- --help`) serves it, or runs one command
//! against it and checks what the command sent.

// What the service and the spec check, beyond the schema.
mod rules;
// The routes, and the one place that reads, checks, records and answers a request.
mod server;
// Normal answers: edited images as JSON or server-sent events.
mod answers;
// A server that resets the connection after reading a request.
mod resetting;
// The spec extract and the checker driven by it.
mod spec;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::HeaderMap;

pub use resetting::start_resetting_server;
pub use spec::{Part, PartValue, SPEC_JSON, Spec};

/// The key the emulator accepts (`Authorization: Bearer` or Azure `api-key`).
pub const EMULATOR_KEY: &str = "sk-emulator";
/// The Azure `api-version` the emulator accepts.
pub const EMULATOR_API_VERSION: &str = "2025-04-01-preview";

/// How the emulator answers one request.
///
/// A request that breaks the spec or the service's rules is answered 400,
/// and one without the right key 401, whatever the reply would have been.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Reply {
    /// A normal answer: JSON, or server-sent events when `stream=true`.
    Success,
    /// An OpenAI error body with this status, code and type, plus headers.
    Error {
        /// HTTP status.
        status: u16,
        /// `error.code`.
        code: &'static str,
        /// `error.type`.
        kind: &'static str,
        /// Extra headers (`retry-after-ms`, `x-should-retry`, ...).
        headers: Vec<(&'static str, &'static str)>,
    },
    /// Any status, content type and body.
    Raw {
        /// HTTP status.
        status: u16,
        /// Content-Type.
        content_type: &'static str,
        /// Body.
        body: &'static str,
    },
    /// Never answer (the client's read timeout must end the wait).
    Hang,
    /// Accept the request, wait this long, then answer normally: a stall
    /// past the client's read timeout when longer than it. The edit counts
    /// as done (and billed) whether or not the client is still there.
    SuccessAfter(Duration),
    /// Stream this many partial images, then stall without completing.
    StallAfterPartials(u32),
    /// Stream this many partial images, then an `error` event with this code.
    StreamErrorAfterPartials(u32, &'static str),
}

impl Reply {
    /// 429 `rate_limit_exceeded` asking to wait `retry_after_ms`.
    pub fn rate_limited_ms(retry_after_ms: &'static str) -> Self {
        Self::Error {
            status: 429,
            code: "rate_limit_exceeded",
            kind: "requests",
            headers: vec![("retry-after-ms", retry_after_ms)],
        }
    }

    /// An error without extra headers.
    pub fn error(status: u16, code: &'static str, kind: &'static str) -> Self {
        Self::Error {
            status,
            code,
            kind,
            headers: Vec::new(),
        }
    }
}

/// One request as the emulator received it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Recorded {
    /// Request path.
    pub path: String,
    /// Query string.
    pub query: Option<String>,
    /// Request headers.
    pub headers: HeaderMap,
    /// Multipart fields, in order.
    pub parts: Vec<Part>,
    /// What was wrong with it (empty for a good request).
    pub problems: Vec<String>,
    /// The `x-request-id` the emulator answered it with (`req_emu_1`, `req_emu_2`, ...).
    pub request_id: String,
}

impl Recorded {
    /// The text of a field.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.parts.iter().find(|p| p.name == name).and_then(Part::as_text)
    }

    /// The names of the fields, in order.
    pub fn names(&self) -> Vec<&str> {
        self.parts.iter().map(|p| p.name.as_str()).collect()
    }

    /// The file parts with a name.
    pub fn files(&self, name: &str) -> Vec<&Part> {
        self.parts
            .iter()
            .filter(|p| p.name == name && matches!(p.value, PartValue::File { .. }))
            .collect()
    }
}

/// Locks a mutex of the emulator, also after a panic elsewhere.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

struct EmulatorState {
    spec: Spec,
    script: Mutex<VecDeque<Reply>>,
    /// Replies by a piece of the prompt, checked before the script.
    prompt_rules: Mutex<Vec<(String, Reply)>>,
    requests: Mutex<Vec<Recorded>>,
    answer_problems: Mutex<Vec<String>>,
    files: Mutex<BTreeMap<String, Vec<u8>>>,
    /// The URLs of the files above, in the order they were handed out.
    result_urls: Mutex<Vec<String>>,
    base: String,
    counter: AtomicUsize,
    deployments: Mutex<BTreeMap<String, String>>,
    latency: Mutex<Duration>,
    /// JSON answers by request content, when answers are reused.
    reused: Mutex<Option<BTreeMap<u64, bytes::Bytes>>>,
}

impl std::fmt::Debug for EmulatorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorState")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// A running emulator; stops when dropped.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<EmulatorState>,
    task: tokio::task::JoinHandle<()>,
    /// The runtime of [`Emulator::start_in_background`].
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Emulator {
    /// Starts an emulator on 127.0.0.1 with a free port, on the current
    /// Tokio runtime.
    ///
    /// # Panics
    ///
    /// When no port of 127.0.0.1 can be bound (use [`Emulator::start_on`]
    /// to handle that).
    pub async fn start() -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind the emulator to a free port of 127.0.0.1")
    }

    /// Starts an emulator on an address (port 0 picks a free one), on the
    /// current Tokio runtime.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(EmulatorState {
            spec: Spec::load(),
            script: Mutex::new(VecDeque::new()),
            prompt_rules: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            answer_problems: Mutex::new(Vec::new()),
            files: Mutex::new(BTreeMap::new()),
            result_urls: Mutex::new(Vec::new()),
            base: format!("http://{addr}"),
            counter: AtomicUsize::new(0),
            deployments: Mutex::new(BTreeMap::new()),
            latency: Mutex::new(Duration::ZERO),
            reused: Mutex::new(None),
        });
        let router = server::router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            addr,
            state,
            task,
            runtime: None,
        })
    }

    /// Starts an emulator on 127.0.0.1 with a free port, served by a Tokio
    /// runtime of its own on a background thread: for synchronous code, such
    /// as a `#[test]` that runs a client as a child process and waits for it.
    /// The runtime stops when the emulator is dropped.
    ///
    /// # Panics
    ///
    /// When called from within a Tokio runtime (use [`Emulator::start`]
    /// there), or when the runtime or the port cannot be had.
    pub fn start_in_background() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("openai-emulator")
            .enable_all()
            .build()
            .expect("a runtime for the emulator");
        let mut emulator = runtime.block_on(Self::start());
        emulator.runtime = Some(runtime);
        emulator
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OpenAI base URL (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The Azure resource endpoint (`http://127.0.0.1:PORT`).
    pub fn azure_endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Declares an Azure deployment running `model` (by default a deployment
    /// runs the model it is named after, or gpt-image-1.5).
    pub fn deploy(&self, deployment: &str, model: &str) {
        lock(&self.state.deployments).insert(deployment.into(), model.into());
    }

    /// Queues replies for the next requests, one each in arrival order;
    /// after them, every answer is [`Reply::Success`].
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.state.script).extend(replies);
    }

    /// Answers every later request whose `prompt` contains `needle` with
    /// `reply`, instead of taking the next reply of the [script](Self::script)
    /// (which stays queued). Rules are tried in the order they were added.
    /// For clients that send several requests at once, whose arrival order a
    /// script cannot know: `reply_when_prompt_contains("hang", Reply::Hang)`.
    pub fn reply_when_prompt_contains(&self, needle: &str, reply: Reply) {
        lock(&self.state.prompt_rules).push((needle.to_string(), reply));
    }

    /// Makes every normal answer ([`Reply::Success`]) wait this long after
    /// the request was read: a simulated service time. Faults are answered
    /// at once, and [`Reply::SuccessAfter`] waits its own time instead.
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.state.latency) = latency;
    }

    /// With `true`, a normal JSON answer is computed once per distinct
    /// request content (model, fields, image and mask bytes) and then
    /// reused, with a new request id: a benchmark that sends the same edit
    /// many times then measures its client, not the emulator's PNG encoder.
    /// Every request is still read, checked and recorded.
    pub fn set_reuse_answers(&self, reuse: bool) {
        *lock(&self.state.reused) = reuse.then(BTreeMap::new);
    }

    /// Every edit request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state.requests).clone()
    }

    /// How many edit requests reached the emulator.
    pub fn post_count(&self) -> usize {
        lock(&self.state.requests).len()
    }

    /// The last edit request.
    ///
    /// # Panics
    ///
    /// When no edit request reached the emulator.
    pub fn last(&self) -> Recorded {
        self.requests()
            .pop()
            .expect("at least one request reached the emulator")
    }

    /// The URLs of the dall-e-2 results answered as URLs so far, in the order
    /// they were handed out (each serves its image until the emulator stops).
    pub fn result_urls(&self) -> Vec<String> {
        lock(&self.state.result_urls).clone()
    }

    /// Every problem seen: bad requests, and answers of the emulator that the spec would not allow.
    pub fn problems(&self) -> Vec<String> {
        let mut all: Vec<String> = self.requests().into_iter().flat_map(|r| r.problems).collect();
        all.extend(lock(&self.state.answer_problems).iter().cloned());
        all
    }
}
