//! A request's life in fal's queue: submit (`POST {queue}/{app}`), poll its
//! `status_url` with a growing pause until `COMPLETED` (queue position and
//! logs reported through `tracing`), then read its `response_url`; cancel it
//! (`PUT cancel_url`) when the caller gives up or the deadline passes.
//!
//! The work runs in a task of its own. The caller's future holds the sending
//! half of a channel; when that future is dropped (the caller timed out or
//! lost interest) the task sees the channel close and cancels the request,
//! even when its URLs only arrive with a submit answer that comes afterwards.
//! The status, result and cancel URLs are the ones fal answered with (they
//! name `owner/app` without the sub-path), never built here.

use std::time::Duration;

use msgflux_core::kit::{Idempotency, report};
use msgflux_core::{Error, Progress, ProgressSink, ProviderError, Result};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::builder::Settings;
use crate::client::{FalClient, Service, decode_json};
use crate::error::request_failed;
use crate::registration::FAL_SCHEME;

/// What a submit answers (`InQueueQueueStatus` in fal's client).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Submitted {
    pub(crate) request_id: String,
    pub(crate) status_url: String,
    pub(crate) response_url: String,
    pub(crate) cancel_url: String,
    #[serde(default)]
    pub(crate) queue_position: Option<u64>,
}

/// A status answer (`QueueStatus`).
#[derive(Debug, Clone, Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    queue_position: Option<u64>,
    #[serde(default)]
    logs: Option<Vec<LogLine>>,
    #[serde(default)]
    metrics: Option<Metrics>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    error_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct LogLine {
    #[serde(default)]
    message: String,
    #[serde(default)]
    level: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Metrics {
    #[serde(default)]
    inference_time: Option<f64>,
}

/// One request to run.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) app: String,
    pub(crate) input: Map<String, Value>,
    /// When the caller's patience runs out.
    pub(crate) deadline: Instant,
    /// Where the request's steps are reported (queue position, running).
    pub(crate) progress: Option<ProgressSink>,
}

/// A completed request and its output.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    pub(crate) request_id: String,
    pub(crate) output: Value,
    pub(crate) inference_time: Option<f64>,
    pub(crate) polls: u32,
    /// The first queue position fal reported, if the request waited.
    pub(crate) first_queue_position: Option<u64>,
}

/// Runs a request through the queue and returns its output. Dropping the
/// returned future cancels the request.
pub(crate) async fn run(client: FalClient, settings: Settings, job: Job) -> Result<Finished> {
    // Dropping this future drops `_caller_present`, which tells the task to cancel.
    let (_caller_present, caller_gone) = oneshot::channel::<()>();
    let task = tokio::spawn(drive(client, settings, job, caller_gone));
    task.await.map_err(|e| Error::InvalidResponse {
        provider: FAL_SCHEME.into(),
        message: format!("the queue task stopped unexpectedly: {e}"),
        request_id: None,
    })?
}

async fn drive(
    client: FalClient,
    settings: Settings,
    job: Job,
    mut caller_gone: oneshot::Receiver<()>,
) -> Result<Finished> {
    let started = Instant::now();
    let submit = submit(&client, &settings, &job);
    tokio::pin!(submit);
    let submitted = tokio::select! {
        submitted = &mut submit => submitted?,
        _ = &mut caller_gone => {
            // The cancel URL only comes with the submit answer: wait for it, then cancel.
            if let Ok(submitted) = submit.await {
                cancel(&client, &submitted).await;
            }
            return Err(gone());
        }
    };
    let id = submitted.request_id.clone();
    tracing::info!(request_id = %id, queue_position = submitted.queue_position, app = %job.app, "submitted to the fal queue");
    report(
        job.progress.as_ref(),
        Progress::Submitted {
            request_id: Some(id.clone()),
        },
    );
    report(
        job.progress.as_ref(),
        Progress::Queued {
            position: submitted.queue_position,
        },
    );
    let mut first_queue_position = submitted.queue_position;
    let mut last_reported = Progress::Queued {
        position: submitted.queue_position,
    };
    let mut pause = settings.poll_initial;
    let mut polls: u32 = 0;
    let mut last_status = "IN_QUEUE".to_string();
    let mut last_poll_error: Option<Error> = None;
    let completed = loop {
        let now = Instant::now();
        if now >= job.deadline {
            cancel(&client, &submitted).await;
            return Err(timed_out(&id, polls, started.elapsed(), &last_status, last_poll_error));
        }
        tokio::select! {
            _ = tokio::time::sleep(pause.min(job.deadline.saturating_duration_since(now))) => {}
            _ = &mut caller_gone => {
                cancel(&client, &submitted).await;
                return Err(gone());
            }
        }
        if Instant::now() >= job.deadline {
            continue;
        }
        polls += 1;
        let poll = client.get_json::<Status>(&submitted.status_url, "reading the request's status");
        let status = tokio::select! {
            polled = poll => match polled {
                Ok((_, status)) => status,
                // A transient failure of one poll does not end the request: poll again later.
                Err(err) if err.is_retryable() => {
                    tracing::warn!(request_id = %id, error = %err, "status poll failed; polling again");
                    last_poll_error = Some(err);
                    pause = next_pause(pause, &settings);
                    continue;
                }
                Err(err) => {
                    cancel(&client, &submitted).await;
                    return Err(err);
                }
            },
            _ = &mut caller_gone => {
                cancel(&client, &submitted).await;
                return Err(gone());
            }
        };
        for line in status.logs.iter().flatten() {
            tracing::debug!(request_id = %id, level = %line.level, "{}", line.message);
        }
        let step = match status.status.as_str() {
            "IN_QUEUE" => Some(Progress::Queued {
                position: status.queue_position,
            }),
            "IN_PROGRESS" => Some(Progress::Running),
            _ => None,
        };
        if let Some(step) = step.filter(|step| *step != last_reported) {
            last_reported = step.clone();
            report(job.progress.as_ref(), step);
        }
        match status.status.as_str() {
            "IN_QUEUE" => {
                first_queue_position = first_queue_position.or(status.queue_position);
                tracing::info!(request_id = %id, queue_position = status.queue_position, "waiting in the fal queue");
            }
            "IN_PROGRESS" => tracing::debug!(request_id = %id, "running"),
            "COMPLETED" => break status,
            other => tracing::debug!(request_id = %id, status = other, "unknown queue status; polling again"),
        }
        last_status = status.status;
        pause = next_pause(pause, &settings);
    };
    if let Some(error) = completed.error.as_ref().filter(|e| !e.is_null()) {
        return Err(request_failed(&id, error, completed.error_type.as_deref()));
    }
    // The result of a completed request; a failed model answers its error here.
    let (_, output) = client
        .get_json::<Value>(&submitted.response_url, "reading the request's result")
        .await
        .map_err(|err| expired_if_gone(err, &id))?;
    Ok(Finished {
        request_id: id,
        output,
        inference_time: completed.metrics.unwrap_or_default().inference_time,
        polls,
        first_queue_position,
    })
}

fn next_pause(pause: Duration, settings: &Settings) -> Duration {
    pause.mul_f64(1.5).min(settings.poll_max)
}

/// The submit: billable, so resent only when the retry policy knows the work
/// was not done (a 429, a 503 with `retry-after`, `X-Fal-Retryable: true`,
/// or a connection that failed before sending).
async fn submit(client: &FalClient, settings: &Settings, job: &Job) -> Result<Submitted> {
    let url = client.url(Service::Queue, &job.app);
    let remaining = job.deadline.saturating_duration_since(Instant::now());
    // fal's start timeout: how long the request may wait in the queue (and be retried) before it starts.
    let start_timeout = remaining.as_secs().max(1);
    let answer = client
        .send("submitting to the fal queue", Idempotency::Billable, || {
            let mut request = client
                .authorised(reqwest::Method::POST, &url)?
                .header("x-fal-request-timeout", start_timeout.to_string())
                .json(&job.input);
            if let Some(priority) = &settings.priority {
                request = request.header("x-fal-queue-priority", priority.as_str());
            }
            Ok(request)
        })
        .await?;
    decode_json(&answer, "reading the queue's answer to the submit")
}

/// Asks fal to cancel a request. Failures are logged, not returned:
/// cancelling is a courtesy on the way out of an error or a drop (fal cancels
/// only requests that have not started; a running one finishes and is billed).
async fn cancel(client: &FalClient, submitted: &Submitted) {
    let outcome = client
        .send("cancelling the request", Idempotency::Idempotent, || {
            client.authorised(reqwest::Method::PUT, &submitted.cancel_url)
        })
        .await;
    let id = submitted.request_id.as_str();
    match outcome {
        Ok(_) => tracing::info!(request_id = id, "cancelled the fal request"),
        Err(err) => tracing::warn!(request_id = id, error = %err, "could not cancel the fal request"),
    }
}

/// A result that is gone: fal keeps results an hour (six minutes when they are 10 KB or more).
fn expired_if_gone(err: Error, id: &str) -> Error {
    match err {
        Error::NotFound(detail) => Error::NotFound(Box::new(
            ProviderError::new(
                FAL_SCHEME,
                format!(
                    "the result of request {id} is gone ({}); fal keeps results for an hour, six minutes when they are 10 KB or more",
                    detail.message
                ),
            )
            .with_status(detail.status.unwrap_or(404))
            .with_code("result_expired")
            .with_request_id(id),
        )),
        other => other,
    }
}

fn timed_out(id: &str, polls: u32, elapsed: Duration, last: &str, last_error: Option<Error>) -> Error {
    let mut message = format!(
        "waiting for request {id} ({polls} polls over {:.1} s, last status {last}); it was cancelled",
        elapsed.as_secs_f64()
    );
    if let Some(err) = last_error {
        message.push_str(&format!("; the last poll failed: {err}"));
    }
    Error::Timeout {
        provider: FAL_SCHEME.into(),
        after: elapsed,
        maybe_billed: true,
        message,
    }
}

/// The error of a request whose caller went away (nobody receives it).
fn gone() -> Error {
    Error::Cancelled(Box::new(ProviderError::new(
        FAL_SCHEME,
        "the caller stopped waiting; the request was cancelled",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submit_answer_parses_as_fal_sends_it() {
        let body = r#"{"status":"IN_QUEUE","request_id":"r1","response_url":"https://queue.fal.run/fal-ai/flux-pro/requests/r1","status_url":"https://queue.fal.run/fal-ai/flux-pro/requests/r1/status","cancel_url":"https://queue.fal.run/fal-ai/flux-pro/requests/r1/cancel","queue_position":3}"#;
        let submitted: Submitted = serde_json::from_str(body).expect("parse");
        assert_eq!(submitted.queue_position, Some(3));
        assert!(submitted.status_url.ends_with("/status"));
    }

    #[test]
    fn a_completed_status_with_metrics_parses() {
        let status: Status = serde_json::from_str(
            r#"{"status":"COMPLETED","request_id":"r","response_url":"u","status_url":"u","cancel_url":"u","logs":[{"message":"done","level":"INFO","source":"USER","timestamp":"t"}],"metrics":{"inference_time":1.5}}"#,
        )
        .expect("parse");
        assert_eq!(status.metrics.and_then(|m| m.inference_time), Some(1.5));
    }

    #[test]
    fn an_expired_result_says_how_long_fal_keeps_results() {
        let err = expired_if_gone(
            Error::NotFound(Box::new(ProviderError::new(FAL_SCHEME, "Not found"))),
            "r9",
        );
        assert!(err.to_string().contains("six minutes"), "{err}");
        assert_eq!(err.request_id(), Some("r9"));
    }
}
