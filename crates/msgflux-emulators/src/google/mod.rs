//! An emulator of the Gemini API's image editing on 127.0.0.1:
//! `models/{model}:generateContent`, the Files API's resumable upload
//! (`/upload/v1beta/files`) and `files/{id}`, and Vertex AI's
//! `projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent`.
//!
//! It checks every request the way the service would: against the
//! committed extract of Google's OpenAPI export with a dated overlay for
//! the newer image fields (`specs/google/`, through
//! [`crate::engine::Contract`], objects closed to unknown fields), and
//! against the service's own rules (the model's aspect ratios, sizes and
//! image count, `responseModalities` with `IMAGE`, image MIME types that
//! match the bytes, `fileData` naming an uploaded file, the key in
//! `x-goog-api-key`). It records each request and answers with an edit or
//! with the next [`Fault`] in Google's words. Its own answers are checked
//! against the contract too.
//!
//! Gemini image models take no mask: an answer is the first input image
//! repainted whole (resized to the `imageConfig` size when one is asked),
//! unless the request carries a mask hint (a last image equal to the first
//! except where the area to edit is tinted or outlined): then only that
//! area is painted, and [`Emulator::set_leak`] moves every other pixel.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use msgflux_emulators::Fault;
//! use msgflux_emulators::google::{EMULATOR_KEY, Emulator};
//! let emulator = Emulator::start().await?;
//! emulator.inject(Fault::rate_limited_ms(10)); // 429 RESOURCE_EXHAUSTED with a RetryInfo of 10 ms
//! emulator.inject(msgflux_emulators::google::finished("IMAGE_SAFETY", "Unable to show the generated image."));
//! println!("base URL {} key {EMULATOR_KEY}", emulator.base_url());
//! # Ok(()) }
//! ```

// The routes, the one place that reads, checks, records and answers a request, and Google's words for faults.
mod server;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::engine::{Contract, Fault, Journal, Recorded, Script, Served, lock};

/// The API key the emulator accepts (`x-goog-api-key`).
pub const EMULATOR_KEY: &str = "emulator-gemini-key";
/// The Vertex AI access token it accepts (`Authorization: Bearer`).
pub const EMULATOR_TOKEN: &str = "ya29.emulator-token";

/// The operation name of `generateContent` (paid).
pub const GENERATE: &str = "generate";
/// The operation name of the start of a resumable upload.
pub const UPLOAD_START: &str = "upload-start";
/// The operation name of the upload (and finalize) of a file's bytes.
pub const UPLOAD: &str = "upload";
/// The operation name of `GET files/{id}`.
pub const FILE: &str = "file";

/// The committed extract of Google's OpenAPI export (revision 20250701).
pub const CONTRACT_JSON: &str = include_str!("../../specs/google/gemini-v1beta-openapi-rev20250701.extract.json");
/// The newer fields, as a JSON merge patch of the extract (see `specs/google/SOURCES.md`).
pub const OVERLAY_JSON: &str = include_str!("../../specs/google/gemini-overlay.json");

/// The contract the emulator checks against: the extract, the overlay, objects closed.
///
/// ```
/// use serde_json::json;
/// use msgflux_emulators::engine::Contract;
/// let contract = msgflux_emulators::google::contract();
/// let pointer = Contract::request_body("/v1beta/models/{model}:generateContent", "post", "application/json");
/// let good = json!({"contents": [{"role": "user", "parts": [{"text": "add a hat"}]}],
///                   "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "3:2"}}});
/// assert!(contract.check(&pointer, &good).is_empty());
/// let bad = json!({"contents": [{"parts": [{"txt": "add a hat"}]}], "generationConfig": {"imageConfig": {"aspectRatio": "7:5"}}});
/// assert_eq!(contract.check(&pointer, &bad).len(), 2);
/// ```
pub fn contract() -> Contract {
    let overlay: Value = serde_json::from_str(OVERLAY_JSON).unwrap_or(Value::Null);
    Contract::from_json("gemini", CONTRACT_JSON)
        .with_overlay(&overlay)
        .closed()
}

/// A successful answer whose prompt was blocked (`promptFeedback.blockReason`, no candidates).
pub fn blocked_prompt(reason: &str) -> Fault {
    ok_json(json!({
        "promptFeedback": {"blockReason": reason, "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}
        ]},
        "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
        "modelVersion": "gemini-emulated",
    }))
}

/// A successful answer whose candidate stopped with `reason` (`IMAGE_SAFETY`,
/// `PROHIBITED_CONTENT`, `NO_IMAGE`, ...) and `message`, without an image.
pub fn finished(reason: &str, message: &str) -> Fault {
    ok_json(json!({
        "candidates": [{"finishReason": reason, "finishMessage": message, "index": 0}],
        "usageMetadata": {"promptTokenCount": 270, "candidatesTokenCount": 0, "totalTokenCount": 270},
        "modelVersion": "gemini-emulated",
    }))
}

/// A successful answer with text and no image (finish reason `STOP`).
pub fn text_only(text: &str) -> Fault {
    ok_json(json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 270, "candidatesTokenCount": 25, "totalTokenCount": 295,
            "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 25}]},
        "modelVersion": "gemini-emulated",
    }))
}

fn ok_json(body: Value) -> Fault {
    Fault::Raw {
        status: 200,
        content_type: "application/json; charset=UTF-8".into(),
        body: body.to_string(),
    }
}

/// An uploaded file.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub(crate) mime: String,
    pub(crate) bytes: Vec<u8>,
}

/// An upload session: the announced length, the MIME type and the display name.
pub(crate) type Session = (usize, String, Option<String>);

pub(crate) struct State {
    contract: Contract,
    script: Script,
    journal: Journal,
    base: String,
    /// Upload sessions (id → declared length, MIME type, display name).
    sessions: Mutex<BTreeMap<String, Session>>,
    /// Files by id.
    files: Mutex<BTreeMap<String, StoredFile>>,
    latency: Mutex<Duration>,
    leak: Mutex<u8>,
    counter: Mutex<u64>,
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
        journal: Journal::new("emu-gemini-"),
        base,
        sessions: Mutex::new(BTreeMap::new()),
        files: Mutex::new(BTreeMap::new()),
        latency: Mutex::new(Duration::ZERO),
        leak: Mutex::new(0),
        counter: Mutex::new(0),
    })
}

/// A running emulator; stops when dropped.
#[derive(Debug)]
pub struct Emulator {
    served: Served,
    state: Arc<State>,
}

impl Emulator {
    crate::emulator_starts!(state, state, server::router);

    /// The address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.served.addr()
    }

    /// The Gemini API base URL (`http://127.0.0.1:PORT`; clients append `/v1beta/...`).
    /// Vertex AI clients use it too (they append `/v1/projects/...`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The API key it accepts.
    pub fn key(&self) -> &'static str {
        EMULATOR_KEY
    }

    /// The Vertex AI access token it accepts.
    pub fn vertex_token(&self) -> &'static str {
        EMULATOR_TOKEN
    }

    /// Makes the next `generateContent` fail (or behave) as `fault` says;
    /// after the queued faults, every request is answered normally.
    pub fn inject(&self, fault: Fault) {
        self.state.script.next_paid(fault);
    }

    /// Makes the next request of `operation` ([`UPLOAD_START`], [`UPLOAD`], [`FILE`]) fail as `fault` says.
    pub fn inject_on(&self, operation: &'static str, fault: Fault) {
        self.state.script.next_of(operation, fault);
    }

    /// Answers every later `generateContent` whose first text part contains
    /// `needle` with `fault`, before anything queued (for parallel calls).
    pub fn inject_when_prompt_contains(&self, needle: &str, fault: Fault) {
        self.state.script.when_prompt_contains(needle, fault);
    }

    /// Makes every normal answer wait this long (a simulated service time).
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.state.latency) = latency;
    }

    /// With a mask hint, also changes every pixel outside the hinted area by `levels`.
    pub fn set_leak(&self, levels: u8) {
        *lock(&self.state.leak) = levels;
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.journal.requests()
    }

    /// The `generateContent` requests received so far.
    pub fn generates(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.operation == GENERATE)
            .collect()
    }

    /// How many `generateContent` requests (paid) arrived.
    pub fn generate_count(&self) -> usize {
        self.state.journal.count(GENERATE)
    }

    /// How many file uploads (start and upload requests) arrived.
    pub fn upload_count(&self) -> usize {
        self.state.journal.count(UPLOAD_START) + self.state.journal.count(UPLOAD)
    }

    /// The ids of the files uploaded so far.
    pub fn files(&self) -> Vec<String> {
        lock(&self.state.files).keys().cloned().collect()
    }

    /// Every problem seen: bad requests, and answers the contract would not allow.
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
            ("GOOGLE_GEMINI_BASE_URL", self.base_url()),
            ("GEMINI_API_KEY", EMULATOR_KEY.into()),
        ]
    }
    fn paid_count(&self) -> usize {
        self.generate_count()
    }
    fn problems(&self) -> Vec<String> {
        self.problems()
    }
}
