//! Gateway keys: who may call, compared in constant time, and each key's
//! own concurrency and rate limits.

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use subtle::ConstantTimeEq as _;
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::config::ResolvedKey;
use crate::wire::ApiError;

/// The keys, or none (then every caller is the anonymous one).
#[derive(Debug)]
pub(crate) struct Keys {
    keys: Vec<Arc<Caller>>,
    anonymous: Arc<Caller>,
}

/// Who is calling, with that caller's limits.
#[derive(Debug)]
pub(crate) struct Caller {
    pub(crate) name: String,
    secret: Vec<u8>,
    models: Vec<String>,
    in_flight: Arc<Semaphore>,
    rate: Option<Mutex<TokenBucket>>,
}

impl Keys {
    pub(crate) fn new(keys: Vec<ResolvedKey>, anonymous_concurrency: usize) -> Self {
        let keys = keys.into_iter().map(|key| Arc::new(Caller::new(key))).collect();
        let anonymous = Arc::new(Caller::new(ResolvedKey {
            name: "anonymous".into(),
            secret: String::new(),
            concurrency: anonymous_concurrency,
            requests_per_minute: 0,
            models: Vec::new(),
        }));
        Self { keys, anonymous }
    }

    /// Whether any key is configured.
    pub(crate) fn required(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The caller a request's `Authorization` header names.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<Arc<Caller>, ApiError> {
        if !self.required() {
            return Ok(self.anonymous.clone());
        }
        let presented = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthenticated(
                    "missing gateway key: send it as `Authorization: Bearer <key>` (the SDKs' api_key)",
                )
            })?;
        // Compare against every key, always, so the time taken says nothing about which matched.
        let mut found = None;
        for caller in &self.keys {
            if bool::from(caller.secret.as_slice().ct_eq(presented.as_bytes())) {
                found = Some(caller.clone());
            }
        }
        found.ok_or_else(|| ApiError::unauthenticated("the gateway key is not valid"))
    }
}

impl Caller {
    fn new(key: ResolvedKey) -> Self {
        let rate = (key.requests_per_minute > 0).then(|| Mutex::new(TokenBucket::per_minute(key.requests_per_minute)));
        Self {
            name: key.name,
            secret: key.secret.into_bytes(),
            models: key.models,
            in_flight: Arc::new(Semaphore::new(key.concurrency.max(1))),
            rate,
        }
    }

    /// Whether this caller may use the model (named as asked, or as resolved).
    pub(crate) fn may_use(&self, asked: &str, resolved: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|m| m == asked || m == resolved)
    }

    /// A slot of this caller's concurrency, and a token of its rate, or 429.
    pub(crate) async fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Some(rate) = &self.rate
            && let Err(wait) = rate.lock().await.take()
        {
            return Err(ApiError::rate_limited(
                format!("key `{}` is over its requests-per-minute limit", self.name),
                wait,
            ));
        }
        self.in_flight.clone().try_acquire_owned().map_err(|_| {
            ApiError::rate_limited(
                format!(
                    "key `{}` has its most requests in flight; retry when one finishes",
                    self.name
                ),
                Duration::from_secs(1),
            )
        })
    }
}

/// A token bucket refilled continuously: `capacity` requests at once, then
/// one per `capacity`-th of a minute. Twenty lines; a crate such as governor
/// would bring its own clock and maps for the same arithmetic.
#[derive(Debug)]
struct TokenBucket {
    capacity: f64,
    tokens: f64,
    per_second: f64,
    last: Instant,
}

impl TokenBucket {
    fn per_minute(n: u32) -> Self {
        let capacity = f64::from(n);
        Self {
            capacity,
            tokens: capacity,
            per_second: capacity / 60.0,
            last: Instant::now(),
        }
    }

    /// Takes a token, or says how long until one is there.
    fn take(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.per_second).max(Duration::from_millis(1)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, secret: &str) -> ResolvedKey {
        ResolvedKey {
            name: name.into(),
            secret: secret.into(),
            concurrency: 1,
            requests_per_minute: 0,
            models: vec![],
        }
    }

    fn bearer(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_matching_key_names_the_caller() {
        let keys = Keys::new(vec![key("a", "aaaaaaaaaaaaaaaa"), key("b", "bbbbbbbbbbbbbbbb")], 1);
        let caller = keys.authenticate(&bearer("Bearer bbbbbbbbbbbbbbbb")).unwrap();
        assert_eq!(caller.name, "b");
    }

    #[test]
    fn a_wrong_or_missing_key_is_refused() {
        let keys = Keys::new(vec![key("a", "aaaaaaaaaaaaaaaa")], 1);
        assert!(keys.authenticate(&bearer("Bearer aaaaaaaaaaaaaaab")).is_err());
        assert!(keys.authenticate(&bearer("Bearer aaaa")).is_err());
        assert!(keys.authenticate(&HeaderMap::new()).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limit_refills_over_time() {
        let mut bucket = TokenBucket::per_minute(2);
        assert!(bucket.take().is_ok());
        assert!(bucket.take().is_ok());
        let wait = bucket.take().unwrap_err();
        assert!(
            wait <= Duration::from_secs(30) && wait > Duration::from_secs(29),
            "{wait:?}"
        );
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(bucket.take().is_ok());
    }

    #[tokio::test]
    async fn a_key_at_its_concurrency_limit_gets_429() {
        let keys = Keys::new(vec![key("a", "aaaaaaaaaaaaaaaa")], 1);
        let caller = keys.authenticate(&bearer("Bearer aaaaaaaaaaaaaaaa")).unwrap();
        let _held = caller.admit().await.unwrap();
        let err = caller.admit().await.unwrap_err();
        assert_eq!(err.status.as_u16(), 429);
    }
}
