//! What each job of a batch has come to, read from the output store, and
//! the claims that keep a paid edit from being sent twice.
//!
//! Before a job's request is sent, its worker creates the claim object
//! `<out>/.msgflux/claims/<id>.<attempt>` with a put-if-absent; exactly one
//! worker can create it, and a worker that finds it taken reports the job as
//! another's. When the job ends, its record (with the same attempt) goes
//! into the run's manifest. So, for the latest claim of a job:
//!
//! | found | state | a rerun |
//! |---|---|---|
//! | no claim, no record | pending | sends it (attempt 1) |
//! | record `succeeded`, results there | done | skips it |
//! | record `failed`, not billed (refused before work, 429 after retries, bad input) | failed | sends it again (next attempt) |
//! | record `failed` that may have been billed (timeout or lost connection after sending, a result that could not be saved), or `interrupted` | uncertain | reports it; sends it only with `--resend-interrupted` |
//! | claim without record, results there | done (recovered: the worker died after saving) | skips it |
//! | no claim, no record, results there | done (recovered: a power loss took the unsynced claim and record, not the synced result) | skips it |
//! | claim without record, no results | uncertain (the worker died with the request in flight) | reports it; sends it only with `--resend-interrupted` |
//!
//! A job that fails before it is claimed (an input that cannot be read) is
//! recorded under the attempt it was about to claim, which stays free.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use msgflux::Result;
use msgflux_storage::{Claim, Location, Storage};
use serde::{Deserialize, Serialize};

use super::manifest::{self, MANIFEST_FILE, Record, Status};
use super::shard::Shard;
use crate::files;

const CLAIMS: &str = ".msgflux/claims/";
const MANIFESTS: &str = ".msgflux/manifests/";
const SHARDS: &str = ".msgflux/shards/";

/// The state of one job, before this run.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// To run, claiming this attempt.
    Pending {
        /// The attempt to claim.
        attempt: u32,
    },
    /// Finished with results; never sent again.
    Done(Record),
    /// Claimed earlier and may have been billed without a saved result.
    Uncertain {
        /// The claimed attempt.
        attempt: u32,
        /// Its record, when one was written (`interrupted` or a billed failure).
        record: Option<Record>,
    },
}

/// A claim object's content: who claimed the job, when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimNote {
    /// The job id.
    pub id: String,
    /// The shard that claimed it.
    pub shard: String,
    /// The run (worker process) that claimed it.
    pub run: String,
    /// Seconds since the Unix epoch.
    pub claimed_at: u64,
}

/// A shard's description, written when its worker starts, so `batch
/// status` can count the jobs not yet started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardNote {
    /// `I/N`.
    pub shard: String,
    /// Jobs in this shard.
    pub jobs: usize,
    /// The jobs file.
    pub jobs_file: String,
    /// The model.
    pub model: String,
    /// When a worker last started on it, in seconds since the Unix epoch.
    pub started_at: u64,
}

/// Everything the output store holds about a batch.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Every object name under the output (results included).
    pub names: BTreeSet<String>,
    /// Latest claimed attempt per job.
    pub claims: HashMap<String, u32>,
    /// Every record of every manifest, in reading order.
    pub records: Vec<Record>,
    /// Manifests with lines that could not be read, and those lines.
    pub unreadable: Vec<(String, Vec<u64>)>,
    /// The shards' descriptions.
    pub shards: Vec<ShardNote>,
}

impl Ledger {
    /// Reads the batch at `out`: one listing, then every manifest and shard note.
    pub async fn read(storage: &Storage, out: &Location) -> Result<Self> {
        let listed = storage
            .list(out)
            .await
            .map_err(|err| files::storage_error("out", err))?;
        let mut ledger = Ledger::default();
        for object in listed {
            if let Some(claim) = object.name.strip_prefix(CLAIMS)
                && let Some((id, attempt)) = claim.rsplit_once('.')
                && let Ok(attempt) = attempt.parse::<u32>()
            {
                let latest = ledger.claims.entry(id.to_string()).or_insert(attempt);
                *latest = (*latest).max(attempt);
            }
            ledger.names.insert(object.name);
        }
        let manifests: Vec<String> = ledger
            .names
            .iter()
            .filter(|name| *name == MANIFEST_FILE || (name.starts_with(MANIFESTS) && name.ends_with(".jsonl")))
            .cloned()
            .collect();
        for name in manifests {
            let text = read_text(storage, &out.join(&name)).await?;
            let parsed = manifest::parse(&text);
            if !parsed.unreadable.is_empty() {
                ledger.unreadable.push((name, parsed.unreadable));
            }
            ledger.records.extend(parsed.records);
        }
        let notes: Vec<String> = ledger.names.iter().filter(|n| n.starts_with(SHARDS)).cloned().collect();
        for name in notes {
            // Another worker may replace its note between the listing and this read.
            let Some(bytes) = storage
                .read_optional(&out.join(&name), files::MAX_JOBS_BYTES)
                .await
                .map_err(|err| files::storage_error("out", err))?
            else {
                continue;
            };
            if let Ok(note) = serde_json::from_slice::<ShardNote>(&bytes) {
                ledger.shards.push(note);
            }
        }
        Ok(ledger)
    }

    /// The latest record of each job: the one of its highest attempt, the
    /// last written among equals.
    pub fn latest_records(&self) -> HashMap<&str, &Record> {
        let mut latest: HashMap<&str, &Record> = HashMap::new();
        for record in &self.records {
            match latest.get(record.id.as_str()) {
                Some(seen) if seen.attempt > record.attempt => {}
                _ => {
                    latest.insert(&record.id, record);
                }
            }
        }
        latest
    }

    /// The state of a job that makes `n` results.
    pub fn state(&self, latest: &HashMap<&str, &Record>, id: &str, n: u32) -> JobState {
        let claimed = self.claims.get(id).copied().unwrap_or(0);
        let record = latest.get(id).copied();
        match record {
            // Failed before claiming: that attempt is still free.
            Some(record) if record.attempt > claimed => JobState::Pending {
                attempt: record.attempt,
            },
            Some(record) if record.attempt == claimed => match record.status {
                Status::Succeeded if record.outputs.iter().all(|name| self.names.contains(name)) => {
                    JobState::Done(record.clone())
                }
                Status::Succeeded => JobState::Pending { attempt: claimed + 1 },
                _ if record.maybe_billed() => JobState::Uncertain {
                    attempt: claimed,
                    record: Some(record.clone()),
                },
                _ => JobState::Pending { attempt: claimed + 1 },
            },
            _ => match self.results_of(id, n) {
                Some(outputs) => JobState::Done(Record {
                    attempt: claimed,
                    outputs,
                    recovered: true,
                    ..Record::recovered(id)
                }),
                None if claimed == 0 => JobState::Pending { attempt: 1 },
                None => JobState::Uncertain {
                    attempt: claimed,
                    record: None,
                },
            },
        }
    }

    /// The result files of a job that makes `n` results, if all are there
    /// (`<id>.<ext>` for one, `<id>-<i>.<ext>` for several).
    fn results_of(&self, id: &str, n: u32) -> Option<Vec<String>> {
        let stems: Vec<String> = if n <= 1 {
            vec![id.to_string()]
        } else {
            (0..n).map(|i| format!("{id}-{i}")).collect()
        };
        stems
            .iter()
            .map(|stem| {
                self.names
                    .range(format!("{stem}.")..)
                    .take_while(|name| name.starts_with(&format!("{stem}.")))
                    .find(|name| !name[stem.len() + 1..].contains(['.', '/']))
                    .cloned()
            })
            .collect()
    }

    /// Claims without a record, per job: jobs in flight now, or interrupted.
    pub fn open_claims<'a>(&'a self, latest: &HashMap<&str, &Record>) -> BTreeMap<&'a str, u32> {
        self.claims
            .iter()
            .filter(|(id, attempt)| latest.get(id.as_str()).is_none_or(|r| r.attempt < **attempt))
            .map(|(id, attempt)| (id.as_str(), *attempt))
            .collect()
    }
}

impl Record {
    /// A record for a job found done from its claim and results.
    fn recovered(id: &str) -> Record {
        Record {
            id: id.to_string(),
            line: 0,
            attempt: 0,
            shard: None,
            status: Status::Succeeded,
            outputs: Vec::new(),
            error: None,
            cost_usd: None,
            request_id: None,
            model: String::new(),
            elapsed_ms: None,
            finished_at: 0,
            recovered: true,
        }
    }
}

async fn read_text(storage: &Storage, location: &Location) -> Result<String> {
    let bytes = storage
        .read(location, files::MAX_JOBS_BYTES)
        .await
        .map_err(|err| files::storage_error("out", err))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Where the claim of attempt `attempt` at job `id` is.
pub fn claim_location(out: &Location, id: &str, attempt: u32) -> Location {
    out.join(&format!("{CLAIMS}{id}.{attempt}"))
}

/// Claims attempt `attempt` of job `id`; `Taken` when another worker has it.
pub async fn claim(storage: &Storage, out: &Location, note: &ClaimNote, attempt: u32) -> Result<Claim> {
    let body = serde_json::to_vec(note).unwrap_or_default();
    storage
        .create(&claim_location(out, &note.id, attempt), body.into())
        .await
        .map_err(|err| files::storage_error("out", err))
}

/// Where this run's manifest goes.
pub fn manifest_location(out: &Location, shard: Shard, run: &str) -> Location {
    if shard == Shard::ALL {
        out.join(MANIFEST_FILE)
    } else {
        out.join(&format!("{MANIFESTS}{}.{run}.jsonl", shard.name()))
    }
}

/// Writes the shard's description.
pub async fn describe_shard(storage: &Storage, out: &Location, shard: Shard, note: &ShardNote) -> Result<()> {
    let body = serde_json::to_vec_pretty(note).unwrap_or_default();
    storage
        .write(&out.join(&format!("{SHARDS}{}.json", shard.name())), body.into())
        .await
        .map_err(|err| files::storage_error("out", err))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, attempt: u32, status: Status, maybe_billed: bool) -> Record {
        Record {
            attempt,
            status,
            outputs: if status == Status::Succeeded {
                vec![format!("{id}.png")]
            } else {
                Vec::new()
            },
            error: (status == Status::Failed).then(|| manifest::JobError {
                message: "x".into(),
                kind: "timeout".into(),
                request_id: None,
                maybe_billed,
            }),
            ..Record::recovered(id)
        }
    }

    fn ledger(names: &[&str], claims: &[(&str, u32)], records: Vec<Record>) -> Ledger {
        Ledger {
            names: names.iter().map(|s| s.to_string()).collect(),
            claims: claims.iter().map(|(id, a)| (id.to_string(), *a)).collect(),
            records,
            ..Ledger::default()
        }
    }

    fn state(ledger: &Ledger, id: &str) -> JobState {
        ledger.state(&ledger.latest_records(), id, 1)
    }

    #[test]
    fn a_job_never_claimed_is_pending_at_attempt_one() {
        assert_eq!(state(&ledger(&[], &[], vec![]), "a"), JobState::Pending { attempt: 1 });
    }

    #[test]
    fn a_recorded_success_with_its_results_is_done() {
        let l = ledger(&["a.png"], &[("a", 1)], vec![record("a", 1, Status::Succeeded, false)]);
        assert!(matches!(state(&l, "a"), JobState::Done(_)));
    }

    #[test]
    fn a_failure_that_was_not_billed_runs_again_with_the_next_attempt() {
        let l = ledger(&[], &[("a", 1)], vec![record("a", 1, Status::Failed, false)]);
        assert_eq!(state(&l, "a"), JobState::Pending { attempt: 2 });
    }

    #[test]
    fn a_failure_that_may_have_been_billed_is_uncertain() {
        let l = ledger(&[], &[("a", 1)], vec![record("a", 1, Status::Failed, true)]);
        assert!(matches!(
            state(&l, "a"),
            JobState::Uncertain {
                attempt: 1,
                record: Some(_)
            }
        ));
    }

    #[test]
    fn a_claim_without_record_or_results_is_uncertain() {
        let l = ledger(&[], &[("a", 2)], vec![record("a", 1, Status::Failed, false)]);
        assert_eq!(
            state(&l, "a"),
            JobState::Uncertain {
                attempt: 2,
                record: None
            }
        );
    }

    #[test]
    fn a_claim_without_record_but_with_its_results_is_done_recovered() {
        let l = ledger(&["a.webp", "ab.png"], &[("a", 1)], vec![]);
        match state(&l, "a") {
            JobState::Done(record) => {
                assert_eq!((record.outputs, record.recovered), (vec!["a.webp".to_string()], true))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn results_without_claim_or_record_are_done_recovered() {
        let l = ledger(&["a.png"], &[], vec![]);
        assert!(matches!(state(&l, "a"), JobState::Done(record) if record.recovered));
    }

    #[test]
    fn a_failure_before_claiming_leaves_its_attempt_free() {
        let l = ledger(&[], &[("a", 1)], vec![record("a", 2, Status::Failed, false)]);
        assert_eq!(state(&l, "a"), JobState::Pending { attempt: 2 });
    }

    #[test]
    fn a_manifest_from_before_claims_still_counts() {
        let l = ledger(&["a.png"], &[], vec![record("a", 0, Status::Succeeded, false)]);
        assert!(matches!(state(&l, "a"), JobState::Done(_)));
    }
}
