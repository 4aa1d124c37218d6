//! A batch manifest: one JSON line per finished job (id, attempt, status,
//! outputs, error, cost), written by the worker that ran it.
//!
//! Where: `<out>/manifest.jsonl` for a batch without `--shard`, and
//! `<out>/.msgflux/manifests/<shard>.<run>.jsonl` for each run of each shard
//! (a run writes only its own, so two workers never overwrite each other's).
//!
//! How: a local manifest is appended to, one whole line per record, synced
//! (a torn last line from a killed run is skipped on reading and fenced off
//! by a newline before the next append). An object store has no append: the
//! run's manifest is rewritten whole, atomically, at most once a second and
//! at the end; the claims (`ledger`) cover what a kill loses in between.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::time::{Duration, Instant};

use msgflux::{Error, Result};
use msgflux_storage::{Location, Storage};
use serde::{Deserialize, Serialize};

use crate::files;

/// The manifest of a batch without `--shard`, at the top of the output.
pub const MANIFEST_FILE: &str = "manifest.jsonl";

/// How often a manifest in an object store is rewritten while a batch runs.
const REWRITE_EVERY: Duration = Duration::from_secs(1);

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Its results are saved.
    Succeeded,
    /// It failed; a rerun tries it again unless the failure may have been billed.
    Failed,
    /// It was abandoned while its request was in flight: it may have been billed.
    Interrupted,
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobError {
    /// The error, as printed.
    pub message: String,
    /// Its kind (`invalid_input`, `rate_limited`, ...).
    pub kind: String,
    /// The provider's request id, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The provider may have done (and billed) the work although no result was saved.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub maybe_billed: bool,
}

/// One finished job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The job id.
    pub id: String,
    /// Its line in the jobs file.
    pub line: u64,
    /// Which claim of the job this record closes (1 for the first run; 0 in
    /// manifests written before claims existed).
    #[serde(default)]
    pub attempt: u32,
    /// The shard that ran it (`all`, `3-of-8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// How it ended.
    pub status: Status,
    /// Result files, relative to the output folder.
    #[serde(default)]
    pub outputs: Vec<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    /// Estimated cost in US dollars, when the provider reported one.
    #[serde(default)]
    pub cost_usd: Option<f64>,
    /// The provider's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The model that ran it.
    pub model: String,
    /// How long the provider call took, in milliseconds, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
    /// When it finished, in seconds since the Unix epoch.
    #[serde(default)]
    pub finished_at: u64,
    /// Found done from its claim and its results after the worker that ran
    /// it died before recording it (its cost is then unknown).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovered: bool,
}

impl Record {
    /// True when the job may have been billed without a saved result.
    pub fn maybe_billed(&self) -> bool {
        self.status == Status::Interrupted || self.error.as_ref().is_some_and(|e| e.maybe_billed)
    }
}

/// Records read from manifest text; `unreadable` holds the 1-based numbers
/// of lines that are not records (torn by a killed run).
#[derive(Debug, Default)]
pub struct Parsed {
    /// The records, in order.
    pub records: Vec<Record>,
    /// Lines that could not be read.
    pub unreadable: Vec<u64>,
}

/// Reads manifest text.
pub fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(record) => parsed.records.push(record),
            Err(_) => parsed.unreadable.push(index as u64 + 1),
        }
    }
    parsed
}

/// The manifest this run writes to.
#[derive(Debug)]
pub struct ManifestLog {
    location: Location,
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    /// A local file, appended to.
    Append(File),
    /// An object, rewritten whole: every line, whether they are all written, when last written.
    Rewrite {
        storage: Storage,
        text: String,
        dirty: bool,
        written: Instant,
    },
}

impl ManifestLog {
    /// Opens the manifest at `location` for this run, keeping what earlier
    /// runs wrote there (returned parsed).
    pub async fn open(storage: &Storage, location: Location) -> Result<(Self, Parsed)> {
        match location.as_local() {
            Some(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|err| Error::io(dir, err))?;
                }
                let mut file = OpenOptions::new()
                    .read(true)
                    .append(true)
                    .create(true)
                    .open(path)
                    .map_err(|err| Error::io(path, err))?;
                let mut text = String::new();
                file.read_to_string(&mut text).map_err(|err| Error::io(path, err))?;
                // A run killed mid-append leaves a torn last line: fence it off so the
                // next record starts on a line of its own.
                if !text.is_empty() && !text.ends_with('\n') {
                    file.seek(SeekFrom::End(0)).map_err(|err| Error::io(path, err))?;
                    file.write_all(b"\n").map_err(|err| Error::io(path, err))?;
                }
                let parsed = parse(&text);
                Ok((
                    Self {
                        location,
                        sink: Sink::Append(file),
                    },
                    parsed,
                ))
            }
            None => {
                let bytes = storage
                    .read_optional(&location, files::MAX_JOBS_BYTES)
                    .await
                    .map_err(|err| files::storage_error("manifest", err))?;
                let text = bytes
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let parsed = parse(&text);
                Ok((
                    Self {
                        location,
                        sink: Sink::Rewrite {
                            storage: storage.clone(),
                            text,
                            dirty: false,
                            written: Instant::now(),
                        },
                    },
                    parsed,
                ))
            }
        }
    }

    /// Where it is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Adds a record: appended locally (and synced, unless it is a success,
    /// whose synced result proves it); for an object store,
    /// rewritten when the last rewrite is a second old.
    pub async fn append(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_string(record).map_err(|err| Error::io(self.location.to_string(), err.into()))?;
        line.push('\n');
        match &mut self.sink {
            Sink::Append(file) => {
                let path = self.location.to_string();
                // A success is proven by its result, which is synced before this
                // record is written (a rerun finds it even without the record); a
                // failure, which may have been billed, has only this line to say so.
                file.write_all(line.as_bytes())
                    .and_then(|_| match record.status {
                        Status::Succeeded => Ok(()),
                        _ => file.sync_data(),
                    })
                    .map_err(|err| Error::io(path, err))
            }
            Sink::Rewrite {
                text, dirty, written, ..
            } => {
                text.push_str(&line);
                *dirty = true;
                if written.elapsed() >= REWRITE_EVERY {
                    self.flush().await?;
                }
                Ok(())
            }
        }
    }

    /// Writes what is not written yet (a no-op for a local manifest).
    pub async fn flush(&mut self) -> Result<()> {
        if let Sink::Rewrite {
            storage,
            text,
            dirty,
            written,
        } = &mut self.sink
            && *dirty
        {
            storage
                .write(&self.location, text.clone().into())
                .await
                .map_err(|err| files::storage_error("manifest", err))?;
            *dirty = false;
            *written = Instant::now();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, status: Status) -> Record {
        Record {
            id: id.into(),
            line: 1,
            attempt: 1,
            shard: None,
            status,
            outputs: vec![format!("{id}.png")],
            error: None,
            cost_usd: None,
            request_id: None,
            model: "local/telea".into(),
            elapsed_ms: Some(1),
            finished_at: 0,
            recovered: false,
        }
    }

    #[tokio::test]
    async fn records_appended_to_a_local_manifest_are_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let location = Location::Local(dir.path().join(MANIFEST_FILE));
        let storage = Storage::new();
        let (mut log, _) = ManifestLog::open(&storage, location.clone()).await.expect("open");
        log.append(&record("a", Status::Succeeded)).await.expect("append");
        let (_, parsed) = ManifestLog::open(&storage, location).await.expect("reopen");
        assert_eq!(parsed.records, [record("a", Status::Succeeded)]);
    }

    #[tokio::test]
    async fn a_torn_last_line_is_skipped_and_fenced_off() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(MANIFEST_FILE);
        std::fs::write(&path, "{\"id\": \"a\", \"sta").expect("write");
        let storage = Storage::new();
        let (mut log, parsed) = ManifestLog::open(&storage, Location::Local(path.clone()))
            .await
            .expect("open");
        assert_eq!(parsed.unreadable, [1]);
        log.append(&record("b", Status::Succeeded)).await.expect("append");
        let reread = parse(&std::fs::read_to_string(&path).expect("read"));
        assert_eq!((reread.records.len(), reread.unreadable), (1, vec![1]));
    }

    #[test]
    fn an_interrupted_job_and_a_failure_after_sending_may_have_been_billed() {
        assert!(record("a", Status::Interrupted).maybe_billed());
        let mut timed_out = record("b", Status::Failed);
        timed_out.error = Some(JobError {
            message: "timed out".into(),
            kind: "timeout".into(),
            request_id: None,
            maybe_billed: true,
        });
        assert!(timed_out.maybe_billed());
        assert!(!record("c", Status::Failed).maybe_billed());
    }

    #[test]
    fn a_record_from_before_claims_reads_as_attempt_zero() {
        let old = r#"{"id":"a","line":1,"status":"succeeded","outputs":["a.png"],"model":"local/telea"}"#;
        assert_eq!(parse(old).records[0].attempt, 0);
    }
}
