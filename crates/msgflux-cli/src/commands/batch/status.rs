//! `msgflux batch status URL` and `msgflux batch merge URL`: every shard's
//! manifest and claims read back from the output store, counted per shard
//! (done, failed by kind, interrupted, in flight or interrupted without a
//! record, pending) with the cost so far; `merge` also writes one manifest
//! of the latest record of each job.

use std::collections::BTreeMap;

use clap::Args;
use msgflux::Result;
use msgflux_storage::Storage;
use serde::Serialize;
use serde_json::json;

use super::ledger::{self, ClaimNote, Ledger};
use super::manifest::{Record, Status};
use crate::exit::Exit;
use crate::files;
use crate::output::Output;

/// The merged manifest `merge` writes at the top of the output.
pub const MERGED_FILE: &str = "merged.jsonl";

/// Flags of `batch status` and `batch merge`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The batch's output: the --out of its workers (a folder, s3://, gs://, az://).
    #[arg(value_name = "URL")]
    pub out: String,
}

/// The counts of one shard (or of all).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    /// Jobs in the shard, from its description (unknown until its worker started).
    pub jobs: Option<usize>,
    /// Jobs with saved results.
    pub done: usize,
    /// Jobs that failed without being billed (a rerun sends them again).
    pub failed: usize,
    /// Failed jobs by error kind.
    pub failed_by_kind: BTreeMap<String, usize>,
    /// Jobs interrupted in flight or failed after sending: they may have been billed.
    pub interrupted: usize,
    /// Claimed jobs without a record: in flight now, or their worker died.
    pub in_flight_or_interrupted: usize,
    /// Jobs not started, when the shard's size is known.
    pub pending: Option<usize>,
    /// Estimated cost of the done jobs, in US dollars.
    pub cost_usd: f64,
}

impl Counts {
    fn count(&mut self, record: &Record) {
        match record.status {
            Status::Succeeded => {
                self.done += 1;
                self.cost_usd += record.cost_usd.unwrap_or(0.0);
            }
            _ if record.maybe_billed() => self.interrupted += 1,
            _ => {
                self.failed += 1;
                let kind = record.error.as_ref().map_or("unknown", |e| e.kind.as_str());
                *self.failed_by_kind.entry(kind.to_string()).or_default() += 1;
            }
        }
    }

    fn settle(&mut self) {
        self.pending = self.jobs.map(|jobs| {
            jobs.saturating_sub(self.done + self.failed + self.interrupted + self.in_flight_or_interrupted)
        });
    }

    fn add(&mut self, other: &Counts) {
        self.jobs = match (self.jobs, other.jobs) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.done += other.done;
        self.failed += other.failed;
        for (kind, n) in &other.failed_by_kind {
            *self.failed_by_kind.entry(kind.clone()).or_default() += n;
        }
        self.interrupted += other.interrupted;
        self.in_flight_or_interrupted += other.in_flight_or_interrupted;
        self.cost_usd += other.cost_usd;
    }
}

/// A batch's status, per shard and in total.
#[derive(Debug, Serialize)]
struct Report {
    out: String,
    shards: BTreeMap<String, Counts>,
    total: Counts,
}

/// `batch status URL`.
pub async fn status(args: StatusArgs, output: &Output) -> Result<Exit> {
    let (report, _) = read(&args.out).await?;
    show(&report, output);
    Ok(Exit::Success)
}

/// `batch merge URL`: writes `URL/merged.jsonl`, then shows the status.
pub async fn merge(args: StatusArgs, output: &Output) -> Result<Exit> {
    let (report, merged) = read(&args.out).await?;
    let out = files::location_arg("out", &args.out)?;
    let mut text = String::new();
    for record in &merged {
        text.push_str(&serde_json::to_string(record).unwrap_or_default());
        text.push('\n');
    }
    let target = out.join(MERGED_FILE);
    files::write(&Storage::new(), &target, text.into()).await?;
    output.note(format!("{} records merged into {target}", merged.len()));
    show(&report, output);
    Ok(Exit::Success)
}

async fn read(raw: &str) -> Result<(Report, Vec<Record>)> {
    let storage = Storage::new();
    let out = files::location_arg("out", raw)?;
    let ledger = Ledger::read(&storage, &out).await?;
    let latest = ledger.latest_records();
    let mut shards: BTreeMap<String, Counts> = BTreeMap::new();
    for note in &ledger.shards {
        shards.entry(note.shard.clone()).or_default().jobs = Some(note.jobs);
    }
    let shard_of = |name: &Option<String>| match name {
        Some(name) => name.replacen("-of-", "/", 1),
        None => "0/1".to_string(),
    };
    for record in latest.values() {
        shards.entry(shard_of(&record.shard)).or_default().count(record);
    }
    // Claims without a record are few (what was in flight): read each for its shard.
    for (id, attempt) in ledger.open_claims(&latest) {
        let claim = ledger::claim_location(&out, id, attempt);
        let shard = storage
            .read(&claim, 64 * 1024)
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice::<ClaimNote>(&bytes).ok())
            .map_or_else(|| "0/1".to_string(), |note| note.shard);
        shards.entry(shard).or_default().in_flight_or_interrupted += 1;
    }
    let mut total = Counts::default();
    for counts in shards.values_mut() {
        counts.settle();
        total.add(counts);
    }
    total.settle();
    let mut merged: Vec<Record> = latest.into_values().cloned().collect();
    merged.sort_by(|a, b| (a.line, &a.id).cmp(&(b.line, &b.id)));
    Ok((
        Report {
            out: out.to_string(),
            shards,
            total,
        },
        merged,
    ))
}

fn show(report: &Report, output: &Output) {
    output.document(&json!(report));
    let line = |name: &str, c: &Counts| {
        let kinds: Vec<String> = c.failed_by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        format!(
            "{name:>10}: {} jobs, {} done, {} failed{}, {} interrupted (may have been billed), {} in flight or interrupted, {} pending; ${:.4}",
            c.jobs.map_or("?".into(), |n| n.to_string()),
            c.done,
            c.failed,
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({})", kinds.join(", "))
            },
            c.interrupted,
            c.in_flight_or_interrupted,
            c.pending.map_or("?".into(), |n| n.to_string()),
            c.cost_usd
        )
    };
    output.line(format!("batch at {}", report.out));
    for (name, counts) in &report.shards {
        output.line(line(&format!("shard {name}"), counts));
    }
    output.line(line("total", &report.total));
}
