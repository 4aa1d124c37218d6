//! What a batch shows while it runs and when it ends: an indicatif progress
//! bar on stderr with rate and ETA (hidden when stderr is not a terminal, and
//! with `--json`), a line per finished job, and the summary. With `--json`
//! every finished job and the summary are JSON lines on stdout.

use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
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
    /// Summed cost estimate of this run's jobs, in US dollars.
    pub cost_usd: f64,
    /// Succeeded jobs whose provider reported no cost.
    pub without_cost: usize,
    /// True when Ctrl-C stopped the batch.
    pub interrupted: bool,
}

impl Summary {
    /// Jobs neither finished nor skipped (cancelled or never started, after Ctrl-C).
    pub fn not_run(&self) -> usize {
        self.total.saturating_sub(self.succeeded + self.failed + self.skipped)
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
        }
    }
}

/// The live view of a batch.
#[derive(Debug)]
pub struct BatchReport {
    bar: ProgressBar,
    output: Output,
    out_dir: std::path::PathBuf,
    summary: Summary,
}

impl BatchReport {
    /// Starts the view for `to_run` jobs of `total`, `skipped` of which an earlier run finished.
    pub fn start(output: &Output, out_dir: &Path, total: usize, to_run: usize, skipped: usize) -> Self {
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
            out_dir: out_dir.to_path_buf(),
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
        let out_dir = self.out_dir.clone();
        self.bar.suspend(|| match record.status {
            Status::Succeeded => {
                for name in &record.outputs {
                    output.line(out_dir.join(name).display().to_string());
                }
            }
            Status::Failed => {
                let error = record.error.as_ref().map_or("unknown error", |e| e.message.as_str());
                output.note(format!("job {} (line {}) failed: {error}", record.id, record.line));
            }
        });
        output.json_line(&json!({ "event": "job", "job": record }));
        if self.summary.failed > 0 {
            self.bar.set_message(format!("({} failed)", self.summary.failed));
        }
        self.bar.inc(1);
    }

    /// A warning that does not stop the batch.
    pub fn warn(&self, text: &str) {
        self.bar.suspend(|| self.output.warn(text));
    }

    /// Ends the view and prints the summary.
    pub fn finish(self, interrupted: bool, manifest: &Path) -> Summary {
        self.bar.finish_and_clear();
        let summary = Summary {
            interrupted,
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
        let head = if interrupted { "batch interrupted" } else { "batch done" };
        self.output.line(format!(
            "{head}: {} succeeded, {} failed, {} skipped (done earlier), {} not run; {cost}",
            summary.succeeded,
            summary.failed,
            summary.skipped,
            summary.not_run()
        ));
        self.output.line(format!("manifest: {}", manifest.display()));
        if interrupted || summary.failed > 0 {
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
            "interrupted": interrupted,
            "manifest": manifest,
        }));
        summary
    }
}
