//! The one place that talks HTTP: the `x-key` header on every API call,
//! the submit (billable: resent only when the work was certainly not done),
//! polling the `polling_url` BFL returns (only on BFL's hosts or the
//! configured base URL's), result downloads within the call, capped reads,
//! redacted URLs, and the single call site of [`parse_error`].

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use msgflux_core::kit::http::{self, BodyError, read_body, redact_url};
use msgflux_core::kit::{ExposeSecret as _, Idempotency, SecretString};
use msgflux_core::{Error, ProviderError, Result, RetryPolicy};
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::error::{invalid_response, parse_error, task_ended};
use crate::registration::BFL_SCHEME;

/// BFL's answer to a submit (`AsyncResponse`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Submitted {
    pub(crate) id: String,
    pub(crate) polling_url: String,
    /// Credits charged for the task.
    pub(crate) cost: Option<f64>,
    pub(crate) input_mp: Option<f64>,
    pub(crate) output_mp: Option<f64>,
}

/// A poll answer (`ResultResponse`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TaskState {
    #[serde(default)]
    pub(crate) id: String,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) result: Value,
    #[serde(default)]
    pub(crate) details: Value,
}

/// A task that ended `Ready`.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    /// The signed result URL (`result.sample`).
    pub(crate) sample: String,
    /// The seed BFL reports it used, if any.
    pub(crate) seed: Option<u64>,
    /// Polls it took.
    pub(crate) polls: u32,
}

/// How long and how often to poll.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Polling {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
    /// When the caller's patience runs out.
    pub(crate) deadline: Instant,
}

/// Talks to one BFL base URL with one key.
#[derive(Clone)]
pub(crate) struct BflClient {
    http: reqwest::Client,
    base_url: url::Url,
    key: SecretString,
    retry: RetryPolicy,
    timeout: Duration,
}

impl fmt::Debug for BflClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BflClient")
            .field("base_url", &self.base_url.as_str())
            .field("key", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The largest API answer (JSON) read into memory.
const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

impl BflClient {
    pub(crate) fn new(
        http: reqwest::Client,
        base_url: url::Url,
        key: SecretString,
        retry: RetryPolicy,
        timeout: Duration,
    ) -> Self {
        Self {
            http,
            base_url,
            key,
            retry,
            timeout,
        }
    }

    /// The key as a header value, marked sensitive so that it is never logged.
    fn key_header(&self) -> Result<HeaderValue> {
        http::secret_value(self.key.expose_secret(), "BFL API key")
    }

    /// Sends what `make` builds under the retry policy, and reads the answer;
    /// error answers go through [`parse_error`].
    async fn send<F>(&self, operation: &str, idempotency: Idempotency, make: F) -> Result<(HeaderMap, Bytes)>
    where
        F: Fn() -> Result<reqwest::RequestBuilder>,
    {
        let billable = idempotency == Idempotency::Billable;
        self.retry
            .run(operation, idempotency, |_attempt| {
                let request = make();
                async move {
                    let response = request?
                        .timeout(self.timeout)
                        .send()
                        .await
                        .map_err(|e| http::transport_error(BFL_SCHEME, e, Some(self.timeout)))?;
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = read_body(response, MAX_ANSWER_BYTES, Some(self.timeout))
                        .await
                        .map_err(|err| body_error(err, operation, billable, self.timeout))?;
                    if !status.is_success() {
                        return Err(parse_error(status.as_u16(), &headers, &body));
                    }
                    Ok((headers, body))
                }
            })
            .await
    }

    /// Submits a task to `POST /v1/{model}` (paid).
    pub(crate) async fn submit(&self, model: &str, body: &Map<String, Value>) -> Result<Submitted> {
        let url = format!("{}/v1/{model}", self.base_url.as_str().trim_end_matches('/'));
        let (headers, answer) = self
            .send("submitting the task", Idempotency::Billable, || {
                Ok(self
                    .http
                    .post(&url)
                    .header("x-key", self.key_header()?)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .json(body))
            })
            .await?;
        let submitted: Submitted = decode(&headers, &answer, "reading the submitted task")?;
        tracing::debug!(id = %submitted.id, polling_url = %redact_url(&submitted.polling_url), "task submitted");
        Ok(submitted)
    }

    /// Polls the task until it is `Ready` or ends otherwise, pausing
    /// `initial` growing by half up to `max`. BFL tasks cannot be cancelled,
    /// so a deadline only stops the waiting.
    pub(crate) async fn wait(&self, task: &Submitted, polling: Polling) -> Result<Finished> {
        let url = self.polling_url(task)?;
        let started = Instant::now();
        let mut pause = polling.initial;
        let mut polls: u32 = 0;
        let mut last_error: Option<Error> = None;
        loop {
            let now = Instant::now();
            if now >= polling.deadline {
                return Err(timed_out(task, polls, started.elapsed(), last_error));
            }
            tokio::time::sleep(pause.min(polling.deadline - now)).await;
            pause = pause.mul_f64(1.5).min(polling.max);
            if Instant::now() >= polling.deadline {
                continue;
            }
            polls += 1;
            let polled = self
                .send("polling the task", Idempotency::Idempotent, || {
                    Ok(self.http.get(url.clone()).header("x-key", self.key_header()?))
                })
                .await
                .and_then(|(headers, body)| decode::<TaskState>(&headers, &body, "reading the task's state"));
            let state = match polled {
                Ok(state) => state,
                // A transient failure of one poll does not end the task: try again later.
                Err(err) if err.is_retryable() => {
                    tracing::warn!(id = %task.id, error = %err, "a poll failed; polling on");
                    last_error = Some(err);
                    continue;
                }
                Err(err) => return Err(err),
            };
            tracing::trace!(id = %task.id, status = %state.status, polls, "polled");
            if state.status == "Ready" {
                return finished(task, &state, polls);
            }
            let id = if state.id.is_empty() { &task.id } else { &state.id };
            if let Some(err) = task_ended(id, &state.status, &state.details) {
                return Err(err);
            }
        }
    }

    /// The task's `polling_url`, when it is on a host of the provider.
    fn polling_url(&self, task: &Submitted) -> Result<url::Url> {
        let shown = redact_url(&task.polling_url);
        let url = url::Url::parse(&task.polling_url)
            .map_err(|e| invalid_response(format!("the polling_url `{shown}` is not a URL: {e}"), Some(&task.id)))?;
        if !(self.same_origin(&url) || bfl_host(&url, "api")) {
            return Err(invalid_response(
                format!(
                    "the polling_url `{shown}` is not on a BFL API host nor on the configured base URL's; it was not fetched (the task may still be billed)"
                ),
                Some(&task.id),
            ));
        }
        Ok(url)
    }

    /// Downloads a result within `max_bytes`. Only BFL's delivery hosts
    /// (and the configured base URL's origin) are fetched; the key is never
    /// sent with a download: the URL is signed.
    pub(crate) async fn download(&self, sample: &str, what: &str, max_bytes: u64, task_id: &str) -> Result<Bytes> {
        let shown = redact_url(sample);
        let url = url::Url::parse(sample)
            .map_err(|e| invalid_response(format!("{what}'s URL `{shown}` is not a URL: {e}"), Some(task_id)))?;
        if !(self.same_origin(&url) || bfl_host(&url, "delivery")) {
            return Err(invalid_response(
                format!("{what} is at `{shown}`, not on a BFL delivery host; it was not fetched"),
                Some(task_id),
            ));
        }
        self.retry
            .run(what, Idempotency::Idempotent, |_attempt| {
                let request = self.http.get(url.clone()).timeout(self.timeout);
                let shown = shown.clone();
                async move {
                    let response = request
                        .send()
                        .await
                        .map_err(|e| http::transport_error(BFL_SCHEME, e, Some(self.timeout)))?;
                    let status = response.status().as_u16();
                    if matches!(status, 403 | 404 | 410) {
                        return Err(Error::NotFound(Box::new(
                            ProviderError::new(
                                BFL_SCHEME,
                                format!(
                                    "{what} at {shown} has expired or is gone (HTTP {status}); BFL's result URLs last 10 minutes, which is why msgflux downloads them within the call"
                                ),
                            )
                            .with_status(status)
                            .with_code("result_expired")
                            .with_request_id(task_id),
                        )));
                    }
                    if !(200..300).contains(&status) {
                        let headers = response.headers().clone();
                        let body = read_body(response, MAX_ANSWER_BYTES, Some(self.timeout))
                            .await
                            .unwrap_or_default();
                        return Err(parse_error(status, &headers, &body));
                    }
                    read_body(response, max_bytes, Some(self.timeout))
                        .await
                        .map_err(|err| match err {
                            BodyError::TooLarge { at_least } => invalid_response(
                                format!("{what} is over the {max_bytes}-byte download limit (at least {at_least} bytes)"),
                                Some(task_id),
                            ),
                            other => body_error(other, what, false, self.timeout),
                        })
                }
            })
            .await
    }

    fn same_origin(&self, url: &url::Url) -> bool {
        url.scheme() == self.base_url.scheme()
            && url.host_str() == self.base_url.host_str()
            && url.port_or_known_default() == self.base_url.port_or_known_default()
    }
}

/// Whether `url` is an https URL on a BFL host whose first label starts
/// with `prefix`: `api.bfl.ai`, `api.eu.bfl.ai`, `delivery-eu1.bfl.ai`,
/// `delivery.us1.bfl.ai`, and the same under the legacy `bfl.ml` domain.
fn bfl_host(url: &url::Url, prefix: &str) -> bool {
    if url.scheme() != "https" || url.port().is_some() {
        return false;
    }
    let Some(host) = url.host_str() else { return false };
    let Some(rest) = ["bfl.ai", "bfl.ml"]
        .iter()
        .find_map(|domain| host.strip_suffix(domain).and_then(|r| r.strip_suffix('.')))
    else {
        return false;
    };
    let labels: Vec<&str> = rest.split('.').collect();
    let first = labels[0];
    let first_ok = first == prefix
        || first
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric()));
    first_ok
        && labels.len() <= 2
        && labels[1..]
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn finished(task: &Submitted, state: &TaskState, polls: u32) -> Result<Finished> {
    let sample = state
        .result
        .get("sample")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            invalid_response(
                format!(
                    "task {} is Ready but its result has no `sample` URL: {}",
                    task.id,
                    http::body_snippet(state.result.to_string().as_bytes())
                ),
                Some(&task.id),
            )
        })?;
    Ok(Finished {
        sample: sample.to_string(),
        seed: state.result.get("seed").and_then(Value::as_u64),
        polls,
    })
}

fn timed_out(task: &Submitted, polls: u32, elapsed: Duration, last: Option<Error>) -> Error {
    let mut message = format!(
        "waiting for task {} ({polls} polls over {:.1} s); BFL tasks cannot be cancelled, so it may still finish and be billed",
        task.id,
        elapsed.as_secs_f64()
    );
    if let Some(err) = last {
        message.push_str(&format!("; the last poll failed: {err}"));
    }
    Error::Timeout {
        provider: BFL_SCHEME.into(),
        after: elapsed,
        maybe_billed: true,
        message,
    }
}

/// A body that could not be read.
fn body_error(err: BodyError, what: &str, maybe_billed: bool, timeout: Duration) -> Error {
    match err {
        BodyError::Transport(e) => http::transport_error(BFL_SCHEME, e, Some(timeout)),
        BodyError::Stalled(after) => Error::Timeout {
            provider: BFL_SCHEME.into(),
            after,
            maybe_billed,
            message: format!("reading the answer to {what}"),
        },
        _ => invalid_response(
            format!(
                "the answer to {what} is larger than {} MB",
                MAX_ANSWER_BYTES / (1024 * 1024)
            ),
            None,
        ),
    }
}

/// Reads a JSON answer, or says what was wrong with it.
fn decode<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| Error::InvalidResponse {
        provider: BFL_SCHEME.into(),
        message: format!("{what}: {e}; the answer began {}", http::body_snippet(body)),
        request_id: http::first_header(headers, &["x-request-id"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> BflClient {
        BflClient::new(
            msgflux_core::kit::http::client_builder().build().expect("client"),
            url::Url::parse(base).expect("url"),
            SecretString::from("bfl_secret".to_string()),
            RetryPolicy::none(),
            Duration::from_secs(1),
        )
    }

    fn task(polling_url: &str) -> Submitted {
        Submitted {
            id: "t1".into(),
            polling_url: polling_url.into(),
            cost: None,
            input_mp: None,
            output_mp: None,
        }
    }

    #[test]
    fn polling_urls_are_followed_only_on_bfl_api_hosts_and_the_base_urls_origin() {
        let c = client("http://127.0.0.1:8080");
        for good in [
            "https://api.bfl.ai/v1/get_result?id=t1",
            "https://api.eu.bfl.ai/v1/get_result?id=t1",
            "https://api.us1.bfl.ai/v1/get_result?id=t1",
            "https://api.bfl.ml/v1/get_result?id=t1",
            "http://127.0.0.1:8080/v1/get_result?id=t1",
        ] {
            assert!(c.polling_url(&task(good)).is_ok(), "{good}");
        }
        for bad in [
            "https://evil.example.com/v1/get_result?id=t1",
            "http://api.bfl.ai/v1/get_result?id=t1",
            "https://api.bfl.ai.evil.com/v1/get_result",
            "https://bfl.ai.evil.com/x",
            "https://api.bfl.ai:8443/v1/get_result",
            "https://delivery-eu1.bfl.ai/x",
            "http://127.0.0.1:9090/v1/get_result?id=t1",
            "not a url",
        ] {
            let err = c.polling_url(&task(bad)).expect_err(bad);
            assert!(matches!(err, Error::InvalidResponse { .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn results_are_fetched_only_from_delivery_hosts() {
        for good in [
            "https://delivery-eu1.bfl.ai/results/a/sample.jpeg",
            "https://delivery.us1.bfl.ai/results/a/sample.jpeg",
        ] {
            assert!(bfl_host(&url::Url::parse(good).expect("url"), "delivery"), "{good}");
        }
        for bad in [
            "https://delivery.evil.com/x",
            "https://api.bfl.ai/x",
            "https://a.b.delivery.bfl.ai/x",
        ] {
            assert!(!bfl_host(&url::Url::parse(bad).expect("url"), "delivery"), "{bad}");
        }
    }

    #[test]
    fn debug_output_hides_the_key() {
        assert!(!format!("{:?}", client("https://api.bfl.ai")).contains("bfl_secret"));
    }
}
