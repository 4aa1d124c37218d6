//! `msgflux batch`: many edits from a JSONL or CSV file, on one machine or
//! sharded over many workers, with inputs and results in any store.
//!
//! Each job is claimed (a put-if-absent object in the output store) right
//! before its request is sent, its results are written whole, and its
//! record goes into the run's manifest; a rerun reads all of it back and
//! never sends a finished job again (the states are in `ledger`). A job
//! that was in flight when its worker died may have been billed: it is
//! reported, and sent again only with `--resend-interrupted`. SIGTERM or
//! Ctrl-C starts no new job, lets the jobs in flight finish for `--grace`
//! seconds, records what is still in flight as interrupted, prints the
//! summary and exits with 130; a second signal abandons at once.

mod jobs;
mod ledger;
mod manifest;
mod pace;
mod report;
mod shard;
mod status;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use futures::StreamExt as _;
use msgflux::functional::DEFAULT_CONCURRENCY;
use msgflux::{Error, Model, OptionValue, Result};
use msgflux_storage::{Claim, Location, Storage};
use serde_json::json;

use self::jobs::{Job, JobEntry};
use self::ledger::{ClaimNote, JobState, Ledger, ShardNote};
use self::manifest::{JobError, ManifestLog, Record, Status};
use self::pace::{Pace, Rate};
use self::report::BatchReport;
use self::shard::{Shard, ShardSpec};
use crate::exit::{self, Exit};
use crate::files;
use crate::model_args::{ConfiguredModel, ModelArgs, RequestArgs};
use crate::output::Output;

/// `msgflux batch`: run jobs, or look at a batch's output.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BatchArgs {
    #[command(subcommand)]
    pub command: Option<BatchCommand>,

    #[command(flatten)]
    pub run: RunArgs,
}

/// What else `batch` does.
#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Read every shard's manifest and claims at URL: done, failed (by kind), interrupted, pending, cost so far.
    Status(status::StatusArgs),
    /// Write one manifest of all shards (URL/merged.jsonl: the latest record of each job) and print the status.
    Merge(status::StatusArgs),
}

/// Flags of a batch run.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The jobs: a .jsonl file ({"prompt": ..., "image": ..., "mask": ..., "n": ..., "id": ...} per line)
    /// or a .csv file with a header (`prompt,image[,mask][,n][,id]`): a path, or s3://, gs://, az://, http(s)://.
    /// Relative names in it are taken against its folder.
    // Required unless a subcommand is given, as `--model` and `--out` are.
    #[arg(value_name = "JOBS", required = true)]
    pub jobs: Option<String>,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Where results and the manifest go: a folder, or s3://BUCKET/PREFIX, gs://..., az://CONTAINER/...
    /// Results are named after the job id.
    #[arg(long, short = 'o', value_name = "DIR|URL", required = true)]
    pub out: Option<String>,

    /// Most jobs in flight at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY as u64, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,

    /// Run only shard I of N (a stable split by job id); `auto/N` takes I from JOB_COMPLETION_INDEX
    /// (Kubernetes Indexed Jobs) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array jobs).
    #[arg(long, value_name = "I/N", value_parser = shard::parse_spec)]
    pub shard: Option<ShardSpec>,

    /// Start at most this many jobs per minute from this worker (N/min, N/s, N/h), evenly spread.
    #[arg(long, value_name = "N/min", value_parser = pace::parse_rate)]
    pub rate: Option<Rate>,

    /// On SIGTERM or Ctrl-C, let jobs in flight finish for this many seconds before abandoning them.
    #[arg(long, value_name = "SECS", default_value = "25", value_parser = crate::parse::seconds)]
    pub grace: Duration,

    /// Send again the jobs that were interrupted with their request in flight (they may have been billed once already).
    #[arg(long)]
    pub resend_interrupted: bool,

    /// Print what this worker would do with each of its jobs (run, skip, uncertain) and send nothing.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub request: RequestArgs,
}

/// Runs `batch`.
pub async fn run(args: BatchArgs, output: &Output) -> Result<Exit> {
    match args.command {
        Some(BatchCommand::Status(args)) => status::status(args, output).await,
        Some(BatchCommand::Merge(args)) => status::merge(args, output).await,
        None => run_jobs(args.run, output).await,
    }
}

/// A job this run will try.
struct Todo {
    id: String,
    line: u64,
    attempt: u32,
    job: Job,
}

/// What every job of the run shares.
struct Run {
    storage: Storage,
    out: Location,
    model: Model,
    model_id: String,
    options: BTreeMap<String, OptionValue>,
    request: RequestArgs,
    shard: Shard,
    run_id: String,
    pace: Pace,
    stopping: AtomicBool,
    /// Claimed jobs whose record is not written yet: (line, attempt).
    in_flight: Mutex<HashMap<String, (u64, u32)>>,
}

/// How one job's future ended.
enum Outcome {
    /// It ran (or failed before sending); record it.
    Finished(Box<Record>),
    /// Another worker had claimed it.
    Taken { id: String, line: u64 },
    /// The batch was stopping; it never started.
    NotStarted,
}

async fn run_jobs(args: RunArgs, output: &Output) -> Result<Exit> {
    // Everything that can be refused is refused before anything is paid for.
    let shard = match args.shard {
        Some(spec) => spec.resolve().map_err(|rule| Error::invalid("shard", rule))?,
        None => Shard::ALL,
    };
    // clap requires both when no subcommand is given.
    let out = files::location_arg("out", args.out.as_deref().unwrap_or_default())?;
    let jobs_at = files::location_arg("jobs", args.jobs.as_deref().unwrap_or_default())?;
    let storage = Storage::new();
    let entries = jobs::read_jobs(&storage, &jobs_at).await?;
    storage
        .check_writable(&out)
        .await
        .map_err(|err| files::storage_error("out", err))?;
    let ConfiguredModel { model, options } = args.model.configure().await?;
    let model_id = model.id();

    let ledger = Ledger::read(&storage, &out).await?;
    for (name, lines) in &ledger.unreadable {
        output.warn(format!(
            "{}: ignoring unreadable line(s) {lines:?} (left by an interrupted run)",
            out.join(name)
        ));
    }
    let latest = ledger.latest_records();
    let run_id = run_id();
    let mine: Vec<JobEntry> = entries.into_iter().filter(|entry| shard.owns(&entry.key)).collect();
    let total = mine.len();

    let mut todos = Vec::new();
    let mut unreadable = Vec::new();
    let mut uncertain = Vec::new();
    let mut recovered = Vec::new();
    let mut skipped = 0;
    for JobEntry { id, line, job, .. } in mine {
        let n = job.as_ref().ok().and_then(|job| job.n).unwrap_or(args.request.n);
        let attempt = match ledger.state(&latest, &id, n) {
            JobState::Done(record) => {
                skipped += 1;
                if record.recovered {
                    recovered.push(Record {
                        line,
                        shard: Some(shard.name()),
                        model: model_id.clone(),
                        finished_at: unix_now(),
                        ..record
                    });
                }
                continue;
            }
            JobState::Uncertain { attempt, .. } if args.resend_interrupted => attempt + 1,
            JobState::Uncertain { attempt, record } => {
                uncertain.push((id, line, attempt, record));
                continue;
            }
            JobState::Pending { attempt } => attempt,
        };
        match job {
            Ok(job) => todos.push(Todo { id, line, attempt, job }),
            Err(err) => unreadable.push(failure_record(&id, line, attempt, &shard, &err, &model_id, None)),
        }
    }

    if args.dry_run {
        return dry_run(output, shard, total, skipped, &todos, &unreadable, &uncertain);
    }

    let note = ShardNote {
        shard: shard.to_string(),
        jobs: total,
        jobs_file: jobs_at.to_string(),
        model: model_id.clone(),
        started_at: unix_now(),
    };
    ledger::describe_shard(&storage, &out, shard, &note).await?;
    let (mut manifest, _) = ManifestLog::open(&storage, ledger::manifest_location(&out, shard, &run_id)).await?;
    tracing::info!(jobs = total, %shard, manifest = %manifest.location(), "batch starting");
    let mut report = BatchReport::start(output, &out, total, todos.len() + unreadable.len(), skipped);
    for (id, line, attempt, record) in &uncertain {
        report.uncertain(id, *line, *attempt, record.as_ref());
    }
    for record in recovered {
        manifest.append(&record).await?;
    }
    for record in unreadable {
        manifest.append(&record).await?;
        report.finished(&record);
    }

    let run = Arc::new(Run {
        storage,
        out,
        model,
        model_id,
        options,
        request: args.request.clone(),
        shard,
        run_id,
        pace: Pace::new(args.rate),
        stopping: AtomicBool::new(false),
        in_flight: Mutex::new(HashMap::new()),
    });
    let mut jobs = futures::stream::iter(todos.into_iter().map(|todo| run_job(run.clone(), todo)))
        .buffer_unordered(args.concurrency as usize);
    let mut signals = StopSignals::new();
    let mut stop_at: Option<tokio::time::Instant> = None;
    loop {
        let grace_over = async {
            match stop_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            () = signals.recv() => {
                if stop_at.is_some() {
                    break;
                }
                run.stopping.store(true, Ordering::SeqCst);
                stop_at = Some(tokio::time::Instant::now() + args.grace);
                let in_flight = run.in_flight.lock().map(|jobs| jobs.len()).unwrap_or(0);
                report.warn(&format!(
                    "stopping: no new job starts; waiting up to {:.1} s for {in_flight} in flight (signal again to abandon them)",
                    args.grace.as_secs_f64()
                ));
            }
            () = grace_over => break,
            next = jobs.next() => match next {
                Some(Outcome::Finished(record)) => {
                    tracing::info!(id = %record.id, line = record.line, status = ?record.status, "job finished");
                    if let Err(err) = manifest.append(&record).await {
                        report.warn(&format!("cannot record job {} in the manifest: {err}", record.id));
                        return Err(err);
                    }
                    report.finished(&record);
                }
                Some(Outcome::Taken { id, line }) => report.taken(&id, line),
                Some(Outcome::NotStarted) => {}
                None => break,
            },
        }
    }
    // Dropping the stream cancels what is still in flight: it may have been
    // billed, so it is recorded as interrupted (never silently sent again).
    drop(jobs);
    let abandoned: Vec<(String, (u64, u32))> = run
        .in_flight
        .lock()
        .map(|mut jobs| jobs.drain().collect())
        .unwrap_or_default();
    for (id, (line, attempt)) in abandoned {
        let record = Record {
            status: Status::Interrupted,
            error: Some(JobError {
                message: "abandoned while its request was in flight; it may have been billed".into(),
                kind: "interrupted".into(),
                request_id: None,
                maybe_billed: true,
            }),
            ..base_record(&id, line, attempt, &run.shard, &run.model_id)
        };
        manifest.append(&record).await?;
        report.finished(&record);
    }
    manifest.flush().await?;

    let interrupted = stop_at.is_some();
    let summary = report.finish(interrupted, manifest.location());
    Ok(if interrupted {
        Exit::Interrupted
    } else if summary.failed > 0 || summary.uncertain > 0 {
        Exit::PartialFailure
    } else {
        Exit::Success
    })
}

/// One job: wait for its turn, read its stored inputs, claim it, send it,
/// save its results. Nothing is sent unless the claim was won.
async fn run_job(run: Arc<Run>, todo: Todo) -> Outcome {
    let Todo { id, line, attempt, job } = todo;
    if run.stopping.load(Ordering::SeqCst) {
        return Outcome::NotStarted;
    }
    run.pace.wait().await;
    if run.stopping.load(Ordering::SeqCst) {
        return Outcome::NotStarted;
    }
    let failed = |err: &Error, elapsed| failure_record(&id, line, attempt, &run.shard, err, &run.model_id, elapsed);
    // Stored inputs are read before the claim: a job that fails here was never sent.
    let several = job.images.len() > 1;
    let mut images = Vec::with_capacity(job.images.len());
    for (i, input) in job.images.iter().enumerate() {
        let what = if several { format!("image[{i}]") } else { "image".into() };
        match files::load_input(&run.storage, input, &what).await {
            Ok(image) => images.push(image),
            Err(err) => return Outcome::Finished(Box::new(failed(&err, None))),
        }
    }
    let mask = match &job.mask {
        Some(mask) => match files::load_input(&run.storage, mask, "mask").await {
            Ok(mask) => Some(mask),
            Err(err) => return Outcome::Finished(Box::new(failed(&err, None))),
        },
        None => None,
    };
    let note = ClaimNote {
        id: id.clone(),
        shard: run.shard.to_string(),
        run: run.run_id.clone(),
        claimed_at: unix_now(),
    };
    match ledger::claim(&run.storage, &run.out, &note, attempt).await {
        Ok(Claim::Created) => {}
        Ok(Claim::Taken) => return Outcome::Taken { id, line },
        Err(err) => return Outcome::Finished(Box::new(failed(&err, None))),
    }
    if let Ok(mut in_flight) = run.in_flight.lock() {
        in_flight.insert(id.clone(), (line, attempt));
    }
    let mut request = run.request.request(&job.prompt, &run.options, job.n).images(images);
    if let Some(mask) = mask {
        request = request.mask(mask);
    }
    if let Some(timeout) = run.request.timeout {
        request = request.timeout(timeout);
    }
    let record = match run.model.call(request).await {
        Ok(response) => match files::save_results(&run.storage, &run.out, &id, &response).await {
            Ok(outputs) => Record {
                status: Status::Succeeded,
                outputs,
                cost_usd: response.cost.as_ref().map(|cost| cost.usd),
                request_id: response.request_id.clone(),
                elapsed_ms: Some(response.elapsed.as_millis() as u64),
                ..base_record(&id, line, attempt, &run.shard, &run.model_id)
            },
            // The provider did the work and the result is lost: that was billed.
            Err(err) => Record {
                error: Some(JobError {
                    maybe_billed: true,
                    ..job_error(&err)
                }),
                ..failed(&err, Some(response.elapsed))
            },
        },
        Err(err) => failed(&err, None),
    };
    if let Ok(mut in_flight) = run.in_flight.lock() {
        in_flight.remove(&id);
    }
    Outcome::Finished(Box::new(record))
}

fn base_record(id: &str, line: u64, attempt: u32, shard: &Shard, model: &str) -> Record {
    Record {
        id: id.to_string(),
        line,
        attempt,
        shard: (*shard != Shard::ALL).then(|| shard.name()),
        status: Status::Failed,
        outputs: Vec::new(),
        error: None,
        cost_usd: None,
        request_id: None,
        model: model.to_string(),
        elapsed_ms: None,
        finished_at: unix_now(),
        recovered: false,
    }
}

fn job_error(err: &Error) -> JobError {
    JobError {
        message: exit::error_line(err),
        kind: exit::error_kind(err).to_string(),
        request_id: err.request_id().map(str::to_string),
        maybe_billed: err.may_have_been_billed(),
    }
}

fn failure_record(
    id: &str,
    line: u64,
    attempt: u32,
    shard: &Shard,
    err: &Error,
    model: &str,
    elapsed: Option<Duration>,
) -> Record {
    Record {
        error: Some(job_error(err)),
        request_id: err.request_id().map(str::to_string),
        elapsed_ms: elapsed.map(|e| e.as_millis() as u64),
        ..base_record(id, line, attempt, shard, model)
    }
}

/// `--dry-run`: what each job of this shard would come to, as lines or JSON lines.
fn dry_run(
    output: &Output,
    shard: Shard,
    total: usize,
    skipped: usize,
    todos: &[Todo],
    unreadable: &[Record],
    uncertain: &[(String, u64, u32, Option<Record>)],
) -> Result<Exit> {
    let mut plan: Vec<(u64, &str, &str)> = todos.iter().map(|t| (t.line, t.id.as_str(), "run")).collect();
    plan.extend(
        unreadable
            .iter()
            .map(|r| (r.line, r.id.as_str(), "fail (cannot be read)")),
    );
    plan.extend(
        uncertain
            .iter()
            .map(|(id, line, ..)| (*line, id.as_str(), "uncertain (not sent)")),
    );
    plan.sort();
    for (line, id, action) in &plan {
        output.line(format!("{id} (line {line}): {action}"));
        output.json_line(&json!({ "event": "plan", "id": id, "line": line, "action": action }));
    }
    output.line(format!(
        "shard {shard}: {total} jobs; {} to run, {skipped} done earlier, {} uncertain",
        todos.len(),
        uncertain.len()
    ));
    output.json_line(
        &json!({ "event": "plan_summary", "shard": shard.to_string(), "jobs": total,
        "to_run": todos.len(), "done": skipped, "uncertain": uncertain.len() }),
    );
    Ok(Exit::Success)
}

/// SIGTERM (what Kubernetes and AWS Batch send first) and Ctrl-C.
struct StopSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn new() -> Self {
        Self {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok(),
        }
    }

    async fn recv(&mut self) {
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        if let Some(term) = &mut self.term {
            tokio::select! {
                () = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
        ctrl_c.await;
    }
}

/// A name for this worker process: its host, its process id and the time it started.
fn run_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    let host = files::safe_name(&host);
    let started = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let run = format!("{}-{}", started.as_millis(), std::process::id());
    if host.is_empty() { run } else { format!("{host}-{run}") }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
