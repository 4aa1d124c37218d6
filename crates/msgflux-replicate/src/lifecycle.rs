//! A prediction's life: create it (holding the answer with `Prefer: wait`,
//! bounding its run with `Cancel-After`), poll `GET /predictions/{id}` with a
//! growing pause until a terminal status (`succeeded`, `failed`, `canceled`,
//! `aborted`), and cancel it when the caller gives up.
//!
//! The work runs in a task of its own. The caller's future holds the sending
//! half of a channel; when that future is dropped (the caller timed out or
//! lost interest) the task sees the channel close and cancels the prediction
//! with `POST /predictions/{id}/cancel`, even when the id is only learned from
//! a create answer that arrives afterwards.

use std::time::Duration;

use msgflux_core::kit::{Idempotency, report};
use msgflux_core::{Error, Progress, ProgressSink, ProviderError, Result};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::builder::Settings;
use crate::client::{ReplicateClient, decode_json};
use crate::error::{prediction_failed, prediction_stopped};
use crate::registration::REPLICATE_SCHEME;
use crate::routing::Route;

/// A prediction as the API reports it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Prediction {
    pub(crate) id: String,
    pub(crate) status: Status,
    #[serde(default)]
    pub(crate) output: Value,
    #[serde(default)]
    pub(crate) error: Value,
    #[serde(default)]
    pub(crate) metrics: Option<Metrics>,
    pub(crate) model: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) urls: Option<PredictionUrls>,
}

/// Timing the API reports for finished predictions.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Metrics {
    pub(crate) predict_time: Option<f64>,
    pub(crate) total_time: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PredictionUrls {
    pub(crate) web: Option<String>,
}

/// Where a prediction is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Starting,
    Processing,
    Succeeded,
    Failed,
    Canceled,
    Aborted,
    /// A status this client does not know yet; treated as still running.
    #[serde(other)]
    Unknown,
}

impl Status {
    pub(crate) fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Canceled | Self::Aborted)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Processing => "processing",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Aborted => "aborted",
            Self::Unknown => "unknown",
        }
    }
}

impl Prediction {
    /// The prediction's error text, whatever JSON shape it came in.
    fn error_text(&self) -> Option<String> {
        match &self.error {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// One prediction to run.
#[derive(Debug, Clone)]
pub(crate) struct PredictionJob {
    pub(crate) route: Route,
    pub(crate) input: Map<String, Value>,
    /// When the caller's patience runs out.
    pub(crate) deadline: Instant,
    /// Where the prediction's steps are reported.
    pub(crate) progress: Option<ProgressSink>,
}

impl PredictionJob {
    /// Reports the prediction's status when it differs from the last one reported.
    fn report_status(&self, prediction: &Prediction, last: &mut Option<Status>) {
        if *last == Some(prediction.status) {
            return;
        }
        *last = Some(prediction.status);
        let step = match prediction.status {
            // Starting means waiting for a machine: Replicate's queue.
            Status::Starting => Progress::Queued { position: None },
            Status::Processing => Progress::Running,
            _ => return,
        };
        report(self.progress.as_ref(), step);
    }
}

/// Runs a prediction to a terminal status and returns it when it succeeded.
/// Dropping the returned future cancels the prediction.
pub(crate) async fn run_prediction(
    client: ReplicateClient,
    settings: Settings,
    job: PredictionJob,
) -> Result<Prediction> {
    // Dropping this future drops `_caller_present`, which tells the task to cancel.
    let (_caller_present, caller_gone) = oneshot::channel::<()>();
    let task = tokio::spawn(drive(client, settings, job, caller_gone));
    task.await.map_err(|e| Error::InvalidResponse {
        provider: REPLICATE_SCHEME.into(),
        message: format!("the prediction task stopped unexpectedly: {e}"),
        request_id: None,
    })?
}

async fn drive(
    client: ReplicateClient,
    settings: Settings,
    job: PredictionJob,
    mut caller_gone: oneshot::Receiver<()>,
) -> Result<Prediction> {
    let started = Instant::now();
    let create = create(&client, &settings, &job);
    tokio::pin!(create);
    let mut prediction = tokio::select! {
        created = &mut create => created?,
        _ = &mut caller_gone => {
            // The id only comes with the create answer: wait for it, then cancel.
            if let Ok(prediction) = create.await
                && !prediction.status.is_terminal()
            {
                cancel(&client, &prediction.id).await;
            }
            return Err(gone());
        }
    };
    tracing::debug!(id = %prediction.id, status = prediction.status.as_str(), "prediction created");
    report(
        job.progress.as_ref(),
        Progress::Submitted {
            request_id: Some(prediction.id.clone()),
        },
    );
    let mut reported = None;
    let mut pause = settings.poll_initial;
    let mut polls: u32 = 0;
    let mut last_poll_error: Option<Error> = None;
    loop {
        if prediction.status.is_terminal() {
            return finish(prediction);
        }
        job.report_status(&prediction, &mut reported);
        let now = Instant::now();
        if now >= job.deadline {
            cancel(&client, &prediction.id).await;
            return Err(timed_out(
                &prediction,
                polls,
                started.elapsed(),
                job.deadline.saturating_duration_since(started),
                last_poll_error,
            ));
        }
        tokio::select! {
            _ = tokio::time::sleep(pause.min(job.deadline.saturating_duration_since(now))) => {}
            _ = &mut caller_gone => {
                cancel(&client, &prediction.id).await;
                return Err(gone());
            }
        }
        if Instant::now() >= job.deadline {
            continue;
        }
        polls += 1;
        let path = format!("predictions/{}", prediction.id);
        let poll = client.get_json::<Prediction>(&path, "polling the prediction");
        tokio::select! {
            polled = poll => match polled {
                Ok(next) => prediction = next,
                // A transient failure of one poll does not end the prediction: try again later.
                Err(err) if err.is_retryable() => {
                    tracing::warn!(id = %prediction.id, error = %err, "poll failed; polling again");
                    last_poll_error = Some(err);
                }
                Err(err) => {
                    cancel(&client, &prediction.id).await;
                    return Err(err);
                }
            },
            _ = &mut caller_gone => {
                cancel(&client, &prediction.id).await;
                return Err(gone());
            }
        }
        pause = pause.mul_f64(1.5).min(settings.poll_max);
    }
}

/// The create call: billable, so resent only when the retry policy knows the
/// work was not done (a 429, or a connection that failed before sending).
async fn create(client: &ReplicateClient, settings: &Settings, job: &PredictionJob) -> Result<Prediction> {
    let body = job.route.create_body(job.input.clone());
    let path = job.route.create_path();
    let remaining = job.deadline.saturating_duration_since(Instant::now());
    let wait = settings
        .prefer_wait
        .map(|wait| wait.min(remaining).as_secs().clamp(1, 60));
    let cancel_after = cancel_after(remaining);
    let timeout = client.timeout() + Duration::from_secs(wait.unwrap_or(0));
    let answer = client
        .send("creating the prediction", Idempotency::Billable, timeout, || {
            let mut request = client.request(reqwest::Method::POST, &path).json(&body);
            if let Some(wait) = wait {
                request = request.header("Prefer", format!("wait={wait}"));
            }
            Ok(request.header("Cancel-After", cancel_after.clone()))
        })
        .await?;
    decode_json(&answer, "reading the created prediction")
}

/// `Cancel-After` for the time left, in whole seconds (at least the API's minimum of 5).
pub(crate) fn cancel_after(remaining: Duration) -> String {
    let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    format!("{}s", secs.max(5))
}

/// Asks Replicate to stop a prediction. Failures are logged, not returned:
/// cancelling is a courtesy on the way out of an error or a drop.
pub(crate) async fn cancel(client: &ReplicateClient, id: &str) {
    let path = format!("predictions/{id}/cancel");
    let outcome = client
        .send(
            "cancelling the prediction",
            Idempotency::Idempotent,
            client.timeout(),
            || Ok(client.request(reqwest::Method::POST, &path)),
        )
        .await;
    match outcome {
        Ok(_) => tracing::info!(id, "prediction cancelled"),
        Err(err) => tracing::warn!(id, error = %err, "could not cancel the prediction"),
    }
}

fn finish(prediction: Prediction) -> Result<Prediction> {
    match prediction.status {
        Status::Succeeded => Ok(prediction),
        Status::Failed => Err(prediction_failed(&prediction.id, prediction.error_text().as_deref())),
        status => Err(prediction_stopped(&prediction.id, status.as_str())),
    }
}

fn timed_out(prediction: &Prediction, polls: u32, elapsed: Duration, limit: Duration, last: Option<Error>) -> Error {
    let mut message = format!(
        "waiting for prediction {} ({polls} polls over {:.1} s, last status {}); it was cancelled",
        prediction.id,
        elapsed.as_secs_f64(),
        prediction.status.as_str()
    );
    if let Some(err) = last {
        message.push_str(&format!("; the last poll failed: {err}"));
    }
    Error::Timeout {
        provider: REPLICATE_SCHEME.into(),
        after: limit,
        maybe_billed: true,
        message,
    }
}

/// The error of a prediction whose caller went away (nobody receives it).
fn gone() -> Error {
    Error::Cancelled(Box::new(ProviderError::new(
        REPLICATE_SCHEME,
        "the caller stopped waiting; the prediction was cancelled",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_after_rounds_up_and_respects_the_minimum() {
        assert_eq!(cancel_after(Duration::from_millis(90_200)), "91s");
        assert_eq!(cancel_after(Duration::from_secs(120)), "120s");
        assert_eq!(cancel_after(Duration::from_secs(1)), "5s");
    }

    #[test]
    fn all_four_ends_are_terminal() {
        for status in [Status::Succeeded, Status::Failed, Status::Canceled, Status::Aborted] {
            assert!(status.is_terminal(), "{status:?}");
        }
        for status in [Status::Starting, Status::Processing, Status::Unknown] {
            assert!(!status.is_terminal(), "{status:?}");
        }
    }

    #[test]
    fn an_unknown_status_still_parses() {
        let p: Prediction =
            serde_json::from_str(r#"{"id":"x","status":"queued","output":null,"error":null}"#).expect("parse");
        assert_eq!(p.status, Status::Unknown);
    }

    #[test]
    fn aborted_predictions_are_cancellations_and_failures_keep_their_text() {
        let aborted: Prediction = serde_json::from_str(r#"{"id":"a","status":"aborted"}"#).expect("parse");
        assert!(matches!(finish(aborted), Err(Error::Cancelled(_))));
        let failed: Prediction =
            serde_json::from_str(r#"{"id":"f","status":"failed","error":"out of memory"}"#).expect("parse");
        let err = finish(failed).expect_err("failed");
        assert!(err.to_string().contains("out of memory"), "{err}");
    }
}
