//! The batch manifest, `<out>/manifest.jsonl`: one JSON line per finished
//! job (id, line, status, outputs, error, cost), appended as each job ends.
//!
//! Consistency: a job's output files are written (atomically) before its
//! record, each record is appended whole in one write and synced, and a torn
//! last line from a killed run is skipped on reading and fenced off by a
//! newline before the next append. So every `succeeded` record names files
//! that exist, and a rerun skips exactly the jobs that finished.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use msgflux::{Error, Result};
use serde::{Deserialize, Serialize};

/// The manifest's file name inside the output directory.
pub const MANIFEST_FILE: &str = "manifest.jsonl";

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Its results are saved.
    Succeeded,
    /// It failed; a rerun tries it again.
    Failed,
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
}

/// One finished job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The job id.
    pub id: String,
    /// Its line in the jobs file.
    pub line: u64,
    /// How it ended.
    pub status: Status,
    /// Result files, relative to the output directory.
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
}

/// The manifest of one output directory, open for appending.
#[derive(Debug)]
pub struct Manifest {
    path: PathBuf,
    dir: PathBuf,
    file: File,
    latest: HashMap<String, Record>,
    unreadable_lines: Vec<u64>,
}

impl Manifest {
    /// Opens (or creates) `<dir>/manifest.jsonl` and reads what earlier runs recorded.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|err| Error::io(dir, err))?;
        let path = dir.join(MANIFEST_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|err| Error::io(&path, err))?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|err| Error::io(&path, err))?;
        let mut latest = HashMap::new();
        let mut unreadable_lines = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(line) {
                Ok(record) => {
                    latest.insert(record.id.clone(), record);
                }
                Err(_) => unreadable_lines.push(index as u64 + 1),
            }
        }
        // A run killed mid-append leaves a torn last line: fence it off so the
        // next record starts on a line of its own.
        if !text.is_empty() && !text.ends_with('\n') {
            file.seek(SeekFrom::End(0)).map_err(|err| Error::io(&path, err))?;
            file.write_all(b"\n").map_err(|err| Error::io(&path, err))?;
        }
        Ok(Self {
            path,
            dir: dir.to_path_buf(),
            file,
            latest,
            unreadable_lines,
        })
    }

    /// The manifest's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lines of the manifest that could not be read (torn by a killed run); they are ignored.
    pub fn unreadable_lines(&self) -> &[u64] {
        &self.unreadable_lines
    }

    /// The record of a job that already succeeded and whose outputs are all still there.
    pub fn finished(&self, id: &str) -> Option<&Record> {
        self.latest.get(id).filter(|record| {
            record.status == Status::Succeeded
                && !record.outputs.is_empty()
                && record.outputs.iter().all(|name| self.dir.join(name).is_file())
        })
    }

    /// Appends a record as one whole line and syncs it to disk.
    pub fn append(&mut self, record: Record) -> Result<()> {
        let mut line = serde_json::to_string(&record).map_err(|err| Error::io(&self.path, err.into()))?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.sync_data())
            .map_err(|err| Error::io(&self.path, err))?;
        self.latest.insert(record.id.clone(), record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, status: Status, outputs: &[&str]) -> Record {
        Record {
            id: id.into(),
            line: 1,
            status,
            outputs: outputs.iter().map(|s| s.to_string()).collect(),
            error: None,
            cost_usd: None,
            request_id: None,
            model: "local/telea".into(),
            elapsed_ms: Some(1),
            finished_at: 0,
        }
    }

    #[test]
    fn a_succeeded_job_with_its_outputs_is_finished() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.png"), b"png").expect("write");
        let mut manifest = Manifest::open(dir.path()).expect("open");
        manifest
            .append(record("a", Status::Succeeded, &["a.png"]))
            .expect("append");
        let reopened = Manifest::open(dir.path()).expect("reopen");
        assert!(reopened.finished("a").is_some());
    }

    #[test]
    fn a_failed_job_is_not_finished() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut manifest = Manifest::open(dir.path()).expect("open");
        manifest.append(record("a", Status::Failed, &[])).expect("append");
        assert!(Manifest::open(dir.path()).expect("reopen").finished("a").is_none());
    }

    #[test]
    fn a_succeeded_job_whose_output_was_deleted_runs_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut manifest = Manifest::open(dir.path()).expect("open");
        manifest
            .append(record("a", Status::Succeeded, &["a.png"]))
            .expect("append");
        assert!(Manifest::open(dir.path()).expect("reopen").finished("a").is_none());
    }

    #[test]
    fn the_latest_record_of_a_job_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.png"), b"png").expect("write");
        let mut manifest = Manifest::open(dir.path()).expect("open");
        manifest.append(record("a", Status::Failed, &[])).expect("append");
        manifest
            .append(record("a", Status::Succeeded, &["a.png"]))
            .expect("append");
        assert!(Manifest::open(dir.path()).expect("reopen").finished("a").is_some());
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_fenced_off() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("b.png"), b"png").expect("write");
        std::fs::write(dir.path().join(MANIFEST_FILE), "{\"id\": \"a\", \"sta").expect("write");
        let mut manifest = Manifest::open(dir.path()).expect("open");
        assert_eq!(manifest.unreadable_lines(), &[1]);
        manifest
            .append(record("b", Status::Succeeded, &["b.png"]))
            .expect("append");
        let reopened = Manifest::open(dir.path()).expect("reopen");
        assert!(reopened.finished("b").is_some());
        assert_eq!(reopened.unreadable_lines(), &[1]);
    }
}
