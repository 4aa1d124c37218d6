//! What the program prints, in one place: human lines or `--json` documents
//! on stdout, notes and errors on stderr.
//!
//! Writes ignore a closed pipe (`msgflux providers | head`) instead of
//! panicking the way `println!` does.

use std::io::{IsTerminal as _, Write as _};

use msgflux::Error;
use serde_json::{Value, json};

use crate::exit;

/// The output mode of this run.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// Human output, or JSON when `json` is set.
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// True with `--json`.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// A result line on stdout (paths, URLs, tables), in human mode only.
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.json {
            write_stdout(text.as_ref());
        }
    }

    /// A note on stderr (what was ignored, cost, request id), in human mode only.
    pub fn note(&self, text: impl AsRef<str>) {
        if !self.json {
            write_stderr(text.as_ref());
        }
    }

    /// A warning on stderr, in both modes.
    pub fn warn(&self, text: impl AsRef<str>) {
        write_stderr(&format!("warning: {}", text.as_ref()));
    }

    /// The command's one JSON document on stdout, in JSON mode only.
    pub fn document(&self, value: &Value) {
        if self.json {
            write_stdout(&serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
        }
    }

    /// One JSON line on stdout (batch events), in JSON mode only.
    pub fn json_line(&self, value: &Value) {
        if self.json {
            write_stdout(&value.to_string());
        }
    }

    /// The error as one line on stderr (`error: invalid mask: ...`), and in
    /// JSON mode also on stdout as a JSON document on one line (so it is
    /// also a valid line of `batch --json` output).
    pub fn error(&self, err: &Error) {
        write_stderr(&format!("error: {}", exit::error_line(err)));
        self.json_line(&error_json(err));
    }

    /// True when stdout is a terminal (a person reads it rather than a script).
    pub fn stdout_is_terminal(&self) -> bool {
        std::io::stdout().is_terminal()
    }
}

/// An error as JSON: message, kind, exit code, request id and parameter.
pub fn error_json(err: &Error) -> Value {
    let param = match err {
        Error::InvalidInput { param, .. } => Some(param.clone()),
        _ => err.provider_error().and_then(|d| d.param.clone()),
    };
    json!({
        "error": {
            "message": err.to_string(),
            "kind": exit::error_kind(err),
            "exit_code": exit::for_error(err).code(),
            "param": param,
            "request_id": err.request_id(),
            "status": err.status(),
        }
    })
}

fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|_| out.flush());
}

fn write_stderr(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
