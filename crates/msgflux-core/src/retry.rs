//! Retries that never bill twice.
//!
//! A request is resent only when the error says the work was not done: a rate
//! limit, an explicit `x-should-retry: true`, a connection that failed before
//! the request went out, or (for idempotent requests, and for paid requests
//! whose provider guarantees that error answers are not billed) a server
//! error status. A timeout or a dropped connection after a paid request was
//! sent is never resent: the provider may have done the work.

use std::future::Future;
use std::time::Duration;

use rand::Rng as _;

use crate::error::{Error, Result};

/// Whether resending a request can cause its effect twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads (`GET` a prediction, download an output): safe to resend after any transient failure.
    Idempotent,
    /// Paid work (`POST` an edit, create a prediction): resent only when the work was certainly not done.
    Billable,
}

/// How often and how patiently to retry.
///
/// The defaults follow openai-python: 2 retries, backoff `min(0.5 * 2^k, 8)` s
/// with up to 25% jitter, and a server's `retry-after` honoured when it asks
/// for at most 60 s.
///
/// ```
/// use std::time::Duration;
/// let policy = msgflux_core::RetryPolicy::default().with_max_retries(5);
/// assert_eq!(policy.max_retries, 5);
/// assert_eq!(policy.backoff(0), Duration::from_millis(500));
/// assert_eq!(policy.backoff(10), Duration::from_secs(8));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff.
    pub initial_backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
    /// Longest `retry-after` honoured; a longer ask falls back to the backoff.
    pub max_retry_after: Duration,
    /// Fraction of each backoff removed at random (0 = none), to spread clients apart.
    pub jitter: f64,
    /// Whether a billable request is resent after an error status (408, 409, 5xx).
    /// True only for providers that do not bill requests answered with an error.
    pub resend_billable_on_error_status: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            jitter: 0.25,
            resend_billable_on_error_status: false,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Sets the number of retries.
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sets the backoff bounds.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Sets the longest honoured `retry-after`.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Sets the jitter fraction (0 to 1).
    pub fn with_jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction.clamp(0.0, 1.0);
        self
    }

    /// Sets whether billable requests are resent after error statuses.
    pub fn with_resend_billable_on_error_status(mut self, yes: bool) -> Self {
        self.resend_billable_on_error_status = yes;
        self
    }

    /// The backoff before retry number `retry` (0-based), without jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2f64.powi(retry.min(30) as i32);
        self.initial_backoff.mul_f64(factor).min(self.max_backoff)
    }

    /// Whether `err` allows another attempt of a request of this kind.
    pub fn allows_retry(&self, err: &Error, idempotency: Idempotency) -> bool {
        let billable = idempotency == Idempotency::Billable;
        if let Some(advice) = err.provider_error().and_then(|d| d.should_retry) {
            return advice;
        }
        match err {
            Error::RateLimited(_) => true,
            // A 503 that says when to come back did not take the work on.
            Error::Server(d) if d.status == Some(503) && d.retry_after.is_some() => true,
            Error::Server(_) => !billable || self.resend_billable_on_error_status,
            Error::Rejected(d) if matches!(d.status, Some(408 | 409)) => {
                !billable || self.resend_billable_on_error_status
            }
            Error::Network { request_sent, .. } => !billable || !request_sent,
            Error::Timeout { maybe_billed, .. } => !billable || !maybe_billed,
            Error::InvalidResponse { .. } => !billable,
            _ => false,
        }
    }

    /// The wait before retry number `retry`: the server's ask when reasonable, else jittered backoff.
    pub fn delay(&self, retry: u32, err: &Error) -> Duration {
        if let Some(wait) = err.retry_after()
            && wait <= self.max_retry_after
        {
            return wait;
        }
        let base = self.backoff(retry);
        if self.jitter <= 0.0 {
            return base;
        }
        let cut: f64 = rand::rng().random_range(0.0..self.jitter);
        base.mul_f64(1.0 - cut)
    }

    /// Runs `attempt` until it succeeds, fails for good, or retries run out.
    /// The final error records the number of attempts.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use msgflux_core::kit::Idempotency;
    /// use msgflux_core::RetryPolicy;
    /// let policy = RetryPolicy::none();
    /// let answer = policy.run("demo", Idempotency::Idempotent, |_attempt| async { Ok::<_, msgflux_core::Error>(42) }).await;
    /// assert_eq!(answer.unwrap(), 42);
    /// # }
    /// ```
    pub async fn run<T, F, Fut>(&self, operation: &str, idempotency: Idempotency, mut attempt: F) -> Result<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut retry = 0;
        loop {
            match attempt(retry).await {
                Ok(value) => return Ok(value),
                Err(mut err) => {
                    if retry >= self.max_retries || !self.allows_retry(&err, idempotency) {
                        if let Some(detail) = err.provider_error_mut() {
                            detail.attempts = retry + 1;
                        }
                        return Err(err);
                    }
                    let wait = self.delay(retry, &err);
                    tracing::warn!(operation, retry = retry + 1, ?wait, error = %err, "retrying");
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::ProviderError;

    fn detail() -> Box<ProviderError> {
        Box::new(ProviderError::new("p", "m"))
    }

    #[test]
    fn a_billable_request_is_not_resent_after_a_timeout() {
        let err = Error::Timeout {
            provider: "p".into(),
            after: Duration::from_secs(1),
            maybe_billed: true,
            message: String::new(),
        };
        assert!(!RetryPolicy::default().allows_retry(&err, Idempotency::Billable));
        assert!(RetryPolicy::default().allows_retry(&err, Idempotency::Idempotent));
    }

    #[test]
    fn a_billable_request_is_resent_when_the_connection_failed_before_sending() {
        let err = Error::Network {
            provider: "p".into(),
            request_sent: false,
            message: String::new(),
            source: None,
        };
        assert!(RetryPolicy::default().allows_retry(&err, Idempotency::Billable));
    }

    #[test]
    fn server_errors_on_billable_requests_follow_the_policy() {
        let err = Error::Server(detail());
        assert!(!RetryPolicy::default().allows_retry(&err, Idempotency::Billable));
        let lenient = RetryPolicy::default().with_resend_billable_on_error_status(true);
        assert!(lenient.allows_retry(&err, Idempotency::Billable));
    }

    #[test]
    fn quota_is_never_retried() {
        assert!(!RetryPolicy::default().allows_retry(&Error::QuotaExceeded(detail()), Idempotency::Idempotent));
    }

    #[test]
    fn an_unreasonable_retry_after_falls_back_to_backoff() {
        let policy = RetryPolicy::default().with_jitter(0.0);
        let err = Error::RateLimited(Box::new(
            ProviderError::new("p", "m").with_retry_after(Some(Duration::from_secs(3600))),
        ));
        assert_eq!(policy.delay(1, &err), Duration::from_secs(1));
        let err = Error::RateLimited(Box::new(
            ProviderError::new("p", "m").with_retry_after(Some(Duration::from_secs(3))),
        ));
        assert_eq!(policy.delay(1, &err), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn run_gives_up_after_max_retries_and_counts_attempts() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let result: Result<()> = RetryPolicy::default()
            .run("t", Idempotency::Billable, move |_| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    Err(Error::RateLimited(detail()))
                }
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(result.expect_err("fails").provider_error().expect("detail").attempts, 3);
    }
}
