//! An emulator of Stability AI's v2beta edit services on 127.0.0.1: the
//! seven `POST /v2beta/stable-image/edit/{service}` routes and the
//! `GET /v2beta/results/{id}` poll of the asynchronous
//! replace-background-and-relight.
//!
//! Every multipart body is checked against the committed extract of
//! Stability's published OpenAPI document
//! (`specs/stability/stability-v2beta-edit-openapi.extract.json`, through
//! [`crate::engine::Contract`], with the two corrections listed in
//! `specs/stability/SOURCES.md`), and against the rules the document states
//! in prose (side and pixel limits, aspect ratios, outpaint's directions,
//! what replace-background-and-relight needs). Answers follow the `accept`
//! header (`image/*` bytes with `finish-reason` and `seed` headers, or
//! `application/json`), and are checked against the answer schemas too.
//!
//! An edit answer is the input kept outside the area the mask marks (read
//! the way Stability reads it: white = edit, or the image's transparent
//! pixels without a mask) and that area painted; services without a mask
//! repaint the whole image; outpaint keeps the input and paints the new
//! border.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use msgflux_emulators::Fault;
//! use msgflux_emulators::stability::{EMULATOR_KEY, Emulator};
//! let emulator = Emulator::start().await?;
//! emulator.inject(Fault::QuotaExceeded); // the first edit: 402, then normal answers
//! println!("base URL {} key {EMULATOR_KEY}", emulator.base_url());
//! // ... run a client against it, then:
//! assert!(emulator.problems().is_empty(), "{:#?}", emulator.problems());
//! # Ok(()) }
//! ```

// The routes, the service rules, faults in Stability's words, and the answers.
mod server;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::engine::{Contract, Fault, Journal, Recorded, Script, Served, lock};

/// The key the emulator accepts (`authorization: Bearer ...`).
pub const EMULATOR_KEY: &str = "sk-stability-emulator";

/// The operation name of an edit request (paid; also the asynchronous start).
pub const EDIT: &str = "edit";
/// The operation name of a `GET /v2beta/results/{id}` poll.
pub const POLL: &str = "poll";

/// The committed extract of Stability's v2beta OpenAPI document.
pub const CONTRACT_JSON: &str = include_str!("../../specs/stability/stability-v2beta-edit-openapi.extract.json");

/// The form schema of a service's `POST`, as a pointer for [`Contract`].
pub fn form_pointer(service: &str) -> String {
    Contract::request_body(
        &format!("/v2beta/stable-image/edit/{service}"),
        "post",
        "multipart/form-data",
    )
}

/// The contract the emulator checks against: the published extract with the
/// corrections `specs/stability/SOURCES.md` explains (erase takes no
/// `prompt`; outpaint's `creativity` is 0 to 1).
///
/// ```
/// use msgflux_emulators::engine::Part;
/// use msgflux_emulators::stability::{contract, form_pointer};
/// let problems = contract().check_multipart(
///     &form_pointer("search-and-replace"),
///     &[Part::text("prompt", "a cat"), Part::text("grow_mask", "50")],
/// );
/// assert!(problems.iter().any(|p| p.contains("\"search_prompt\" is a required property")), "{problems:?}");
/// assert!(problems.iter().any(|p| p.contains("grow_mask") && p.contains("greater than the maximum of 20")), "{problems:?}");
/// ```
pub fn contract() -> Contract {
    let erase = format!("{}/required", form_pointer("erase").trim_start_matches('#'));
    let creativity = format!(
        "{}/properties/creativity",
        form_pointer("outpaint").trim_start_matches('#')
    );
    Contract::from_json("stability", CONTRACT_JSON)
        .with_correction(&erase, json!(["image"]))
        .with_correction(
            &creativity,
            json!({"type": "number", "minimum": 0, "maximum": 1, "default": 0.5}),
        )
}

/// An asynchronous generation as the emulator holds it.
#[derive(Debug, Clone)]
pub(crate) struct Generation {
    /// Polls still answered `202 in-progress`.
    polls_left: u32,
    /// How it ends: `None` with the image, or the fault it ends with.
    end: Option<Fault>,
    /// The finished image, encoded.
    image: Vec<u8>,
    /// Its format (`png`, `jpeg`, `webp`).
    format: String,
    /// The seed it reports.
    seed: u64,
    /// `SUCCESS` or `CONTENT_FILTERED`.
    finish_reason: String,
}

pub(crate) struct State {
    contract: Contract,
    script: Script,
    journal: Journal,
    generations: Mutex<BTreeMap<String, Generation>>,
    default_polls: Mutex<u32>,
    leak: Mutex<u8>,
    counter: Mutex<u64>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").finish_non_exhaustive()
    }
}

fn state(_base: String) -> Arc<State> {
    Arc::new(State {
        contract: contract(),
        script: Script::default(),
        journal: Journal::new("stab_req_"),
        generations: Mutex::new(BTreeMap::new()),
        default_polls: Mutex::new(2),
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

    /// The base URL a client uses in place of `https://api.stability.ai`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The key it accepts.
    pub fn key(&self) -> &'static str {
        EMULATOR_KEY
    }

    /// Makes the next paid request (an edit, or the start of an
    /// asynchronous generation) fail or behave as `fault` says. On the
    /// asynchronous service, [`Fault::Job`] sets how many polls it takes and
    /// how it ends.
    pub fn inject(&self, fault: Fault) {
        self.state.script.next_paid(fault);
    }

    /// Makes the next request of `operation` ([`POLL`]) fail as `fault` says.
    pub fn inject_on(&self, operation: &'static str, fault: Fault) {
        self.state.script.next_of(operation, fault);
    }

    /// Answers every later paid request whose `prompt` contains `needle` with `fault`.
    pub fn inject_when_prompt_contains(&self, needle: &str, fault: Fault) {
        self.state.script.when_prompt_contains(needle, fault);
    }

    /// Makes the next paid request succeed with `finish_reason`
    /// `CONTENT_FILTERED`: the image generated and then blurred by
    /// Stability's moderation (a [`Fault::Status`] with status 200 and that code).
    pub fn inject_content_filtered(&self) {
        self.inject(Fault::Status {
            status: 200,
            code: "CONTENT_FILTERED".into(),
            headers: Vec::new(),
        });
    }

    /// Polls each asynchronous generation answers `202 in-progress` before its result (default 2).
    pub fn set_default_polls(&self, polls: u32) {
        *lock(&self.state.default_polls) = polls;
    }

    /// Also changes every pixel outside the edit area by `levels`.
    pub fn set_leak(&self, levels: u8) {
        *lock(&self.state.leak) = levels;
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.journal.requests()
    }

    /// The paid requests received so far.
    pub fn edits(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.paid).collect()
    }

    /// The last paid request, if any.
    pub fn last_edit(&self) -> Option<Recorded> {
        self.edits().pop()
    }

    /// How many requests of an operation arrived ([`EDIT`], [`POLL`]).
    pub fn count(&self, operation: &str) -> usize {
        self.state.journal.count(operation)
    }

    /// How many paid requests arrived.
    pub fn edit_count(&self) -> usize {
        self.state.journal.paid_count()
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
            ("STABILITY_BASE_URL", self.base_url()),
            ("STABILITY_API_KEY", EMULATOR_KEY.into()),
        ]
    }
    fn paid_count(&self) -> usize {
        self.edit_count()
    }
    fn problems(&self) -> Vec<String> {
        self.problems()
    }
}
