//! `msgflux batch`: many edits from a JSONL or CSV file.
//!
//! Jobs run through `msgflux::functional::map_stream` (bounded concurrency,
//! per-job timeouts that cancel), and each result is saved as soon as it
//! arrives, then recorded in `<out>/manifest.jsonl`; a rerun skips the jobs
//! recorded as done. One job's failure is recorded and the batch goes on.
//! Ctrl-C stops cleanly: no new job starts, jobs in flight are dropped
//! (cancelled), files are only ever renamed into place whole, and the summary
//! is printed before exiting with 130.

mod jobs;
mod manifest;
mod report;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use msgflux::functional::{BatchOptions, DEFAULT_CONCURRENCY, map_stream};
use msgflux::{EditRequest, EditResponse, Error, OptionValue, Result};

use self::jobs::{Job, JobEntry};
use self::manifest::{JobError, Manifest, Record, Status};
use self::report::BatchReport;
use crate::exit::{self, Exit};
use crate::model_args::{ConfiguredModel, ModelArgs, RequestArgs};
use crate::output::Output;

/// Flags of `msgflux batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The jobs: a .jsonl file ({"prompt": ..., "image": ..., "mask": ..., "n": ..., "id": ...} per line)
    /// or a .csv file with a header (`prompt,image[,mask][,n][,id]`). Relative paths are taken against its directory.
    #[arg(value_name = "JOBS")]
    pub jobs: PathBuf,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Where results and the manifest (manifest.jsonl) go; results are named after the job id.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,

    /// Most jobs in flight at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY as u64, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,

    #[command(flatten)]
    pub request: RequestArgs,
}

impl BatchArgs {
    /// The request of one job, with the batch-wide settings.
    fn request(&self, job: &Job, options: &std::collections::BTreeMap<String, OptionValue>) -> EditRequest {
        let mut request = self
            .request
            .request(&job.prompt, options, job.n)
            .images(job.images.iter().cloned());
        if let Some(mask) = &job.mask {
            request = request.mask(mask.clone());
        }
        request
    }
}

/// A job about to run: its id and line.
struct Pending {
    id: String,
    line: u64,
}

/// Runs the batch.
pub async fn run(args: BatchArgs, output: &Output) -> Result<Exit> {
    let entries = jobs::read_jobs(&args.jobs)?;
    let ConfiguredModel { model, options } = args.model.configure().await?;
    let model_id = model.id();
    let mut manifest = Manifest::open(&args.out)?;
    if !manifest.unreadable_lines().is_empty() {
        output.warn(format!(
            "{}: ignoring unreadable line(s) {:?} (left by an interrupted run)",
            manifest.path().display(),
            manifest.unreadable_lines()
        ));
    }

    let total = entries.len();
    tracing::info!(jobs = total, manifest = %manifest.path().display(), "batch starting");
    let mut runnable = Vec::new();
    let mut unreadable = Vec::new();
    let mut skipped = 0;
    for JobEntry { id, line, job } in entries {
        if manifest.finished(&id).is_some() {
            skipped += 1;
            continue;
        }
        match job {
            Ok(job) => runnable.push((Pending { id, line }, job)),
            Err(err) => unreadable.push((Pending { id, line }, err)),
        }
    }
    let mut report = BatchReport::start(output, &args.out, total, runnable.len() + unreadable.len(), skipped);

    for (pending, err) in unreadable {
        let record = failure_record(&pending, &err, &model_id, None);
        manifest.append(record.clone())?;
        report.finished(&record);
    }

    let requests: Vec<EditRequest> = runnable.iter().map(|(_, job)| args.request(job, &options)).collect();
    let pending: Vec<Pending> = runnable.into_iter().map(|(pending, _)| pending).collect();
    let mut batch_options = BatchOptions::default().concurrency(args.concurrency as usize);
    if let Some(timeout) = args.request.timeout {
        batch_options = batch_options.timeout(timeout);
    }
    let mut edits = map_stream(&model, requests, batch_options);
    let mut edits_done = false;
    let mut saving = FuturesUnordered::new();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);

    let interrupted = loop {
        if edits_done && saving.is_empty() {
            break false;
        }
        tokio::select! {
            biased;
            Ok(()) = &mut ctrl_c => break true,
            finished = edits.next(), if !edits_done => match finished {
                Some((index, result)) => {
                    let Pending { id, line } = &pending[index];
                    saving.push(save_job(id.clone(), *line, result, args.out.clone(), model_id.clone()));
                }
                None => edits_done = true,
            },
            Some(record) = saving.next(), if !saving.is_empty() => {
                tracing::info!(id = %record.id, line = record.line, status = ?record.status, "job finished");
                if let Err(err) = manifest.append(record.clone()) {
                    report.warn(&format!("cannot record job {} in the manifest: {err}", record.id));
                    return Err(err);
                }
                report.finished(&record);
            }
        }
    };
    // Dropping the streams cancels the jobs in flight; their results were never renamed into place.
    drop(edits);
    drop(saving);

    let summary = report.finish(interrupted, manifest.path());
    Ok(if interrupted {
        Exit::Interrupted
    } else if summary.failed > 0 {
        Exit::PartialFailure
    } else {
        Exit::Success
    })
}

/// Saves a finished job's results (atomically) and returns its manifest record.
async fn save_job(id: String, line: u64, result: Result<EditResponse>, out: PathBuf, model: String) -> Record {
    let pending = Pending { id, line };
    let response = match result {
        Ok(response) => response,
        Err(err) => return failure_record(&pending, &err, &model, None),
    };
    match response.save_all(&out, &pending.id).await {
        Ok(paths) => Record {
            id: pending.id,
            line: pending.line,
            status: Status::Succeeded,
            outputs: paths
                .iter()
                .filter_map(|path| path.file_name().map(|name| name.to_string_lossy().into_owned()))
                .collect(),
            error: None,
            cost_usd: response.cost.as_ref().map(|cost| cost.usd),
            request_id: response.request_id.clone(),
            model,
            elapsed_ms: Some(response.elapsed.as_millis() as u64),
            finished_at: unix_now(),
        },
        Err(err) => failure_record(&pending, &err, &model, Some(response.elapsed)),
    }
}

fn failure_record(pending: &Pending, err: &Error, model: &str, elapsed: Option<Duration>) -> Record {
    Record {
        id: pending.id.clone(),
        line: pending.line,
        status: Status::Failed,
        outputs: Vec::new(),
        error: Some(JobError {
            message: exit::error_line(err),
            kind: exit::error_kind(err).to_string(),
            request_id: err.request_id().map(str::to_string),
        }),
        cost_usd: None,
        request_id: err.request_id().map(str::to_string),
        model: model.to_string(),
        elapsed_ms: elapsed.map(|e| e.as_millis() as u64),
        finished_at: unix_now(),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
