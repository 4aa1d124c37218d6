//! Exit codes, and the one place that maps a `msgflux::Error` to one.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | a check failed (`leak --max-leak`) |
//! | 2 | invalid input or usage (clap errors, `Error::InvalidInput`, unknown provider, missing key) |
//! | 3 | the provider or the service failed (refusals, rate limits, timeouts, network) |
//! | 4 | a batch finished but some jobs failed |
//! | 5 | a file could not be read or written |
//! | 130 | interrupted (Ctrl-C) |

use std::process::ExitCode;

use msgflux::Error;

/// How the program ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked.
    Success,
    /// The command ran but a check it was asked to make failed.
    CheckFailed,
    /// Bad arguments or input; nothing was sent.
    InvalidInput,
    /// The provider or the service failed.
    ProviderFailure,
    /// A batch finished with some failed jobs.
    PartialFailure,
    /// File I/O failed.
    Io,
    /// Ctrl-C.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::CheckFailed => 1,
            Self::InvalidInput => 2,
            Self::ProviderFailure => 3,
            Self::PartialFailure => 4,
            Self::Io => 5,
            Self::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

/// The exit code an error ends the program with.
pub fn for_error(err: &Error) -> Exit {
    match err {
        Error::InvalidInput { .. }
        | Error::Decode { .. }
        | Error::Config { .. }
        | Error::ProviderUnavailable { .. }
        | Error::DuplicateProvider { .. } => Exit::InvalidInput,
        Error::Io { .. } => Exit::Io,
        _ => Exit::ProviderFailure,
    }
}

/// A short machine-readable name for an error, for `--json` documents and the batch manifest.
pub fn error_kind(err: &Error) -> &'static str {
    match err {
        Error::ProviderUnavailable { .. } => "provider_unavailable",
        Error::DuplicateProvider { .. } => "duplicate_provider",
        Error::InvalidInput { .. } => "invalid_input",
        Error::Config { .. } => "config",
        Error::Unauthenticated(_) => "unauthenticated",
        Error::PermissionDenied(_) => "permission_denied",
        Error::ContentPolicy(_) => "content_policy",
        Error::RateLimited(_) => "rate_limited",
        Error::QuotaExceeded(_) => "quota_exceeded",
        Error::NotFound(_) => "not_found",
        Error::Rejected(_) => "rejected",
        Error::Server(_) => "server",
        Error::Cancelled(_) => "cancelled",
        Error::Timeout { .. } => "timeout",
        Error::Network { .. } => "network",
        Error::InvalidResponse { .. } => "invalid_response",
        Error::Decode { .. } => "decode",
        Error::Io { .. } => "io",
        _ => "other",
    }
}

/// The error as one line: its message, plus the provider's request id when
/// the message does not already carry it.
pub fn error_line(err: &Error) -> String {
    let message = err.to_string();
    match err.request_id() {
        Some(id) if !message.contains(id) => format!("{message} [request id {id}]"),
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use msgflux::ProviderError;

    #[test]
    fn invalid_input_ends_with_code_2() {
        assert_eq!(for_error(&Error::invalid("mask", "too big")).code(), 2);
    }

    #[test]
    fn provider_refusals_end_with_code_3() {
        let err = Error::ContentPolicy(Box::new(ProviderError::new("openai", "no")));
        assert_eq!(for_error(&err).code(), 3);
    }

    #[test]
    fn file_errors_end_with_code_5() {
        let err = Error::io("out/x.png", std::io::Error::other("disk full"));
        assert_eq!(for_error(&err).code(), 5);
    }

    #[test]
    fn the_error_line_adds_a_request_id_the_message_lacks() {
        let err = Error::InvalidResponse {
            provider: "openai".into(),
            message: "truncated".into(),
            request_id: Some("req_1".into()),
        };
        assert_eq!(error_line(&err).matches("req_1").count(), 1);
    }
}
