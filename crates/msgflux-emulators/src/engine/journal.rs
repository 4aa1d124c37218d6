//! Every request an emulator received, with what was wrong with it, and the
//! problems of the emulator's own answers: one way to read what a client sent.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::HeaderMap;
use serde_json::Value;

use super::faults::lock;
use super::multipart::{Part, PartValue};

/// The body of a recorded request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RecordedBody {
    /// No body.
    Empty,
    /// A JSON body.
    Json(Value),
    /// A multipart body, field by field.
    Multipart(Vec<Part>),
    /// A body of another kind, with its length.
    Other(usize),
}

/// One request as an emulator received it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Recorded {
    /// What it was for: the emulator's operation name (`edit`, `create`, `poll`, `upload`).
    pub operation: &'static str,
    /// Whether it asked for paid work.
    pub paid: bool,
    /// `GET`, `POST`.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query string.
    pub query: Option<String>,
    /// Headers, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: RecordedBody,
    /// What was wrong with it, by the contract and the service's rules (empty for a good request).
    pub problems: Vec<String>,
    /// The request id the emulator answered it with.
    pub request_id: String,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// The JSON body, if it was one.
    pub fn json(&self) -> Option<&Value> {
        match &self.body {
            RecordedBody::Json(value) => Some(value),
            _ => None,
        }
    }

    /// The multipart fields, in order (empty for other bodies).
    pub fn parts(&self) -> &[Part] {
        match &self.body {
            RecordedBody::Multipart(parts) => parts,
            _ => &[],
        }
    }

    /// The text of a multipart field.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.parts().iter().find(|p| p.name == name).and_then(Part::as_text)
    }

    /// The names of the multipart fields, in order.
    pub fn names(&self) -> Vec<&str> {
        self.parts().iter().map(|p| p.name.as_str()).collect()
    }

    /// The multipart file parts with a name.
    pub fn files(&self, name: &str) -> Vec<&Part> {
        self.parts()
            .iter()
            .filter(|p| p.name == name && matches!(p.value, PartValue::File { .. }))
            .collect()
    }
}

/// What a request was, before it is recorded.
#[derive(Debug)]
pub struct Arrival<'a> {
    /// The operation name.
    pub operation: &'static str,
    /// Whether it asks for paid work.
    pub paid: bool,
    /// The method.
    pub method: &'a str,
    /// The path.
    pub path: &'a str,
    /// The query string.
    pub query: Option<&'a str>,
    /// The headers.
    pub headers: &'a HeaderMap,
}

/// The requests an emulator received, and its answers' problems.
#[derive(Debug, Default)]
pub struct Journal {
    prefix: &'static str,
    records: Mutex<Vec<Recorded>>,
    answer_problems: Mutex<Vec<String>>,
    counter: AtomicUsize,
}

impl Journal {
    /// A journal whose request ids start with `prefix` (`req_emu_`).
    pub fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            ..Self::default()
        }
    }

    /// Records a request and returns the request id to answer it with.
    pub fn record(&self, arrival: Arrival<'_>, body: RecordedBody, problems: Vec<String>) -> String {
        let k = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        let request_id = format!("{}{k}", self.prefix);
        let headers = arrival
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("<binary>").to_string(),
                )
            })
            .collect();
        lock(&self.records).push(Recorded {
            operation: arrival.operation,
            paid: arrival.paid,
            method: arrival.method.to_string(),
            path: arrival.path.to_string(),
            query: arrival.query.map(str::to_string),
            headers,
            body,
            problems,
            request_id: request_id.clone(),
        });
        request_id
    }

    /// Notes problems of an answer the emulator itself gave (an answer the contract would not allow).
    pub fn answer_problems(&self, problems: impl IntoIterator<Item = String>) {
        lock(&self.answer_problems).extend(problems);
    }

    /// Every request, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.records).clone()
    }

    /// How many requests of an operation arrived.
    pub fn count(&self, operation: &str) -> usize {
        lock(&self.records).iter().filter(|r| r.operation == operation).count()
    }

    /// How many paid requests arrived.
    pub fn paid_count(&self) -> usize {
        lock(&self.records).iter().filter(|r| r.paid).count()
    }

    /// Every problem: of the requests, and of the emulator's own answers.
    pub fn problems(&self) -> Vec<String> {
        let mut all: Vec<String> = lock(&self.records)
            .iter()
            .flat_map(|r| r.problems.iter().map(move |p| format!("{} {}: {p}", r.method, r.path)))
            .collect();
        all.extend(lock(&self.answer_problems).iter().cloned());
        all
    }
}
