//! What a batch shows while it runs and when it ends: an indicatif progress
//! bar on stderr with rate and ETA (hidden when stderr is not a terminal, and
//! with `--json`), a line per finished job, and the summary. With `--json`
//! every finished job and the summary are JSON lines on stdout.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use msgflux_storage::Location;
use serde_json::json;

use super::manifest::{Record, Status};
use crate::output::Output;

/// Counts of one batch run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Jobs in the jobs file.
    pub total: usize,
    /// Jobs that succeeded in this run.
    pub succeeded: usize,
    /// Jobs that failed in this run.
    pub failed: usize,
    /// Jobs skipped because an earlier run finished them.
    pub skipped: usize,
    /// Jobs abandoned in flight by this run (they may have been billed).
    pub interrupted: usize,
    /// Jobs an earlier run left in flight or failed after sending, not sent again.
    pub uncertain: usize,
    /// Jobs another worker had claimed.
    pub taken: usize,
    /// Summed cost estimate of this run's jobs, in US dollars.
    pub cost_usd: f64,
    /// Succeeded jobs whose provider reported no cost.
    pub without_cost: usize,
    /// True when a signal stopped the batch.
    pub stopped: bool,
}

impl Summary {
    /// Jobs neither finished nor skipped (never started, after a signal).
    pub fn not_run(&self) -> usize {
        self.total.saturating_sub(
            self.succeeded + self.failed + self.skipped + self.interrupted + self.uncertain + self.taken,
        )
    }

    fn count(&mut self, record: &Record) {
        match record.status {
            Status::Succeeded => {
                self.succeeded += 1;
                match record.cost_usd {
                    Some(usd) => self.cost_usd += usd,
                    None => self.without_cost += 1,
                }
            }
            Status::Failed => self.failed += 1,
            Status::Interrupted => self.interrupted += 1,
        }
    }
}

/// The live view of a batch.
#[derive(Debug)]
pub struct BatchReport {
    bar: ProgressBar,
    output: Output,
    out: Location,
    summary: Summary,
}

impl BatchReport {
    /// Starts the view for `to_run` jobs of `total`, `skipped` of which an earlier run finished.
    pub fn start(output: &Output, out: &Location, total: usize, to_run: usize, skipped: usize) -> Self {
        let bar = if output.is_json() {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(Some(to_run as u64), ProgressDrawTarget::stderr())
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} jobs, {per_sec}, ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        if skipped > 0 {
            output.note(format!(
                "{skipped} of {total} jobs already done in an earlier run; skipping them"
            ));
        }
        output.json_line(&json!({ "event": "start", "total": total, "to_run": to_run, "skipped": skipped }));
        Self {
            bar,
            output: *output,
            out: out.clone(),
            summary: Summary {
                total,
                skipped,
                ..Summary::default()
            },
        }
    }

    /// A job finished: count it, print it, move the bar.
    pub fn finished(&mut self, record: &Record) {
        self.summary.count(record);
        let output = self.output;
        let out = &self.out;
        self.bar.suspend(|| match record.status {
            Status::Succeeded => {
                for name in &record.outputs {
                    output.line(out.join(name).to_string());
                }
            }
            Status::Failed | Status::Interrupted => {
                let error = record.error.as_ref().map_or("unknown error", |e| e.message.as_str());
                let billed = if record.maybe_billed() {
                    " (it may have been billed: a rerun does not send it again without --resend-interrupted)"
                } else {
                    ""
                };
                output.note(format!(
                    "job {} (line {}) failed: {error}{billed}",
                    record.id, record.line
                ));
            }
        });
        output.json_line(&json!({ "event": "job", "job": record }));
        if self.summary.failed > 0 {
            self.bar.set_message(format!("({} failed)", self.summary.failed));
        }
        self.bar.inc(1);
    }

    /// A job an earlier run left uncertain (in flight when it died, or a
    /// failure after sending): reported, not sent again.
    pub fn uncertain(&mut self, id: &str, line: u64, attempt: u32, record: Option<&Record>) {
        self.summary.uncertain += 1;
        let why = match record {
            Some(record) => record
                .error
                .as_ref()
                .map_or("it failed after sending".to_string(), |e| e.message.clone()),
            None => "claimed with no record: its worker stopped with the request in flight, or another worker is \
                     running it now"
                .to_string(),
        };
        self.warn(&format!(
            "job {id} (line {line}) was interrupted (attempt {attempt}: {why}); it may have been billed, so it is \
             not sent again (--resend-interrupted sends it)"
        ));
        self.output
            .json_line(&json!({ "event": "uncertain", "id": id, "line": line, "attempt": attempt, "record": record }));
    }

    /// A job another worker had claimed.
    pub fn taken(&mut self, id: &str, line: u64) {
        self.summary.taken += 1;
        let output = self.output;
        self.bar.suspend(|| {
            output.note(format!(
                "job {id} (line {line}) is claimed by another worker; skipping it"
            ))
        });
        output.json_line(&json!({ "event": "taken", "id": id, "line": line }));
        self.bar.inc(1);
    }

    /// A warning that does not stop the batch.
    pub fn warn(&self, text: &str) {
        self.bar.suspend(|| self.output.warn(text));
    }

    /// Ends the view and prints the summary.
    pub fn finish(self, stopped: bool, manifest: &Location) -> Summary {
        self.bar.finish_and_clear();
        let summary = Summary {
            stopped,
            ..self.summary
        };
        let cost = if summary.succeeded == summary.without_cost {
            "no cost reported".to_string()
        } else if summary.without_cost > 0 {
            format!(
                "estimated cost ${:.4} ({} jobs reported none)",
                summary.cost_usd, summary.without_cost
            )
        } else {
            format!("estimated cost ${:.4}", summary.cost_usd)
        };
        let head = if stopped { "batch interrupted" } else { "batch done" };
        let mut extra = String::new();
        for (count, what) in [
            (summary.interrupted, "interrupted in flight (may have been billed)"),
            (
                summary.uncertain,
                "left uncertain by an earlier run (may have been billed; not sent)",
            ),
            (summary.taken, "claimed by another worker"),
        ] {
            if count > 0 {
                extra.push_str(&format!(", {count} {what}"));
            }
        }
        self.output.line(format!(
            "{head}: {} succeeded, {} failed, {} skipped (done earlier), {} not run{extra}; {cost}",
            summary.succeeded,
            summary.failed,
            summary.skipped,
            summary.not_run()
        ));
        self.output.line(format!("manifest: {manifest}"));
        if stopped || summary.failed > 0 {
            self.output
                .note("rerun the same command to resume: finished jobs are skipped, failed ones run again");
        }
        self.output.json_line(&json!({
            "event": "summary",
            "total": summary.total,
            "succeeded": summary.succeeded,
            "failed": summary.failed,
            "skipped": summary.skipped,
            "not_run": summary.not_run(),
            "cost_usd": summary.cost_usd,
            "jobs_without_cost": summary.without_cost,
            "interrupted": stopped,
            "interrupted_in_flight": summary.interrupted,
            "uncertain": summary.uncertain,
            "taken": summary.taken,
            "manifest": manifest.to_string(),
        }));
        summary
    }
}
