//! The one fault type every emulator takes, and the script that hands
//! faults to requests: the next paid request, the next request of a named
//! operation, or every request whose prompt contains some text.

use std::sync::Mutex;
use std::time::Duration;

/// What an emulator does instead of (or on the way to) a normal answer.
///
/// Each emulator renders a fault in its provider's own words (OpenAI's error
/// body, Replicate's problem+json, a failed prediction); a fault an emulator
/// cannot render is recorded as a problem of the request it was meant for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Too many requests: 429, asking to wait this long (header and body, as the provider does).
    RateLimited {
        /// The wait asked for.
        retry_after: Duration,
    },
    /// Out of credit or over the quota (OpenAI's `insufficient_quota`, Replicate's 402).
    QuotaExceeded,
    /// The provider refuses the prompt or image on policy grounds.
    ContentPolicy,
    /// A server failure with this status (500, 502, 503).
    ServerError {
        /// HTTP status.
        status: u16,
    },
    /// 503 asking to come back after this long.
    Unavailable {
        /// The wait asked for.
        retry_after: Duration,
    },
    /// The provider rejects one field of the request (400 or 422 naming it).
    Rejected {
        /// The field, as the provider names it (`input.num_outputs`, `size`).
        field: String,
        /// Why.
        message: String,
    },
    /// An error body in the provider's shape with any status and code, plus headers.
    Status {
        /// HTTP status.
        status: u16,
        /// The provider's error code (`rate_limit_exceeded`).
        code: String,
        /// Extra headers (`x-should-retry: false`).
        headers: Vec<(String, String)>,
    },
    /// Any status, content type and body.
    Raw {
        /// HTTP status.
        status: u16,
        /// Content-Type.
        content_type: String,
        /// Body.
        body: String,
    },
    /// Accept the request and never answer.
    Hang,
    /// Accept the request, wait this long, then answer normally: the work is
    /// done (and billed) whether or not the client still waits.
    Delay(Duration),
    /// A success whose image is not an image file.
    NotAnImage,
    /// Stream this many partial images, then stall without completing.
    StallAfterPartials(u32),
    /// Stream this many partial images, then an error event with this code.
    StreamErrorAfterPartials(u32, String),
    /// An asynchronous job (a prediction) that takes this many polls and ends so.
    Job {
        /// Polls before it ends (0: done when created).
        polls: u32,
        /// How it ends.
        end: JobEnd,
    },
}

impl Fault {
    /// 429 asking to wait `millis` milliseconds.
    pub fn rate_limited_ms(millis: u64) -> Self {
        Self::RateLimited {
            retry_after: Duration::from_millis(millis),
        }
    }

    /// A job that succeeds after `polls` polls.
    pub fn slow_job(polls: u32) -> Self {
        Self::Job {
            polls,
            end: JobEnd::Succeed,
        }
    }

    /// A job that fails with `error` after `polls` polls.
    pub fn failed_job(polls: u32, error: &str) -> Self {
        Self::Job {
            polls,
            end: JobEnd::Fail(error.to_string()),
        }
    }
}

/// How an asynchronous job ends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobEnd {
    /// With results.
    Succeed,
    /// Failed with this error text.
    Fail(String),
    /// Cancelled on the provider's side (a deadline passed while it ran).
    Cancel,
    /// Aborted before it started.
    Abort,
    /// Refused by the provider's moderation.
    Moderated,
    /// Never ends on its own (only a cancel stops it).
    Never,
}

/// Which requests a queued fault is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// The next paid request (an edit, a prediction create).
    Paid,
    /// The next request of this operation (`poll`, `upload`).
    Operation(&'static str),
}

/// The faults waiting for requests.
#[derive(Debug, Default)]
pub struct Script {
    queued: Mutex<Vec<(Target, Fault)>>,
    rules: Mutex<Vec<(String, Fault)>>,
}

impl Script {
    /// Queues a fault for the next paid request (after those queued before it).
    pub fn next_paid(&self, fault: Fault) {
        lock(&self.queued).push((Target::Paid, fault));
    }

    /// Queues a fault for the next request of `operation`.
    pub fn next_of(&self, operation: &'static str, fault: Fault) {
        lock(&self.queued).push((Target::Operation(operation), fault));
    }

    /// Answers every later request whose prompt contains `needle` with
    /// `fault`, before anything queued: for clients that send several
    /// requests at once, whose order a queue cannot know.
    pub fn when_prompt_contains(&self, needle: &str, fault: Fault) {
        lock(&self.rules).push((needle.to_string(), fault));
    }

    /// The fault for a request of `operation` (paid or not, with its prompt if any).
    pub fn take(&self, operation: &'static str, paid: bool, prompt: Option<&str>) -> Option<Fault> {
        if let Some(prompt) = prompt
            && let Some((_, fault)) = lock(&self.rules)
                .iter()
                .find(|(needle, _)| prompt.contains(needle.as_str()))
        {
            return Some(fault.clone());
        }
        let mut queued = lock(&self.queued);
        let index = queued.iter().position(|(target, _)| match target {
            Target::Paid => paid,
            Target::Operation(op) => *op == operation,
        })?;
        Some(queued.remove(index).1)
    }
}

/// Locks a mutex, also after a panic elsewhere.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_faults_go_to_their_own_requests_in_order() {
        let script = Script::default();
        script.next_of("poll", Fault::ServerError { status: 500 });
        script.next_paid(Fault::QuotaExceeded);
        script.next_paid(Fault::Hang);
        assert_eq!(script.take("upload", false, None), None);
        assert_eq!(script.take("create", true, None), Some(Fault::QuotaExceeded));
        assert_eq!(
            script.take("poll", false, None),
            Some(Fault::ServerError { status: 500 })
        );
        assert_eq!(script.take("create", true, None), Some(Fault::Hang));
        assert_eq!(script.take("create", true, None), None);
    }

    #[test]
    fn prompt_rules_win_and_stay() {
        let script = Script::default();
        script.next_paid(Fault::QuotaExceeded);
        script.when_prompt_contains("hang", Fault::Hang);
        assert_eq!(script.take("edit", true, Some("please hang")), Some(Fault::Hang));
        assert_eq!(script.take("edit", true, Some("hang again")), Some(Fault::Hang));
        assert_eq!(script.take("edit", true, Some("fine")), Some(Fault::QuotaExceeded));
    }
}
