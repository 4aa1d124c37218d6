//! The one error type of msgflux.
//!
//! Every crate of the workspace returns [`Error`]. Its variants are semantic
//! (what went wrong, not which library noticed), so callers can match on them:
//!
//! ```
//! use msgflux_core::Error;
//!
//! fn explain(err: &Error) -> String {
//!     match err {
//!         Error::RateLimited(detail) => format!("slow down, retry in {:?}", detail.retry_after),
//!         Error::InvalidInput { param, rule, .. } => format!("fix `{param}`: {rule}"),
//!         Error::ContentPolicy(detail) => format!("refused: {}", detail.message),
//!         other => other.to_string(),
//!     }
//! }
//! # let _ = explain(&Error::invalid("n", "must be between 1 and 10, got 0"));
//! ```

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Shorthand for `Result<T, msgflux_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a provider said when it refused or failed a request.
///
/// Shared by every variant that comes from a provider's answer, so the
/// provider's own message, error code and request id survive the mapping to a
/// semantic [`Error`] variant.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderError {
    /// Registered provider name, for example `openai`.
    pub provider: String,
    /// HTTP status, when the error came from an HTTP answer.
    pub status: Option<u16>,
    /// The provider's machine-readable code (`content_policy_violation`, `insufficient_quota`, ...).
    pub code: Option<String>,
    /// The provider's human-readable message, verbatim.
    pub message: String,
    /// The request parameter the provider blamed, when it said.
    pub param: Option<String>,
    /// The provider's request id (`x-request-id`, prediction id), for support tickets.
    pub request_id: Option<String>,
    /// How long the provider asked us to wait (`retry-after-ms`, `retry-after`, `retry_after`).
    pub retry_after: Option<Duration>,
    /// The provider's explicit retry advice (`x-should-retry`).
    pub should_retry: Option<bool>,
    /// How many attempts were made before giving up (1 = no retry).
    pub attempts: u32,
}

impl ProviderError {
    /// A detail with a provider name and message; add the rest with the `with_*` methods.
    ///
    /// ```
    /// let detail = msgflux_core::ProviderError::new("openai", "Your request was rejected")
    ///     .with_status(400)
    ///     .with_code("moderation_blocked")
    ///     .with_request_id("req_123");
    /// assert_eq!(detail.status, Some(400));
    /// ```
    pub fn new(provider: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            message: message.into(),
            attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the provider's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets the parameter the provider blamed.
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Sets the provider's request id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Sets the wait the provider asked for.
    pub fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        self.retry_after = wait;
        self
    }

    /// Sets the provider's explicit retry advice.
    pub fn with_should_retry(mut self, advice: Option<bool>) -> Self {
        self.should_retry = advice;
        self
    }
}

impl fmt::Debug for ProviderError {
    // Hand-written so that empty fields do not drown the useful ones in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ProviderError");
        s.field("provider", &self.provider).field("message", &self.message);
        if let Some(v) = &self.status {
            s.field("status", v);
        }
        if let Some(v) = &self.code {
            s.field("code", v);
        }
        if let Some(v) = &self.param {
            s.field("param", v);
        }
        if let Some(v) = &self.request_id {
            s.field("request_id", v);
        }
        if let Some(v) = &self.retry_after {
            s.field("retry_after", v);
        }
        if let Some(v) = &self.should_retry {
            s.field("should_retry", v);
        }
        if self.attempts > 1 {
            s.field("attempts", &self.attempts);
        }
        s.finish()
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.provider)?;
        if let Some(status) = self.status {
            write!(f, " {status}")?;
        }
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(param) = &self.param {
            write!(f, " (param `{param}`)")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

/// One broken rule of a request: the parameter and the rule.
///
/// ```
/// let v = msgflux_core::Violation::new("image", "is JPEG; this model accepts PNG");
/// assert_eq!(v.to_string(), "image: is JPEG; this model accepts PNG");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Violation {
    /// The parameter, as the user wrote it (`mask`, `image[1]`, `n`, `option quality`).
    pub param: String,
    /// The rule it breaks, with the offending value.
    pub rule: String,
}

impl Violation {
    /// A broken rule.
    pub fn new(param: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            param: param.into(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.param, self.rule)
    }
}

/// The broken rules a check collects, so that one answer lists them all.
///
/// Validation steps (the capability table, then the provider's own
/// [`check`](crate::kit::EditProvider::check)) push into one collector; the
/// request is refused if it is not empty afterwards.
///
/// ```
/// use msgflux_core::kit::Violations;
/// let mut violations = Violations::new();
/// violations.push("image", "is JPEG; this model accepts PNG");
/// violations.push("n", "must be between 1 and 10 for this model, got 12");
/// let err = violations.into_result().unwrap_err();
/// assert_eq!(err.violations().len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a broken rule (once: the same rule found twice is listed once).
    pub fn push(&mut self, param: impl Into<String>, rule: impl Into<String>) {
        self.add(Violation::new(param, rule));
    }

    /// Records several broken rules.
    pub fn extend(&mut self, violations: impl IntoIterator<Item = Violation>) {
        violations.into_iter().for_each(|v| self.add(v));
    }

    fn add(&mut self, violation: Violation) {
        if !self.0.contains(&violation) {
            self.0.push(violation);
        }
    }

    /// Records the rules of an [`Error::InvalidInput`]; any other error is
    /// returned, for the caller to stop on.
    pub fn absorb(&mut self, err: Error) -> Result<()> {
        match err {
            Error::InvalidInput { .. } => {
                self.extend(err.violations());
                Ok(())
            }
            other => Err(other),
        }
    }

    /// Whether nothing is broken.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many rules are broken.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The broken rules, in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &Violation> {
        self.0.iter()
    }

    /// `Ok(())` when nothing is broken, else one [`Error::InvalidInput`] listing every rule.
    pub fn into_result(self) -> Result<()> {
        match Error::invalid_all(self.0) {
            None => Ok(()),
            Some(err) => Err(err),
        }
    }
}

/// Every way an image edit can fail.
///
/// `#[non_exhaustive]`: match the variants you care about and keep a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No provider is registered under this name (Python msgflux raises `ImportError`).
    #[error("{}", unavailable_message(provider, registered, hint))]
    ProviderUnavailable {
        /// The provider name that was asked for.
        provider: String,
        /// Registered provider names, sorted.
        registered: Vec<String>,
        /// How to add it (for built-in providers, the `msgflux` cargo feature), when known.
        hint: Option<&'static str>,
    },

    /// Two registrations claim one provider name.
    #[error(
        "provider `{name}` is registered twice (by `{first}` and by `{second}`); remove one of the crates or register one under another name"
    )]
    DuplicateProvider {
        /// The contested provider name.
        name: String,
        /// Crate of the first registration.
        first: String,
        /// Crate of the second registration.
        second: String,
    },

    /// A parameter breaks a rule; nothing was sent.
    ///
    /// `param` and `rule` are the first broken rule; `others` holds every
    /// further one found by the same check, so one answer lists them all
    /// ([`Error::violations`] gives the whole list).
    #[error("invalid {param}: {rule}{}", others_suffix(others))]
    #[non_exhaustive]
    InvalidInput {
        /// The parameter, as the user wrote it (`mask`, `image[1]`, `n`, `option quality`).
        param: String,
        /// The rule it breaks, with the offending value (`mask is 512x512 but image is 1024x1024`).
        rule: String,
        /// The other rules the same request breaks, in the order they were found.
        others: Vec<Violation>,
    },

    /// The provider is misconfigured: a missing key, a bad base URL.
    #[error("configuration: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The credentials were missing, wrong or expired (HTTP 401).
    #[error("authentication failed: {0}")]
    Unauthenticated(Box<ProviderError>),

    /// The credentials are valid but not allowed to do this (HTTP 403).
    #[error("permission denied: {0}")]
    PermissionDenied(Box<ProviderError>),

    /// The provider refused the prompt or image on policy grounds.
    #[error("refused by content policy: {0}")]
    ContentPolicy(Box<ProviderError>),

    /// Too many requests; `retry_after` says how long the provider asked to wait.
    #[error("rate limited: {0}")]
    RateLimited(Box<ProviderError>),

    /// The account is out of credit or over its quota; retrying will not help.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(Box<ProviderError>),

    /// The model, prediction, deployment or output does not exist (or expired).
    #[error("not found: {0}")]
    NotFound(Box<ProviderError>),

    /// The provider rejected the request for another reason (HTTP 400, 409, 413, 422).
    #[error("rejected by provider: {0}")]
    Rejected(Box<ProviderError>),

    /// The provider failed on its side (HTTP 5xx, a failed prediction).
    #[error("provider failure: {0}")]
    Server(Box<ProviderError>),

    /// The job was cancelled or aborted on the provider's side.
    #[error("cancelled: {0}")]
    Cancelled(Box<ProviderError>),

    /// No answer in time.
    #[error("{}", timeout_message(provider, *after, *maybe_billed, message))]
    Timeout {
        /// Registered provider name (or `batch` for a batch item's timeout).
        provider: String,
        /// The limit that ran out.
        after: Duration,
        /// True when the request had been sent: the provider may have done (and billed) the work.
        maybe_billed: bool,
        /// What was being waited for.
        message: String,
    },

    /// The connection failed.
    #[error("{}", network_message(provider, *request_sent, message))]
    Network {
        /// Registered provider name, or `input` for input downloads.
        provider: String,
        /// False when the connection failed before the request was sent (safe to resend).
        request_sent: bool,
        /// What failed.
        message: String,
        /// The underlying transport error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The provider answered with something we cannot read (truncated JSON, an HTML page).
    #[error("unreadable answer from {provider}: {message}{}", request_id_suffix(request_id))]
    InvalidResponse {
        /// Registered provider name.
        provider: String,
        /// What was wrong, with the start of the body.
        message: String,
        /// The provider's request id, when it sent one.
        request_id: Option<String>,
    },

    /// Image bytes could not be decoded or encoded.
    #[error("cannot decode {what}: {message}")]
    Decode {
        /// What was being decoded (`image[0]`, `mask`, `result 2`).
        what: String,
        /// Why.
        message: String,
    },

    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

fn others_suffix(others: &[Violation]) -> String {
    others.iter().map(|v| format!("; also invalid {v}")).collect()
}

fn unavailable_message(provider: &str, registered: &[String], hint: &Option<&'static str>) -> String {
    let mut msg = format!("provider `{provider}` is not available");
    match hint {
        Some(hint) => msg.push_str(&format!("; {hint}")),
        None => msg.push_str(
            "; if it comes from a third-party crate, add the crate and name it once (`use the_crate as _;`) so it is linked",
        ),
    }
    if registered.is_empty() {
        msg.push_str("; no providers are registered");
    } else {
        msg.push_str(&format!("; registered: {}", registered.join(", ")));
    }
    msg
}

fn timeout_message(provider: &str, after: Duration, maybe_billed: bool, message: &str) -> String {
    let mut msg = format!("{provider}: timed out after {after:?} {message}");
    if maybe_billed {
        msg.push_str(
            "; the request had been sent, so the provider may have done and billed the work; it was not retried automatically",
        );
    }
    msg
}

fn network_message(provider: &str, request_sent: bool, message: &str) -> String {
    if request_sent {
        format!("{provider}: connection failed after the request was sent: {message}")
    } else {
        format!("{provider}: connection failed before the request was sent: {message}")
    }
}

fn request_id_suffix(id: &Option<String>) -> String {
    id.as_ref().map(|id| format!(" [request id {id}]")).unwrap_or_default()
}

/// The variants that carry a [`ProviderError`], listed once: `$body` with the
/// detail bound to `$d`, `$other` for every other variant.
macro_rules! with_detail {
    ($error:expr, $d:ident => $body:expr, $other:expr) => {
        match $error {
            Error::Unauthenticated($d)
            | Error::PermissionDenied($d)
            | Error::ContentPolicy($d)
            | Error::RateLimited($d)
            | Error::QuotaExceeded($d)
            | Error::NotFound($d)
            | Error::Rejected($d)
            | Error::Server($d)
            | Error::Cancelled($d) => $body,
            _ => $other,
        }
    };
}

impl Error {
    /// An [`Error::InvalidInput`] naming the parameter and the rule it breaks.
    ///
    /// ```
    /// let err = msgflux_core::Error::invalid("mask", "mask is 512x512 but image is 1024x1024");
    /// assert_eq!(err.to_string(), "invalid mask: mask is 512x512 but image is 1024x1024");
    /// ```
    pub fn invalid(param: impl Into<String>, rule: impl Into<String>) -> Self {
        Self::InvalidInput {
            param: param.into(),
            rule: rule.into(),
            others: Vec::new(),
        }
    }

    /// An [`Error::InvalidInput`] listing several broken rules, or `None`
    /// when the list is empty.
    ///
    /// ```
    /// use msgflux_core::{Error, Violation};
    /// let err = Error::invalid_all(vec![
    ///     Violation::new("image", "is JPEG; this model accepts PNG"),
    ///     Violation::new("image", "is 600x400; this model needs a square image"),
    /// ]).unwrap();
    /// assert_eq!(err.violations().len(), 2);
    /// assert!(err.to_string().contains("also invalid image: is 600x400"));
    /// ```
    pub fn invalid_all(violations: impl IntoIterator<Item = Violation>) -> Option<Self> {
        let mut all = violations.into_iter();
        let first = all.next()?;
        Some(Self::InvalidInput {
            param: first.param,
            rule: first.rule,
            others: all.collect(),
        })
    }

    /// Every broken rule an [`Error::InvalidInput`] carries, first one first;
    /// empty for other errors.
    pub fn violations(&self) -> Vec<Violation> {
        match self {
            Self::InvalidInput { param, rule, others } => std::iter::once(Violation::new(param.clone(), rule.clone()))
                .chain(others.iter().cloned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// An [`Error::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
        }
    }

    /// An [`Error::Decode`].
    pub fn decode(what: impl Into<String>, message: impl fmt::Display) -> Self {
        Self::Decode {
            what: what.into(),
            message: message.to_string(),
        }
    }

    /// An [`Error::Io`] for a path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// The provider's answer behind this error, when there was one.
    pub fn provider_error(&self) -> Option<&ProviderError> {
        with_detail!(self, d => Some(d), None)
    }

    pub(crate) fn provider_error_mut(&mut self) -> Option<&mut ProviderError> {
        with_detail!(self, d => Some(d), None)
    }

    /// The provider's request id, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::InvalidResponse { request_id, .. } => request_id.as_deref(),
            _ => self.provider_error()?.request_id.as_deref(),
        }
    }

    /// The wait the provider asked for before a retry.
    pub fn retry_after(&self) -> Option<Duration> {
        self.provider_error()?.retry_after
    }

    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.provider_error()?.status
    }

    /// True when the same request may succeed later unchanged: rate limits,
    /// server failures, timeouts, connection failures.
    ///
    /// This says nothing about billing: see [`Error::may_have_been_billed`]
    /// before resending a paid request yourself.
    ///
    /// ```
    /// use msgflux_core::{Error, ProviderError};
    /// let limited = Error::RateLimited(Box::new(ProviderError::new("openai", "slow down")));
    /// assert!(limited.is_retryable());
    /// let quota = Error::QuotaExceeded(Box::new(ProviderError::new("openai", "no credit")));
    /// assert!(!quota.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        if let Some(advice) = self.provider_error().and_then(|d| d.should_retry) {
            return advice;
        }
        match self {
            Self::RateLimited(_) | Self::Server(_) | Self::Timeout { .. } | Self::Network { .. } => true,
            Self::Rejected(d) => matches!(d.status, Some(408 | 409)),
            _ => false,
        }
    }

    /// True when the provider may have done (and billed) the work although we
    /// got no usable answer: a timeout or a dropped connection after the
    /// request was sent.
    pub fn may_have_been_billed(&self) -> bool {
        match self {
            Self::Timeout { maybe_billed, .. } => *maybe_billed,
            Self::Network { request_sent, .. } => *request_sent,
            Self::InvalidResponse { .. } => true,
            _ => false,
        }
    }
}

impl From<image::ImageError> for Error {
    fn from(err: image::ImageError) -> Self {
        match err {
            image::ImageError::Limits(limit) => Error::invalid("image", format!("over a safety limit: {limit}")),
            image::ImageError::IoError(io) => Error::Io {
                path: PathBuf::new(),
                source: io,
            },
            other => Error::decode("image", other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_error_lists_registered_providers_and_the_hint() {
        let err = Error::ProviderUnavailable {
            provider: "openai".into(),
            registered: vec!["local".into(), "replicate".into()],
            hint: Some("enable the `openai` feature"),
        };
        let text = err.to_string();
        assert!(text.contains("provider `openai` is not available"), "{text}");
        assert!(text.contains("; enable the `openai` feature"), "{text}");
        assert!(text.contains("registered: local, replicate"), "{text}");
    }

    #[test]
    fn unknown_third_party_provider_error_explains_linking() {
        let err = Error::ProviderUnavailable {
            provider: "acme".into(),
            registered: vec![],
            hint: None,
        };
        let text = err.to_string();
        assert!(text.contains("use the_crate as _;"), "{text}");
        assert!(text.contains("no providers are registered"), "{text}");
    }

    #[test]
    fn provider_message_and_request_id_survive_display() {
        let err = Error::ContentPolicy(Box::new(
            ProviderError::new("openai", "Your request was rejected")
                .with_status(400)
                .with_code("content_policy_violation")
                .with_request_id("req_42"),
        ));
        let text = err.to_string();
        assert!(text.contains("Your request was rejected"), "{text}");
        assert!(text.contains("req_42"), "{text}");
        assert_eq!(err.request_id(), Some("req_42"));
        assert_eq!(err.status(), Some(400));
    }

    #[test]
    fn explicit_should_retry_overrides_the_variant() {
        let err = Error::Server(Box::new(
            ProviderError::new("openai", "boom").with_should_retry(Some(false)),
        ));
        assert!(!err.is_retryable());
        let err = Error::Rejected(Box::new(
            ProviderError::new("openai", "odd").with_should_retry(Some(true)),
        ));
        assert!(err.is_retryable());
    }

    #[test]
    fn a_timeout_after_sending_says_it_may_have_been_billed() {
        let err = Error::Timeout {
            provider: "openai".into(),
            after: Duration::from_secs(600),
            maybe_billed: true,
            message: "waiting for the edit".into(),
        };
        assert!(err.may_have_been_billed());
        assert!(err.to_string().contains("may have done and billed"));
    }
}
