//! Short-lived result URLs for `response_format=url`: the bytes kept in
//! memory under an unguessable token, gone after the TTL or when the memory
//! budget needs the room (oldest first).
//!
//! A token is 256 random bits, so the URL itself is the credential (as with
//! a presigned bucket URL): it can be handed to a browser without the gateway key.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use msgflux_core::ImageFormat;
use rand::RngCore as _;
use tokio::time::Instant;

/// The store.
#[derive(Debug)]
pub(crate) struct ResultStore {
    ttl: Duration,
    max_bytes: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Tokens oldest first, for expiry and eviction.
    order: VecDeque<String>,
    bytes: usize,
}

#[derive(Debug)]
struct Entry {
    bytes: Bytes,
    format: ImageFormat,
    expires: Instant,
}

impl ResultStore {
    pub(crate) fn new(ttl: Duration, max_bytes: usize) -> Self {
        Self {
            ttl,
            max_bytes,
            inner: Mutex::default(),
        }
    }

    /// Keeps a result; returns its token.
    pub(crate) fn put(&self, bytes: Bytes, format: ImageFormat) -> String {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        inner.bytes += bytes.len();
        inner.entries.insert(
            token.clone(),
            Entry {
                bytes,
                format,
                expires: now + self.ttl,
            },
        );
        inner.order.push_back(token.clone());
        // Drop the expired, then the oldest while over budget (never the one just added).
        while let Some(oldest) = inner.order.front().cloned() {
            let expired = inner.entries.get(&oldest).is_none_or(|e| e.expires <= now);
            let over = inner.bytes > self.max_bytes && oldest != token;
            if !(expired || over) {
                break;
            }
            inner.order.pop_front();
            if let Some(entry) = inner.entries.remove(&oldest) {
                inner.bytes -= entry.bytes.len();
            }
        }
        token
    }

    /// A result by token, while it lives.
    pub(crate) fn get(&self, token: &str) -> Option<(Bytes, ImageFormat)> {
        let inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        inner
            .entries
            .get(token)
            .filter(|entry| entry.expires > Instant::now())
            .map(|entry| (entry.bytes.clone(), entry.format))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_result_expires_after_its_ttl() {
        let store = ResultStore::new(Duration::from_secs(60), 1 << 20);
        let token = store.put(Bytes::from_static(b"png"), ImageFormat::Png);
        assert!(store.get(&token).is_some());
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(store.get(&token).is_none());
    }

    #[test]
    fn the_oldest_results_go_when_the_budget_is_full() {
        let store = ResultStore::new(Duration::from_secs(60), 10);
        let first = store.put(Bytes::from(vec![0; 6]), ImageFormat::Png);
        let second = store.put(Bytes::from(vec![0; 6]), ImageFormat::Png);
        assert!(store.get(&first).is_none());
        assert!(store.get(&second).is_some());
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let store = ResultStore::new(Duration::from_secs(60), 1 << 20);
        let a = store.put(Bytes::from_static(b"a"), ImageFormat::Png);
        let b = store.put(Bytes::from_static(b"b"), ImageFormat::Png);
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
